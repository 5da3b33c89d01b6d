"""The notebook widgets, driven in plain pytest: set values, click buttons, read widget state.

Outside a kernel ``Output`` captures nothing, so the widgets keep everything they show in
``HTML`` widgets and plain attributes (``notes``, ``problem``, ``result``) that tests can read.
"""

from __future__ import annotations

import json
import sys
import threading
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from labserver import free_port

import labkit
from labkit import examples, keys, tokens
from labkit.display import PALETTE
from labkit.errors import ConfigurationError, InvalidTokenError
from labkit.widgets import ATTACKS, SERVICES, TamperPlayground, TokenInspector, verifiers

LAB_NOW = examples.LAB_CLAIMS["iat"] + 1800
AUD = examples.LAB_CLAIMS["aud"]
TAMPER, RESIGN = "keep the original signature (tamper)", "re-sign with a key"
GATEWAY = "gateway URL (HTTP GET, Authorization: Bearer)"


def attack(prefix: str) -> str:
    """The playground's attack label that starts with ``prefix``."""
    (label,) = [name for name in ATTACKS if name.startswith(prefix)]
    return label


def as_admin(playground: TamperPlayground) -> None:
    payload = json.loads(playground.payload.value)
    playground.payload.value = json.dumps({**payload, "role": "admin"}, indent=2)


# TokenInspector -----------------------------------------------------------------------------------


def test_inspector_decodes_a_pasted_token() -> None:
    inspector = TokenInspector(now=0)
    assert inspector.decoded is None
    inspector.token.value = examples.CLASSIC_TOKEN  # what typing into the box does
    assert inspector.problem is None
    assert inspector.decoded is not None
    assert "John Doe" in inspector.payload.value
    assert "HS256" in inspector.header.value
    assert "iat: 2018-01-18T01:30:22+00:00" in inspector.payload.value
    for part in ("header", "payload", "signature"):
        assert f'color:{PALETTE[part]}" title="{part}"' in inspector.parts.value
    assert "32 bytes, <b>not checked</b>" in inspector.findings.value


def test_inspector_findings_come_from_lint_with_the_cracker() -> None:
    inspector = TokenInspector(examples.CLASSIC_TOKEN)
    assert inspector.notes == tokens.lint(tokens.parse(examples.CLASSIC_TOKEN), wordlist=True)
    assert any("'your-256-bit-secret', found in a wordlist" in n for n in inspector.notes)
    assert any("no 'exp' claim" in n for n in inspector.notes)
    assert "Findings</b> (2)" in inspector.findings.value
    quiet = TokenInspector(examples.CLASSIC_TOKEN, wordlist=False)
    assert not any("wordlist" in note for note in quiet.notes)


def test_inspector_time_and_header_findings() -> None:
    header = {"alg": "none", "jku": "http://127.0.0.1:1/keys", "kid": "a"}
    token = tokens.encode(header, {"exp": 100})
    notes = TokenInspector(token, now=200).notes
    assert any(note.startswith("alg is 'none'") for note in notes)
    assert any("header 'jku' is present" in note for note in notes)
    assert any("header 'kid' is present" in note for note in notes)
    assert "'exp' is in the past: the token has expired" in notes
    lab = TokenInspector(examples.lab_token(), now=0).notes
    assert lab == ["'exp' is more than a day away: long-lived tokens widen the theft window"]
    assert TokenInspector(examples.lab_token(), now=LAB_NOW).notes == []


@pytest.mark.parametrize(
    "text",
    [
        "not-a-token",
        "a.b",
        "a.b.c.d.e",
        f"Bearer {examples.CLASSIC_TOKEN}",
        "eyJhbGciOiJIUzI1NiJ9.e30=.sig",
        "W10.e30.",  # header is a JSON array
        "!!!.???.###",
        "€.€.€",
        examples.CLASSIC_TOKEN.replace(".", " ."),
    ],
)
def test_inspector_shows_bad_input_as_one_line(text: str) -> None:
    inspector = TokenInspector(examples.CLASSIC_TOKEN)
    inspector.token.value = text
    assert inspector.decoded is None and inspector.problem
    assert "\n" not in inspector.problem and "Traceback" not in inspector.message.value
    assert inspector.message.value.count("<div") == 1
    assert "Not a token I can decode" in inspector.message.value
    assert inspector.parts.value == inspector.payload.value == inspector.findings.value == ""


