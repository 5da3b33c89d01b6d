"""The local gateway against AWS's documented behaviour (issue 13), over real HTTP on loopback.

Each test names the page (or public report from a real API Gateway) that states what it
asserts. The gateways here are built from ``labkit.aws.gateway.Gateway`` with small Lambda
functions written for the test, served by ``labkit.aws.server.listen`` on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import string
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.aws import FrozenClock
from labkit.aws.gateway import EXPLICIT_DENY, IMPLICIT_DENY, Gateway, Route
from labkit.aws.policy import AuthPolicy
from labkit.aws.server import create_lab, listen
from labkit.errors import ConfigurationError

NOW = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)
UNAUTHORIZED = '{"message":"Unauthorized"}'
HTTP_INTERNAL = '{"message":"Internal Server Error"}'
REST_INTERNAL = '{"message":"Internal server error"}'

# The pages cited below, by short name.
REST_OUTPUT = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html"
REST_CONTEXT_2024 = "https://github.com/DefinitelyTyped/DefinitelyTyped/pull/69823"
HTTP_AUTHORIZER = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html"
)
HTTP_INTEGRATION = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html"
HTTP_TROUBLESHOOT = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html"
LAMBDA_ERRORS = "https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html"
REST_CONSOLE = "https://github.com/awsdocs/amazon-api-gateway-developer-guide/blob/main/doc_source/configure-api-gateway-lambda-authorization-with-console.md"
REST_AUTHORIZER_API = "https://docs.aws.amazon.com/apigateway/latest/api/API_Authorizer.html"


@contextlib.contextmanager
def served(gateway: Gateway) -> Iterator[str]:
    """Serve ``gateway`` (or any WSGI app) on 127.0.0.1 for the block; its base URL."""
    server = listen(gateway)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def echo(event: dict, context: object) -> dict:
    """A backend that answers with what API Gateway handed it."""
    seen = {"authorizer": event["requestContext"].get("authorizer"), "event": event}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(seen),
    }


def allow_with(context: dict[str, Any] | None, calls: list[dict] | None = None) -> Any:
    """A REST (or HTTP IAM-policy) authorizer that allows everything and returns ``context``."""

    def authorizer(event: dict, _: object) -> dict:
        if calls is not None:
            calls.append(event)
        arn = event.get("methodArn") or event["routeArn"]
        response = AuthPolicy.for_arn("user-1", arn).allow_all().build()
        if context is not None:
            response["context"] = context
        return response

    return authorizer


def gateway(handler: Any = echo, **options: Any) -> Gateway:
    options.setdefault("clock", FrozenClock(NOW))
    routes = [
        Route("GET", "/a", handler),
        Route("GET", "/b", handler),
        Route("POST", "/a", handler),
    ]
    return Gateway(routes, **options)


# 1. The explicit-deny and implicit-deny bodies -------------------------------------------------


def test_deny_bodies_are_todays_wording_byte_for_byte() -> None:
    """Explicit deny: what real REST APIs send since at least 2024 (issue 13); implicit: as before.

    Both are the ACCESS_DENIED gateway response (403, AccessDeniedException):
    https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
    """

    def authorizer(event: dict, _: object) -> dict:
        return (
            AuthPolicy.for_arn("u", event["methodArn"]).allow("GET", "/a").deny("GET", "/b").build()
        )

    with served(gateway(kind="rest", authorizer=authorizer, cache_ttl=0)) as url:
        explicit = requests.get(f"{url}/b", headers={"Authorization": "t"}, timeout=10)
        implicit = requests.post(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert explicit.status_code == implicit.status_code == 403
    assert explicit.text == (
        '{"Message":"User is not authorized to access this resource with an explicit deny in an'
        ' identity-based policy"}'
    )
    assert implicit.text == '{"Message":"User is not authorized to access this resource"}'
    assert (explicit.json(), implicit.json()) == (EXPLICIT_DENY, IMPLICIT_DENY)
    assert explicit.headers["x-amzn-ErrorType"] == "AccessDeniedException"


# 2. REST context: stringified, null kept -------------------------------------------------------


@pytest.mark.parametrize("authorizer_type", ["TOKEN", "REQUEST"])
def test_rest_context_reaches_the_backend_stringified_and_null_stays_null(
    authorizer_type: str,
) -> None:
    """REST_OUTPUT: "The returned values are all stringified"; null: REST_CONTEXT_2024."""
    context = {"s": "x", "n": 123, "f": 2.5, "t": True, "no": False, "z": None}
    options = {"kind": "rest", "authorizer_type": authorizer_type, "cache_ttl": 0}
    with served(gateway(authorizer=allow_with(context), **options)) as url:
        seen = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10).json()
    assert seen["authorizer"] == {
        "principalId": "user-1",
        "s": "x",
        "n": "123",
        "f": "2.5",
        "t": "true",
        "no": "false",
        "z": None,
    }


@pytest.mark.parametrize("value", [["reader"], {"role": "reader"}, {1, 2}])
def test_rest_context_with_an_object_or_array_is_still_500_null(value: object) -> None:
    """REST_OUTPUT: "you cannot set a JSON object or array as a valid value" -> 500."""
    with served(gateway(kind="rest", authorizer=allow_with({"roles": value}), cache_ttl=0)) as url:
        response = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert (response.status_code, response.text) == (500, '{"message":null}')
    assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"


# 3. HTTP API (payload 2.0): context as JSON, and the authorizer event --------------------------

NESTED = {
    "s": "v",
    "n": 1,
    "b": True,
    "z": None,
    "arrayKey": ["value1", "value2"],
    "mapKey": {"value1": "value2"},
}


def test_http_api_simple_response_context_keeps_arrays_and_maps() -> None:
    """HTTP_AUTHORIZER: the simple-response example returns arrayKey and mapKey."""

    def simple(event: dict, _: object) -> dict:
        return {"isAuthorized": True, "context": NESTED}

    with served(gateway(kind="http", authorizer=simple, cache_ttl=0)) as url:
        seen = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10).json()
    assert seen["authorizer"] == {"lambda": NESTED}


def test_http_api_iam_response_context_keeps_arrays_and_maps() -> None:
    """HTTP_AUTHORIZER: the IAM-policy example for 2.0 returns arrayKey and mapKey too."""
    with served(gateway(kind="http", authorizer=allow_with(NESTED), cache_ttl=0)) as url:
        seen = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10).json()
    assert seen["authorizer"] == {"lambda": {"principalId": "user-1", **NESTED}}


@pytest.mark.parametrize("context", [{"s": {1, 2}}, {"f": float("nan")}, ["not", "an", "object"]])
def test_http_api_context_that_is_not_a_json_object_is_500(context: object) -> None:
    """HTTP_AUTHORIZER (troubleshooting): an invalid authorizer response is a 500."""

    def simple(event: dict, _: object) -> dict:
        return {"isAuthorized": True, "context": context}

    with served(gateway(kind="http", authorizer=simple, cache_ttl=0)) as url:
        response = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert (response.status_code, response.text) == (500, HTTP_INTERNAL)


def test_http_api_authorizer_event_is_the_documented_2_0_event() -> None:
    """HTTP_AUTHORIZER, "Payload format version" 2.0: no body and no isBase64Encoded."""
    calls: list[dict] = []
    with served(gateway(kind="http", authorizer=allow_with(None, calls), cache_ttl=0)) as url:
        requests.get(
            f"{url}/a?p=1&p=2",
            headers={"Authorization": "tok", "Cookie": "c1=v1; c2=v2", "X-Dup": "1"},
            data=b"a body the authorizer must not see",
            timeout=10,
        )
    event = calls[-1]
    assert set(event) == {
        "version",
        "type",
        "routeArn",
        "identitySource",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "cookies",
        "headers",
        "queryStringParameters",
        "requestContext",
        "pathParameters",
        "stageVariables",
    }
    assert (event["version"], event["type"], event["routeKey"]) == ("2.0", "REQUEST", "GET /a")
    assert (
        event["routeArn"] == "arn:aws:execute-api:us-east-1:123456789012:labkit0001/$default/GET/a"
    )
    assert event["identitySource"] == ["tok"]
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["queryStringParameters"] == {"p": "1,2"}  # duplicates joined with commas
    assert event["rawQueryString"] == "p=1&p=2"
    context = event["requestContext"]
    assert {
        "accountId",
        "apiId",
        "domainName",
        "domainPrefix",
        "http",
        "requestId",
        "routeKey",
        "stage",
        "time",
        "timeEpoch",
    } <= set(context)
    assert context["time"] == "01/Jan/2026:09:00:00 +0000"
    assert context["timeEpoch"] == int(NOW.timestamp() * 1000)


def test_the_backend_event_still_has_the_body() -> None:
    """HTTP_INTEGRATION: the integration's 2.0 event has body and isBase64Encoded."""
    with served(gateway(kind="http", authorizer=allow_with(None), cache_ttl=0)) as url:
        seen = requests.post(f"{url}/a", headers={"Authorization": "t"}, data=b"hi", timeout=10)
    event = seen.json()["event"]
    assert (event["body"], event["isBase64Encoded"]) == ("hi", False)


