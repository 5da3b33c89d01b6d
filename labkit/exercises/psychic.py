"""Exercises for notebook 08: psychic signatures (CVE-2022-21449).

Each check holds the answer to what the lesson proves about it: 08.1's forgery
passes the vulnerable verifier, is refused by ``labkit.verify`` and says exactly
what was asked; 08.2's range check is probed at every edge (0, 1, n - 1, n, the
field prime p, negatives, 2**256); 08.3's signature must verify for any message
under any key without the range check, and be refused with it; 08.4's deny-list key
must be the same for a token and its (r, n - s) twin, read only from a verified token,
and never silently missing.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from labkit import algorithms, ecdsa, examples, keys, vulnerable
from labkit.attacks import malleability, psychic
from labkit.errors import InvalidTokenError, LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer
from labkit.verify import verify

__all__ = ["EXERCISES"]

_NOW = 1767259800  # 2026-01-01T09:30:00Z: the frozen clock of notebooks 07 and 08
_API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": _NOW}
_MESSAGES = (b"", b"eyJhbGciOiJFUzI1NiJ9.e30", b"any message at all")
_WANTED = {**examples.LAB_CLAIMS, "sub": "mallory", "role": "admin"}


def _mallory_admin(answer: Any) -> str | None:
    forged = token_answer(answer, "forged token")
    if isinstance(forged, str):
        return forged
    if forged.header.get("alg") != "ES256":
        return "the header must say alg ES256: that is what the service verifies"
    problem = _claims_problem(forged.payload)
    if problem:
        return problem
    public = keys.demo_public_key("p256")
    try:
        vulnerable.ecdsa_without_range_check(answer, public, algorithms=["ES256"], **_API)
    except LabkitError as exc:
        return f"the vulnerable service refused it: {exc}"
    try:
        verify(answer, public, algorithms=["ES256"], **_API)
    except LabkitError:
        return None  # proven twice: the vulnerable verifier accepts it, labkit.verify does not
    return (
        "labkit.verify accepts it too, so it carries a real signature made with the IdP's "
        "private key: that is signing, not forging. Forge it without any key"
    )


def _claims_problem(payload: dict[str, Any]) -> str | None:
    """What differs between the forged claims and Alice's with only sub and role changed."""
    if payload.get("sub") != "mallory" or payload.get("role") != "admin":
        return "the claims should say sub 'mallory' and role 'admin' (exactly, lower case)"
    extra = sorted(set(payload) - set(_WANTED))
    if extra:
        return f"the claims add {extra[0]!r}, which Alice's have not: change sub and role only"
    for name, value in _WANTED.items():
        if name not in payload:
            return f"the claims lost {name!r}: keep Alice's other claims, change sub and role only"
        if payload[name] != value:
            return f"{name!r} is {payload[name]!r}, not Alice's {value!r}: change sub and role only"
    return None


# (r, s, expected, why): every edge of 1 .. n-1, and the bounds people confuse it with.
_N, _P = ecdsa.N, ecdsa.P
_RANGE_CASES = (
    (1, 1, True, "1 is the smallest value allowed"),
    (_N - 1, _N - 1, True, "n - 1 is the largest value allowed"),
    (12345, _N - 2, True, "both are inside 1 .. n-1"),
    (0, 0, False, "r = s = 0 is the psychic signature itself"),
    (0, 5, False, "r = 0 is outside 1 .. n-1"),
    (5, 0, False, "s = 0 is outside 1 .. n-1"),
    (_N, 1, False, "r = n is outside 1 .. n-1: the bound is the group order n, not p or 2**256"),
    (1, _N, False, "s = n is 0 mod n (exercise 08.3): the bound is the group order n, not p"),
    (_N + 1, 1, False, "r = n + 1 is outside 1 .. n-1 even though it is 1 mod n"),
    (1, _N + 5, False, "the bound is the group order n, not the field prime p: n < s < p"),
    (_P - 1, 1, False, "the bound is the group order n, not the field prime p: r = p - 1"),
    (-1, 1, False, "a negative r is outside 1 .. n-1"),
    (1, -(_N - 1), False, "a negative s is outside 1 .. n-1 (even if it is 1 mod n)"),
    (2**256 - 1, 2**256 - 1, False, "32 bytes of 0xff: fitting in 32 bytes is not the check"),
)
_SHOWN = {0: "0", _N: "n", _N - 1: "n - 1", _N - 2: "n - 2", _N + 1: "n + 1", _N + 5: "n + 5"}
_SHOWN |= {_P - 1: "p - 1", -1: "-1", -(_N - 1): "-(n - 1)", 2**256 - 1: "2**256 - 1"}


