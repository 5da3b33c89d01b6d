"""Fuzzing labkit.verify: whatever comes in, only InvalidTokenError subclasses come out.

Bounded to a few hundred examples per property so the normal run stays well under
a minute; ``bench/fuzz.py`` runs the same families for 100k cases.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit
from labkit import keys, tokens
from labkit.errors import InvalidTokenError
from labkit.verify import verify

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
    accepted = outcome(tokens.encode(head, payload, signature), secret, required=())
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
