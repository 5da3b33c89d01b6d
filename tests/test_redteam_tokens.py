"""Red-team regressions for the OIDC provider, DPoP and browser-carried tokens.

Each test names the attack that got through (or crashed) before its fix; the
fix closes the class of bug at its boundary, so each test probes the class,
not just the one input that found it.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from test_aws_fidelity import served
from werkzeug.wrappers import Request, Response

from labkit import algorithms, browser, dpop, oidc, tokens
from labkit.aws import FrozenClock, cookies, serve
from labkit.aws.dpop_guard import DpopGuard
from labkit.aws.idp import IdentityProvider
from labkit.aws.server import listen
from labkit.errors import InvalidTokenError, LabkitError
from labkit.verify import TokenTypeError, verify

KEY = ec.generate_private_key(ec.SECP256R1())
ALICE = {"username": "alice", "password": "wonderland"}


# DPoP: a bound token must not reach the authorizer as a bearer token by another road --------------


def test_a_bound_token_in_another_identity_source_is_refused(clock: FrozenClock) -> None:
    """Before: a REST TOKEN authorizer reading ``X-Token`` let ``X-Token: Bearer <bound>`` in
    without any proof (the DPoP step looked at ``Authorization`` only): 200, RFC 9449 7.2 broken.
    """
    sources = ("method.request.header.X-Token",)
    with serve("hardened", clock=clock, identity_sources=sources) as api:
        client = dpop.Client(KEY, clock=clock)
        login = client.request("POST", f"{api.url}/login", json=ALICE)
        bound = login.json()["access_token"]
        assert login.json()["token_type"] == "DPoP"
        plain = requests.post(f"{api.url}/login", json=ALICE, timeout=10).json()["access_token"]
        url = f"{api.url}/api/profile"
        # the unbound token still works through X-Token, so the route is really reachable:
        assert requests.get(url, headers={"X-Token": f"Bearer {plain}"}, timeout=10).ok
        stolen = requests.get(url, headers={"X-Token": f"Bearer {bound}"}, timeout=10)
        assert stolen.status_code == 401
        assert 'error="invalid_token"' in stolen.headers["WWW-Authenticate"]
        for smuggled in (  # a bound token riding along in a cookie, a 2nd Authorization, the query
            {"X-Token": f"Bearer {plain}", "Cookie": f"a=1; __Host-access_token={bound}"},
            {"X-Token": f"Bearer {plain}", "Authorization": f"Bearer {bound}"},
        ):
            assert requests.get(url, headers=smuggled, timeout=10).status_code == 401
        assert requests.get(url, headers={"X-Token": bound}, timeout=10).status_code == 401


# OIDC: refresh-token reuse detection must survive a full store ------------------------------------

NOTEBOOK = {"client_id": "labkit-notebook", "redirect_uri": "http://127.0.0.1/callback"}


def code_login(idp: IdentityProvider) -> dict[str, Any]:
    """The code flow in-process: authorize (alice), redeem with the verifier."""
    verifier = secrets.token_urlsafe(48)
    location = idp.oidc.authorize(
        {
            **NOTEBOOK,
            "response_type": "code",
            "scope": "openid profile",
            "code_challenge": oidc.s256(verifier),
            "code_challenge_method": "S256",
            **ALICE,
        }
    )
    code = location.split("code=")[1].split("&")[0]
    form = {**NOTEBOOK, "grant_type": "authorization_code", "code": code}
    return idp.oidc.token({**form, "code_verifier": verifier})


def refresh(idp: IdentityProvider, token: str, client_id: str = "labkit-notebook") -> Any:
    return idp.oidc.token(
        {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token}
    )


def test_filling_the_grant_store_does_not_erase_a_used_refresh_token(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: at half of MAX_GRANTS the prune dropped every *used* refresh token, so after a
    few logins (anyone can log in as the demo users) a stolen token's second use was merely
    "unknown" and the thief's rotated token kept working: reuse detection, evicted."""
    monkeypatch.setattr(oidc, "MAX_GRANTS", 8)
    idp = IdentityProvider(clock=clock)
    first = code_login(idp)["refresh_token"]
    second = refresh(idp, first)["refresh_token"]  # the thief refreshed first
    for _ in range(3):  # the store fills past MAX_GRANTS // 2: pruning runs
        code_login(idp)
    with pytest.raises(oidc.OAuthError, match="reused: the grant is revoked"):
        refresh(idp, first)  # the victim's copy comes back
    with pytest.raises(oidc.OAuthError, match="unknown refresh token"):
        refresh(idp, second)  # the whole grant ended


