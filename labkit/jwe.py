"""JSON Web Encryption (RFC 7516) in compact form, written out with ``cryptography``.

The JWE counterpart of ``labkit.algorithms``: a compact JWE is five base64url
parts, ``header.encrypted_key.iv.ciphertext.tag`` (RFC 7516 section 7.1). A
random content-encryption key (CEK) encrypts the plaintext with an AEAD
(``enc``: AES-GCM, or AES-CBC with HMAC, RFC 7518 section 5), the protected
header is the AEAD's associated data (RFC 7516 section 5.1 step 14), and the
key-management algorithm (``alg``, RFC 7518 section 4) gets the CEK to the
recipient: RSA-OAEP wraps it, ECDH-ES derives it (or a key that wraps it) with
the Concat KDF, AES key wrap and PBES2 wrap it under a shared key.

``decrypt`` is the hardened decryptor, the one to copy: the caller lists the
``alg`` and ``enc`` values it accepts on every call (there is no default, and
``RSA1_5`` is not implemented at all); sizes and work are bounded BEFORE the
work is done (token length, ``p2c`` before any PBKDF2, the inflated size of
``zip``, the ephemeral key checked on the recipient's curve before any ECDH);
every malformed input raises one ``JweError`` line. ``Work`` counts what a
decryption did (ECDH runs, RSA operations, PBKDF2 iterations, bytes inflated),
so tests and the notebook can show bounded work as counted work.

Decrypting proves only that someone who knew the recipient's PUBLIC key made
the token: "encrypted is not authenticated". For claims you will trust, sign
first and encrypt the signed JWT (a nested JWT, RFC 7519 section 11.2):
``encrypt_jwt`` and ``decrypt_jwt``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from labkit import keys, tokens
from labkit.errors import ConfigurationError, JweError, LabkitError, shown

__all__ = [
    "ALGORITHMS",
    "ENCRYPTIONS",
    "MAX_INFLATED",
    "MAX_LENGTH",
    "MAX_P2C",
    "Jwe",
    "Work",
    "concat_kdf",
    "decrypt",
    "decrypt_jwt",
    "encrypt",
    "encrypt_jwt",
    "parse",
]

MAX_LENGTH = 16384
"""Default bound on a compact JWE's length (an RSA-4096 encrypted key alone is 683 characters)."""
MAX_INFLATED = 250_000
"""Default cap on the bytes ``zip: DEF`` may inflate to (go-jose's 250 kB floor, CVE-2024-28180)."""
MAX_P2C = 10_000
"""Default bound on PBES2's ``p2c`` (panva/jose's default cap since CVE-2022-36083)."""
MIN_P2S = 8
"""RFC 7518 section 4.8.1.1: the PBES2 salt input is at least 8 octets."""
_MIN_RSA_BITS = 2048


class _Enc(NamedTuple):
    kind: str  # "GCM" or "CBC"
    key_size: int  # CEK bytes
    iv_size: int
    tag_size: int
    hash: type[hashes.HashAlgorithm] | None = None  # CBC-HS only


ENCRYPTIONS: dict[str, _Enc] = {
    "A128GCM": _Enc("GCM", 16, 12, 16),
    "A192GCM": _Enc("GCM", 24, 12, 16),
    "A256GCM": _Enc("GCM", 32, 12, 16),
    "A128CBC-HS256": _Enc("CBC", 32, 16, 16, hashes.SHA256),
    "A192CBC-HS384": _Enc("CBC", 48, 16, 24, hashes.SHA384),
    "A256CBC-HS512": _Enc("CBC", 64, 16, 32, hashes.SHA512),
}
"""Content encryption (RFC 7518 section 5): AES-GCM, or AES-CBC then HMAC (section 5.2)."""


class _Alg(NamedTuple):
    family: str  # "RSA-OAEP", "ECDH-ES", "KW", "dir" or "PBES2"
    wrap_size: int | None = None  # AES key-wrap key bytes (KW, ECDH-ES+KW, PBES2)
    hash: type[hashes.HashAlgorithm] | None = None  # OAEP / PBKDF2 hash


ALGORITHMS: dict[str, _Alg] = {
    "RSA-OAEP": _Alg("RSA-OAEP", None, hashes.SHA1),
    "RSA-OAEP-256": _Alg("RSA-OAEP", None, hashes.SHA256),
    "ECDH-ES": _Alg("ECDH-ES"),
    "ECDH-ES+A128KW": _Alg("ECDH-ES", 16),
    "ECDH-ES+A192KW": _Alg("ECDH-ES", 24),
    "ECDH-ES+A256KW": _Alg("ECDH-ES", 32),
    "A128KW": _Alg("KW", 16),
    "A192KW": _Alg("KW", 24),
    "A256KW": _Alg("KW", 32),
    "dir": _Alg("dir"),
    "PBES2-HS256+A128KW": _Alg("PBES2", 16, hashes.SHA256),
    "PBES2-HS384+A192KW": _Alg("PBES2", 24, hashes.SHA384),
    "PBES2-HS512+A256KW": _Alg("PBES2", 32, hashes.SHA512),
}
"""Key management (RFC 7518 section 4). RSA1_5 is left out on purpose: see ``_NEVER``."""

