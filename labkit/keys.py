"""Demo key material, PEM loading, JWK/JWKS conversion and RFC 7638 thumbprints.

The demo keys are DEMO ONLY: they ship with the kit, so anyone can sign with
them. They exist to make every notebook give the same output everywhere. The
rest of the module moves keys between the forms JWTs meet them in (PEM text,
JWK JSON, ``cryptography`` objects); reading keys is where confusion attacks
begin, so every bad input gets one plain ``KeyFormatError`` line, never a
library traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from labkit import algorithms, tokens
from labkit.algorithms import PrivateKey, PublicKey, VerifyingKey
from labkit.errors import (
    ConfigurationError,
    DisallowedAlgorithmError,
    KeyFormatError,
    MalformedTokenError,
    UnsafeKeyError,
    shown,
)

__all__ = [
    "DEMO_KEYS",
    "Jwk",
    "demo_key_for",
    "demo_private_key",
    "demo_public_key",
    "demo_secret",
    "from_jwk",
    "from_jwks",
    "load_pem",
    "thumbprint",
    "to_jwk",
    "to_jwks",
]

Jwk = dict[str, Any]

DEMO_KEYS: tuple[str, ...] = (
    "hmac",
    "rsa",
    "rsa-2",
    "p256",
    "p384",
    "p521",
    "ed25519",
    "rsa-1024",
)
"""Names of the DEMO ONLY keys shipped in ``labkit/data/keys`` (never use them for real).

``rsa-1024`` is a lab key for the RSA key-recovery attack only: too short for real use, and
refused by ``labkit.verify``."""

_DEMO_FOR_ALG = {
    **dict.fromkeys(("HS256", "HS384", "HS512"), "hmac"),
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "rsa"),
    "ES256": "p256",
    "ES384": "p384",
    "ES512": "p521",
    "EdDSA": "ed25519",
}
# JWK curve name -> (cryptography curve, coordinate size in bytes); RFC 7518 6.2.1.
_EC_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}
FIELD_PRIMES: dict[str, int] = {
    "P-256": 2**256 - 2**224 + 2**192 + 2**96 - 1,
    "P-384": 2**384 - 2**128 - 2**96 + 2**32 - 1,
    "P-521": 2**521 - 1,
}
"""The primes of the curves' fields (FIPS 186-5 / SEC 2): a coordinate is a number below p.
P-521's 66 bytes hold x + p too, which OpenSSL reduces and accepts as another spelling of x."""
_OKP_CURVES: dict[str, tuple[Any, Any, int]] = {
    "Ed25519": (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey, 32),
    "Ed448": (ed448.Ed448PublicKey, ed448.Ed448PrivateKey, 57),
}
# RFC 7638 3.2: the members a thumbprint hashes, per key type.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_RSA_CRT = ("p", "q", "dp", "dq", "qi")
_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_PRIVATE_LABELS = (b"PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY")
_PUBLIC_LABELS = (b"PUBLIC KEY", b"RSA PUBLIC KEY")
_RAW = serialization.Encoding.Raw


# Demo keys --------------------------------------------------------------------------------------


def demo_secret() -> bytes:
    """The DEMO ONLY HMAC secret: 64 ASCII characters, long enough that PyJWT never warns."""
    return _demo_secret()


def demo_private_key(name: str) -> PrivateKey | bytes:
    """A DEMO ONLY private key by name (see ``DEMO_KEYS``), loaded once and cached.

    ``"hmac"`` gives the shared secret as bytes: a symmetric key has no private half.
    """
    return _demo_private(_check_demo_name(name))


def demo_public_key(name: str) -> PublicKey | bytes:
    """The public half of a DEMO ONLY key, cached.

    ``"hmac"`` gives the same secret as ``demo_private_key``: whoever can verify
    an HS256 token can also forge one, which is the point the HMAC labs make.
    """
    return _demo_public(_check_demo_name(name))


def demo_key_for(alg: str, *, private: bool = True) -> PrivateKey | PublicKey | bytes:
    """The DEMO ONLY key that fits a JWS ``alg`` (HS* -> the secret, RS*/PS* -> ``rsa``, ...)."""
    if not isinstance(alg, str):
        raise DisallowedAlgorithmError(f"an algorithm is a name such as 'RS256', got {shown(alg)}")
    algorithms.family(alg)  # unknown alg or "none" -> DisallowedAlgorithmError
    name = _DEMO_FOR_ALG[alg]
    return demo_private_key(name) if private else demo_public_key(name)