def test_a_grant_remembers_a_bounded_number_of_used_refresh_tokens(clock: FrozenClock) -> None:
    idp = IdentityProvider(clock=clock)
    tokens_ = [code_login(idp)["refresh_token"]]
    for _ in range(oidc.MAX_USED_REFRESH + 5):
        tokens_.append(refresh(idp, tokens_[-1])["refresh_token"])
    assert len(idp.oidc._stores.grants) == oidc.MAX_USED_REFRESH + 1  # bounded per grant
    with pytest.raises(oidc.OAuthError, match="unknown refresh token"):
        refresh(idp, tokens_[0])  # too old to remember: refused, without revoking
    with pytest.raises(oidc.OAuthError, match="reused"):
        refresh(idp, tokens_[-2])  # a recent one: the grant is revoked
    with pytest.raises(oidc.OAuthError, match="unknown"):
        refresh(idp, tokens_[-1])


def test_a_full_store_refuses_new_grants_only_and_spends_nothing(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a refresh at capacity marked the token used, then answered 429, so the client's
    retry was a "reuse" that revoked its own grant; and used tokens counted against the bound,
    so one login refreshed 17 times took 17 places. Now the bound counts grants (logins):
    refreshes always work, a new code is refused with 429 and can be redeemed later."""
    idp = IdentityProvider(clock=clock)
    token = code_login(idp)["refresh_token"]
    monkeypatch.setattr(oidc, "MAX_GRANTS", 1)
    for _ in range(oidc.MAX_USED_REFRESH + 3):
        token = refresh(idp, token)["refresh_token"]  # one grant, however often it refreshes
    verifier = secrets.token_urlsafe(48)
    location = idp.oidc.authorize(
        {
            **NOTEBOOK,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": oidc.s256(verifier),
            "code_challenge_method": "S256",
            **ALICE,
        }
    )
    form = {**NOTEBOOK, "grant_type": "authorization_code", "code_verifier": verifier}
    form["code"] = location.split("code=")[1].split("&")[0]
    with pytest.raises(oidc.OAuthError) as full:
        idp.oidc.token(form)
    assert full.value.status == 429
    monkeypatch.setattr(oidc, "MAX_GRANTS", 2)
    assert "id_token" in idp.oidc.token(form)  # the code was not spent by the 429


# DPoP: any proof claim type is a one-line 4xx ----------------------------------------------------

NOW = 1_767_258_000
URL = "http://127.0.0.1:8000/api/profile"


def forged_proof(claims: dict[str, Any], key: Any = KEY) -> str:
    """A proof signed by ``key`` with exactly these claims (any JSON values)."""
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop.public_jwk(key)}
    signature = algorithms.sign("ES256", key, tokens.signing_input(header, claims))
    return tokens.encode(header, claims, signature)


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(["iat", "jti", "htm", "htu", "ath", "nonce"]), value=JSON_VALUES)
def test_any_claim_value_is_an_invalid_proof_never_a_crash(name: str, value: object) -> None:
    """Before: ``iat`` = 10**400 (valid JSON) raised OverflowError, a 500 at the gateway."""
    claims = {"jti": "j1", "htm": "GET", "htu": URL, "iat": NOW, name: value}
    source = dpop.NonceSource(clock=lambda: NOW)
    for options in ({}, {"nonce": source}, {"access_token": "a.b.c", "jkt": "x"}):
        try:
            dpop.verify_proof(forged_proof(claims), htm="GET", htu=URL, now=NOW, **options)
        except dpop.InvalidProofError as exc:
            assert "\n" not in exc.message


CRASHERS = [("iat", 10**400), ("iat", -(10**400)), ("iat", 10**309), ("ath", "\x80"), ("ath", "é")]


@pytest.mark.parametrize(("name", "value"), CRASHERS)
def test_proofs_that_were_5xx_are_a_401_at_the_gateway_and_a_400_at_the_idp(
    clock: FrozenClock, name: str, value: object
) -> None:
    """Before: a 500 (OverflowError for a huge iat, TypeError for a non-ASCII ath)."""
    with serve("hardened", clock=clock) as api:
        client = dpop.Client(KEY, clock=clock)
        bound = client.request("POST", f"{api.url}/login", json=ALICE).json()["access_token"]
        url = f"{api.url}/api/profile"
        assert client.request("GET", url, access_token=bound).ok  # the nonce, and a baseline
        proof = client.proof("GET", url, bound, extra={name: value})
        answer = requests.get(
            url, headers={"Authorization": f"DPoP {bound}", "DPoP": proof}, timeout=10
        )
        assert answer.status_code == 401
        assert 'error="invalid_dpop_proof"' in answer.headers["WWW-Authenticate"]
        if name == "ath":  # a token request carries no access token, so no ath is read there
            return
        login = requests.post(
            f"{api.url}/login",
            json=ALICE,
            headers={"DPoP": client.proof("POST", f"{api.url}/login", extra={name: value})},
            timeout=10,
        )
        assert login.status_code == 400
        assert login.json()["error"] == "invalid_dpop_proof"


# typ: explicit typing folds ASCII case only ------------------------------------------------------

_IDP = IdentityProvider()


def typed(typ: object) -> str:
    claims = {"iss": _IDP.issuer, "sub": "alice", "aud": "labkit-api", "exp": 2**40}
    headers = {"typ": typ, "kid": _IDP.kid}
    return algorithms.sign_token(claims, _IDP.signing_key.private, "RS256", headers=headers)


def passes(typ: object, wanted: str) -> bool:
    try:
        verify(
            typed(typ), _IDP.public_key(), algorithms=["RS256"], audience="labkit-api", typ=wanted
        )
    except TokenTypeError:
        return False
    return True


def test_a_unicode_look_alike_typ_is_not_the_type_it_folds_to() -> None:
    """Before: ``str.lower`` folds the Kelvin sign U+212A to ``k``: ``\\u212ab+jwt`` passed
    for ``kb+jwt`` (SD-JWT's key-binding type)."""
    assert passes("KB+JWT", "kb+jwt") and passes("application/kb+JWT", "kb+jwt")
    assert not passes("\u212ab+jwt", "kb+jwt")
    assert not passes("application/\u212ab+jwt", "kb+jwt")


_TYP_CHARS = st.sampled_from([*"atjwkbATJWKB+/; ", "\u212a", "\u0130", "\u017f", "\x00"])
_TYPS = st.one_of(st.text(_TYP_CHARS, max_size=20), st.integers(), st.none(), st.lists(st.text()))


@settings(max_examples=200, deadline=None)
@given(typ=_TYPS)
def test_only_the_ascii_spellings_of_at_jwt_pass(typ: object) -> None:
    ascii_form = typ.lower() if isinstance(typ, str) and typ.isascii() else None
    expected = ascii_form in ("at+jwt", "application/at+jwt")
    assert passes(typ, "at+jwt") is expected
    assert passes(typ, oidc.ACCESS_TOKEN_TYP) is expected


# Cookies: the CSRF check's Origin is a serialized origin or nothing -------------------------------

HOST = "127.0.0.1:8001"


def origin_passes(origin: str, csrf: str = "T") -> bool:
    headers = {"Origin": origin, "Host": HOST, "X-CSRF-Token": csrf}
    request = cookies.BrowserRequest("POST", headers, {})
    try:
        cookies.check_request(cookies.HARDENED, request, {"csrf": cookies.digest("T")}, "cookie")
    except InvalidTokenError:
        return False
    return True


@pytest.mark.parametrize(
    "origin",
    [
        "http://[::1",  # was a ValueError: a 500 from the authorizer
        "http://127.0.0.1:99999",
        f"//{HOST}",
        f"foo://{HOST}",
        f"http://{HOST}/",
        f"http://{HOST}/x?y",
        f"http://{HOST}#",
        f"http://{HOST}?",
        f"http://user@{HOST}",
        f" http://{HOST}",
        f"HTTP://{HOST}",
        "null",
        "",
    ],
)
def test_an_origin_that_is_not_a_serialized_origin_cannot_change_state(origin: str) -> None:
    assert origin_passes(f"http://{HOST}")
    assert not origin_passes(origin)


_ORIGIN_PARTS = st.sampled_from([*"htps:/[]@?#.% é", "http", "127.0.0.1", "8001", "://"])


@settings(max_examples=300, deadline=None)
@given(origin=st.lists(_ORIGIN_PARTS, max_size=10).map("".join))
def test_any_origin_is_judged_never_a_crash(origin: str) -> None:
    assert origin_passes(origin) is (origin in (f"http://{HOST}", f"https://{HOST}"))


def test_a_malformed_origin_is_a_403_over_http_not_a_500() -> None:
    with browser.serve_spa() as spa:
        login = requests.post(f"{spa.url}/spa/login", json={**ALICE, "mode": "cookie"}, timeout=10)
        token = (
            login.cookies.get(cookies.TOKEN_COOKIE)
            or login.headers["Set-Cookie"].split(";")[0].partition("=")[2]
        )
        headers = {
            "X-CSRF-Token": login.json()["csrf_token"],
            "Cookie": f"{cookies.TOKEN_COOKIE}={token}",
        }

        def post(origin: str) -> int:
            return requests.post(
                f"{spa.url}/api/me",
                headers={**headers, "Origin": origin},
                data="display_name=x",
                timeout=10,
            ).status_code

        assert post(spa.url) == 200
        assert post("http://[::1") == 403
        assert post(spa.url + "/") == 403


def test_a_fingerprint_cookie_that_is_not_unicode_text_is_refused_not_a_crash() -> None:
    request = cookies.BrowserRequest("GET", {}, {cookies.FINGERPRINT_COOKIE: "\ud800"})
    with pytest.raises(InvalidTokenError):
        cookies.check_request(cookies.HARDENED, request, {"fgp": cookies.digest("x")}, "header")


# The attacker's loopback server: bounded, and its page quotes what it embeds ----------------------


def test_the_collector_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: every ``/collect`` call appended up to 8 KiB to a list, without end."""
    monkeypatch.setattr(browser, "_MAX_LOOT", 3)
    with browser.serve_attacker("http://127.0.0.1:1") as attacker:
        answers = [
            requests.get(f"{attacker.url}/collect", params={"t": str(i)}, timeout=10).status_code
            for i in range(5)
        ]
        assert answers == [204, 204, 204, 429, 429]
        assert attacker.stolen == ["0", "1", "2"]


def test_the_forging_page_quotes_its_target_as_an_attribute() -> None:
    """Before: the target went in as a JSON string, unquoted for HTML: a ``"`` closed the
    attribute (json.dumps escapes it with a backslash, which HTML ignores)."""
    target = 'http://127.0.0.1:1/"><script>alert(1)</script>'
    with browser.serve_attacker(target) as attacker:
        page = requests.get(f"{attacker.url}/forge", timeout=10).text
    assert "<script>alert(1)" not in page
    assert 'action="http://127.0.0.1:1/&quot;&gt;&lt;script&gt;' in page


# OIDC routes: whatever the event holds, a 4xx -----------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {"httpMethod": "POST", "path": "/token", "headers": {1: "x"}, "body": "a=b"},
        {"httpMethod": "GET", "path": "/authorize", "multiValueQueryStringParameters": {"a": None}},
        {"httpMethod": "GET", "path": "/authorize", "multiValueQueryStringParameters": ["x"]},
        {"httpMethod": "GET", "path": "/authorize", "multiValueQueryStringParameters": {"c": 5}},
    ],
)
def test_odd_lambda_events_at_the_oidc_routes_are_a_4xx(event: dict[str, Any]) -> None:
    """Before: a non-string header name or a non-list query value raised (AttributeError,
    TypeError) out of the handler."""
    answer = IdentityProvider().handle(event)
    assert 400 <= answer["statusCode"] < 500


# DPoP replay cache: no proof is accepted twice, whatever the timing -------------------------------


def test_a_proof_dated_ahead_is_not_replayable_at_the_end_of_the_window() -> None:
    """Before: the entry left at exactly ``window`` = max_age + leeway seconds, the instant a
    proof with ``iat`` = now + leeway was still accepted: one replay, reproducible by a
    frozen clock (and by any clock, at that instant)."""
    clock = FrozenClock(NOW)
    cache = dpop.ReplayCache(clock=clock)
    proof = dpop.make_proof(KEY, "GET", URL, iat=NOW + dpop.LEEWAY)
    dpop.verify_proof(proof, htm="GET", htu=URL, replay=cache, now=clock())
    clock.advance(dpop.MAX_AGE + dpop.LEEWAY)
    with pytest.raises(dpop.ReplayedProofError):
        dpop.verify_proof(proof, htm="GET", htu=URL, replay=cache, now=clock())


def test_a_max_age_longer_than_the_cache_window_does_not_open_a_replay_interval() -> None:
    """Before: ``verify_proof(max_age=300)`` with a default cache (65 s) forgot the jti after
    65 s, and the proof, still young enough, worked again."""
    clock = FrozenClock(NOW)
    cache = dpop.ReplayCache(clock=clock)
    proof = dpop.make_proof(KEY, "GET", URL, iat=NOW)
    dpop.verify_proof(proof, htm="GET", htu=URL, replay=cache, now=clock(), max_age=300)
    for delay in (100, 199, 1):  # to +300 in all
        clock.advance(delay)
        with pytest.raises(dpop.ReplayedProofError):
            dpop.verify_proof(proof, htm="GET", htu=URL, replay=cache, now=clock(), max_age=300)


@settings(max_examples=200, deadline=None)
@given(
    ahead=st.floats(min_value=-dpop.MAX_AGE, max_value=dpop.LEEWAY),
    max_age=st.sampled_from([10.0, dpop.MAX_AGE, 300.0]),
    delays=st.lists(st.floats(min_value=0, max_value=120), min_size=1, max_size=8),
)
def test_no_proof_is_ever_accepted_twice(ahead: float, max_age: float, delays: list[float]) -> None:
    clock = FrozenClock(NOW)
    cache = dpop.ReplayCache(clock=clock)
    proof = dpop.make_proof(KEY, "GET", URL, iat=NOW + ahead)
    accepted = 0
    for delay in [0.0, *delays]:
        clock.advance(delay)
        try:
            dpop.verify_proof(proof, htm="GET", htu=URL, replay=cache, now=clock(), max_age=max_age)
        except dpop.InvalidProofError:
            continue
        accepted += 1
    assert accepted <= 1


# DPoP at the IdP's /logout: the bound token's owner only -----------------------------------------


def test_logout_of_a_bound_session_needs_the_key_and_the_dpop_scheme(clock: FrozenClock) -> None:
    """Before: ``Authorization: DPoP`` at /logout was a 401 (the owner could not log out as
    RFC 9449 asks), and a thief holding only the bound token logged the session out with
    ``Bearer`` (RFC 9449 7.2: a bound token received as a bearer token MUST be rejected)."""
    thief_key = ec.generate_private_key(ec.SECP256R1())
    with serve("hardened", clock=clock) as api:
        owner = dpop.Client(KEY, clock=clock)
        bound = owner.request("POST", f"{api.url}/login", json=ALICE).json()["access_token"]
        logout = f"{api.url}/logout"
        as_bearer = requests.post(logout, headers={"Authorization": f"Bearer {bound}"}, timeout=10)
        assert as_bearer.status_code == 401
        thief = dpop.Client(thief_key, clock=clock).request("POST", logout, access_token=bound)
        assert thief.status_code == 401
        assert 'error="invalid_token"' in thief.headers["WWW-Authenticate"]
        no_proof = requests.post(logout, headers={"Authorization": f"DPoP {bound}"}, timeout=10)
        assert no_proof.status_code == 401
        assert owner.request("GET", f"{api.url}/api/profile", access_token=bound).ok  # still on
        done = owner.request("POST", logout, access_token=bound)
        assert done.status_code == 200 and done.json()["message"] == "logged out"
        assert api.idp.is_revoked(tokens.parse(bound).payload["jti"])
        plain = requests.post(f"{api.url}/login", json=ALICE, timeout=10).json()["access_token"]
        as_dpop = requests.post(logout, headers={"Authorization": f"DPoP {plain}"}, timeout=10)
        assert as_dpop.status_code == 401
        headers = {"Authorization": f"Bearer {plain}"}
        assert requests.post(logout, headers=headers, timeout=10).status_code == 200


def test_an_id_token_checked_against_a_non_ascii_access_token_is_refused_not_a_crash() -> None:
    """Before: ``at_hash`` encoded the access token as ASCII and raised UnicodeEncodeError, so a
    provider (or a man in the middle of the token response) could crash the relying party."""
    idp = IdentityProvider()
    answer = code_login(idp)
    with pytest.raises(InvalidTokenError, match="ASCII"):
        oidc.verify_id_token(
            answer["id_token"],
            idp.jwks(),
            client_id="labkit-notebook",
            issuer=idp.issuer,
            nonce=None,
            access_token=answer["access_token"] + "é",
        )
    claims = oidc.verify_id_token(
        answer["id_token"],
        idp.jwks(),
        client_id="labkit-notebook",
        issuer=idp.issuer,
        nonce=None,
        access_token=answer["access_token"],
    )
    assert claims["at_hash"] == oidc.at_hash(answer["access_token"], "RS256")


# code_flow: the password goes only to the provider's own loopback origin ------------------------


@contextmanager
def discovery_server(document: dict[str, Any]) -> Iterator[str]:
    """A loopback server answering every GET with ``document`` (a hostile provider)."""

    @Request.application
    def app(request: Request) -> Response:
        return Response(json.dumps(document), content_type="application/json")

    with served(app) as url:  # type: ignore[arg-type]
        yield url


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://evil.invalid/authorize",  # another host: the demo password would go there
        "http://127.0.0.2:1/authorize",  # loopback, but another origin
        "http://evil.invalid\\@127.0.0.1/authorize",
        None,
    ],
)
def test_code_flow_posts_the_password_only_to_the_providers_origin(endpoint: object) -> None:
    """Before: ``code_flow`` posted the login form to whatever ``authorization_endpoint`` the
    discovery document named, with ``requests`` defaults (environment proxies too)."""
    document = {"authorization_endpoint": endpoint, "token_endpoint": "x"}
    with discovery_server(document) as url, pytest.raises(LabkitError):
        oidc.code_flow(url)


def test_code_flow_refuses_a_provider_beyond_loopback() -> None:
    with pytest.raises(LabkitError, match="loopback"):
        oidc.code_flow("http://evil.invalid")


def test_code_flow_still_logs_in_at_the_kits_provider(clock: FrozenClock) -> None:
    with serve("hardened", clock=clock) as api:
        assert oidc.code_flow(api.url)["token_type"] == "Bearer"


def test_the_dpop_client_does_not_follow_a_redirect_with_its_proof() -> None:
    """Before: ``dpop.Client.request`` followed redirects (requests' default), sending the
    DPoP header (which requests does not strip) to wherever the server pointed."""
    seen: list[str | None] = []

    @Request.application
    def elsewhere(request: Request) -> Response:
        seen.append(request.headers.get("DPoP"))
        return Response("{}", content_type="application/json")

    other = listen(elsewhere, "127.0.0.1", 0)  # type: ignore[arg-type]
    thread = threading.Thread(target=other.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        target = f"http://127.0.0.1:{other.server_port}/loot"
        with _redirecting(target) as url:
            answer = dpop.Client(KEY).request("GET", f"{url}/api/profile", access_token="a.b.c")
        assert answer.status_code == 302
        assert seen == []
    finally:
        other.shutdown()
        other.server_close()
        thread.join(timeout=10)


@contextmanager
def _redirecting(target: str) -> Iterator[str]:
    @Request.application
    def app(request: Request) -> Response:
        return Response("", status=302, headers={"Location": target})

    with served(app) as url:  # type: ignore[arg-type]
        yield url


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_credentials_in_the_authorize_url_are_refused(clock: FrozenClock, method: str) -> None:
    """Before: ``GET /authorize?...&username=bob&password=builder`` logged the user in: the
    password sat in the URL, where logs, history and Referer headers keep it (CWE-598)."""
    verifier = secrets.token_urlsafe(48)
    query = {
        **NOTEBOOK,
        "response_type": "code",
        "scope": "openid",
        "code_challenge": oidc.s256(verifier),
        "code_challenge_method": "S256",
    }
    with serve("hardened", clock=clock) as api:
        url = f"{api.url}/authorize"
        leaked = requests.request(
            method, url, params={**query, **ALICE}, allow_redirects=False, timeout=10
        )
        assert leaked.status_code == 400
        assert "never in the URL" in leaked.json()["error_description"]
        form = requests.post(url, params=query, data=ALICE, allow_redirects=False, timeout=10)
        assert form.status_code == 302 and "code=" in form.headers["Location"]
        page = requests.get(url, params=query, timeout=10)
        assert page.status_code == 200 and 'id="password"' in page.text


def test_a_bound_token_inside_an_odd_authorization_value_is_refused(clock: FrozenClock) -> None:
    """A value the guard cannot read as one token ("DPoP <bound>, Bearer <bound>") used to pass
    the DPoP step untouched, leaving the refusal to the authorizer's parser alone."""
    guard = DpopGuard(clock=clock)
    with serve("hardened", clock=clock) as api:
        client = dpop.Client(KEY, clock=clock)
        bound = client.request("POST", f"{api.url}/login", json=ALICE).json()["access_token"]
    for value in (f"DPoP {bound}, Bearer {bound}", f"Bearer x,{bound}", f"Token {bound} more"):
        denial = guard.check("GET", URL, value, [])
        assert denial is not None and denial.status == 401, value
    assert guard.check("GET", URL, "Bearer not-a-jwt", []) is None  # nothing bound: authorizer's