_NEVER = {
    "RSA1_5": (
        "RSA1_5 (PKCS #1 v1.5 key transport) is not implemented: its padding check is a "
        "Bleichenbacher oracle unless every error path is constant-time (RFC 7516 section 11.5; "
        "Authlib CVE-2026-28490); use RSA-OAEP-256"
    ),
}
_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}
_JWK_CURVE = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_FIELD_PRIMES = keys.FIELD_PRIMES
_SET_BY_ENCRYPT = ("alg", "enc", "zip", "epk", "apu", "apv", "p2s", "p2c")
_HEADER_NAMES = ("alg", "enc", "zip", "epk", "apu", "apv", "p2s", "p2c", "crit", "cty", "typ")
_DECRYPT_ONLY = frozenset({"allow_zip", "max_inflated", "max_p2c", "work"})
"""``decrypt`` options that ``decrypt_jwt`` would otherwise pass on to ``labkit.verify``."""
_UNDECRYPTABLE = "the JWE does not decrypt under this key (a wrong key, or the token was altered)"


@dataclass
class Work:
    """What one decryption did: the counters that bound its cost, for tests and lessons.

    A hardened decryptor refuses a malicious token with these still at 0; a
    vulnerable one shows here the work an attacker made it do.
    """

    ecdh: int = 0  # ECDH shared-secret computations
    rsa: int = 0  # RSA private-key operations
    pbkdf2_iterations: int = 0  # PBKDF2 iterations started
    inflated: int = 0  # bytes decompressed from zip: DEF
    aead: int = 0  # content decryptions attempted


@dataclass(frozen=True)
class Jwe:
    """A parsed compact JWE: the protected header and the four binary parts, nothing decrypted."""

    header: dict[str, Any]
    protected: str  # the base64url header exactly as sent: the AEAD's associated data
    encrypted_key: bytes
    iv: bytes
    ciphertext: bytes
    tag: bytes
    parts: tuple[str, str, str, str, str] = field(repr=False)


# Parsing ----------------------------------------------------------------------------------------


def parse(token: str | bytes, *, max_length: int = MAX_LENGTH) -> Jwe:
    """Split and decode a compact JWE (no crypto), refusing every malformed shape in one line."""
    _check_bounds(max_length=max_length)
    text = _bounded_text(token, max_length)
    parts = text.split(".")
    if len(parts) != 5:
        got = "a JWS (three parts)" if len(parts) == 3 else f"{len(parts)} parts"
        raise JweError(
            f"a compact JWE has five base64url parts separated by dots; this has {got}",
            "RFC 7516 section 7.1",
        )
    protected, ek, iv, ciphertext, tag = parts
    if not protected:
        raise JweError("the JWE has no protected header (the first part is empty)")
    header = _load(tokens.b64url_decode, protected, "protected header")
    header = _json_object(header)
    return Jwe(
        header=header,
        protected=protected,
        encrypted_key=_load(tokens.b64url_decode, ek, "encrypted key"),
        iv=_load(tokens.b64url_decode, iv, "initialization vector"),
        ciphertext=_load(tokens.b64url_decode, ciphertext, "ciphertext"),
        tag=_load(tokens.b64url_decode, tag, "authentication tag"),
        parts=(protected, ek, iv, ciphertext, tag),
    )


def _bounded_text(token: object, max_length: int) -> str:
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise JweError("a compact JWE is ASCII text; these bytes are not") from None
    if isinstance(token, dict):
        raise JweError(
            "this decryptor takes the compact serialization only, not the JSON one "
            "(RFC 7516 section 7.2): a JWE here is text with five parts"
        )
    if not isinstance(token, str):
        raise JweError(f"a JWE must be text, got {type(token).__name__}")
    if len(token) > max_length:
        raise JweError(
            f"the JWE is {len(token):,} characters, over the limit of {max_length:,}",
            "bound the input before any parsing or crypto",
        )
    return token


def _load(reader: Any, text: str, part: str) -> Any:
    """Run a ``labkit.tokens`` reader, turning its error into the one JWE error class."""
    try:
        return reader(text, part)
    except LabkitError as exc:
        raise JweError(exc.message, exc.why) from None