def test_inspector_ignores_surrounding_whitespace_and_prompts_when_empty() -> None:
    inspector = TokenInspector(f"  {examples.CLASSIC_TOKEN}\n")
    assert inspector.problem is None and "John Doe" in inspector.payload.value
    inspector.token.value = "   "
    assert inspector.decoded is None and inspector.problem is None
    assert "Paste a token" in inspector.message.value


def test_inspector_text_fallback_is_complete() -> None:
    inspector = TokenInspector(examples.CLASSIC_TOKEN, now=0)
    text = inspector._repr_mimebundle_()["text/plain"]
    assert text.startswith("TokenInspector (decoded, NOT verified)")
    assert '"name": "John Doe"' in text and "your-256-bit-secret" in text  # not cut at 110
    inspector.token.value = "x"
    assert repr(inspector).startswith("TokenInspector: the token has 1 segment")


@pytest.mark.parametrize("token", [123, ["eyJ"], {"alg": "HS256"}])
def test_inspector_given_a_non_token_says_so_in_one_line(token: object) -> None:
    with pytest.raises(ConfigurationError, match="TokenInspector takes the token as text, got "):
        TokenInspector(token)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="now must be a datetime or epoch seconds"):
        TokenInspector(examples.CLASSIC_TOKEN, now="today")  # type: ignore[arg-type]
    assert repr(TokenInspector(None)) == "TokenInspector: empty"  # type: ignore[arg-type]
    assert TokenInspector(examples.CLASSIC_TOKEN.encode(), wordlist=False).problem is None


def test_inspector_shows_hostile_json_as_one_line() -> None:
    deep = tokens.encode({"alg": "HS256"}, b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}")
    huge = tokens.encode({"alg": "HS256"}, b'{"exp":' + b"9" * 5000 + b"}")
    lone = tokens.encode({"alg": "HS256"}, b'{"sub":"\\ud800"}')
    far = tokens.encode({"alg": "HS256"}, b'{"exp":1e20}')
    for token, problem in ((deep, "deeper than 32"), (huge, "over the limit"), (lone, "surrogate")):
        inspector = TokenInspector(token, wordlist=False)
        assert inspector.problem is not None and problem in inspector.problem
        assert "Error" not in inspector.problem  # a labkit message, not a Python exception name
    assert "exp: out of range" in TokenInspector(far, now=0, wordlist=False).payload.value


# TamperPlayground: the hardened verifier ----------------------------------------------------------


def test_playground_starts_from_a_genuine_token_that_verifies() -> None:
    playground = TamperPlayground()
    assert playground.original == examples.lab_token()
    assert json.loads(playground.payload.value) == examples.LAB_CLAIMS
    result = playground.run()
    assert result.verdict == "accepted" and result.target == "labkit.verify"
    assert "✅ accepted by labkit.verify" in playground.verdict.value


def test_tampered_claims_are_rejected_and_shown() -> None:
    playground = TamperPlayground()
    as_admin(playground)
    playground.send.click()
    result = playground.result
    assert result is not None and result.verdict == "rejected"
    assert result.reason.startswith("BadSignatureError: the HS256 signature does not match")
    assert tokens.parse(result.token).payload["role"] == "admin"
    assert 'title="payload"' in playground.sent.value
    assert "❌ rejected by labkit.verify: BadSignatureError" in playground.verdict.value


def test_resigning_with_the_key_is_accepted_and_with_another_is_not() -> None:
    playground = TamperPlayground()
    as_admin(playground)
    playground.attack.value = RESIGN
    playground.key.value = "hmac"  # the service's own secret: whoever holds it can forge
    assert playground.run().verdict == "accepted"
    playground.key.value = "my own secret"
    playground.secret.value = "x" * 40
    result = playground.run()
    assert result.verdict == "rejected" and "BadSignatureError" in result.reason


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("label", [name for name in ATTACKS if name not in (TAMPER, RESIGN)])
def test_every_attack_is_refused_by_labkit_verify(service: str, label: str) -> None:
    playground = TamperPlayground(service=service)
    as_admin(playground)
    playground.attack.value = label
    result = playground.run()
    assert result.verdict in ("rejected", "error"), result
    if result.verdict == "rejected":
        (name,) = [n for n in dir(labkit) if result.reason.startswith(f"{n}:")]
        assert issubclass(getattr(labkit, name), InvalidTokenError)
    else:  # the attack does not apply to this service: said in one line, nothing sent
        assert result.reason.startswith("cannot make the token:") and "\n" not in result.reason


