"""Exercises for notebook 11: the capstone audit (break in by hand, name the flaws, defend).

11.1 and 11.2 send the forgery to a fresh copy of the service and require Alice's
claims with ``role`` raised and nothing else changed (no added claim, no longer
life, no extra scope). 11.4 probes the learner's verifier with tokens signed by
B's own key that only a claim or algorithm check refuses (another issuer or
audience, no ``exp``, a future ``nbf``, any RSA algorithm but RS256), requires every refusal to
be a ``labkit.InvalidTokenError`` (anything else is an authorizer's 500), then
runs the scanner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from labkit import capstone, keys
from labkit.algorithms import sign_token
from labkit.errors import InvalidTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer

__all__ = ["EXERCISES"]

_ISSUER, _AUDIENCE = "https://idp.labkit.local", "labkit-api"
_LIFETIME = 900  # what the services' identity providers issue: 15 minutes
# Every other algorithm B's RSA key can sign: a verifier that allows any of them lets it in.
_OTHER_RSA_ALGS = ("RS384", "RS512", "PS256", "PS384", "PS512")
_CLAIM_NAMES = {"iss", "sub", "aud", "iat", "exp", "jti", "role", "scope"}


def _breaks_into(name: str) -> Callable[[Any], str | None]:
    """A checker: Alice's token promoted to admin, accepted at service ``name``'s /api/admin."""

    def verify(answer: Any) -> str | None:
        forged = token_answer(answer, "forged token")
        if isinstance(forged, str):
            return forged
        problem = _promoted_alice(forged.payload)
        if problem:
            return problem
        status, body = _admin_answer(capstone.preset_of(name), answer)
        if status != 200:
            return f"service {name} answered HTTP {status} {body}: it did not let the forgery in"
        return None

    return verify


def _promoted_alice(claims: dict[str, Any]) -> str | None:
    """What differs from Alice's own claims with role admin, and nothing else changed."""
    if claims.get("sub") != "alice" or claims.get("role") != "admin":
        return "the claims should say sub 'alice' and role 'admin': promote Alice, not Bob"
    extra = sorted(set(claims) - _CLAIM_NAMES)
    if extra:
        return f"the claims add {extra[0]!r}: Alice's token has no such claim; change role only"
    missing = sorted(_CLAIM_NAMES - set(claims))
    if missing:
        return f"the claims lost {missing[0]!r}: keep Alice's other claims, change role only"
    for claim, value in (("iss", _ISSUER), ("aud", _AUDIENCE), ("scope", "profile")):
        if claims[claim] != value:
            return f"{claim!r} is {claims[claim]!r}, not Alice's {value!r}: change role only"
    exp, iat = claims["exp"], claims["iat"]
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in (exp, iat)):
        return "exp and iat must stay Alice's integers: change role only"
    if exp <= time.time():
        return "the token has expired: log in again with capstone.login and forge a fresh one"
    if exp - iat != _LIFETIME:
        return f"the token now lives {exp - iat} s, not Alice's {_LIFETIME}: change role only"
    return None


def _admin_answer(preset: str, token: str) -> tuple[int, str]:
    """GET /api/admin with ``token`` over HTTP, on a fresh loopback copy of ``preset``'s API."""
    import requests  # imported on use: checking other exercises needs no server

    from labkit.aws.server import serve

    with serve(preset) as api:
        response = requests.get(f"{api.url}/api/admin", headers=capstone.bearer(token), timeout=5)
        return response.status_code, response.text


def _flaw_names(answer: Any) -> str | None:
    from labkit.scan import FLAWS

    if not isinstance(answer, dict):
        kind = type(answer).__name__
        return f"give a dict such as {{'A': '...', 'B': '...', 'C': '...'}}, not {kind}"
    unknown = [name for name in answer if name not in capstone.SERVICES]
    if unknown:
        services = ", ".join(capstone.SERVICES)
        return f"there is no service {unknown[0]!r}: the services are {services}"
    missing = [name for name in capstone.SERVICES if name not in answer]
    if missing:
        return f"name a flaw for service {', '.join(missing)} too"
    for name in capstone.SERVICES:
        given = answer[name]
        if given is ...:
            return NOT_ATTEMPTED
        if not isinstance(given, str):
            return f"service {name}: name one flaw id (a str), not {type(given).__name__}"
        preset = capstone.preset_of(name)
        if given in (capstone.PRESET_FLAWS[preset], preset):
            continue
        if given not in FLAWS and given not in capstone.PRESET_FLAWS:
            return f"{given!r} is not a flaw id: pick one of labkit.scan.FLAWS, exactly as written"
        return f"service {name} does not have {given!r}: which forgery got you in?"
    return None


