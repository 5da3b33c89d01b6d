"""The workshop tools: a learner edition of the notebooks, and a check of the instructor copy.

The instructor notebooks carry every exercise's solution (a code cell tagged
``solution`` with metadata ``{"labkit": {"exercise": id}}``) so CI runs it. The
learner edition is generated from them, never edited by hand: each solution
cell becomes the exercise's ``starter`` code (so ``answer`` exists and
``check`` says "not attempted"), every other cell is kept, and all outputs are
cleared. ``check`` verifies the shape that makes this work: objectives,
minutes and key points in every notebook, and for every exercise a task that
mentions ``hint``, a solution equal to the bank's, and a ``check`` cell.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from labkit import catalog, exercises
from labkit.errors import LabkitError

__all__ = [
    "SOLUTION_TAG",
    "ExerciseCell",
    "WorkshopError",
    "build",
    "check",
    "check_notebook",
    "default_source",
    "exercise_cells",
    "learner_copy",
    "notebooks",
    "read",
]

SOLUTION_TAG = "solution"
"""The cell tag of an exercise's solution in the instructor notebooks."""

_CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](?P<id>[^"']+)["']""")
_MINUTES = re.compile(r"\*\*Minutes:\*\*\s*(?P<teach>\d+) teaching, (?P<exercises>\d+) exercises")
_BULLETS = (3, 5)  # objectives and key points: 3 to 5 bullets each (DESIGN.md)
_MIN_EXERCISES = 2


class WorkshopError(LabkitError, ValueError):
    """The notebooks cannot be turned into a learner edition, or the output folder is unsafe."""


@dataclass(frozen=True)
class ExerciseCell:
    """Where an exercise's solution sits in a notebook: the cell's index and the exercise id."""

    index: int
    exercise_id: str


def default_source() -> Path:
    """The instructor notebooks: ``./notebooks``, else the folder beside the installed package."""
    for candidate in (Path.cwd() / "notebooks", Path(__file__).resolve().parents[1] / "notebooks"):
        if candidate.is_dir():
            return candidate
    raise WorkshopError("no notebooks/ folder here or beside labkit; pass --source DIR")


def notebooks(source: str | os.PathLike[str] | None = None) -> list[Path]:
    """The instructor notebooks in ``source``, in order."""
    folder = Path(source) if source is not None else default_source()
    if not folder.is_dir():
        raise WorkshopError(f"{folder} is not a folder of notebooks")
    found = sorted(folder.glob("*.ipynb"))
    if not found:
        raise WorkshopError(f"no notebooks (*.ipynb) in {folder}")
    return found


def read(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    """A notebook file, or a one-line ``WorkshopError`` saying why it cannot be read."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # bad JSON, wrong format, unreadable: one line, never a traceback
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise WorkshopError(f"cannot read {Path(path).name}: {lines[0]}") from None


def exercise_cells(nb: nbformat.NotebookNode) -> list[ExerciseCell]:
    """The solution cells of a notebook: tagged ``solution`` or carrying an exercise id."""
    return [
        ExerciseCell(index, _exercise_id(cell) or "")
        for index, cell in enumerate(nb.cells)
        if _exercise_id(cell) is not None or SOLUTION_TAG in _tags(cell)
    ]


def learner_copy(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A learner's copy: solution cells replaced by the starter code, every output cleared."""
    bank = exercises.all_exercises()
    out = copy.deepcopy(nb)
    for spot in exercise_cells(out):
        if spot.exercise_id not in bank:
            raise WorkshopError(
                f"{name}, cell {spot.index}: {_describe(spot)}; run `labkit workshop check`"
            )
        cell = out.cells[spot.index]
        cell.source = bank[spot.exercise_id].starter
        cell.metadata["tags"] = [tag for tag in _tags(cell) if tag != SOLUTION_TAG]
        if not cell.metadata["tags"]:
            del cell.metadata["tags"]
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)  # timings of the instructor's run
    out.metadata.pop("widgets", None)  # widget state saved with the instructor's outputs
    out.metadata["labkit"] = {"edition": "learner"}
    return out


def build(
    outdir: str | os.PathLike[str], source: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Write the learner edition of every notebook (and the files beside them) into ``outdir``."""
    paths = notebooks(source)
    folder = paths[0].parent.resolve()
    target = Path(outdir).resolve()
    if target == folder or folder in target.parents:
        raise WorkshopError(
            f"{outdir} is inside the instructor notebooks' folder; choose a folder outside it"
        )
    learner = [(path, learner_copy(read(path), path.name)) for path in paths]
    target.mkdir(parents=True, exist_ok=True)
    _copy_assets(folder, target)
    written = []
    for path, nb in learner:
        nbformat.write(nb, target / path.name)
        written.append(target / path.name)
    return written


def check(source: str | os.PathLike[str] | None = None) -> list[str]:
    """Every problem in the instructor notebooks, one line each (an empty list when all is well)."""
    return [problem for path in notebooks(source) for problem in check_notebook(path)]


def check_notebook(path: str | os.PathLike[str]) -> list[str]:
    """One notebook's problems: its shape (objectives, minutes, key points) and its exercises."""
    path = Path(path)
    try:
        nb = read(path)
    except WorkshopError as exc:
        return [str(exc)]
    return [f"{path.name}: {problem}" for problem in (*_shape(nb, path.name), *_exercises(nb))]


# The notebook's shape ---------------------------------------------------------------------------


def _shape(nb: nbformat.NotebookNode, name: str) -> list[str]:
    markdown = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    if not markdown:
        return ["no markdown cells: it needs a title, objectives, minutes and key points"]
    problems = []
    intro = markdown[0]
    if "**Objectives**" not in intro:
        problems.append("the first cell has no **Objectives**")
    elif not _in_range(_bullets_after(intro, "**Objectives**")):
        problems.append(f"**Objectives** should list {_BULLETS[0]} to {_BULLETS[1]} bullets")
    minutes = _MINUTES.search(intro)
    if minutes is None:
        problems.append("the first cell has no '**Minutes:** N teaching, M exercises'")
    else:
        problems += _minutes_agree(name, int(minutes["teach"]), int(minutes["exercises"]))
    key_points = [text for text in markdown if text.lstrip().startswith("## Key points")]
    if not key_points:
        problems.append("no '## Key points' section")
    elif not _in_range(_bullets_after(key_points[-1], "## Key points")):
        problems.append(f"Key points should list {_BULLETS[0]} to {_BULLETS[1]} bullets")
    return problems


def _minutes_agree(name: str, teach: int, practice: int) -> list[str]:
    entry = next((nb for nb in catalog.NOTEBOOKS if nb.file == name), None)
    if entry is None or (entry.teach, entry.exercises) == (teach, practice):
        return []
    return [
        f"minutes say {teach} + {practice}, labkit/catalog.py says "
        f"{entry.teach} + {entry.exercises}"
    ]


def _bullets_after(text: str, heading: str) -> int:
    """How many "- " bullets the list after ``heading`` has (indented lines continue one)."""
    count = 0
    for line in text.split(heading, 1)[1].splitlines()[1:]:
        if line.startswith("- "):
            count += 1
        elif count and (not line.strip() or not line.startswith(" ")):
            break  # a blank line or unindented text after the list ends it
    return count


def _in_range(count: int) -> bool:
    return _BULLETS[0] <= count <= _BULLETS[1]


# The exercises ----------------------------------------------------------------------------------


def _exercises(nb: nbformat.NotebookNode) -> list[str]:
    bank = exercises.all_exercises()
    spots = exercise_cells(nb)
    problems = []
    if len(spots) < _MIN_EXERCISES:
        problems.append(f"{len(spots)} exercise(s); every notebook needs at least {_MIN_EXERCISES}")
    for number, spot in enumerate(spots):
        problems += _exercise(nb, spot, spots[number + 1 :], bank)
    ids = {spot.exercise_id for spot in spots}
    for call in _check_calls(nb):
        if call not in ids:
            problems.append(f"check({call!r}) has no solution cell for {call} in this notebook")
    prefix = _prefix(nb, spots)
    if prefix:
        problems += [
            f"exercise {eid} is in the bank but not in the notebook"
            for eid in bank
            if eid.split(".")[0] == prefix and eid not in ids
        ]
    return problems


def _exercise(
    nb: nbformat.NotebookNode, spot: ExerciseCell, later: list[ExerciseCell], bank: dict
) -> list[str]:
    cell = nb.cells[spot.index]
    where = f"cell {spot.index}"
    if spot.exercise_id not in bank:
        return [f"{where}: {_describe(spot)}"]
    eid, exercise = spot.exercise_id, bank[spot.exercise_id]
    problems = []
    if SOLUTION_TAG not in _tags(cell):
        problems.append(f"{where}: exercise {eid}'s solution cell is not tagged {SOLUTION_TAG!r}")
    if cell.cell_type != "code":
        problems.append(f"{where}: exercise {eid}'s solution cell is not a code cell")
    if cell.source.strip() != exercise.solution.strip():
        problems.append(f"{where}: exercise {eid}'s solution differs from the bank's solution")
    if not exercise.hints:
        problems.append(f"exercise {eid} has no hints in the bank")
    task = _task(nb, spot.index)
    if f'hint("{eid}")' not in task and f"hint('{eid}')" not in task:
        problems.append(f"{where}: the task before exercise {eid} does not mention hint({eid!r})")
    end = later[0].index if later else len(nb.cells)
    checks = [c for c in nb.cells[spot.index + 1 : end] if eid in _check_calls_in(c)]
    if not checks:
        problems.append(f"{where}: exercise {eid} has no check({eid!r}, answer) cell after it")
    return problems


def _task(nb: nbformat.NotebookNode, index: int) -> str:
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown":
            return cell.source
    return ""


def _check_calls(nb: nbformat.NotebookNode) -> list[str]:
    return [eid for cell in nb.cells for eid in _check_calls_in(cell)]


def _check_calls_in(cell: Any) -> list[str]:
    if cell.cell_type != "code" or SOLUTION_TAG in _tags(cell):
        return []
    return [match["id"] for match in _CHECK_CALL.finditer(cell.source)]


def _prefix(nb: nbformat.NotebookNode, spots: list[ExerciseCell]) -> str | None:
    prefixes = {spot.exercise_id.split(".")[0] for spot in spots if spot.exercise_id}
    return prefixes.pop() if len(prefixes) == 1 else None


def _exercise_id(cell: Any) -> str | None:
    meta = cell.get("metadata", {}).get("labkit")
    value = meta.get("exercise") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else None


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _describe(spot: ExerciseCell) -> str:
    if not spot.exercise_id:
        return 'a cell tagged "solution" has no {"labkit": {"exercise": id}} metadata'
    return f"exercise {spot.exercise_id!r} is not in labkit.exercises"


def _copy_assets(source: Path, target: Path) -> None:
    """Files and folders beside the notebooks (data, images), minus hidden and cache folders."""
    for entry in sorted(source.iterdir()):
        if entry.suffix == ".ipynb" or entry.name.startswith((".", "__pycache__")):
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, target / entry.name)
