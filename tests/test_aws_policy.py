"""IAM policies for Lambda authorizers: method ARNs, the builder, evaluation, context rules."""

from __future__ import annotations

import pytest

from labkit.aws.policy import (
    AuthPolicy,
    Decision,
    MethodArn,
    Policy,
    PolicyError,
    check_context,
    check_json_context,
    check_response,
    evaluate,
    stringify_context,
)

# Sources for the context rules below:
# REST output ("The returned values are all stringified"; no JSON object or array):
#   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
# a real REST API, 2024: 123 -> "123", true -> "true", null -> null:
#   https://github.com/DefinitelyTyped/DefinitelyTyped/pull/69823
# HTTP API payload 2.0 (arrayKey, mapKey in simple and IAM responses):
#   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/api/profile"
BASE = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(resource: object, action: object = "execute-api:Invoke", **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(resource: object, **extra: object) -> dict:
    return {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resource, **extra}


# Method ARNs ------------------------------------------------------------------------------------


def test_method_arn_parses_and_round_trips() -> None:
    arn = MethodArn.parse(ARN)
    assert (arn.region, arn.account, arn.api_id, arn.stage) == (
        "us-east-1",
        "123456789012",
        "abc123",
        "dev",
    )
    assert (arn.verb, arn.resource) == ("GET", "api/profile")
    assert str(arn) == ARN


def test_method_arn_of_the_root_resource_and_deep_paths() -> None:
    assert MethodArn.parse(f"{BASE}/GET/").resource == ""
    assert MethodArn.parse(f"{BASE}/GET").resource == ""
    assert MethodArn.parse(f"{BASE}/POST/a/b/c").resource == "a/b/c"
    assert MethodArn.parse(ARN).pattern("*", "/api/admin/*") == f"{BASE}/*/api/admin/*"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "arn:aws:s3:::bucket/key",
        "arn:aws:execute-api:us-east-1:123456789012",
        "arn:aws:execute-api:us-east-1:123456789012:abc123",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/dev",
        "arn:aws:execute-api:us-east-1:123456789012:abc123//GET/x",
        "not an arn",
        42,
    ],
)
def test_bad_method_arns_are_refused(bad: object) -> None:
    with pytest.raises(PolicyError):
        MethodArn.parse(bad)


# Evaluation -------------------------------------------------------------------------------------


def test_star_crosses_slashes_and_question_mark_is_one_character() -> None:
    policy = doc(allow(f"{BASE}/GET/*"))
    assert evaluate(policy, f"{BASE}/GET/a/b/c") is Decision.ALLOW
    assert evaluate(policy, f"{BASE}/GET/") is Decision.ALLOW
    assert evaluate(policy, f"{BASE}/POST/a") is Decision.IMPLICIT_DENY
    one = doc(allow(f"{BASE}/GET/api/v?"))
    assert evaluate(one, f"{BASE}/GET/api/v1") is Decision.ALLOW
    assert evaluate(one, f"{BASE}/GET/api/v12") is Decision.IMPLICIT_DENY
    assert evaluate(one, f"{BASE}/GET/api/v") is Decision.IMPLICIT_DENY


def test_wildcards_in_the_stage_and_verb_and_the_whole_resource() -> None:
    assert evaluate(doc(allow("*")), ARN) is Decision.ALLOW
    assert evaluate(doc(allow("arn:aws:execute-api:*:*:*/*/GET/*")), ARN) is Decision.ALLOW
    other_api = "arn:aws:execute-api:us-east-1:123456789012:zzz999/dev/GET/api/profile"
    assert evaluate(doc(allow(f"{BASE}/*")), other_api) is Decision.IMPLICIT_DENY


def test_pattern_characters_are_literal_except_the_wildcards() -> None:
    policy = doc(allow(f"{BASE}/GET/api/a.c"))
    assert evaluate(policy, f"{BASE}/GET/api/a.c") is Decision.ALLOW
    assert evaluate(policy, f"{BASE}/GET/api/abc") is Decision.IMPLICIT_DENY


def test_explicit_deny_beats_any_allow_in_any_order() -> None:
    for statements in (
        [allow("*"), deny(f"{BASE}/*/api/admin")],
        [deny(f"{BASE}/*/api/admin"), allow("*")],
    ):
        policy = doc(*statements)
        assert evaluate(policy, f"{BASE}/GET/api/admin") is Decision.EXPLICIT_DENY
        assert evaluate(policy, f"{BASE}/GET/api/profile") is Decision.ALLOW