def _json_object(data: bytes) -> dict[str, Any]:
    value = tokens.load_json(data, "protected header", error=JweError)
    if not isinstance(value, dict):
        raise JweError(f"the protected header must be a JSON object, got {type(value).__name__}")
    return value


# Encryption -------------------------------------------------------------------------------------


def encrypt(
    plaintext: bytes | str | dict[str, Any],
    key: Any,
    *,
    alg: str,
    enc: str,
    header: dict[str, Any] | None = None,
    compress: bool = False,
    apu: bytes = b"",
    apv: bytes = b"",
    p2c: int = 8192,
    cek: bytes | None = None,
    iv: bytes | None = None,
    ephemeral: ec.EllipticCurvePrivateKey | None = None,
    p2s: bytes | None = None,
) -> str:
    """A compact JWE of ``plaintext`` for the holder of ``key``.

    ``key`` is the recipient's RSA or EC PUBLIC key (or a JWK), or the shared
    bytes for ``A*KW``, ``dir`` and ``PBES2`` (a password). ``header`` adds
    members such as ``kid``, ``typ`` or ``cty``; ``compress`` sets ``zip: DEF``.
    ``cek``, ``iv``, ``ephemeral`` and ``p2s`` exist for known-answer tests;
    leave them out and fresh random values are used, as they must be.
    """
    spec, content = _alg(alg), _enc(enc)
    data = _plaintext(plaintext)
    if header is not None and not isinstance(header, dict):
        raise ConfigurationError(f"header must be a dict of members, got {type(header).__name__}")
    own = [name for name in _SET_BY_ENCRYPT if name in (header or {})]
    if own:
        raise ConfigurationError(
            f"header sets {', '.join(own)}, which encrypt writes itself from its arguments "
            "(alg=, enc=, compress=, apu=, apv=, p2c=, p2s=): a header that says otherwise "
            "would describe a token it is not"
        )
    fields: dict[str, Any] = {"alg": alg, "enc": enc, **(header or {})}
    if compress:
        fields["zip"] = "DEF"
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = deflate.compress(data) + deflate.flush()
    _check_jwk_alg(key, alg, ConfigurationError)
    key = _key_object(key)
    if spec.family in ("dir", "ECDH-ES") and spec.wrap_size is None and cek is not None:
        raise ConfigurationError(f"{alg} derives or is the CEK: do not pass cek")
    if spec.family == "dir":
        cek = _secret(key, content.key_size, f"dir with {enc}")
        encrypted_key = b""
    elif spec.family == "RSA-OAEP":
        if not isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
            raise ConfigurationError(f"{alg} encrypts to an RSA public key")
        public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
        cek = cek or os.urandom(content.key_size)
        encrypted_key = public.encrypt(cek, _oaep(spec))
    elif spec.family == "ECDH-ES":
        public = _ec_public(key, alg)
        curve_name = _JWK_CURVE[public.curve.name]
        own = ephemeral or ec.generate_private_key(public.curve)
        numbers = own.public_key().public_numbers()
        size = _CURVES[curve_name][1]
        fields["epk"] = {
            "kty": "EC",
            "crv": curve_name,
            "x": tokens.b64url_encode(numbers.x.to_bytes(size, "big")),
            "y": tokens.b64url_encode(numbers.y.to_bytes(size, "big")),
        }
        if apu:
            fields["apu"] = tokens.b64url_encode(apu)
        if apv:
            fields["apv"] = tokens.b64url_encode(apv)
        shared = own.exchange(ec.ECDH(), public)
        if spec.wrap_size is None:
            cek = concat_kdf(shared, enc, content.key_size, apu, apv)
            encrypted_key = b""
        else:
            kek = concat_kdf(shared, alg, spec.wrap_size, apu, apv)
            cek = cek or os.urandom(content.key_size)
            encrypted_key = aes_key_wrap(kek, cek)
    elif spec.family == "KW":
        kek = _secret(key, spec.wrap_size or 0, alg)
        cek = cek or os.urandom(content.key_size)
        encrypted_key = aes_key_wrap(kek, cek)
    else:  # PBES2
        salt = p2s if p2s is not None else os.urandom(16)
        fields["p2s"], fields["p2c"] = tokens.b64url_encode(salt), p2c
        kek = _pbes2_key(alg, spec, _password(key), salt, p2c, Work())
        cek = cek or os.urandom(content.key_size)
        encrypted_key = aes_key_wrap(kek, cek)
    if len(cek) != content.key_size:
        raise ConfigurationError(f"{enc} needs a {content.key_size}-byte CEK, got {len(cek)}")
    protected = tokens.b64url_encode(tokens.json_bytes(fields))
    nonce = iv if iv is not None else os.urandom(content.iv_size)
    ciphertext, tag = _seal(content, cek, nonce, data, protected.encode("ascii"))
    return ".".join(
        (protected, *(tokens.b64url_encode(p) for p in (encrypted_key, nonce, ciphertext, tag)))
    )


