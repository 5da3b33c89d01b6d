"""labkit.scan and `labkit scan`: the one root cause of each preset, over real HTTP; safety; errors.

Every vulnerable preset of the local gateway gets exactly its one flaw
reported (its root cause), the hardened preset nothing. The scanner refuses
non-loopback targets unless told, never follows redirects, stays within its
request budget, and turns a target that is down, slow or not HTTP into one
clear message.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

import labkit
from labkit import capstone, cli, examples, keys, scan, vulnerable
from labkit.attacks import none
from labkit.aws import FrozenClock, presets, serve
from labkit.errors import ConfigurationError, KeyFormatError, MalformedTokenError

API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local"}
FAR = 4_102_444_800  # 2100-01-01: tokens the in-process verifiers accept today
CLAIMS = {**examples.LAB_CLAIMS, "iat": FAR - 900, "exp": FAR}


def login(url: str, user: str = "alice", password: str = "wonderland") -> str:
    return capstone.login(url, user, password)


# The presets, over real HTTP ---------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(set(capstone.PRESET_FLAWS) - set(capstone.SCAN_NEEDS)))
def test_each_vulnerable_preset_reports_exactly_its_root_cause(preset: str) -> None:
    with serve(preset) as api:
        report = scan.scan(f"{api.url}/api/profile", login(api.url))
    assert report.flaws == [capstone.PRESET_FLAWS[preset]], report.text()
    assert report.exit_code == 1
    assert report.requests <= 25
    finding = report.findings[0]
    assert "HTTP 200" in finding.evidence
    escalation = next(a for a in report.attempts if a.probe == "role-escalation")
    assert escalation.verdict == "accepted"
    assert "answer shows role admin" in escalation.detail
    assert next(a for a in report.attempts if a.probe == "expired-replay").verdict == "refused"


def test_preset_table_covers_every_vulnerable_preset() -> None:
    vulnerable_presets = {p.name for p in presets.available()} - {"hardened"}
    assert set(capstone.PRESET_FLAWS) == vulnerable_presets
    assert set(capstone.PRESET_FLAWS.values()) <= set(scan.FLAWS)
    assert set(capstone.SCAN_NEEDS) <= vulnerable_presets


@pytest.mark.parametrize("preset", sorted(capstone.SCAN_NEEDS))
def test_a_default_scan_of_a_preset_it_cannot_show_reports_no_false_flaw(preset: str) -> None:
    """Without the input SCAN_NEEDS names, nothing is found, and nothing wrong is reported."""
    with serve(preset) as api:
        report = scan.scan(f"{api.url}/api/profile", login(api.url))
    assert report.flaws == [], report.text()


def test_unverified_signature_is_one_root_cause_with_its_evidence() -> None:
    with serve("unverified-signature") as api:
        report = scan.scan(f"{api.url}/api/profile", login(api.url))
    (finding,) = report.findings
    explained = {a.probe for a in finding.explains}
    assert len([a for a in report.attempts if a.verdict == "accepted"]) >= 12
    assert {"alg-none", "confusion", "jwk", "jku", "kid-traversal", "psychic"} <= explained
    assert "also accepted because of it" in finding.evidence


@pytest.mark.parametrize("mode", ["rest", "http", "jwt"])
def test_hardened_is_clean_and_refuses_an_expired_token(mode: str) -> None:
    clock = FrozenClock(CLAIMS["iat"])
    with serve("hardened", mode=mode, clock=clock) as api:
        old = login(api.url)
        clock.advance(16 * 60)
        report = scan.scan(f"{api.url}/api/profile", login(api.url), expired_token=old)
    assert report.clean, report.text()
    assert report.exit_code == 0
    assert {a.verdict for a in report.attempts} <= {"refused", "skipped"}
    expired = next(a for a in report.attempts if a.probe == "expired-replay")
    assert expired.verdict == "refused" and expired.status in (401, 403)  # 403: HTTP API simple
    assert report.baseline[0] == "valid token accepted (HTTP 200)"


def test_scan_of_a_preset_takes_seconds_and_about_twenty_requests() -> None:
    with serve("hardened") as api:
        report = scan.scan(f"{api.url}/api/profile", login(api.url))
    assert 15 <= report.requests <= 25  # the figure the notebook and the report quote
    assert report.seconds < 30  # a generous bound: the point is "seconds, not minutes"


# Safety ------------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any request at all fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a request was sent: {args} {kwargs}")

    monkeypatch.setattr(requests.Session, "request", refuse)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/api",
        "https://10.0.0.1/api",
        "http://127.0.0.1.example.com/api",
        "http://[2001:db8::1]:8080/api",
    ],
)
def test_refuses_non_loopback_targets_before_sending_anything(url: str, no_network: None) -> None:
    token = labkit.sign_token(CLAIMS, keys.demo_secret(), "HS256")
    with pytest.raises(scan.TargetRefusedError, match=r"only loopback targets .* --allow-host"):
        scan.scan(url, token)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "127.0.0.1:80/x", "http:///x", "http://h:x/"])
def test_refuses_what_is_not_an_http_url(url: str) -> None:
    with pytest.raises(scan.TargetRefusedError):
        scan.check_target(url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/", "http://127.0.0.2/", "http://[::1]:8000/", "http://localhost/"]
)
def test_loopback_targets_need_no_permission(url: str) -> None:
    assert scan.check_target(url) is None


def test_an_allowed_host_gets_a_permission_reminder() -> None:
    reminder = scan.check_target("https://Dev.Example.com/api", ["dev.example.com"])
    assert reminder is not None and "permission" in reminder
    with pytest.raises(scan.TargetRefusedError):
        scan.check_target("https://other.example.com/api", ["dev.example.com"])


def test_cli_refuses_a_remote_target_in_one_line(
    capsys: pytest.CaptureFixture[str], no_network: None
) -> None:
    token = labkit.sign_token(CLAIMS, keys.demo_secret(), "HS256")
    assert cli.main(["scan", "http://example.com/api", "--token", token]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-host example.com" in err


def test_allow_host_scans_and_flags_plain_http(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A named dev host is scanned once allowed; the name resolves to this machine's loopback."""
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo("127.0.0.1" if host == "dev-api.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with serve("hardened") as api:
        url = api.url.replace("127.0.0.1", "dev-api.test") + "/api/profile"
        code = cli.main(["scan", url, "--token", login(api.url), "--allow-host", "dev-api.test"])
    out, err = capsys.readouterr()
    assert "make sure you have the owner's permission" in err
    assert code == 1 and "[plain-http]" in out


@contextmanager
def http_server(
    answer: Callable[[BaseHTTPRequestHandler], tuple[int, dict, bytes]],
) -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 that answers every GET with ``answer(request)``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = answer(self)
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


VALID = labkit.sign_token(CLAIMS, keys.demo_secret(), "HS256")


def only_valid(
    where: Callable[[BaseHTTPRequestHandler], str | None], refused: tuple[int, dict, bytes]
) -> Callable[[BaseHTTPRequestHandler], tuple[int, dict, bytes]]:
    def answer(request: BaseHTTPRequestHandler) -> tuple[int, dict, bytes]:
        if where(request) == VALID:
            return (
                200,
                {"Content-Type": "application/json"},
                b'{"sub": "alice", "canary": "c4n4ry"}',
            )
        return refused

    return answer


def test_redirects_are_never_followed() -> None:
    hits: list[str] = []
    with http_server(lambda r: (hits.append(r.path), (200, {}, b"elsewhere"))[1]) as other:
        answer = only_valid(
            lambda r: r.headers.get("Authorization", "")[7:], (302, {"Location": f"{other}/"}, b"")
        )
        with http_server(answer) as target:
            report = scan.scan(f"{target}/api", VALID)
    assert hits == []
    assert report.clean
    refused = [a for a in report.attempts if a.verdict == "refused"]
    assert refused and all(a.status == 302 and "not followed" in a.detail for a in refused)


def test_the_request_budget_is_a_hard_limit() -> None:
    with serve("hardened") as api:
        report = scan.scan(f"{api.url}/api/profile", login(api.url), max_requests=6)
    assert report.requests == 6
    assert any("budget" in note for note in report.notes)
    assert report.attempts[-1].detail == "request budget spent"


def test_token_in_a_cookie_or_another_header() -> None:
    cookie = only_valid(lambda r: (r.headers.get("Cookie") or "").partition("=")[2], (401, {}, b""))
    with http_server(cookie) as target:
        assert scan.scan(f"{target}/", VALID, cookie="session").clean
    header = only_valid(lambda r: r.headers.get("X-Token"), (401, {}, b""))
    with http_server(header) as target:
        assert scan.scan(f"{target}/", VALID, header="X-Token").clean


def test_canary_tells_a_login_page_from_the_real_answer() -> None:
    login_page = (200, {}, b"<html>please log in</html>")
    answer = only_valid(lambda r: r.headers.get("Authorization", "")[7:], login_page)
    with http_server(answer) as target:
        blind = scan.scan(f"{target}/", VALID)
        assert blind.flaws == ["no-authentication"]
        assert "--canary" in blind.findings[0].evidence
        assert scan.scan(f"{target}/", VALID, canary="c4n4ry").clean


def test_server_errors_on_probes_are_noted_not_findings() -> None:
    answer = only_valid(lambda r: r.headers.get("Authorization", "")[7:], (500, {}, b"boom"))
    with http_server(answer) as target:
        report = scan.scan(f"{target}/", VALID)
    assert report.clean
    assert any(a.verdict == "error" for a in report.attempts)
    assert any("5xx" in note for note in report.notes)


# A target that is down, slow, or not HTTP --------------------------------------------------------


@contextmanager
def raw_server(behaviour: str) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that misbehaves: answers garbage, hangs, or hangs up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)  # accept() wakes up often enough to notice the stop
    stop = threading.Event()

    def serve_forever() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            with conn:
                conn.recv(65536)
                if behaviour == "garbage":
                    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\nthis is not http\r\n\r\n")
                elif behaviour == "drip":  # headers at once, then a byte now and then
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    while not stop.wait(0.1):
                        conn.sendall(b"x")
                elif behaviour == "slow":
                    stop.wait(5)

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_target_down_is_one_clear_error() -> None:
    with pytest.raises(scan.ScanError, match="connection refused"):
        scan.scan(f"http://127.0.0.1:{free_port()}/api", VALID)


