"""Exercises for notebook 05: weak secrets."""

from __future__ import annotations

import math
from typing import Any

from labkit import algorithms, tokens
from labkit.attacks.crack import Target
from labkit.errors import LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise, _probes, token_answer
from labkit.exercises._probes import is_starter

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


def _cracked(answer: Any) -> str | None:
    if isinstance(answer, (bytearray, memoryview)):
        answer = bytes(answer)
    if not isinstance(answer, (str, bytes)):
        return f"give the secret as a str or bytes, not {type(answer).__name__}"
    target = Target.from_token(MANGLED_TOKEN)
    if target.matches(answer):
        return None
    raw = answer.encode("utf-8", "surrogateescape") if isinstance(answer, str) else answer
    if raw != raw.strip() and target.matches(raw.strip()):
        return f"{answer!r} has stray whitespace or a line end (read from a file?): strip it"
    if raw.lower() == b"dragon":
        return "that is the word it was built from; the rules turn it into the real secret"
    if raw.lower() == _MANGLED_SECRET.lower():
        return f"{answer!r} has the right letters in the wrong case: the secret is case-sensitive"
    return f"{answer!r} does not produce the token's signature; did you pass rules=True?"


def _forged(answer: Any) -> str | None:
    forged = token_answer(answer, "new token")
    if isinstance(forged, str):
        return forged
    original = tokens.parse(MANGLED_TOKEN)
    if forged.header.get("alg") != "HS256":
        return f"sign it with HS256, like the original, not {forged.header.get('alg')!r}"
    if forged.payload.get("role") != "admin":
        return "the payload's role should be 'admin'"
    if {**forged.payload, "role": "reader"} != original.payload:
        changed = sorted(
            name
            for name in {*forged.payload, *original.payload} - {"role"}
            if forged.payload.get(name) != original.payload.get(name)
        )
        return f"keep every other claim as it was (you changed {', '.join(changed)})"
    if not forged.signature:
        return "the signature is empty: sign the new header.payload with the cracked secret"
    try:
        valid = algorithms.verify("HS256", _MANGLED_SECRET, forged.signing_input, forged.signature)
    except LabkitError as exc:  # pragma: no cover - the header was checked above
        return str(exc)
    return None if valid else "the signature does not verify: sign with the secret you cracked"


_YEAR = 365.25 * 24 * 3600
_TOLERANCE = 0.05  # so 1.3, the figure rounded to two digits, counts


def _expected_years() -> float:
    return 62**10 / 2 / GPU_RATE / _YEAR


# Answers a learner reaches by one slip, and what to tell them.
_SLIPS: tuple[tuple[float, str], ...] = (
    (
        62**10 / GPU_RATE / _YEAR,
        "that is the whole keyspace; on average the secret turns up halfway",
    ),
    (62**10 / 2 / GPU_RATE, "that is in seconds: divide by 365.25 * 24 * 3600 for years"),
    (62**10 / GPU_RATE, "that is the whole keyspace, in seconds: halve it, then convert to years"),
    (62**10 / 2 / GPU_RATE / 86400, "that is in days: divide by 365.25 as well"),
    (62**10 / 2 / GPU_RATE / 3600, "that is in hours: divide by 24 * 365.25 as well"),
    (62**10 / 2 / GPU_RATE / 60, "that is in minutes: divide by 60 * 24 * 365.25 as well"),
    (26**10 / 2 / GPU_RATE / _YEAR, "that is for 26 lower-case letters; the alphabet has 62"),
    (
        36**10 / 2 / GPU_RATE / _YEAR,
        "that is for 36 symbols; letters of both cases and digits are 62",
    ),
    (95**10 / 2 / GPU_RATE / _YEAR, "that is for 95 printable characters; the alphabet has 62"),
    (
        10**62 / 2 / GPU_RATE / _YEAR,
        "that is 10 ** 62; the count is 62 ** 10 (62 symbols, 10 places)",
    ),
    (2**62 / 2 / GPU_RATE / _YEAR, "that is 2 ** 62; the count is 62 ** 10"),
    (62 * 10 / 2 / GPU_RATE / _YEAR, "62 * 10 is not the count of secrets: it is 62 ** 10"),
)


def _years(answer: Any) -> str | None:
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return f"give a number of years, not {type(answer).__name__}"
    if not math.isfinite(answer) or answer <= 0:
        return f"{answer} is not a duration: give a positive, finite number of years"
    if math.isclose(answer, _expected_years(), rel_tol=_TOLERANCE):
        return None
    for value, slip in _SLIPS:
        if math.isclose(answer, value, rel_tol=_TOLERANCE):
            return slip
    return f"{answer:.4g} years is not it; start from 62 ** 10 possible secrets"


_SECRET_STARTER = """\
def make_secret() -> bytes:
    ...  # your code here


answer = make_secret"""

_NEEDED_BYTES = 32  # RFC 7518 section 3.2: an HS256 key at least as long as the hash output
_NEEDED_BITS = 8 * _NEEDED_BYTES
_PROBED_BYTES = 96  # how many of the drawn bytes are tested, bit by bit, for influence, at most
_REPEAT = 8  # a window this long seen twice in one secret: random output never repeats so
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=")
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