def encrypt_jwt(
    signed_jwt: str, key: Any, *, alg: str, enc: str, header: dict[str, Any] | None = None
) -> str:
    """Encrypt an already SIGNED JWT (nested JWT, RFC 7519 section 11.2): ``cty: JWT``.

    Sign first, then encrypt: the signature stays inside, where only the
    recipient sees it, and it still proves who issued the claims.
    """
    if not isinstance(signed_jwt, str) or signed_jwt.count(".") != 2:
        raise ConfigurationError("encrypt_jwt takes a signed compact JWT (three parts)")
    try:
        jws = tokens.parse_jws(signed_jwt)
    except LabkitError as exc:
        raise ConfigurationError(f"encrypt_jwt takes a signed compact JWT: {exc.message}") from None
    signing_alg = jws.header.get("alg")
    if not jws.signature or not isinstance(signing_alg, str) or signing_alg.lower() == "none":
        raise ConfigurationError(
            f"encrypt_jwt takes a SIGNED JWT; this one has alg {shown(signing_alg)} and "
            f"{'no' if not jws.signature else 'a'} signature",
            "an unsigned inner JWT proves nothing once decrypted (RFC 7519 section 11.2)",
        )
    return encrypt(
        signed_jwt.encode("ascii"), key, alg=alg, enc=enc, header={**(header or {}), "cty": "JWT"}
    )


# Decryption -------------------------------------------------------------------------------------


def decrypt(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    encryptions: Collection[str],
    max_length: int = MAX_LENGTH,
    allow_zip: bool = False,
    max_inflated: int = MAX_INFLATED,
    max_p2c: int = MAX_P2C,
    work: Work | None = None,
) -> bytes:
    """Decrypt a compact JWE and return the plaintext, or raise the ``JweError`` saying why not.

    ``algorithms`` and ``encryptions`` list the ``alg`` and ``enc`` values this
    caller accepts; the token's header only picks among them. ``zip`` is
    refused unless ``allow_zip``, and then inflated to at most ``max_inflated``
    bytes (RFC 8725 section 3.6 advises against compressing before encrypting
    at all). ``p2c`` above ``max_p2c`` is refused before PBKDF2 runs. An ECDH-ES
    ephemeral key must lie on the recipient key's own curve, checked before any
    ECDH. ``work`` (a ``Work``) is filled in with what was done.
    """
    allowed_algs = _allowed(algorithms, ALGORITHMS, "algorithms")
    allowed_encs = _allowed(encryptions, ENCRYPTIONS, "encryptions")
    _check_bounds(max_length=max_length, max_inflated=max_inflated, max_p2c=max_p2c)
    if not isinstance(allow_zip, bool):
        raise ConfigurationError(f"allow_zip must be True or False, got {shown(allow_zip)}")
    if work is not None and not isinstance(work, Work):
        raise ConfigurationError(f"work must be a labkit.jwe.Work, got {type(work).__name__}")
    work = work if work is not None else Work()
    jwe = parse(token, max_length=max_length)
    header = jwe.header
    alg = _pick(header, "alg", allowed_algs)
    enc = _pick(header, "enc", allowed_encs)
    _check_crit(header)
    zipped = _check_zip(header, allow_zip)
    spec, content = ALGORITHMS[alg], ENCRYPTIONS[enc]
    if len(jwe.iv) != content.iv_size:
        raise JweError(f"{enc} takes a {content.iv_size}-byte IV, this one has {len(jwe.iv)}")
    if len(jwe.tag) != content.tag_size:
        raise JweError(f"{enc} takes a {content.tag_size}-byte tag, this one has {len(jwe.tag)}")
    _check_jwk_alg(key, alg, JweError)
    cek = _recover_cek(
        jwe, _key_object(key, error=JweError), alg, spec, enc, content, max_p2c, work
    )
    aad = jwe.protected.encode("ascii")
    work.aead += 1
    plaintext = _open(content, cek, jwe.iv, jwe.ciphertext, jwe.tag, aad)
    if zipped:
        plaintext = inflate(plaintext, max_inflated, work)
    return plaintext