def test_default_deny_when_nothing_matches() -> None:
    assert evaluate(doc(allow(f"{BASE}/GET/api/other")), ARN) is Decision.IMPLICIT_DENY
    assert evaluate(doc(deny(f"{BASE}/GET/api/other")), ARN) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("action", "applies"),
    [
        ("execute-api:Invoke", True),
        ("execute-api:invoke", True),  # IAM actions are case-insensitive
        ("execute-api:*", True),
        ("*", True),
        (["s3:GetObject", "execute-api:Invoke"], True),
        ("execute-api:ManageConnections", False),
        ("s3:*", False),
    ],
)
def test_only_statements_about_invoke_apply(action: object, applies: bool) -> None:
    expected = Decision.ALLOW if applies else Decision.IMPLICIT_DENY
    assert evaluate(doc(allow(ARN, action)), ARN) is expected


def test_a_single_statement_object_and_a_resource_list_are_accepted() -> None:
    single = {"Version": "2012-10-17", "Statement": allow([f"{BASE}/POST/x", ARN])}
    assert evaluate(single, ARN) is Decision.ALLOW


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {"Statement": [allow("*")]},
        {"Version": "2020-01-01", "Statement": [allow("*")]},
        doc(),
        {"Version": "2012-10-17", "Statement": "Allow"},
        doc({"Effect": "allow", "Action": "execute-api:Invoke", "Resource": "*"}),
        doc({"Effect": "Allow", "Resource": "*"}),
        doc({"Effect": "Allow", "Action": "execute-api:Invoke"}),
        doc(allow([])),
        doc(allow(["*", 3])),
        doc(allow("*", Condition={"Bogus": {"a": "b"}})),
        doc(allow("*", Condition=["not", "an", "object"])),
        doc("not a statement"),
    ],
)
def test_malformed_policies_are_authorizer_errors(document: object) -> None:
    with pytest.raises(PolicyError):
        Policy.parse(document)


def test_conditions_on_source_ip_strings_and_numbers() -> None:
    ip = doc(allow("*", Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.1/32"]}}))
    assert evaluate(ip, ARN, {"aws:SourceIp": "127.0.0.1"}) is Decision.ALLOW
    assert evaluate(ip, ARN, {"aws:SourceIp": "192.168.1.1"}) is Decision.IMPLICIT_DENY
    assert evaluate(ip, ARN, {"aws:SourceIp": "not an ip"}) is Decision.IMPLICIT_DENY
    assert evaluate(ip, ARN, {}) is Decision.IMPLICIT_DENY  # a missing key never matches
    until = doc(allow("*", Condition={"NumericLessThan": {"aws:EpochTime": 1000}}))
    assert evaluate(until, ARN, {"aws:EpochTime": 999}) is Decision.ALLOW
    assert evaluate(until, ARN, {"aws:EpochTime": 1000}) is Decision.IMPLICIT_DENY
    like = doc(deny("*", Condition={"StringLike": {"aws:UserAgent": "curl/*"}}), allow("*"))
    assert evaluate(like, ARN, {"aws:UserAgent": "curl/8.0"}) is Decision.EXPLICIT_DENY
    assert evaluate(like, ARN, {"aws:UserAgent": "python-requests"}) is Decision.ALLOW


# The builder ------------------------------------------------------------------------------------


def test_builder_groups_statements_and_takes_the_api_from_the_method_arn() -> None:
    policy = AuthPolicy.for_arn("alice", ARN)
    policy.allow("GET", "/api/profile").allow("POST", "/api/predict").deny("*", "/api/admin/*")
    response = policy.build(context={"role": "reader", "admin": False, "level": 1})
    assert response["principalId"] == "alice"
    statements = response["policyDocument"]["Statement"]
    assert statements == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": [f"{BASE}/GET/api/profile", f"{BASE}/POST/api/predict"],
        },
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [f"{BASE}/*/api/admin/*"]},
    ]
    assert response["context"] == {"role": "reader", "admin": False, "level": 1}
    checked = check_response(response)
    assert checked.policy.evaluate(ARN) is Decision.ALLOW
    assert checked.policy.evaluate(f"{BASE}/DELETE/api/admin/users") is Decision.EXPLICIT_DENY


