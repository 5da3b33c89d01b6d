"""Red-team regressions for labkit.aws: each test pins an attack that once worked, over real HTTP.

Every test here failed on the code before its fix (the fix is named in the test's docstring);
the last tests pin attacks that were tried and held, so they keep holding.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_aws_fidelity import served
from werkzeug.test import Client

from labkit import tokens
from labkit.aws import FrozenClock, article_node, serve
from labkit.aws.article import SECRET
from labkit.aws.gateway import Gateway, Route
from labkit.aws.idp import IdentityProvider
from labkit.aws.jwt_authorizer import (
    REFETCH_INTERVAL,
    JwtAuthorizer,
    RestJwtAuthorizer,
    TrustedIssuer,
)
from labkit.aws.policy import AuthPolicy
from labkit.errors import ConfigurationError

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


# Finding 2: a broken or slow issuer turned every request into a fetch -----------------------------


class _Issuer:
    """A loopback issuer whose discovery document and JWKS answer as a test says; counts GETs."""

    def __init__(self, idp: IdentityProvider) -> None:
        self.idp, self.hits = idp, 0
        self.jwks: Any = None  # None: serve the IdP's keys; bytes: serve those
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                issuer.hits += 1
                if self.path.endswith("openid-configuration"):
                    config = issuer.idp.openid_configuration()
                    body = json.dumps({**config, "jwks_uri": f"{issuer.url}/jwks"}).encode()
                else:
                    keys = issuer.jwks
                    body = json.dumps(issuer.idp.jwks()).encode() if keys is None else keys
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issuer() -> Iterator[_Issuer]:
    served = _Issuer(IdentityProvider(clock=FrozenClock(NOW)))
    yield served
    served.close()


def _rest_gateway(issuer: _Issuer, clock: FrozenClock) -> Client:
    authorizer = RestJwtAuthorizer(
        (TrustedIssuer(issuer.idp.issuer, (issuer.idp.audience,), discovery=issuer.url),)
    )
    backend = Route("GET", "/a", lambda e, c: {"statusCode": 200, "body": "ok"})
    return Client(Gateway([backend], kind="rest-jwt", jwt=authorizer, clock=clock))


def test_a_broken_jwks_is_fetched_at_most_once_a_minute_however_many_requests(
    issuer: _Issuer,
) -> None:
    """Fixed in labkit/aws/jwt_authorizer.py (``KeySetCache``: a failed fetch is remembered
    for ``REFETCH_INTERVAL``). Each request re-fetched a JWKS that had failed, so a flood of
    requests became a flood of fetches against a broken or slow issuer (each holding the key
    lock for up to the 5 s timeout)."""
    clock = FrozenClock(NOW)
    client = _rest_gateway(issuer, clock)
    issuer.jwks = b'{"keys": "not a list"}'
    token = issuer.idp.issue("alice", "reader", ("profile",))
    for _ in range(20):
        answer = client.get("/a", headers={"Authorization": token})
        assert (answer.status_code, answer.get_json()) == (500, {"message": None})
    assert issuer.hits == 2  # the discovery document once, the broken JWKS once
    issuer.jwks = None  # the issuer is fixed: within a minute the gateway asks again
    clock.advance(REFETCH_INTERVAL)
    assert client.get("/a", headers={"Authorization": token}).status_code == 200
    assert issuer.hits == 3


def test_made_up_kids_while_the_issuer_is_down_are_401_not_500(issuer: _Issuer) -> None:
    """Fixed in labkit/aws/jwt_authorizer.py: an unknown ``kid`` refetches a still-fresh key
    set; when that refetch failed, the attacker's made-up kid got the issuer's 500 (and every
    later made-up kid a fresh fetch). Now it is what it is, a kid no key matches (401)."""
    clock = FrozenClock(NOW)
    client = _rest_gateway(issuer, clock)
    token = issuer.idp.issue("alice", "reader", ("profile",))
    assert client.get("/a", headers={"Authorization": token}).status_code == 200
    clock.advance(REFETCH_INTERVAL)
    issuer.jwks = b"<html>down</html>"
    _, payload, signature = token.split(".")
    for n in range(10):
        made_up = tokens.b64url_encode(json.dumps({"alg": "RS256", "kid": f"kid-{n}"}))
        answer = client.get("/a", headers={"Authorization": f"{made_up}.{payload}.{signature}"})
        assert (answer.status_code, answer.get_json()) == (401, {"message": "Unauthorized"})
    assert client.get("/a", headers={"Authorization": token}).status_code == 200  # still cached
    assert issuer.hits == 3  # discovery, the first JWKS, one failed refetch


def test_an_oversized_jwks_is_refused_with_a_line_that_says_so(issuer: _Issuer) -> None:
    """Fixed in labkit/aws/jwt_authorizer.py (``fetch_json``): a key set over 64 KiB was
    reported as "answered 200 for the JWKS", a line that hides what went wrong."""
    clock = FrozenClock(NOW)
    client = _rest_gateway(issuer, clock)
    issuer.jwks = b'{"keys": [' + b" " * (100 * 1024) + b"]}"
    token = issuer.idp.issue("alice", "reader", ("profile",))
    answer = client.get("/a", headers={"Authorization": token})
    assert (answer.status_code, answer.get_json()) == (500, {"message": None})
    reason = client.application.log[-1].reason
    assert reason == f"the JWKS at {issuer.url}/jwks is larger than 64 KiB", reason


# Finding 3: an HTTP API JWT authorizer whose keys cannot be had escaped as a gateway bug ----------


def test_http_jwt_authorizer_without_its_keys_is_the_http_apis_500_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fixed in labkit/aws/jwt_authorizer.py (``JwtAuthorizer.check``): a key set that could
    not be fetched raised out of the authorizer, so the gateway logged a traceback and sent
    its own-bug body ``{"message":"Internal server error"}``; now it is the authorizer's
    error: the HTTP API's 500 ``{"message":"Internal Server Error"}`` and one log line."""

    def issuer_down() -> dict[str, Any]:
        raise ConfigurationError("the issuer's JWKS could not be fetched")

    jwt = JwtAuthorizer("https://issuer.example", ("api",), issuer_down)
    backend = Route("GET", "/a", lambda e, c: {"statusCode": 200, "body": "ok"})
    with served(Gateway([backend], kind="jwt", jwt=jwt, clock=FrozenClock(NOW))) as url:
        head = tokens.b64url_encode(json.dumps({"alg": "RS256", "kid": "k"}))
        answer = requests.get(f"{url}/a", headers={"Authorization": f"{head}.e30.AAAA"}, timeout=10)
    assert (answer.status_code, answer.json()) == (500, {"message": "Internal Server Error"})
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the gateway's log"
    assert jwt.keys.fetches == 1