# 4. REQUEST authorizers: identity sources, caching and TTL 0 -----------------------------------


def counting(calls: list[dict]) -> Any:
    def authorizer(event: dict, _: object) -> dict:
        calls.append(event)
        raise Exception("Unauthorized")  # the exact exception API Gateway maps to 401

    return authorizer


@pytest.mark.parametrize(
    ("kind", "authorizer_type", "ttl", "called"),
    [
        ("rest", "REQUEST", 0, True),  # REST_CONSOLE: caching off -> no validation, Lambda called
        ("rest", "REQUEST", 300, False),  # REST_AUTHORIZER_API: with caching, 401 without a call
        ("rest", "TOKEN", 0, False),  # the token header is always required
        ("http", "REQUEST", 0, False),  # HTTP_AUTHORIZER: missing sources -> 401, TTL or not
        ("http", "REQUEST", 300, False),
    ],
)
def test_missing_identity_sources_and_the_cache(
    kind: str, authorizer_type: str, ttl: int, called: bool
) -> None:
    calls: list[dict] = []
    options = {"kind": kind, "authorizer_type": authorizer_type, "cache_ttl": ttl}
    g = gateway(authorizer=counting(calls), **options)
    with served(g) as url:
        response = requests.get(f"{url}/a", timeout=10)
    assert (response.status_code, response.text) == (401, UNAUTHORIZED)
    assert (g.authorizer_calls, bool(calls)) == (int(called), called)
    assert g.log[-1].outcome == ("Unauthorized" if called else "missing identity source")


