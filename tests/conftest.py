"""Shared pytest fixtures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from labkit.aws.clock import FrozenClock

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The shared conformance vectors (``<project root>/../shared/vectors``), or skip.

    They are kept beside the project, not in it; a user's clone has no copy.
    """
    path = PROJECT_ROOT.parent / "shared" / "vectors"
    if not path.is_dir():
        pytest.skip(f"test vectors not found at {path} (they live beside the project checkout)")
    return path


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at the gateway notebooks' 2026-01-01 09:00 UTC (test_aws_gateway's NOW)."""
    return FrozenClock(dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc))