def decrypt_jwt(
    token: str | bytes,
    decryption_key: Any,
    verification_key: Any,
    *,
    algorithms: Collection[str],
    encryptions: Collection[str],
    signing_algorithms: Collection[str],
    **verify_options: Any,
) -> dict[str, Any]:
    """Decrypt a nested JWT, then VERIFY the signed JWT inside it: the claims, or an error.

    The JWE must say ``cty: JWT`` (RFC 7519 section 5.2); the inner token goes
    through ``labkit.verify`` with ``signing_algorithms`` and ``verify_options``
    (audience, issuer, now, ...). Trusting the decrypted claims without this
    step trusts anyone who has the recipient's public key.
    """
    from labkit.verify import verify  # a function-level import: verify does not import jwe

    misplaced = sorted(set(verify_options) & _DECRYPT_ONLY)
    if misplaced:
        raise ConfigurationError(
            f"decrypt_jwt does not take {', '.join(misplaced)}: a nested JWT is decrypted with "
            "the safe defaults (no zip, bounded p2c); call decrypt, then labkit.verify, to change "
            "them"
        )
    plaintext = decrypt(token, decryption_key, algorithms=algorithms, encryptions=encryptions)
    cty = parse(token).header.get("cty")
    # RFC 7515 section 4.1.10: a cty without '/' means "application/" + cty; media types
    # compare case-insensitively, so JWT, jwt and application/JWT are one type.
    if not isinstance(cty, str) or cty.lower().removeprefix("application/") != "jwt":
        raise JweError(
            f"the JWE's cty is {shown(cty)}, not 'JWT': it does not carry a signed JWT",
            "a nested JWT says cty JWT (RFC 7519 section 5.2); trusting bare encrypted claims "
            "trusts anyone with the public key",
        )
    return verify(plaintext, verification_key, algorithms=signing_algorithms, **verify_options)


def inflate(data: bytes, limit: int, work: Work | None = None) -> bytes:
    """Raw DEFLATE (RFC 1951) decompression that never produces more than ``limit`` bytes."""
    _check_bounds(max_inflated=limit)
    work = work if work is not None else Work()
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, limit + 1)  # at most limit + 1 bytes, whatever the input
    except zlib.error as exc:
        raise JweError(f"the zip: DEF plaintext is not raw DEFLATE data: {exc}") from None
    work.inflated += len(out)
    if len(out) > limit or inflater.unconsumed_tail:
        raise JweError(
            f"the plaintext inflates to more than {limit:,} bytes: refused as a decompression bomb",
            "CVE-2024-28102 (jwcrypto), CVE-2024-28180 (go-jose)",
        )
    if not inflater.eof:
        raise JweError("the zip: DEF plaintext is truncated DEFLATE data")
    if inflater.unused_data:
        raise JweError(
            f"the zip: DEF plaintext has {len(inflater.unused_data):,} bytes after the end of its "
            "DEFLATE stream: one plaintext, one encoding"
        )
    return out


