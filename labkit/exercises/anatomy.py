"""Exercises for notebook 01: token anatomy."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

from labkit import examples, tokens
from labkit.errors import LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer

# Segments of every length class (len % 4 == 0, 2, 3) and both url-safe characters.
_DECODE_CASES = ("eyJhbGciOiJIUzI1NiJ9", "-_8", "YQ", "YWI", "YWJj", "")
# Not base64url, each a way a lenient decoder lets one token be spelt many ways (so a forger
# can change the token's text without changing what it decodes to): (segment, what it is).
_NOT_BASE64URL = (
    ("+/8", "base64's '+' and '/' (base64url uses '-' and '_')"),
    ("YQ==", "'=' padding (JWTs omit it, RFC 7515 section 2)"),
    ("YW*Jj", "a character outside the alphabet (a lenient decoder skips it)"),
    ("YW Jj", "a space inside the segment"),
    ("YWJj\n", "a line end after the segment (a strip() or a regex '$' lets it in)"),
    ("YWI\n", "a line end after the segment (a strip() or a regex '$' lets it in)"),
    (" YWJj", "a space before the segment (a strip() lets it in)"),
    ("ＹＷＪｊ", "fullwidth letters (NFKC would fold them to 'YWJj')"),
    ("YR", "stray low bits in the last character ('YR' and 'YQ' would both be b'a')"),
    ("YWJjZ", "an impossible length (5 characters: 1 more than a multiple of 4)"),
)


def _decoder(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    fresh = tokens.b64url_encode(secrets.token_bytes(secrets.choice((29, 30, 31))))
    for segment in (*_DECODE_CASES, fresh):  # a fresh one too: no table of known answers helps
        expected = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        try:
            got = answer(segment)
        except Exception as exc:
            return (
                f"{segment!r} is valid base64url, but your code raised {type(exc).__name__}: {exc}"
            )
        if got is None:
            return NOT_ATTEMPTED
        if isinstance(got, str):
            return f"return bytes, not str: for {segment!r} you returned {got!r}"
        if got != expected:
            return f"for {segment!r} you returned {got!r}, expected {expected!r}"
    for segment, what in _NOT_BASE64URL:
        try:
            got = answer(segment)
        except (ValueError, LabkitError):  # binascii.Error is a ValueError; so is the task's
            continue
        except Exception as exc:
            return (
                f"{segment!r} is not base64url ({what}) and you raised {type(exc).__name__}: "
                "raise ValueError, as the task asks (an assert vanishes under python -O)"
            )
        return (
            f"{segment!r} is not base64url ({what}), but you decoded it to {got!r}: "
            "refuse it (raise), so each byte string has one spelling"
        )
    return None


def _expiry(answer: Any) -> str | None:
    exp = examples.LAB_CLAIMS["exp"]
    if isinstance(answer, dt.datetime):
        if answer.tzinfo is None or answer.utcoffset() is None:
            return "make it timezone-aware: exp counts seconds since 1970-01-01 in UTC"
        seconds = answer.timestamp()
    elif isinstance(answer, dt.date):
        return "give a datetime (a date has no time of day; the token expires at 10:00 UTC)"
    elif isinstance(answer, (int, float)) and not isinstance(answer, bool):
        return "that is a number; convert it to a datetime in UTC"
    elif isinstance(answer, str):
        return "that is a string; give a datetime object in UTC"
    else:
        return f"give a datetime, not {type(answer).__name__}"
    for name in ("iat", "nbf"):
        if name in examples.LAB_CLAIMS and seconds == examples.LAB_CLAIMS[name]:
            return f"{answer.isoformat()} is the {name} claim; when does it expire (exp)?"
    if seconds != exp:
        off = seconds - exp
        if off and off % 3600 == 0:
            return (
                f"{answer.isoformat()} is {off / 3600:+.0f} h off: a timezone slipped in "
                "(use tz=datetime.timezone.utc, not local time)"
            )
        return f"{answer.isoformat()} is not when the token expires; read the exp claim"
    return None


def _role_escalation(answer: Any) -> str | None:
    forged = token_answer(answer, "new token")
    if isinstance(forged, str):
        return forged
    original = tokens.parse(examples.lab_token())
    if forged.header != original.header:
        return "keep the original header (the forgery is in the payload alone)"
    if forged.signature != original.signature:
        return "keep the original signature segment"
    role = forged.payload.get("role")
    if role != "admin":
        if isinstance(role, str) and role.strip().lower() == "admin":
            return f"the role must be exactly 'admin' (an API compares it exactly), not {role!r}"
        return f"the payload's role should be the string 'admin', not {role!r}"
    if {**forged.payload, "role": "reader"} != original.payload:
        changed = sorted(set(forged.payload) ^ set(original.payload)) or sorted(
            name
            for name in original.payload
            if name != "role" and forged.payload[name] != original.payload[name]
        )
        return f"change only the role claim (you also changed {', '.join(changed)})"
    return None


EXERCISES = (
    Exercise(
        id="01.1",
        title="Decode base64url by hand",
        verify=_decoder,
        hints=(
            "base64.urlsafe_b64decode does the alphabet; what is missing is the padding. "
            "And refuse what is not base64url: Python's decoder quietly skips junk characters.",
            "Add '=' until the length is a multiple of 4: '=' * (-len(segment) % 4). Then "
            "re-encode the bytes (urlsafe_b64encode, strip '='): if that is not the segment "
            "you were given, raise ValueError.",
        ),
        solution="""\
import base64


def my_b64url_decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    data = base64.urlsafe_b64decode(padded)
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != segment:
        raise ValueError(f"{segment!r} is not canonical base64url")
    return data


answer = my_b64url_decode""",
        starter="""\
def my_b64url_decode(segment: str) -> bytes:
    ...  # your code here


answer = my_b64url_decode""",
        success=(
            "Padding is redundant: the length alone says how many bytes the last group holds. "
            "And a strict decoder gives each byte string exactly one spelling."
        ),
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
