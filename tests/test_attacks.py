"""Every attack of issue 4 part A, proven twice: its vulnerable verifier accepts the forgery,
``labkit.verify`` refuses it with the expected error. Then the forgers' own edges.

The RSA key recovery runs for real on the 1024-bit DEMO ONLY lab key (about 15-20 s: two
67-million-bit powers and their gcd); ``bench/recover_rsa.py`` measures the 2048-bit case.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

import labkit
from labkit import examples, keys, tokens, vulnerable
from labkit.attacks import confusion, none
from labkit.attacks.crack import crack
from labkit.attacks.forgery import Forgery
from labkit.errors import (
    BadSignatureError,
    DisallowedAlgorithmError,
    InvalidTokenError,
    KeyFormatError,
    MalformedTokenError,
    UnsafeKeyError,
)

NOW = examples.LAB_CLAIMS["iat"] + 1800
API: dict[str, Any] = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": NOW}
HS256: dict[str, Any] = {"algorithms": ["HS256"], **API}
RS256: dict[str, Any] = {"algorithms": ["RS256"], **API}
SECRET = keys.demo_secret()
ADMIN = {**examples.LAB_CLAIMS, "role": "admin"}
ALICE = examples.lab_token()
RSA_PUBLIC: Any = keys.demo_public_key("rsa")
SPKI, PKCS1 = serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1
PEM = serialization.Encoding.PEM


def proven_twice(
    token: str,
    vulnerable_verifier: Any,
    key: Any,
    expected: type[InvalidTokenError],
    *,
    options: dict[str, Any] = HS256,
) -> None:
    """The forgery passes its vulnerable verifier and fails labkit.verify with ``expected``."""
    assert vulnerable_verifier(token, key, **options) == ADMIN
    with pytest.raises(expected) as info:
        labkit.verify(token, key, **options)
    assert type(info.value) is expected


# Unsigned tokens (notebook 04) -------------------------------------------------------------------


def test_unverified_signature_edited_claims() -> None:
    forgery = none.forge_tampered(ALICE, ADMIN)
    assert forgery.token.split(".")[::2] == ALICE.split(".")[::2]  # header and signature kept
    proven_twice(forgery.token, vulnerable.decode_without_verification, SECRET, BadSignatureError)


@pytest.mark.parametrize("casing", none.NONE_CASINGS)
def test_alg_none_in_every_casing(casing: str) -> None:
    forgeries = none.forge_none(ADMIN, header=labkit.parse(ALICE).header)
    forgery = next(f for f in forgeries if labkit.parse(f.token).header["alg"] == casing)
    assert forgery.token.endswith(".") and casing in forgery.explanation
    proven_twice(forgery.token, vulnerable.accept_alg_none, SECRET, DisallowedAlgorithmError)


def test_none_casings_are_the_four_the_issue_names() -> None:
    assert none.NONE_CASINGS == ("none", "None", "NONE", "nOnE")


def test_empty_signature_cve_2020_28042() -> None:
    forgery = none.forge_empty_signature(ADMIN)
    assert labkit.parse(forgery.token).header["alg"] == "HS256"
    proven_twice(forgery.token, vulnerable.accept_alg_none, SECRET, BadSignatureError)


def test_empty_secret_cve_2019_20933() -> None:
    forgery = none.forge_empty_secret(ADMIN)
    assert labkit.parse(forgery.token).signature  # a real HMAC, under the empty key
    proven_twice(forgery.token, vulnerable.accept_empty_secret, "", UnsafeKeyError)
    with pytest.raises(BadSignatureError):  # and with the real secret configured
        labkit.verify(forgery.token, SECRET, **HS256)


def test_weak_secret_cracked_then_forged() -> None:
    victim = labkit.sign_token(examples.LAB_CLAIMS, "secretkey", "HS256")
    found = crack(victim, processes=1)
    assert found.secret == b"secretkey"
    forged = labkit.sign_token(ADMIN, found.secret, "HS256")
    proven_twice(forged, vulnerable.accept_weak_secret, found.secret, UnsafeKeyError)


# Algorithm confusion with a known public key (notebook 06) ---------------------------------------


@pytest.mark.parametrize("fmt", [SPKI, PKCS1], ids=["spki", "pkcs1"])
def test_confusion_with_the_public_key_as_pem(fmt: serialization.PublicFormat) -> None:
    service_pem = RSA_PUBLIC.public_bytes(PEM, fmt)
    forgeries = confusion.forge_confusion(service_pem, ADMIN)
    assert "as published" in forgeries[0].explanation
    proven_twice(
        forgeries[0].token,
        vulnerable.alg_from_header,
        service_pem,
        DisallowedAlgorithmError,
        options=RS256,
    )


@pytest.mark.parametrize("fmt", [SPKI, PKCS1], ids=["spki", "pkcs1"])
def test_confusion_with_the_public_key_from_a_jwks(fmt: serialization.PublicFormat) -> None:
    service_pem = RSA_PUBLIC.public_bytes(PEM, fmt)
    jwks = keys.to_jwks([RSA_PUBLIC])
    forgeries = confusion.forge_confusion(jwks, ADMIN)
    assert len(forgeries) == 2  # one per PEM encoding
    accepted = []
    for forgery in forgeries:
        try:
            vulnerable.alg_from_header(forgery.token, service_pem, **RS256)
            accepted.append(forgery)
        except BadSignatureError:
            pass
    assert len(accepted) == 1
    assert ("PKCS#1" if fmt is PKCS1 else "SubjectPublicKeyInfo") in accepted[0].explanation
    proven_twice(
        accepted[0].token,
        vulnerable.alg_from_header,
        service_pem,
        DisallowedAlgorithmError,
        options=RS256,
    )


def test_confusion_with_one_jwk_and_a_key_object() -> None:
    jwk = keys.to_jwk(RSA_PUBLIC)
    from_jwk = confusion.forge_confusion(jwk, ADMIN)
    from_object = confusion.forge_confusion(keys.demo_private_key("rsa"), ADMIN)
    assert [f.token for f in from_jwk] == [f.token for f in from_object]
    assert "of the JWK" in from_jwk[0].explanation
    proven_twice(
        from_object[0].token,
        vulnerable.alg_from_header,
        RSA_PUBLIC,
        DisallowedAlgorithmError,
        options=RS256,
    )


def test_confusion_is_refused_even_when_the_service_allows_both_families() -> None:
    service_pem = RSA_PUBLIC.public_bytes(PEM, SPKI)
    forged = confusion.forge_confusion(service_pem, ADMIN)[0].token
    with pytest.raises(UnsafeKeyError, match="HS256 needs a shared secret"):
        labkit.verify(forged, service_pem, algorithms=["RS256", "HS256"], **API)


def test_cve_2024_33663_pattern_an_ec_public_key_as_hmac_secret() -> None:
    ec_pem = keys.demo_public_key("p256").public_bytes(PEM, SPKI)  # type: ignore[union-attr]
    forgeries = confusion.forge_confusion(ec_pem, ADMIN)
    assert len(forgeries) == 1  # EC keys have no PKCS#1 form
    options = {"algorithms": ["ES256"], **API}
    assert vulnerable.alg_from_header(forgeries[0].token, ec_pem, **options) == ADMIN
    with pytest.raises(DisallowedAlgorithmError):
        labkit.verify(forgeries[0].token, ec_pem, **options)


def test_cve_2022_29217_pyjwt_refuses_public_keys_as_hmac_secrets() -> None:
    """PyJWT >= 2.4.0 refuses any PEM or SSH public key as an HMAC secret, whatever the list."""
    ssh = RSA_PUBLIC.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    ed_ssh = keys.demo_public_key("ed25519").public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    for service_key in (RSA_PUBLIC.public_bytes(PEM, SPKI), RSA_PUBLIC.public_bytes(PEM, PKCS1)):
        forged = confusion.forge_confusion(service_key, ADMIN)[0].token
        with pytest.raises(jwt.InvalidKeyError, match="should not be used as an HMAC secret"):
            jwt.decode(forged, service_key, algorithms=["HS256", "RS256"], audience="labkit-api")
    for service_key in (ssh, ed_ssh):
        with pytest.raises(jwt.InvalidKeyError, match="should not be used as an HMAC secret"):
            jwt.get_algorithm_by_name("HS256").prepare_key(service_key)


# Algorithm confusion with no exposed key: recover it from two tokens ----------------------------


@pytest.fixture(scope="module")
def lab_tokens() -> tuple[str, str]:
    lab_key = keys.demo_private_key("rsa-1024")
    first = labkit.sign_token(examples.LAB_CLAIMS, lab_key, "RS256")
    second = labkit.sign_token({**examples.LAB_CLAIMS, "sub": "bob"}, lab_key, "RS256")
    return first, second


def test_recover_rsa_key_from_two_tokens_then_forge(lab_tokens: tuple[str, str]) -> None:
    lab_public: Any = keys.demo_public_key("rsa-1024")
    recovered = confusion.recover_rsa_key(*lab_tokens)
    assert recovered.n == lab_public.public_numbers().n and recovered.e == 65537
    assert recovered.public_key.key_size == 1024
    assert recovered.powers_seconds > 0 and recovered.gcd_seconds > 0  # measured, not asserted
    assert recovered.pem("spki") == lab_public.public_bytes(PEM, SPKI)
    assert recovered.pem("pkcs1") == lab_public.public_bytes(PEM, PKCS1)

    service_pem = lab_public.public_bytes(PEM, SPKI)  # the lab service's copy of its key
    forgeries = confusion.forge_confusion(recovered.public_key, ADMIN)
    proven_twice(
        forgeries[0].token,
        vulnerable.alg_from_header,
        service_pem,
        DisallowedAlgorithmError,
        options=RS256,
    )
    with pytest.raises(UnsafeKeyError, match="1024 bits"):  # it never trusted this key at all
        labkit.verify(lab_tokens[0], service_pem, **RS256)


def test_recovery_refuses_what_it_cannot_use(lab_tokens: tuple[str, str]) -> None:
    first, _ = lab_tokens
    with pytest.raises(confusion.RecoveryError, match="the same"):
        confusion.recover_rsa_key(first, first)
    rsa_2048 = labkit.sign_token(ADMIN, keys.demo_private_key("rsa"), "RS256")
    with pytest.raises(confusion.RecoveryError, match="128 and 256 bytes"):
        confusion.recover_rsa_key(first, rsa_2048)
    ps256 = labkit.sign_token(ADMIN, keys.demo_private_key("rsa-1024"), "PS256")
    with pytest.raises(DisallowedAlgorithmError, match="PS\\* and ES\\* signatures"):
        confusion.recover_rsa_key(first, ps256)
    with pytest.raises(DisallowedAlgorithmError):
        confusion.recover_rsa_key(first, ALICE)  # HS256
    with pytest.raises(confusion.RecoveryError, match="odd integer"):
        confusion.recover_rsa_key(*lab_tokens, e=65536)
    with pytest.raises(MalformedTokenError):
        confusion.recover_rsa_key(first, "not a token")


def test_recovery_with_the_wrong_exponent_finds_no_modulus(lab_tokens: tuple[str, str]) -> None:
    with pytest.raises(confusion.RecoveryError, match="no RSA modulus found"):
        confusion.recover_rsa_key(*lab_tokens, e=3)  # small numbers: fast


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_pkcs1_v15_encoding_is_what_the_signature_raises_to_e(alg: str) -> None:
    private: Any = keys.demo_private_key("rsa")
    numbers = private.public_key().public_numbers()
    token = labkit.sign_token(ADMIN, private, alg)
    jws = tokens.parse_jws(token)
    m = confusion.pkcs1_v15_encode(alg, jws.signing_input, len(jws.signature))
    assert pow(int.from_bytes(jws.signature, "big"), numbers.e, numbers.n) == m
    # and cryptography agrees that this is the PKCS#1 v1.5 padding
    private.public_key().verify(jws.signature, jws.signing_input, padding.PKCS1v15(), _hash(alg))


def _hash(alg: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]


# The forgers' own edges --------------------------------------------------------------------------


def test_forgeries_print_as_explanation_and_token() -> None:
    forgery = none.forge_empty_signature(ADMIN)
    assert isinstance(forgery, Forgery)
    assert str(forgery) == f"{forgery.explanation}: {forgery.token}"


def test_forged_headers_keep_the_imitated_members_with_alg_first() -> None:
    header = {"typ": "JWT", "kid": "2026-01", "alg": "HS256"}
    for forgery in [
        *none.forge_none(ADMIN, header=header),
        none.forge_empty_secret(ADMIN, header=header),
    ]:
        parsed = labkit.parse(forgery.token).header
        assert list(parsed) == ["alg", "typ", "kid"] and parsed["kid"] == "2026-01"


def test_forgers_refuse_bad_input_in_one_line() -> None:
    with pytest.raises(MalformedTokenError, match="claims must be a dict"):
        none.forge_none(["role", "admin"])  # type: ignore[arg-type]
    with pytest.raises(MalformedTokenError, match="a header must be a dict"):
        none.forge_empty_secret(ADMIN, header="HS256")  # type: ignore[arg-type]
    with pytest.raises(DisallowedAlgorithmError):
        none.forge_empty_signature(ADMIN, alg="nOnE")
    with pytest.raises(DisallowedAlgorithmError):
        none.forge_empty_secret(ADMIN, alg="RS256")
    with pytest.raises(MalformedTokenError):
        none.forge_tampered("not-a-token", ADMIN)
    with pytest.raises(DisallowedAlgorithmError):
        confusion.forge_confusion(RSA_PUBLIC, ADMIN, alg="RS256")
    with pytest.raises(KeyFormatError, match="not a PEM key"):
        confusion.forge_confusion("no key here", ADMIN)
    with pytest.raises(KeyFormatError, match="an HMAC secret is not a public key"):
        confusion.forge_confusion(keys.to_jwk(SECRET, private=True), ADMIN)
    with pytest.raises(KeyFormatError, match="cannot read a public key"):
        confusion.forge_confusion(42, ADMIN)
    with pytest.raises(KeyFormatError, match="'spki' or 'pkcs1'"):
        confusion.RecoveredKey(RSA_PUBLIC, 1, 0.0, 0.0).pem("der")


def test_hmac_secrets_try_the_published_bytes_first_and_never_twice() -> None:
    spki = RSA_PUBLIC.public_bytes(PEM, SPKI)
    assert [label for label, _ in confusion.hmac_secrets(spki)] == [
        "PEM as published, byte for byte,",
        "PKCS#1 PEM (BEGIN RSA PUBLIC KEY)",
    ]
    no_newline = spki.rstrip(b"\n")
    secrets = confusion.hmac_secrets(no_newline.decode())
    assert [secret for _, secret in secrets] == [
        no_newline,
        spki,
        RSA_PUBLIC.public_bytes(PEM, PKCS1),
    ]
