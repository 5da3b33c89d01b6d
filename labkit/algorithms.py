"""The JWS signature algorithms (RFC 7518, RFC 8037), written out with ``cryptography``.

Each algorithm is one row of a table (family, hash, curve) and each family one
small pair of functions, so the whole of JWS signing fits on a screen. This
module signs with whatever key it is given, weak HMAC secrets included (the
attack labs need that); refusing weak keys is the hardened verifier's job.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from labkit import tokens
from labkit.errors import DisallowedAlgorithmError, MalformedTokenError, UnsafeKeyError

__all__ = [
    "ALGORITHMS",
    "PrivateKey",
    "PublicKey",
    "SigningKey",
    "VerifyingKey",
    "check_key",
    "describe_key",
    "family",
    "sign",
    "sign_token",
    "verify",
]

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)
PublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
VerifyingKey = PrivateKey | PublicKey | bytes
SigningKey = VerifyingKey | str
"""What ``sign``/``verify`` take: a ``cryptography`` key object, or a secret for HS*."""


class _Spec(NamedTuple):
    family: str  # "HS", "RS", "PS", "ES" or "EdDSA"
    hash: type[hashes.HashAlgorithm] | None
    curve: str | None = None  # ES only: the one curve the alg is bound to (RFC 7518 3.4)


_SPECS: dict[str, _Spec] = {
    "HS256": _Spec("HS", hashes.SHA256),
    "HS384": _Spec("HS", hashes.SHA384),
    "HS512": _Spec("HS", hashes.SHA512),
    "RS256": _Spec("RS", hashes.SHA256),
    "RS384": _Spec("RS", hashes.SHA384),
    "RS512": _Spec("RS", hashes.SHA512),
    "PS256": _Spec("PS", hashes.SHA256),
    "PS384": _Spec("PS", hashes.SHA384),
    "PS512": _Spec("PS", hashes.SHA512),
    "ES256": _Spec("ES", hashes.SHA256, "secp256r1"),
    "ES384": _Spec("ES", hashes.SHA384, "secp384r1"),
    "ES512": _Spec("ES", hashes.SHA512, "secp521r1"),
    "EdDSA": _Spec("EdDSA", None),
}

ALGORITHMS: tuple[str, ...] = tuple(_SPECS)
"""Every JWS algorithm this kit can sign and verify (``none`` is deliberately absent)."""

_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_EC_SIZES = {"secp256r1": 32, "secp384r1": 48, "secp521r1": 66}
_TIME_CLAIMS = ("exp", "iat", "nbf")
_LOADER_TIPS = {
    **dict.fromkeys((str, bytes, bytearray), "load a PEM with labkit.keys.load_pem"),
    dict: "convert a JWK with labkit.keys.from_jwk",
}


def sign(alg: str, key: SigningKey, data: bytes) -> bytes:
    """Sign ``data`` (the JWS signing input) with ``key`` under ``alg``: the raw signature."""
    spec = _spec(alg)
    key = check_key(alg, key, signing=True)
    return _SIGNERS[spec.family](spec, key, _data(data))


def verify(alg: str, key: SigningKey, data: bytes, signature: bytes) -> bool:
    """True if ``signature`` is ``alg``'s signature of ``data`` under ``key`` (public or private).

    A wrong signature is an answer (False), not an error; a key that does not
    fit the algorithm is a mistake and raises ``UnsafeKeyError``.
    """
    spec = _spec(alg)
    key = check_key(alg, key)
    if not isinstance(signature, (bytes, bytearray, memoryview)):
        raise MalformedTokenError(f"a signature must be bytes, got {type(signature).__name__}")
    if isinstance(key, PrivateKey):
        key = key.public_key()
    try:
        return _VERIFIERS[spec.family](spec, key, _data(data), bytes(signature))
    except InvalidSignature:
        return False


def sign_token(
    claims: dict[str, Any], key: SigningKey, alg: str, *, headers: dict[str, Any] | None = None
) -> str:
    """Sign ``claims`` into a compact JWT, byte-identical to PyJWT's ``jwt.encode``.

    The header is ``{"alg": alg, "typ": "JWT", **headers}``; ``headers`` may
    override ``typ`` (``None`` drops it). ``exp``/``iat``/``nbf`` datetimes become
    epoch seconds, as in PyJWT. Note that PyJWT sorts header members, so with
    extra headers its bytes differ from these (both are valid tokens).
    """
    header_alg = (headers or {}).get("alg", alg)
    if header_alg != alg:
        raise DisallowedAlgorithmError(
            f"headers say alg {header_alg!r} but the token is signed with {alg!r}",
            "to forge a mismatched header, build it with labkit.tokens.encode",
        )
    header = {"alg": alg, "typ": "JWT", **(headers or {})}
    if header["typ"] is None:
        del header["typ"]
    payload = _epoch_times(claims)
    signature = sign(alg, key, tokens.signing_input(header, payload))
    return tokens.encode(header, payload, signature)


def check_key(alg: str, key: SigningKey, *, signing: bool = False) -> VerifyingKey:
    """Return ``key`` ready for ``alg`` (str secrets UTF-8 encoded), or raise ``UnsafeKeyError``.

    Mixing key types across algorithms is the root of the key-confusion attack,
    so a key that does not fit is refused with a message naming what was expected.
    """
    spec = _spec(alg)
    if spec.family == "HS":
        return _check_secret(alg, key)
    if not _fits(spec, key):
        message = f"{alg} needs {_expected(spec, signing)}, got {describe_key(key)}"
        raise UnsafeKeyError(message, _LOADER_TIPS.get(type(key)))
    if signing and not isinstance(key, PrivateKey):
        raise UnsafeKeyError(
            f"{alg} signing needs {_expected(spec, True)}, got {describe_key(key)}",
            "a public key can only verify",
        )
    return key


def family(alg: str) -> str:
    """The family of ``alg``: "HS", "RS", "PS", "ES" or "EdDSA"; unknown or none raises."""
    return _spec(alg).family


def describe_key(key: object) -> str:
    """A short phrase for a key, for error messages: 'an EC private key on P-384', 'bytes'."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return f"an RSA {_half(key)} key ({key.key_size} bits)"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return f"an EC {_half(key)} key on {_CURVE_NAMES.get(key.curve.name, key.curve.name)}"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return f"an Ed25519 {_half(key)} key"
    if isinstance(key, (ed448.Ed448PrivateKey, ed448.Ed448PublicKey)):
        return f"an Ed448 {_half(key)} key"
    if isinstance(key, (bytes, bytearray, memoryview)):
        return f"{len(key)} bytes"
    if isinstance(key, str):
        return f"a str of {len(key)} characters"
    if isinstance(key, dict):
        return "a dict (a JWK?)"
    return "None" if key is None else f"an object of type {type(key).__name__}"


