"""Exercises for notebook 09: the Lambda authorizer.

09.1 holds a policy to least privilege the way an attacker would probe it: every
later request a cached policy answers (other methods, deeper and look-alike
paths, the same paths in another account, API, stage or region), and callers
whose role only resembles ``admin`` (case, whitespace, substrings). 09.2's
answer key is the live gateway's: the tests replay each scenario over HTTP.
"""

from __future__ import annotations

import secrets
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
    "bad-signature": "the authorizer itself refuses a token it cannot verify: how does it say so?",
    "alice-admin": "the policy does not allow it (an explicit or a default deny)",
    "alice-predict": "no Allow statement covers POST /api/predict",
    "bob-admin": "the policy allows it and the backend answers",
    "context-list": "API Gateway refuses the authorizer's answer",
    "authorizer-crash": "any exception but 'Unauthorized' is an authorizer error",
}

_REGION, _ACCOUNT, _API_ID, _STAGE = "us-east-1", "123456789012", "labkit0001", "dev"
_API = f"arn:aws:execute-api:{_REGION}:{_ACCOUNT}:{_API_ID}/{_STAGE}"
_ALICE = {"sub": "alice", "role": "reader", "scope": "profile"}
_BOB = {"sub": "bob", "role": "admin", "scope": "profile predict"}
# Roles that only look like admin: a substring, case or whitespace test, or a list, lets them in.
_NOT_ADMIN = (
    "Admin",
    "ADMIN",
    "admin ",
    " admin",
    "administrator",
    "sysadmin",
    "readeradmin",
    "admin,reader",
    "reader admin",
    "root",
    "superuser",
    "",  # a reversed substring test (`role in "admin"`) lets these in
    "a",
    "adm",
    "min",
)
# The request keys API Gateway puts into policy conditions (the local gateway sends the same):
# with none, an Allow behind an always-true condition never shows; with them, it does.
_REQUEST_KEYS: tuple[dict[str, Any], ...] = (
    {},
    {"aws:SourceIp": "203.0.113.7", "aws:EpochTime": 1_767_258_000},
    {"aws:SourceIp": "10.1.2.3", "aws:EpochTime": 1_800_000_000},
)


def _arn(verb: str, path: str, api: str = _API) -> str:
    return f"{api}/{verb}{path}"


# (the request that triggered the authorizer, a later request, allowed for a reader?, for admin?)
_REQUESTS = (
    (("GET", "/api/profile"), ("GET", "/api/profile"), True, True),
    (("GET", "/api/profile"), ("GET", "/api/admin"), False, True),
    (("GET", "/api/admin"), ("DELETE", "/api/admin/users"), False, True),
    (("GET", "/api/admin"), ("POST", "/api/admin/users/7/roles"), False, True),
    (("GET", "/api/admin"), ("GET", "/api/profile"), True, True),
    (("GET", "/api/profile"), ("POST", "/api/predict"), False, False),
    (("GET", "/api/profile"), ("GET", "/api/predict"), False, False),
    # least privilege on the path everyone may use: GET only, that path only
    (("GET", "/api/profile"), ("POST", "/api/profile"), False, False),
    (("GET", "/api/profile"), ("DELETE", "/api/profile"), False, False),
    (("GET", "/api/profile"), ("PUT", "/api/profile"), False, False),
    (("GET", "/api/profile"), ("GET", "/api/profile/export"), False, False),
    (("GET", "/api/profile"), ("GET", "/api/profiles"), False, False),
    (("GET", "/api/profile"), ("GET", "/api/profile-admin"), False, False),
    (("GET", "/api/profile"), ("GET", "/api/profilx"), False, False),  # a '?' look-alike
    # "under /api/admin" is /api/admin and /api/admin/..., not every name that starts so
    (("GET", "/api/admin"), ("GET", "/api/administrator"), False, False),
    (("GET", "/api/admin"), ("GET", "/api/admin-export"), False, False),
    (("GET", "/api/admin"), ("GET", "/api/admix"), False, False),
    (("GET", "/api/profile"), ("GET", "/api/health"), False, False),
    (("GET", "/api/profile"), ("GET", "/"), False, False),
)


def _elsewhere(region: str, account: str, api_id: str, stage: str) -> tuple[tuple[str, str], ...]:
    """The same paths in an API the token was not for: another account, API, stage, region."""
    other_region = "eu-west-1" if region != "eu-west-1" else "us-east-1"
    return (
        ("account 999999999999", f"arn:aws:execute-api:{region}:999999999999:{api_id}/{stage}"),
        ("API id other0001", f"arn:aws:execute-api:{region}:{account}:other0001/{stage}"),
        ("stage prod", f"arn:aws:execute-api:{region}:{account}:{api_id}/prod"),
        (
            f"region {other_region}",
            f"arn:aws:execute-api:{other_region}:{account}:{api_id}/{stage}",
        ),
    )


def _fresh_api() -> tuple[str, str, str, str]:
    """An API made up for this run: a policy must take it from method_arn, not hard-code one."""
    account = "".join(secrets.choice("0123456789") for _ in range(12))
    return "ap-south-1", account, secrets.token_hex(5), f"v{secrets.randbelow(100)}"