# Finding 4: a proxy response's header names and values went to the wire unchecked ---------------


def _echo(event: dict[str, Any], context: object) -> dict[str, Any]:
    """A backend that echoes the client's query into its answer's headers (a redirect, a
    filename, a request id: ``n``/``v`` become a header, ``c`` a 2.0 cookie)."""
    query = event.get("queryStringParameters") or {}
    answer: dict[str, Any] = {"statusCode": 200, "headers": {query.get("n", "X-Echo"): query["v"]}}
    if "c" in query:
        answer["cookies"] = [query["c"]]
    return answer


@pytest.fixture(scope="module")
def echo_urls() -> Iterator[dict[str, str]]:
    with served(_echo_gateway("rest")) as rest, served(_echo_gateway("http")) as http:
        yield {"rest": rest, "http": http}


def _echo_gateway(kind: str) -> Gateway:
    route = Route("GET", "/echo", _echo, authorize=False)
    return Gateway([route], kind=kind, authorizer=lambda e, c: None, cache_ttl=0)  # type: ignore[arg-type]


def _raw_get(url: str, target: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["rest", "http"]),
    field=st.sampled_from(["n", "v", "c"]),
    text=st.one_of(
        st.sampled_from(["X\r\nInjected: yes", "X: y", "a b", "", "\x00", "€", "\u2028", "é"]),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    ),
)
def test_a_backend_echoing_client_text_into_headers_never_splits_or_drops_the_response(
    echo_urls: dict[str, str], kind: str, field: str, text: str
) -> None:
    """Fixed in labkit/aws/gateway.py (``_mapping``, ``_header_value``, cookies): a header
    name or value (or a 2.0 cookie) with CR/LF wrote the attacker's header into the response,
    and one beyond Latin-1 dropped the connection with a traceback. Now such an answer is
    malformed: REST's 502, the HTTP API's 500 (the kit's choice, AWS documents no case)."""
    params = {"v": "ok", field: text}
    if field == "c" and kind == "rest":
        params = {"v": text}
    target = "/echo?" + urllib.parse.urlencode(params)
    raw = _raw_get(echo_urls[kind], target)
    assert raw.startswith(b"HTTP/1.1 "), raw  # an answer, not a dropped connection
    head, _, _ = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert status == 200 or (status, kind) in ((502, "rest"), (500, "http")), raw
    names = [line.split(b":")[0].lower() for line in head.split(b"\r\n")[1:]]
    assert b"injected" not in names
    assert all(re.fullmatch(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name) for name in names), names


