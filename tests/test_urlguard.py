"""labkit.outbound, the one outbound-URL guard, under a resolver trap, through all four callers.

The scanner, the ``follow_jku`` lab verifier, the Lambda authorizer's JWKS
client and the tamper playground all send through ``labkit.outbound``. The
``trap`` fixture replaces the resolver and ``connect``: the test fails if any
name but the ones a test hands it is resolved, or any address but loopback is
connected to. Every bypass URL of the table is refused by every caller with a
one-line labkit error before a single lookup or connection; the genuine
loopback URLs still work over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import cli, examples, keys, outbound, scan, vulnerable
from labkit.attacks import injection
from labkit.aws import authorizer, serve
from labkit.errors import ConfigurationError, KeyNotFoundError, LabkitError
from labkit.widgets import TamperPlayground

FAR = 4_102_444_800  # 2100-01-01
ADMIN = {**examples.LAB_CLAIMS, "role": "admin", "exp": FAR}  # issued 2026-01-01, lives long
SERVICE_JWKS = keys.to_jwks([keys.demo_public_key("rsa")])
SERVICE_KID = SERVICE_JWKS["keys"][0]["kid"]
API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local"}
VALID = examples.lab_token()  # a signed token: the scan must refuse the URL before using it
GATEWAY = "gateway URL (HTTP GET, Authorization: Bearer)"
PROPERTY = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


# The resolver trap --------------------------------------------------------------------------------


@dataclass
class Trap:
    """Every lookup and connection seen; ``names`` is the only DNS there is (name -> answers)."""

    names: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.lookups.clear()
        self.connects.clear()

    def allowed(self, host: object) -> bool:
        try:
            return ipaddress.ip_address(str(host).partition("%")[0]).is_loopback
        except ValueError:
            return False

    def refuse(self, what: str) -> AssertionError:
        self.violations.append(what)
        return AssertionError(f"the resolver trap caught: {what}")


@pytest.fixture
def trap(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trap]:
    """Fail the test if anything resolves a name (other than ``trap.names``) or leaves loopback."""
    state = Trap()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        state.lookups.append(name)
        if state.names.get(name):
            queue = state.names[name]
            answers = queue.pop(0) if len(queue) > 1 else queue[0]  # the last answer stays
            return [info for a in answers for info in real_getaddrinfo(a, port, *args, **kwargs)]
        if not state.allowed(name):
            raise state.refuse(f"getaddrinfo({name!r})")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def by_name(host: Any, *args: Any) -> Any:
        raise state.refuse(f"gethostbyname({host!r})")

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple):
            state.connects.append(str(address[0]))
            if not state.allowed(address[0]):
                raise state.refuse(f"connect({address!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", by_name)
    monkeypatch.setattr(socket, "gethostbyname_ex", by_name)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:9")  # never used: trust_env is off
    monkeypatch.setenv("HTTPS_PROXY", "http://10.255.255.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    yield state
    assert state.violations == [], state.violations


def test_the_trap_itself_catches_a_lookup_and_a_connection(trap: Trap) -> None:
    with pytest.raises(AssertionError, match="trap caught"):
        socket.getaddrinfo("evil.invalid", 80)
    with pytest.raises(AssertionError, match="trap caught"), socket.socket() as sock:
        sock.connect(("10.255.255.1", 9))
    assert len(trap.violations) == 2
    trap.violations.clear()  # the trap works: nothing else may trip it


# The four callers -------------------------------------------------------------------------------


def one_line(message: str) -> str:
    assert message and "\n" not in message and "\r" not in message, repr(message)
    assert "Traceback" not in message
    return message


def scanner(url: str) -> str:
    with pytest.raises(scan.TargetRefusedError) as caught:
        scan.scan(url, VALID)
    return one_line(str(caught.value))


def scanner_cli(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["scan", url, "--token", VALID]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    return one_line(captured.err.rstrip("\n"))


def jku(url: str) -> str:
    token = injection.forge_jku(ADMIN, url, kid=SERVICE_KID).token
    with pytest.raises(KeyNotFoundError) as caught:
        vulnerable.follow_jku(token, SERVICE_JWKS, algorithms=["RS256"], **API)
    return one_line(str(caught.value))


def jwks_client(url: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        authorizer.JwksClient(url)
    return one_line(str(caught.value))


def playground(url: str) -> str:
    widget = TamperPlayground(gateway_url=url)
    widget.target.value = GATEWAY
    result = widget.run()
    assert result.verdict == "error", result
    return one_line(result.reason)


CALLERS: dict[str, Callable[[str], str]] = {
    "scanner": scanner,
    "follow_jku": jku,
    "jwks_client": jwks_client,
    "playground": playground,
}


def refused_by_every_caller(
    url: str, trap: Trap, capsys: pytest.CaptureFixture[str]
) -> dict[str, str]:
    """Each caller's one-line refusal; no lookup and no connection happened for any of them."""
    messages = {}
    for name, caller in [*CALLERS.items(), ("scanner CLI", lambda u: scanner_cli(u, capsys))]:
        trap.reset()
        messages[name] = caller(url)
        assert trap.lookups == [] and trap.connects == [], (name, trap.lookups, trap.connects)
    return messages