def _spec(alg: str) -> _Spec:
    spec = _SPECS.get(alg) if isinstance(alg, str) else None
    if spec is not None:
        return spec
    if isinstance(alg, str) and alg.lower() == "none":
        raise DisallowedAlgorithmError(
            f"alg {alg!r} means an unsigned token",
            "it proves nothing about who made it, so it is never signed or verified here",
        )
    raise DisallowedAlgorithmError(f"unknown alg {alg!r}; expected one of {', '.join(ALGORITHMS)}")


def _check_secret(alg: str, key: object) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise UnsafeKeyError(
            f"{alg} needs a shared secret (bytes or str), got {describe_key(key)}",
            "an HMAC key is a secret both sides hold, never a public or private key",
        )
    if not key:
        raise UnsafeKeyError(f"{alg} needs a non-empty secret, got an empty one")
    return bytes(key)


def _fits(spec: _Spec, key: object) -> bool:
    if spec.family in ("RS", "PS"):
        return isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey))
    if spec.family == "ES":
        ec_types = (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)
        return isinstance(key, ec_types) and key.curve.name == spec.curve
    return isinstance(key, _ED_TYPES)


def _expected(spec: _Spec, signing: bool) -> str:
    half = "private key" if signing else "public or private key"
    if spec.family in ("RS", "PS"):
        return f"an RSA {half}"
    if spec.family == "ES":
        return f"an EC {half} on {_CURVE_NAMES[spec.curve or '']}"
    return f"an Ed25519 or Ed448 {half}"