# Held: the jsonwebtoken port against the real jsonwebtoken, on generated tokens ---------------

_HS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
_ODD = st.sampled_from(
    [None, "HS256", "hs256", "HS256 ", "none", "RS256", 0, 1, [], {}, True, "JWT", 1e308]
)
_TIMES = st.sampled_from([-(10**6), 10**6, -100.5, 100.5, "1", None, [], True, 10**20])
_RAW_HEADERS = [
    b'{"alg":"HS256","alg":"none"}',
    b'{"alg":"none","alg":"HS256"}',
    b'{"alg":"\\u0048S256"}',
    b'\t{"alg":"HS256"}\r\n',
    b'\xef\xbb\xbf{"alg":"HS256"}',
    b'{"alg":"HS256","x":NaN}',
    b'{"alg":"HS256","x":1' + b"0" * 400 + b"}",
    b'{"alg":"HS256","\xe9":"\xff"}',
    b'"{\\"alg\\":\\"HS256\\"}"',
    b"0",
    b"-0",
    b"1e400",
    b'""',
    b"[]",
    b"null",
]
_RAW_PAYLOADS = [
    b"null",
    b"5",
    b'"{\\"exp\\":1}"',
    b"[]",
    b"not json",
    b"\xff\xfe",
    b'{"exp":1,"exp":99999999999}',
    b'{"exp":99999999999,"exp":1}',
    b'{"nbf":1e999}',
    b'{"exp":-1e999}',
    b'{"x":"\xe2\x82","exp":1}',
    b'{"x":"\xed\xa0\x80","exp":1}',
    b"",
]


@st.composite
def _article_token(draw: Any, now: int) -> str:
    """A token for the article's authorizer: header, payload, encoding, signature, wrapping."""
    alg = draw(st.sampled_from(sorted(_HS)))
    header = draw(
        st.one_of(
            st.builds(
                lambda typ, extra: json.dumps({"alg": alg, **typ, **extra}).encode(),
                st.sampled_from([{}, {"typ": "JWT"}, {"typ": "jwt"}, {"typ": 1}]),
                st.dictionaries(st.sampled_from(["kid", "crit", "b64", "jwk"]), _ODD, max_size=1),
            ),
            st.dictionaries(st.sampled_from(["alg", "typ", "__proto__"]), _ODD).map(
                lambda d: json.dumps(d).encode()
            ),
            st.sampled_from(_RAW_HEADERS),
            st.binary(max_size=8),
        )
    )
    claims = st.dictionaries(
        st.sampled_from(["exp", "nbf", "iat", "sub"]),
        _TIMES.map(lambda t: now + t if isinstance(t, (int, float)) and t is not True else t),
        max_size=3,
    )
    payload = draw(
        st.one_of(
            claims.map(lambda c: json.dumps(c).encode()),
            st.sampled_from(_RAW_PAYLOADS),
            st.text(max_size=6).map(lambda t: t.encode("utf-8", "surrogatepass")),
        )
    )

    def encode(data: bytes) -> str:
        text = tokens.b64url_encode(data)
        form = draw(st.sampled_from(["plain", "plain", "padded", "lone", "standard"]))
        if form == "padded":
            return text + "=" * (-len(text) % 4)
        if form == "lone":
            return text + "A"
        return text.replace("-", "+").replace("_", "/") if form == "standard" else text

    signing_input = f"{encode(header)}.{encode(payload)}"
    how = draw(st.sampled_from(["header's alg"] * 4 + [*sorted(_HS), "none", "wrong", "padded"]))
    named = alg if how == "header's alg" else how
    secret = b"wrong" if how == "wrong" else SECRET.encode()
    mac = hmac.new(secret, signing_input.encode(), _HS.get(named, hashlib.sha256)).digest()
    signature = "" if how == "none" else tokens.b64url_encode(mac)
    if how == "padded":
        signature += "=" * (-len(signature) % 4)
    wrap = draw(st.sampled_from(["{}"] * 6 + ["Bearer {}", "{}\n", " {}", "{}."]))
    return wrap.format(f"{signing_input}.{signature}")