def _clean_verifier(answer: Any) -> str | None:
    from labkit.scan import ScanError, scan

    if not callable(answer):
        return "pass your function itself (no parentheses)"
    tokens = _service_b_tokens()
    try:
        claims = answer(tokens.valid)
    except Exception as exc:
        return f"your verifier refused a valid token of service B: {type(exc).__name__}: {exc}"
    if claims is None:
        return NOT_ATTEMPTED
    if not isinstance(claims, dict) or claims.get("sub") != "alice":
        return "return the verified claims (a dict), as labkit.verify does"
    for probe, token in tokens.bad:
        problem = _refuses(answer, probe, token)
        if problem:
            return problem
    jwks = keys.to_jwks([keys.demo_public_key("rsa")])
    try:
        report = scan(answer, tokens.valid, public_key=jwks, expired_token=tokens.expired)
    except ScanError as exc:
        return f"the scan could not run: {exc}"
    if not report.clean:
        return f"the scanner still gets through: {', '.join(report.flaws)}"
    return None


def _refuses(verifier: Callable[[str], Any], probe: str, token: str) -> str | None:
    """None if ``verifier`` refuses ``token`` with a labkit.InvalidTokenError, else why not."""
    try:
        claims = verifier(token)
    except InvalidTokenError:
        return None
    except Exception as exc:
        return (
            f"for {probe} your verifier raised {type(exc).__name__}, not a labkit."
            "InvalidTokenError: an authorizer turns any other exception into a 500, not a 401"
        )
    shown = f" (claims {claims!r})" if isinstance(claims, dict) else ""
    return f"your verifier accepted {probe}{shown}: it must raise a labkit.InvalidTokenError"


class _Tokens:
    """Service B's tokens for the check: a valid one, an expired one, and forged look-alikes."""

    def __init__(self, valid: str, expired: str, bad: list[tuple[str, str]]) -> None:
        self.valid, self.expired, self.bad = valid, expired, bad


def _service_b_tokens() -> _Tokens:
    """Tokens as service B's identity provider signs them (DEMO ONLY key), and attacker variants.

    Each variant is signed with B's own key, so only a claim or algorithm check refuses it:
    a verifier that forgets ``issuer=``, ``audience=``, ``exp`` or ``nbf``, or accepts more
    algorithms than RS256, lets one through.
    """
    now = int(time.time())
    key = keys.demo_private_key("rsa")
    kid = keys.thumbprint(keys.demo_public_key("rsa"))  # type: ignore[arg-type]
    claims = {
        "iss": _ISSUER,
        "aud": _AUDIENCE,
        "sub": "alice",
        "role": "reader",
        "scope": "profile",
        "iat": now,
        "exp": now + _LIFETIME,
    }

    def sign(changes: dict[str, Any], alg: str = "RS256", drop: str = "") -> str:
        body = {k: v for k, v in {**claims, **changes}.items() if k != drop}
        return sign_token(body, key, alg, headers={"kid": kid})

    bad = [
        ("a token of another issuer", sign({"iss": "https://evil.example"})),
        ("an issuer that only starts like B's", sign({"iss": f"{_ISSUER}.evil.example"})),
        ("a token without iss", sign({}, drop="iss")),
        ("a token for another audience", sign({"aud": "labkit-billing"})),
        ("a token whose aud list names only another API", sign({"aud": ["labkit-billing"]})),
        ("a token without aud", sign({}, drop="aud")),
        ("a token without exp", sign({}, drop="exp")),
        ("a token not valid before an hour from now", sign({"nbf": now + 3600})),
        *((f"a {alg} token (B signs RS256 only)", sign({}, alg)) for alg in _OTHER_RSA_ALGS),
        ("an empty string", ""),
        ("a string that is no token", "not-a-token"),
    ]
    expired = sign({"iat": now - 3600, "exp": now - 60})
    return _Tokens(sign({}), expired, bad)