def test_a_rest_request_authorizer_without_identity_sources_needs_ttl_0() -> None:
    """REST_AUTHORIZER_API: identitySource "is required when authorization caching is enabled"."""
    with pytest.raises(ConfigurationError, match="identity source"):
        gateway(kind="rest", authorizer_type="REQUEST", identity_sources=(), authorizer=echo)
    calls: list[dict] = []
    g = gateway(
        kind="rest",
        authorizer_type="REQUEST",
        identity_sources=(),
        cache_ttl=0,
        authorizer=allow_with(None, calls),
    )
    with served(g) as url:
        assert requests.get(f"{url}/a", timeout=10).status_code == 200
    assert len(calls) == 1 and calls[0]["type"] == "REQUEST"


def test_an_http_api_authorizer_with_caching_needs_an_identity_source() -> None:
    """HTTP_AUTHORIZER: "To enable caching, your authorizer must have at least one identity
    source"."""
    with pytest.raises(ConfigurationError, match="identity source"):
        gateway(kind="http", identity_sources=(), authorizer=echo)
    gateway(kind="http", identity_sources=(), authorizer=echo, cache_ttl=0)


# 5. $context.routeKey and other identity sources -----------------------------------------------


def test_route_key_in_the_identity_sources_caches_one_answer_per_route() -> None:
    """HTTP_AUTHORIZER, "Caching authorizer responses": "To cache responses per route, add
    $context.routeKey to your authorizer's identity sources"."""
    clock = FrozenClock(NOW)
    lab = create_lab(mode="http", clock=clock)
    token = lab.idp.issue("alice", "reader", ("profile",))
    headers = {"Authorization": f"Bearer {token}"}

    def cache_of(response: requests.Response) -> tuple[int, str]:
        return response.status_code, response.headers["x-labkit-authorizer-cache"]

    shared = Gateway(lab.gateway.routes, kind="http", authorizer=lab.authorizer, clock=clock)
    with served(shared) as url:
        first = requests.get(f"{url}/api/profile", headers=headers, timeout=10)
        admin = requests.get(f"{url}/api/admin", headers=headers, timeout=10)
    assert cache_of(first) == (200, "miss")
    assert cache_of(admin) == (
        403,
        "hit",
    )  # the gateway let alice through: only the backend said no
    assert admin.json() == {"message": "role admin required"}

    per_route = Gateway(
        lab.gateway.routes,
        kind="http",
        authorizer=lab.authorizer,
        clock=clock,
        identity_sources=("$request.header.Authorization", "$context.routeKey"),
    )
    with served(per_route) as url:
        seen = [
            requests.get(f"{url}{path}", headers=headers, timeout=10)
            for path in ("/api/profile", "/api/admin", "/api/profile", "/api/admin")
        ]
    assert [cache_of(r) for r in seen] == [(200, "miss"), (403, "miss"), (200, "hit"), (403, "hit")]
    assert (
        seen[1].text == '{"message":"Forbidden"}'
    )  # now the authorizer's own verdict for /api/admin
    assert per_route.authorizer_calls == 2
    lab.close()


