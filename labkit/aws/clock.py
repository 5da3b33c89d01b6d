"""The one clock the gateway, its policy cache and the identity provider share.

A real service reads the wall clock. A lab needs to stop time: to show a token
expire, a cached policy outlive a logout, or a refresh token run out, without
waiting. Every part of ``labkit.aws`` takes a ``Clock`` and never calls
``time.time()`` itself, so one ``FrozenClock`` moves them all together.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable

from labkit.errors import ConfigurationError

__all__ = ["Clock", "FrozenClock", "system_clock"]

Clock = Callable[[], float]
"""Anything that returns the time now, in epoch seconds."""


def system_clock() -> float:
    """The real clock (epoch seconds)."""
    return time.time()


class FrozenClock:
    """A clock that stands still until you move it: ``advance(seconds)`` or ``set(when)``."""

    def __init__(self, start: float | dt.datetime) -> None:
        self._now = _seconds(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward (never back: expiry and caches assume time only grows)."""
        if not _finite(seconds) or seconds < 0:
            raise ConfigurationError(f"advance() needs a number of seconds >= 0, got {seconds!r}")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float | dt.datetime) -> None:
        """Jump to ``when`` (epoch seconds or an aware datetime)."""
        with self._lock:
            self._now = _seconds(when)

    def __repr__(self) -> str:
        moment = dt.datetime.fromtimestamp(self._now, tz=dt.timezone.utc)
        return f"FrozenClock({moment.isoformat()})"


def _seconds(when: float | dt.datetime) -> float:
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise ConfigurationError(
                f"{when.isoformat()} is a naive datetime", "give it a timezone, e.g. timezone.utc"
            )
        return when.timestamp()
    if not _finite(when):
        raise ConfigurationError(f"a clock needs epoch seconds or a datetime, got {when!r}")
    return float(when)


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