def test_the_jsonwebtoken_port_answers_as_node_on_generated_tokens() -> None:
    """Held: 6,000 generated tokens during the red-team pass gave the same Allow/Deny and the
    same jsonwebtoken reason from the article's index.js under Node and from the port; this
    keeps 600 of them (four batches, one node run each) in every run."""
    missing = _node_missing()
    if missing is not None:
        if os.environ.get("LABKIT_REQUIRE_NODE"):
            pytest.fail(f"LABKIT_REQUIRE_NODE is set, but {missing}")
        pytest.skip(missing)
    now = int(time.time())

    @settings(max_examples=4, deadline=None, database=None)
    @given(batch=st.lists(_article_token(now), min_size=150, max_size=150))
    def agree(batch: list[str]) -> None:
        cases = [article_node.Case(f"t{n}", token, "generated") for n, token in enumerate(batch)]
        differ = [row for row in article_node.parity(cases) if not row.same]
        assert not differ, [(r.case.token, r.node.error, r.python.error) for r in differ[:3]]

    agree()


def _node_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH (Debian: apt-get install nodejs npm)"
    if not (article_node.NODE_DIR / "node_modules" / "jsonwebtoken" / "package.json").is_file():
        return f"jsonwebtoken is not installed in {article_node.NODE_DIR}: run `make node-deps`"
    return None


# Finding 5: the jsonwebtoken port and Node parted ways on JSON nested ~1000 deep ---------------


def _deep_cases(depth: int) -> list[article_node.Case]:
    """Tokens signed with the article's secret whose header or payload nests ``depth`` arrays."""
    nest = b"[" * depth + b"]" * depth

    def signed(header: bytes, payload: bytes) -> str:
        signing_input = f"{tokens.b64url_encode(header)}.{tokens.b64url_encode(payload)}"
        mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{tokens.b64url_encode(mac)}"

    return [
        article_node.Case("deep header", signed(b'{"alg":"HS256","x":' + nest + b"}", b"{}"), ""),
        article_node.Case(
            "deep payload, expired", signed(b'{"alg":"HS256"}', b'{"exp":1,"x":' + nest + b"}"), ""
        ),
        article_node.Case(
            "deep typ JWT payload",
            signed(b'{"alg":"HS256","typ":"JWT"}', b'{"x":' + nest + b"}"),
            "",
        ),
    ]


@pytest.mark.parametrize("depth", [2000, 3000])  # both fit API Gateway's 10 KB of headers
def test_the_port_parses_json_to_any_depth_as_v8_does(depth: int) -> None:
    """Fixed in labkit/aws/jsonwebtoken.py (``_json``: an iterative ``JSON.parse``). Past
    Python's recursion limit the port refused a header Node accepts and, worse, ALLOWED an
    expired token: its payload stayed an unparsed string, so ``exp`` went unchecked. The
    verdicts below are the real jsonwebtoken's (``test_..._deep_json_matches_node``)."""
    header, expired, typed = (
        article_node.run_python([case.event])[0] for case in _deep_cases(depth)
    )
    assert (header.effect, header.error) == ("Allow", None)
    assert (expired.effect, expired.error) == ("Deny", "TokenExpiredError: jwt expired")
    assert (typed.effect, typed.error) == ("Allow", None)


