"""labkit.tokens: strict parsing, one test per malformed-token class, and round trips."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labkit
from labkit import examples, keys, tokens
from labkit.errors import (
    ConfigurationError,
    InvalidTokenError,
    KeyFormatError,
    MalformedTokenError,
)

HEADER = tokens.b64url_encode(b'{"alg":"HS256","typ":"JWT"}')
PAYLOAD = tokens.b64url_encode(b'{"sub":"alice"}')
SIG = tokens.b64url_encode(b"\x01" * 32)
GOOD = f"{HEADER}.{PAYLOAD}.{SIG}"


def seg(text: str | bytes) -> str:
    return tokens.b64url_encode(text)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "the token is empty"),
        ("abc", "the token has 1 segment; a compact JWS has exactly 3"),
        (f"{HEADER}.{PAYLOAD}", "the token has 2 segments; a compact JWS has exactly 3"),
        (f"{GOOD}.x", "the token has 4 segments"),
        ("a.b.c.d.e", "5 segments: that is an encrypted JWE"),
        (f".{PAYLOAD}.{SIG}", "the header segment is empty"),
        (f"{HEADER}..{SIG}", "the payload segment is empty"),
        (f"Bearer {GOOD}", "starts with 'Bearer '"),
        (f"{HEADER}.{PAYLOAD}.{SIG}\n", "whitespace at position"),
        (f"{HEADER}.{PAYLOAD} .{SIG}", "whitespace at position"),
    ],
    ids=lambda v: v if len(v) < 40 else None,
)
def test_segment_errors(token: str, message: str) -> None:
    with pytest.raises(MalformedTokenError, match=message.replace("(", r"\(").replace("'", "'")):
        tokens.parse(token)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (f"{HEADER}=.{PAYLOAD}.{SIG}", "the header contains '=' padding"),
        (f"{HEADER}.{PAYLOAD}.{SIG}=", "the signature contains '=' padding"),
        (f"{HEADER}.{PAYLOAD}.{SIG[:5]}+{SIG[6:]}", "character '\\+' at position 5"),
        (f"{HEADER}.{PAYLOAD[:3]}/{PAYLOAD[4:]}.{SIG}", "payload is not base64url: character '/'"),
        (f"{HEADER}.{PAYLOAD}.{SIG[:5]}!{SIG[6:]}", "character '!' at position 5 is not"),
        (f"{HEADER}.{PAYLOAD}.abcde", "impossible base64url length \\(5 characters\\)"),
        (f"{HEADER}.{PAYLOAD}.AB", "not canonical base64url"),
    ],
)
def test_base64url_errors(token: str, message: str) -> None:
    with pytest.raises(MalformedTokenError, match=message):
        tokens.parse(token)


@pytest.mark.parametrize(
    ("header", "payload", "message"),
    [
        (b"\xff\xfe{}", b"{}", "the header is not UTF-8 text \\(bad byte at position 0\\)"),
        (b"{}", b'{"a":"\xc3"}', "the payload is not UTF-8 text"),
        (b"alg=HS256", b"{}", "the header is not JSON: Expecting value at character 0"),
        (b"{}", b'{"sub":', "the payload is not JSON"),
        (b"[1, 2]", b"{}", "the header must be a JSON object, got an array"),
        (b'"HS256"', b"{}", "the header must be a JSON object, got a string"),
        (b"{}", b"42", "the payload must be a JSON object, got a number"),
        (b"{}", b"null", "the payload must be a JSON object, got null"),
        (b'{"alg":"HS256","alg":"none"}', b"{}", "the header has the member 'alg' twice"),
        (b"{}", b'{"exp":NaN}', "JSON does not allow NaN"),
    ],
)
def test_json_errors(header: bytes, payload: bytes, message: str) -> None:
    with pytest.raises(MalformedTokenError, match=message):
        tokens.parse(f"{seg(header)}.{seg(payload)}.{SIG}")


def test_non_string_and_non_ascii_tokens() -> None:
    with pytest.raises(MalformedTokenError, match="a token must be a string, got int"):
        tokens.parse(42)  # type: ignore[arg-type]
    with pytest.raises(MalformedTokenError, match="non-ASCII bytes"):
        tokens.parse("é".encode() + GOOD.encode())


def test_errors_are_one_line_invalid_token_errors() -> None:
    with pytest.raises(InvalidTokenError) as info:
        tokens.parse(f"{HEADER}=.{PAYLOAD}.{SIG}")
    assert "\n" not in str(info.value)
    assert info.value.why == "JWTs use base64url without padding (RFC 7515 section 2)"


def test_parse_returns_parts_and_signing_input() -> None:
    token = tokens.parse(GOOD)
    assert token.header == {"alg": "HS256", "typ": "JWT"}
    assert token.payload == {"sub": "alice"}
    assert token.signature == b"\x01" * 32
    assert token.signing_input == f"{HEADER}.{PAYLOAD}".encode()


def test_empty_signature_is_parsed() -> None:
    # alg none tokens end in a dot: parsing must not hide them from the labs.
    assert tokens.parse(f"{HEADER}.{PAYLOAD}.").signature == b""


def test_parse_jws_keeps_non_json_payload() -> None:
    jws = tokens.parse_jws(f"{HEADER}.{seg(b'$.02')}.{SIG}")
    assert jws.payload == b"$.02"
    with pytest.raises(MalformedTokenError, match="the payload is not JSON"):
        tokens.parse(f"{HEADER}.{seg(b'$.02')}.{SIG}")


def test_encode_matches_pyjwt_serialisation() -> None:
    header = {"alg": "HS256", "typ": "JWT"}
    assert tokens.encode(header, {"sub": "alice"}, b"\x01" * 32) == GOOD
    assert tokens.signing_input(header, b"raw") == f"{HEADER}.{seg(b'raw')}".encode()


def test_encode_rejects_what_json_cannot_hold() -> None:
    with pytest.raises(MalformedTokenError, match="cannot serialize to JSON"):
        tokens.encode({"alg": "HS256"}, {"when": object()})
    with pytest.raises(MalformedTokenError, match="a signature must be bytes"):
        tokens.encode({"alg": "HS256"}, {}, "sig")  # type: ignore[arg-type]


@given(st.binary(max_size=64))
def test_b64url_round_trip_and_agrees_with_stdlib(data: bytes) -> None:
    text = tokens.b64url_encode(data)
    assert "=" not in text
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert tokens.b64url_decode(text) == data


@given(st.text(max_size=40))
def test_parse_raises_only_malformed_token_error(text: str) -> None:
    with contextlib.suppress(MalformedTokenError):
        tokens.parse(text)


@given(st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=5))
def test_encode_parse_round_trip(claims: dict) -> None:
    token = tokens.encode({"alg": "none"}, claims)
    assert tokens.parse(token).payload == claims
    assert json.loads(tokens.json_bytes(claims)) == claims


def test_lint_names_risky_tokens() -> None:
    token = tokens.parse(tokens.encode({"alg": "none", "jku": "http://x"}, {"exp": 100}))
    notes = tokens.lint(token, now=200)
    assert any("alg is 'none'" in n for n in notes)
    assert any("header 'jku' is present" in n for n in notes)
    assert "'exp' is in the past: the token has expired" in notes
    assert tokens.lint(tokens.parse(tokens.encode({"alg": "HS256"}, {"exp": 10**6})), now=0)[-1]
    assert tokens.lint(tokens.parse(tokens.encode({"alg": "HS256"}, {"exp": 60})), now=0) == []


def test_lint_finds_a_guessable_hmac_secret_with_the_cracker() -> None:
    classic = tokens.parse(examples.CLASSIC_TOKEN)  # signed with "your-256-bit-secret"
    found = [n for n in tokens.lint(classic, wordlist=True) if "wordlist" in n]
    assert found == [
        "the HS256 secret is 'your-256-bit-secret', found in a wordlist of weak secrets: "
        "anyone who tries it can sign any claims"
    ]
    assert not any("wordlist" in n for n in tokens.lint(classic))  # off unless asked
    assert not any("wordlist" in n for n in tokens.lint(classic, wordlist=["a", "b"]))
    assert any("wordlist" in n for n in tokens.lint(classic, wordlist=["your-256-bit-secret"]))
    demo = tokens.parse(examples.lab_token())  # a random 64-character secret
    assert tokens.lint(demo, wordlist=True) == []
    unsigned = tokens.parse(tokens.encode({"alg": "none"}, {"exp": 1}))
    assert tokens.lint(unsigned, wordlist=True) == tokens.lint(unsigned)  # nothing to crack


# The parsing boundary (issue 12): every parser limit is the kit's, stated, and one line ----------


def token_with(part: str, json_text: bytes) -> str:
    """A token whose header or payload is ``json_text`` (the other part a plain object)."""
    header, payload = (json_text, b"{}") if part == "header" else (b'{"alg":"HS256"}', json_text)
    return f"{seg(header)}.{seg(payload)}.{SIG}"


def nested(depth: int, inner: bytes = b"1") -> bytes:
    """``{"a": [[...inner...]]}``: one object, then ``depth - 1`` arrays."""
    return b'{"a":' + b"[" * (depth - 1) + inner + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize("part", ["header", "payload"])
@pytest.mark.parametrize("depth", [tokens.MAX_DEPTH + 1, 1_000, 3_000])
def test_deep_nesting_is_a_malformed_token_not_a_recursion_error(part: str, depth: int) -> None:
    token = token_with(part, nested(depth))
    assert len(token) < 8192  # under verify's MAX_LENGTH: the bound must be the parser's own
    with pytest.raises(
        MalformedTokenError, match=f"the {part} nests arrays/objects deeper than 32"
    ):
        tokens.parse(token)
    with pytest.raises(MalformedTokenError, match="deeper than 32"):
        labkit.verify(token, keys.demo_secret(), algorithms=["HS256"])
    with pytest.raises(MalformedTokenError, match="deeper than 32"):
        tokens.lint(token)


def test_deep_nesting_up_to_max_depth_parses_and_strings_do_not_count() -> None:
    deepest = tokens.parse(token_with("payload", nested(tokens.MAX_DEPTH))).payload["a"]
    for _ in range(tokens.MAX_DEPTH - 1):
        (deepest,) = deepest
    assert deepest == 1
    brackets = b'{"a":"' + b"[{" * 2000 + b'\\"]"}'  # brackets and escaped quotes in a string
    assert tokens.parse(token_with("payload", brackets)).payload["a"].startswith("[{[{")
    # an unterminated string can only make the scan count more, never less
    with pytest.raises(MalformedTokenError):
        tokens.parse(token_with("payload", b'{"a":"' + b"[" * 100))


@pytest.mark.parametrize("part", ["header", "payload"])
@pytest.mark.parametrize(
    "literal",
    [
        b"1" * 4_301,  # over CPython's int conversion limit: ValueError before the fix
        b"-" + b"9" * 5_000,
        b"1" * (tokens.MAX_NUMBER_DIGITS + 1),
        b"1." + b"0" * 5_000,
        b"1e" + b"9" * 5_000,
    ],
    ids=["4301-digits", "negative", "just-over", "long-fraction", "long-exponent"],
)
def test_huge_integer_or_number_literal_is_a_malformed_token(part: str, literal: bytes) -> None:
    token = token_with(part, b'{"n":' + literal + b"}")
    with pytest.raises(MalformedTokenError, match=f"the {part} has a number .* over the limit"):
        tokens.parse(token)
    with pytest.raises(MalformedTokenError, match="over the limit of 1000"):
        labkit.verify(token, keys.demo_secret(), algorithms=["HS256"])


def test_huge_integer_within_the_bound_is_an_ordinary_claim() -> None:
    digits = tokens.MAX_NUMBER_DIGITS
    assert tokens.parse(token_with("payload", b'{"n":' + b"9" * digits + b"}")).payload["n"] > 0
    # Beyond a double's range Python would read infinity, an exp that never comes: refused at
    # the one JSON boundary (RFC 8259 section 6 lets parsers limit the range; RFC 7493 2.2).
    for literal in (b"1e999", b"-1e999", b"1E400"):
        with pytest.raises(MalformedTokenError, match="beyond a double's range"):
            tokens.parse(token_with("payload", b'{"exp":' + literal + b"}"))
    assert tokens.parse(token_with("payload", b'{"exp":1e300}')).payload["exp"] == 1e300
    assert tokens.parse(token_with("payload", b'{"tiny":1e-999}')).payload["tiny"] == 0.0
    note = tokens.lint(token_with("payload", b'{"exp":' + b"9" * digits + b"}"), now=0)
    assert note == ["'exp' is more than a day away: long-lived tokens widen the theft window"]


@pytest.mark.parametrize("part", ["header", "payload"])
@pytest.mark.parametrize(
    "escape", [b"\\ud800", b"\\uDFFF", b"x\\udbff", b"\\udc00\\ud800", b"\\ud800\\u0041"]
)
def test_lone_surrogate_escape_is_a_malformed_token(part: str, escape: bytes) -> None:
    token = token_with(part, b'{"s":"' + escape + b'"}')
    with pytest.raises(MalformedTokenError, match=f"the {part} has a lone UTF-16 surrogate"):
        tokens.parse(token)
    key_token = token_with(part, b'{"' + escape + b'":1}')  # in a member name too
    with pytest.raises(MalformedTokenError, match="lone UTF-16 surrogate"):
        tokens.parse(key_token)


def test_lone_surrogate_check_keeps_real_pairs_and_raw_text_surrogates_are_refused() -> None:
    assert tokens.parse(token_with("payload", b'{"s":"\\ud83d\\ude00"}')).payload["s"] == "😀"
    with pytest.raises(MalformedTokenError, match="lone UTF-16 surrogate at position 7"):
        tokens.load_json('{"s": "\ud800"}', "body")
    with pytest.raises(MalformedTokenError, match=r"character '\\ud800' at position 0"):
        tokens.b64url_decode("\ud800")  # shown escaped: printing it cannot fail


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xc3(", "the body is not UTF-8 text"),
        (b"\xef\xbb\xbf{}", "the body is not JSON: Unexpected UTF-8 BOM"),
        ('{"a":1,"a":2}', "the body has the member 'a' twice"),
        ("[Infinity]", "JSON does not allow Infinity"),
        ("[" * 33 + "]" * 33, "deeper than 32 levels"),
        ("[" * 100_000, "deeper than 32 levels"),
        ("1" * 1001, "a number 1001 characters long"),
        ("", "the body is not JSON: Expecting value at character 0"),
    ],
)
def test_load_json_refuses_in_one_line(data: str | bytes, message: str) -> None:
    with pytest.raises(MalformedTokenError, match=message) as info:
        tokens.load_json(data, "body")
    assert "\n" not in str(info.value)


def test_load_json_raises_the_callers_error_class() -> None:
    with pytest.raises(KeyFormatError, match="the JWKS nests"):
        tokens.load_json("[" * 64 + "]" * 64, "JWKS", error=KeyFormatError)
    with pytest.raises(ConfigurationError, match="must be text or bytes, got dict"):
        tokens.load_json({}, "body")  # type: ignore[arg-type]
    assert tokens.load_json(bytearray(b'{"a":[1,2.5,"x",null,true]}')) == {
        "a": [1, 2.5, "x", None, True]
    }


def test_lint_takes_a_compact_token_too() -> None:
    assert tokens.lint(examples.CLASSIC_TOKEN) == tokens.lint(tokens.parse(examples.CLASSIC_TOKEN))
    assert tokens.lint(examples.CLASSIC_TOKEN.encode()) == tokens.lint(examples.CLASSIC_TOKEN)
    with pytest.raises(MalformedTokenError, match="the token has 1 segment"):
        tokens.lint("not-a-token")
    with pytest.raises(ConfigurationError, match=r"lint takes a token .*, got dict"):
        tokens.lint({"alg": "HS256"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="now must be a datetime or epoch seconds"):
        tokens.lint(examples.CLASSIC_TOKEN, now="today")  # type: ignore[arg-type]


def test_b64url_encode_of_a_dict_says_to_serialize_it_first() -> None:
    with pytest.raises(ConfigurationError, match="b64url_encode takes bytes or str, got dict") as e:
        tokens.b64url_encode({"alg": "HS256"})  # type: ignore[arg-type]
    assert e.value.why == "serialize it first: b64url_encode(tokens.json_bytes(value))"
    assert tokens.b64url_encode(bytearray(b"\xff")) == "_w"


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


def longest_number(value: object) -> int:
    if isinstance(value, list):
        return max(map(longest_number, value), default=0)
    if isinstance(value, dict):
        return max(map(longest_number, value.values()), default=0)
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return len(json.dumps(value)) if is_number else 0


TRICKY_TEXT = st.text(alphabet='[]{}"\\,:-0eE1 ab\u00e9\u2028', max_size=8)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TRICKY_TEXT
    | st.sampled_from([10**999, -(10**998), 10**1000, -(10**999), float(10**300)])
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, database=None)
@given(TREES, st.integers(0, 40), st.sampled_from(["[", "{", "[{"]), st.booleans())
def test_the_shape_checks_agree_with_the_parser_on_valid_json(
    tree: object, wrap: int, kinds: str, ascii_only: bool
) -> None:
    """No under-count (a deep or long one let through) and no over-count (a valid one refused)."""
    for index in range(wrap):
        tree = [tree] if kinds[index % len(kinds)] == "[" else {'"k\\': tree}
    text = json.dumps(tree, ensure_ascii=ascii_only)
    too_long = longest_number(tree) > tokens.MAX_NUMBER_DIGITS
    too_deep = depth_of(tree) > tokens.MAX_DEPTH
    if too_long:
        with pytest.raises(MalformedTokenError, match=r"a number .* over the limit of 1000"):
            tokens.load_json(text, "payload")
    elif too_deep:
        with pytest.raises(MalformedTokenError, match="deeper than 32 levels"):
            tokens.load_json(text.encode(), "payload")
    else:
        assert tokens.load_json(text, "payload") == json.loads(text)
