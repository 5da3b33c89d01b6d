"""The local API's HTTP boundary: whatever bytes a client sends, never a 5xx, never a traceback.

Raw requests over a socket (so header values, bodies and tokens can hold any
byte) go to the hardened preset in each mode: REST with a TOKEN authorizer,
REST with a REQUEST authorizer, HTTP API with a Lambda authorizer, HTTP API
with its JWT authorizer. Property tests (hypothesis, bounded) draw tokens
built to trip parsers (JSON nested 1,000+ deep, integers over 4,300 digits,
lone surrogates, odd base64url), cookies, and JSON bodies for ``/login``,
``/refresh``, ``/logout`` and ``/api/predict``. The named ``test_<class>_...``
tests pin each attack of issue 12 as a regression test.

Every server's log records (``werkzeug``, ``labkit``) and everything written
to ``sys.stderr`` while the module runs are captured; no record may carry a
traceback. ``LABKIT_HTTP_FUZZ_EXAMPLES=500`` runs a longer campaign (default 40 a test).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.aws import FrozenClock, idp, serve
from labkit.aws.authorizer import Authorizer, AuthorizerConfig
from labkit.aws.server import Api
from labkit.errors import InvalidTokenError

NOW = 1_767_258_000  # 2026-01-01 09:00 UTC
MODES = {
    "rest-token": {"mode": "rest", "authorizer_type": "TOKEN"},
    "rest-request": {"mode": "rest", "authorizer_type": "REQUEST"},
    "http": {"mode": "http"},
    "jwt": {"mode": "jwt"},
}
BOUNDED = settings(
    max_examples=int(os.environ.get("LABKIT_HTTP_FUZZ_EXAMPLES", "40")),  # more for a campaign
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# The servers, and what they log ------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _Tee(io.TextIOBase):
    """Keeps what the server threads write to sys.stderr, and passes it on."""

    def __init__(self, inner: io.TextIOBase) -> None:
        self.inner, self.text = inner, io.StringIO()

    def write(self, text: str) -> int:
        self.text.write(text)
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()


@dataclass
class Served:
    api: Api
    invalid_status: int  # what this mode answers any invalid token on /api/profile

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.api.url.removeprefix("http://").rsplit(":", 1)
        return host, int(port)


@pytest.fixture(scope="module")
def logs() -> Iterator[_Records]:
    records, tee = _Records(), _Tee(sys.stderr)  # type: ignore[arg-type]
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("werkzeug", "labkit")}
    root.addHandler(records)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    saved, sys.stderr = sys.stderr, tee
    try:
        yield records
    finally:
        sys.stderr = saved
        root.removeHandler(records)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    assert "Traceback" not in tee.text.getvalue(), tee.text.getvalue()[-3000:]


@pytest.fixture(scope="module")
def servers(logs: _Records) -> Iterator[dict[str, Served]]:
    clock = FrozenClock(NOW)
    with (
        serve(clock=clock, cache_ttl=0, quiet=False, **MODES["rest-token"]) as rest_token,
        serve(clock=clock, cache_ttl=0, quiet=False, **MODES["rest-request"]) as rest_request,
        serve(clock=clock, cache_ttl=0, quiet=False, **MODES["http"]) as http,
        serve(clock=clock, cache_ttl=0, quiet=False, **MODES["jwt"]) as jwt,
    ):
        yield {
            "rest-token": Served(rest_token, 401),
            "rest-request": Served(rest_request, 401),
            "http": Served(http, 403),  # simple responses: isAuthorized false is a 403
            "jwt": Served(jwt, 401),
        }


def assert_no_traceback(logs: _Records) -> None:
    """No record so far carries a traceback; then forget them (each example checks its own)."""
    records, logs.records = logs.records, []
    for record in records:
        assert record.exc_info is None, f"{record.name}: {record.getMessage()}"
        assert "Traceback" not in record.getMessage(), record.getMessage()[:2000]


# Raw HTTP ----------------------------------------------------------------------------------------


def send(
    served: Served,
    method: str | bytes,
    path: str | bytes,
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    body: bytes = b"",
) -> tuple[int, bytes]:
    """One raw HTTP/1.1 request; the status and body (the server closes every connection)."""
    line = b" ".join(x if isinstance(x, bytes) else x.encode("ascii") for x in (method, path))
    lines = [line + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in headers]
    lines += [b"Content-Length: " + str(len(body)).encode("ascii"), b"Connection: close"]
    request = b"\r\n".join(lines) + b"\r\n\r\n" + body
    with socket.create_connection(served.address, timeout=20) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    if not status_line.startswith(b"HTTP/"):  # an HTTP/0.9 style error answer: body only
        return 400, answer
    return int(status_line.split()[1]), content


def assert_clean(status: int, body: bytes, logs: _Records) -> None:
    assert status < 500, (status, body[:300])
    assert b"Traceback" not in body
    json.loads(body or b"{}")  # every answer is JSON, even the refusals
    assert_no_traceback(logs)


# Tokens built to trip parsers ------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact(header: bytes, payload: bytes, signature: bytes = b"\x00" * 64) -> str:
    """A compact token around any header and payload bytes: valid base64url, any JSON inside."""
    return f"{b64(header)}.{b64(payload)}.{b64(signature)}"


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def huge_int(digits: int) -> bytes:
    return b"9" * digits


DEEP_HEADER = compact(b'{"alg":"RS256","x":' + deep(1500) + b"}", b'{"sub":"alice"}')
DEEP_PAYLOAD = compact(b'{"alg":"RS256"}', b'{"sub":"alice","x":' + deep(1500) + b"}")
HUGE_EXP = compact(b'{"alg":"RS256"}', b'{"sub":"alice","exp":' + huge_int(4400) + b"}")
HUGE_HEADER_INT = compact(b'{"alg":"RS256","kid":' + huge_int(4400) + b"}", b"{}")
SURROGATE_KID = compact(b'{"alg":"RS256","kid":"\\ud800"}', b'{"sub":"\\udfff"}')

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(['"\\ud800"', '"\\udfff\\ud800"', "1e999", "-0", "9" * 4400]).map(
        lambda raw: json.loads(raw) if len(raw) < 100 else raw
    ),
)
NASTY_JSON_TEXT = st.one_of(
    st.integers(1000, 1300).map(lambda d: deep(d).decode()),  # past CPython's 1,000 frames
    st.integers(4301, 6000).map(lambda d: huge_int(d).decode()),
    st.sampled_from(['"\\ud800"', '"a\\udc00b"', '{"a":"\\ud83d"}', "[1,", "{", "NaN", "1e999"]),
    st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3), max_leaves=8).map(
        lambda value: value if isinstance(value, str) else json.dumps(value)
    ),
)


@st.composite
def nasty_tokens(draw: st.DrawFn) -> str:
    """Tokens of valid base64url shape with hostile JSON inside, or hostile shape."""
    shape = draw(st.sampled_from(["header", "payload"] * 2 + ["segments", "bytes"]))
    if shape == "bytes":
        return draw(st.binary(max_size=200)).decode("latin-1")
    if shape == "segments":
        parts = draw(st.lists(st.text("A-_.=+/~ eyJ0", max_size=40), min_size=1, max_size=5))
        return ".".join(parts)
    inner = draw(NASTY_JSON_TEXT)
    member = f'{{"alg":"RS256","kid":"k","x":{inner}}}'.encode("utf-8", "surrogatepass")
    plain = b'{"alg":"RS256","kid":"k"}'
    if shape == "header":
        return compact(member, b'{"sub":"alice"}')
    return compact(plain, member)


HEADER_BYTES = st.binary(max_size=120).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def authorization(draw: st.DrawFn) -> bytes:
    token = draw(nasty_tokens())
    scheme = draw(st.sampled_from([b"Bearer "] * 4 + [b"bearer ", b"", b"Bearer  ", b"Basic "]))
    value = scheme + token.encode("latin-1", "replace")
    if draw(st.integers(0, 4)) == 0:
        value = value + draw(HEADER_BYTES)
    return value.replace(b"\r", b"").replace(b"\n", b"")


BODIES = st.one_of(
    st.binary(max_size=300),
    NASTY_JSON_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.fixed_dictionaries(
        {},
        optional={
            "username": st.sampled_from(["alice", "bob", "\\ud800", "nobody"]) | JSON_LEAF,
            "password": st.sampled_from(["wonderland", "\\udfff", ""]) | JSON_LEAF,
            "refresh_token": JSON_LEAF | st.sampled_from(["\\ud800"]),
            "scope": JSON_LEAF,
            "text": JSON_LEAF,
        },
    ).map(lambda d: json.dumps(d).replace("\\\\u", "\\u").encode("utf-8")),
)
ROUTES = [
    ("POST", "/login"),
    ("POST", "/refresh"),
    ("POST", "/logout"),
    ("POST", "/api/predict"),
    ("GET", "/api/profile"),
    ("GET", "/api/admin"),
]


# Property tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODES))
@BOUNDED
@given(
    route=st.sampled_from(ROUTES),
    value=authorization(),
    cookie=st.none() | HEADER_BYTES,
)
def test_no_authorization_header_gets_a_5xx_or_a_traceback(
    servers: dict[str, Served], logs: _Records, mode: str, route: tuple, value: bytes, cookie
) -> None:
    headers = [(b"Authorization", value)]
    if cookie is not None:
        headers.append((b"Cookie", cookie))
    status, body = send(servers[mode], *route, headers=headers)
    assert_clean(status, body, logs)


@pytest.mark.parametrize("mode", list(MODES))
@BOUNDED
@given(route=st.sampled_from(ROUTES[:4]), body=BODIES, token=st.none() | nasty_tokens())
def test_no_json_body_gets_a_5xx_or_a_traceback(
    servers: dict[str, Served], logs: _Records, mode: str, route: tuple, body: bytes, token
) -> None:
    served = servers[mode]
    if token is None:  # a real token, so /api/predict reads the body
        token = served.api.idp.issue("bob", "admin", ("profile", "predict"))
    value = token.encode("latin-1", "replace").replace(b"\r", b"").replace(b"\n", b"")
    headers = [(b"Authorization", b"Bearer " + value), (b"Content-Type", b"application/json")]
    status, answer = send(served, *route, headers=headers, body=body)
    assert_clean(status, answer, logs)


REQUEST_TARGET = st.binary(max_size=60).map(
    lambda b: b"/" + bytes(c for c in b if c not in b" \r\n")
) | st.sampled_from([p.encode() + b"?x=\xff" for _, p in ROUTES] + [b"/api/profile/", b"//login"])


@pytest.mark.parametrize("mode", list(MODES))
@settings(BOUNDED, max_examples=max(10, BOUNDED.max_examples // 2))
@given(
    method=st.sampled_from([b"GET", b"POST", b"PUT", b"HEAD", b"OPTIONS", b"G\xe9T"]),
    target=REQUEST_TARGET,
)
def test_no_request_line_gets_a_5xx_or_a_traceback(
    servers: dict[str, Served], logs: _Records, mode: str, method: bytes, target: bytes
) -> None:
    token = servers[mode].api.idp.issue("bob", "admin", ("profile", "predict"))
    headers = [(b"Authorization", f"Bearer {token}".encode("ascii"))]
    status, body = send(servers[mode], method, target, headers=headers)
    assert status < 500, (status, body[:300])
    assert b"Traceback" not in body
    assert_no_traceback(logs)


# Regression tests, one per attack class ----------------------------------------------------------

CRAFTED = {
    "deep-header": DEEP_HEADER,
    "deep-payload": DEEP_PAYLOAD,
    "huge-exp": HUGE_EXP,
    "huge-header-int": HUGE_HEADER_INT,
    "surrogate-kid": SURROGATE_KID,
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_deep_nesting_and_huge_number_tokens_are_refused_in_every_mode(
    servers: dict[str, Served], logs: _Records, name: str
) -> None:
    token = CRAFTED[name]
    assert len(token) < 8192  # under the parser's own size bound: only the JSON is hostile
    for mode, served in servers.items():
        headers = [(b"Authorization", f"Bearer {token}".encode("ascii"))]
        status, body = send(served, "GET", "/api/profile", headers=headers)
        assert status == served.invalid_status, (mode, status, body[:200])
        assert_clean(status, body, logs)
        status, body = send(served, "POST", "/logout", headers=headers)
        assert status == 401, (mode, status, body[:200])
        assert_clean(status, body, logs)


def test_deep_nesting_token_gets_the_jwt_authorizers_invalid_token_challenge(
    servers: dict[str, Served],
) -> None:
    response = requests.get(
        f"{servers['jwt'].api.url}/api/profile",
        headers={"Authorization": f"Bearer {DEEP_HEADER}"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "alice", "password": "\\ud800"}',
        b'{"username": "\\ud800", "password": "wonderland"}',
        b'{"username": "alice", "password": "wonder\\udc00land"}',
        b'{"username": "alice", "password": "wonderland", "scope": "\\ud800"}',
        b'{"username": "alice", "password": "wonderland", "note": ["\\udfff"]}',
        b'{"username": "alice", "password": "wonderland", "\\ud800": 1}',
    ],
)
def test_lone_surrogate_password_is_400(
    servers: dict[str, Served], logs: _Records, body: bytes
) -> None:
    for served in servers.values():
        status, answer = send(served, "POST", "/login", body=body)
        assert status == 400, (status, answer[:200])
        assert_clean(status, answer, logs)


def test_lone_surrogate_refresh_token_is_400(servers: dict[str, Served], logs: _Records) -> None:
    for served in servers.values():
        status, answer = send(served, "POST", "/refresh", body=b'{"refresh_token": "\\ud800"}')
        assert status == 400, (status, answer[:200])
        assert_clean(status, answer, logs)


def test_lone_surrogate_predict_text_is_400(servers: dict[str, Served], logs: _Records) -> None:
    for served in servers.values():
        token = served.api.idp.issue("bob", "admin", ("profile", "predict"))
        headers = [(b"Authorization", f"Bearer {token}".encode("ascii"))]
        body = b'{"text": "great \\ud800 model"}'
        status, answer = send(served, "POST", "/api/predict", headers=headers, body=body)
        assert status == 400, (status, answer[:200])
        assert_clean(status, answer, logs)
        body = b'{"text": "great \\ud83d\\ude00 model"}'  # a valid pair: an emoji
        assert send(served, "POST", "/api/predict", headers=headers, body=body)[0] == 200


def test_surrogate_pairs_are_ordinary_text(servers: dict[str, Served]) -> None:
    # A valid pair is one character (U+1F600): a wrong password, not a malformed one.
    body = b'{"username": "alice", "password": "\\ud83d\\ude00"}'
    assert send(servers["rest-token"], "POST", "/login", body=body)[0] == 401


def test_lone_surrogates_in_process_are_400_too() -> None:
    provider = idp.IdentityProvider()
    for call in (
        lambda: provider.login("alice", "\ud800"),
        lambda: provider.login("\udfff", "wonderland"),
        lambda: provider.refresh("\ud800"),
    ):
        with pytest.raises(idp.IdpError) as caught:
            call()
        assert caught.value.status == 400


# The login oracle --------------------------------------------------------------------------------


@pytest.fixture
def kdf_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every scrypt the IdP runs: (password bytes, salt length, cost parameters)."""
    calls: list[tuple] = []
    real = idp.hashlib.scrypt

    def counting(password: bytes, *, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
        calls.append((password, len(salt), n, r, p, dklen))
        return real(password, salt=salt, n=n, r=r, p=p, dklen=dklen)

    monkeypatch.setattr(idp.hashlib, "scrypt", counting)
    return calls


def test_login_is_not_a_password_oracle(kdf_calls: list[tuple]) -> None:
    provider = idp.IdentityProvider(clock=FrozenClock(NOW))
    attempts = [
        ("alice", "wonderland", 200),  # the right password
        ("alice", "builder", 401),  # a known user, a real password (bob's) that is wrong here
        ("alice", "nope", 401),  # a known user, a wrong password
        ("mallory", "wonderland", 401),  # a real password under a username that does not exist
        ("mallory", "nope", 401),  # an unknown user, a wrong password
        ("alice", "wonderland", 200),  # the same password again: no memo, the same work
        ("mallory", "wonderland", 401),
    ]
    for username, password, status in attempts:
        before = len(kdf_calls)
        try:
            provider.login(username, password)
            answered = 200
        except idp.IdpError as exc:
            answered = exc.status
        assert answered == status, (username, password)
        made = kdf_calls[before:]
        assert len(made) == 1, (username, password, len(made))  # exactly one hash, every time
        assert made[0][0] == password.encode("utf-8")  # of the presented password
    assert len({call[1:] for call in kdf_calls}) == 1  # same salt size, same n, r, p, dklen


def test_login_memo_is_gone_so_it_cannot_grow(kdf_calls: list[tuple]) -> None:
    provider = idp.IdentityProvider()
    for attempt in range(5):
        with pytest.raises(idp.IdpError):
            provider.login("alice", f"guess-{attempt % 2}")
    assert len(kdf_calls) == 5  # two distinct guesses tried five times: five full hashes
    assert not hasattr(idp, "_password_hash")  # the memoised hash of presented passwords


# Bounded stores ----------------------------------------------------------------------------------


def test_idp_session_store_is_bounded_and_answers_429_at_capacity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(idp, "MAX_SESSIONS", 3)
    provider = idp.IdentityProvider(clock=FrozenClock(NOW))
    sessions = [provider.login("alice", "wonderland") for _ in range(3)]
    with pytest.raises(idp.IdpError) as full:
        provider.login("alice", "wonderland")
    assert full.value.status == 429
    provider.logout(sessions[0]["access_token"])  # ends one session: room for another
    provider.login("alice", "wonderland")
    assert len(provider._families) == 3


def test_deny_list_eviction_never_unrevokes_a_live_token() -> None:
    clock = FrozenClock(NOW)
    provider = idp.IdentityProvider(clock=clock)
    access = provider.login("alice", "wonderland")["access_token"]
    jti = provider.own_claims(access)["jti"]
    exp = provider.own_claims(access)["exp"]
    provider.logout(access)
    for seconds in (60, 600, provider.access_ttl + idp.REVOCATION_GRACE - 1):
        clock.set(NOW + seconds)
        provider._prune()
        assert provider.is_revoked(jti), seconds  # denied while a lenient verifier accepts it
    clock.set(exp + idp.REVOCATION_GRACE + 1)
    provider._prune()
    assert not provider.is_revoked(jti)  # long expired: dropping it un-revokes nothing
    assert provider._denied == {} and provider._families == {} and provider._refresh == {}


def test_used_refresh_tokens_are_bounded_per_session() -> None:
    provider = idp.IdentityProvider(clock=FrozenClock(NOW))
    reply = provider.login("alice", "wonderland")
    used = []
    for _ in range(idp.MAX_USED_REFRESH + 10):
        used.append(reply["refresh_token"])
        reply = provider.refresh(reply["refresh_token"])
    assert len(provider._refresh) == idp.MAX_USED_REFRESH + 1  # the used ones kept, and one live
    with pytest.raises(idp.IdpError, match="unknown"):  # forgotten: refused all the same
        provider.refresh(used[0])
    with pytest.raises(idp.IdpError, match="reused"):  # remembered: the session is revoked
        provider.refresh(used[-1])
    with pytest.raises(idp.IdpError):
        provider.refresh(reply["refresh_token"])


# Slow and idle clients ---------------------------------------------------------------------------


def idle_connections(api: Api, count: int) -> list[socket.socket]:
    host, port = api.url.removeprefix("http://").rsplit(":", 1)
    return [socket.create_connection((host, int(port)), timeout=20) for _ in range(count)]


def test_ten_idle_connections_do_not_block_a_normal_request() -> None:
    with serve() as api:
        held = idle_connections(api, 10)
        try:
            response = requests.get(f"{api.url}/api/health", timeout=10)
            assert response.status_code == 200
        finally:
            for conn in held:
                conn.close()


def test_idle_connection_is_closed_after_the_read_timeout() -> None:
    with serve(read_timeout=0.3) as api:
        (conn,) = idle_connections(api, 1)
        with conn:
            assert conn.recv(1024) == b""  # the server hung up; the client sent nothing


def test_trickling_client_is_cut_off_at_its_deadline() -> None:
    with serve(read_timeout=0.5) as api:
        (conn,) = idle_connections(api, 1)
        sent = 0
        with conn:
            try:
                for byte in b"GET /api/health HTTP/1.1\r\nX-Slow: " + b"a" * 200:
                    conn.sendall(bytes([byte]))
                    sent += 1
                    time.sleep(0.05)
            except OSError:  # the server closed: the write failed
                pass
            conn.settimeout(5)
            assert conn.recv(1024) == b""
        assert sent < 150  # a byte every 50 ms kept each wait short, but not the whole request


def test_an_unread_body_does_not_hold_the_connection_until_the_deadline() -> None:
    # A refused request leaves its body unread; the server discards what has arrived and
    # closes, rather than waiting for a client that keeps its end open.
    with serve(read_timeout=60.0) as api:
        (conn,) = idle_connections(api, 1)
        body = b"x" * 200_000
        head = b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer a.b.c\r\n"
        with conn:
            conn.sendall(head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            conn.settimeout(10)  # far less than the read timeout: a wait that long fails
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 401")


def test_connections_beyond_the_limit_wait_instead_of_taking_threads() -> None:
    with serve(read_timeout=0.5, max_connections=2) as api:
        held = idle_connections(api, 5)
        try:
            time.sleep(0.2)
            workers = [t for t in threading.enumerate() if "process_request" in t.name]
            assert len(workers) == 2  # five connections, two threads: three wait their turn
            response = requests.get(f"{api.url}/api/health", timeout=20)  # once slots free up
            assert response.status_code == 200
        finally:
            for conn in held:
                conn.close()


def test_a_stalled_tls_handshake_does_not_block_other_clients() -> None:
    with serve(tls=True, read_timeout=5.0) as api:
        host, port = api.url.removeprefix("https://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=20):  # connects, never says hello
            time.sleep(0.1)
            response = requests.get(f"{api.url}/api/health", verify=api.certificate, timeout=10)
            assert response.status_code == 200


# ECDSA malleability: the deny-list keys on jti, not on the token string --------------------------

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def malleated(token: str) -> str:
    """The same ES256 token with its signature (r, s) rewritten as (r, n - s): still valid."""
    head, body, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    return f"{head}.{body}.{b64(r + (P256_ORDER - s).to_bytes(32, 'big'))}"


def test_ecdsa_malleability_cannot_bring_a_logged_out_token_back() -> None:
    clock = FrozenClock(NOW)
    provider = idp.IdentityProvider(alg="ES256", clock=clock)
    config = AuthorizerConfig(provider.issuer, provider.audience, ("ES256",))
    check = Authorizer(config, key=provider.jwks, is_revoked=provider.is_revoked, clock=clock)
    token = provider.login("alice", "wonderland")["access_token"]
    twin = malleated(token)
    assert twin != token
    assert check.claims(twin)["sub"] == "alice"  # a second valid string for the same token
    provider.logout(twin)  # logging out either string revokes the jti both carry
    for candidate in (token, twin):
        with pytest.raises(InvalidTokenError, match="revoked"):
            check.claims(candidate)