def _callers() -> list[tuple[dict[str, Any], bool]]:
    """(claims, admin?): admin is the role alone, whatever the sub or the scopes say."""
    somebody = f"user-{secrets.token_hex(4)}"
    users: list[tuple[dict[str, Any], bool]] = [(_ALICE, False), (_BOB, True)]
    users += [
        ({"sub": somebody, "role": "admin", "scope": "profile"}, True),
        ({"sub": "bob", "role": "reader", "scope": "profile predict"}, False),
        ({"sub": "carol", "role": "reader", "scope": "profile admin"}, False),  # scope is no role
    ]
    users += [({"sub": "eve", "role": role, "scope": "profile"}, False) for role in _NOT_ADMIN]
    return users


def _policy(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for where_api in ((_REGION, _ACCOUNT, _API_ID, _STAGE), _fresh_api()):
        problem = _policy_in(answer, *where_api)
        if problem is not None:
            return problem
    return None


def _policy_in(answer: Any, region: str, account: str, api_id: str, stage: str) -> str | None:
    """Every caller and cached request against the API ``region/account/api_id/stage``."""
    home = f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}"
    for claims, admin in _callers():
        for asked, then, reader_ok, admin_ok in _REQUESTS:
            checked = _answer_for(answer, claims, _arn(*asked, api=home))
            if isinstance(checked, str):
                return checked
            allowed = admin_ok if admin else reader_ok
            decision = _decision(checked.policy, _arn(*then, api=home), allowed)
            if (decision is Decision.ALLOW) != allowed:
                admins_only = admin_ok and not reader_ok and not admin
                if home != _API and decision is not Decision.ALLOW:
                    return (
                        f"in API {api_id} stage {stage} (account {account}) your policy denies "
                        f"{then[0]} {then[1]}: build the ARNs from method_arn, don't hard-code one"
                    )
                return _wrong_decision(claims, asked, then, decision, admins_only)
            for where, api in _elsewhere(region, account, api_id, stage):
                if _decision(checked.policy, _arn(*then, api=api), False) is Decision.ALLOW:
                    return (
                        f"your policy for {claims['sub']} also allows {then[0]} {then[1]} in "
                        f"{where}: take region, account, API id and stage from method_arn "
                        "instead of '*'"
                    )
    return None


def _decision(policy: Any, arn: str, allowed: bool) -> Decision:
    """The policy's decision for ``arn``; under any request keys, the first that is not ``allowed``.

    A policy must decide the same whoever sends the request from wherever: an Allow hidden
    behind a condition that some real request meets is an Allow.
    """
    decisions = [policy.evaluate(MethodArn.parse(arn), keys) for keys in _REQUEST_KEYS]
    return next((d for d in decisions if (d is Decision.ALLOW) != allowed), decisions[0])


def _answer_for(answer: Any, claims: dict[str, Any], arn: str) -> Any:
    """The learner's checked authorizer response, or what is wrong with it."""
    response = answer(dict(claims), arn)
    if response is None:
        return NOT_ATTEMPTED
    try:
        checked = check_response(response)
    except PolicyError as exc:
        return f"API Gateway would refuse that answer (500): {exc}"
    if checked.principal_id != claims["sub"]:
        return (
            f"principalId is {checked.principal_id!r} for sub {claims['sub']!r}: put the "
            "caller's sub there, so the backend and the logs know who called"
        )
    return checked


def _wrong_decision(
    claims: dict[str, Any],
    asked: tuple[str, str],
    then: tuple[str, str],
    decision: Decision,
    admins_only: bool,
) -> str:
    verdict = "allows" if decision is Decision.ALLOW else "denies"
    who = f"{claims['sub']} (role {claims.get('role')!r})"
    cached = "" if asked == then else f", built for {asked[0]} {asked[1]} and cached,"
    if decision is not Decision.ALLOW:
        why = ": the cache reuses this policy, so grant every path the caller may use"
    elif admins_only:
        why = ": only a role exactly equal to 'admin' is an admin (no substring or case test)"
    else:
        why = ": grant exactly the methods and paths the task names, nothing wider"
    return f"for {who} your policy{cached} {verdict} {then[0]} {then[1]}{why}"


def _statuses(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"give a dict of scenario -> status code, not {type(answer).__name__}"
    unknown = [key for key in answer if key not in _STATUS]
    if unknown:
        return f"there is no scenario {unknown[0]!r}: the keys are those of STATUS_SCENARIOS"
    missing = [key for key in _STATUS if key not in answer]
    if missing:
        return f"the dict has no entry for {missing[0]!r}"
    for key, status in _STATUS.items():
        given = answer[key]
        if given is ...:
            return NOT_ATTEMPTED
        if isinstance(given, bool) or not isinstance(given, int):
            return f"{key!r}: give the status code as an int such as 401, not {given!r}"
        if given != status:
            return f"{key!r} is not {given!r}: think about who answers ({_WHY[key]})"
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
