"""Registered, public and private claims (RFC 7519 section 4), NumericDates and their checks.

The checks are the claims half of ``labkit.verify``: times (``exp``, ``nbf``,
``iat``) against an injectable clock with a leeway, ``aud`` and ``iss`` by
exact match, and required claims. Each raises one ``InvalidClaimError``
subclass naming the claim, because "invalid token" alone helps nobody debug.
Run them only on claims whose signature has been checked: on their own they
prove nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import time
from collections.abc import Collection, Mapping
from typing import Any, Literal

from labkit.errors import (
    ConfigurationError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    MissingClaimError,
    NotYetValidError,
    shown,
)

__all__ = [
    "PUBLIC",
    "REGISTERED",
    "as_datetime",
    "check",
    "check_audience",
    "check_issuer",
    "check_required",
    "check_times",
    "clock",
    "is_numeric_date",
    "kind",
]

Now = dt.datetime | float | None
"""A clock reading: an aware datetime, epoch seconds, or None for the real clock."""
Leeway = float | dt.timedelta
Names = str | Collection[str] | None

REGISTERED = {
    "iss": "issuer: who made and signed the token",
    "sub": "subject: whom the token is about (a user id)",
    "aud": "audience: which service(s) must accept it",
    "exp": "expiration time: reject at or after this NumericDate",
    "nbf": "not before: reject before this NumericDate",
    "iat": "issued at: when it was made",
    "jti": "JWT id: unique id, for revocation and replay checks",
}

# A few claims registered with IANA's "JSON Web Token Claims" registry by other specs
# (OpenID Connect, RFC 8693, RFC 9068): safe to use with their registered meaning.
PUBLIC = frozenset(
    {
        "name",
        "email",
        "email_verified",
        "given_name",
        "family_name",
        "scope",
        "client_id",
        "roles",
        "groups",
        "entitlements",
        "act",
        "cnf",
        "nonce",
        "auth_time",
        "azp",
        "sid",
    }
)


def kind(name: str) -> Literal["registered", "public", "private"]:
    """Which family a claim name belongs to."""
    if not isinstance(name, str):
        raise ConfigurationError(f"a claim name is a string, got {_kind(name)}")
    if name in REGISTERED:
        return "registered"
    if name in PUBLIC or ":" in name:  # a collision-resistant URI name is public too
        return "public"
    return "private"


def as_datetime(seconds: float) -> dt.datetime:
    """A NumericDate (seconds since 1970-01-01T00:00:00Z) as an aware UTC datetime.

    Anything else is an ``InvalidClaimError``: a string of digits (a NumericDate is
    a JSON number, RFC 7519 section 2), None, a boolean, or a number beyond the
    years 1 to 9999 that a datetime can hold.
    """
    if isinstance(seconds, numbers.Real) and not isinstance(seconds, (int, float, bool)):
        try:
            seconds = float(seconds)  # a NumPy number, a Fraction: plots pass such values
        except (OverflowError, ValueError, TypeError):  # Fraction(10**400): beyond any float
            seconds = math.inf
    if not is_numeric_date(seconds):
        tip = (
            f"a NumericDate is a JSON number; convert it first: float({shown(seconds)})"
            if isinstance(seconds, str)
            else "a NumericDate is a finite number of seconds (RFC 7519 section 2)"
        )
        raise InvalidClaimError(f"not a NumericDate: {shown(seconds)} ({_kind(seconds)})", tip)
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    except (OverflowError, ValueError, OSError):
        raise InvalidClaimError(
            f"the NumericDate {shown(seconds)} is outside the years 1 to 9999",
            "no calendar date can show it; a verifier compares it as a number",
        ) from None


def is_numeric_date(value: object) -> bool:
    """True for a finite int or float (not a bool): what a NumericDate claim must be."""
    return _is_number(value)


# The clock ---------------------------------------------------------------------------------------


def clock(now: Now = None) -> float:
    """Epoch seconds for ``now``: the real clock for None, else the frozen time given.

    Injecting the clock makes expiry testable and notebooks reproducible. A
    naive datetime is refused: Python would read it as local time, and an
    off-by-timezone clock silently moves every expiry by hours.
    """
    if now is None:
        return time.time()
    if isinstance(now, dt.datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise ConfigurationError(
                f"now={now.isoformat()} is a naive datetime",
                "give it a timezone, e.g. datetime(..., tzinfo=timezone.utc)",
            )
        return now.timestamp()
    if _is_number(now):
        return _float(now, "now")
    raise ConfigurationError(f"now must be a datetime or epoch seconds, got {type(now).__name__}")


# The checks --------------------------------------------------------------------------------------


def check(
    claims: Mapping[str, Any],
    *,
    now: Now = None,
    leeway: Leeway = 0,
    audience: Names = None,
    issuer: Names = None,
    required: Collection[str] = ("exp",),
) -> None:
    """Check a verified token's claims; raise the ``InvalidClaimError`` of the first problem.

    Order: required claims, the times, then ``iss`` and ``aud``. ``audience``
    and ``issuer`` may be one string or a collection of accepted values; both
    are compared exactly.
    """
    _check_mapping(claims)
    check_required(claims, required)
    _check_strings(claims)
    check_times(claims, now=now, leeway=leeway)
    check_issuer(claims, issuer)
    check_audience(claims, audience)


def check_required(claims: Mapping[str, Any], required: Collection[str]) -> None:
    """Every name in ``required`` must be present (``exp`` by default: tokens should expire)."""
    _check_mapping(claims)
    for name in _names(required, "required"):
        if name not in claims:
            raise MissingClaimError(f"the token has no {name!r} claim", _MISSING_WHY.get(name))


def check_times(claims: Mapping[str, Any], *, now: Now = None, leeway: Leeway = 0) -> None:
    """``exp`` must be in the future, ``nbf`` and ``iat`` not, each give or take ``leeway`` seconds.

    Claim values are only compared, never added to, so an absurd NumericDate
    (10**400) is an ordinary rejection, not an overflow.
    """
    _check_mapping(claims)
    at, slack = clock(now), _seconds(leeway)
    exp, nbf, iat = (_numeric_date(claims, name) for name in ("exp", "nbf", "iat"))
    if exp is not None and exp <= at - slack:
        raise ExpiredTokenError(
            f"the token expired at {_when(exp)} {_context(at, slack)}",
            "exp limits how long a stolen token stays useful",
        )
    if nbf is not None and nbf > at + slack:
        raise NotYetValidError(f"the token is not valid before {_when(nbf)} {_context(at, slack)}")
    if iat is not None and iat > at + slack:
        raise NotYetValidError(
            f"the token says it was issued at {_when(iat)}, in the future {_context(at, slack)}",
            "either the clocks disagree or the token was not made by the real issuer",
        )


def check_issuer(claims: Mapping[str, Any], issuer: Names) -> None:
    """With ``issuer`` given, ``iss`` must equal it (or one of them) exactly.

    Exact means ``==`` on whole strings: PyJWT 2.10.0 matched with ``in``, so
    ``"__abc__"`` passed for issuer ``"abc"`` (CVE-2024-53861).
    """
    _check_mapping(claims)
    expected = _names(issuer, "issuer")
    if not expected:
        return
    if "iss" not in claims:
        raise MissingClaimError(f"the token has no 'iss' claim; expected issuer {_show(expected)}")
    iss = claims["iss"]
    if not isinstance(iss, str) or iss not in expected:
        raise InvalidIssuerError(
            f"the token's issuer is {shown(iss)}, not {_show(expected)}",
            "issuers are compared exactly, never by substring (CVE-2024-53861)",
        )


def check_audience(claims: Mapping[str, Any], audience: Names) -> None:
    """``aud`` (a string or a list of strings) must name ``audience`` exactly.

    A token that carries ``aud`` is refused by a verifier that names no
    audience (RFC 7519 4.1.3): otherwise a token minted for one service
    would be accepted by every other service that trusts the same issuer.
    """
    _check_mapping(claims)
    expected = _names(audience, "audience")
    if "aud" not in claims:
        if expected:
            raise MissingClaimError(
                f"the token has no 'aud' claim; expected audience {_show(expected)}",
                "a token without an audience can be replayed at any service",
            )
        return
    aud = claims["aud"]
    values = [aud] if isinstance(aud, str) else aud
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise InvalidAudienceError(f"'aud' must be a string or a list of strings, got {shown(aud)}")
    if not expected:
        raise InvalidAudienceError(
            f"the token is for audience {shown(aud)} but this verifier names no audience",
            "pass audience= so that tokens for other services are refused (RFC 7519 4.1.3)",
        )
    if not any(value in expected for value in values):
        raise InvalidAudienceError(
            f"the token is for audience {shown(aud)}, not {_show(expected)}",
            "a token issued for another service must not be replayed here",
        )


# Helpers -----------------------------------------------------------------------------------------

_STRING_CLAIMS = ("iss", "sub", "jti")
_MISSING_WHY = {
    "exp": "without exp a stolen token works forever",
    "aud": "without aud a token can be replayed at any service of the issuer",
    "iss": "without iss nothing says who made the token",
}


def _check_mapping(claims: object) -> None:
    if not isinstance(claims, Mapping):
        raise ConfigurationError(
            f"claims must be a mapping (a token's payload, as a dict), got {_kind(claims)}"
        )


def _check_strings(claims: Mapping[str, Any]) -> None:
    for name in _STRING_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            value = claims[name]
            raise InvalidClaimError(f"the {name!r} claim must be a string, got {_kind(value)}")


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    if name not in claims:
        return None
    value = claims[name]
    if not _is_number(value):
        raise InvalidClaimError(
            f"the {name!r} claim must be a NumericDate (seconds since 1970), got {shown(value)}"
        )
    return value


def _seconds(leeway: Leeway) -> float:
    if isinstance(leeway, dt.timedelta):
        leeway = leeway.total_seconds()
    if not _is_number(leeway) or leeway < 0:
        raise ConfigurationError(f"leeway must be a number of seconds >= 0, got {shown(leeway)}")
    return _float(leeway, "leeway")


def _float(value: float, option: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ConfigurationError(f"{option}={shown(value)} is beyond any clock") from None


def _names(value: Names, option: str) -> tuple[str, ...]:
    """One name or a collection of names as a tuple, in a stable order (messages must not vary)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if isinstance(value, Collection) and all(isinstance(v, str) for v in value):
        return tuple(sorted(value))
    raise ConfigurationError(
        f"{option} must be a string or a collection of strings, got {shown(value)}"
    )


def _show(names: tuple[str, ...]) -> str:
    return repr(names[0]) if len(names) == 1 else f"one of {list(names)!r}"


def _when(seconds: float) -> str:
    """A NumericDate as ISO 8601 UTC, or the raw number when no calendar can hold it."""
    try:
        return as_datetime(seconds).isoformat().replace("+00:00", "Z")
    except InvalidClaimError:
        return f"{shown(seconds)} s"


def _context(at: float, slack: float) -> str:
    return f"(now {_when(at)}{f', leeway {slack:g} s' if slack else ''})"


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