@pytest.mark.parametrize("behaviour", ["slow", "drip"])
def test_slow_target_times_out_with_a_clear_error(behaviour: str) -> None:
    with raw_server(behaviour) as url:
        started = time.perf_counter()
        with pytest.raises(scan.ScanError, match=r"did not answer within 0.3 s \(timeout\)"):
            scan.scan(url, VALID, timeout=0.3)
        assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [("garbage", "what came back is not HTTP"), ("hangup", "closed the connection")],
)
def test_garbage_answers_are_one_clear_error(behaviour: str, message: str) -> None:
    with raw_server(behaviour) as url, pytest.raises(scan.ScanError, match=message):
        scan.scan(url, VALID)


def test_a_refused_valid_token_stops_the_scan() -> None:
    with serve("hardened") as api, pytest.raises(scan.ScanError, match=r"refused the valid token"):
        scan.scan(f"{api.url}/api/profile", VALID)  # an HS256 token the RS256 service never issued


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "abc"], "malformed token"),
        (["--token", VALID, "--public-key", "/no/such/file.pem"], "cannot read"),
        (["--token", VALID, "--timeout", "0"], "timeout must be"),
        (["--token", VALID, "--wordlist", "/no/such/list.txt"], "no wordlist file"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["scan", f"http://127.0.0.1:{free_port()}/api", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_cli_target_down_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scan", f"http://127.0.0.1:{free_port()}/api", "--token", VALID]) == 2
    assert "connection refused" in capsys.readouterr().err


def test_cli_header_and_cookie_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["scan", "http://127.0.0.1/", "--token", VALID, "--header", "X", "--cookie", "c"])
    assert exit_info.value.code == 2


def test_cli_table_json_and_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with serve("key-confusion") as api:
        url, token = f"{api.url}/api/profile", login(api.url)
        pem = tmp_path / "idp.pem"
        pem.write_bytes(api.lab.service.key())  # the PEM the service itself holds
        assert cli.main(["scan", url, "--token", token, "--public-key", str(pem)]) == 1
        out = capsys.readouterr().out
        assert out.startswith(f"labkit scan {url}\n")
        assert "[algorithm-confusion]" in out and "learn:    learner/06-" in out
        assert cli.main(["scan", url, "--token", token, "--json"]) == 1
        data = json.loads(capsys.readouterr().out)
    assert data["url"] == url and [f["id"] for f in data["findings"]] == ["algorithm-confusion"]
    assert data["findings"][0]["notebook"] == "learner/06-algorithm-confusion.ipynb"
    with serve("hardened") as api:
        assert cli.main(["scan", f"{api.url}/api/profile", "--token", login(api.url)]) == 0
    assert "no findings" in capsys.readouterr().out


# Verifier targets, narrower root causes, token checks -------------------------------------------


def verifier(function: Callable[..., Any], key: Any, alg: str) -> Callable[[str], Any]:
    """``function`` as a scan target: the API's settings, a clock inside the tokens' lifetime."""
    return lambda token: function(token, key, algorithms=[alg], now=FAR - 600, **API)


def test_a_verifier_function_is_a_target() -> None:
    secret = keys.demo_secret()
    assert scan.scan(verifier(labkit.verify, secret, "HS256"), VALID).clean
    report = scan.scan(verifier(vulnerable.accept_alg_none, secret, "HS256"), VALID)
    assert report.flaws == ["unsigned-token-accepted"] and report.target.startswith("verifier")


def test_kid_sql_injection_found_in_a_verifier(tmp_path: Path) -> None:
    store = vulnerable.make_key_store(tmp_path)
    token = store.sign(CLAIMS)
    report = scan.scan(verifier(vulnerable.kid_in_sql, store.database, "HS256"), token)
    assert report.flaws == ["kid-sql-injection"]


def test_empty_secret_explains_the_kid_traversal() -> None:
    token = none.forge_empty_secret(CLAIMS).token  # what a service with an unset secret issues
    report = scan.scan(verifier(vulnerable.accept_empty_secret, "", "HS256"), token)
    assert report.flaws == ["empty-hmac-secret"]
    assert "kid-traversal" in {a.probe for a in report.findings[0].explains}


def test_a_crashing_verifier_is_an_error_not_an_acceptance() -> None:
    def fragile(token: str) -> dict:
        if token == VALID:
            return dict(CLAIMS)
        raise RuntimeError("unexpected header")

    report = scan.scan(fragile, VALID)
    assert report.clean and any(a.verdict == "error" for a in report.attempts)


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({k: v for k, v in CLAIMS.items() if k != "exp"}, "never expires"),
        ({**CLAIMS, "iat": FAR - 7200}, "lives 2 h"),
    ],
)
def test_long_lived_tokens_are_reported(claims: dict, detail: str) -> None:
    token = labkit.sign_token(claims, keys.demo_secret(), "HS256")
    report = scan.scan(
        lambda t: t == token or labkit.verify(t, b"x" * 32, algorithms=["HS256"]), token
    )
    assert report.flaws == ["long-lived-token"]
    assert detail in report.findings[0].evidence


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("not a token", MalformedTokenError),
        (labkit.encode({"alg": "none"}, CLAIMS), MalformedTokenError),
        (VALID.rsplit(".", 1)[0] + ".", MalformedTokenError),
    ],
)
def test_the_token_must_be_a_signed_jwt(token: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        scan.scan(lambda t: {}, token)


def test_bad_options_are_refused_up_front() -> None:
    with pytest.raises(KeyFormatError):
        scan.scan(lambda t: {}, VALID, public_key="-----BEGIN PUBLIC KEY-----\nnope\n")
    with pytest.raises(ConfigurationError, match="max_requests"):
        scan.scan(lambda t: {}, VALID, max_requests=2)
    with pytest.raises(ConfigurationError, match="header must be a header name"):
        scan.scan("http://127.0.0.1/", VALID, header="Authorization: Bearer")


def test_escalate_raises_every_kind_of_role_claim() -> None:
    assert scan.escalate({"role": "reader"})["role"] == "admin"
    assert scan.escalate({"roles": ["reader"]})["roles"] == ["reader", "admin"]
    assert scan.escalate({"groups": ["admin"]})["groups"] == ["admin"]
    assert scan.escalate({"admin": False})["admin"] is True
    assert scan.escalate({"sub": "x"}) == {"sub": "x", "role": "admin"}


# The report --------------------------------------------------------------------------------------


def test_report_renders_as_text_html_and_json() -> None:
    report = scan.scan(verifier(vulnerable.accept_alg_none, keys.demo_secret(), "HS256"), VALID)
    text = repr(report)
    assert text == str(report) and text.splitlines()[0].startswith("verifier <lambda>: 1 finding")
    assert "learn:    learner/04-unverified-and-none.ipynb" in text
    html = report._repr_html_()
    assert "<table>" in html and 'href="04-unverified-and-none.ipynb"' in html
    assert "<lambda>" not in html and "&lt;lambda&gt;" in html
    data = json.loads(json.dumps(report.to_dict()))
    assert [a["probe"] for a in data["attempts"]] == list(scan.PROBE_IDS)
    assert data["findings"][0]["id"] == "unsigned-token-accepted"


def test_every_flaw_names_a_fix_and_a_catalogued_notebook() -> None:
    files = {nb.file for nb in labkit.catalog.NOTEBOOKS}
    for flaw in scan.FLAWS.values():
        assert flaw.fix and flaw.notebook in files, flaw.id


# CLI messages: a wrong path, the --timeout range --------------------------------------------------


@pytest.mark.parametrize(("mode", "status"), [("rest", 403), ("http", 404)])
def test_unknown_route_says_the_path_may_be_wrong(
    mode: str, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """API Gateway's REST 403 'Missing Authentication Token' (or a 404) is a path problem."""
    with serve("hardened", mode=mode) as api:
        url = f"{api.url}/api/profil"  # a typo
        assert cli.main(["scan", url, "--token", login(api.url)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("labkit scan: ")
    assert f"HTTP {status}" in err and "the path may be wrong" in err and "GET /api/profil" in err


@pytest.mark.parametrize("value", ["0", "-1", "60.5", "1e400", "nan", "inf", "soon", ""])
def test_cli_timeout_states_its_range_and_refuses_values_outside(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    assert cli.main(["scan", url, "--token", VALID, "--timeout", value]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"labkit scan: --timeout must be more than 0 and at most 60 seconds, got {value!r}\n"
    )


def test_cli_timeout_range_is_in_the_help_and_its_ends_are_accepted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["scan", "--help"])
    assert "more than 0 and at most 60" in " ".join(capsys.readouterr().out.split())
    for value in ("0.001", "60"):
        url = f"http://127.0.0.1:{free_port()}/api"
        assert cli.main(["scan", url, "--token", VALID, "--timeout", value]) == 2
        assert "connection refused" in capsys.readouterr().err  # it got as far as sending
    assert scan.MAX_TIMEOUT == 60