def concat_kdf(
    shared: bytes, algorithm_id: str, size: int, apu: bytes = b"", apv: bytes = b""
) -> bytes:
    """The Concat KDF of RFC 7518 section 4.6.2 (NIST SP 800-56A), with SHA-256.

    OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo, each
    length-prefixed (32-bit big-endian); AlgorithmID is the ``enc`` for direct
    ECDH-ES and the ``alg`` for ECDH-ES+A*KW; SuppPubInfo is the key size in bits.
    """

    def prefixed(value: bytes) -> bytes:
        return len(value).to_bytes(4, "big") + value

    other = prefixed(algorithm_id.encode("ascii")) + prefixed(apu) + prefixed(apv)
    other += (size * 8).to_bytes(4, "big")
    out = b""
    for counter in range(1, -(-size // 32) + 1):
        out += hashlib.sha256(counter.to_bytes(4, "big") + shared + other).digest()
    return out[:size]


# The steps of decrypt ---------------------------------------------------------------------------


def _recover_cek(
    jwe: Jwe, key: Any, alg: str, spec: _Alg, enc: str, content: _Enc, max_p2c: int, work: Work
) -> bytes:
    header = jwe.header
    if spec.family in ("dir", "ECDH-ES") and spec.wrap_size is None and jwe.encrypted_key:
        raise JweError(f"{alg} uses no encrypted key, yet the second part is not empty")
    if spec.family == "dir":
        return _secret(key, content.key_size, f"dir with {enc}", error=JweError)
    if spec.family == "RSA-OAEP":
        return _rsa_oaep(jwe.encrypted_key, key, alg, spec, content, work)
    if spec.family == "ECDH-ES":
        shared = _ecdh(header, key, alg, work)
        apu = _b64_member(header, "apu")
        apv = _b64_member(header, "apv")
        if spec.wrap_size is None:
            return concat_kdf(shared, enc, content.key_size, apu, apv)
        kek = concat_kdf(shared, alg, spec.wrap_size, apu, apv)
        return _unwrap(kek, jwe.encrypted_key, content)
    if spec.family == "KW":
        kek = _secret(key, spec.wrap_size or 0, alg, error=JweError)
        return _unwrap(kek, jwe.encrypted_key, content)
    salt, count = _pbes2_params(header, max_p2c)  # bounded BEFORE any PBKDF2 work
    kek = _pbes2_key(alg, spec, _password(key, error=JweError), salt, count, work)
    return _unwrap(kek, jwe.encrypted_key, content)


def _rsa_oaep(
    encrypted_key: bytes, key: Any, alg: str, spec: _Alg, content: _Enc, work: Work
) -> bytes:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise JweError(f"{alg} needs the recipient's RSA private key to decrypt")
    if key.key_size < _MIN_RSA_BITS:
        raise JweError(f"the RSA key is {key.key_size} bits; {alg} needs at least {_MIN_RSA_BITS}")
    if len(encrypted_key) != key.key_size // 8:
        raise JweError(_UNDECRYPTABLE)
    work.rsa += 1
    try:
        cek = key.decrypt(encrypted_key, _oaep(spec))
    except ValueError:
        cek = b""
    if len(cek) != content.key_size:
        # RFC 7516 section 11.5: go on with a random CEK so every failure looks the same.
        cek = os.urandom(content.key_size)
    return cek


def _ecdh(header: dict[str, Any], key: Any, alg: str, work: Work) -> bytes:
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise JweError(f"{alg} needs the recipient's EC private key to decrypt")
    mine = _JWK_CURVE.get(key.curve.name)
    if mine is None:
        raise JweError(f"{alg} is defined here for P-256, P-384 and P-521, not {key.curve.name}")
    epk = header.get("epk")
    if not isinstance(epk, dict):
        raise JweError(f"{alg} needs the sender's ephemeral public key in 'epk' (a JWK object)")
    if epk.get("kty") != "EC":
        raise JweError(f"the epk must be an EC key (kty 'EC'), not kty {shown(epk.get('kty'))}")
    if epk.get("crv") != mine:
        raise JweError(
            f"the epk is on {shown(epk.get('crv'))}, the recipient key on {mine!r}",
            "the ephemeral key must be on the recipient's own curve",
        )
    if "d" in epk:
        raise JweError("the epk carries a private part 'd': a sender must never send it")
    curve, size = _CURVES[mine]
    x, y = (_coordinate(epk, name, size) for name in ("x", "y"))
    if x >= _FIELD_PRIMES[mine] or y >= _FIELD_PRIMES[mine]:
        raise JweError(
            f"the epk has a coordinate of {mine} at or above the field prime p: not a point "
            "encoding (SEC 1 section 2.3.5); OpenSSL would reduce it and take another spelling "
            "of some point"
        )
    try:
        public = ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    except ValueError:
        raise JweError(
            f"the epk point is not on {mine}: refused before any ECDH (an invalid-curve attack "
            "leaks the private key; CVE-2016-9121, go-jose before 1.0.4)"
        ) from None
    work.ecdh += 1
    return key.exchange(ec.ECDH(), public)


def _coordinate(epk: dict[str, Any], name: str, size: int) -> int:
    value = epk.get(name)
    if not isinstance(value, str):
        raise JweError(f"the epk has no base64url {name!r} coordinate")
    raw = _load(tokens.b64url_decode, value, f"epk {name}")
    if len(raw) != size:
        raise JweError(f"the epk {name!r} is {len(raw)} bytes; the curve's coordinates are {size}")
    return int.from_bytes(raw, "big")


def _pbes2_params(header: dict[str, Any], max_p2c: int) -> tuple[bytes, int]:
    count = header.get("p2c")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise JweError(f"PBES2 needs a positive integer p2c, got {shown(count)}")
    if count > max_p2c:
        raise JweError(
            f"p2c is {shown(count)}, over the limit of {max_p2c:,}: refused before any PBKDF2 work",
            "the sender chooses p2c, so an unbounded one is a denial of service (CVE-2022-36083)",
        )
    salt = _b64_member(header, "p2s")
    if len(salt) < MIN_P2S:
        raise JweError(f"p2s is {len(salt)} bytes; RFC 7518 section 4.8.1.1 asks for at least 8")
    return salt, count


def _pbes2_key(alg: str, spec: _Alg, password: bytes, salt: bytes, count: int, work: Work) -> bytes:
    """PBKDF2 (RFC 8018) over salt = UTF8(alg) || 0x00 || p2s, RFC 7518 section 4.8.1.1."""
    assert spec.hash is not None and spec.wrap_size is not None
    work.pbkdf2_iterations += count
    kdf = PBKDF2HMAC(spec.hash(), spec.wrap_size, alg.encode("ascii") + b"\0" + salt, count)
    return kdf.derive(password)


def _unwrap(kek: bytes, encrypted_key: bytes, content: _Enc) -> bytes:
    if len(encrypted_key) != content.key_size + 8:
        raise JweError(_UNDECRYPTABLE)
    try:
        return aes_key_unwrap(kek, encrypted_key)
    except InvalidUnwrap:
        raise JweError(_UNDECRYPTABLE) from None


def _seal(content: _Enc, cek: bytes, iv: bytes, data: bytes, aad: bytes) -> tuple[bytes, bytes]:
    if content.kind == "GCM":
        sealed = AESGCM(cek).encrypt(iv, data, aad)
        return sealed[:-16], sealed[-16:]
    mac_key, enc_key = cek[: len(cek) // 2], cek[len(cek) // 2 :]
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    return ciphertext, _cbc_tag(content, mac_key, aad, iv, ciphertext)


def _open(content: _Enc, cek: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
    if content.kind == "GCM":
        try:
            return AESGCM(cek).decrypt(iv, ciphertext + tag, aad)
        except InvalidTag:
            raise JweError(_UNDECRYPTABLE) from None
    mac_key, enc_key = cek[: len(cek) // 2], cek[len(cek) // 2 :]
    if not hmac.compare_digest(_cbc_tag(content, mac_key, aad, iv, ciphertext), tag):
        raise JweError(_UNDECRYPTABLE)
    if not ciphertext or len(ciphertext) % 16:
        raise JweError(_UNDECRYPTABLE)
    decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise JweError(_UNDECRYPTABLE) from None


def _cbc_tag(content: _Enc, mac_key: bytes, aad: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """RFC 7518 section 5.2.2.1: HMAC(MAC_KEY, A || IV || E || AL), truncated to T_LEN."""
    assert content.hash is not None
    al = (len(aad) * 8).to_bytes(8, "big")
    mac = hmac.new(mac_key, aad + iv + ciphertext + al, content.hash.name).digest()
    return mac[: content.tag_size]


# Small checks -----------------------------------------------------------------------------------


def _allowed(names: object, table: dict[str, Any], what: str) -> frozenset[str]:
    if isinstance(names, str | bytes) or not isinstance(names, Collection) or not names:
        raise ConfigurationError(
            f"{what} must be a non-empty list of names, e.g. ['RSA-OAEP-256'], got {shown(names)}"
        )
    listed = tuple(names)  # read once: what is checked is what is used
    for name in listed:
        if not isinstance(name, str):
            raise ConfigurationError(f"{what} lists {shown(name)}: each entry is a name (str)")
        if name in _NEVER:
            raise ConfigurationError(_NEVER[name])
        if name not in table:
            raise ConfigurationError(
                f"unknown JWE {what[:-1]} {shown(name)}; known: {', '.join(table)}"
            )
    if not listed:
        raise ConfigurationError(f"{what} must be a non-empty list of names, got none")
    return frozenset(listed)


def _check_bounds(**bounds: object) -> None:
    """The caller's limits are whole numbers; a negative one would switch a limit off.

    ``zlib``'s ``max_length`` of 0 means "no limit", so ``max_inflated=-1``
    would inflate a bomb in full before the size check refused it.
    """
    for name, value in bounds.items():
        least = 1 if name == "max_length" else 0
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ConfigurationError(
                f"{name} must be a whole number of at least {least}, got {shown(value)}"
            )


def _pick(header: dict[str, Any], name: str, allowed: frozenset[str]) -> str:
    value = header.get(name)
    if value is None:
        raise JweError(f"the JWE header has no {name!r}")
    if not isinstance(value, str) or value not in allowed:
        why = _NEVER.get(value) if isinstance(value, str) else None
        raise JweError(
            f"{name} {shown(value)} is not allowed here (allowed: {', '.join(sorted(allowed))})",
            why or "the caller decides which algorithms it accepts, never the token",
        )
    return value


def _check_crit(header: dict[str, Any]) -> None:
    if "crit" in header:
        raise JweError(
            f"the JWE lists crit {shown(header['crit'])}, extensions this decryptor does not "
            "implement (RFC 7516 section 4.1.13: it must refuse the token)"
        )


def _check_zip(header: dict[str, Any], allow_zip: bool) -> bool:
    if "zip" not in header:
        return False
    if header["zip"] != "DEF":
        raise JweError(f"unknown zip {shown(header['zip'])}; the only one defined is 'DEF'")
    if not allow_zip:
        raise JweError(
            "the JWE is compressed (zip: DEF) and this decryptor does not inflate",
            "compressing before encrypting leaks plaintext and invites decompression bombs "
            "(RFC 8725 section 3.6)",
        )
    return True


def _b64_member(header: dict[str, Any], name: str) -> bytes:
    value = header.get(name, "")
    if not isinstance(value, str):
        raise JweError(f"the header's {name!r} must be base64url text, got {type(value).__name__}")
    return _load(tokens.b64url_decode, value, f"header {name}")


def _alg(alg: object) -> _Alg:
    if isinstance(alg, str) and alg in _NEVER:
        raise ConfigurationError(_NEVER[alg])
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise ConfigurationError(f"unknown JWE alg {shown(alg)}; known: {', '.join(ALGORITHMS)}")
    return ALGORITHMS[alg]


def _enc(enc: object) -> _Enc:
    if not isinstance(enc, str) or enc not in ENCRYPTIONS:
        raise ConfigurationError(f"unknown JWE enc {shown(enc)}; known: {', '.join(ENCRYPTIONS)}")
    return ENCRYPTIONS[enc]


def _plaintext(value: object) -> bytes:
    if isinstance(value, dict):
        return tokens.json_bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise ConfigurationError(
        f"the plaintext must be bytes, str or a dict, got {type(value).__name__}"
    )


def _key_object(key: Any, error: type[LabkitError] = ConfigurationError) -> Any:
    if isinstance(key, dict):
        _check_key_use(key, error, "decrypt" if error is JweError else "encrypt")
        try:
            return keys.from_jwk(key)
        except LabkitError as exc:
            raise error(exc.message, exc.why) from None
    return key


def _check_jwk_alg(key: Any, alg: str, error: type[LabkitError]) -> None:
    """A JWK that names its ``alg`` is for that algorithm only (RFC 7517 section 4.4).

    Otherwise a key published for ``RS256`` signatures, or for ``RSA-OAEP``
    only, would decrypt whatever ``alg`` a token names.
    """
    if isinstance(key, dict) and "alg" in key and key["alg"] != alg:
        raise error(
            f"the JWK is for alg {shown(key['alg'])}, the JWE says {alg!r}",
            "a JWK's alg names the one algorithm the key is for (RFC 7517 section 4.4)",
        )


_KEY_OPS = {
    "encrypt": {"encrypt", "wrapKey", "deriveKey", "deriveBits"},
    "decrypt": {"decrypt", "unwrapKey", "deriveKey", "deriveBits"},
}
"""The JWK key_ops (RFC 7517 section 4.3) that let a key encrypt, or decrypt, a JWE."""


def _check_key_use(jwk: dict[str, Any], error: type[LabkitError], side: str) -> None:
    """A JWK marked for signatures is not an encryption key (RFC 7517 sections 4.2 and 4.3),
    and one whose key_ops only encrypt does not decrypt (nor the other way round)."""
    use = jwk.get("use")
    if use is not None and use != "enc":
        raise error(f"the JWK is marked use {shown(use)}, not 'enc': it is not an encryption key")
    ops = jwk.get("key_ops")
    wanted = _KEY_OPS[side]
    if ops is not None and (
        not isinstance(ops, list) or not all(isinstance(op, str) for op in ops)
    ):
        raise error(f"the JWK's key_ops must be a list of names (RFC 7517 4.3), got {shown(ops)}")
    if ops is not None and not (_KEY_OPS["encrypt"] | _KEY_OPS["decrypt"]).intersection(ops):
        raise error(f"the JWK's key_ops {shown(ops)} allow no encryption operation")
    if ops is not None and not wanted.intersection(ops):
        raise error(
            f"the JWK's key_ops {shown(ops)} do not let it {side} "
            f"(that takes one of {', '.join(sorted(wanted))})"
        )


def _ec_public(key: Any, alg: str) -> ec.EllipticCurvePublicKey:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _JWK_CURVE:
        raise ConfigurationError(f"{alg} encrypts to an EC public key on P-256, P-384 or P-521")
    return key


def _secret(key: Any, size: int, what: str, error: type[LabkitError] = ConfigurationError) -> bytes:
    if not isinstance(key, bytes | bytearray):
        raise error(f"{what} needs a {size}-byte shared key (bytes), got {type(key).__name__}")
    if len(key) != size:
        raise error(f"{what} needs a {size}-byte key, got {len(key)} bytes")
    return bytes(key)


def _password(key: Any, error: type[LabkitError] = ConfigurationError) -> bytes:
    if isinstance(key, str):
        try:
            return key.encode("utf-8")
        except UnicodeEncodeError:
            raise error("the PBES2 password is not UTF-8 text (a lone surrogate)") from None
    if not isinstance(key, bytes | bytearray) or not key:
        raise error(f"PBES2 needs a password (bytes or str), got {type(key).__name__}")
    return bytes(key)


def _oaep(spec: _Alg) -> rsa_padding.OAEP:
    assert spec.hash is not None
    return rsa_padding.OAEP(rsa_padding.MGF1(spec.hash()), spec.hash(), None)
