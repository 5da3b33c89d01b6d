"""Interop: what labkit.jwe encrypts, jwcrypto and joserfc decrypt, and the other way round.

Every ``alg`` x ``enc`` pair labkit implements, both directions, with both libraries (the
test-only peers jwcrypto 1.6.1 and joserfc 1.8.0). The keys are the kit's demo keys, handed to
each library as JWKs; the plaintext carries the pair's name, so a mix-up cannot pass.
"""

from __future__ import annotations

import json
from typing import Any

import joserfc.jwe
import joserfc.jwk
import pytest
from jwcrypto import jwe as jwcrypto_jwe
from jwcrypto import jwk as jwcrypto_jwk

from labkit import jwe, keys, tokens

RSA = keys.demo_private_key("rsa")
P256 = keys.demo_private_key("p256")
P384 = keys.demo_private_key("p384")
P521 = keys.demo_private_key("p521")
SECRETS = {16: bytes(range(16)), 24: bytes(range(24)), 32: bytes(range(32))}
PASSWORD = b"correct horse battery staple"

KEY_FOR = {
    "RSA-OAEP": RSA,
    "RSA-OAEP-256": RSA,
    "ECDH-ES": P256,
    "ECDH-ES+A128KW": P256,
    "ECDH-ES+A192KW": P384,
    "ECDH-ES+A256KW": P521,
    "A128KW": SECRETS[16],
    "A192KW": SECRETS[24],
    "A256KW": SECRETS[32],
    "PBES2-HS256+A128KW": PASSWORD,
    "PBES2-HS384+A192KW": PASSWORD,
    "PBES2-HS512+A256KW": PASSWORD,
}
PAIRS = [
    pytest.param(alg, enc, id=f"{alg}-{enc}") for alg in jwe.ALGORITHMS for enc in jwe.ENCRYPTIONS
]


def _key(alg: str, enc: str) -> Any:
    """The recipient's private key (or shared secret) for this pair."""
    if alg == "dir":
        return bytes(range(jwe.ENCRYPTIONS[enc].key_size))
    return KEY_FOR[alg]


def _public(key: Any) -> Any:
    return key if isinstance(key, bytes) else key.public_key()


def _jwk(key: Any, *, private: bool) -> dict[str, Any]:
    if isinstance(key, bytes):
        return {"kty": "oct", "k": tokens.b64url_encode(key)}
    return keys.to_jwk(key if private else key.public_key(), use="enc", private=private)


def _plaintext(alg: str, enc: str) -> bytes:
    return json.dumps({"sub": "alice", "pair": f"{alg}/{enc}"}).encode()


def test_every_pair_is_covered() -> None:
    assert len(PAIRS) == len(jwe.ALGORITHMS) * len(jwe.ENCRYPTIONS) == 13 * 6
    assert set(KEY_FOR) | {"dir"} == set(jwe.ALGORITHMS)


# jwcrypto ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("alg", "enc"), PAIRS)
def test_labkit_encrypts_jwcrypto_decrypts(alg: str, enc: str) -> None:
    key = _key(alg, enc)
    token = jwe.encrypt(_plaintext(alg, enc), _public(key), alg=alg, enc=enc, apu=b"labkit")
    received = jwcrypto_jwe.JWE()
    received.deserialize(token, key=jwcrypto_jwk.JWK(**_jwk(key, private=True)))
    assert received.payload == _plaintext(alg, enc)


@pytest.mark.parametrize(("alg", "enc"), PAIRS)
def test_jwcrypto_encrypts_labkit_decrypts(alg: str, enc: str) -> None:
    key = _key(alg, enc)
    sent = jwcrypto_jwe.JWE(_plaintext(alg, enc), protected=json.dumps({"alg": alg, "enc": enc}))
    sent.add_recipient(jwcrypto_jwk.JWK(**_jwk(key, private=False)))
    token = sent.serialize(compact=True)
    got = jwe.decrypt(token, key, algorithms=[alg], encryptions=[enc])
    assert got == _plaintext(alg, enc)


def test_jwcrypto_zip_def_decrypts_when_allowed() -> None:
    sent = jwcrypto_jwe.JWE(
        b"a" * 2000,
        protected=json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"}),
    )
    sent.add_recipient(jwcrypto_jwk.JWK(**_jwk(RSA, private=False)))
    token = sent.serialize(compact=True)
    options = {"algorithms": ["RSA-OAEP-256"], "encryptions": ["A256GCM"]}
    assert jwe.decrypt(token, RSA, **options, allow_zip=True) == b"a" * 2000


# joserfc ----------------------------------------------------------------------------------------


def _joserfc_key(key: Any, *, private: bool) -> Any:
    return joserfc.jwk.import_key(_jwk(key, private=private))


@pytest.mark.parametrize(("alg", "enc"), PAIRS)
def test_labkit_encrypts_joserfc_decrypts(alg: str, enc: str) -> None:
    key = _key(alg, enc)
    token = jwe.encrypt(_plaintext(alg, enc), _public(key), alg=alg, enc=enc, apv=b"peer")
    received = joserfc.jwe.decrypt_compact(
        token, _joserfc_key(key, private=True), algorithms=[alg, enc]
    )
    assert received.plaintext == _plaintext(alg, enc)


@pytest.mark.parametrize(("alg", "enc"), PAIRS)
def test_joserfc_encrypts_labkit_decrypts(alg: str, enc: str) -> None:
    key = _key(alg, enc)
    protected = {"alg": alg, "enc": enc}
    token = joserfc.jwe.encrypt_compact(
        protected, _plaintext(alg, enc), _joserfc_key(key, private=False), algorithms=[alg, enc]
    )
    got = jwe.decrypt(token, key, algorithms=[alg], encryptions=[enc])
    assert got == _plaintext(alg, enc)
