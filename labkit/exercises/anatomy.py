"""Exercises for notebook 01: token anatomy."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from labkit import examples, tokens
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer

# Segments of every length class (len % 4 == 0, 2, 3) and both url-safe characters.
_DECODE_CASES = ("eyJhbGciOiJIUzI1NiJ9", "-_8", "YQ", "YWI", "YWJj", "")


def _decoder(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for segment in _DECODE_CASES:
        expected = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        got = answer(segment)
        if got is None:
            return NOT_ATTEMPTED
        if got != expected:
            return f"for {segment!r} you returned {got!r}, expected {expected!r}"
    return None


def _expiry(answer: Any) -> str | None:
    exp = examples.LAB_CLAIMS["exp"]
    if isinstance(answer, dt.datetime):
        if answer.tzinfo is None:
            return "make it timezone-aware: exp counts seconds since 1970-01-01 in UTC"
        seconds = answer.timestamp()
    elif isinstance(answer, (int, float)) and not isinstance(answer, bool):
        return "that is a number; convert it to a datetime in UTC"
    else:
        return f"give a datetime, not {type(answer).__name__}"
    if seconds != exp:
        return f"{answer.isoformat()} is not when the token expires; read the exp claim"
    return None


def _role_escalation(answer: Any) -> str | None:
    forged = token_answer(answer, "new token")
    if isinstance(forged, str):
        return forged
    original = tokens.parse(examples.lab_token())
    if forged.header != original.header:
        return "keep the original header"
    if forged.signature != original.signature:
        return "keep the original signature segment"
    if forged.payload.get("role") != "admin":
        return "the payload's role should be 'admin'"
    if {**forged.payload, "role": "reader"} != original.payload:
        return "change only the role claim"
    return None


EXERCISES = (
    Exercise(
        id="01.1",
        title="Decode base64url by hand",
        verify=_decoder,
        hints=(
            "base64.urlsafe_b64decode does the alphabet; what is missing is the padding.",
            "Add '=' until the length is a multiple of 4: '=' * (-len(segment) % 4).",
        ),
        solution="""\
import base64


def my_b64url_decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded)


answer = my_b64url_decode""",
        starter="""\
def my_b64url_decode(segment: str) -> bytes:
    ...  # your code here


answer = my_b64url_decode""",
        success="Padding is redundant: the length alone says how many bytes the last group holds.",
    ),
    Exercise(
        id="01.2",
        title="When does it expire?",
        verify=_expiry,
        hints=(
            "Parse the token and read payload['exp']: seconds since 1970-01-01T00:00:00Z.",
            "datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)",
        ),
        solution="""\
import datetime as dt

claims = labkit.parse(alice_token).payload
answer = dt.datetime.fromtimestamp(claims["exp"], tz=dt.timezone.utc)""",
        starter="answer = ...",
        success="exp, nbf and iat are NumericDates: seconds since the epoch, always UTC.",
    ),
    Exercise(
        id="01.3",
        title="Promote yourself (and see it fail)",
        verify=_role_escalation,
        hints=(
            "Split alice_token on '.', then rebuild only the middle segment.",
            "labkit.b64url_encode(json.dumps(claims, separators=(',', ':'))) gives a segment.",
        ),
        solution='''\
import json

head, body, sig = alice_token.split(".")
claims = labkit.parse(alice_token).payload
claims["role"] = "admin"
new_body = labkit.b64url_encode(json.dumps(claims, separators=(",", ":")))
answer = f"{head}.{new_body}.{sig}"''',
        starter="answer = ...",
        success="It decodes perfectly, and it is a forgery: only the signature check can tell.",
    ),
)
