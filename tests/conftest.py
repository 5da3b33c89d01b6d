"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

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
