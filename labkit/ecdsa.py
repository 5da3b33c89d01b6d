"""ECDSA verification over P-256 written out in integers, one step per line.

``labkit.algorithms`` verifies ES256 with ``cryptography`` (OpenSSL). This
module does the same math by hand, so notebook 08 can show every step and the
one line whose absence made CVE-2022-21449 ("psychic signatures"): the check
that ``r`` and ``s`` lie in ``1 .. n-1``. ``range_check=False`` drops that line
and nothing else; ``labkit.vulnerable.ecdsa_without_range_check`` is built on it.

Teaching code: readable, not constant-time. ``cryptography`` only reads key
material (the public point) and, in ``sign``, makes deterministic signatures
to take apart; never use this module to verify real tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from labkit.errors import MalformedTokenError, UnsafeKeyError

__all__ = ["B", "G", "N", "P", "Steps", "scalar_mult", "sign", "verify", "verify_steps"]

# P-256 (secp256r1) domain parameters: FIPS 186-4 D.1.2.3 / SEC 2 2.4.2.
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
"""The field prime: coordinates are integers mod P."""
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
"""The curve is y^2 = x^3 - 3x + B (mod P)."""
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""The group order: a signature's r and s must lie in 1 .. N-1."""
G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
"""The base point."""

Point = tuple[int, int, int]  # Jacobian (X, Y, Z): x = X/Z^2, y = Y/Z^3; Z = 0 is infinity
_INFINITY: Point = (1, 1, 0)
_SIZE = 32  # bytes in r, s and coordinates


@dataclass(frozen=True)
class Steps:
    """Every intermediate value of one verification, for showing and testing.

    ``x`` is the x coordinate of ``u1*G + u2*Q``. The point at infinity has no
    x; converted to affine coordinates like any other point (a division by
    ``Z = 0`` done as a multiplication by ``0**(P-2) = 0``) it comes out as 0,
    exactly as in Java's implementation.
    """

    e: int
    r: int
    s: int
    in_range: bool
    range_checked: bool
    w: int | None  # None from here on: refused by the range check before any arithmetic
    u1: int | None
    u2: int | None
    x: int | None
    v: int | None
    valid: bool


def verify_steps(
    data: bytes,
    signature: bytes,
    public_key: ec.EllipticCurvePublicKey,
    *,
    range_check: bool = True,
) -> Steps:
    """Verify an ES256 signature (``r || s``, 64 bytes) of ``data``, keeping every step.

    With ``range_check=False`` a signature with r or s outside 1 .. N-1 goes on
    through the math instead of being refused: then r = s = 0 makes w, u1 and
    u2 zero, the sum the point at infinity, its x 0, and 0 == r.
    """
    q = _public_point(public_key)
    if not isinstance(signature, bytes) or len(signature) != 2 * _SIZE:
        raise MalformedTokenError("an ES256 signature is 64 bytes: r || s")
    r = int.from_bytes(signature[:_SIZE], "big")
    s = int.from_bytes(signature[_SIZE:], "big")
    e = int.from_bytes(hashlib.sha256(data).digest(), "big")  # 256-bit hash, 256-bit N: no cut
    in_range = 0 < r < N and 0 < s < N
    if range_check and not in_range:
        return Steps(e, r, s, False, True, None, None, None, None, None, False)
    w = pow(s, N - 2, N)  # s^-1 by Fermat's little theorem (gives 0 for s = 0)
    u1 = e * w % N
    u2 = r * w % N
    x = _affine_x(_add(scalar_mult(u1, _jacobian(G)), scalar_mult(u2, _jacobian(q))))
    v = x % N
    return Steps(e, r, s, in_range, range_check, w, u1, u2, x, v, v == r)


def verify(
    data: bytes,
    signature: bytes,
    public_key: ec.EllipticCurvePublicKey,
    *,
    range_check: bool = True,
) -> bool:
    """True if ``signature`` verifies; see ``verify_steps``."""
    return verify_steps(data, signature, public_key, range_check=range_check).valid


def sign(data: bytes, private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """An ES256 signature (``r || s``) with a deterministic nonce (RFC 6979), by ``cryptography``.

    ES256 signatures are normally randomized; a deterministic one is just as
    valid and the same on every run, so notebook 08 can print its r and s.
    """
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != (
        "secp256r1"
    ):
        raise UnsafeKeyError("ES256 signing needs an EC private key on P-256")
    der = private_key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return r.to_bytes(_SIZE, "big") + s.to_bytes(_SIZE, "big")


def scalar_mult(k: int, point: Point) -> Point:
    """``k * point`` by double-and-add (left to right)."""
    result = _INFINITY
    for bit in bin(k)[2:] if k > 0 else "":
        result = _double(result)
        if bit == "1":
            result = _add(result, point)
    return result


def _public_point(key: object) -> tuple[int, int]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise UnsafeKeyError("ES256 needs an EC public key on P-256")
    numbers = key.public_numbers()  # cryptography has checked the point is on the curve
    return numbers.x, numbers.y


def _jacobian(point: tuple[int, int]) -> Point:
    return point[0], point[1], 1


def _affine_x(point: Point) -> int:
    x, _, z = point
    z_inv = pow(z, P - 2, P)  # 1/Z, or 0 when Z = 0 (infinity): no special case, as in Java
    return x * z_inv * z_inv % P


def _double(point: Point) -> Point:
    x, y, z = point
    if z == 0 or y == 0:
        return _INFINITY
    # dbl-2001-b for a = -3 (Bernstein-Lange Explicit-Formulas Database).
    delta = z * z % P
    gamma = y * y % P
    beta = x * gamma % P
    alpha = 3 * (x - delta) * (x + delta) % P
    x3 = (alpha * alpha - 8 * beta) % P
    z3 = ((y + z) ** 2 - gamma - delta) % P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % P
    return x3, y3, z3


def _add(p1: Point, p2: Point) -> Point:
    if p1[2] == 0:
        return p2
    if p2[2] == 0:
        return p1
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    z1z1, z2z2 = z1 * z1 % P, z2 * z2 % P
    u1, u2 = x1 * z2z2 % P, x2 * z1z1 % P
    s1, s2 = y1 * z2 * z2z2 % P, y2 * z1 * z1z1 % P
    if u1 == u2:
        return _double(p1) if s1 == s2 else _INFINITY
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    y3 = (r * (v - x3) - s1 * hhh) % P
    z3 = z1 * z2 * h % P
    return x3, y3, z3