def test_service_choice_reissues_the_token() -> None:
    playground = TamperPlayground()
    playground.service.value = "ES256"
    assert tokens.parse(playground.original).header["alg"] == "ES256"
    assert playground.run().verdict == "accepted"
    with pytest.raises(ConfigurationError, match="no service 'XS1'"):
        TamperPlayground(service="XS1")


def test_bad_editor_input_is_one_line() -> None:
    playground = TamperPlayground()
    playground.header.value = '{"alg": '
    result = playground.run()
    assert result.verdict == "error"
    assert result.reason.startswith("cannot make the token: the header is not JSON")
    playground.header.value = "[1, 2]"
    assert "must be a JSON object" in playground.run().reason
    playground.header.value = '{"alg": "RS256"}'
    playground.attack.value = RESIGN
    result = playground.run()
    assert "RS256 needs an RSA private key" in result.reason
    assert "⚠ not sent to labkit.verify" in playground.verdict.value
    assert playground.sent.value == ""


def test_reset_and_which_options_show() -> None:
    playground = TamperPlayground()
    hidden = ("none", "none", "none")
    shown = (playground.key, playground.secret, playground.url)
    assert tuple(widget.layout.display for widget in shown) == hidden
    playground.attack.value = RESIGN
    playground.key.value = "my own secret"
    playground.target.value = GATEWAY
    assert tuple(widget.layout.display for widget in shown) == ("", "", "")
    playground.payload.value = "{}"
    playground.reset.click()
    assert json.loads(playground.payload.value) == examples.LAB_CLAIMS


def test_a_passed_token_uses_the_real_clock() -> None:
    playground = TamperPlayground(examples.lab_token())  # expired long ago on the real clock
    result = playground.run()
    assert result.verdict == "rejected" and result.reason.startswith("ExpiredTokenError")
    assert TamperPlayground(examples.lab_token(), now=LAB_NOW).run().verdict == "accepted"
    assert "TamperPlayground:" in playground._repr_mimebundle_()["text/plain"]


# TamperPlayground: verifiers discovered at run time -----------------------------------------------


def _zoo(**functions: Any) -> types.ModuleType:
    module = types.ModuleType("labkit.vulnerable")
    for name, function in functions.items():
        function.__module__ = module.__name__
        function.__name__ = name
        setattr(module, name, function)
    return module


def test_verifiers_are_whatever_labkit_vulnerable_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    def believes_anything(token: str, key: Any, *, algorithms: Any, **_: Any) -> dict:
        return tokens.parse(token).payload

    def wants_a_folder(token: str, key: Any, *, algorithms: Any, **_: Any) -> dict:
        raise ConfigurationError("key must be the path of the key directory")

    def make_store(root: str, kids: tuple = ()) -> None:  # a helper, not a verifier
        return None

    zoo = _zoo(believes_anything=believes_anything, wants_a_folder=wants_a_folder)
    zoo.make_store = make_store
    monkeypatch.setitem(sys.modules, "labkit.vulnerable", zoo)
    assert list(verifiers()) == [
        "labkit.verify",
        "vulnerable.believes_anything",
        "vulnerable.wants_a_folder",
    ]
    playground = TamperPlayground()
    assert list(playground.target.options)[-1] == GATEWAY
    as_admin(playground)
    playground.target.value = "vulnerable.believes_anything"
    result = playground.run()
    assert result.verdict == "accepted" and '"role": "admin"' in result.reason
    playground.target.value = "vulnerable.wants_a_folder"
    result = playground.run()
    assert result.verdict == "error"
    assert "verifier_keys={'wants_a_folder': ...}" in result.reason


def test_without_a_zoo_only_the_hardened_verifier_is_offered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "labkit.vulnerable", None)
    assert list(verifiers()) == ["labkit.verify"]


def test_a_crashing_verifier_is_a_refusal_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def crashes(token: str, key: Any, *, algorithms: Any, **_: Any) -> dict:
        raise ValueError("first line\nsecond line")

    monkeypatch.setitem(sys.modules, "labkit.vulnerable", _zoo(crashes=crashes))
    playground = TamperPlayground()
    playground.target.value = "vulnerable.crashes"
    result = playground.run()
    assert result.verdict == "rejected"
    assert result.reason == "it crashed with ValueError: first line"


