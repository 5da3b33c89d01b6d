"""Exercises for notebook 10: the API platform case study.

10.1 grades the worst case exactly as API Gateway behaves (and as the local
gateway does): a cached Allow is served without looking at the token, so with a
deny-list a logged-out token lives for the cache TTL (even past ``exp``), and
without one for the time to ``exp`` plus the TTL. 10.2 runs the learner's login
function against a fresh local API and probes the token it returns: live, not
logged out, Bob's, scope ``predict`` alone. 10.3 names the step that breaks.

Sources: "When Authorization Caching is activated on a Lambda authorizer, the returned
IAM policy is cached. The cached IAM policy is then applied to any additional API
requests made within the cache's specified time-to-live (TTL) period" (AWS Knowledge
Center, api-gateway-lambda-authorization-errors); ``authorizerResultTtlInSeconds``, 0 to
3600, default 300 (API Gateway API reference, Authorizer).
"""

from __future__ import annotations

import secrets
from typing import Any

from labkit import tokens
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


# (seconds left until exp at logout, cache TTL, deny-list?, the worst case in seconds)
_EXPOSURE_CASES = (
    (900, 300, True, 300),
    (900, 0, True, 0),
    (60, 300, True, 300),  # a cached Allow outlives exp: the gateway does not look at the token
    (0, 300, True, 300),
    (900, 3600, True, 3600),
    (900, 300, False, 1200),  # the authorizer says yes until exp, and that answer is cached
    (900, 0, False, 900),
    (300, 300, False, 600),
    (0, 300, False, 300),
    (3600, 60, False, 3660),
)


def _random_cases() -> list[tuple[int, int, bool, int]]:
    """Fresh numbers each run, so a function that only knows the fixed cases fails."""
    cases = []
    for deny_list in (True, False, True, False):
        time_to_exp, cache_ttl = secrets.randbelow(7200), secrets.randbelow(3601)
        worst = cache_ttl if deny_list else time_to_exp + cache_ttl
        cases.append((time_to_exp, cache_ttl, deny_list, worst))
    return cases


