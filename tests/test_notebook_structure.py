"""Every notebook has the lesson shape: objectives, minutes, key points, and >= 2 exercises.

Each instructor copy opens with the `instructor-only` banner that sends learners to `learner/`.
An exercise is found by its solution cell's metadata ({"labkit": {"exercise": id}}, tag
`solution`); it needs a task that mentions `hint(id)`, the bank's solution, hints in the bank,
and a `check(id, answer)` cell after it. `labkit workshop check` applies the same rules, so the
test calls it, then proves on altered copies that it catches each missing piece.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from labkit import workshop

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SAMPLE = ROOT / "notebooks" / "01-token-anatomy.ipynb"

Edit = Callable[[nbformat.NotebookNode], None]


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_has_the_lesson_shape(path: Path) -> None:
    assert workshop.check_notebook(path) == []
    nb = nbformat.read(path, as_version=4)
    spots = workshop.exercise_cells(nb)
    assert len(spots) >= 2
    prefix = path.name[:2]
    assert all(spot.exercise_id.startswith(f"{prefix}.") for spot in spots), spots


def _cell(nb: nbformat.NotebookNode, starts: str) -> nbformat.NotebookNode:
    return next(cell for cell in nb.cells if cell.source.lstrip().startswith(starts))


def _first_exercise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return nb.cells[workshop.exercise_cells(nb)[0].index]


def _intro(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The title cell: the first markdown cell after the instructor-only banner."""
    return next(
        cell
        for cell in nb.cells
        if cell.cell_type == "markdown"
        and workshop.INSTRUCTOR_TAG not in cell.metadata.get("tags", [])
    )


def _drop_banner(nb: nbformat.NotebookNode) -> None:
    del nb.cells[0]


def _banner_not_first(nb: nbformat.NotebookNode) -> None:
    nb.cells.insert(1, nb.cells.pop(0))


def _banner_elsewhere(nb: nbformat.NotebookNode) -> None:
    nb.cells[0].source = nb.cells[0].source.replace("learner/01-", "learner/02-")


def _drop_objectives(nb: nbformat.NotebookNode) -> None:
    _intro(nb).source = _intro(nb).source.replace("**Objectives**", "**Goals**")


def _one_objective(nb: nbformat.NotebookNode) -> None:
    head, _, tail = _intro(nb).source.partition("**Objectives**\n")
    bullets, rest = tail.split("\n\n", 1)
    _intro(nb).source = f"{head}**Objectives**\n{bullets.splitlines()[0]}\n\n{rest}"


def _drop_minutes(nb: nbformat.NotebookNode) -> None:
    _intro(nb).source = _intro(nb).source.replace("**Minutes:**", "Time:")


def _wrong_minutes(nb: nbformat.NotebookNode) -> None:
    _intro(nb).source = _intro(nb).source.replace("15 teaching", "16 teaching")


def _drop_key_points(nb: nbformat.NotebookNode) -> None:
    cell = _cell(nb, "## Key points")
    cell.source = cell.source.replace("## Key points", "## Summary")


def _drop_exercises(nb: nbformat.NotebookNode) -> None:
    for spot in workshop.exercise_cells(nb)[1:]:
        cell = nb.cells[spot.index]
        del cell.metadata["labkit"]
        cell.metadata["tags"] = []


def _change_solution(nb: nbformat.NotebookNode) -> None:
    _first_exercise(nb).source += "\nprint('extra')"


def _untag_solution(nb: nbformat.NotebookNode) -> None:
    _first_exercise(nb).metadata["tags"] = []


def _tag_without_id(nb: nbformat.NotebookNode) -> None:
    del _first_exercise(nb).metadata["labkit"]


def _drop_check(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith('check("01.1"'):
            cell.source = "answer"


def _drop_hint_mention(nb: nbformat.NotebookNode) -> None:
    index = workshop.exercise_cells(nb)[0].index
    nb.cells[index - 1].source = nb.cells[index - 1].source.replace('hint("01.1")', "a hint")


def _stray_check(nb: nbformat.NotebookNode) -> None:
    nb.cells.append(nbformat.v4.new_code_cell('check("01.9", answer)'))


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (_drop_banner, "the first cell is not the 'instructor-only' banner"),
        (_banner_not_first, "the first cell is not the 'instructor-only' banner"),
        (_banner_elsewhere, "banner does not point learners to learner/01-token-anatomy.ipynb"),
        (_drop_objectives, "the first cell has no **Objectives**"),
        (_one_objective, "**Objectives** should list 3 to 5 bullets"),
        (_drop_minutes, "the first cell has no '**Minutes:** N teaching, M exercises'"),
        (_wrong_minutes, "minutes say 16 + 10, labkit/catalog.py says 15 + 10"),
        (_drop_key_points, "no '## Key points' section"),
        (_drop_exercises, "1 exercise(s); every notebook needs at least 2"),
        (_change_solution, "exercise 01.1's solution differs from the bank's solution"),
        (_untag_solution, "exercise 01.1's solution cell is not tagged 'solution'"),
        (_tag_without_id, 'a cell tagged "solution" has no {"labkit": {"exercise": id}} metadata'),
        (_drop_check, "exercise 01.1 has no check('01.1', answer) cell after it"),
        (_drop_hint_mention, "the task before exercise 01.1 does not mention hint('01.1')"),
        (_stray_check, "check('01.9') has no solution cell for 01.9 in this notebook"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else "",
)
def test_check_catches_each_missing_piece(tmp_path: Path, edit: Edit, problem: str) -> None:
    nb = nbformat.read(SAMPLE, as_version=4)
    edit(nb)
    path = tmp_path / SAMPLE.name
    nbformat.write(nb, path)
    problems = workshop.check_notebook(path)
    assert any(problem in line for line in problems), problems
    assert all(line.startswith(f"{SAMPLE.name}: ") for line in problems)


def test_every_bank_exercise_appears_in_its_notebook(tmp_path: Path) -> None:
    nb = nbformat.read(SAMPLE, as_version=4)
    spot = workshop.exercise_cells(nb)[-1]
    del nb.cells[spot.index : spot.index + 2]  # the last exercise's solution and check cells
    path = tmp_path / SAMPLE.name
    nbformat.write(nb, path)
    problems = workshop.check_notebook(path)
    assert f"{SAMPLE.name}: exercise {spot.exercise_id} is in the bank but not in the notebook" in (
        problems
    )
