"""Exercises for notebook 13: token types and OpenID Connect.

Each check feeds the learner's function the tokens an attacker would swap in,
every one genuinely signed with the lab provider's DEMO ONLY key (or the
partner issuer's): ID tokens, other APIs' access tokens, ``typ`` variants,
tokens whose ``iss`` and signing key belong to different issuers, replayed ID
tokens. Nonces and audiences are made up per run, so no answer can know them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from labkit import algorithms, keys
from labkit.attacks.tokentypes import PARTNER_ISSUER, partner
from labkit.errors import InvalidTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise

ISSUER = "https://idp.labkit.local"
API = "labkit-api"
CLIENT = "labkit-notebook"

Case = tuple[str, str, bool, str]  # (what the token is, the token, should pass, why)


def _idp() -> tuple[Any, str]:
    key = keys.demo_private_key("rsa")  # the lab provider's RS256 key (labkit.aws.idp)
    return key, keys.thumbprint(key)


def _sign(claims: dict[str, Any], typ: str | None = "at+jwt", *, issuer: str = "idp") -> str:
    if issuer == "idp":
        key, kid = _idp()
    else:
        other = partner()
        key, kid = other.key, other.kid
    return algorithms.sign_token(claims, key, "RS256", headers={"typ": typ, "kid": kid})


def _access(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": API,
        "client_id": CLIENT,
        "iat": now,
        "exp": now + 900,
        "jti": secrets.token_urlsafe(8),
        "role": "reader",
        "scope": "openid profile",
        **changes,
    }
    return {k: v for k, v in claims.items() if v is not None}


def _id_claims(nonce: str | None, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": CLIENT,
        "azp": CLIENT,
        "iat": now,
        "exp": now + 900,
        "auth_time": now,
        "nonce": nonce,
        **changes,
    }
    return {k: v for k, v in claims.items() if v is not None}


def _outcome(answer: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """("accepted", claims), ("refused", error), or ("wrong", message) for one call."""
    try:
        got = answer(*args)
    except InvalidTokenError as exc:
        return "refused", exc
    except Exception as exc:
        return "wrong", (
            f"raised {type(exc).__name__}: {exc}; refuse with a labkit.InvalidTokenError "
            "(labkit.verify raises one), so the API answers 401"
        )
    if got is None:
        return "none", None
    return "accepted", got


def _judge(
    answer: Any, cases: list[Case], call: Callable[[Any, str], tuple[str, Any]]
) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for label, token, should_pass, why in cases:
        verdict, value = call(answer, token)
        if verdict == "none":
            return NOT_ATTEMPTED
        if verdict == "wrong":
            return f"on {label} your function {value}"
        if verdict == "accepted" and not should_pass:
            return f"your function accepted {label}: {why}"
        if verdict == "refused" and should_pass:
            return f"your function refused {label} ({value}): {why}"
        if verdict == "accepted" and (not isinstance(value, dict) or value.get("sub") != "alice"):
            return f"for {label} return the verified claims (a dict with sub 'alice')"
    return None


# 13.1 · An access-token validator ----------------------------------------------------------------


def _access_cases() -> list[Case]:
    fresh = f"api-{secrets.token_hex(4)}"
    now = int(time.time())
    return [
        (
            "Alice's access token (typ at+jwt, aud labkit-api)",
            _sign(_access()),
            True,
            "it is right",
        ),
        (
            "an access token typed 'application/at+jwt'",
            _sign(_access(), "application/at+jwt"),
            True,
            "RFC 7515 4.1.9: typ is compared case-insensitively, application/ may be left out",
        ),
        (
            "an access token typed 'AT+JWT'",
            _sign(_access(), "AT+JWT"),
            True,
            "typ is compared case-insensitively (RFC 7515 4.1.9)",
        ),
        (
            "an ID token of labkit-notebook (typ JWT, aud labkit-notebook)",
            _sign(_id_claims("n-1"), "JWT"),
            False,
            "an ID token is for the client; check typ at+jwt and aud labkit-api",
        ),
        (
            "an ID token of the labkit-api console (typ JWT, aud labkit-api)",
            _sign(_id_claims("n-1", aud=API, azp=API), "JWT"),
            False,
            "its aud is right, so only typ tells: require typ at+jwt (RFC 9068 section 4)",
        ),
        (
            "a token for labkit-api with no typ",
            _sign(_access(), None),
            False,
            "require typ at+jwt: an untyped JWT is not an access token",
        ),
        (
            "a token typed 'jwt+at+jwt'",
            _sign(_access(), "jwt+at+jwt"),
            False,
            "compare the whole media type, not a substring or a suffix",
        ),
        (
            "an access token for partner-api",
            _sign(_access(aud="partner-api", client_id="partner-dashboard")),
            False,
            "check aud: a token minted for another API must not open this one",
        ),
        (
            f"an access token for {fresh}",
            _sign(_access(aud=fresh)),
            False,
            "check aud is exactly labkit-api",
        ),
        (
            "an access token for labkit-api-staging",
            _sign(_access(aud=f"{API}-staging")),
            False,
            "compare aud with labkit-api as a whole string: another API's name only contains it",
        ),
        (
            "an access token whose iss is https://evil.example",
            _sign(_access(iss="https://evil.example")),
            False,
            "check iss is the lab's provider",
        ),
        (
            f"an access token of another tenant, iss {ISSUER}/tenant-2 (same provider key)",
            _sign(_access(iss=f"{ISSUER}/tenant-2")),
            False,
            "compare iss exactly (OIDC Core 3.1.3.7 item 2): a prefix match lets every tenant "
            "of a multi-tenant provider in",
        ),
        (
            "an access token that expired 5 minutes ago",
            _sign(_access(iat=now - 1200, exp=now - 300)),
            False,
            "exp is in the past",
        ),
    ]


def _check_access(answer: Any) -> str | None:
    return _judge(answer, _access_cases(), lambda f, token: _outcome(f, token))


# 13.2 · Two issuers, each with its own keys ------------------------------------------------------


def _mixup_cases() -> list[Case]:
    theirs = _access(iss=PARTNER_ISSUER, client_id="partner-app")
    return [
        ("an access token of the lab's provider", _sign(_access()), True, "it is right"),
        (
            "an access token of the partner issuer, signed with its key",
            _sign(theirs, issuer="partner"),
            True,
            "the API trusts the partner too: use partner.jwks() for its tokens",
        ),
        (
            "a token that says iss https://idp.labkit.local, signed with the partner's key",
            _sign(_access(), issuer="partner"),
            False,
            "the partner's key spoke for the lab's provider (mix-up): choose the keys by iss "
            "(labkit.verify's IssuerKeys)",
        ),
        (
            "a token that says iss the partner, signed with the lab provider's key",
            _sign(theirs),
            False,
            "one issuer's key must never vouch for the other's tokens: choose the keys by iss",
        ),
        (
            "a token from https://evil.example signed with the lab provider's key",
            _sign(_access(iss="https://evil.example")),
            False,
            "only the two trusted issuers are accepted",
        ),
        (
            "a token without iss",
            _sign(_access(iss=None)),
            False,
            "without iss there is no telling whose keys apply",
        ),
        (
            f"a token that says iss '{PARTNER_ISSUER}/' (a trailing slash), signed with the "
            "partner's key",
            _sign({**theirs, "iss": f"{PARTNER_ISSUER}/"}, issuer="partner"),
            False,
            "compare iss exactly with a trusted issuer's name (OIDC Core 3.1.3.7 item 2): a "
            "trimmed or lower-cased iss is another issuer's name",
        ),
        (
            "an ID token of the lab's provider with aud labkit-api",
            _sign(_id_claims("n", aud=API, azp=API), "JWT"),
            False,
            "still require typ at+jwt",
        ),
        (
            "a partner access token for partner-api",
            _sign({**theirs, "aud": "partner-api"}, issuer="partner"),
            False,
            "still check aud labkit-api",
        ),
    ]


def _check_mixup(answer: Any) -> str | None:
    problem = _judge(answer, _mixup_cases(), lambda f, token: _outcome(f, token))
    if problem is not None:
        return problem
    verdict, claims = _outcome(answer, _sign(_access(iss=PARTNER_ISSUER), issuer="partner"))
    if verdict == "accepted" and claims.get("iss") != PARTNER_ISSUER:
        return "return the token's own verified claims (its iss is the partner's)"
    return None


# 13.3 · The nonce ----------------------------------------------------------------------------


def _nonce_cases(nonce: str) -> list[Case]:
    other = secrets.token_urlsafe(12)
    now = int(time.time())
    return [
        ("this login's ID token", _sign(_id_claims(nonce), "JWT"), True, "it is right"),
        (
            "this login's ID token without azp",
            _sign(_id_claims(nonce, azp=None), "JWT"),
            True,
            "azp is optional with a single audience (OIDC Core 3.1.3.7 item 5)",
        ),
        (
            "an ID token of an earlier login (another nonce)",
            _sign(_id_claims(other), "JWT"),
            False,
            "compare the nonce with the one this login sent (OIDC Core 3.1.3.7 item 11)",
        ),
        (
            "an ID token without a nonce",
            _sign(_id_claims(None), "JWT"),
            False,
            "this login sent a nonce: the ID token must carry it",
        ),
        (
            "an ID token whose nonce is this one with one character less",
            _sign(_id_claims(nonce[:-1]), "JWT"),
            False,
            "compare the whole nonce for equality, not a prefix or substring",
        ),
        (
            "an ID token whose nonce is this one plus 'x'",
            _sign(_id_claims(nonce + "x"), "JWT"),
            False,
            "compare the whole nonce for equality, not a prefix or substring",
        ),
        (
            "an ID token whose nonce is this one with its case swapped",
            _sign(_id_claims(nonce.swapcase()), "JWT"),
            False,
            "compare the nonce exactly, case and all: it is an opaque string",
        ),
        (
            "an ID token whose nonce is this one plus a space",
            _sign(_id_claims(nonce + " "), "JWT"),
            False,
            "compare the nonce exactly: no trimming",
        ),
        (
            "an ID token whose nonce is empty",
            _sign(_id_claims(""), "JWT"),
            False,
            "an empty nonce is not this login's nonce: compare it, do not test it for truth",
        ),
        (
            "an ID token whose nonce is [this nonce]",
            _sign(_id_claims([nonce]), "JWT"),  # type: ignore[arg-type]
            False,
            "a nonce is a string; a list containing it is not equal to it",
        ),
        (
            "an ID token issued to partner-dashboard (with this nonce)",
            _sign(_id_claims(nonce, aud="partner-dashboard", azp="partner-dashboard"), "JWT"),
            False,
            "check aud is your client_id, labkit-notebook",
        ),
        (
            "an ID token for labkit-notebook-evil (with this nonce)",
            _sign(_id_claims(nonce, aud=f"{CLIENT}-evil", azp=f"{CLIENT}-evil"), "JWT"),
            False,
            "compare aud with labkit-notebook as a whole string: a client whose id contains "
            "yours is another client",
        ),
        (
            "an access token typed at+jwt with aud labkit-notebook and this nonce",
            _sign(_id_claims(nonce), "at+jwt"),
            False,
            "an at+jwt token is an access token, never an ID token (RFC 9068 2.1)",
        ),
        (
            "an access token typed application/at+jwt with aud labkit-notebook and this nonce",
            _sign(_id_claims(nonce), "application/at+jwt"),
            False,
            "at+jwt is an access token in any case, with or without application/ "
            "(RFC 7515 4.1.9): never an ID token",
        ),
        (
            "an ID token that expired 5 minutes ago",
            _sign(_id_claims(nonce, iat=now - 1200, exp=now - 300), "JWT"),
            False,
            "exp is in the past",
        ),
        (
            "an ID token from https://evil.example",
            _sign(_id_claims(nonce, iss="https://evil.example"), "JWT"),
            False,
            "check iss",
        ),
        (
            "an ID token for partner-dashboard and labkit-notebook, azp partner-dashboard",
            _sign(
                _id_claims(nonce, aud=["partner-dashboard", CLIENT], azp="partner-dashboard"),
                "JWT",
            ),
            False,
            "being in aud is not enough: an ID token with several audiences was issued to its "
            "azp, and azp must be your client_id (OIDC Core 3.1.3.7 items 3 to 5)",
        ),
    ]


def _check_nonce(answer: Any) -> str | None:
    nonce = secrets.token_urlsafe(12)
    return _judge(answer, _nonce_cases(nonce), lambda f, token: _outcome(f, token, nonce))


EXERCISES = (
    Exercise(
        id="13.1",
        title="An access-token validator that refuses ID tokens",
        verify=_check_access,
        hints=(
            "labkit.verify takes typ=: the header's typ must then name that type. Which type "
            "is an access token (RFC 9068)? And which aud does this API answer to?",
            "labkit.verify(token, jwks, algorithms=['RS256'], audience='labkit-api', "
            "issuer='https://idp.labkit.local', typ='at+jwt').",
        ),
        solution="""\
