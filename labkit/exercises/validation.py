"""Exercises for notebook 03: claims and validation."""

from __future__ import annotations

import math
import secrets
import unicodedata
from collections.abc import Collection
from typing import Any

from labkit import algorithms, examples, keys
from labkit.claims import check_times
from labkit.errors import ConfigurationError, InvalidClaimError, InvalidTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise
from labkit.verify import verify

T0 = examples.LAB_CLAIMS["iat"]  # 2026-01-01T09:00:00Z, when Alice's token was issued
NOW = T0 + 30 * 60  # the notebook's frozen clock, 09:30
TRUSTED = "https://idp.labkit.local"

# (claims, now, leeway): every boundary of exp, nbf and iat, with and without leeway.
_TIME_CASES: tuple[tuple[dict[str, int], int, int], ...] = (
    ({"exp": T0 + 300}, T0 + 299, 0),
    ({"exp": T0 + 300}, T0 + 300, 0),
    ({"exp": T0 + 300}, T0 + 320, 30),
    ({"exp": T0 + 300}, T0 + 330, 30),
    ({"nbf": T0 + 60}, T0 + 59, 0),
    ({"nbf": T0 + 60}, T0 + 60, 0),
    ({"nbf": T0 + 60}, T0 + 40, 30),
    ({"iat": T0}, T0 - 1, 0),
    ({"iat": T0}, T0 - 30, 30),
    ({"iat": T0, "nbf": T0 + 60, "exp": T0 + 300}, T0 + 120, 0),
    ({"iat": T0, "nbf": T0 + 60, "exp": T0 + 300}, T0 + 30, 0),
    ({"exp": T0 + 300.5}, T0 + 300, 0),
    ({"exp": T0 + 300, "nbf": T0 + 400}, T0 + 200, 0),
    ({}, T0, 0),
    # A NumericDate is a number (RFC 7519 section 2): a string or a bool is no time at all.
    ({"exp": str(T0 + 300)}, T0, 0),
    ({"exp": True}, T0, 0),
    ({"nbf": True}, T0, 0),  # True == 1 in Python: a bool nbf would be 1970, always passed
    ({"iat": True}, T0, 0),
    ({"nbf": "0"}, T0, 0),
    # Nor is NaN or Infinity: JSON has no such numbers (RFC 8259 section 6), but Python's json
    # reads them, and an exp of Infinity never passes, a NaN compares false to every time.
    ({"exp": float("inf")}, T0, 0),
    ({"exp": float("nan")}, T0, 0),
    ({"nbf": float("-inf")}, T0, 0),
    ({"iat": float("nan")}, T0, 0),
)

# (iss, trusted, expected): exact matches only. Every other case is an attacker's near miss:
# prefixes, suffixes, substrings and superstrings, case and whitespace, lists and other types.
_ISSUER_CASES: tuple[tuple[object, object, bool], ...] = (
    (TRUSTED, TRUSTED, True),
    ("", TRUSTED, False),
    ("idp.labkit", TRUSTED, False),
    ("https://idp.labkit.loc", TRUSTED, False),
    ("https://idp.labkit.local.evil.example", TRUSTED, False),
    ("https://idp.labkit.local/", TRUSTED, False),
    ("evil-https://idp.labkit.local", TRUSTED, False),
    ("https://IDP.labkit.local", TRUSTED, False),
    (" https://idp.labkit.local", TRUSTED, False),
    ([TRUSTED], TRUSTED, False),
    ({TRUSTED: TRUSTED}, TRUSTED, False),
    (TRUSTED.encode(), TRUSTED, False),
    (None, TRUSTED, False),
    ("https://b.example", ["https://a.example", "https://b.example"], True),
    ("https://b.example", ("https://a.example", "https://b.example"), True),
    ("https://a.example", ["https://a.example.evil"], False),
    ("https://a.example.evil", ["https://a.example"], False),
    ("https://evil.example/https://a.example", ["https://a.example"], False),
    ("a.example", ["https://a.example"], False),
    ("https://a.example", ["https://b.example", "https://a.example"[:-1]], False),
    (["https://a.example"], ["https://a.example"], False),
    ("https://a.example", [], False),
    # Trailing whitespace, Unicode and case-mapping look-alikes, another scheme, regex dots.
    (TRUSTED + " ", TRUSTED, False),
    (TRUSTED + "\n", TRUSTED, False),
    ("ｈｔｔｐｓ://idp.labkit.local", TRUSTED, False),  # fullwidth: TRUSTED after NFKC
    ("https://idp.labkıt.local", TRUSTED, False),  # dotless ı: TRUSTED after upper()
    ("http://idp.labkit.local", TRUSTED, False),
    ("https://idpXlabkit.local", TRUSTED, False),  # what an unescaped regex '.' matches
)