@cache
def _demo_secret() -> bytes:
    text = _demo_file("demo-hmac-secret.txt").decode("ascii")
    return text.strip().encode("ascii")


@cache
def _demo_private(name: str) -> PrivateKey | bytes:
    if name == "hmac":
        return _demo_secret()
    key = load_pem(_demo_file(f"demo-{name}.pem"))
    assert isinstance(key, PrivateKey), f"demo-{name}.pem must hold a private key"
    return key


@cache
def _demo_public(name: str) -> PublicKey | bytes:
    key = _demo_private(name)
    return key if isinstance(key, bytes) else key.public_key()


def _demo_file(filename: str) -> bytes:
    return resources.files("labkit").joinpath("data", "keys", filename).read_bytes()


def _check_demo_name(name: object) -> str:
    if not isinstance(name, str) or name not in DEMO_KEYS:
        raise KeyFormatError(
            f"no demo key named {shown(name)}; the demo keys are {', '.join(DEMO_KEYS)}"
        )
    return name


# PEM --------------------------------------------------------------------------------------------


def load_pem(data: str | bytes) -> PrivateKey | PublicKey:
    """Read a PEM private key, public key or X.509 certificate (its public key).

    Only key types JWS can sign with are accepted: RSA, EC P-256/P-384/P-521,
    Ed25519 and Ed448. Encrypted keys are refused: decrypt them first.
    """
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise KeyFormatError("not a PEM key: the text holds a lone UTF-16 surrogate") from None
    if not isinstance(data, (bytes, bytearray)):
        raise KeyFormatError(f"a PEM key must be text or bytes, got {type(data).__name__}")
    data = bytes(data)
    match = _PEM_LABEL.search(data)
    if match is None:
        raise KeyFormatError("not a PEM key: no '-----BEGIN ...-----' line found")
    label = match.group(1)
    if label == b"ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in data:
        raise KeyFormatError(
            "encrypted PEM keys are not supported",
            "decrypt it first, e.g. openssl pkey -in KEY.pem -out PLAIN.pem",
        )
    key = _load_pem_block(label, data)
    if not isinstance(key, (PrivateKey, PublicKey)) or (
        isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey))
        and _jwk_curve(key) is None
    ):
        raise KeyFormatError(
            f"unsupported key type: {algorithms.describe_key(key)}",
            "JWS signs with RSA, EC P-256/P-384/P-521, Ed25519 and Ed448 keys",
        )
    return key


def _load_pem_block(label: bytes, data: bytes) -> Any:
    name = label.decode("ascii")
    try:
        if label in _PRIVATE_LABELS:
            return serialization.load_pem_private_key(data, password=None)
        if label in _PUBLIC_LABELS:
            return serialization.load_pem_public_key(data)
        if label == b"CERTIFICATE":
            return x509.load_pem_x509_certificate(data).public_key()
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise KeyFormatError("encrypted PEM keys are not supported") from None
    except ValueError as exc:
        raise KeyFormatError(
            f"not a PEM key: the '{name}' block does not decode to a valid key",
            _first_line(exc),
        ) from None
    except UnsupportedAlgorithm as exc:
        raise KeyFormatError(f"not a usable PEM key: {_first_line(exc)}") from None
    raise KeyFormatError(
        f"not a PEM key: found a '{name}' block",
        "expected PRIVATE KEY, PUBLIC KEY or CERTIFICATE",
    )


# JWK --------------------------------------------------------------------------------------------


def to_jwk(
    key: VerifyingKey,
    *,
    kid: str | None = None,
    alg: str | None = None,
    use: str | None = "sig",
    private: bool = False,
) -> Jwk:
    """A key as a JWK dict (RFC 7517/7518/8037); public members only unless ``private=True``.

    ``kid`` defaults to the RFC 7638 thumbprint, so the same key always gets the
    same id. An HMAC secret (bytes) needs ``private=True``: its JWK *is* the
    secret, and a published one lets anyone forge tokens.
    """
    if isinstance(key, (bytes, bytearray)) and not private:
        raise UnsafeKeyError(
            "refusing to export an HMAC secret as a JWK without private=True",
            "an oct JWK is the secret itself: anyone who sees it can forge tokens",
        )
    if private and isinstance(key, PublicKey):
        kind = algorithms.describe_key(key)
        raise KeyFormatError(f"private=True needs a private key, got {kind}")
    if alg is not None:
        if not isinstance(alg, str):
            raise ConfigurationError(f"alg is a name such as 'RS256', got {shown(alg)}")
        algorithms.check_key(alg, key)
    members = _members(key, private=private)
    head = {"kty": members.pop("kty")}
    extras = {"use": use, "alg": alg, "kid": thumbprint(key) if kid is None else kid}
    head.update((name, value) for name, value in extras.items() if value is not None)
    return {**head, **members}