# The bypass table ---------------------------------------------------------------------------------

BYPASSES: list[tuple[str, str]] = [
    ("userinfo", "http://evil.invalid\\@127.0.0.1:8000/api/profile"),  # the reported split
    ("userinfo", "http://127.0.0.1@evil.invalid/"),
    ("userinfo", "http://127.0.0.1:80@evil.invalid/"),
    ("userinfo", "http://127.0.0.1%2f@evil.invalid/"),
    ("userinfo", "http://evil.invalid%5c@127.0.0.1/"),
    ("userinfo", "http://[::1]@evil.invalid/"),
    ("userinfo", "https://127.0.0.1@evil.invalid/jwks.json"),
    ("userinfo", "http://evil.invalid:80\\@127.0.0.1/"),
    ("fragment", "http://evil.invalid#@127.0.0.1/"),
    ("query", "http://evil.invalid?@127.0.0.1/"),
    ("backslash", "http:\\\\evil.invalid/"),
    ("backslash", "http://127.0.0.1:8000\\@evil.invalid/"),
    ("backslash", "HTTP://evil.invalid\\@127.0.0.1/"),
    ("scheme", "HTTP://evil.invalid/"),
    ("scheme", "http:/127.0.0.1/"),
    ("scheme", "http:/evil.invalid/"),
    ("scheme", "//evil.invalid/"),
    ("double_slash", "http://127.0.0.1//evil.invalid/"),
    ("scheme", "ftp://127.0.0.1/"),
    ("scheme", "file:///etc/passwd"),
    ("scheme", "gopher://127.0.0.1:6379/_FLUSHALL"),
    ("whitespace", "http://127.0.0.1\t@evil.invalid/"),
    ("whitespace", "http://127.0.0.1\r\n@evil.invalid/"),
    ("whitespace", "http://127.0.0.1 @evil.invalid/"),
    ("whitespace", "http://127.0.0.1/\r\nHost: evil.invalid"),
    ("whitespace", "http://ev\til.invalid/"),
    ("whitespace", "http://127.0.0.1\x00.evil.invalid/"),
    ("encoded", "http://127%2e0%2e0%2e1/"),
    ("encoded", "http://evil%2einvalid/"),
    ("encoded", "http://%31%32%37.0.0.1/"),
    ("encoded", "http://[::1%25lo]/"),
    ("unicode", "http://１２７.０.０.１/"),
    ("unicode", "http://127。0。0。1/"),
    ("unicode", "http://evil。invalid/"),
    ("unicode", "http://ⓔvil.invalid/"),  # IDNA (UTS 46) maps it to evil.invalid
    ("unicode", "http://127.0.0.1\u2024evil.invalid/"),  # one dot leader
    ("trailing_dot", "http://127.0.0.1./"),
    ("trailing_dot", "http://localhost./"),
    ("short_ipv4", "http://127.1/"),
    ("short_ipv4", "http://2130706433/"),
    ("short_ipv4", "http://0x7f.1/"),
    ("short_ipv4", "http://0177.0.0.1/"),
    ("short_ipv4", "http://0x7f000001/"),
    ("short_ipv4", "http://1.2.3.4.5/"),
    ("mapped_ipv6", "http://[::ffff:7f00:1]/"),
    ("mapped_ipv6", "http://[::ffff:127.0.0.1]/"),
    ("mapped_ipv6", "http://[::127.0.0.1]/"),
    ("unspecified", "http://0.0.0.0:8000/"),
    ("unspecified", "http://[::]:8000/"),
    ("name", "http://127.0.0.1.nip.io/"),
    ("name", "http://localtest.me/"),
    ("name", "http://localhost.evil.invalid/"),
    ("name", "http://evil.invalid/"),
    ("remote_ip", "http://10.0.0.1/"),
    ("remote_ip", "http://169.254.169.254/latest/meta-data/"),
    ("port", "http://127.0.0.1:/"),
    ("port", "http://127.0.0.1:0/"),
    ("port", "http://127.0.0.1:99999/"),
    ("port", "http://127.0.0.1:80:81/"),
    ("port", "http://127.0.0.1:8o/"),
    ("length", "http://127.0.0.1/" + "a" * 3000),
    # Found by the red-team pass: dot segments that requests removes at preparation
    ("dot_segments", "http://127.0.0.1/.//evil.invalid/"),  # prepared: //evil.invalid/
    ("dot_segments", "http://127.0.0.1/a/..//evil.invalid/"),
    ("dot_segments", "http://127.0.0.1/%2e//evil.invalid/"),
    ("dot_segments", "http://127.0.0.1/%2E%2E//evil.invalid/"),  # /..//evil, then /evil
    ("dot_segments", "http://127.0.0.1/x/%2e%2e/%2E%2E//evil.invalid/"),
    ("dot_segments", "http://127.0.0.1/a/%2e"),
    # Tried and already refused: kept so they stay refused
    ("zone_id", "http://[fe80::1%25eth0]/"),
    ("zone_id", "http://[::ffff:127.0.0.1%25lo]/"),
    ("mapped_ipv6", "http://[0:0:0:0:0:ffff:127.0.0.1]/"),
    ("mapped_ipv6", "http://[::ffff:0:127.0.0.1]/"),
    ("nat64", "http://[64:ff9b::7f00:1]/"),
    ("nat64", "http://[2002:7f00:1::]/"),
    ("port", "http://127.0.0.1:65536/"),
    ("port", "http://127.0.0.1:+80/"),
    ("port", "http://127.0.0.1: 80/"),
    ("port", "http://127.0.0.1:080/"),
    ("scheme", "http:evil.invalid/"),
    ("scheme", "http;//evil.invalid/"),
    ("scheme", "hTTp:\\evil.invalid/"),
    ("encoded", "http://127.0.0.1%252e/"),
    ("encoded", "http://127.0.0.1:8000%2f@evil.invalid/"),
    ("fragment", "http://127.0.0.1#\\@evil.invalid/"),
    ("unicode", "http://ｅｖｉｌ.invalid/"),
    ("unicode", "http://evil.invalid\u200b/"),
    ("unicode", "http://127.0.0.1\ufeff/"),
]