# The real zoo: each forgery passes its vulnerable verifier (and labkit.verify refuses it above) ---


@pytest.fixture
def zoo() -> types.ModuleType:
    return pytest.importorskip("labkit.vulnerable")


@pytest.mark.parametrize(
    ("service", "label", "verifier"),
    [
        ("HS256", TAMPER, "decode_without_verification"),
        ("HS256", "alg none", "accept_alg_none"),
        ("HS256", "empty secret", "accept_empty_secret"),
        ("RS256", "key confusion", "alg_from_header"),
        ("RS256", "jwk injection", "trust_embedded_jwk"),
        ("HS256", "kid traversal", "kid_as_path"),
        ("HS256", "kid SQL", "kid_in_sql"),
        ("ES256", "psychic signature", "ecdsa_without_range_check"),
    ],
)
def test_forgeries_pass_their_vulnerable_verifier(
    zoo: types.ModuleType, tmp_path: Path, service: str, label: str, verifier: str
) -> None:
    store = zoo.make_key_store(tmp_path)
    keys_for = {
        "accept_empty_secret": "",
        "kid_as_path": store.directory,
        "kid_in_sql": store.database,
    }
    playground = TamperPlayground(service=service, verifier_keys=keys_for)
    as_admin(playground)
    playground.attack.value = attack(label)
    playground.target.value = f"vulnerable.{verifier}"
    result = playground.run()
    assert result.verdict == "accepted", result
    playground.target.value = "labkit.verify"
    assert playground.run().verdict == "rejected"


def test_cracked_weak_secret_is_reused(zoo: types.ModuleType) -> None:
    weak = "your-256-bit-secret"  # in the bundled wordlist
    service = labkit.widgets.Service("HS256, weak secret", "HS256", weak, weak)
    playground = TamperPlayground(service=service)
    as_admin(playground)
    playground.attack.value = attack("weak secret")
    playground.target.value = "vulnerable.accept_weak_secret"
    assert playground.run().verdict == "accepted"
    playground.target.value = "labkit.verify"
    result = playground.run()
    assert result.verdict == "rejected" and result.reason.startswith("UnsafeKeyError")


# TamperPlayground: a gateway over real HTTP -------------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    """Answers like API Gateway in front of labkit.verify: 200 with the subject, or 401."""

    def do_GET(self) -> None:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        options = {"algorithms": ["HS256"], "audience": AUD, "now": LAB_NOW}
        try:
            claims = labkit.verify(token, keys.demo_secret(), **options)
        except InvalidTokenError:
            status, body = 401, b'{"message":"Unauthorized"}'
        else:
            status, body = 200, json.dumps({"sub": claims["sub"]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    """A tiny loopback API on an ephemeral port, in a daemon thread, shut down after."""
    with ThreadingHTTPServer(("127.0.0.1", 0), _Gateway) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/api/profile"
        finally:
            server.shutdown()
            thread.join(timeout=5)


def test_gateway_accepts_the_genuine_token_and_refuses_a_forgery(gateway: str) -> None:
    playground = TamperPlayground(gateway_url=gateway)
    playground.target.value = GATEWAY
    result = playground.run()
    assert result.verdict == "accepted" and result.reason == 'HTTP 200 {"sub": "alice"}'
    as_admin(playground)
    playground.attack.value = attack("alg none")
    result = playground.run()
    assert result.verdict == "rejected"
    assert result.reason == 'HTTP 401 {"message":"Unauthorized"}'
    assert result.target == gateway


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/api", "refused to send a token to example.com"),
        ("http://10.0.0.1:8080/api", "refused to send a token to 10.0.0.1"),
        ("ftp://127.0.0.1/x", "give a URL like http://127.0.0.1:PORT/path"),
        ("", "give a URL like"),
    ],
)
def test_gateway_target_is_loopback_only(url: str, reason: str) -> None:
    playground = TamperPlayground(gateway_url=url)
    playground.target.value = GATEWAY
    result = playground.run()
    assert result.verdict == "error" and reason in result.reason


def test_gateway_that_is_down_is_one_line() -> None:
    playground = TamperPlayground(gateway_url=f"http://127.0.0.1:{free_port()}/api")
    playground.target.value = GATEWAY
    result = playground.run()
    assert result.verdict == "error" and result.reason == "cannot reach it (ConnectionError)"