def _hash(spec: _Spec) -> hashes.HashAlgorithm:
    assert spec.hash is not None, "EdDSA has no separate hash"
    return spec.hash()


def _half(key: object) -> str:
    return "private" if isinstance(key, PrivateKey) else "public"


def _data(data: bytes | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedTokenError(f"the data to sign must be bytes, got {type(data).__name__}")
    return bytes(data)


def _epoch_times(claims: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(claims, dict):
        raise MalformedTokenError(f"claims must be a dict, got {type(claims).__name__}")
    return {
        name: (
            calendar.timegm(value.utctimetuple())
            if name in _TIME_CLAIMS and isinstance(value, datetime)
            else value
        )
        for name, value in claims.items()
    }


# One small sign/verify pair per family. ``key`` has passed check_key.


def _hs_sign(spec: _Spec, key: Any, data: bytes) -> bytes:
    mac = crypto_hmac.HMAC(key, _hash(spec))
    mac.update(data)
    return mac.finalize()


def _hs_verify(spec: _Spec, key: Any, data: bytes, signature: bytes) -> bool:
    mac = crypto_hmac.HMAC(key, _hash(spec))
    mac.update(data)
    mac.verify(signature)  # constant-time comparison; raises InvalidSignature
    return True


def _pss(spec: _Spec) -> padding.PSS:
    # RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash output.
    return padding.PSS(mgf=padding.MGF1(_hash(spec)), salt_length=_hash(spec).digest_size)


def _rs_sign(spec: _Spec, key: Any, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), _hash(spec))


def _rs_verify(spec: _Spec, key: Any, data: bytes, signature: bytes) -> bool:
    key.verify(signature, data, padding.PKCS1v15(), _hash(spec))
    return True


def _ps_sign(spec: _Spec, key: Any, data: bytes) -> bytes:
    return key.sign(data, _pss(spec), _hash(spec))


def _ps_verify(spec: _Spec, key: Any, data: bytes, signature: bytes) -> bool:
    key.verify(signature, data, _pss(spec), _hash(spec))
    return True


def _es_sign(spec: _Spec, key: Any, data: bytes) -> bytes:
    # cryptography returns DER; JWS wants r || s, each as long as the curve's order (RFC 7518 3.4).
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(_hash(spec))))
    size = _EC_SIZES[spec.curve or ""]
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _es_verify(spec: _Spec, key: Any, data: bytes, signature: bytes) -> bool:
    size = _EC_SIZES[spec.curve or ""]
    if len(signature) != 2 * size:  # a DER signature or a truncated one is simply wrong
        return False
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_hash(spec)))
    return True


def _ed_sign(spec: _Spec, key: Any, data: bytes) -> bytes:
    return key.sign(data)


def _ed_verify(spec: _Spec, key: Any, data: bytes, signature: bytes) -> bool:
    key.verify(signature, data)
    return True


_ED_TYPES = (
    ed25519.Ed25519PrivateKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PrivateKey,
    ed448.Ed448PublicKey,
)
_SIGNERS: dict[str, Callable[[_Spec, Any, bytes], bytes]] = {
    "HS": _hs_sign,
    "RS": _rs_sign,
    "PS": _ps_sign,
    "ES": _es_sign,
    "EdDSA": _ed_sign,
}
_VERIFIERS: dict[str, Callable[[_Spec, Any, bytes, bytes], bool]] = {
    "HS": _hs_verify,
    "RS": _rs_verify,
    "PS": _ps_verify,
    "ES": _es_verify,
    "EdDSA": _ed_verify,
}
