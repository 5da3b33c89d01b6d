"""labkit.claims: the clock, the claim checks on their own, and the timeline figure."""

from __future__ import annotations

import datetime as dt
import time

import matplotlib.pyplot as plt
import pytest

from labkit import claims, plots
from labkit.errors import (
    ConfigurationError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    MissingClaimError,
    NotYetValidError,
)

T0 = 1_767_258_000  # 2026-01-01T09:00:00Z
WINDOW = {"iat": T0, "nbf": T0 + 60, "exp": T0 + 300}


def test_clock_forms() -> None:
    assert claims.clock(T0) == T0
    assert claims.clock(T0 + 0.5) == T0 + 0.5
    assert claims.clock(dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone.utc)) == T0
    assert abs(claims.clock() - time.time()) < 5
    for bad in (dt.datetime(2026, 1, 1), "now", True, float("nan")):
        with pytest.raises(ConfigurationError):
            claims.clock(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "leeway", "error"),
    [
        (T0 + 59, 0, NotYetValidError),
        (T0 + 59, 1, None),
        (T0 + 60, 0, None),
        (T0 + 299, 0, None),
        (T0 + 300, 0, ExpiredTokenError),
        (T0 + 300, 1, None),
        (T0 + 330, 30, ExpiredTokenError),
    ],
)
def test_time_window_boundaries(now: int, leeway: int, error: type | None) -> None:
    if error is None:
        claims.check_times(WINDOW, now=now, leeway=leeway)
    else:
        with pytest.raises(error):
            claims.check_times(WINDOW, now=now, leeway=leeway)


def test_iat_in_the_future() -> None:
    with pytest.raises(NotYetValidError, match="in the future"):
        claims.check_times({"iat": T0 + 10}, now=T0)
    claims.check_times({"iat": T0 + 10}, now=T0, leeway=10)


def test_messages_name_times_in_utc_and_survive_absurd_values() -> None:
    with pytest.raises(ExpiredTokenError, match=r"09:05:00Z \(now 2026-01-01T09:10:00Z\)"):
        claims.check_times(WINDOW, now=T0 + 600)
    with pytest.raises(ExpiredTokenError, match="-1e\\+300 s"):
        claims.check_times({"exp": -1e300}, now=T0)


def test_audience_and_issuer_helpers() -> None:
    claims.check_audience({"aud": ["a", "b"]}, ("b",))
    claims.check_audience({}, None)
    with pytest.raises(InvalidAudienceError):
        claims.check_audience({"aud": "ab"}, ["a", "b"])
    with pytest.raises(MissingClaimError):
        claims.check_audience({}, "a")
    claims.check_issuer({"iss": "abc"}, {"abc", "x"})
    claims.check_issuer({}, None)
    with pytest.raises(InvalidIssuerError, match="one of \\['abc', 'x'\\]"):
        claims.check_issuer({"iss": "__abc__"}, ["abc", "x"])


def test_check_runs_everything_in_order() -> None:
    good = {**WINDOW, "iss": "i", "aud": "a", "sub": "s"}
    claims.check(good, now=T0 + 100, audience="a", issuer="i", required=("exp", "sub"))
    with pytest.raises(MissingClaimError, match="'jti'"):
        claims.check(good, now=T0 + 100, audience="a", issuer="i", required=["jti"])
    with pytest.raises(InvalidClaimError, match="'sub' claim must be a string"):
        claims.check({**good, "sub": 1}, now=T0 + 100, audience="a", issuer="i")
    with pytest.raises(ConfigurationError, match="required must be"):
        claims.check(good, now=T0, required=[None])  # type: ignore[list-item]


def test_timeline_figure_marks_the_verifiers_verdicts() -> None:
    plt.switch_backend("agg")
    moments = [T0 - 10, T0 + 45, T0 + 180, T0 + 300, T0 + 320, T0 + 360]
    fig = plots.plot_claims_timeline(WINDOW, moments, leeways=(0, 30))
    assert repr(fig) == "<Figure size 1000x260 with 1 Axes>"
    ax = fig.axes[0]
    marks = [line.get_marker() for line in ax.get_lines() if line.get_marker() in ("o", "X")]
    # leeway 0 (top row): only 09:03 passes; leeway 30: 09:00:45, 09:03, 09:05 and 09:05:20
    assert "".join(marks) == "XXoXXX" + "XooooX"
    assert [text.get_text() for text in ax.texts] == ["iat", "nbf", "exp"]
    with pytest.raises(ValueError):
        plots.plot_claims_timeline(WINDOW, [])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1767258000", r"not a NumericDate: '1767258000' \(str\); a NumericDate is a JSON number"),
        (None, r"not a NumericDate: None \(null\)"),
        (True, r"not a NumericDate: True \(bool\)"),
        (float("nan"), r"not a NumericDate: nan"),
        (1e20, "the NumericDate 1e[+]20 is outside the years 1 to 9999"),
        (-1e300, "outside the years 1 to 9999"),
    ],
)
def test_as_datetime_refuses_what_is_not_a_calendar_time_in_one_line(
    value: object, message: str
) -> None:
    with pytest.raises(InvalidClaimError, match=message) as info:
        claims.as_datetime(value)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_as_datetime_takes_any_real_number() -> None:
    from fractions import Fraction

    assert claims.as_datetime(T0).isoformat() == "2026-01-01T09:00:00+00:00"
    assert claims.as_datetime(Fraction(T0 * 2, 2)) == claims.as_datetime(float(T0))


def test_kind_of_a_non_name_is_one_line() -> None:
    with pytest.raises(ConfigurationError, match="a claim name is a string, got null"):
        claims.kind(None)  # type: ignore[arg-type]
    assert claims.kind("https://example.com/role") == "public"


def test_check_of_a_non_mapping_and_absurd_clocks_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="claims must be a mapping"):
        claims.check("eyJ...")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="now=<a number of about 5,000 digits> is beyond"):
        claims.clock(10**5000)