def _capacity_bits(secret: bytes | str) -> float:
    """How many bits the value can hold, by its alphabet: digits, hex, base64, text or bytes.

    Bytes are judged by their values too: 32 bytes that are all hex digits (a
    ``hexdigest()[:32].encode()``) hold 128 bits, not 256.
    """
    chars = set(secret.decode("latin-1") if isinstance(secret, bytes) else secret)
    for alphabet, bits in (
        (_DIGITS, math.log2(10)),
        (_HEX, 4.0),
        (_B64, 6.0),
        (_PRINTABLE, math.log2(95)),
    ):
        if chars <= alphabet:
            return bits * len(secret)
    return (8.0 if isinstance(secret, bytes) else math.log2(95)) * len(secret)


def _repeats(secret: bytes | str) -> bool:
    """True if some stretch of ``_REPEAT`` bytes or characters occurs twice (``half * 2``)."""
    windows = [secret[i : i + _REPEAT] for i in range(len(secret) - _REPEAT + 1)]
    return len(set(windows)) < len(windows)


def _secret_maker(answer: Any) -> str | None:
    """Prove the secret comes from the OS CSPRNG, 256 bits of it, fresh on every call.

    The function runs under a rigged CSPRNG (``_probes.rigged``): a deterministic
    stream, clocks stopped, ``random`` seeded. It must draw at least 32 bytes from
    that stream, give the same secret for the same stream (so nothing else feeds
    it: no clock, counter or Mersenne Twister), and change when any one of at
    least 256 of the drawn bits flips (so hashing, masking or truncating did not
    throw the randomness away). Its output must be able to hold 256 bits (by
    length and alphabet) and must not repeat itself. Unrigged, it must give a new
    secret on every call, also with the clocks stopped and ``random`` seeded alike
    (so it does not fall back to them when the CSPRNG is not watched). Every step
    but the unrigged calls is deterministic, so each mistake gets one message.
    """
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    if is_starter(answer, _SECRET_STARTER):
        return NOT_ATTEMPTED
    made = []
    for _ in range(4):
        secret = answer()
        if secret is None:
            return "your function returned None: return the new secret"
        if isinstance(secret, (bytearray, memoryview)):
            secret = bytes(secret)
        if not isinstance(secret, (bytes, str)):
            return f"return bytes (or text), not {type(secret).__name__}"
        made.append(secret)
    if len(set(made)) == 1:
        return "it returned the same secret twice: make a fresh random one on every call"
    namespace = getattr(answer, "__globals__", None)
    seed = b"labkit 05.4 rigged CSPRNG"
    baseline, drawn = _rigged_call(answer, _probes.Stream(seed), namespace)
    if drawn == 0:
        return (
            "it drew no bytes from the operating system's CSPRNG (os.urandom, secrets): "
            "random, a clock or a counter is predictable, hashed or not"
        )
    if drawn < _NEEDED_BYTES:
        return (
            f"it drew only {drawn} random byte{'s' if drawn > 1 else ''} ({8 * drawn} bits) "
            f"from the CSPRNG; HS256 needs {_NEEDED_BYTES} (256 bits), padded or hashed or not"
        )
    again, _ = _rigged_call(answer, _probes.Stream(seed), namespace)
    if again != baseline:
        return (
            "with the same CSPRNG bytes it made a different secret: something else feeds it "
            "(a clock, a counter, random); use the CSPRNG's bytes alone"
        )
    if len(set(made)) < len(made):
        return "it returned the same secret twice: make a fresh random one on every call"
    bits = min(map(_capacity_bits, made))
    if bits < _NEEDED_BITS:
        return (
            f"the secret can hold only {bits:.0f} bits (by its length and its alphabet); HS256 "
            "needs 256, i.e. 32 random bytes (RFC 7518 section 3.2)"
        )
    unwatched = [_rigged_call(answer, None, namespace)[0] for _ in range(2)]
    if unwatched[0] == unwatched[1]:
        return (
            "with the clocks stopped and random seeded alike it made the same secret twice: "
            "it comes from random or a clock, not from the operating system's CSPRNG"
        )
    influential = 0
    for bit in range(8 * min(drawn, _PROBED_BYTES)):
        flipped, _ = _rigged_call(answer, _probes.Stream(seed, flip_bit=bit), namespace)
        influential += flipped != baseline
        if influential >= _NEEDED_BITS:
            break
    else:
        return (
            f"only {influential} of the {8 * drawn} random bits it drew change the secret: the "
            "rest are thrown away (a slice, a mask such as b % 2 or b & 0x7f, or a hash of a "
            f"part); HS256 needs {_NEEDED_BITS}"
        )
    if any(map(_repeats, made)):
        return "the secret repeats itself (a part used twice): it holds fewer random bits"
    return None


def _rigged_call(
    answer: Any, stream: _probes.Stream | None, namespace: dict[str, Any] | None
) -> tuple[Any, int]:
    with _probes.rigged(stream, namespace):
        secret = answer()
    return secret, 0 if stream is None else stream.drawn


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
            "labkit.sign_token(claims, secret, 'HS256'), with the secret you cracked in 05.1 "
            "(crack(mangled_token, rules=True).secret).",
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
            "About 1.33 years: random, yet 10 characters are too few against offline guessing. "
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
        starter=_SECRET_STARTER,
        success="256 random bits: no wordlist, rule or GPU will ever find it.",
    ),
)