def from_jwk(jwk: Jwk) -> PrivateKey | PublicKey | bytes:
    """A JWK dict as a ``cryptography`` key (private if it holds ``d``), or bytes for ``oct``.

    Every malformed JWK (missing or non-base64url members, unknown ``kty`` or
    ``crv``, a point not on its curve, private parts that do not match) raises
    ``KeyFormatError``: accepting such keys is how invalid-curve attacks work.
    """
    if not isinstance(jwk, dict):
        raise KeyFormatError(f"a JWK must be a JSON object (dict), got {type(jwk).__name__}")
    kty = jwk.get("kty")
    reader = _READERS.get(kty) if isinstance(kty, str) else None
    if reader is None:
        if kty is None:
            raise KeyFormatError("the JWK has no 'kty' member")
        raise KeyFormatError(f"unknown JWK kty {shown(kty)}; expected RSA, EC, OKP or oct")
    key = reader(jwk)
    claimed = jwk.get("alg")
    if isinstance(claimed, str) and claimed in algorithms.ALGORITHMS:
        try:
            algorithms.check_key(claimed, key)
        except UnsafeKeyError:
            raise KeyFormatError(
                f"the JWK says alg {shown(claimed)} but holds {algorithms.describe_key(key)}"
            ) from None
    return key


def to_jwks(keys: Iterable[VerifyingKey | Jwk], *, private: bool = False) -> dict[str, list[Jwk]]:
    """A JWK Set ``{"keys": [...]}`` from key objects (``to_jwk`` defaults) or ready JWK dicts.

    Without ``private=True`` a JWK holding private members is refused: a JWKS is
    published, and leaking ``d`` through one is a real and repeated mistake.
    """
    if isinstance(keys, dict) and "keys" in keys:
        raise KeyFormatError("to_jwks takes a list of keys, got a JWKS already", "pass its 'keys'")
    if isinstance(keys, (dict, str, bytes, bytearray)) or not isinstance(keys, Iterable):
        raise KeyFormatError(
            f"to_jwks takes a list of keys, got {algorithms.describe_key(keys)}",
            "for one key, pass a list of one: to_jwks([key])",
        )
    out: list[Jwk] = []
    for index, item in enumerate(keys):
        if isinstance(item, dict):
            from_jwk(item)  # validates it
            leaked = [name for name in _PRIVATE_MEMBERS if name in item]
            if leaked and not private:
                raise UnsafeKeyError(
                    f"key {index} has private member(s) {', '.join(leaked)}",
                    "a JWKS is public; pass private=True only for a private key store",
                )
            out.append(dict(item))
        else:
            out.append(to_jwk(item, private=private))
    _check_unique_kids(out)
    return {"keys": out}


def from_jwks(
    jwks: dict[str, Any] | str | bytes,
) -> list[tuple[Jwk, PrivateKey | PublicKey | bytes]]:
    """Read a JWK Set (a dict or its JSON text) into ``(jwk, key)`` pairs, in order.

    Each pair keeps the JWK so callers can check ``kid``, ``use`` and ``alg``. A
    bad member anywhere, or two keys with one ``kid``, fails the whole set:
    with duplicate ids a verifier could be steered to either key.
    """
    if isinstance(jwks, (str, bytes, bytearray)):
        jwks = tokens.load_json(jwks, "JWKS", error=KeyFormatError)
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise KeyFormatError("a JWKS must be a JSON object with a 'keys' array")
    pairs = []
    for index, jwk in enumerate(jwks["keys"]):
        try:
            pairs.append((jwk, from_jwk(jwk)))
        except KeyFormatError as exc:
            raise KeyFormatError(f"key {index} of the JWKS: {exc.message}", exc.why) from None
    _check_unique_kids([jwk for jwk, _ in pairs])
    return pairs


