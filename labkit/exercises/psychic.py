"""Exercises for notebook 08: psychic signatures (CVE-2022-21449)."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from labkit import ecdsa, keys, vulnerable
from labkit.errors import LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer

__all__ = ["EXERCISES"]

_NOW = 1767259800  # 2026-01-01T09:30:00Z: the frozen clock of notebooks 07 and 08
_API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": _NOW}
_MESSAGES = (b"", b"eyJhbGciOiJFUzI1NiJ9.e30", b"any message at all")


def _mallory_admin(answer: Any) -> str | None:
    forged = token_answer(answer, "forged token")
    if isinstance(forged, str):
        return forged
    if forged.header.get("alg") != "ES256":
        return "the header must say alg ES256: that is what the service verifies"
    if forged.payload.get("sub") != "mallory" or forged.payload.get("role") != "admin":
        return "the claims should say sub 'mallory' and role 'admin'"
    try:
        vulnerable.ecdsa_without_range_check(
            answer, keys.demo_public_key("p256"), algorithms=["ES256"], **_API
        )
    except LabkitError as exc:
        return f"the vulnerable service refused it: {exc}"
    return None


def _range_check(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    n = ecdsa.N
    cases = [
        ((1, 1), True),
        ((0, 0), False),
        ((n - 1, n - 1), True),
        ((0, 5), False),
        ((5, 0), False),
        ((n, 1), False),
        ((1, n), False),
        ((n + 1, 1), False),
        ((-1, 1), False),
        ((2**256 - 1, 2**256 - 1), False),
    ]
    for (r, s), expected in cases:
        got = answer(r, s)
        if got is None:
            return NOT_ATTEMPTED
        if bool(got) != expected:
            shown = {0: "0", n: "n", n - 1: "n - 1", n + 1: "n + 1", 2**256 - 1: "2**256 - 1"}
            return (
                f"in_range({shown.get(r, r)}, {shown.get(s, s)}) returned {got!r}; "
                f"expected {expected}"
            )
    return None


def _another_psychic(answer: Any) -> str | None:
    if not isinstance(answer, bytes):
        return f"give the signature as bytes, not {type(answer).__name__}"
    if len(answer) != 64:
        return f"an ES256 signature is 64 bytes (r || s), not {len(answer)}"
    if answer == bytes(64):
        return "that is the one from the notebook; find another"
    r = int.from_bytes(answer[:32], "big")
    other = ec.derive_private_key(7, ec.SECP256R1()).public_key()  # any key: the forgery needs none
    for key in (keys.demo_public_key("p256"), other):
        assert isinstance(key, ec.EllipticCurvePublicKey)
        for message in _MESSAGES:
            if not ecdsa.verify(message, answer, key, range_check=False):
                if r != 0:
                    return "v = x mod n is at most n - 1, and x is 0: r must come out as 0"
                digest = hashlib.sha256(message).hexdigest()[:12]
                return f"it failed for a message whose SHA-256 starts {digest}: w must be 0"
    return None


EXERCISES = (
    Exercise(
        id="08.1",
        title="Forge anything",
        verify=_mallory_admin,
        hints=(
            "Without labkit.attacks.psychic: labkit.encode(header, claims, signature) puts a "
            "token together from its parts, and signs nothing.",
            "Header {'alg': 'ES256', 'typ': 'JWT'}, Alice's claims with sub and role changed, "
            "and bytes(64) as the signature.",
        ),
        solution="""\
claims = {**alice, "sub": "mallory", "role": "admin"}
answer = labkit.encode({"alg": "ES256", "typ": "JWT"}, claims, bytes(64))""",
        starter="answer = ...",
        success="No key, no earlier token, no computation: 64 zero bytes did it.",
    ),
    Exercise(
        id="08.2",
        title="The missing line",
        verify=_range_check,
        hints=(
            "Both numbers must be at least 1 and at most n - 1; labkit.ecdsa.N is n.",
            "Python chains comparisons: 0 < r < N and 0 < s < N.",
        ),
        solution="""\
from labkit.ecdsa import N


def in_range(r: int, s: int) -> bool:
    return 0 < r < N and 0 < s < N


answer = in_range""",
        starter="""\
from labkit.ecdsa import N


def in_range(r: int, s: int) -> bool:
    ...  # True only when r and s are both in 1 .. N-1


answer = in_range""",
        success="Two comparisons per number: the whole fix for CVE-2022-21449.",
    ),
    Exercise(
        id="08.3",
        title="Another psychic signature",
        verify=_another_psychic,
        hints=(
            "The forgery works when w = s**(n-2) mod n is 0 and r equals the x it leads to, 0. "
            "Which s other than 0 gives w = 0 and still fits in 32 bytes?",
            "Any multiple of n: s = n fits in 32 bytes (2n does not). Keep r = 0: "
            "bytes(32) + ecdsa.N.to_bytes(32, 'big').",
        ),
        solution="""\
answer = bytes(32) + ecdsa.N.to_bytes(32, "big")  # r = 0, s = n""",
        starter="answer = ...",
        success="s = n is s = 0 to arithmetic mod n: a range check on s < n refuses it too.",
    ),
)
