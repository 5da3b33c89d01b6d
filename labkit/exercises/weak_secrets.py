"""Exercises for notebook 05: weak secrets."""

from __future__ import annotations

import math
from typing import Any

from labkit import algorithms, tokens
from labkit.attacks.crack import Target
from labkit.errors import LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer

__all__ = ["EXERCISES", "GPU_RATE", "MANGLED_TOKEN"]

# Carol's token, signed with a secret that passes a typical password policy (upper case, a
# symbol, digits, 10 characters) and still falls to the bundled wordlist with rules.
MANGLED_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJpc3MiOiJodHRwczovL2lkcC5sYWJraXQubG9jYWwiLCJzdWIiOiJjYXJvbCIsImF1ZCI6ImxhYmtpdC1hcGkiLCJy"
    "b2xlIjoicmVhZGVyIiwiaWF0IjoxNzY3MjU4MDAwLCJleHAiOjE3NjcyNjE2MDB9"
    ".pSV-olA6ZD8nVvIR1fN96brWoQ8crffRLOOAg4XZm0g"
)
_MANGLED_SECRET = b"Dr@g0n2025"  # kept for checking 05.2; finding it is exercise 05.1

GPU_RATE = 10**10
"""Guesses per second assumed for exercise 05.3: a round number for a rig of GPUs."""

_YEAR = 365.25 * 24 * 3600


def _cracked(answer: Any) -> str | None:
    if not isinstance(answer, (str, bytes)):
        return f"give the secret as a str or bytes, not {type(answer).__name__}"
    if Target.from_token(MANGLED_TOKEN).matches(answer):
        return None
    if answer in ("dragon", b"dragon"):
        return "that is the word it was built from; the rules turn it into the real secret"
    return f"{answer!r} does not produce the token's signature; did you pass rules=True?"


def _forged(answer: Any) -> str | None:
    forged = token_answer(answer, "new token")
    if isinstance(forged, str):
        return forged
    original = tokens.parse(MANGLED_TOKEN)
    if forged.header.get("alg") != "HS256":
        return "sign it with HS256, like the original"
    if forged.payload.get("role") != "admin":
        return "the payload's role should be 'admin'"
    if {**forged.payload, "role": "reader"} != original.payload:
        return "keep every other claim as it was"
    try:
        valid = algorithms.verify("HS256", _MANGLED_SECRET, forged.signing_input, forged.signature)
    except LabkitError as exc:  # pragma: no cover - the header was checked above
        return str(exc)
    return None if valid else "the signature does not verify: sign with the secret you cracked"


def _years(answer: Any) -> str | None:
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return f"give a number of years, not {type(answer).__name__}"
    expected = 62**10 / 2 / GPU_RATE / _YEAR
    if math.isclose(answer, expected, rel_tol=0.02):
        return None
    if math.isclose(answer, 2 * expected, rel_tol=0.02):
        return "that is the time for the whole keyspace; on average the secret turns up halfway"
    return f"{answer:.4g} years is not it; start from 62 ** 10 possible secrets"


def _secret_maker(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    made = [answer() for _ in range(3)]
    if any(secret is None for secret in made):
        return NOT_ATTEMPTED
    for secret in made:
        if not isinstance(secret, (bytes, str)):
            return f"return bytes (or text), not {type(secret).__name__}"
        size = len(secret) if isinstance(secret, bytes) else len(secret) * 3 // 4
        if size < 32:
            return (
                f"{size} bytes of randomness is too few: HS256 needs at least 32 "
                "(RFC 7518 section 3.2)"
            )
    if len(set(made)) < len(made):
        return "it returned the same secret twice: make a fresh random one on every call"
    return None


EXERCISES = (
    Exercise(
        id="05.1",
        title="Crack a policy-compliant secret",
        verify=_cracked,
        hints=(
            "The bundled wordlist alone is not enough: switch the rules on.",
            "crack(mangled_token, rules=True) returns a result whose .secret is the answer.",
        ),
        solution="""\
found = crack(mangled_token, rules=True)
answer = found.secret""",
        starter="answer = ...",
        success="Upper case, a symbol, digits, ten characters: and a wordlist word all the same.",
    ),
    Exercise(
        id="05.2",
        title="Promote yourself, for real this time",
        verify=_forged,
        hints=(
            "Take mangled_token's claims, set role to 'admin', and sign them again.",
            "labkit.sign_token(claims, found.secret, 'HS256') signs with the cracked secret.",
        ),
        solution="""\
claims = {**labkit.parse(mangled_token).payload, "role": "admin"}
answer = labkit.sign_token(claims, found.secret, "HS256")""",
        starter="answer = ...",
        success="Unlike notebook 01's edit, this forgery carries a valid signature.",
    ),
    Exercise(
        id="05.3",
        title="How long for a random secret?",
        verify=_years,
        hints=(
            "A random 10-character secret from 62 symbols is one of 62 ** 10; "
            "on average the attacker tries half of them.",
            "Divide the guesses by GPU_RATE for seconds, then by 365.25 * 24 * 3600 for years.",
        ),
        solution="""\
guesses = 62**10 / 2
seconds = guesses / GPU_RATE
answer = seconds / (365.25 * 24 * 3600)""",
        starter="answer = ...",
        success=(
            "About 1.3 years: random, yet 10 characters are too few against offline guessing. "
            "32 random bytes would take about 10**59 years."
        ),
    ),
    Exercise(
        id="05.4",
        title="Make a real secret",
        verify=_secret_maker,
        hints=(
            "The secrets module is made for this; random is not (it is predictable).",
            "secrets.token_bytes(32) gives 32 random bytes: as long as HS256's output.",
        ),
        solution="""\
import secrets


def make_secret() -> bytes:
    return secrets.token_bytes(32)


answer = make_secret""",
        starter="""\
def make_secret() -> bytes:
    ...  # your code here


answer = make_secret""",
        success="256 random bits: no wordlist, rule or GPU will ever find it.",
    ),
)