def validate_access_token(token: str) -> dict:
    return labkit.verify(
        token,
        jwks,  # the provider's keys, from discovery's jwks_uri
        algorithms=["RS256"],
        audience="labkit-api",  # this API, never the client's id
        issuer="https://idp.labkit.local",
        typ="at+jwt",  # RFC 9068: an ID token is typ JWT and fails here
    )


answer = validate_access_token""",
        starter="""\
def validate_access_token(token: str) -> dict:
    ...  # your code here


answer = validate_access_token""",
        success="Typed and addressed: only access tokens for this API get in.",
    ),
    Exercise(
        id="13.2",
        title="Two trusted issuers, each with its own keys",
        verify=_check_mixup,
        hints=(
            "A merged key set lets either issuer's key vouch for either iss. "
            "labkit.verify can pick the key set by the token's iss: see IssuerKeys.",
            "labkit.verify(token, IssuerKeys({'https://idp.labkit.local': jwks, "
            "partner.issuer: partner.jwks()}), algorithms=['RS256'], audience='labkit-api', "
            "typ='at+jwt').",
        ),
        solution="""\
from labkit.verify import IssuerKeys

trusted = IssuerKeys({"https://idp.labkit.local": jwks, partner.issuer: partner.jwks()})


def verify_either(token: str) -> dict:
    return labkit.verify(
        token, trusted, algorithms=["RS256"], audience="labkit-api", typ="at+jwt"
    )


answer = verify_either""",
        starter="""\
def verify_either(token: str) -> dict:
    ...  # your code here


answer = verify_either""",
        success="Each issuer vouches for its own tokens only: no mix-up.",
    ),
    Exercise(
        id="13.3",
        title="Finish the login: the nonce",
        verify=_check_nonce,
        hints=(
            "Validate the ID token as a client does (OIDC Core 3.1.3.7): signature, iss, "
            "aud = your client_id, exp, and the nonce this login sent. labkit.oidc has it.",
            "labkit.oidc.verify_id_token(id_token, jwks, client_id='labkit-notebook', "
            "issuer='https://idp.labkit.local', nonce=nonce).",
        ),
        solution="""\
from labkit import oidc


def finish_login(id_token: str, nonce: str) -> dict:
    return oidc.verify_id_token(
        id_token,
        jwks,
        client_id="labkit-notebook",
        issuer="https://idp.labkit.local",
        nonce=nonce,  # the one this login sent: an old ID token carries another
    )


answer = finish_login""",
        starter="""\
def finish_login(id_token: str, nonce: str) -> dict:
    ...  # your code here


answer = finish_login""",
        success="A captured ID token cannot log anyone in again.",
    ),
)