def test_the_authorizer_sees_the_route_key_in_identity_source() -> None:
    calls: list[dict] = []
    sources = ("$request.header.Authorization", "$context.routeKey", "$request.querystring.v")
    g = gateway(kind="http", authorizer=allow_with(None, calls), identity_sources=sources)
    with served(g) as url:
        assert requests.get(f"{url}/b?v=2", headers={"Authorization": "t"}, timeout=10).ok
        missing = requests.get(f"{url}/b", headers={"Authorization": "t"}, timeout=10)
    assert calls[0]["identitySource"] == ["t", "GET /b", "2"]
    assert (missing.status_code, len(calls)) == (401, 1)  # the query string source is missing


def test_stage_variables_and_rest_context_variables_as_identity_sources() -> None:
    calls: list[dict] = []
    g = gateway(
        kind="rest",
        authorizer_type="REQUEST",
        authorizer=allow_with(None, calls),
        identity_sources=(
            "method.request.header.Authorization",
            "stageVariables.tenant",
            "context.resourcePath",
        ),
        stage_variables={"tenant": "blue"},
    )
    with served(g) as url:
        assert requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10).ok
        assert requests.get(f"{url}/b", headers={"Authorization": "t"}, timeout=10).ok
        again = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert again.headers["x-labkit-authorizer-cache"] == "hit"
    assert len(calls) == 2  # one cached answer per resource path
    assert calls[0]["stageVariables"] == {"tenant": "blue"}
    unset = gateway(
        kind="rest",
        authorizer_type="REQUEST",
        authorizer=allow_with(None),
        identity_sources=("stageVariables.tenant",),
    )
    with served(unset) as url:
        assert requests.get(f"{url}/a", timeout=10).status_code == 401  # no such stage variable


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        ("rest", "context.routeKey"),  # REST APIs have no route keys
        ("http", "$context.resourcePath"),
        ("http", "$context.nope"),
        ("http", "$request.body.x"),
        ("http", "$request.header."),
        ("rest", "method.request.path.id"),
        ("rest", ""),
        ("rest", "Bad Header"),
    ],
)
def test_identity_sources_the_gateway_cannot_read_are_configuration_errors(
    kind: str, source: str
) -> None:
    with pytest.raises(ConfigurationError):
        gateway(kind=kind, authorizer_type="REQUEST", authorizer=echo, identity_sources=(source,))


@given(source=st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_identity_source_string_is_read_or_refused_with_a_configuration_error(
    source: str,
) -> None:
    for kind in ("rest", "http"):
        try:
            g = gateway(
                kind=kind, authorizer_type="REQUEST", authorizer=echo, identity_sources=(source,)
            )
        except ConfigurationError as exc:  # nothing else may escape: no TypeError, no IndexError
            assert "identity source" in exc.message or "header name" in exc.message
        else:
            where, name = g.identity_sources[0]
            assert where in ("header", "querystring", "stageVariables", "context")
            assert name and name in source


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=30,
).map(str.strip)  # requests itself refuses a header value with leading whitespace


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[str, Gateway]]:
    sources = ("$request.header.X-Id", "$request.querystring.q", "$context.routeKey")

    def simple(event: dict, _: object) -> dict:
        return {
            "isAuthorized": event["identitySource"][0] == "ok",
            "context": {"who": event["identitySource"]},
        }

    g = gateway(kind="http", authorizer=simple, identity_sources=sources)
    with served(g) as url:
        yield url, g