def test_builder_conditions_get_their_own_statement() -> None:
    condition = {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}
    response = AuthPolicy("bob").allow_all().allow("GET", "/x", condition).build()
    statements = response["policyDocument"]["Statement"]
    assert len(statements) == 2
    assert statements[1]["Condition"] == condition
    assert statements[0]["Resource"] == ["arn:aws:execute-api:*:*:*/*/*/*"]


def test_builder_deny_all_and_usage_key() -> None:
    response = AuthPolicy.for_arn("mallory", ARN).deny_all().build(usage_identifier_key="k")
    assert response["usageIdentifierKey"] == "k"
    assert evaluate(response["policyDocument"], ARN) is Decision.EXPLICIT_DENY


@pytest.mark.parametrize(
    ("verb", "resource"), [("FETCH", "/x"), ("get", "/x"), ("GET", "/a b"), ("GET", "/<x>")]
)
def test_builder_refuses_bad_verbs_and_paths(verb: str, resource: str) -> None:
    with pytest.raises(PolicyError):
        AuthPolicy("alice").allow(verb, resource)


def test_builder_refuses_an_empty_policy_and_an_empty_principal() -> None:
    with pytest.raises(PolicyError, match="no statements"):
        AuthPolicy("alice").build()
    with pytest.raises(PolicyError):
        AuthPolicy("")


# Context values and responses -------------------------------------------------------------------


def test_context_values_are_strings_numbers_booleans_or_null() -> None:
    assert check_context({"a": "x", "b": 1, "c": 2.5, "d": True, "e": None}) == {
        "a": "x",
        "b": 1,
        "c": 2.5,
        "d": True,
        "e": None,
    }
    assert check_context(None) == {}


def test_a_rest_backend_sees_every_context_value_as_a_string_and_null_as_null() -> None:
    context = check_context({"s": "x", "n": 123, "f": 2.5, "t": True, "no": False, "z": None})
    assert stringify_context(context) == {
        "s": "x",
        "n": "123",
        "f": "2.5",
        "t": "true",
        "no": "false",
        "z": None,
    }


@pytest.mark.parametrize("value", [{"nested": 1}, ["a", "b"], b"bytes", float("nan"), {1, 2}])
def test_objects_and_arrays_in_context_are_authorizer_errors(value: object) -> None:
    with pytest.raises(PolicyError):
        check_context({"roles": value})
    with pytest.raises(PolicyError):
        AuthPolicy("alice").allow_all().build(context={"roles": value})


@pytest.mark.parametrize(
    "response",
    [
        None,
        "Allow",
        {"policyDocument": doc(allow("*"))},
        {"principalId": "", "policyDocument": doc(allow("*"))},
        {"principalId": 7, "policyDocument": doc(allow("*"))},
        {"principalId": "u"},
        {"principalId": "u", "policyDocument": doc(allow("*")), "context": ["x"]},
        {"principalId": "u", "policyDocument": doc(allow("*")), "usageIdentifierKey": 1},
    ],
)
def test_malformed_authorizer_responses_are_refused(response: object) -> None:
    with pytest.raises(PolicyError):
        check_response(response)


def test_http_api_context_keeps_arrays_maps_and_json_types() -> None:
    context = {"s": "v", "n": 1, "b": True, "z": None, "a": ["x", "y"], "m": {"k": [1, {"d": 2}]}}
    checked = check_json_context(context)
    assert checked == context
    assert checked["m"] is not context["m"]  # a copy, as it crossed the wire as JSON
    response = {"principalId": "u", "policyDocument": doc(allow("*")), "context": context}
    assert check_response(response, json_context=True).context == context
    with pytest.raises(PolicyError, match="array"):
        check_response(response)  # the REST rule still refuses the same answer
    assert check_json_context({"t": ("a", "b")}) == {"t": ["a", "b"]}  # JSON has no tuples


@pytest.mark.parametrize(
    "context", [["x"], "x", {1: "a"}, {"s": {1, 2}}, {"f": float("inf")}, {"o": object()}]
)
def test_http_api_context_must_be_a_json_object(context: object) -> None:
    with pytest.raises(PolicyError):
        check_json_context(context)
