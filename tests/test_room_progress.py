"""The instructor's room-progress notebook (issue 14) and the sample folder it shows.

``deploy/jupyterhub/room-progress.ipynb`` is committed with its outputs, read from
``deploy/jupyterhub/sample-progress/`` when ``LABKIT_PROGRESS_DIR`` is unset: strict nbval
must reproduce them. The sample files must be exactly what labkit's own recording writes
(regenerated here by the folder's ``make_sample.py`` and compared byte for byte), and the
report must show the room stuck where the sample says.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from labkit import progress

ROOT = Path(__file__).resolve().parent.parent
HUB = ROOT / "deploy" / "jupyterhub"
NOTEBOOK = HUB / "room-progress.ipynb"
SAMPLE = HUB / "sample-progress"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABKIT_PROGRESS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def test_notebook_outputs_are_reproduced_by_strict_nbval() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval-sanitize.cfg"),
            str(NOTEBOOK),
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


def test_sample_folder_is_what_labkit_records(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SAMPLE / "make_sample.py"), str(tmp_path)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    made = {p.name: p.read_bytes() for p in sorted(tmp_path.glob("*.jsonl"))}
    committed = {p.name: p.read_bytes() for p in sorted(SAMPLE.glob("*.jsonl"))}
    assert len(committed) == 6
    assert made == committed


def test_sample_report_shows_where_the_room_is_stuck() -> None:
    room = progress.read(SAMPLE)
    assert (room.files, len(room.records), room.skipped, room.unreadable) == (6, 26, 0, [])
    assert room.exercises() == ["00.1", "01.1", "01.2", "03.1"]
    assert room.stuck() == [
        ("03.1", ["learner-02", "learner-03", "learner-05"]),
        ("01.1", ["learner-04"]),
    ]
    text = room.text()
    assert "  03.1     3 users: learner-02, learner-03, learner-05" in text
    assert "learner-03  03.1 at 2026-12-01T10:44:00Z" in text