EXERCISES = (
    Exercise(
        id="11.1",
        title="Break into service B by hand",
        verify=_breaks_into("B"),
        hints=(
            "B signs RS256 and publishes its public key at /.well-known/jwks.json. Which attack "
            "of the kit needs nothing but a public key?",
            "confusion.forge_confusion(jwks, claims, header=...) gives one HS256 token per way of "
            "writing that key; send each to /api/admin and keep the one that gets HTTP 200.",
        ),
        solution="""\
b_token = alice_tokens["B"]
b_jwks = requests.get(f"{services['B'].url}/.well-known/jwks.json", timeout=5).json()
promoted = {**labkit.parse(b_token).payload, "role": "admin"}
candidates = confusion.forge_confusion(b_jwks, promoted, header=labkit.parse(b_token).header)
answer = next(
    forged.token
    for forged in candidates
    if requests.get(
        f"{services['B'].url}/api/admin", headers=capstone.bearer(forged.token), timeout=5
    ).status_code == 200
)""",
        starter="answer = ...",
        success="The public key was the HMAC secret: the header chose the algorithm.",
    ),
    Exercise(
        id="11.2",
        title="Break into service C by hand",
        verify=_breaks_into("C"),
        hints=(
            "C signs ES256. Which ECDSA bug of 2022 needs no key and no earlier signature at all?",
            "psychic.forge({**claims, 'role': 'admin'}, header=...) writes r = s = 0.",
        ),
        solution="""\
c_token = alice_tokens["C"]
promoted = {**labkit.parse(c_token).payload, "role": "admin"}
answer = psychic.forge(promoted, header=labkit.parse(c_token).header).token""",
        starter="answer = ...",
        success="64 zero bytes, and the service believed every word.",
    ),
    Exercise(
        id="11.3",
        title="Name the flaws",
        verify=_flaw_names,
        hints=(
            "Which forgery got you into each service? Section 2 cracked A's secret; exercises "
            "11.1 and 11.2 broke B and C. Or scan them as section 4 scanned A: "
            "scan(f\"{services['B'].url}/api/profile\", alice_tokens['B']).flaws",
            "Answer with ids of labkit.scan.FLAWS (the root causes a scan report names), one "
            "per service: {'A': ..., 'B': ..., 'C': ...}.",
        ),
        solution="""\
answer = {"A": "weak-hmac-secret", "B": "algorithm-confusion", "C": "psychic-signature"}""",
        starter="answer = ...",
        success="Three services, three root causes, and one fix for all of them: labkit.verify "
        "with fixed keys and algorithms.",
    ),
    Exercise(
        id="11.4",
        title="A verifier the scanner finds clean",
        verify=_clean_verifier,
        hints=(
            "labkit.verify with service B's published keys. Which algorithm, audience and issuer "
            "does a token of B carry? Read them off alice_tokens['B'].",
            "labkit.verify(token, b_jwks, algorithms=['RS256'], audience='labkit-api', "
            "issuer='https://idp.labkit.local')",
        ),
        solution="""\
b_jwks = requests.get(f"{services['B'].url}/.well-known/jwks.json", timeout=5).json()


def my_verifier(token: str) -> dict:
    return labkit.verify(
        token,
        b_jwks,  # keys from configuration (the IdP's JWKS), never from the token
        algorithms=["RS256"],  # the one algorithm the IdP signs with
        audience="labkit-api",
        issuer="https://idp.labkit.local",
    )


answer = my_verifier""",
        starter="""\
def my_verifier(token: str) -> dict:
    ...  # your code here: return the claims, or raise a labkit.InvalidTokenError


answer = my_verifier""",
        success="Every probe of the scanner refused, the expired token included: ship it.",
    ),
)