@given(header=HEADER_TEXT, query=st.text(string.printable, max_size=30))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_identity_source_values_never_cause_a_5xx(
    fuzzed: tuple[str, Gateway], header: str, query: str
) -> None:
    url, _ = fuzzed
    response = requests.get(
        f"{url}/a", params={"q": query}, headers={"X-Id": header.encode("latin-1")}, timeout=10
    )
    assert response.status_code in (200, 401, 403), response.text
    assert "Traceback" not in response.text


# 6. Integration failures: 502 on REST, 500 on HTTP APIs; payload 2.0's inferred 200 -------------


def raises(event: dict, _: object) -> dict:
    raise RuntimeError("the backend has a bug")


MALFORMED = [
    None,
    "a string",
    {"body": "no status code"},
    {"statusCode": "two hundred"},
    {"statusCode": True},
    {"statusCode": 200, "body": {"an": "object"}},
    {"statusCode": 200, "headers": ["not", "a", "map"]},
    {"statusCode": 200, "headers": {"X": {"nested": 1}}},
    {"statusCode": 200, "isBase64Encoded": True, "body": "not base64!"},
    {"statusCode": 99},
]
# REST only: a field the format does not name (a 2.0 answer may carry cookies, for one).
REST_ONLY_MALFORMED = [{"statusCode": 201, "statusDescription": "Created", "body": ""}]


REST_FAILURES = [raises, *MALFORMED, *REST_ONLY_MALFORMED]


@pytest.mark.parametrize("answer", REST_FAILURES, ids=range(len(REST_FAILURES)))
def test_rest_backend_failures_are_502(answer: Any) -> None:
    """LAMBDA_ERRORS: "If the function runs but returns an error, or returns a response in the
    wrong format, API Gateway returns a 502" with the body {"message": "Internal server error"}."""
    handler = answer if callable(answer) else (lambda event, _: answer)
    with served(gateway(handler, kind="rest", authorizer=allow_with(None), cache_ttl=0)) as url:
        response = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert (response.status_code, response.text) == (502, REST_INTERNAL)


@pytest.mark.parametrize("version", ["1.0", "2.0"])
@pytest.mark.parametrize("answer", [raises, *MALFORMED[3:]], ids=range(len(MALFORMED) - 2))
def test_http_api_backend_failures_are_500(version: str, answer: Any) -> None:
    """HTTP_TROUBLESHOOT: {"message":"Internal Server Error"}; 500, with either payload version."""
    handler = answer if callable(answer) else (lambda event, _: answer)
    options = {"kind": "http", "authorizer": allow_with(None), "cache_ttl": 0}
    with served(gateway(handler, payload_version=version, **options)) as url:
        response = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert (response.status_code, response.text) == (500, HTTP_INTERNAL)


@pytest.mark.parametrize("answer", [None, "a string", {"body": "no status code"}])
def test_http_api_payload_1_0_needs_a_status_code(answer: object) -> None:
    """HTTP_INTEGRATION: format 1.0 must return statusCode; only 2.0 infers the response."""
    options = {"kind": "http", "authorizer": allow_with(None), "cache_ttl": 0}
    with served(gateway(lambda event, _: answer, payload_version="1.0", **options)) as url:
        response = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert (response.status_code, response.text) == (500, HTTP_INTERNAL)


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        ({"message": "Hello from Lambda!"}, '{"message": "Hello from Lambda!"}'),
        ("Hello from Lambda!", "Hello from Lambda!"),
        (["a", 1], '["a", 1]'),
        ({"body": "no status code"}, '{"body": "no status code"}'),
        (None, "null"),
    ],
)
def test_http_api_payload_2_0_infers_a_200_json_response(answer: object, body: str) -> None:
    """HTTP_INTEGRATION: "if your Lambda function returns valid JSON and doesn't return a
    statusCode": statusCode 200, content-type application/json, body the function's response."""
    options = {"kind": "http", "authorizer": allow_with(None), "cache_ttl": 0}
    with served(gateway(lambda event, _: answer, **options)) as url:
        response = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert (response.status_code, response.text) == (200, body)
    assert response.headers["Content-Type"] == "application/json"