@pytest.mark.parametrize(
    "url", [url for _, url in BYPASSES], ids=[f"{kind}-{i}" for i, (kind, _) in enumerate(BYPASSES)]
)
def test_bypass_url_is_refused_by_every_caller_before_any_packet(
    url: str, trap: Trap, capsys: pytest.CaptureFixture[str]
) -> None:
    refused_by_every_caller(url, trap, capsys)


def test_bypass_table_is_large_and_names_its_classes() -> None:
    assert len(BYPASSES) >= 30
    assert {kind for kind, _ in BYPASSES} >= {
        "userinfo", "backslash", "whitespace", "unicode", "short_ipv4", "mapped_ipv6", "name"
    }  # fmt: skip


def test_userinfo_backslash_split_is_refused_by_every_caller(
    trap: Trap, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reported bug: urllib.parse saw 127.0.0.1, requests went to evil.invalid."""
    url = "http://evil.invalid\\@127.0.0.1:8000/api/profile"
    sent = urllib3.util.parse_url(requests.Request("GET", url).prepare().url)
    assert sent.host == "evil.invalid"  # what the old guard let through, the way requests reads it
    messages = refused_by_every_caller(url, trap, capsys)
    assert all("backslash" in message for message in messages.values()), messages


def test_userinfo_at_sign_is_named_in_the_refusal(
    trap: Trap, capsys: pytest.CaptureFixture[str]
) -> None:
    messages = refused_by_every_caller("http://127.0.0.1@evil.invalid/", trap, capsys)
    assert all("userinfo" in message for message in messages.values()), messages


def test_short_ipv4_refusal_names_the_address_it_means(
    trap: Trap, capsys: pytest.CaptureFixture[str]
) -> None:
    for url in ("http://127.1/", "http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/"):
        messages = refused_by_every_caller(url, trap, capsys)
        assert all("127.0.0.1" in m for m in messages.values()), messages


def test_remote_host_refusal_tells_the_scanner_user_about_allow_host(trap: Trap) -> None:
    assert "--allow-host evil.invalid" in scanner("http://evil.invalid/api")
    assert "refused to send a token to evil.invalid" in playground("http://evil.invalid/api")


# The genuine loopback URLs still work, over real HTTP -------------------------------------------


def login(url: str) -> str:
    """Alice's token from the local IdP (no proxy from the environment: the trap sets one)."""
    with requests.Session() as session:
        session.trust_env = False
        reply = session.post(f"{url}/login", json={"username": "alice", "password": "wonderland"})
        return str(reply.json()["access_token"])


@pytest.fixture
def key_server(trap: Trap) -> Iterator[injection.KeyServer]:
    """A real JWKS on 127.0.0.1 (the attacker's key under the service's kid)."""
    with injection.serve_jwks(injection.attacker_jwks(kid=SERVICE_KID)) as server:
        yield server


def genuine(base: str) -> list[str]:
    """Loopback spellings every caller must accept for the server at ``base``."""
    port = base.rpartition(":")[2]
    return [f"http://127.0.0.1:{port}", f"HTTP://127.0.0.1:{port}"]


def test_genuine_loopback_urls_work_for_follow_jku(key_server: injection.KeyServer) -> None:
    for base in genuine(key_server.url.rpartition("/.well-known")[0]):
        url = f"{base}{injection.JWKS_PATH}#keys"
        token = injection.forge_jku(ADMIN, url, kid=SERVICE_KID).token
        assert vulnerable.follow_jku(token, SERVICE_JWKS, algorithms=["RS256"], **API) == ADMIN
    assert key_server.requests == [injection.JWKS_PATH] * 2


def test_follow_jku_refuses_localhost_a_name_even_for_this_machine(
    key_server: injection.KeyServer,
) -> None:
    url = key_server.url.replace("127.0.0.1", "localhost")
    assert "refusing to fetch keys" in jku(url)
    assert key_server.requests == []


def test_genuine_loopback_urls_work_for_the_jwks_client(key_server: injection.KeyServer) -> None:
    base = key_server.url.rpartition("/.well-known")[0]
    for url in [*genuine(base), base.replace("127.0.0.1", "localhost")]:
        client = authorizer.JwksClient(f"{url}{injection.JWKS_PATH}")
        assert client()["keys"][0]["kid"] == SERVICE_KID
    assert len(key_server.requests) == 3


def test_genuine_loopback_urls_work_for_the_playground(
    key_server: injection.KeyServer, trap: Trap
) -> None:
    base = key_server.url.rpartition("/.well-known")[0]
    for url in [*genuine(base), base.replace("127.0.0.1", "localhost")]:
        widget = TamperPlayground(gateway_url=f"{url}{injection.JWKS_PATH}")
        widget.target.value = GATEWAY
        result = widget.run()
        assert result.verdict == "accepted" and result.reason.startswith("HTTP 200 {"), result
    assert len(key_server.requests) == 3
    assert "localhost" not in trap.lookups  # localhost is 127.0.0.1 without asking the resolver


def test_genuine_loopback_urls_work_for_the_scanner(trap: Trap) -> None:
    with serve("hardened") as api:
        token = login(api.url)
        port = api.url.rpartition(":")[2]
        for base in [*genuine(api.url), f"http://localhost:{port}"]:
            report = scan.scan(f"{base}/api/profile", token)
            assert report.clean and report.requests > 10, report.text()
    assert set(trap.connects) == {"127.0.0.1"}


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://evil.invalid/.well-known/jwks.json")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


def test_redirect_to_a_remote_name_is_never_followed_by_any_caller(trap: Trap) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Redirect) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/.well-known/jwks.json"
        try:
            assert "answered HTTP 302" in jku(url)
            with pytest.raises(ConfigurationError, match="answered HTTP 302"):
                authorizer.JwksClient(url)()
            widget = TamperPlayground(gateway_url=url)
            widget.target.value = GATEWAY
            result = widget.run()
            assert result.verdict == "rejected" and result.reason.startswith("HTTP 302"), result
            with pytest.raises(scan.ScanError, match="refused the valid token"):
                scan.scan(url, VALID)
        finally:
            httpd.shutdown()
            thread.join()
    assert "evil.invalid" not in trap.lookups and set(trap.connects) == {"127.0.0.1"}


