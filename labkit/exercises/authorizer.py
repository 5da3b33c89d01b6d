"""Exercises for notebook 09: the Lambda authorizer."""

from __future__ import annotations

from typing import Any

from labkit.aws.policy import Decision, MethodArn, PolicyError, check_response
from labkit.exercises import NOT_ATTEMPTED, Exercise

__all__ = ["EXERCISES", "STATUS_SCENARIOS"]

STATUS_SCENARIOS: dict[str, str] = {
    "no-header": "a request without an Authorization header",
    "bad-signature": "a token whose payload was edited after signing",
    "alice-admin": "alice (role reader) calls GET /api/admin",
    "alice-predict": "alice calls POST /api/predict without the predict scope",
    "bob-admin": "bob (role admin) calls GET /api/admin",
    "context-list": "the authorizer answers a context value that is a list",
    "authorizer-crash": "the authorizer raises ValueError",
}
"""Exercise 09.2's scenarios: key -> what happens."""

_STATUS = {
    "no-header": 401,
    "bad-signature": 401,
    "alice-admin": 403,
    "alice-predict": 403,
    "bob-admin": 200,
    "context-list": 500,
    "authorizer-crash": 500,
}
_WHY = {
    "no-header": "a missing identity source is refused before the authorizer runs",
    "bad-signature": 'the authorizer raises Exception("Unauthorized")',
    "alice-admin": "the policy does not allow it (an explicit or a default deny)",
    "alice-predict": "no Allow statement covers POST /api/predict",
    "bob-admin": "the policy allows it and the backend answers",
    "context-list": "API Gateway refuses the authorizer's answer",
    "authorizer-crash": "any exception but 'Unauthorized' is an authorizer error",
}

_API = "arn:aws:execute-api:us-east-1:123456789012:labkit0001/dev"
_ALICE = {"sub": "alice", "role": "reader", "scope": "profile"}
_BOB = {"sub": "bob", "role": "admin", "scope": "profile predict"}


def _arn(verb: str, path: str) -> str:
    return f"{_API}/{verb}{path}"


def _policy(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    cases = [
        # (claims, the request that triggered the authorizer, another request, allowed?)
        (_ALICE, ("GET", "/api/profile"), ("GET", "/api/profile"), True),
        (_ALICE, ("GET", "/api/profile"), ("GET", "/api/admin"), False),
        (_ALICE, ("GET", "/api/admin"), ("DELETE", "/api/admin/users"), False),
        (_ALICE, ("GET", "/api/profile"), ("POST", "/api/predict"), False),
        (_BOB, ("GET", "/api/profile"), ("GET", "/api/admin"), True),
        (_BOB, ("GET", "/api/admin"), ("DELETE", "/api/admin/users"), True),
        (_BOB, ("GET", "/api/admin"), ("GET", "/api/profile"), True),
        (_BOB, ("GET", "/api/profile"), ("POST", "/api/predict"), False),
    ]
    for claims, asked, then, allowed in cases:
        response = answer(dict(claims), _arn(*asked))
        if response is None:
            return NOT_ATTEMPTED
        try:
            checked = check_response(response)
        except PolicyError as exc:
            return f"API Gateway would refuse that answer (500): {exc}"
        decision = checked.policy.evaluate(MethodArn.parse(_arn(*then)))
        if (decision is Decision.ALLOW) != allowed:
            verdict = "allows" if decision is Decision.ALLOW else "denies"
            cached = "" if asked == then else f", built for {asked[0]} {asked[1]} and cached,"
            return f"for {claims['sub']} your policy{cached} {verdict} {then[0]} {then[1]}"
    return None


def _statuses(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"give a dict of scenario -> status code, not {type(answer).__name__}"
    missing = [key for key in _STATUS if key not in answer]
    if missing:
        return f"the dict has no entry for {missing[0]!r}"
    for key, status in _STATUS.items():
        if answer[key] is ...:
            return NOT_ATTEMPTED
        if answer[key] != status:
            return f"{key!r} is not {answer[key]!r}: think about who answers ({_WHY[key]})"
    return None


EXERCISES = (
    Exercise(
        id="09.1",
        title="A policy that survives the cache",
        verify=_policy,
        hints=(
            "Start from AuthPolicy.for_arn(claims['sub'], method_arn): it takes the API and stage "
            "from the ARN, and you name paths, not the ARN itself.",
            "Allow GET /api/profile for everyone; allow '*' on /api/admin and /api/admin/* only "
            "when claims['role'] == 'admin'; then .build().",
        ),
        solution="""\
from labkit.aws import AuthPolicy


def my_policy(claims: dict, method_arn: str) -> dict:
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if claims.get("role") == "admin":
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    return policy.build(context={"role": claims.get("role", "none")})


answer = my_policy""",
        starter="""\
from labkit.aws import AuthPolicy


def my_policy(claims: dict, method_arn: str) -> dict:
    ...  # your code here


answer = my_policy""",
        success="Whatever path asked first, the cached policy answers every later path correctly.",
    ),
    Exercise(
        id="09.2",
        title="401, 403 or 500?",
        verify=_statuses,
        hints=(
            "401 means the caller did not prove who they are; 403 that the policy says no; "
            "500 that the authorizer itself is broken.",
            "Only an exception whose message is exactly 'Unauthorized' becomes 401; any other "
            "exception, and any answer API Gateway cannot read, is 500.",
        ),
        solution="""\
answer = {
    "no-header": 401,
    "bad-signature": 401,
    "alice-admin": 403,
    "alice-predict": 403,
    "bob-admin": 200,
    "context-list": 500,
    "authorizer-crash": 500,
}""",
        starter="answer = ...",
        success="401 is about the token, 403 about the policy, 500 about the authorizer.",
    ),
)