def test_http_api_payload_2_0_answer_that_is_not_json_is_500() -> None:
    options = {"kind": "http", "authorizer": allow_with(None), "cache_ttl": 0}
    with served(gateway(lambda event, _: {"x": {1, 2}}, **options)) as url:
        response = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert (response.status_code, response.text) == (500, HTTP_INTERNAL)


def test_proxy_answers_headers_cookies_and_base64_bodies() -> None:
    """The documented response fields: multiValueHeaders (1.0), cookies (2.0), isBase64Encoded."""

    def answer(event: dict, _: object) -> dict:
        return {
            "statusCode": 201,
            "headers": {"X-One": "1", "X-Num": 2},
            "multiValueHeaders": {"X-Many": ["a", "b"]},
            "cookies": ["k=v; Secure", "k2=v2"],
            "isBase64Encoded": True,
            "body": "AAEC",
        }

    def rest_answer(event: dict, context: object) -> dict:
        return {k: v for k, v in answer(event, context).items() if k != "cookies"}

    options = {"authorizer": allow_with(None), "cache_ttl": 0}
    with served(gateway(answer, kind="http", **options)) as url:
        v2 = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    with served(gateway(rest_answer, kind="rest", **options)) as url:
        v1 = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    for response in (v1, v2):
        assert (response.status_code, response.content) == (201, b"\x00\x01\x02")
        assert (response.headers["X-One"], response.headers["X-Num"]) == ("1", "2")
        assert response.headers["X-Many"] == "a, b"
    assert v2.raw.headers.getlist("Set-Cookie") == ["k=v; Secure", "k2=v2"]


def test_http_api_payload_1_0_event() -> None:
    with served(
        gateway(kind="http", authorizer=allow_with(None), cache_ttl=0, payload_version="1.0")
    ) as url:
        event = requests.get(f"{url}/a?x=1", headers={"Authorization": "t"}, timeout=10).json()[
            "event"
        ]
    assert (event["version"], event["httpMethod"], event["queryStringParameters"]) == (
        "1.0",
        "GET",
        {"x": "1"},
    )
    assert event["requestContext"]["authorizer"]["lambda"]["principalId"] == "user-1"


def test_bad_gateway_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="payload_version"):
        gateway(kind="http", authorizer=echo, payload_version="3.0")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="stage_variables"):
        gateway(kind="rest", authorizer=echo, stage_variables={"a": 1})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="list of strings"):
        gateway(kind="rest", authorizer=echo, identity_sources="Authorization")


def test_a_status_code_may_be_a_numeric_string() -> None:
    """LocalStack checked against AWS that {"statusCode": "201"} is allowed:
    https://github.com/localstack/localstack/pull/11199"""
    options = {"authorizer": allow_with(None), "cache_ttl": 0}
    for kind in ("rest", "http"):
        with served(gateway(lambda e, _: {"statusCode": "201"}, kind=kind, **options)) as url:
            response = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
        assert (response.status_code, response.text) == (201, "")


def test_a_rest_answer_without_content_type_is_application_json() -> None:
    """REST's default Content-Type, as LocalStack checked against AWS:
    https://github.com/localstack/localstack/pull/6170 (HTTP APIs: the kit adds none)."""

    def answer(event: dict, _: object) -> dict:
        return {"statusCode": 200, "body": "{}"}

    options = {"authorizer": allow_with(None), "cache_ttl": 0}
    with served(gateway(answer, kind="rest", **options)) as url:
        rest = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    with served(gateway(answer, kind="http", **options)) as url:
        http = requests.get(f"{url}/a", headers={"Authorization": "t"}, timeout=10)
    assert rest.headers["Content-Type"] == "application/json"
    assert "Content-Type" not in http.headers