def _exposure(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for time_to_exp, cache_ttl, deny_list, expected in (*_EXPOSURE_CASES, *_random_cases()):
        got = answer(time_to_exp, cache_ttl, deny_list)
        if got is None:
            return NOT_ATTEMPTED
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return f"return a number of seconds, not {type(got).__name__}"
        if got != expected:
            with_list = "with" if deny_list else "without"
            return (
                f"time_to_exp={time_to_exp}, cache_ttl={cache_ttl}, {with_list} a deny-list: "
                f"you said {got!r} s, the worst case is {_why(time_to_exp, cache_ttl, deny_list)}"
            )
    return None


def _why(time_to_exp: int, cache_ttl: int, deny_list: bool) -> str:
    if deny_list:
        if cache_ttl > time_to_exp:
            return (
                "longer: an Allow cached just before logout is served for the whole TTL, past "
                "exp, because on a cache hit API Gateway never looks at the token"
            )
        return "different: the deny-list works at the next authorizer call, after the cache"
    return (
        "longer: the authorizer allows the token until exp, and an Allow cached just before "
        "exp is served for the whole TTL after it"
    )


_ISSUED_AT = 1780315200  # 2026-06-01T12:00:00Z: the checker's own server, on its own clock


def _least_privilege(answer: Any) -> str | None:
    """Run the learner's login function against a fresh local API and probe its token."""
    import requests  # imported on use: the other exercises need no HTTP client

    from labkit.aws import FrozenClock, serve

    if not callable(answer):
        return "pass your function itself (no parentheses)"
    clock = FrozenClock(_ISSUED_AT)
    with serve(clock=clock) as api:
        token = answer(api)
        if token is None:
            return (
                "your function returned None: print /login's status and body; it answers 400 "
                "to a scope that is not one space-separated string, 401 to a wrong password"
            )
        if not isinstance(token, str):
            return f"return the access token (a str), not {type(token).__name__}"
        try:
            claims = tokens.parse(token).payload
            verify(
                token,
                api.idp.jwks(),
                algorithms=["RS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                now=clock(),
            )
        except (MalformedTokenError, InvalidTokenError) as exc:
            return f"that is not a live token from the API you were given: {exc}"
        if api.idp.is_revoked(claims.get("jti", "")):
            return "that token was logged out: a batch job needs a token that still works"
        if claims.get("sub") != "bob":
            return f"log in as bob, not {claims.get('sub')!r}"
        if claims.get("scope") != "predict":
            return f"the token's scope is {claims.get('scope')!r}; ask /login for 'predict' alone"

        def status(method: str, path: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            body = {"text": "a fine kit"}
            return requests.request(
                method, f"{api.url}{path}", headers=headers, json=body, timeout=5
            ).status_code

        if status("POST", "/api/predict") != 200:
            return "the token does not get through POST /api/predict: the job cannot run"
    return None


def _rotation(answer: Any) -> str | None:
    if answer is ...:
        return NOT_ATTEMPTED
    if not isinstance(answer, (list, tuple)):
        return f"give a list of the five steps of ROTATION_STEPS, not {type(answer).__name__}"
    if not all(isinstance(step, str) for step in answer) or sorted(answer) != sorted(_ORDER):
        unknown = [step for step in answer if step not in _ORDER]
        if unknown:
            return f"{unknown[0]!r} is not one of ROTATION_STEPS: copy the steps as they are"
        return "give the five steps of ROTATION_STEPS, each exactly once"
    steps = list(answer)
    for first, then, breaks in _BEFORE:
        if steps.index(_ORDER[first]) > steps.index(_ORDER[then]):
            return f"{_ORDER[then]!r} comes before {_ORDER[first]!r}: {breaks}"
    return None


# (step that must come first, step after it, what breaks otherwise), by index into _ORDER.
_BEFORE = (
    (0, 1, "no verifier can fetch a key that is not published yet"),
    (0, 2, "tokens signed with the new key are refused by every verifier that lacks it"),
    (1, 2, "verifiers still holding the old JWKS refuse the tokens signed with the new key"),
    (2, 4, "with the old key retired and the new one not signing, nothing valid can be issued"),
    (2, 3, "while the old key still signs, new old-key tokens keep arriving: the wait never ends"),
    (3, 4, "tokens the old key signed are still in use, and every one of them is refused"),
)


EXERCISES = (
    Exercise(
        id="10.1",
        title="How long does a stolen token live after logout?",
        verify=_exposure,
        hints=(
            "On a cache hit API Gateway does not call the authorizer and does not look at the "
            "token: a cached Allow is served for the whole TTL, even past exp.",
            "With a deny-list, the authorizer refuses the token at its next call, which the "
            "cache puts off by up to cache_ttl. Without one, the authorizer allows it until "
            "exp, and its last Allow is cached for cache_ttl more.",
        ),
        solution="""\
def exposure(time_to_exp: int, cache_ttl: int, deny_list: bool) -> int:
    if deny_list:
        return cache_ttl
    return time_to_exp + cache_ttl


answer = exposure""",
        starter="""\
def exposure(time_to_exp: int, cache_ttl: int, deny_list: bool) -> int:
    ...  # your code here


answer = exposure""",
        success="A deny-list bounds it by the cache TTL; without one, exp plus the TTL.",
    ),
    Exercise(
        id="10.2",
        title="Least privilege for the model API",
        verify=_least_privilege,
        hints=(
            "POST /login takes an optional 'scope': the scopes you want, space-separated. Log "
            "in at the api you are given (its url), and return the fresh access token.",
            'requests.post(f"{api.url}/login", json={..., "scope": "predict"}).json()'
            '["access_token"]',
        ),
        solution="""\
def predict_token(api) -> str:
    reply = requests.post(
        f"{api.url}/login", json={"username": "bob", "password": "builder", "scope": "predict"}
    )
    return reply.json()["access_token"]


answer = predict_token""",
        starter="""\
def predict_token(api) -> str:
    ...  # your code here: log in at api.url and return the access token


answer = predict_token""",
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
