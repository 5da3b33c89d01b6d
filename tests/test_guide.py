"""The instructor guide's timetables add up, and their minutes are the notebook map's.

Each table under a "## ... path" or "## ... session" heading is read row by row: a row starts when
the one before it ends, the last one ends at the heading's total, a notebook taught "All of it
(T + E)" gets exactly the minutes of ``labkit.catalog`` (T teaching, E exercises), and a trimmed
notebook never more than the map gives it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labkit.catalog import NOTEBOOKS

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "instructor-guide.md"
ROW = re.compile(r"^\|\s*(\d+):(\d\d)\s*\|[^|]*\|\s*([^|]*?)\s*\|\s*(\d+)\s*\|\s*([^|]*?)\s*\|$")
MAP = {nb.file: nb for nb in NOTEBOOKS}


def timetables() -> dict[str, list[re.Match[str]]]:
    """Heading -> its timetable's rows, for every heading with a timetable below it."""
    tables: dict[str, list[re.Match[str]]] = {}
    heading = ""
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:]
        row = ROW.match(line)
        if row:
            tables.setdefault(heading, []).append(row)
        else:
            assert not re.match(r"^\|\s*\d+:\d\d\s*\|", line), f"a timetable row unread: {line}"
    return tables


TABLES = timetables()


def test_the_guide_has_its_timetables() -> None:
    assert len(TABLES) >= 3, sorted(TABLES)
    assert any("second session" in heading for heading in TABLES), sorted(TABLES)


@pytest.mark.parametrize("heading", sorted(TABLES))
def test_a_timetable_adds_up_to_its_length(heading: str) -> None:
    total = re.search(r"(\d+)[- ]minute", heading)
    assert total, f"{heading!r}: say its length in minutes"
    clock = 0
    for row in TABLES[heading]:
        start = int(row[1]) * 60 + int(row[2])
        assert start == clock, f"{heading}: the row at {row[1]}:{row[2]} starts at {clock} min"
        clock += int(row[4])
    assert clock == int(total[1]), f"{heading}: the rows add up to {clock} minutes"


@pytest.mark.parametrize("heading", sorted(TABLES))
def test_a_notebooks_minutes_are_the_notebook_maps(heading: str) -> None:
    for row in TABLES[heading]:
        link = re.search(r"\]\(\.\./learner/([^)]+\.ipynb)\)", row[3])
        if not link:
            continue  # a break or a wrap-up
        notebook, minutes = MAP[link[1]], int(row[4])
        whole = re.match(r"All of it \((\d+) \+ (\d+)\)", row[5])
        if whole:
            assert (int(whole[1]), int(whole[2])) == (notebook.teach, notebook.exercises), row[0]
            assert minutes == notebook.minutes, row[0]
        else:
            assert minutes <= notebook.minutes, f"{row[0]}: more than the map's {notebook.minutes}"