def _random_range_cases() -> list[tuple[int, int, bool, str]]:
    """Fresh values each run, so a function that only knows the fixed cases fails."""
    inside = [(1 + secrets.randbelow(_N - 1), 1 + secrets.randbelow(_N - 1)) for _ in range(4)]
    above = [(_N + secrets.randbelow(2**256 - _N), 1 + secrets.randbelow(_N - 1)) for _ in range(2)]
    cases = [(r, s, True, "both are inside 1 .. n-1") for r, s in inside]
    cases += [(r, s, False, "r is at least n: outside 1 .. n-1") for r, s in above]
    cases += [(s, r, False, "s is at least n: outside 1 .. n-1") for r, s in above]
    return cases


def _range_check(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for r, s, expected, why in (*_RANGE_CASES, *_random_range_cases()):
        got = answer(r, s)
        if got is None:
            return NOT_ATTEMPTED
        if bool(got) != expected:
            call = f"in_range({_SHOWN.get(r, r)}, {_SHOWN.get(s, s)})"
            return f"{call} returned {got!r}, expected {expected}: {why}"
    return None


def _another_psychic(answer: Any) -> str | None:
    if not isinstance(answer, (bytes, bytearray)):
        return f"give the signature as bytes, not {type(answer).__name__}"
    signature = bytes(answer)
    if len(signature) != 64:
        return f"an ES256 signature is 64 bytes (r || s, 32 each, big-endian), not {len(signature)}"
    if signature == bytes(64):
        return "that is the one from the notebook (r = s = 0); find another"
    r = int.from_bytes(signature[:32], "big")
    other = ec.derive_private_key(7, ec.SECP256R1()).public_key()  # any key: the forgery needs none
    for key in (keys.demo_public_key("p256"), other):
        assert isinstance(key, ec.EllipticCurvePublicKey)
        for message in _MESSAGES:
            if not ecdsa.verify(message, signature, key, range_check=False):
                if r != 0:
                    return "v = x mod n is at most n - 1, and x is 0: r must come out as 0"
                digest = hashlib.sha256(message).hexdigest()[:12]
                return f"it failed for a message whose SHA-256 starts {digest}: w must be 0"
            if ecdsa.verify(message, signature, key):
                return "the range check accepts it: that is a real signature, not a psychic one"
    return None


def _revocation_key(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    key = keys.demo_private_key("p256")
    base = {**examples.LAB_CLAIMS, "jti": "a1"}

    def sign(claims: dict[str, Any]) -> str:
        return algorithms.sign_token(claims, key, "ES256")

    first = sign(base)
    cases = [
        ("its (r, n - s) twin", malleability.malleate(first).token, True),
        ("the same claims signed again", sign(base), True),
        ("a later token the IdP gave the same jti", sign({**base, "iat": base["iat"] + 60}), True),
        ("a token with another jti", sign({**base, "jti": "b2"}), False),
    ]
    got = answer(first)
    if got is None:
        return NOT_ATTEMPTED
    try:
        hash(got)
    except TypeError:
        return f"a deny-list key must be hashable (a str such as the jti), not {type(got).__name__}"
    for what, other, same in cases:
        if (answer(other) == got) != same:
            if same:
                return f"{what} got another key: key the deny-list on the verified jti"
            return f"{what} got the same key: one revoked token would revoke others"
    refused = [
        ("a psychic forgery carrying jti 'a1'", psychic.forge(base).token),
        ("a token without jti", sign(examples.LAB_CLAIMS)),
    ]
    for what, token in refused:
        try:
            value = answer(token)
        except InvalidTokenError:
            continue
        except Exception as exc:
            return (
                f"for {what} your function raised {type(exc).__name__}: raise a "
                "labkit.InvalidTokenError, as labkit.verify does"
            )
        if what.startswith("a psychic"):
            return f"you returned {value!r} for {what}: verify the token before reading its jti"
        return f"you returned {value!r} for {what}: refuse it, or every such token shares a key"
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
    Exercise(
        id="08.4",
        title="A deny-list twins cannot walk past",
        verify=_revocation_key,
        hints=(
            "What is the same in a token and its twin, and different in every other token? "
            "Read it only from a token that verified.",
            "labkit.verify(token, idp_public, algorithms=['ES256'], required=('exp', 'jti'), "
            "**API)['jti']: required makes a token without jti an error.",
        ),
        solution="""\
def revocation_key(token: str) -> str:
    claims = labkit.verify(
        token, idp_public, algorithms=["ES256"], required=("exp", "jti"), **API
    )
    return claims["jti"]


answer = revocation_key""",
        starter="""\
def revocation_key(token: str) -> str:
    ...  # verify the token, then return what the deny-list should store


answer = revocation_key""",
        success="Twins share a jti, forgeries never get that far: that is the key to store.",
    ),
)
