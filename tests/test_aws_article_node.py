"""The source article's Node.js authorizer, run for real, answers as ``labkit.aws.article`` does.

``deploy/article-node/index.js`` is the article's handler verbatim; ``make node-deps`` installs
the jsonwebtoken 9.0.3 its lockfile pins. Without node or the package the parity tests skip and
say why (``LABKIT_REQUIRE_NODE=1``, set by ``.ci/run``, makes that a failure instead).
"""

from __future__ import annotations

import hmac
import json
import os
import re
import shutil
import time

import pytest
from cryptography.hazmat.primitives import serialization

import labkit
from labkit import keys
from labkit.attacks.confusion import forge_confusion
from labkit.aws import article, article_node
from labkit.aws import jsonwebtoken as jwt
from labkit.aws.article_node import NODE_DIR, Case, Row
from labkit.errors import ConfigurationError

ALLOW, DENY = "Allow", "Deny"
SIGNATURE_REQUIRED = "JsonWebTokenError: jwt signature is required"
MALFORMED = "JsonWebTokenError: jwt malformed"
BAD_ALG = "JsonWebTokenError: invalid algorithm"
BAD_SIGNATURE = "JsonWebTokenError: invalid signature"
INVALID = "JsonWebTokenError: invalid token"
NOT_PROVIDED = "JsonWebTokenError: jwt must be provided"

# What jsonwebtoken 9.0.3 answers, read from its source (see labkit/aws/jsonwebtoken.py, which
# cites the lines): None is "accepted". SyntaxError is matched by name only: V8's wording for
# JSON.parse errors differs between Node.js versions (18: "Unexpected token r in JSON at
# position 0"; 20: "Unexpected token 'r', ... is not valid JSON").
EXPECTED: dict[str, tuple[str, str | None]] = {
    "valid HS256": (ALLOW, None),
    **{
        f"alg {alg}, {how}": (DENY, reason)
        for alg in ("none", "None", "NONE", "nOnE")
        for how, reason in (
            ("empty signature", SIGNATURE_REQUIRED),  # verify.js lines 106-110
            ("no signature segment", MALFORMED),  # lines 67-71: two parts
            ("HS256 signature kept", BAD_ALG),  # line 144: not in HS256/384/512
        )
    },
    "expired": (DENY, "TokenExpiredError: jwt expired"),
    "not yet valid": (DENY, "NotBeforeError: jwt not active"),
    "wrong secret": (DENY, BAD_SIGNATURE),
    "cracked secret, forged, no exp": (ALLOW, None),  # no exp: never expires
    "Bearer prefix": (DENY, INVALID),  # the space fails jws's regex
    "HS384, same secret": (ALLOW, None),  # the default list for a secret: HS256, HS384, HS512
    "HS512, same secret": (ALLOW, None),
    "alg hs256 (lower case)": (DENY, BAD_ALG),
    "no alg": (DENY, BAD_ALG),
    "RS256 header, HMAC with the RSA public PEM": (DENY, BAD_ALG),
    "HS256, HMAC with the RSA public PEM": (DENY, BAD_SIGNATURE),  # the secret is the article's
    "kid ../../dev/null, empty key": (DENY, BAD_SIGNATURE),
    "jwk injection, RS256": (DENY, BAD_ALG),
    "psychic signature, ES256 r = s = 0": (DENY, BAD_ALG),
    "empty string": (DENY, NOT_PROVIDED),
    "no authorizationToken": (DENY, NOT_PROVIDED),
    "garbage": (DENY, MALFORMED),
    "five segments (JWE shape)": (DENY, MALFORMED),
    "trailing newline": (DENY, INVALID),  # JavaScript's $ does not match before a final \n
    "base64 padding": (DENY, INVALID),
    "stray bits in the signature": (DENY, BAD_SIGNATURE),  # compared as text, not as bytes
    "crit names an unknown extension": (ALLOW, None),  # crit is never read
    "b64 false (RFC 7797), unencoded payload": (ALLOW, None),  # b64 is never read either
    "payload not JSON, no typ": (ALLOW, None),  # decode.js keeps it as a string
    "payload not JSON, typ JWT": (DENY, "SyntaxError"),
    "payload null, typ JWT": (DENY, "TypeError: Cannot read properties of null (reading 'nbf')"),
    "exp a string": (DENY, "JsonWebTokenError: invalid exp value"),
    "exp 1e400 (Infinity)": (ALLOW, None),
    "duplicate exp, the last in an hour": (ALLOW, None),  # JSON.parse: the last member wins
    "iat in the future": (ALLOW, None),  # iat is read only with maxAge
    "aud of another service": (ALLOW, None),  # aud is read only with the audience option
    "sub a number": (ALLOW, None),
    "header with a lone extra character": (ALLOW, None),  # Node's base64 drops it
}


