"""Compact JWS tokens taken apart and put together, strictly.

A JWT is three base64url segments joined by dots: ``header.payload.signature``.
Parsing here is deliberately strict (no padding, no stray characters, no
duplicate JSON members): lenient parsers are where many token bugs start, and
every rejection says in plain words what was wrong.

This module is the kit's one JSON parsing boundary (``load_json``): nesting
deeper than ``MAX_DEPTH``, numbers longer than ``MAX_NUMBER_DIGITS`` digits, bad
UTF-8, lone UTF-16 surrogates and anything else the JSON parser can raise become
one ``MalformedTokenError`` line here, before any signature is checked, so the
interpreter's own limits (recursion, the 4,300-digit int conversion) never fire.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from labkit import claims
from labkit.errors import ConfigurationError, LabkitError, MalformedTokenError, shown

__all__ = [
    "MAX_DEPTH",
    "MAX_NUMBER_DIGITS",
    "Jws",
    "Token",
    "b64url_decode",
    "b64url_encode",
    "encode",
    "json_bytes",
    "lint",
    "load_json",
    "parse",
    "parse_jws",
    "signing_input",
    "split",
]

Wordlist = bool | str | os.PathLike[str] | Iterable[str | bytes] | None
"""What ``lint`` takes to look for a guessable secret: see its docstring."""

MAX_DEPTH = 32
"""Deepest nesting of JSON arrays and objects accepted (a JWK in a header is depth 2).

Without a bound, ~1,000 nested arrays under the 8 KiB token limit exhaust
Python's recursion limit before any signature is checked."""
MAX_NUMBER_DIGITS = 1000
"""Longest JSON number literal accepted, in characters (digits, sign, point, exponent).

Far above any NumericDate or counter, far below CPython's 4,300-digit limit on
int conversion (CVE-2020-10735), so that limit is never the one that fires. A
float literal beyond double range (``1e999``) reads as infinity, which no claim
check accepts: NumericDates must be finite."""

_B64URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_COMPACT_CHARS = re.compile(r"[A-Za-z0-9_.-]*")  # the common case: no whitespace to look for


@dataclass(frozen=True)
class Jws:
    """A parsed compact JWS whose payload is kept as raw bytes (need not be JSON)."""

    header: dict[str, Any]
    payload: bytes
    signature: bytes
    signing_input: bytes


@dataclass(frozen=True)
class Token:
    """A parsed JWT: JSON header and JSON claims, signature NOT checked."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signature: bytes
    signing_input: bytes


def b64url_encode(data: bytes | str) -> str:
    """Base64url without padding, as RFC 7515 section 2 requires."""
    if isinstance(data, str):
        data = _utf8(data, "text to encode", ConfigurationError)
    elif isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        tip = (
            "serialize it first: b64url_encode(tokens.json_bytes(value))"
            if isinstance(data, dict)
            else None
        )
        raise ConfigurationError(
            f"b64url_encode takes bytes or str, got {type(data).__name__}", tip
        )
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, part: str = "segment") -> bytes:
    """Decode unpadded base64url, refusing anything a strict parser must refuse.

    ``part`` names the segment in error messages ("header", "signature", ...).
    Non-canonical encodings (stray low bits in the last character) are refused
    too, so one byte string has exactly one encoding: otherwise a token can be
    changed without changing what it decodes to.
    """
    if not isinstance(text, str):
        raise MalformedTokenError(f"the {part} must be text, got {type(text).__name__}")
    if "=" in text:
        raise MalformedTokenError(
            f"the {part} contains '=' padding",
            "JWTs use base64url without padding (RFC 7515 section 2)",
        )
    bad = _first_bad_char(text)
    if bad is not None:
        char, pos = bad
        tip = " (base64url uses '-' and '_' where base64 uses '+' and '/')" if char in "+/" else ""
        raise MalformedTokenError(
            f"the {part} is not base64url: character {char!r} at position {pos} is not allowed{tip}"
        )
    if len(text) % 4 == 1:
        raise MalformedTokenError(
            f"the {part} has an impossible base64url length ({len(text)} characters)"
        )
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - guarded above
        raise MalformedTokenError(f"the {part} is not base64url: {exc}") from None
    if b64url_encode(data) != text:
        raise MalformedTokenError(
            f"the {part} is not canonical base64url: its last character has stray bits",
            "one value must have one encoding, or tokens can be altered unnoticed",
        )
    return data


def split(token: str | bytes) -> tuple[str, str, str]:
    """Split a compact token into its three segments, with a clear error if it is not one."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedTokenError("the token contains non-ASCII bytes") from None
    if not isinstance(token, str):
        raise MalformedTokenError(f"a token must be a string, got {type(token).__name__}")
    if not token:
        raise MalformedTokenError("the token is empty")
    if token[:7].lower() == "bearer ":
        raise MalformedTokenError(
            "the token starts with 'Bearer '",
            "that is the Authorization header's scheme; pass only the token after it",
        )
    for pos, char in enumerate("" if _COMPACT_CHARS.fullmatch(token) else token):
        if char.isspace():
            raise MalformedTokenError(
                f"the token contains whitespace at position {pos}",
                "copy it without spaces or line breaks",
            )
    parts = token.split(".")
    if len(parts) == 5:
        raise MalformedTokenError(
            "the token has 5 segments: that is an encrypted JWE, not a signed JWS",
            "this kit works with signed tokens (3 segments)",
        )
    if len(parts) != 3:
        raise MalformedTokenError(
            f"the token has {len(parts)} segment{'s' if len(parts) != 1 else ''}; "
            "a compact JWS has exactly 3: header.payload.signature"
        )
    if not parts[0]:
        raise MalformedTokenError("the header segment is empty")
    # An empty payload is a valid JWS (empty or detached content, RFC 7515 appendix F);
    # ``parse`` refuses it for JWTs, whose claims are a JSON object.
    return parts[0], parts[1], parts[2]