def test_deep_json_matches_node() -> None:
    """The verdicts the test above expects are the Node original's, at several depths."""
    missing = _node_missing()
    if missing is not None:
        if os.environ.get("LABKIT_REQUIRE_NODE"):
            pytest.fail(f"LABKIT_REQUIRE_NODE is set, but {missing}")
        pytest.skip(missing)
    cases = [case for depth in (999, 1000, 1100, 3000) for case in _deep_cases(depth)]
    differ = [row.case.name for row in article_node.parity(cases) if not row.same]
    assert not differ


def test_a_fetch_answering_no_object_is_the_authorizers_500() -> None:
    """Fixed in labkit/aws/jwt_authorizer.py (``RestJwtAuthorizer._document``): a ``fetch``
    that answered a list raised AttributeError out of the authorizer (the gateway's own-bug
    500 and a traceback); now it is the configuration error REST sends, ``{"message":null}``."""
    idp = IdentityProvider(clock=FrozenClock(NOW))
    authorizer = RestJwtAuthorizer(
        (TrustedIssuer(idp.issuer, (idp.audience,)),), fetch=lambda url: ["not", "an", "object"]
    )
    verdict = authorizer.check(idp.issue("alice", "reader", ()), (), FrozenClock(NOW))
    assert (verdict.status, verdict.body, verdict.error_type) == (
        500,
        {"message": None},
        "AuthorizerConfigurationException",
    )
    assert "is not a JSON object" in verdict.reason


# Held: no forgery passes either JWT authorizer, and nothing a client sends is a 5xx ---------------


@pytest.fixture(scope="module")
def jwt_apis() -> Iterator[dict[str, Any]]:
    clock = FrozenClock(NOW)
    with serve(mode="jwt", clock=clock) as http_api, serve(mode="rest-jwt", clock=clock) as rest:
        yield {"jwt": http_api, "rest-jwt": rest}