# Header and cookie injection through the scanner's --header/--cookie and the session -----------

BAD_FIELD_NAMES = [
    "X-A\r\nHost: evil.invalid",  # a second header
    "X-A\nX-B",
    "X A",  # went out as-is: a header name with a space
    "X-A\x00",  # went out as-is: a NUL in the name
    " X",  # exited 70 (requests' InvalidHeader was not caught)
    "é",
    "Authorization:",
    "",
]
BAD_COOKIE_NAMES = ["s=1; evil", "s;x=1", "s\r\nHost: evil.invalid", "s\x00", "é", "s x", ""]


@pytest.mark.parametrize(
    ("field", "name"),
    [("header", n) for n in BAD_FIELD_NAMES] + [("cookie", n) for n in BAD_COOKIE_NAMES],
)
def test_header_or_cookie_injection_is_refused_before_any_packet(
    field: str, name: str, trap: Trap, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: ``--cookie 's=1; evil'`` sent ``Cookie: s=1; evil=<token>``, a cookie of its own."""
    refusal = f"{field} must be a {field} name"
    with pytest.raises(ConfigurationError, match=refusal) as caught:
        scan.scan("http://127.0.0.1:9/api", VALID, **{field: name})
    one_line(str(caught.value))
    assert cli.main(["scan", "http://127.0.0.1:9/api", "--token", VALID, f"--{field}", name]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--{refusal}" in err, err
    assert trap.lookups == [] and trap.connects == []


def test_header_injection_guarded_session_refuses_odd_fields_before_sending(
    key_server: injection.KeyServer,
) -> None:
    destination = outbound.judge(key_server.url)
    with outbound.GuardedSession(destination) as session:
        for headers, cookies in [
            ({"X-A": "v\r\nHost: evil.invalid"}, None),
            ({"X-A": "v\nX-B: 1"}, None),
            ({"X-A": "v\x00"}, None),
            ({"X A": "v"}, None),
            ({"X-A": "é"}, None),
            (None, {"s": "a; evil=1"}),
            (None, {"s": "a\r\nHost: evil.invalid"}),
            (None, {"s=1; evil": "a"}),
        ]:
            with pytest.raises(outbound.UnsafeRequestError) as caught:
                session.get(headers=headers, cookies=cookies)
            one_line(str(caught.value))
        assert session.get(headers={"X-Ok": "a b\tc"}, cookies={"s": "eyJ.x-_"}).status == 200
    assert key_server.requests == [injection.JWKS_PATH]  # only the one well-formed request


def test_dot_segments_that_preparing_rewrites_never_reach_a_send_time_error(
    key_server: injection.KeyServer,
) -> None:
    """Found: ``/%2E%2E//x`` passed judge (prepared ``/..//x``) and then failed at send time
    (prepared again: ``/x``) with an UnsafeURLError the callers did not expect: a traceback
    in the playground, a ConfigurationError instead of KeyNotFoundError from follow_jku."""
    base = key_server.url.rpartition("/.well-known")[0]
    url = f"{base}/%2E%2E//.well-known/jwks.json"
    assert (
        "rewrites" in jku(url) and "rewrites" in jwks_client(url) and "rewrites" in playground(url)
    )
    assert key_server.requests == []


# DNS rebinding: an allowed name is resolved once ------------------------------------------------


def test_dns_rebinding_allowed_name_is_resolved_once_and_pinned(trap: Trap) -> None:
    """The name answers 127.0.0.1, then 10.255.255.1: every request still goes to the first."""
    with serve("alg-none") as api:
        token = login(api.url)
        trap.names["dev-api.test"] = [["127.0.0.1"], ["10.255.255.1"]]
        url = api.url.replace("127.0.0.1", "dev-api.test") + "/api/profile"
        report = scan.scan(url, token, allow_hosts=["dev-api.test"])
    assert trap.lookups.count("dev-api.test") == 1
    assert report.flaws == ["unsigned-token-accepted", "plain-http"]
    assert report.requests > 10 and set(trap.connects) == {"127.0.0.1"}
    assert any("resolved once, to 127.0.0.1" in note for note in report.notes), report.notes


def test_dns_rebinding_a_name_that_answers_any_address_is_refused(trap: Trap) -> None:
    trap.names["dev-api.test"] = [["0.0.0.0"]]
    with pytest.raises(scan.ScanError, match=r"0\.0\.0\.0, which is no address"):
        scan.scan("http://dev-api.test:1/api", VALID, allow_hosts=["dev-api.test"])
    assert trap.connects == []


def test_guarded_session_sends_only_to_its_destination(key_server: injection.KeyServer) -> None:
    destination = outbound.judge(key_server.url)
    with outbound.GuardedSession(destination) as session:
        assert session.get().status == 200
        assert session.get("/nothing/here").status == 404
        for path in ("x", "@evil.invalid/", "//evil.invalid/", "/\\@evil.invalid", "/\r\n"):
            with pytest.raises(outbound.UnsafeURLError):
                session.get(path)
    assert key_server.requests == [injection.JWKS_PATH, "/nothing/here"]


def test_answers_are_capped_and_too_big_key_sets_refused(key_server: injection.KeyServer) -> None:
    reply = outbound.fetch(outbound.judge(key_server.url), max_bytes=10)
    assert len(reply.body) == 10 and reply.truncated
    key_server._body = b'{"keys": []}' + b" " * (70 * 1024)  # bigger than 64 KiB
    token = injection.forge_jku(ADMIN, key_server.url, kid=SERVICE_KID).token
    with pytest.raises(KeyNotFoundError, match="sent over 65536 bytes"):
        vulnerable.follow_jku(token, SERVICE_JWKS, algorithms=["RS256"], **API)
    with pytest.raises(ConfigurationError, match="over 65536 bytes"):
        authorizer.JwksClient(key_server.url)()


# Properties ---------------------------------------------------------------------------------------

SCHEMES = ["http", "HTTP", "https", "hTtP", "ftp", "", "file", " http"]
SEPARATORS = ["://", ":/", ":\\\\", ":///", "//", ":", "://\t", ":\\/"]
USERINFO = ["", "", "", "evil.invalid@", "127.0.0.1@", "a:b@", "evil.invalid\\@", "@", "%40"]
HOSTS = [
    "127.0.0.1", "127.0.0.2", "evil.invalid", "localhost", "LOCALHOST", "127.1", "0x7f.1",
    "2130706433", "0177.0.0.1", "[::1]", "[0:0::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
    "0.0.0.0", "[::]", "127.0.0.1.", "localhost.", "１２７.０.０.１", "127。0。0。1",
    "ⓔvil.invalid",
    "127.0.0.1.nip.io", "%31%32%37.0.0.1", "evil%2einvalid", "10.0.0.1", "xn--e1afmkfd.xn--p1ai",
    "127.0.0.1\\", "[::1", "::1", "",
]  # fmt: skip
PORTS = ["", "", ":80", ":8000", ":0", ":65536", ":x", ":", ":80:81", ":08"]
TAILS = [
    "", "/", "\\", "?", "#", "/api", "\\@evil.invalid", "#@evil.invalid", "?@evil.invalid",
    "%2f@evil.invalid", "\t@evil.invalid", "\r\n", " ", "@evil.invalid", "/@evil.invalid",
    "%5c@127.0.0.1", "。evil.invalid", ".evil.invalid", "/..;/x", "/%2e%2e/",
]  # fmt: skip

pieces = st.tuples(
    st.sampled_from(SCHEMES),
    st.sampled_from(SEPARATORS),
    st.sampled_from(USERINFO),
    st.sampled_from(HOSTS),
    st.sampled_from(PORTS),
    st.lists(st.sampled_from(TAILS), max_size=3),
).map(lambda p: "".join(p[:5]) + "".join(p[5]))


def where_requests_connects(url: str) -> tuple[str, str]:
    """Scheme and host of the connection ``requests`` would open for ``url`` (urllib3's view)."""
    prepared = requests.Request("GET", url).prepare()
    sent = urllib3.util.parse_url(prepared.url)
    return str(sent.scheme), (sent.host or "").strip("[]")


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@PROPERTY
@given(url=pieces, policy=st.sampled_from([outbound.LOOPBACK, outbound.LOOPBACK_LITERALS]))
def test_property_refused_or_requests_connects_to_loopback(
    url: str, policy: outbound.Policy
) -> None:
    try:
        destination = outbound.judge(url, policy)
    except outbound.UnsafeURLError as exc:
        one_line(str(exc))
        return
    _, host = where_requests_connects(url)
    assert loopback(host) and (policy.localhost or host != "localhost"), (url, host)
    assert destination.addresses and all(loopback(a) for a in destination.addresses)
    assert destination.url == requests.Request("GET", url).prepare().url


@PROPERTY
@given(url=pieces)
def test_property_jwks_policy_is_loopback_or_https_to_the_judged_host(url: str) -> None:
    try:
        destination = outbound.judge(url, outbound.JWKS)
    except outbound.UnsafeURLError as exc:
        one_line(str(exc))
        return
    scheme, host = where_requests_connects(url)
    assert loopback(host) or (scheme == "https" and host == destination.host), (url, host)


@PROPERTY
@given(url=st.text(max_size=60) | st.binary(max_size=20).map(lambda b: b.decode("latin-1")))
def test_property_any_text_is_refused_in_one_line_or_loopback(url: str) -> None:
    try:
        outbound.judge(f"http://{url}")
    except outbound.UnsafeURLError as exc:
        one_line(str(exc))
        return
    except LabkitError as exc:  # pragma: no cover - the property: only UnsafeURLError
        raise AssertionError(f"{type(exc).__name__} for {url!r}") from exc
    assert loopback(where_requests_connects(f"http://{url}")[1]), url


PATHS = st.lists(
    st.sampled_from(
        ["/", ".", "..", "%2e", "%2E", "%2e%2e", "%2f", "a", "//", "?", "#", "%25", "~"]
    ),
    max_size=8,
).map(lambda parts: "http://127.0.0.1:8000/" + "".join(parts))


@PROPERTY
@given(url=PATHS)
def test_property_an_accepted_url_is_what_the_session_sends(url: str) -> None:
    """Whatever judge accepts, preparing it again (as GuardedSession does) changes nothing."""
    try:
        destination = outbound.judge(url)
    except outbound.UnsafeURLError as exc:
        one_line(str(exc))
        return
    with requests.Session() as session:
        again = session.prepare_request(requests.Request("GET", destination.url)).url
    assert again == destination.url, (url, destination.url, again)
    assert not urllib3.util.parse_url(destination.url).path.startswith("//"), url
