"""Psychic signatures (CVE-2022-21449) and the hand-rolled ECDSA math behind them.

The zero signature passes ``ecdsa_without_range_check`` for any claims and any
P-256 key, and fails ``labkit.verify``; apart from the missing range check the
hand-rolled math is right: it verifies real ES256 signatures and refuses
altered ones, in agreement with OpenSSL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit
from labkit import algorithms, ecdsa, examples, keys, tokens, vulnerable
from labkit.attacks import psychic
from labkit.errors import (
    BadSignatureError,
    ConfigurationError,
    DisallowedAlgorithmError,
    ExpiredTokenError,
    InvalidIssuerError,
    MalformedTokenError,
    UnsafeKeyError,
)
from labkit.exercises import evaluate, get

NOW = 1767259800  # 2026-01-01T09:30:00Z
API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": NOW}
ALICE = dict(examples.LAB_CLAIMS)
PRIVATE = keys.demo_private_key("p256")
PUBLIC = keys.demo_public_key("p256")
N = ecdsa.N

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
extra_claims = st.dictionaries(
    st.text(min_size=1, max_size=12).filter(lambda name: name not in ALICE), json_values, max_size=5
)
p256_keys = st.integers(1, N - 1).map(lambda d: ec.derive_private_key(d, ec.SECP256R1()))


def accept(token: str, key: Any = PUBLIC, **options: Any) -> dict[str, Any]:
    return vulnerable.ecdsa_without_range_check(
        token, key, algorithms=options.pop("algorithms", ["ES256"]), **{**API, **options}
    )


# Proven twice ------------------------------------------------------------------------------------


def test_cve_2022_21449_zero_signature_is_accepted_and_refused() -> None:
    forged = psychic.forge({**ALICE, "role": "admin"})
    assert forged.token.endswith("." + "A" * 86)  # 64 zero bytes in base64url
    assert accept(forged.token)["role"] == "admin"
    with pytest.raises(BadSignatureError, match="ES256 signature does not match"):
        labkit.verify(forged.token, PUBLIC, algorithms=["ES256"], **API)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra=extra_claims, private=p256_keys)
def test_cve_2022_21449_forges_any_claims_under_any_key(
    extra: dict[str, Any], private: ec.EllipticCurvePrivateKey
) -> None:
    claims = {**ALICE, **extra, "sub": "mallory"}
    forged = psychic.forge(claims, header={"kid": "any", "alg": "HS256"})
    assert tokens.parse(forged.token).header == {"alg": "ES256", "typ": "JWT", "kid": "any"}
    assert accept(forged.token, private.public_key()) == claims
    with pytest.raises(BadSignatureError):
        labkit.verify(forged.token, private.public_key(), algorithms=["ES256"], **API)


def test_r_zero_s_n_is_psychic_too_and_r_s_n_is_not() -> None:
    zero_n = bytes(32) + N.to_bytes(32, "big")
    n_n = N.to_bytes(32, "big") * 2
    token = tokens.encode({"alg": "ES256"}, ALICE, zero_n)
    assert accept(token) == ALICE  # s = n is 0 mod n
    with pytest.raises(BadSignatureError):
        accept(tokens.encode({"alg": "ES256"}, ALICE, n_n))  # x = 0 is never n
    for signature in (zero_n, n_n):
        assert not ecdsa.verify(b"x", signature, PUBLIC)


# The vulnerable verifier is otherwise hardened ---------------------------------------------------


def test_honest_tokens_pass_and_honest_mistakes_fail() -> None:
    honest = algorithms.sign_token(ALICE, PRIVATE, "ES256")
    assert accept(honest) == ALICE
    head, _, sig = honest.split(".")
    edited = f"{head}.{tokens.b64url_encode(tokens.json_bytes({**ALICE, 'role': 'admin'}))}.{sig}"
    with pytest.raises(BadSignatureError):
        accept(edited)
    with pytest.raises(BadSignatureError, match="64 bytes"):
        accept(f"{head}.{honest.split('.')[1]}.{tokens.b64url_encode(bytes(63))}")
    with pytest.raises(ExpiredTokenError):
        accept(honest, now=NOW + 7200)
    with pytest.raises(InvalidIssuerError):
        accept(honest, issuer="https://evil.example")
    with pytest.raises(DisallowedAlgorithmError):
        accept(honest, algorithms=["RS256"])
    with pytest.raises(DisallowedAlgorithmError):
        accept(tokens.encode({"alg": "none"}, ALICE))
    with pytest.raises(UnsafeKeyError, match="P-256"):
        accept(honest, keys.demo_public_key("p384"))
    with pytest.raises(ConfigurationError):
        accept(honest, surprise=1)


def test_key_forms_and_other_algorithms() -> None:
    honest = algorithms.sign_token(ALICE, PRIVATE, "ES256")
    jwk = keys.to_jwk(PUBLIC)
    assert accept(honest, jwk) == accept(honest, PRIVATE) == ALICE
    with pytest.raises(UnsafeKeyError, match="cannot be used"):
        accept(honest, "not a key")
    rs = algorithms.sign_token(ALICE, keys.demo_private_key("rsa"), "RS256")
    assert accept(rs, keys.demo_public_key("rsa"), algorithms=["RS256", "ES256"]) == ALICE
    es384 = tokens.encode({"alg": "ES384"}, ALICE, bytes(96))  # not ES256: the hardened path
    with pytest.raises(BadSignatureError):
        accept(es384, keys.demo_public_key("p384"), algorithms=["ES384"])


# The hand-rolled math ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(message=st.binary(max_size=200), private=p256_keys)
def test_hand_rolled_math_verifies_real_es256_signatures(
    message: bytes, private: ec.EllipticCurvePrivateKey
) -> None:
    signature = algorithms.sign("ES256", private, message)
    public = private.public_key()
    assert ecdsa.verify(message, signature, public)
    assert ecdsa.verify(message, signature, public, range_check=False)
    assert not ecdsa.verify(message + b"!", signature, public)
    assert not ecdsa.verify(message, signature, keys.demo_public_key("p256"))


@settings(max_examples=25, deadline=None)
@given(position=st.integers(0, 63), flip=st.integers(1, 255))
def test_hand_rolled_math_agrees_with_openssl_on_altered_signatures(
    position: int, flip: int
) -> None:
    message = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
    signature = bytearray(algorithms.sign("ES256", PRIVATE, message))
    signature[position] ^= flip
    altered = bytes(signature)
    assert ecdsa.verify(message, altered, PUBLIC) is algorithms.verify(
        "ES256", PUBLIC, message, altered
    )


def test_steps_of_the_zero_signature() -> None:
    checked = ecdsa.verify_steps(b"anything", bytes(64), PUBLIC)
    assert (checked.in_range, checked.range_checked, checked.valid) == (False, True, False)
    assert checked.w is None and checked.x is None  # refused before any arithmetic
    unchecked = ecdsa.verify_steps(b"anything", bytes(64), PUBLIC, range_check=False)
    assert (unchecked.w, unchecked.u1, unchecked.u2, unchecked.x, unchecked.v) == (0, 0, 0, 0, 0)
    assert unchecked.valid and not unchecked.in_range


def test_steps_of_an_honest_signature() -> None:
    message = b"hello"
    signature = ecdsa.sign(message, PRIVATE)
    assert signature == ecdsa.sign(message, PRIVATE)  # RFC 6979: the same every run
    assert algorithms.verify("ES256", PUBLIC, message, signature)
    steps = ecdsa.verify_steps(message, signature, PUBLIC)
    assert steps.in_range and steps.valid and steps.v == steps.r
    assert steps.w is not None and steps.w * steps.s % N == 1
    assert ecdsa.scalar_mult(N, (*ecdsa.G, 1))[2] == 0  # n * G is the point at infinity


def test_wycheproof_special_cases(vectors_dir: Path) -> None:
    """Wycheproof's SpecialCaseEs256 group: one valid signature, then odd lengths and r, s in
    {0, 1, n-1, n}. The hand-rolled math agrees on every verdict; without the range check,
    exactly the two signatures with r = 0 and s = 0 mod n flip to valid: the psychic ones.
    """
    data = json.loads((vectors_dir / "wycheproof" / "json_web_signature_test.json").read_text())
    group = next(g for g in data["testGroups"] if g["comment"] == "SpecialCaseEs256")
    public = keys.from_jwk(group["public"])
    assert isinstance(public, ec.EllipticCurvePublicKey)

    def verdict(jws: tokens.Jws, range_check: bool) -> str:
        try:
            ok = ecdsa.verify(jws.signing_input, jws.signature, public, range_check=range_check)
        except MalformedTokenError:  # not 64 bytes
            ok = False
        return "valid" if ok else "invalid"

    flipped = []
    for test in group["tests"]:
        jws = tokens.parse_jws(test["jws"])
        assert verdict(jws, range_check=True) == test["result"], test["comment"]
        if verdict(jws, range_check=False) != test["result"]:
            flipped.append(test["comment"])
    assert len(group["tests"]) == 24
    assert flipped == ["rIsZero_sIsZero", "rIsZero_sIsN"]


def test_math_input_checks() -> None:
    with pytest.raises(MalformedTokenError, match="64 bytes"):
        ecdsa.verify(b"x", bytes(63), PUBLIC)
    with pytest.raises(UnsafeKeyError):
        ecdsa.verify(b"x", bytes(64), keys.demo_public_key("p384"))  # type: ignore[arg-type]
    with pytest.raises(MalformedTokenError):
        psychic.forge(["not", "claims"])  # type: ignore[arg-type]


# Notebook 08's exercises ------------------------------------------------------------------------


def solved(exercise_id: str) -> Any:
    namespace: dict[str, Any] = {"labkit": labkit, "ecdsa": ecdsa, "alice": dict(ALICE)}
    exec(get(exercise_id).solution, namespace)
    return namespace["answer"]


@pytest.mark.parametrize("exercise_id", ["08.1", "08.2", "08.3"])
def test_solutions_are_correct(exercise_id: str) -> None:
    assert evaluate(exercise_id, solved(exercise_id)).status == "correct"


def test_exercise_mistakes_get_a_pointed_message() -> None:
    alice_admin = psychic.forge({**ALICE, "role": "admin"}).token
    assert "sub 'mallory'" in evaluate("08.1", alice_admin).message
    assert "in_range(0, 0) returned True" in evaluate("08.2", lambda r, s: r < N and s < N).message
    assert "in_range(n, 1) returned True" in evaluate("08.2", lambda r, s: r > 0 and s > 0).message
    assert "the one from the notebook" in evaluate("08.3", bytes(64)).message
    assert "r must come out as 0" in evaluate("08.3", N.to_bytes(32, "big") * 2).message