def _fresh_issuer_cases() -> list[tuple[object, object, bool]]:
    """Issuers made up for this run, so a function that knows the fixed names fails."""
    name, other = (f"https://{secrets.token_hex(6)}.example" for _ in range(2))
    return [
        (name, name, True),
        (name, [other, name], True),
        (other, [name], False),
        (name + "x", name, False),
    ]


def _live(token_claims: dict[str, int], now: int, leeway: int) -> bool:
    """The verifier's own verdict, the reference the learner's function is held to."""
    try:
        check_times(token_claims, now=now, leeway=leeway)
    except InvalidClaimError:
        return False
    return True


def _time_window(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for token_claims, now, leeway in _TIME_CASES:
        got = answer(dict(token_claims), now, leeway)
        if got is None:
            return NOT_ATTEMPTED
        want = _live(token_claims, now, leeway)
        if got is not want:
            offsets = {name: _offset(value) for name, value in token_claims.items()}
            verdict = "live" if want else "not live"
            return (
                f"claims {offsets} at now={_offset(now)} with leeway {leeway} should be "
                f"{verdict}, you returned {got!r}"
            )
    return None


def _offset(value: object) -> object:
    """A time as T0+N for messages; anything that is no number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return value
    return f"T0{value - T0:+g}"


def _issuer(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for iss, trusted, want in (*_ISSUER_CASES, *_fresh_issuer_cases()):
        call = f"issuer_ok({iss!r}, {trusted!r})"
        try:
            got = answer(iss, list(trusted) if isinstance(trusted, list) else trusted)
        except Exception as exc:
            return f"{call} raised {type(exc).__name__}: a token's iss can be any JSON value"
        if got is None:
            return NOT_ATTEMPTED
        if got is not want:
            return f"{call} should be {want}, you returned {got!r}{_issuer_why(iss, trusted)}"
    return None


def _issuer_why(iss: object, trusted: Any) -> str:
    """What kind of near miss the case is, so the message names the bug."""
    allowed = [trusted] if isinstance(trusted, str) else list(trusted)
    if not isinstance(iss, str):
        return f": an iss that is a {type(iss).__name__}, not a str, is never trusted"
    if iss in allowed:
        return ""
    for name in allowed:
        if _folded(iss) == _folded(name):
            return (
                ": issuers are compared exactly, with no case folding, Unicode "
                "normalization or stripping"
            )
        if (iss and name.startswith(iss)) or iss.startswith(name):
            return ": that is a prefix match; compare whole strings with =="
        if iss in name or name in iss:
            return ": that is a substring match (CVE-2024-53861); compare whole strings with =="
    return ""


def _folded(text: str) -> str:
    """``text`` as every lenient comparison sees it: NFKC, one case, no outer whitespace."""
    return unicodedata.normalize("NFKC", text).upper().lower().strip()


def _token(**changes: Any) -> str:
    """Alice's claims with some changed (None removes one), signed HS256 with the demo secret."""
    claims = {**examples.LAB_CLAIMS, **changes}
    claims = {name: value for name, value in claims.items() if value is not None}
    return algorithms.sign_token(claims, keys.demo_secret(), "HS256")


def _suspects() -> list[tuple[str, str, bool]]:
    """(description, token, should pass) for the options exercise: the attacker's tokens."""
    hs512 = algorithms.sign_token(examples.LAB_CLAIMS, keys.demo_secret(), "HS512")
    return [
        ("Alice's token at the frozen clock", examples.lab_token(), True),
        ("a token that expired 20 s before the clock", _token(exp=NOW - 20), True),
        ("a token for audiences ['labkit-api', 'x']", _token(aud=["labkit-api", "x"]), True),
        ("a token that expired 31 s before the clock", _token(exp=NOW - 31), False),
        ("a token that expired 40 s before the clock", _token(exp=NOW - 40), False),
        ("a token without 'exp' (it never expires)", _token(exp=None), False),
        ("a token not valid for another 60 s (nbf)", _token(nbf=NOW + 60), False),
        ("a token issued 2 h in the future (iat)", _token(iat=NOW + 7200), False),
        ("a token for audience 'labkit-billing'", _token(aud="labkit-billing"), False),
        ("a token for audience 'labkit-api-admin'", _token(aud="labkit-api-admin"), False),
        ("a token without 'aud'", _token(aud=None), False),
        ("a token from issuer 'https://idp.labkit'", _token(iss="https://idp.labkit"), False),
        ("a token from issuer 'https://evil.example'", _token(iss="https://evil.example"), False),
        ("a token without 'sub'", _token(sub=None), False),
        ("a token signed with HS512", hs512, False),
    ]


def _options(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"give the keyword arguments as a dict, not {type(answer).__name__}"
    if "now" not in answer:
        return "pass now=NOW: the notebook's tokens live on its frozen clock"
    problem = _static_options(answer)
    if problem:
        return problem
    for description, token, should_pass in _suspects():
        try:
            verify(token, keys.demo_secret(), **answer)
        except TypeError as exc:
            return f"labkit.verify does not take those arguments: {exc}"
        except ConfigurationError as exc:
            return f"labkit.verify refuses those options: {exc}"
        except InvalidTokenError as exc:
            if should_pass:
                return f"{description} was refused ({exc.message}), but it should pass"
            continue
        if not should_pass:
            return f"{description} was accepted: which option refuses it?"
    return None


def _static_options(answer: dict[str, Any]) -> str | None:
    """What no test token can show: extra algorithms, issuers or audiences, exp dropped."""
    algs = answer.get("algorithms")
    if _many(algs) and set(algs) != {"HS256"}:
        extra = sorted(str(alg) for alg in set(algs) - {"HS256"})
        if extra:
            return (
                f"algorithms allows {', '.join(extra)} besides HS256: the service signs HS256 "
                "only, and every extra algorithm is one more an attacker may pick (notebook 06)"
            )
    if answer.get("require_exp", True) is not True:
        return "require_exp=False drops exp: a token without exp never expires; keep exp required"
    for option, trusted in (("issuer", TRUSTED), ("audience", "labkit-api")):
        value = answer.get(option)
        if _many(value) and set(value) - {trusted}:
            extra = sorted(str(v) for v in set(value) - {trusted})
            return f"{option} also trusts {', '.join(extra)}: name only {trusted!r}"
    return None


def _many(value: object) -> bool:
    """A collection of names (a list, a set, a dict's keys...), not one string."""
    return isinstance(value, Collection) and not isinstance(value, (str, bytes))


EXERCISES = (
    Exercise(
        id="03.1",
        title="Is the token live?",
        verify=_time_window,
        hints=(
            "Three rules, each only when its claim is present: exp must be after now, "
            "nbf and iat must not be after now. The leeway widens each rule by that many seconds.",
            "exp is the first instant the token is dead: refuse when now - leeway >= exp. "
            "Refuse when nbf > now + leeway, and when iat > now + leeway. A claim that is "
            "not a finite number (a string, a bool, NaN, Infinity) is no NumericDate: not live.",
        ),
        solution="""\
import math


def is_live(claims: dict, now: float, leeway: float = 0) -> bool:
    times = [claims[name] for name in ("exp", "nbf", "iat") if name in claims]
    # a NumericDate is a JSON number: not a bool, a string, NaN or Infinity
    if not all(type(t) is int or (type(t) is float and math.isfinite(t)) for t in times):
        return False
    expired = "exp" in claims and now - leeway >= claims["exp"]
    too_early = "nbf" in claims and claims["nbf"] > now + leeway
    from_the_future = "iat" in claims and claims["iat"] > now + leeway
    return not (expired or too_early or from_the_future)


answer = is_live""",
        starter="""\
def is_live(claims: dict, now: float, leeway: float = 0) -> bool:
    ...  # your code here


answer = is_live""",
        success="That is labkit.claims.check_times; the verifier also says which rule failed.",
    ),
    Exercise(
        id="03.2",
        title="An issuer check without CVE-2024-53861",
        verify=_issuer,
        hints=(
            "A str is a sequence too: `iss in 'https://idp.labkit.local'` tests for a substring.",
            "Put a lone string into a list first, then use `in` on the list: list membership "
            "compares whole values with ==. And a token's iss must be a str at all.",
        ),
        solution="""\
def issuer_ok(iss: object, trusted: str | list[str]) -> bool:
    allowed = [trusted] if isinstance(trusted, str) else list(trusted)
    return isinstance(iss, str) and iss in allowed


answer = issuer_ok""",
        starter="""\
def issuer_ok(iss: object, trusted: str | list[str]) -> bool:
    ...  # your code here


answer = issuer_ok""",
        success="Whole-string equality, never substring: the fix PyJWT shipped in 2.10.1.",
    ),
    Exercise(
        id="03.3",
        title="Configure the verifier",
        verify=_options,
        hints=(
            "You need algorithms, audience, issuer, leeway, required and now: look at the "
            "signature of labkit.verify.",
            "algorithms=['HS256'], audience='labkit-api', issuer='https://idp.labkit.local', "
            "leeway=30, required=('sub',) (exp is always required), now=NOW.",
        ),
        solution="""\
answer = {
    "algorithms": ["HS256"],
    "audience": "labkit-api",
    "issuer": "https://idp.labkit.local",
    "leeway": 30,
    "required": ("sub",),  # in addition to exp, which labkit.verify always requires
    "now": NOW,
}""",
        starter="answer = ...",
        success="One fixed algorithm, who you are, whom you trust, a small leeway, what you need.",
    ),
)
