"""Fuzzing the token boundary: whatever comes in, only labkit errors come out.

``labkit.verify`` raises only ``InvalidTokenError`` subclasses; ``verify_jws``,
``tokens.parse``/``parse_jws``/``lint`` and ``tokens.load_json`` raise only
``LabkitError``s, for structured hostile input (deep nesting, huge numbers, lone
surrogates, invalid UTF-8, odd base64url, duplicate members, non-object JSON).
Bounded to a few hundred examples per property so the normal run stays fast;
``bench/fuzz.py`` runs the same families for 100k cases.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit
from labkit import keys, tokens
from labkit.errors import InvalidTokenError, LabkitError, MalformedTokenError
from labkit.verify import MAX_LENGTH, verify

NOW = 1_700_000_000
CLAIMS = {"sub": "alice", "aud": "api", "iss": "https://idp.example", "iat": NOW, "exp": NOW + 60}
ALGS = ("HS256", "RS256", "ES256", "EdDSA")
VALID = {
    alg: (
        labkit.sign_token(CLAIMS, keys.demo_key_for(alg), alg),
        keys.demo_key_for(alg, private=False),
    )
    for alg in ALGS
}
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def outcome(token: object, key: object, alg: str = "HS256", **options: Any) -> dict | None:
    """The claims if accepted, None if refused; any other exception fails the test."""
    try:
        return verify(
            token,  # type: ignore[arg-type]
            key,  # type: ignore[arg-type]
            algorithms=[alg],
            audience="api",
            issuer="https://idp.example",
            now=NOW,
            **options,
        )
    except InvalidTokenError as exc:
        assert "\n" not in str(exc), "messages are one line"
        return None


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str, str]:
    """(alg, original, mutant): 1-4 byte-level edits of a valid token."""
    alg = draw(st.sampled_from(ALGS))
    original = VALID[alg][0]
    data = bytearray(original.encode("ascii"))
    alphabet = st.sampled_from(b"AZaz09-_.=+/ \x00\xff?")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("replace", "insert", "delete", "flip", "cut")))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "replace" and data:
            data[at] = draw(alphabet)
        elif op == "insert":
            data.insert(at, draw(alphabet))
        elif op == "delete" and data:
            del data[at]
        elif op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[at:]
    return alg, original, bytes(data).decode("latin-1")


@FUZZ
@given(mutations())
def test_mutated_tokens_are_refused_unless_unchanged(case: tuple[str, str, str]) -> None:
    alg, original, mutant = case
    claims = outcome(mutant, VALID[alg][1], alg)
    if claims is not None:  # accepted: then the signing input and signature are the original's
        assert mutant == original


@FUZZ
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_random_text_and_bytes(token: str | bytes) -> None:
    assert outcome(token, keys.demo_secret()) is None


@FUZZ
@given(
    st.lists(st.sampled_from(["e30", "eyJhbGciOiJIUzI1NiJ9", "", "x", "AA", "=", "é"]), max_size=6)
)
def test_random_segment_assemblies(parts: list[str]) -> None:
    assert outcome(".".join(parts), keys.demo_secret()) is None


SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
JSON = st.recursive(
    SCALARS | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
CLAIM_VALUES = st.dictionaries(
    st.sampled_from(["exp", "nbf", "iat", "aud", "iss", "sub", "jti", "role"]), JSON
)
NAMES = st.sampled_from(["b64", "exp", "kid", "alg"])
HEADER_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "kid": JSON,
        "crit": st.lists(NAMES, max_size=3) | JSON,
        "b64": st.booleans() | JSON,
        "typ": JSON,
        "jku": JSON,
        "jwk": JSON,
    },
)


@FUZZ
@given(CLAIM_VALUES, HEADER_VALUES)
def test_signed_tokens_with_arbitrary_claims_and_headers(
    claims: dict[str, Any], header: dict[str, Any]
) -> None:
    """Properly signed, so every check past the signature sees arbitrary JSON."""
    secret = keys.demo_secret()
    head = {**header, "alg": "HS256"}
    payload = tokens.json_bytes(claims)
    signature = labkit.algorithms.sign("HS256", secret, tokens.signing_input(head, payload))
    accepted = outcome(
        tokens.encode(head, payload, signature), secret, required=(), require_exp=False
    )
    if accepted is not None:
        assert accepted == claims


JWK_MEMBERS = st.dictionaries(
    st.sampled_from(["kty", "crv", "x", "y", "n", "e", "k", "d", "alg", "use", "key_ops", "kid"]),
    JSON | st.sampled_from(["RSA", "EC", "oct", "OKP", "P-256", "AQAB", "sig", "HS256"]),
)


@FUZZ
@given(JWK_MEMBERS | st.builds(lambda keys_: {"keys": keys_}, st.lists(JWK_MEMBERS, max_size=3)))
def test_arbitrary_jwks_are_refused_cleanly(key: dict[str, Any]) -> None:
    assert outcome(VALID["HS256"][0], key) is None


@pytest.mark.parametrize("alg", ALGS)
def test_the_fuzzed_originals_are_valid(alg: str) -> None:
    token, key = VALID[alg]
    assert outcome(token, key, alg) == CLAIMS


# The parsing boundary: structured hostile input at every entry point that parses a token ---------

BOUNDARY = settings(
    max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
ENTRY_POINTS = ("verify", "verify_jws", "parse", "parse_jws", "lint")


def only_labkit_errors(token: str | bytes) -> None:
    """Every entry point either returns or raises a one-line ``LabkitError``, nothing else."""
    secret = keys.demo_secret()
    calls = {
        "verify": lambda: labkit.verify(token, secret, algorithms=["HS256"], now=NOW),
        "verify_jws": lambda: labkit.verify_jws(token, secret, algorithms=["HS256"]),
        "parse": lambda: tokens.parse(token),
        "parse_jws": lambda: tokens.parse_jws(token),
        "lint": lambda: tokens.lint(token, now=NOW),
    }
    for name in ENTRY_POINTS:
        try:
            calls[name]()
        except LabkitError as exc:
            assert "\n" not in str(exc), f"{name}: a multi-line message"
            if name.startswith("verify"):
                assert isinstance(exc, InvalidTokenError), f"{name} raised {exc!r}"


def nest(depth: int, openers: str, inner: str) -> str:
    """``inner`` wrapped ``depth`` times, cycling through arrays and objects as ``openers`` says."""
    text = inner
    for index in range(depth):
        text = f"[{text}]" if openers[index % len(openers)] == "[" else '{"k":' + text + "}"
    return text


def sizes(edges: list[int], top: int) -> st.SearchStrategy[int]:
    """The sizes that matter (each bound, each side of it, the interpreter's limits) or any."""
    return st.sampled_from(edges) | st.integers(0, top)


DEPTHS = sizes([31, 32, 33, 64, 999, 1_000, 1_001, 1_500, 2_000], 2_000)
NESTING = st.builds(
    nest,
    DEPTHS,
    st.sampled_from(["[", "[", "{", "[{", "{["]),
    st.sampled_from(["1", '"x"', "[]", "{}", '"[[[["', "null"]),
)
DIGITS = sizes([1, 64, 999, 1_000, 1_001, 4_300, 4_301, 5_000], 5_500).map(
    lambda n: "9" * max(n, 1)
)
NUMBERS = st.one_of(
    DIGITS,
    DIGITS.map(lambda d: f"-{d}"),
    st.tuples(DIGITS, DIGITS).map(lambda p: f"{p[0][:40]}.{p[1]}"),
    st.tuples(
        st.sampled_from(["1", "-1", "0.5", "1.0"]), st.sampled_from(["e", "E", "e-", "e+"])
    ).flatmap(lambda p: DIGITS.map(lambda d: f"{p[0]}{p[1]}{d[:4000]}")),
    st.sampled_from(["1e999", "-1e999", "1e-999", "0e0", "-0", "1E400", "NaN", "Infinity"]),
)
SURROGATES = st.lists(
    st.integers(0xD800, 0xDFFF).map(lambda c: f"\\u{c:04x}")
    | st.sampled_from(["\\ud83d\\ude00", "a", "\\u0000", "\\\\", '\\"', "é"]),
    min_size=1,
    max_size=6,
).map("".join)
VALUES = st.one_of(NESTING, NUMBERS, SURROGATES.map(lambda s: f'"{s}"'))


@st.composite
def hostile_json(draw: st.DrawFn) -> bytes:
    """A header or payload: an object holding a hostile value, a non-object, or bad bytes."""
    value = draw(VALUES)
    shape = draw(st.sampled_from(["member", "name", "duplicate", "bare", "bytes"]))
    if shape == "member":
        text = '{"alg":"HS256","exp":' + value + "}"
    elif shape == "name":
        text = '{"' + draw(SURROGATES) + '":' + value + "}"
    elif shape == "duplicate":
        text = '{"alg":"HS256","alg":' + value + "}"
    elif shape == "bare":
        text = value
    else:
        return draw(st.binary(max_size=64)) + value.encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")


ODD_SEGMENTS = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "-_+/=", max_size=12),
    st.sampled_from(["AB", "AAB", "AAAAB", "e30=", "e30==", "e3+", "e3/", "=", "A", ""]),
)