def parse_jws(token: str | bytes) -> Jws:
    """Parse a compact JWS; the payload stays raw bytes. The signature is NOT checked."""
    head, body, sig = split(token)
    header = _json_object(b64url_decode(head, "header"), "header")
    payload = b64url_decode(body, "payload")
    signature = b64url_decode(sig, "signature")
    return Jws(header, payload, signature, f"{head}.{body}".encode("ascii"))


def parse(token: str | bytes) -> Token:
    """Parse a JWT into header, claims, signature and signing input. The signature is NOT checked.

    Decoding is not verifying: anyone can write any claims into a token.
    """
    jws = parse_jws(token)
    if not jws.payload:
        raise MalformedTokenError("the payload segment is empty", "JWT claims are a JSON object")
    payload = _json_object(jws.payload, "payload")
    return Token(jws.header, payload, jws.signature, jws.signing_input)


def json_bytes(value: dict[str, Any] | bytes) -> bytes:
    """Serialize a header or payload the way PyJWT does (compact, key order kept)."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, dict):
        raise MalformedTokenError(f"a header or payload must be a dict, got {type(value).__name__}")
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise MalformedTokenError(f"cannot serialize to JSON: {exc}") from None


def signing_input(header: dict[str, Any], payload: dict[str, Any] | bytes) -> bytes:
    """The bytes a JWS signs: ``b64url(header) + "." + b64url(payload)``."""
    return f"{b64url_encode(json_bytes(header))}.{b64url_encode(json_bytes(payload))}".encode(
        "ascii"
    )


def encode(header: dict[str, Any], payload: dict[str, Any] | bytes, signature: bytes = b"") -> str:
    """Assemble a compact token from its parts (no signing: see ``labkit.algorithms``)."""
    if not isinstance(signature, bytes):
        raise MalformedTokenError(f"a signature must be bytes, got {type(signature).__name__}")
    return f"{signing_input(header, payload).decode('ascii')}.{b64url_encode(signature)}"


def lint(
    token: Token | str | bytes, now: claims.Now = None, *, wordlist: Wordlist = None
) -> list[str]:
    """Plain-words warnings about a decoded token, for humans (not a verification).

    ``token`` is a ``Token`` from ``parse``, or the compact token itself (parsed
    here, so a malformed one raises ``MalformedTokenError``). ``now`` (epoch
    seconds or an aware datetime) enables the time checks; leave it out to skip them.
    ``wordlist`` enables the guessable-secret check for HS256/384/512 tokens: ``True``
    for the kit's bundled list of weak secrets, or any word source ``labkit.attacks.crack``
    takes (a path, an iterable of words). It runs the cracker: cheap for the bundled list.
    """
    if isinstance(token, (str, bytes)):
        token = parse(token)
    if not isinstance(token, Token):
        raise ConfigurationError(
            f"lint takes a token (text, or a Token from parse), got {type(token).__name__}"
        )
    at = None if now is None else claims.clock(now)
    notes = []
    alg = token.header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        notes.append(f"alg is {shown(alg)}: an unsigned token proves nothing about who made it")
    for name, why in _RISKY_HEADERS.items():
        if name in token.header:
            notes.append(f"header '{name}' is present: {why}")
    exp = token.payload.get("exp")
    if exp is None:
        notes.append("no 'exp' claim: the token never expires, so a stolen copy works forever")
    elif not claims.is_numeric_date(exp):
        notes.append(f"'exp' is {shown(exp)}, not a number of seconds: verifiers will reject it")
    elif at is not None and exp < at:
        notes.append("'exp' is in the past: the token has expired")
    elif at is not None and exp > at + _LONG_LIFETIME:  # compared, never subtracted: no overflow
        notes.append("'exp' is more than a day away: long-lived tokens widen the theft window")
    if wordlist is not None and wordlist is not False:
        notes += _guessable_secret(token, None if wordlist is True else wordlist)
    return notes


def _guessable_secret(token: Token, words: Any) -> list[str]:
    """The cracker's verdict on an HS* token's secret, as a lint note (none for other algs)."""
    from labkit.attacks import crack  # imported on use: the cracker imports this module

    compact = f"{token.signing_input.decode('ascii')}.{b64url_encode(token.signature)}"
    try:
        target = crack.Target.from_token(compact)
    except LabkitError:  # not HS256/384/512, or a signature no secret can produce
        return []
    path = isinstance(words, (str, os.PathLike))
    if path and os.path.exists(words) and not os.path.isfile(words):
        raise ConfigurationError(  # /dev/zero is one endless line: a lint must never hang
            f"the wordlist {os.fsdecode(words)!r} is not a regular file",
            "lint reads its wordlist from a file; pass the words as a list to use another source",
        )
    try:
        found = crack.crack(target, words)
    except (OSError, UnicodeError) as exc:  # a path that cannot be opened, words not text
        raise ConfigurationError(f"cannot read the wordlist: {type(exc).__name__}") from None
    if found.text is None:
        return []
    return [
        f"the {target.alg} secret is {found.text!r}, found in a wordlist of weak secrets: "
        "anyone who tries it can sign any claims"
    ]


_LONG_LIFETIME = 24 * 3600
_RISKY_HEADERS = {
    "jwk": "a key embedded by whoever made the token; never verify with it",
    "jku": "a URL of keys chosen by whoever made the token; never fetch it blindly",
    "x5u": "a URL of certificates chosen by whoever made the token; never fetch it blindly",
    "kid": "selects a key; it must only ever be looked up, never used as a path or in SQL",
}


def _first_bad_char(text: str) -> tuple[str, int] | None:
    match = _B64URL_CHARS.match(text)
    end = match.end() if match else 0
    return None if end == len(text) else (text[end], end)


def load_json(
    data: str | bytes | bytearray,
    what: str = "JSON",
    *,
    error: type[LabkitError] = MalformedTokenError,
) -> Any:
    """Parse untrusted JSON: the kit's one JSON boundary, for tokens, JWKs and request bodies.

    Refused, each with one ``error`` line naming ``what`` (``error`` is
    ``MalformedTokenError`` unless the caller names another ``LabkitError``
    class, e.g. ``KeyFormatError`` for a JWKS): bytes that are not UTF-8,
    nesting deeper than ``MAX_DEPTH``, number literals longer than
    ``MAX_NUMBER_DIGITS``, duplicate object members, ``NaN``/``Infinity`` and literals
    beyond a double's range (``1e999``), lone
    UTF-16 surrogates (I-JSON, RFC 7493 section 2.1: they cannot be re-encoded
    as UTF-8), and anything else the parser raises. The depth is checked before
    parsing and numbers as they are read, so the work stays linear in the size
    of ``data``; bound that size before calling (tokens: ``labkit.verify``'s
    ``MAX_LENGTH``).
    """
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(
                f"the {what} is not UTF-8 text (bad byte at position {exc.start})"
            ) from None
    elif isinstance(data, str):
        text, raw = data, _utf8(data, what, error)  # refuses a lone surrogate in the text
    else:
        raise ConfigurationError(f"{what} must be text or bytes, got {type(data).__name__}")
    _check_shape(raw, what, error)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates(what, error),
            parse_constant=_no_nan(error),
            parse_float=_finite(what, error),
        )
    except LabkitError:
        raise
    except json.JSONDecodeError as exc:
        raise error(f"the {what} is not JSON: {exc.msg} at character {exc.pos}") from None
    except (ValueError, RecursionError, TypeError, MemoryError) as exc:  # belt and braces
        raise error(f"the {what} is not JSON the kit can read: {type(exc).__name__}") from None
    if _SURROGATE_ESCAPE.search(text):  # only such an escape can make a lone surrogate here
        _no_lone_surrogates(value, what, error)
    return value


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    value = load_json(data, part)
    if not isinstance(value, dict):
        raise MalformedTokenError(f"the {part} must be a JSON object, got {_json_kind(value)}")
    return value


_NUMBER_CHARS = bytes(ord("0") if chr(b) in "-+.0123456789eE" else ord(" ") for b in range(256))
"""Byte table: every character a JSON number literal can hold -> '0', anything else -> ' '."""
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_TOO_LONG = b"0" * (MAX_NUMBER_DIGITS + 1)
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def _check_shape(data: bytes, what: str, error: type[LabkitError]) -> None:
    """Refuse number literals over MAX_NUMBER_DIGITS and nesting over MAX_DEPTH, before parsing.

    Both are judged outside strings, with C-speed byte operations only (replace,
    split, translate, find: no per-character Python loop, no regex backtracking),
    each linear in the size of ``data``. Short, shallow texts (every real token)
    skip the work. Where the text is not JSON the checks can only over-count
    (an unterminated string runs to the end; unclosed brackets count as open),
    and the parser would refuse such text anyway.
    """
    long_possible = len(data) > MAX_NUMBER_DIGITS
    deep_possible = data.count(b"[") + data.count(b"{") > MAX_DEPTH
    if not (long_possible or deep_possible):
        return
    outside = _outside_strings(data)
    if long_possible:
        digits = outside.translate(_NUMBER_CHARS)
        start = digits.find(_TOO_LONG)
        if start >= 0:
            end = digits.find(b" ", start)
            length = (len(digits) if end < 0 else end) - start
            raise error(
                f"the {what} has a number {length} characters long, "
                f"over the limit of {MAX_NUMBER_DIGITS}",
                "no claim needs such a number, and converting it costs CPU",
            )
    if deep_possible:
        brackets = outside.translate(_ONE_KIND, _NOT_BRACKETS)
        passes = 0  # each pass removes every innermost pair: one level off every branch
        while passes < MAX_DEPTH:
            fewer = brackets.replace(b"[]", b"")
            if fewer == brackets:
                break
            brackets, passes = fewer, passes + 1
        # a pair left after MAX_DEPTH passes sits deeper than that; unclosed openers add depth
        if b"[]" in brackets or brackets.count(b"[") + passes > MAX_DEPTH:
            raise error(
                f"the {what} nests arrays/objects deeper than {MAX_DEPTH} levels",
                "a bound before parsing keeps hostile JSON from exhausting the parser",
            )


def _outside_strings(data: bytes) -> bytes:
    """``data`` with every JSON string's content removed (each string becomes ``""``).

    Escapes go first, pairing backslashes from the left as a JSON parser does
    (``\\\\`` then ``\\"``); then, quotes alternate between opening and closing.
    Before the first place the text stops being JSON this agrees with the parser,
    which never reads past that place.
    """
    if b'"' not in data:
        return data
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b'""'.join(unescaped.split(b'"')[::2])


def _no_lone_surrogates(value: Any, what: str, error: type[LabkitError]) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise error(
            f"the {what} has a lone UTF-16 surrogate escape (such as \\ud800) in a string",
            "I-JSON forbids them (RFC 7493 section 2.1): they are not text in any encoding",
        ) from None
    except (ValueError, TypeError, RecursionError):  # pragma: no cover - parsed JSON dumps
        raise error(f"the {what} holds values the kit cannot re-encode") from None


def _utf8(text: str, what: str, error: type[LabkitError]) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(
            f"the {what} holds a lone UTF-16 surrogate at position {exc.start}",
            "it is not text in any encoding",
        ) from None


def _no_duplicates(  # type: ignore[no-untyped-def]
    part: str, error: type[LabkitError] = MalformedTokenError
):
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise error(
                    f"the {part} has the member {shown(key)} twice",
                    "parsers disagree on which one wins, which attackers exploit",
                )
            seen[key] = value
        return seen

    return hook


def _no_nan(error: type[LabkitError] = MalformedTokenError):  # type: ignore[no-untyped-def]
    def hook(name: str) -> Any:
        raise error(f"JSON does not allow {name}")

    return hook


def _finite(what: str, error: type[LabkitError]) -> Callable[[str], float]:
    """``1e999`` is valid JSON that Python reads as infinity: an ``exp`` that never comes.

    RFC 8259 section 6 lets a parser limit the range of numbers, and I-JSON (RFC 7493
    section 2.2) expects IEEE 754 doubles, which hold no infinity; so a literal beyond a
    double's range is refused here, once, for every caller.
    """

    def hook(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise error(f"the {what} holds a number beyond a double's range ({literal[:20]})")
        return value

    return hook


def _json_kind(value: Any) -> str:
    kinds = {
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return "null" if value is None else kinds.get(type(value), type(value).__name__)