_ALGS = ["RS256", "rs256", "RS256 ", "PS256", "ES256", "HS256", "HS512", "none", "None", "EdDSA"]
_KIDS = st.one_of(
    st.just("IDP"), st.sampled_from([None, 1, ["IDP"], {"kid": "IDP"}, "", "attacker"])
)
_EXTRAS = st.dictionaries(
    st.sampled_from(["jwk", "jku", "x5u", "x5c", "crit", "b64", "typ", "cty"]),
    st.sampled_from(["JWT", False, ["b64"], ["exp"], "http://127.0.0.1:9/k", ["AAAA"], {}]),
    max_size=2,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mode=st.sampled_from(["jwt", "rest-jwt"]),
    alg=st.sampled_from(_ALGS),
    kid=_KIDS,
    extra=_EXTRAS,
    signer=st.sampled_from(["attacker key", "public key as HMAC secret", "JWKS as secret", "none"]),
    claims=st.fixed_dictionaries(
        {},
        optional={
            "aud": st.sampled_from(["AUD", ["AUD", "x"], {"a": "AUD"}, 1]),
            "exp": st.sampled_from([10**10, "9999999999", 1e308, None, True]),
            "iat": st.sampled_from([0, "0", -1.5]),
            "scope": st.sampled_from(["profile predict", ["profile"], {"scope": 1}]),
        },
    ),
)
def test_no_forged_token_is_accepted_and_none_is_a_5xx(
    jwt_apis: dict[str, Any],
    mode: str,
    alg: str,
    kid: Any,
    extra: dict[str, Any],
    signer: str,
    claims: dict[str, Any],
) -> None:
    """Held: tokens a forger can make (their own key, the issuer's public key or JWKS as an
    HMAC secret, no signature), with every header and claim oddity, get 401 or 403 from both
    JWT authorizers over HTTP, never 200 and never 5xx."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import padding

    from labkit import keys

    api = jwt_apis[mode]
    idp = api.idp
    kid = idp.kid if kid == "IDP" else [idp.kid] if kid == ["IDP"] else kid
    header = {"alg": alg, **({} if kid is None else {"kid": kid}), **extra}
    body = {"iss": idp.issuer, "aud": idp.audience, "sub": "mallory", "role": "admin"}
    body |= {"exp": int(api.clock()) + 600, "scope": "profile predict"}
    body |= {k: idp.audience if v == "AUD" else v for k, v in claims.items()}
    signing_input = (
        f"{tokens.b64url_encode(json.dumps(header))}.{tokens.b64url_encode(json.dumps(body))}"
    )
    data = signing_input.encode()
    if signer == "attacker key":
        signature = keys.demo_private_key("rsa-2").sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif signer == "none":
        signature = b""
    else:
        public = idp.public_key().public_bytes(
            ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo
        )
        secret = public if signer.startswith("public") else json.dumps(idp.jwks()).encode()
        signature = hmac.new(secret, data, hashlib.sha256).digest()
    token = f"{signing_input}.{tokens.b64url_encode(signature)}"
    for value in (token, f"Bearer {token}"):
        answer = requests.get(
            f"{api.url}/api/profile", headers={"Authorization": value}, timeout=10
        )
        assert answer.status_code in (401, 403), (header, body, signer, answer.status_code)


def test_an_http_jwt_authorizer_without_an_issuer_is_a_configuration_error() -> None:
    """Fixed in labkit/aws/jwt_authorizer.py (``JwtAuthorizer.__post_init__``): an issuer left
    unset (``None``, as a missing environment setting reads) matched every token that has no
    ``iss`` claim, so the issuer check silently vanished."""
    idp = IdentityProvider(clock=FrozenClock(NOW))
    for unset in (None, ""):
        with pytest.raises(ConfigurationError, match="issuer"):
            JwtAuthorizer(unset, (idp.audience,), idp.jwks)  # type: ignore[arg-type]


def test_an_audience_given_as_one_string_is_refused_not_searched_by_substring() -> None:
    """Fixed in labkit/aws/jwt_authorizer.py (``_audiences``): ``audience="billing-api"``
    stayed a string and ``aud in audiences`` matched by substring, so the issuer's tokens for
    ``bill`` or ``api`` passed an API configured for ``billing-api``, in both authorizers."""
    idp = IdentityProvider(clock=FrozenClock(NOW))
    with pytest.raises(ConfigurationError, match="substring"):
        JwtAuthorizer(idp.issuer, "billing-api", idp.jwks)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="substring"):
        TrustedIssuer(idp.issuer, "billing-api")  # type: ignore[arg-type]
    listed = JwtAuthorizer(idp.issuer, ["billing-api"], idp.jwks)  # type: ignore[arg-type]
    clock = FrozenClock(NOW)
    assert listed.check(idp.issue("m", "reader", (), aud="bill"), (), clock).status == 401
    assert listed.check(idp.issue("m", "reader", (), aud="billing-api"), (), clock).ok
    with pytest.raises(ConfigurationError, match="list of TrustedIssuer"):
        RestJwtAuthorizer(TrustedIssuer(idp.issuer, ("api",)))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="required_claims"):
        RestJwtAuthorizer((TrustedIssuer(idp.issuer, ("api",)),), required_claims=None)  # type: ignore[arg-type]


def test_a_routes_scopes_given_as_one_string_are_refused_not_read_as_letters() -> None:
    """Fixed in labkit/aws/gateway.py (``Route.__post_init__``): ``scopes="predict"`` was read
    as the letters p, r, e, d, i, c, t, so a token whose only scope was ``e`` passed a route
    that requires ``predict``."""
    with pytest.raises(ConfigurationError, match="read as its characters"):
        Route("POST", "/api/predict", _echo, scopes="predict")  # type: ignore[arg-type]
    assert Route("POST", "/api/predict", _echo, scopes=["predict"]).scopes == ("predict",)


@pytest.mark.parametrize("mode", ["jwt", "rest-jwt"])
@pytest.mark.parametrize("claim", ['"exp":1e999', '"exp":1E400,"nbf":-1e999', '"iat":-1e999'])
def test_a_time_claim_of_infinity_is_refused(
    jwt_apis: dict[str, Any], mode: str, claim: str
) -> None:
    """Fixed in labkit/aws/jwt_authorizer.py (``_check_times``), then at the one JSON boundary
    (``labkit.tokens.load_json``): ``1e999`` is valid JSON for infinity, and a signed ``exp`` of
    it never expired (the backend saw ``"Infinity"``)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    api = jwt_apis[mode]
    idp = api.idp
    fields = f'"iss":"{idp.issuer}","aud":"{idp.audience}","sub":"m"'
    if "exp" not in claim:
        fields += f',"exp":{int(api.clock()) + 600}'
    head = tokens.b64url_encode(json.dumps({"alg": "RS256", "kid": idp.kid}))
    signing_input = f"{head}.{tokens.b64url_encode('{' + fields + ',' + claim + '}')}"
    signature = idp.signing_key.private.sign(
        signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    token = f"{signing_input}.{tokens.b64url_encode(signature)}"
    answer = requests.get(f"{api.url}/api/profile", headers={"Authorization": token}, timeout=10)
    assert answer.status_code == 401
    assert "beyond a double's range" in api.gateway.log[-1].reason


def test_required_claim_values_are_strings_so_true_is_not_one() -> None:
    """Fixed in labkit/aws/jwt_authorizer.py (``RestJwtAuthorizer.__post_init__``):
    ``required_claims={"admin": True}`` was compared with ``!=``, and in Python ``1 == True``:
    a token with ``"admin": 1`` (or ``1.0``) met the requirement."""
    idp = IdentityProvider(clock=FrozenClock(NOW))
    with pytest.raises(ConfigurationError, match="a string or None"):
        RestJwtAuthorizer(
            (TrustedIssuer(idp.issuer, (idp.audience,)),),
            required_claims={"admin": True},  # type: ignore[dict-item]
        )


# Finding: a negated IAM condition on a key the request lacks -------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        {"StringNotLike": {"aws:SourceVpc": "vpc-*"}},
        {"NotIpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}},
    ],
)
def test_a_deny_unless_condition_on_a_missing_key_still_denies(condition: dict[str, Any]) -> None:
    """Fixed in labkit/aws/policy.py (``_condition``): IAM evaluates a negated operator on a
    key absent from the request as TRUE (IAM condition operators page, cited there); the kit
    read it as false, so "deny every request that does not come through my VPC endpoint"
    denied nothing and the request was allowed, over HTTP."""

    def authorizer(event: dict[str, Any], context: object) -> dict[str, Any]:
        policy = AuthPolicy.for_arn("alice", event["methodArn"]).allow_all()
        return policy.deny("*", "/*", condition).build()

    with serve(authorizer=authorizer, clock=FrozenClock(NOW)) as api:
        answer = requests.get(
            f"{api.url}/api/profile", headers={"Authorization": "anything"}, timeout=10
        )
    assert answer.status_code == 403
    assert "explicit deny" in answer.json()["Message"]


@pytest.mark.parametrize("key", ["aws:SourceIP", "AWS:SourceIp", "aws:sourceip"])
def test_condition_key_names_match_without_case(key: str) -> None:
    """Fixed in labkit/aws/policy.py (``_condition``): IAM compares context key names without
    case (IAM Condition element page, cited there); the kit compared them exactly, so a Deny
    for ``aws:SourceIP`` in 127.0.0.0/8 (a blocked network) let 127.0.0.1 in, over HTTP."""

    def authorizer(event: dict[str, Any], context: object) -> dict[str, Any]:
        policy = AuthPolicy.for_arn("alice", event["methodArn"]).allow_all()
        return policy.deny("*", "/*", {"IpAddress": {key: "127.0.0.0/8"}}).build()

    with serve(authorizer=authorizer, clock=FrozenClock(NOW)) as api:
        answer = requests.get(
            f"{api.url}/api/profile", headers={"Authorization": "anything"}, timeout=10
        )
    assert answer.status_code == 403
    assert "explicit deny" in answer.json()["Message"]
