"""Cookie-carried tokens without a browser: the gateway's options, the presets, the scan probes.

Everything runs over real HTTP on 127.0.0.1 (``labkit.browser.serve_spa`` and
``labkit.aws.serve``); the Chromium side is tests/test_browser_tokens.py.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import browser, tokens
from labkit.aws import cookies, presets, serve
from labkit.aws.cookies import (
    CSRF_HEADER,
    FINGERPRINT_COOKIE,
    TOKEN_COOKIE,
    BrowserPolicy,
    BrowserRequest,
    check_request,
    digest,
    parse_cookie_header,
    set_cookie,
)
from labkit.errors import ConfigurationError, InvalidTokenError
from labkit.scan.engine import _Scan
from labkit.scan.findings import FLAWS
from labkit.scan.probes import BROWSER_PROBE_IDS, run_browser_probes
from labkit.scan.transport import _transport

ALICE = {"username": "alice", "password": "wonderland"}


def sign_in(spa: browser.Spa, mode: str) -> requests.Response:
    reply = requests.post(f"{spa.url}/spa/login", json={**ALICE, "mode": mode}, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply


def jar_of(reply: requests.Response) -> dict[str, str]:
    return {c.name: c.value for c in reply.cookies}


# The cookie helpers ------------------------------------------------------------------------------


def test_set_cookie_defaults_are_the_hardened_attributes() -> None:
    value = set_cookie(TOKEN_COOKIE, "abc")
    assert value == "__Host-access_token=abc; Path=/; Secure; HttpOnly; SameSite=Strict"
    assert "Max-Age=60" in set_cookie("a", "b", max_age=60, same_site="Lax")


@pytest.mark.parametrize(
    ("name", "value", "options"),
    [
        ("a;b", "x", {}),
        ("a", "x; Domain=evil", {}),
        ("a", "x\r\nSet-Cookie: y=1", {}),
        ("a", "x", {"same_site": "Sometimes"}),
        ("a", "x", {"same_site": "None", "secure": False}),
    ],
)
def test_set_cookie_refuses_what_would_add_attributes(name: str, value: str, options: dict) -> None:
    with pytest.raises(ConfigurationError):
        set_cookie(name, value, **options)


def test_parse_cookie_header_keeps_the_first_of_a_name_and_skips_junk() -> None:
    parsed = parse_cookie_header('a=1; a=2; junk; =x; b="q"; c d=3')
    assert parsed == {"a": "1", "b": "q"}
    assert parse_cookie_header(None) == {} and parse_cookie_header("x" * 9000) == {}


@pytest.mark.parametrize(
    "options",
    [
        {"token_cookie": "a b"},
        {"csrf": "yes"},
        {"allowed_origins": "http://x"},
        {"allowed_origins": ("http://x/path",)},
    ],
)
def test_browser_policy_refuses_bad_options(options: dict) -> None:
    with pytest.raises(ConfigurationError):
        BrowserPolicy(**options)


def request_of(method: str = "POST", origin: str | None = "http://127.0.0.1:1", **extra: str):
    headers = {"Host": "127.0.0.1:1", **({"Origin": origin} if origin else {}), **extra}
    return BrowserRequest(method, headers, {})


def test_csrf_check_needs_the_api_origin_and_the_token_whose_hash_is_claimed() -> None:
    claims = {"csrf": digest("s3cret")}
    policy = cookies.HARDENED
    check_request(policy, request_of(**{CSRF_HEADER: "s3cret"}), claims, "cookie")
    check_request(policy, request_of("GET", None), claims, "cookie")  # safe methods: no check
    check_request(policy, request_of(origin="http://evil"), claims, "header")  # not a cookie
    for bad in (
        request_of(**{CSRF_HEADER: "guess"}),
        request_of(),
        request_of(origin=None, **{CSRF_HEADER: "s3cret"}),
        request_of(origin="null", **{CSRF_HEADER: "s3cret"}),
        request_of(origin="http://127.0.0.1:2", **{CSRF_HEADER: "s3cret"}),  # same site
        request_of(origin="http://localhost:1", **{CSRF_HEADER: "s3cret"}),
    ):
        with pytest.raises(InvalidTokenError):
            check_request(policy, bad, claims, "cookie")
    with pytest.raises(InvalidTokenError, match="csrf claim"):
        check_request(policy, request_of(**{CSRF_HEADER: "s3cret"}), {}, "cookie")
    relaxed = cookies.policy_of(["csrf"])
    check_request(relaxed, request_of(origin="http://evil"), claims, "cookie")


def test_fingerprint_check_needs_the_cookie_that_hashes_to_the_claim() -> None:
    claims = {"fgp": digest("fingerprint")}
    ok = BrowserRequest("GET", {}, {FINGERPRINT_COOKIE: "fingerprint"})
    check_request(cookies.HARDENED, ok, claims, "header")
    for jar in ({}, {FINGERPRINT_COOKIE: "other"}, {"__Secure-Fgp": "fingerprint"}):
        with pytest.raises(InvalidTokenError, match="fingerprint"):
            check_request(cookies.HARDENED, BrowserRequest("GET", {}, jar), claims, "header")
    with pytest.raises(InvalidTokenError, match="SHA-256"):
        check_request(cookies.HARDENED, ok, {"fgp": "not-hex"}, "header")
    check_request(cookies.policy_of(["fingerprint"]), BrowserRequest("GET", {}, {}), claims, "x")


def test_each_browser_preset_drops_exactly_one_check() -> None:
    assert presets.get("hardened").verifier() is presets.get("cookie-no-csrf").verifier()
    policies = {}
    for preset in presets.available():
        service = presets.build(preset.name, clock=lambda: 0.0)
        policies[preset.name] = service.browser
        service.close()
    assert policies["cookie-no-csrf"] == BrowserPolicy(csrf=False)
    assert policies["fingerprint-ignored"] == BrowserPolicy(fingerprint=False)
    others = {
        n: p for n, p in policies.items() if n not in ("cookie-no-csrf", "fingerprint-ignored")
    }
    assert set(others.values()) == {cookies.HARDENED}


# The presets through labkit.aws.serve (HTTP API, the Cookie header as identity source) ----------


SERVERS = {
    "http": {"mode": "http", "identity_sources": ("$request.header.Cookie",)},
    "rest-request": {"mode": "rest", "authorizer_type": "REQUEST", "identity_sources": ()},
}


@pytest.mark.parametrize("server", sorted(SERVERS))
@pytest.mark.parametrize(("preset", "changed"), [("hardened", False), ("cookie-no-csrf", True)])
def test_cookie_identity_source_on_the_standard_server(
    server: str, preset: str, changed: bool
) -> None:
    """HTTP API (payload 2.0 ``cookies``) and REST REQUEST (the Cookie header), caching off."""
    with serve(preset, cache_ttl=0, **SERVERS[server]) as api:
        csrf, csrf_hash = cookies.new_secret()
        token = api.idp.issue("alice", "reader", ("profile", "predict"), csrf=csrf_hash)
        jar = {TOKEN_COOKIE: token}
        profile = requests.get(f"{api.url}/api/profile", cookies=jar, timeout=10)
        assert profile.status_code == 200 and profile.json()["sub"] == "alice"
        nothing = requests.get(f"{api.url}/api/profile", timeout=10)
        assert nothing.status_code == 401  # HTTP API: before the authorizer; REST: by it
        forged = requests.post(
            f"{api.url}/api/predict",
            cookies=jar,
            headers={"Origin": "http://localhost:9"},
            json={"text": "great"},
            timeout=10,
        )
        assert (forged.status_code == 200) is changed, forged.text
        honest = requests.post(
            f"{api.url}/api/predict",
            cookies=jar,
            headers={"Origin": api.url, CSRF_HEADER: csrf},
            json={"text": "great"},
            timeout=10,
        )
        assert honest.status_code == 200


def test_a_rest_token_authorizer_refuses_a_fingerprint_bound_token() -> None:
    """A TOKEN event has no cookies: the fingerprint cannot be checked, so the token fails."""
    with serve("hardened", cache_ttl=0) as api:
        token = api.idp.issue("alice", "reader", ("profile",), fgp=digest("x"))
        reply = requests.get(
            f"{api.url}/api/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert reply.status_code == 401
        plain = api.idp.issue("alice", "reader", ("profile",))
        ok = requests.get(
            f"{api.url}/api/profile", headers={"Authorization": f"Bearer {plain}"}, timeout=10
        )
        assert ok.status_code == 200


# The demo app's API, from Python ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hardened() -> Iterator[browser.Spa]:
    with browser.serve_spa("hardened") as spa:
        yield spa


def test_stolen_fingerprint_token_is_refused_by_hardened_and_accepted_by_the_flawed_preset(
    hardened: browser.Spa,
) -> None:
    with browser.serve_spa("fingerprint-ignored") as flawed:
        for spa, accepted in ((hardened, False), (flawed, True)):
            reply = sign_in(spa, "fingerprint")
            token = reply.json()["access_token"]
            assert "fgp" in tokens.parse(token).payload
            own = browser.call_api(spa.url, token, cookies=jar_of(reply))
            assert own.status_code == 200
            stolen = browser.call_api(spa.url, token)  # elsewhere: no fingerprint cookie
            assert (stolen.status_code == 200) is accepted, stolen.text
    assert "fingerprint" in hardened.refusals[-1]


def test_cookie_mode_sets_hardened_cookies_and_never_returns_the_token(
    hardened: browser.Spa,
) -> None:
    reply = sign_in(hardened, "cookie")
    assert "access_token" not in reply.json()
    (header,) = reply.raw.headers.getlist("Set-Cookie")
    assert header.startswith(f"{TOKEN_COOKIE}=eyJ")
    assert header.endswith("; Secure; HttpOnly; SameSite=Strict")


def test_bff_keeps_the_token_on_the_server_and_refuses_cross_origin_posts(
    hardened: browser.Spa,
) -> None:
    reply = sign_in(hardened, "bff")
    jar = jar_of(reply)
    assert list(jar) == [browser.SESSION_COOKIE] and "eyJ" not in reply.text
    me = requests.get(f"{hardened.url}/bff/api/me", cookies=jar, timeout=10)
    assert me.json()["sub"] == "alice"
    post = dict(cookies=jar, data="display_name=bff-user", timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    evil = requests.post(
        f"{hardened.url}/bff/api/me", headers={**headers, "Origin": "http://127.0.0.1:9"}, **post
    )
    assert evil.status_code == 403
    own = requests.post(
        f"{hardened.url}/bff/api/me", headers={**headers, "Origin": hardened.url}, **post
    )
    assert own.json()["display_name"] == "bff-user"


# Bad input: never a 5xx, always a one-line JSON message -------------------------------------------

_TEXT = st.text(alphabet=string.printable + "é€\x00", max_size=60)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "POST"]),
    path=st.sampled_from(["/spa/login", "/api/me", "/bff/api/me", "/"]),
    cookie=st.dictionaries(
        st.sampled_from([TOKEN_COOKIE, FINGERPRINT_COOKIE, browser.SESSION_COOKIE, "x"]),
        _TEXT.map(lambda t: t.encode("latin-1", "replace").decode("latin-1")),
        max_size=3,
    ),
    body=st.one_of(_TEXT, st.binary(max_size=40), st.just('{"username":"alice","mode":[1]}')),
    origin=st.sampled_from([None, "null", "http://evil", "http://127.0.0.1:1"]),
)
def test_bad_cookies_and_bodies_never_get_a_5xx(
    hardened: browser.Spa, method: str, path: str, cookie: dict, body: object, origin: str | None
) -> None:
    header = "; ".join(f"{k}={v}" for k, v in cookie.items()).replace("\r", "").replace("\n", "")
    headers = {"Cookie": header.encode("latin-1", "replace")}
    if origin:
        headers["Origin"] = origin
    data = body.encode("utf-8") if isinstance(body, str) else body
    reply = requests.request(
        method, f"{hardened.url}{path}", headers=headers, data=data, timeout=10
    )
    assert reply.status_code < 500, reply.text
    if reply.status_code >= 400:
        message = reply.json().get("message")
        assert isinstance(message, str) and "\n" not in message


# The scan's browser probes, over real HTTP --------------------------------------------------------


def browser_scan(url: str, token: str, *, cookie: str | None, jar: dict[str, str]) -> dict:
    transport = _transport(url, "Authorization", cookie, None, (), 5.0, 20)
    with ExitStack() as stack:
        stack.callback(transport.close)
        scan = _Scan(transport, token, tokens.parse(token), None, None, None, stack)
        attempts = run_browser_probes(scan, jar)
    assert [a.probe for a in attempts] == list(BROWSER_PROBE_IDS)
    assert transport.requests <= 3
    return {a.probe: a for a in attempts}


@pytest.mark.parametrize("preset", ["hardened", "cookie-no-csrf", "fingerprint-ignored"])
def test_scan_finds_each_browser_flaw_and_nothing_on_hardened(preset: str) -> None:
    with browser.serve_spa(preset) as spa:
        reply = sign_in(spa, "cookie")
        jar = jar_of(reply)
        token = jar.pop(TOKEN_COOKIE)
        by_cookie = browser_scan(f"{spa.url}/api/me", token, cookie=TOKEN_COOKIE, jar=jar)
        reply = sign_in(spa, "fingerprint")
        bound = browser_scan(
            f"{spa.url}/api/me", reply.json()["access_token"], cookie=None, jar=jar_of(reply)
        )
    csrf, fingerprint = by_cookie["cookie-csrf"], bound["fingerprint-missing"]
    assert by_cookie["fingerprint-missing"].verdict == "skipped"  # no fgp claim in that token
    assert bound["cookie-csrf"].verdict == "skipped"  # that token travels in a header
    assert (csrf.verdict == "accepted") is (preset == "cookie-no-csrf"), csrf
    assert (fingerprint.verdict == "accepted") is (preset == "fingerprint-ignored"), fingerprint
    if preset == "hardened":
        assert csrf.verdict == fingerprint.verdict == "refused"
        assert csrf.status == fingerprint.status == 403  # HTTP API: isAuthorized false
    for attempt in (csrf, fingerprint):
        assert attempt.flaw in FLAWS


def test_a_csrf_verdict_cached_by_cookie_alone_lets_the_forged_request_through() -> None:
    """Why labkit.browser serves with cache_ttl=0: the cache key must hold what the check reads."""

    def forged_after_honest(identity_sources: tuple[str, ...]) -> int:
        with serve(
            "hardened", mode="http", identity_sources=identity_sources, cache_ttl=300
        ) as api:
            csrf, csrf_hash = cookies.new_secret()
            token = api.idp.issue("alice", "reader", ("profile", "predict"), csrf=csrf_hash)
            post = dict(cookies={TOKEN_COOKIE: token}, json={"text": "great"}, timeout=10)
            url = f"{api.url}/api/predict"
            honest = requests.post(url, headers={"Origin": api.url, CSRF_HEADER: csrf}, **post)
            assert honest.status_code == 200
            return requests.post(url, headers={"Origin": "http://localhost:9"}, **post).status_code

    assert forged_after_honest(("$request.header.Cookie",)) == 200  # a cache hit: never checked
    keyed = ("$request.header.Cookie", "$request.header.Origin", "$request.header.X-CSRF-Token")
    assert forged_after_honest(keyed) == 401  # no CSRF header: a missing identity source
