"""Exercises for notebook 10: the API platform case study."""

from __future__ import annotations

from typing import Any

from labkit import keys, tokens
from labkit.aws.idp import AUDIENCE, ISSUER
from labkit.errors import InvalidTokenError, MalformedTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise
from labkit.verify import verify

__all__ = ["EXERCISES", "ROTATION_STEPS"]

ROTATION_STEPS = (
    "retire the old key from the JWKS",
    "sign new tokens with the new key",
    "publish the new key in the JWKS beside the old one",
    "wait until every verifier has fetched the new JWKS",
    "wait until the last token signed with the old key has expired",
)
"""Exercise 10.3's steps, shuffled: put them in order."""

_ORDER = (
    "publish the new key in the JWKS beside the old one",
    "wait until every verifier has fetched the new JWKS",
    "sign new tokens with the new key",
    "wait until the last token signed with the old key has expired",
    "retire the old key from the JWKS",
)


def _exposure(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    cases = [
        (900, 300, True, 300),
        (900, 0, True, 0),
        (900, 3600, True, 900),
        (900, 300, False, 900),
        (300, 300, False, 300),
        (3600, 60, True, 60),
    ]
    for access_ttl, cache_ttl, deny_list, expected in cases:
        got = answer(access_ttl, cache_ttl, deny_list)
        if got is None:
            return NOT_ATTEMPTED
        if got != expected:
            with_list = "with" if deny_list else "without"
            return (
                f"access_ttl={access_ttl}, cache_ttl={cache_ttl}, {with_list} a deny-list: "
                f"you said {got!r} s, not the worst case"
            )
    return None


def _least_privilege(answer: Any) -> str | None:
    if not isinstance(answer, str):
        return f"give the access token (a str), not {type(answer).__name__}"
    try:
        claims = tokens.parse(answer).payload
        verify(
            answer,
            keys.to_jwks([keys.demo_public_key("rsa")]),
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            now=claims.get("iat"),
        )
    except (MalformedTokenError, InvalidTokenError) as exc:
        return f"that is not a token from the lab's identity provider: {exc}"
    if claims.get("sub") != "bob":
        return f"log in as bob, not {claims.get('sub')!r}"
    if claims.get("scope") != "predict":
        return f"the token's scope is {claims.get('scope')!r}; ask /login for 'predict' alone"
    return None


def _rotation(answer: Any) -> str | None:
    if answer is ...:
        return NOT_ATTEMPTED
    if not isinstance(answer, (list, tuple)) or sorted(answer) != sorted(_ORDER):
        return "give a list of the five steps of ROTATION_STEPS, each once"
    for position, (got, expected) in enumerate(zip(answer, _ORDER, strict=True), start=1):
        if got != expected:
            return f"step {position} should not be {got!r}: what breaks if it comes here?"
    return None


EXERCISES = (
    Exercise(
        id="10.1",
        title="How long does a stolen token live after logout?",
        verify=_exposure,
        hints=(
            "Without a deny-list, logout changes nothing for the token: only exp ends it.",
            "With a deny-list, the authorizer refuses it at its next call; a cached policy "
            "skips that call for up to cache_ttl seconds, and never past exp.",
        ),
        solution="""\
def exposure(access_ttl: int, cache_ttl: int, deny_list: bool) -> int:
    if not deny_list:
        return access_ttl
    return min(cache_ttl, access_ttl)


answer = exposure""",
        starter="""\
def exposure(access_ttl: int, cache_ttl: int, deny_list: bool) -> int:
    ...  # your code here


answer = exposure""",
        success="Short expiry bounds the damage; a deny-list shortens it to the cache TTL.",
    ),
    Exercise(
        id="10.2",
        title="Least privilege for the model API",
        verify=_least_privilege,
        hints=(
            "POST /login takes an optional 'scope': the scopes you want, space-separated.",
            'requests.post(f"{api.url}/login", json={..., "scope": "predict"})',
        ),
        solution="""\
reply = requests.post(
    f"{api.url}/login", json={"username": "bob", "password": "builder", "scope": "predict"}
)
answer = reply.json()["access_token"]""",
        starter="answer = ...",
        success="A token that can only call the model is worth less to whoever steals it.",
    ),
    Exercise(
        id="10.3",
        title="Rotate keys without logging everyone out",
        verify=_rotation,
        hints=(
            "A verifier can only check a signature with a key it already has.",
            "Publish first, sign second, retire last; wait for caches and tokens in between.",
        ),
        solution="""\
answer = [
    "publish the new key in the JWKS beside the old one",
    "wait until every verifier has fetched the new JWKS",
    "sign new tokens with the new key",
    "wait until the last token signed with the old key has expired",
    "retire the old key from the JWKS",
]""",
        starter="answer = ...",
        success="No token is ever signed by a key a verifier cannot find.",
    ),
)