@st.composite
def hostile_tokens(draw: st.DrawFn) -> str | bytes:
    header = draw(st.just(b'{"alg":"HS256"}') | hostile_json())
    payload = draw(st.just(b'{"exp":1}') | hostile_json())
    head, body = tokens.b64url_encode(header), tokens.b64url_encode(payload)
    sig = draw(st.just(tokens.b64url_encode(b"\x01" * 32)) | ODD_SEGMENTS)
    if draw(st.booleans()):  # odd base64url in a JSON segment too
        head = draw(st.sampled_from([head, head + "=", head[:-1] + "+", head + "A"]))
    token = f"{head}.{body}.{sig}"[:MAX_LENGTH]  # verify refuses longer ones before parsing
    return token.encode("ascii") if draw(st.booleans()) else token


@BOUNDARY
@given(hostile_tokens())
def test_hostile_json_raises_only_labkit_errors_at_every_entry_point(token: str | bytes) -> None:
    only_labkit_errors(token)


@BOUNDARY
@given(st.text(max_size=MAX_LENGTH) | st.binary(max_size=MAX_LENGTH))
def test_any_text_or_bytes_up_to_max_length_raises_only_labkit_errors(token: str | bytes) -> None:
    only_labkit_errors(token)


@BOUNDARY
@given(VALUES)
def test_load_json_raises_only_malformed_token_error(text: str) -> None:
    try:
        tokens.load_json(text.encode("utf-8", "surrogatepass"), "body")
    except MalformedTokenError as exc:
        assert "\n" not in str(exc)
