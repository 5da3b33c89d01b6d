"""Run the ``labkit`` command as a user would: a real subprocess, real exit codes.

Shared by the CLI tests. Not a test module: pytest collects nothing here.
"""

from __future__ import annotations

import subprocess
import sys


def labkit_command(*args: str) -> list[str]:
    """The argv that runs ``labkit ARGS`` with the Python running the tests."""
    return [sys.executable, "-m", "labkit.cli", *args]


def run_labkit(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``labkit ARGS`` to completion and capture its output as text."""
    return subprocess.run(
        labkit_command(*args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
