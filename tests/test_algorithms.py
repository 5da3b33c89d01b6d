"""labkit.algorithms: every JWS algorithm, cross-checked against PyJWT and the RFC vectors."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding

from labkit import algorithms, keys, tokens
from labkit.errors import DisallowedAlgorithmError, MalformedTokenError, UnsafeKeyError

ALGS = algorithms.ALGORITHMS
CLAIMS = {"sub": "alice", "role": "reader", "iat": 1700000000, "name": "Zoë"}
DATA = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
DETERMINISTIC = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "EdDSA")
ES_SIZES = {"ES256": 64, "ES384": 96, "ES512": 132}

# The valid compact-JWS vectors in rfc_vectors.json (RFC 7515 A.1-A.4, RFC 7520 4.1-4.4,
# RFC 7797 4.1, RFC 8037 A.4); test_every_valid_rfc_vector_is_listed keeps this list complete.
VALID_RFC_JWS = (
    "RFC7515-A.1-HS256",
    "RFC7515-A.2-RS256",
    "RFC7515-A.3-ES256",
    "RFC7515-A.4-ES512",
    "RFC7520-4.1-RS256",
    "RFC7520-4.2-PS384",
    "RFC7520-4.3-ES512",
    "RFC7520-4.4-HS256",
    "RFC7797-4.1-HS256",
    "RFC8037-A.4-Ed25519",
)


@pytest.fixture(scope="module")
def rfc_vectors(vectors_dir: Path) -> dict[str, dict]:
    data = json.loads((vectors_dir / "rfc" / "rfc_vectors.json").read_text("utf-8"))
    return {vector["name"]: vector for vector in data["vectors"]}


def private(alg: str):
    return keys.demo_key_for(alg)


def public(alg: str):
    return keys.demo_key_for(alg, private=False)


# Interoperability with PyJWT -------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_labkit_signs_pyjwt_verifies(alg: str) -> None:
    token = algorithms.sign_token(CLAIMS, private(alg), alg)
    assert jwt.decode(token, public(alg), algorithms=[alg]) == CLAIMS


@pytest.mark.parametrize("alg", ALGS)
def test_pyjwt_signs_labkit_verifies(alg: str) -> None:
    jws = tokens.parse_jws(jwt.encode(CLAIMS, private(alg), algorithm=alg))
    assert algorithms.verify(alg, public(alg), jws.signing_input, jws.signature)
    assert algorithms.verify(alg, private(alg), jws.signing_input, jws.signature)


@pytest.mark.parametrize("alg", ALGS)
def test_pyjws_verifies_a_raw_signature_over_any_bytes(alg: str) -> None:
    data = tokens.signing_input({"alg": alg}, b"\x00 not JSON \xff")
    token = f"{data.decode()}.{tokens.b64url_encode(algorithms.sign(alg, private(alg), data))}"
    assert jwt.PyJWS().decode(token, public(alg), algorithms=[alg]) == b"\x00 not JSON \xff"


@pytest.mark.parametrize("alg", DETERMINISTIC)
def test_sign_token_is_byte_identical_to_pyjwt(alg: str) -> None:
    claims = {**CLAIMS, "exp": datetime(2030, 1, 1, tzinfo=timezone.utc), "nested": {"a": [1]}}
    assert algorithms.sign_token(claims, private(alg), alg) == jwt.encode(
        claims, private(alg), algorithm=alg
    )


def test_ed448_interoperates_with_pyjwt() -> None:
    key = ed448.Ed448PrivateKey.generate()
    token = algorithms.sign_token(CLAIMS, key, "EdDSA")
    assert jwt.decode(token, key.public_key(), algorithms=["EdDSA"]) == CLAIMS
    jws = tokens.parse_jws(jwt.encode(CLAIMS, key, algorithm="EdDSA"))
    assert algorithms.verify("EdDSA", key.public_key(), jws.signing_input, jws.signature)


def test_hs256_matches_a_by_hand_hmac() -> None:
    expected = hmac.new(b"k", DATA, hashlib.sha256).digest()
    assert algorithms.sign("HS256", b"k", DATA) == expected  # short secrets are allowed here
    assert algorithms.sign("HS256", "k", DATA) == expected  # str secrets are UTF-8 encoded


@pytest.mark.parametrize("alg", ("ES256", "ES384", "ES512"))
def test_es_signatures_are_raw_r_s_of_fixed_length(alg: str) -> None:
    assert len(algorithms.sign(alg, private(alg), DATA)) == ES_SIZES[alg]


# sign_token headers ----------------------------------------------------------------------------


def test_sign_token_extra_headers_follow_alg_and_typ() -> None:
    token = algorithms.sign_token(CLAIMS, keys.demo_secret(), "HS256", headers={"kid": "k1"})
    header = tokens.parse(token).header
    assert list(header.items()) == [("alg", "HS256"), ("typ", "JWT"), ("kid", "k1")]
    assert jwt.decode(token, keys.demo_secret(), algorithms=["HS256"]) == CLAIMS


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"typ": "at+jwt"}, {"alg": "ES256", "typ": "at+jwt"}),
        ({"typ": None}, {"alg": "ES256"}),
        ({"alg": "ES256"}, {"alg": "ES256", "typ": "JWT"}),
    ],
)
def test_sign_token_header_overrides(headers: dict, expected: dict) -> None:
    token = algorithms.sign_token(CLAIMS, private("ES256"), "ES256", headers=headers)
    assert tokens.parse(token).header == expected


def test_sign_token_refuses_a_header_alg_that_lies() -> None:
    with pytest.raises(DisallowedAlgorithmError, match="headers say alg 'none'"):
        algorithms.sign_token(CLAIMS, keys.demo_secret(), "HS256", headers={"alg": "none"})


def test_sign_token_refuses_non_dict_claims() -> None:
    with pytest.raises(MalformedTokenError, match="claims must be a dict, got list"):
        algorithms.sign_token(["sub"], keys.demo_secret(), "HS256")  # type: ignore[arg-type]


# Wrong signatures are False ---------------------------------------------------------------------


def _flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


@pytest.mark.parametrize("alg", ALGS)
def test_tampered_data_or_signature_is_false(alg: str) -> None:
    signature = algorithms.sign(alg, private(alg), DATA)
    assert algorithms.verify(alg, public(alg), DATA, signature)
    assert not algorithms.verify(alg, public(alg), _flip(DATA, 5), signature)
    assert not algorithms.verify(alg, public(alg), DATA, _flip(signature, len(signature) - 1))
    assert not algorithms.verify(alg, public(alg), DATA, signature[:-1])
    assert not algorithms.verify(alg, public(alg), DATA, signature + b"\x00")
    assert not algorithms.verify(alg, public(alg), DATA, b"")


def _other_key(alg: str) -> object:
    curves = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
    if alg in curves:
        return ec.generate_private_key(curves[alg]).public_key()
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate().public_key()
    if alg.startswith("HS"):
        return b"another secret, long enough to sign with"
    return keys.demo_public_key("rsa-2")


@pytest.mark.parametrize("alg", ALGS)
def test_a_different_key_of_the_right_type_is_false(alg: str) -> None:
    signature = algorithms.sign(alg, private(alg), DATA)
    assert not algorithms.verify(alg, _other_key(alg), DATA, signature)  # type: ignore[arg-type]


@pytest.mark.parametrize("alg", ("ES256", "ES384", "ES512"))
def test_der_ecdsa_signature_is_false(alg: str) -> None:
    hash_alg = {"ES256": hashes.SHA256(), "ES384": hashes.SHA384(), "ES512": hashes.SHA512()}[alg]
    der = private(alg).sign(DATA, ec.ECDSA(hash_alg))
    assert not algorithms.verify(alg, public(alg), DATA, der)


@pytest.mark.parametrize("alg", ("ES256", "ES384", "ES512"))
def test_cve_2022_21449_psychic_signature_is_false(alg: str) -> None:
    assert not algorithms.verify(alg, public(alg), DATA, bytes(ES_SIZES[alg]))


def test_pss_with_another_salt_length_is_false() -> None:
    key = keys.demo_private_key("rsa")
    salt0 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=0)
    signature = key.sign(DATA, salt0, hashes.SHA256())
    assert not algorithms.verify("PS256", key, DATA, signature)


def test_rs256_signature_fails_as_ps256() -> None:
    signature = algorithms.sign("RS256", private("RS256"), DATA)
    assert not algorithms.verify("PS256", public("PS256"), DATA, signature)


def test_signature_must_be_bytes() -> None:
    with pytest.raises(MalformedTokenError, match="a signature must be bytes, got str"):
        algorithms.verify("HS256", keys.demo_secret(), DATA, "c2ln")  # type: ignore[arg-type]


# Keys that do not fit are mistakes ---------------------------------------------------------------


def _wrong_keys() -> list:
    rsa_private = keys.demo_private_key("rsa")
    p256, p384 = keys.demo_private_key("p256"), keys.demo_private_key("p384")
    return [
        (
            "HS256",
            rsa_private,
            "HS256 needs a shared secret (bytes or str), got an RSA private key",
        ),
        (
            "HS384",
            p256.public_key(),
            "HS384 needs a shared secret (bytes or str), got an EC public",
        ),
        ("HS256", None, "HS256 needs a shared secret (bytes or str), got None"),
        ("HS256", b"", "HS256 needs a non-empty secret"),
        ("HS512", "", "HS512 needs a non-empty secret"),
        ("RS256", keys.demo_secret(), "RS256 needs an RSA private key, got 64 bytes"),
        ("RS256", "-----BEGIN PRIVATE KEY-----", "RS256 needs an RSA private key, got a str of"),
        ("PS256", {"kty": "RSA"}, "PS256 needs an RSA private key, got a dict"),
        ("PS384", p256, "PS384 needs an RSA private key, got an EC private key on P-256"),
        ("ES256", p384, "ES256 needs an EC private key on P-256, got an EC private key on P-384"),
        ("ES512", p256, "ES512 needs an EC private key on P-521, got an EC private key on P-256"),
        ("ES384", rsa_private, "ES384 needs an EC private key on P-384, got an RSA private key"),
        ("EdDSA", rsa_private, "EdDSA needs an Ed25519 or Ed448 private key, got an RSA private"),
        (
            "RS256",
            rsa_private.public_key(),
            "RS256 signing needs an RSA private key, got an RSA pub",
        ),
        ("ES256", p256.public_key(), "ES256 signing needs an EC private key on P-256, got an EC p"),
        (
            "EdDSA",
            keys.demo_public_key("ed25519"),
            "EdDSA signing needs an Ed25519 or Ed448 private key, got an Ed25519 public",
        ),
    ]


@pytest.mark.parametrize(("alg", "key", "message"), _wrong_keys())
def test_sign_with_a_key_that_does_not_fit(alg: str, key: object, message: str) -> None:
    with pytest.raises(UnsafeKeyError) as info:
        algorithms.sign(alg, key, DATA)  # type: ignore[arg-type]
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(
    ("alg", "key", "message"),
    [
        (
            "ES256",
            "p384",
            "ES256 needs an EC public or private key on P-256, got an EC public key on P-384",
        ),
        ("RS256", "hmac", "RS256 needs an RSA public or private key, got 64 bytes"),
        ("HS256", "rsa", "HS256 needs a shared secret (bytes or str), got an RSA public key"),
    ],
)
def test_verify_with_a_key_that_does_not_fit(alg: str, key: str, message: str) -> None:
    with pytest.raises(UnsafeKeyError) as info:
        algorithms.verify(alg, keys.demo_public_key(key), DATA, b"sig")
    assert info.value.message.startswith(message)


def test_wrong_key_error_points_to_the_loader() -> None:
    with pytest.raises(UnsafeKeyError, match=r"load a PEM with labkit\.keys\.load_pem"):
        algorithms.sign("RS256", b"-----BEGIN PRIVATE KEY-----", DATA)


# Algorithms that are refused ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "message"),
    [
        ("none", "alg 'none' means an unsigned token"),
        ("None", "alg 'None' means an unsigned token"),
        ("NONE", "alg 'NONE' means an unsigned token"),
        ("hs256", "unknown alg 'hs256'"),
        ("HS1", "unknown alg 'HS1'"),
        ("ES256K", "unknown alg 'ES256K'"),
        ("", "unknown alg ''"),
        (None, "unknown alg None"),
    ],
)
def test_unknown_or_none_alg_is_disallowed(alg: str, message: str) -> None:
    for call in (
        lambda: algorithms.sign(alg, keys.demo_secret(), DATA),
        lambda: algorithms.verify(alg, keys.demo_secret(), DATA, b""),
        lambda: algorithms.sign_token(CLAIMS, keys.demo_secret(), alg),
        lambda: algorithms.family(alg),
    ):
        with pytest.raises(DisallowedAlgorithmError) as info:
            call()
        assert info.value.message.startswith(message)


def test_algorithms_table() -> None:
    expected = (
        *("HS256", "HS384", "HS512", "RS256", "RS384", "RS512"),
        *("PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"),
    )
    assert expected == ALGS
    assert "none" not in ALGS


# RFC vectors ------------------------------------------------------------------------------------


def test_every_valid_rfc_vector_is_listed(rfc_vectors: dict[str, dict]) -> None:
    valid = {
        v["name"] for v in rfc_vectors.values() if v["kind"] == "jws" and v["expected"] == "valid"
    }
    assert valid == set(VALID_RFC_JWS)


@pytest.mark.parametrize("name", VALID_RFC_JWS)
def test_rfc_vector_verifies(rfc_vectors: dict[str, dict], name: str) -> None:
    vector = rfc_vectors[name]
    jws = tokens.parse_jws(vector["token"])
    key = keys.from_jwk(vector["jwk"])
    assert jws.header["alg"] == vector["alg"]
    assert algorithms.verify(vector["alg"], key, jws.signing_input, jws.signature)
    assert not algorithms.verify(vector["alg"], key, _flip(jws.signing_input, 3), jws.signature)
    if vector.get("signing_jwk") and vector["alg"] in DETERMINISTIC:
        signing_key = keys.from_jwk(vector["signing_jwk"])
        assert algorithms.sign(vector["alg"], signing_key, jws.signing_input) == jws.signature


def test_rfc_tampered_payload_is_false(rfc_vectors: dict[str, dict]) -> None:
    vector = rfc_vectors["RFC7520-4.4-HS256-tampered-payload"]
    jws = tokens.parse_jws(vector["token"])
    assert not algorithms.verify(
        "HS256", keys.from_jwk(vector["jwk"]), jws.signing_input, jws.signature
    )


def test_rfc_key_confusion_token_only_verifies_as_the_attacker_wants(
    rfc_vectors: dict[str, dict],
) -> None:
    vector = rfc_vectors["derived-keyconfusion-HS256-with-RFC7515-A.2-public-PEM"]
    jws = tokens.parse_jws(vector["token"])
    assert jws.header["alg"] == "HS256"
    # A verifier that trusts the header's alg and feeds it the public PEM is fooled ...
    pem = vector["hmac_key_pem"].encode()
    assert algorithms.verify("HS256", pem, jws.signing_input, jws.signature)
    # ... one that pins RS256 and the RSA key is not.
    rsa_key = keys.from_jwk(vector["jwk"])
    assert not algorithms.verify("RS256", rsa_key, jws.signing_input, jws.signature)


@pytest.mark.parametrize(
    "name",
    [
        "RFC7515-A.5-unsecured-none",
        "derived-alg-none-with-RFC7515-A.1-payload",
        "derived-alg-None-casing",
        "derived-alg-NONE-casing",
        "derived-alg-nOnE-casing",
    ],
)
def test_rfc_unsecured_tokens_are_disallowed(rfc_vectors: dict[str, dict], name: str) -> None:
    jws = tokens.parse_jws(rfc_vectors[name]["token"])
    with pytest.raises(DisallowedAlgorithmError, match="unsigned token"):
        algorithms.verify(jws.header["alg"], b"any secret", jws.signing_input, jws.signature)