def thumbprint(jwk_or_key: Jwk | VerifyingKey) -> str:
    """The RFC 7638 SHA-256 thumbprint (base64url) of a JWK dict or a key.

    It hashes only the required public members in a fixed order, so a key has
    one thumbprint whatever its ``kid``, ``use`` or private members.
    """
    if isinstance(jwk_or_key, dict):
        from_jwk(jwk_or_key)  # validates it
        members = jwk_or_key
    else:
        members = _members(jwk_or_key, private=False)
    required = _THUMBPRINT_MEMBERS[members["kty"]]
    canonical = json.dumps({name: members[name] for name in required}, separators=(",", ":"))
    return tokens.b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


# Writing JWK members ----------------------------------------------------------------------------


def _members(key: object, *, private: bool) -> Jwk:
    if isinstance(key, (bytes, bytearray)):
        if not key:
            raise KeyFormatError("an HMAC secret must not be empty")
        return {"kty": "oct", "k": tokens.b64url_encode(bytes(key))}
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return _rsa_members(key, private)
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return _ec_members(key, private)
    if isinstance(key, _ED_KEYS):
        return _okp_members(key, private)
    tip = (
        "pass bytes for an HMAC secret, or load a PEM with load_pem"
        if isinstance(key, str)
        else None
    )
    raise KeyFormatError(f"cannot make a JWK from {algorithms.describe_key(key)}", tip)


def _rsa_members(key: rsa.RSAPrivateKey | rsa.RSAPublicKey, private: bool) -> Jwk:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    numbers = public.public_numbers()
    members = {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}
    if private and isinstance(key, rsa.RSAPrivateKey):
        p = key.private_numbers()
        values = (p.d, p.p, p.q, p.dmp1, p.dmq1, p.iqmp)
        members.update(zip(("d", *_RSA_CRT), map(_uint, values), strict=True))
    return members


def _ec_members(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey, private: bool) -> Jwk:
    crv = _jwk_curve(key)
    if crv is None:
        raise KeyFormatError(f"unsupported EC curve {key.curve.name}; JWS uses P-256, P-384, P-521")
    size = _EC_CURVES[crv][1]
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    numbers = public.public_numbers()
    members = {"kty": "EC", "crv": crv, "x": _fixed(numbers.x, size), "y": _fixed(numbers.y, size)}
    if private and isinstance(key, ec.EllipticCurvePrivateKey):
        members["d"] = _fixed(key.private_numbers().private_value, size)
    return members


def _okp_members(key: Any, private: bool) -> Jwk:
    is_private = isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))
    public = key.public_key() if is_private else key
    crv = "Ed25519" if isinstance(public, ed25519.Ed25519PublicKey) else "Ed448"
    raw = public.public_bytes(_RAW, serialization.PublicFormat.Raw)
    members = {"kty": "OKP", "crv": crv, "x": tokens.b64url_encode(raw)}
    if private and is_private:
        secret = key.private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        members["d"] = tokens.b64url_encode(secret)
    return members


def _uint(value: int) -> str:
    """RFC 7518 Base64urlUInt: big-endian, the fewest octets (at least one)."""
    return tokens.b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _fixed(value: int, size: int) -> str:
    return tokens.b64url_encode(value.to_bytes(size, "big"))


# Reading JWK members ----------------------------------------------------------------------------


def _read_rsa(jwk: Jwk) -> rsa.RSAPrivateKey | rsa.RSAPublicKey:
    n, e = _int(jwk, "n"), _int(jwk, "e")
    try:
        public = rsa.RSAPublicNumbers(e, n)
        public.public_key()
    except ValueError as exc:
        raise KeyFormatError(f"the RSA JWK's n/e are not a valid public key: {exc}") from None
    if "d" not in jwk:
        return public.public_key()
    if "oth" in jwk:
        raise KeyFormatError("multi-prime RSA JWKs ('oth') are not supported")
    d = _int(jwk, "d")
    present = [name for name in _RSA_CRT if name in jwk]
    if present and len(present) < len(_RSA_CRT):
        missing = [name for name in _RSA_CRT if name not in jwk]
        raise KeyFormatError(f"the RSA JWK has {', '.join(present)} but not {', '.join(missing)}")
    crt = [_int(jwk, name) for name in present]
    try:
        if not crt:  # RFC 7518 6.3.2: d alone is allowed; recover the primes
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
            crt = [p, q, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)]
        return rsa.RSAPrivateNumbers(crt[0], crt[1], d, *crt[2:], public).private_key()
    except ValueError as exc:
        raise KeyFormatError(
            f"the RSA JWK's private members do not match its public key: {exc}"
        ) from None


