"""Check that this Python has what the kit needs, before a workshop starts.

Prints one stable line when all is well (so notebook outputs do not change from
machine to machine) and names each missing or too-old package otherwise.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

__all__ = ["check_environment", "problems"]

MIN_PYTHON = (3, 10)


def problems() -> list[str]:
    """What is missing or too old, one line each; empty when the kit can run."""
    found = []
    if sys.version_info < MIN_PYTHON:
        found.append(f"Python {'.'.join(map(str, MIN_PYTHON))}+ is needed, this is {sys.version}")
    for line in metadata.requires("labkit") or []:
        if ";" in line:  # extras such as [test] are not needed to learn
            continue
        name, _, minimum = (part.strip() for part in line.partition(">="))
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            found.append(f"{name} is not installed (pip install '{line}')")
            continue
        if minimum and _numbers(version) < _numbers(minimum):
            found.append(f"{name} {version} is too old (need >= {minimum})")
    return found


def check_environment() -> bool:
    """Print whether the environment is ready; return True if it is."""
    issues = problems()
    for issue in issues:
        print(f"❌ {issue}")
    if not issues:
        print("✅ Environment ready: Python and every package the kit needs are installed.")
    return not issues


def _numbers(version: str) -> tuple[int, ...]:
    """The leading release numbers of a version ("2.15.1rc1" -> (2, 15, 1))."""
    return tuple(int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3])