def _node_missing() -> str | None:
    """Why the Node original cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH (Debian: apt-get install nodejs npm)"
    if not (NODE_DIR / "node_modules" / "jsonwebtoken" / "package.json").is_file():
        return f"jsonwebtoken is not installed in {NODE_DIR}: run `make node-deps`"
    return None


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    missing = _node_missing()
    if missing is not None:
        if os.environ.get("LABKIT_REQUIRE_NODE"):
            pytest.fail(f"LABKIT_REQUIRE_NODE is set, but {missing}")
        pytest.skip(missing)
    return article_node.parity()


def _matches(error: str | None, expected: str | None) -> bool:
    if expected == "SyntaxError":
        return error is not None and error.startswith("SyntaxError: ")
    return error == expected


def test_the_corpus_is_the_one_whose_answers_are_expected() -> None:
    names = [case.name for case in article_node.corpus()]
    assert len(names) == len(set(names))
    assert set(names) == set(EXPECTED)
    assert {EXPECTED[name][0] for name in names} == {ALLOW, DENY}


def test_node_and_the_port_answer_alike_on_every_token(rows: list[Row]) -> None:
    differ = [
        f"{row.case.name}: Node {row.node.effect} ({row.node.error}), "
        f"Python {row.python.effect} ({row.python.error})"
        for row in rows
        if not row.same
    ]
    assert not differ, differ
    for row in rows:
        assert row.node.policy == article.generate_policy(
            "user", row.node.effect, article_node.METHOD_ARN
        )


def test_the_node_original_gives_the_expected_verdict_and_reason(rows: list[Row]) -> None:
    for row in rows:
        effect, reason = EXPECTED[row.case.name]
        assert row.node.effect == effect, row.case.name
        assert _matches(row.node.error, reason), (row.case.name, row.node.error)


def test_the_port_gives_the_expected_verdict_and_reason_without_node() -> None:
    cases = article_node.corpus()
    for case, answer in zip(cases, article_node.run_python(c.event for c in cases), strict=True):
        effect, reason = EXPECTED[case.name]
        assert answer.effect == effect, case.name
        if reason == "SyntaxError":
            assert answer.error is not None and answer.error.startswith("SyntaxError: ")
        else:
            assert answer.error == reason, (case.name, answer.error)


def test_the_parity_table_shows_every_token_and_the_agreement(rows: list[Row]) -> None:
    text = article_node.table(rows)
    for name, (effect, _) in EXPECTED.items():
        assert re.search(rf"^{re.escape(name)}\s+{effect}\s+{effect}\s", text, re.M), name
    assert text.endswith(
        f"{len(EXPECTED)} of {len(EXPECTED)} tokens: the same policy and the same reason"
    )


def test_a_difference_is_shown_and_counted(rows: list[Row]) -> None:
    valid = rows[0]
    lying = Row(
        valid.case,
        valid.node,
        article_node.run_python([{**valid.case.event, "authorizationToken": "x"}])[0],
    )
    assert not lying.same
    assert "<-- differs: JsonWebTokenError: jwt malformed" in article_node.table([lying])
    assert article_node.table([lying]).endswith(
        "0 of 1 tokens: the same policy and the same reason"
    )


# The Node project: the article's code, the pinned package -------------------------------------


def test_index_js_is_the_articles_handler_with_its_secret() -> None:
    source = (NODE_DIR / "index.js").read_text()
    assert "const decoded = jwt.verify(token, secret); // Verify token" in source  # no options
    assert re.findall(r"const secret = '([^']*)'", source) == [article.SECRET]
    assert "const token = event.authorizationToken;" in source


def test_the_lockfile_pins_exactly_the_jsonwebtoken_package_json_names() -> None:
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["jsonwebtoken"]
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    assert pinned == "9.0.3"  # an exact version, not a range
    assert lock["packages"][""]["dependencies"]["jsonwebtoken"] == pinned
    locked = lock["packages"]["node_modules/jsonwebtoken"]
    assert locked["version"] == pinned and locked["integrity"].startswith("sha512-")


# Without node: one clear line, never a traceback -------------------------------------------------


def test_without_node_on_path_the_error_says_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"^node is not on PATH: install Node\.js"):
        article_node.run_node([Case("x", "x", "x").event])


def test_without_the_project_the_error_names_the_folder(tmp_path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH: the check for the project folder comes after it")
    with pytest.raises(ConfigurationError, match=r"has no run\.js"):
        article_node.run_node([], directory=tmp_path)
    for name in ("run.js", "package.json"):
        (tmp_path / name).write_text((NODE_DIR / name).read_text())
    with pytest.raises(ConfigurationError, match=r"not installed .*make node-deps"):
        article_node.run_node([], directory=tmp_path)


def test_show_without_node_prints_the_reason_and_the_ports_answers(
    monkeypatch, tmp_path, capsys
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    article_node.show()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("The Node original cannot run here: node is not on PATH")
    assert "valid HS256: Allow (accepted)" in lines
    assert "HS512, same secret: Allow (accepted)" in lines
    assert "expired: Deny (TokenExpiredError: jwt expired)" in lines


# The port's own rules, on a frozen clock (no node needed) ----------------------------------------

T0 = 1_767_258_000
SECRET = article.SECRET


def test_exp_is_expired_at_its_second_and_nbf_is_active_at_its_second() -> None:
    token = labkit.sign_token({"nbf": T0, "exp": T0 + 10}, SECRET, "HS256")
    assert jwt.verify(token, SECRET, now=T0) == {"nbf": T0, "exp": T0 + 10}
    assert jwt.verify(token, SECRET, now=T0 + 9.999) == {"nbf": T0, "exp": T0 + 10}  # floored
    with pytest.raises(jwt.TokenExpiredError, match="jwt expired"):
        jwt.verify(token, SECRET, now=T0 + 10)
    with pytest.raises(jwt.NotBeforeError, match="jwt not active"):
        jwt.verify(token, SECRET, now=T0 - 1)


def test_every_hmac_size_passes_and_every_other_alg_is_invalid() -> None:
    for alg in jwt.HS_ALGS:
        assert jwt.verify(labkit.sign_token({"a": 1}, SECRET, alg), SECRET) == {"a": 1}
    for alg in ("RS256", "ES256", "PS256", "EdDSA"):
        token = labkit.sign_token({"a": 1}, keys.demo_key_for(alg), alg)
        with pytest.raises(jwt.JsonWebTokenError, match=r"^invalid algorithm$"):
            jwt.verify(token, SECRET)


def test_a_pem_secret_is_refused_rather_than_used_as_an_hmac_key() -> None:
    """jsonwebtoken 9 makes a PEM an asymmetric key and refuses HS* with it (verify.js 148-149).

    Using the PEM's bytes as an HMAC secret would model the key-confusion bug jsonwebtoken does
    not have, so the port refuses to answer at all.
    """
    pem = keys.demo_public_key("rsa").public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = forge_confusion(pem, {"role": "admin"})[0].token
    with pytest.raises(ConfigurationError, match="PEM key material"):
        jwt.verify(forged, pem.decode())
    not_a_key = "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n"
    with pytest.raises(jwt.JsonWebTokenError, match="invalid signature"):
        jwt.verify(forged, not_a_key)  # Node's createPublicKey fails too: a plain secret
    with pytest.raises(ConfigurationError, match="must be a str"):
        jwt.verify(forged, pem)  # type: ignore[arg-type]


def test_non_string_tokens_are_refused_as_javascript_sees_them() -> None:
    for token, message in (
        (None, "jwt must be provided"),
        (0, "jwt must be provided"),
        (False, "jwt must be provided"),
        ([], "jwt must be a string"),
        ({}, "jwt must be a string"),
        (1, "jwt must be a string"),
    ):
        with pytest.raises(jwt.JsonWebTokenError, match=f"^{message}$"):
            jwt.verify(token, SECRET)


# Beyond the corpus: every header against every payload -------------------------------------------

GRID_HEADERS = [
    b'{"alg":"HS256"}',
    b'{"alg":"HS256","typ":"JWT"}',
    b'{"typ":"JWT","alg":"HS384"}',
    b'{"alg":"HS256","typ":"jwt"}',
    b'{"alg":"hs256"}',
    b'{"alg":"none"}',
    b'{"alg":["HS256"]}',
    b'{"alg":"HS256","typ":"JWT","typ":"x"}',
    b'{"alg":"HS256","x":NaN}',
    b'{"alg":"HS256",}',
    b'\xef\xbb\xbf{"alg":"HS256"}',
    b' {"alg":"HS256"}\n',
    b'{"alg":"HS\xc3\xa9"}',
    b"null",
    b"0",
    b"[]",
    b'"HS256"',
    b"{}",
]


def _grid_payloads(t: int) -> list[bytes]:
    """Payloads of every JSON type and claim shape; times an hour from ``t`` or long past."""
    return [
        b"{}",
        b"null",
        b"[]",
        b'["exp",1]',
        b'"text"',
        b'"{\\"exp\\":1}"',  # a JSON string holding JSON: jsonwebtoken parses it a second time
        b"123",
        b"true",
        b"hello",
        b"",
        b"\t{}\n",
        b'{"exp":1}x',
        b'{"exp":1}',
        b'{"exp":%d}' % (t + 3600),
        b'{"exp":%d.5}' % (t + 3600),
        b'{"exp":"%d"}' % (t + 3600),
        b'{"exp":null}',
        b'{"exp":true}',
        b'{"exp":[1]}',
        b'{"exp":{}}',
        b'{"exp":-1e400}',
        b'{"exp":' + b"9" * 5000 + b"}",  # too long for Python's int(): a double, Infinity
        b'{"nbf":%d}' % (t + 3600),
        b'{"nbf":%d}' % (t - 3600),
        b'{"nbf":1e400}',
        b'{"nbf":"0"}',
        b'{"exp":1,"exp":%d}' % (t + 3600),
        b'{"__proto__":{"exp":1}}',
        b'{"a":"\xff\xfe"}',  # not UTF-8: replaced, as Node's toString does
        b'{"a":"\x01"}',  # a raw control character: not JSON
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"exp":01}',
    ]


def _grid_token(header: bytes, payload: bytes, alg: str) -> str:
    digest = {"HS256": "sha256", "HS512": "sha512"}[alg]
    signing_input = f"{labkit.b64url_encode(header)}.{labkit.b64url_encode(payload)}"
    mac = hmac.digest(SECRET.encode(), signing_input.encode(), digest)
    return f"{signing_input}.{labkit.b64url_encode(mac)}"


def test_node_and_the_port_agree_on_every_header_with_every_payload(rows: list[Row]) -> None:
    t = int(time.time())
    events = [
        Case(f"{header!r} {payload[:40]!r} {alg}", _grid_token(header, payload, alg), "").event
        for header in GRID_HEADERS
        for payload in _grid_payloads(t)
        for alg in ("HS256", "HS512")
    ]
    node = article_node.run_node(events)
    python = article_node.run_python(events)
    differ = [
        (event["authorizationToken"], n.error, p.error)
        for event, n, p in zip(events, node, python, strict=True)
        if not Row(Case("", None, ""), n, p).same
    ]
    assert not differ, differ[:5]
    accepted = sum(answer.effect == ALLOW for answer in node)
    assert 0 < accepted < len(events)  # both verdicts occur: the grid tests something