def _read_ec(jwk: Jwk) -> ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey:
    crv = _str(jwk, "crv", "EC")
    if crv not in _EC_CURVES:
        raise KeyFormatError(f"unknown EC curve {shown(crv)}; expected P-256, P-384 or P-521")
    curve, size = _EC_CURVES[crv]
    x, y = (_sized(jwk, name, size, "EC") for name in ("x", "y"))
    if x >= FIELD_PRIMES[crv] or y >= FIELD_PRIMES[crv]:
        raise KeyFormatError(
            f"the EC JWK has a coordinate at or above {crv}'s field prime: not a point encoding "
            "(SEC 1 section 2.3.5)"
        )
    public = ec.EllipticCurvePublicNumbers(x, y, curve)
    try:
        public_key = public.public_key()
    except ValueError:
        raise KeyFormatError(
            f"the EC JWK's point (x, y) is not on {crv}",
            "invalid-curve attacks rely on verifiers that accept such points",
        ) from None
    if "d" not in jwk:
        return public_key
    d = _sized(jwk, "d", size, "EC")
    try:
        return ec.EllipticCurvePrivateNumbers(d, public).private_key()
    except ValueError:
        raise KeyFormatError("the EC JWK's 'd' does not match its public point") from None


def _read_okp(jwk: Jwk) -> Any:
    crv = _str(jwk, "crv", "OKP")
    if crv not in _OKP_CURVES:
        raise KeyFormatError(f"unsupported OKP curve {shown(crv)}; JWS signs with Ed25519 or Ed448")
    public_type, private_type, size = _OKP_CURVES[crv]
    x = _b64(jwk, "x", "OKP")
    if len(x) != size:
        raise KeyFormatError(f"the OKP JWK's 'x' is {len(x)} bytes; {crv} keys are {size}")
    if "d" not in jwk:
        return public_type.from_public_bytes(x)
    d = _b64(jwk, "d", "OKP")
    if len(d) != size:
        raise KeyFormatError(f"the OKP JWK's 'd' is {len(d)} bytes; {crv} keys are {size}")
    key = private_type.from_private_bytes(d)
    if key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw) != x:
        raise KeyFormatError("the OKP JWK's 'd' does not match its 'x'")
    return key


def _read_oct(jwk: Jwk) -> bytes:
    secret = _b64(jwk, "k", "oct")
    if not secret:
        raise KeyFormatError("the oct JWK's 'k' is empty")
    return secret


def _str(jwk: Jwk, name: str, kty: str) -> str:
    if name not in jwk:
        raise KeyFormatError(f"the {kty} JWK is missing '{name}'")
    value = jwk[name]
    if not isinstance(value, str):
        raise KeyFormatError(
            f"the {kty} JWK's '{name}' must be a string, got {type(value).__name__}"
        )
    return value


def _b64(jwk: Jwk, name: str, kty: str) -> bytes:
    try:
        return tokens.b64url_decode(_str(jwk, name, kty), f"{kty} JWK's '{name}'")
    except MalformedTokenError as exc:
        raise KeyFormatError(exc.message, exc.why) from None


def _int(jwk: Jwk, name: str) -> int:
    return int.from_bytes(_b64(jwk, name, "RSA"), "big")


def _sized(jwk: Jwk, name: str, size: int, kty: str) -> int:
    raw = _b64(jwk, name, kty)
    if len(raw) != size:
        raise KeyFormatError(
            f"the {kty} JWK's '{name}' is {len(raw)} bytes; {jwk['crv']} needs exactly {size}",
            "RFC 7518 section 6.2 requires full-length EC values",
        )
    return int.from_bytes(raw, "big")


# Helpers ----------------------------------------------------------------------------------------


def _jwk_curve(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str | None:
    return next(
        (crv for crv, (curve, _) in _EC_CURVES.items() if curve.name == key.curve.name), None
    )


def _check_unique_kids(jwks: list[Jwk]) -> None:
    seen: set[str] = set()
    for jwk in jwks:
        kid = jwk.get("kid")
        if not isinstance(kid, str):
            continue
        if kid in seen:
            raise KeyFormatError(
                f"two keys in the JWKS share kid {shown(kid)}",
                "a verifier could then be steered to either key",
            )
        seen.add(kid)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


_ED_KEYS = (
    ed25519.Ed25519PrivateKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PrivateKey,
    ed448.Ed448PublicKey,
)
_READERS = {"RSA": _read_rsa, "EC": _read_ec, "OKP": _read_okp, "oct": _read_oct}
