"""Write this folder's sample progress files with labkit's own recording, on a fixed day.

Six made-up learners answer exercises 00.1, 01.1, 01.2 and 03.1 through
``labkit.exercises.check`` with ``LABKIT_PROGRESS_DIR`` and ``LABKIT_PROGRESS_USER`` set, as
in a learner's kernel: a right answer is the exercise's own solution, a wrong one an insecure
look-alike from ``tests/test_banks_00_03.py``. The records are then given fixed times on
2026-12-01 (labkit writes the current time), so ``room-progress.ipynb``'s stored outputs are
reproducible.

    .venv/bin/python deploy/jupyterhub/sample-progress/make_sample.py [OUT]

OUT defaults to this folder; its ``*.jsonl`` files are replaced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's labkit and answer banks

from test_banks_00_03 import BANKS  # noqa: E402

import labkit  # noqa: E402
from labkit.exercises import check, get  # noqa: E402

START = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone.utc)
RIGHT = "solution"

# Per learner, in order: (exercise, "solution" or the label of a Wrong answer, or ... for a
# check run on the untouched starter). 03.1 is where most of the room gets stuck.
SESSION: dict[str, list[tuple[str, Any]]] = {
    "learner-01": [("00.1", RIGHT), ("01.1", RIGHT), ("01.2", RIGHT), ("03.1", RIGHT)],
    "learner-02": [
        ("00.1", RIGHT),
        ("01.1", "accepts-base64-alphabet"),
        ("01.1", RIGHT),
        ("01.2", RIGHT),
        ("03.1", "exp-inclusive"),
    ],
    "learner-03": [
        ("00.1", "wrong-order"),
        ("00.1", RIGHT),
        ("01.1", RIGHT),
        ("01.2", "naive-utc"),
        ("01.2", RIGHT),
        ("03.1", "only-exp"),
        ("03.1", "future-iat-allowed"),
    ],
    "learner-04": [
        ("00.1", RIGHT),
        ("01.1", "accepts-padding"),
        ("01.1", "stray-low-bits"),
    ],
    "learner-05": [("00.1", RIGHT), ("01.1", RIGHT), ("01.2", RIGHT), ("03.1", "exp-inclusive")],
    "learner-06": [("00.1", ...), ("00.1", RIGHT), ("01.1", RIGHT)],
}


def answer(exercise: str, which: Any) -> Any:
    """The solution's ``answer`` (run as in the notebook), a bank's Wrong answer, or ``...``."""
    if which is ...:
        return ...
    if which == RIGHT:
        namespace: dict[str, Any] = {"labkit": labkit, "alice_token": labkit.examples.lab_token()}
        exec(get(exercise).solution, namespace)
        return namespace["answer"]
    (wrong,) = (w for w in BANKS[exercise].wrong if w.label == which)
    return wrong.answer


def run(out: Path) -> None:
    """Every learner's checks through ``labkit.exercises.check``, then the fixed times."""
    for old in out.glob("*.jsonl"):
        old.unlink()
    os.environ.pop("LABKIT_STRICT_EXERCISES", None)  # a wrong answer prints, as for a learner
    os.environ["LABKIT_PROGRESS_DIR"] = str(out)
    for user, checks in SESSION.items():
        os.environ["LABKIT_PROGRESS_USER"] = user
        for exercise, which in checks:
            with contextlib.redirect_stdout(io.StringIO()):  # the verdicts; not needed here
                check(exercise, answer(exercise, which))
    for index, (user, checks) in enumerate(SESSION.items()):
        fix_times(out / f"{user}.jsonl", START + dt.timedelta(minutes=index), checks)


def expected(which: Any) -> str:
    return "not attempted" if which is ... else "passed" if which == RIGHT else "failed"


def fix_times(path: Path, first: dt.datetime, checks: list[tuple[str, Any]]) -> None:
    """Give the records of one file the times ``first``, +7 min, +14 min, ... (format kept).

    The file must hold one record per check with the verdict meant: a wrong answer the check
    accepted would make the sample lie about the room.
    """
    lines = path.read_text(encoding="ascii").splitlines()
    records = [json.loads(line) for line in lines]
    got = [(entry["exercise"], entry["status"]) for entry in records]
    meant = [(exercise, expected(which)) for exercise, which in checks]
    if got != meant:
        raise SystemExit(f"{path.name}: recorded {got}, meant {meant}")
    for step, entry in enumerate(records):
        entry["time"] = (first + dt.timedelta(minutes=7 * step)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = "".join(json.dumps(e, sort_keys=True, ensure_ascii=True) + "\n" for e in records)
    path.write_text(text, encoding="ascii")


if __name__ == "__main__":
    run(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE)
