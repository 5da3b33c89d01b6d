"""Red-team regressions for labkit.aws: each test pins an attack that once worked, over real HTTP.

Every test here failed on the code before its fix (the fix is named in the test's docstring);
the last tests pin attacks that were tried and held, so they keep holding.
"""

from __future__ import annotations

import datetime as dt
import http.client
import http.server
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from labkit.aws import FrozenClock, serve
from labkit.aws.gateway import Gateway, Route
from labkit.aws.policy import AuthPolicy

NOW = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)
TENANTS = {"token-bob": "bob-corp", "token-alice": "acme"}


def _tenant_authorizer(calls: list[dict[str, Any]]):
    """A REQUEST authorizer that allows a token for its own tenant only.

    It reads the query's LAST ``tenant`` value, the one AWS puts in ``queryStringParameters``
    ("Supplying ...&type=foo&type=bar... only returns the last value",
    https://github.com/aws/aws-lambda-go/issues/42), from ``multiValueQueryStringParameters``.
    """

    def authorizer(event: dict[str, Any], context: object) -> dict[str, Any]:
        calls.append(event)
        token = event["headers"].get("Authorization")
        tenant = ((event.get("multiValueQueryStringParameters") or {}).get("tenant") or [""])[-1]
        policy = AuthPolicy.for_arn(token or "anonymous", event["methodArn"])
        if TENANTS.get(token) == tenant:
            return policy.allow("*", "/*").build(context={"tenant": tenant})
        return policy.deny_all().build()

    return authorizer


def _send(url: str, path: str, token: str) -> int:
    """GET ``path`` (query string as written, repeated names too) over a real socket."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": token})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


# Finding 1: the authorizer cache keyed on one value of a repeated identity source ----------------


def test_a_repeated_identity_parameter_cannot_plant_an_allow_for_another_tenant() -> None:
    """Fixed in labkit/aws/gateway.py (``Gateway._identity``: the cache key holds every value).

    The key was the FIRST value of each identity source while the authorizer may read any of
    them: bob sent ``?tenant=acme&tenant=bob-corp``, his authorizer allowed bob-corp (the last
    value), and the Allow was cached under (bob's token, acme); his next request for tenant
    acme alone was a cache hit and reached acme's data without asking the authorizer.
    """
    calls: list[dict[str, Any]] = []
    with serve(
        authorizer=_tenant_authorizer(calls),
        authorizer_type="REQUEST",
        identity_sources=(
            "method.request.header.Authorization",
            "method.request.querystring.tenant",
        ),
        clock=FrozenClock(NOW),
    ) as api:
        assert _send(api.url, "/api/profile?tenant=acme&tenant=bob-corp", "token-bob") == 200
        assert _send(api.url, "/api/profile?tenant=acme", "token-bob") == 403
        assert len(calls) == 2  # the second request was put to the authorizer, not the cache
        assert _send(api.url, "/api/profile?tenant=acme", "token-alice") == 200


@settings(max_examples=60, deadline=None)
@given(
    first=st.lists(st.sampled_from(["a", "b", "a,b", "b,a"]), min_size=1, max_size=3),
    second=st.lists(st.sampled_from(["a", "b", "a,b", "b,a"]), min_size=1, max_size=3),
    kind=st.sampled_from(["rest", "http"]),
    where=st.sampled_from(["header", "querystring"]),
)
def test_two_requests_share_a_cached_answer_only_with_the_same_identity_values(
    first: list[str], second: list[str], kind: str, where: str
) -> None:
    """Fixed in labkit/aws/gateway.py: a cache hit means the authorizer would have been shown
    exactly the same identity data (every value, in order, under every view of the event)."""
    calls: list[dict[str, Any]] = []

    def authorizer(event: dict[str, Any], context: object) -> dict[str, Any]:
        calls.append(event)
        return {"isAuthorized": True} if kind == "http" else _allow(event)

    source = "$request." if kind == "http" else "method.request."
    gateway = Gateway(
        [Route("GET", "/a", lambda e, c: {"statusCode": 200, "body": "ok"})],
        kind=kind,  # type: ignore[arg-type]
        authorizer=authorizer,
        authorizer_type="REQUEST",
        identity_sources=(f"{source}{where}.t",),
        clock=FrozenClock(NOW),
    )
    client = Client(gateway)
    for values in (first, second):
        if where == "header":
            client.get("/a", headers=[("t", v) for v in values])
        else:
            client.get("/a", query_string=[("t", v) for v in values])
    assert len(calls) == (1 if first == second else 2)


def _allow(event: dict[str, Any]) -> dict[str, Any]:
    return AuthPolicy.for_arn("u", event["methodArn"]).allow_all().build()
