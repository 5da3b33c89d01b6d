"""The learner edition: built from whatever notebooks exist, then executed top to bottom.

Each learner notebook runs in a real kernel (nbclient) in the test run: a solution cell that
became starter code must leave ``answer`` defined, ``check`` must say "not attempted", and no
later cell may depend on the learner's answer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from labkit import exercises, workshop
from labkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))  # whatever exists when the tests run
CELL_TIMEOUT = 600  # seconds; no notebook cell comes near it


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("learner")
    written = workshop.build(outdir, ROOT / "notebooks")
    assert {path.name for path in NOTEBOOKS} <= {path.name for path in written}
    return outdir


@pytest.fixture(autouse=True)
def jupyter_state_in_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels write connection files and IPython state: into .cache/ (as `make` does)."""
    cache = ROOT / ".cache"
    for name, path in {
        "JUPYTER_RUNTIME_DIR": cache / "jupyter" / "runtime",
        "IPYTHONDIR": cache / "ipython",
        "MPLCONFIGDIR": cache / "matplotlib",
    }.items():
        if name not in os.environ:
            path.mkdir(parents=True, exist_ok=True)
            monkeypatch.setenv(name, str(path))


@pytest.mark.parametrize("instructor", NOTEBOOKS, ids=lambda path: path.stem)
def test_learner_copy_has_starters_and_no_outputs(edition: Path, instructor: Path) -> None:
    original = nbformat.read(instructor, as_version=4)
    learner = nbformat.read(edition / instructor.name, as_version=4)
    assert len(learner.cells) == len(original.cells)
    assert learner.metadata["labkit"] == {"edition": "learner"}
    assert "widgets" not in learner.metadata
    bank = exercises.all_exercises()
    spots = {spot.index: spot.exercise_id for spot in workshop.exercise_cells(original)}
    for index, (mine, theirs) in enumerate(zip(learner.cells, original.cells, strict=True)):
        if index in spots:
            assert mine.source == bank[spots[index]].starter
            assert "solution" not in mine.metadata.get("tags", [])
        else:
            assert mine.source == theirs.source
        if mine.cell_type == "code":
            assert mine.outputs == [] and mine.execution_count is None


@pytest.mark.parametrize("instructor", NOTEBOOKS, ids=lambda path: path.stem)
def test_learner_notebook_runs_top_to_bottom(edition: Path, instructor: Path) -> None:
    path = edition / instructor.name
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": edition}}
    )
    client.execute()  # raises CellExecutionError on any error a cell is not tagged to raise
    errors = [
        f"cell {index}: {output['ename']}: {output['evalue']}"
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and "raises-exception" not in cell.metadata.get("tags", [])
        for output in cell.outputs
        if output["output_type"] == "error"
    ]
    assert errors == []
    printed = "".join(
        output.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output["output_type"] == "stream"
    )
    for spot in workshop.exercise_cells(nb):
        assert f"{spot.exercise_id} not attempted" in printed, spot
        assert f"{spot.exercise_id} correct" not in printed, f"{spot}: a starter passed its check"


def test_build_copies_files_beside_the_notebooks(tmp_path: Path) -> None:
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(nbformat.read(NOTEBOOKS[0], as_version=4), source / NOTEBOOKS[0].name)
    (source / "data").mkdir()
    (source / "data" / "words.txt").write_text("secret\n")
    (source / ".ipynb_checkpoints").mkdir()
    out = tmp_path / "out"
    workshop.build(out, source)
    assert (out / "data" / "words.txt").read_text() == "secret\n"
    assert not (out / ".ipynb_checkpoints").exists()
    assert (out / NOTEBOOKS[0].name).is_file()


@pytest.mark.parametrize("inside", [".", "learner", "learner/deeper"])
def test_build_refuses_to_write_into_the_instructor_folder(tmp_path: Path, inside: str) -> None:
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(nbformat.read(NOTEBOOKS[0], as_version=4), source / NOTEBOOKS[0].name)
    before = (source / NOTEBOOKS[0].name).read_bytes()
    with pytest.raises(workshop.WorkshopError, match="inside the instructor notebooks' folder"):
        workshop.build(source / inside, source)
    assert (source / NOTEBOOKS[0].name).read_bytes() == before


def test_unknown_exercise_stops_the_build_with_one_line(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    spot = workshop.exercise_cells(nb)[0]
    nb.cells[spot.index].metadata["labkit"] = {"exercise": "99.9"}
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(nb, source / NOTEBOOKS[1].name)
    with pytest.raises(workshop.WorkshopError) as caught:
        workshop.build(tmp_path / "out", source)
    assert "exercise '99.9' is not in labkit.exercises" in str(caught.value)
    assert "\n" not in str(caught.value)


# The command line -------------------------------------------------------------------------------


def test_cli_build_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = str(ROOT / "notebooks")
    names = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert main(["workshop", "build", str(tmp_path / "out"), "--source", source]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"labkit workshop: wrote {len(names)} learner notebooks to ")
    assert sorted(p.name for p in (tmp_path / "out").glob("*.ipynb")) == names
    assert main(["workshop", "check", "--source", source]) == 0
    assert capsys.readouterr().out.startswith(f"labkit workshop check: {len(names)} notebooks")


def test_cli_check_lists_problems_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    spot = workshop.exercise_cells(nb)[0]
    nb.cells[spot.index].source += "\n# changed"
    nbformat.write(nb, tmp_path / NOTEBOOKS[1].name)
    assert main(["workshop", "check", "--source", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"labkit workshop check: {NOTEBOOKS[1].name}: cell {spot.index}: exercise "
        f"{spot.exercise_id}'s solution differs from the bank's solution"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--source", "/nonexistent"], "/nonexistent is not a folder of notebooks"),
        (["build", "out", "--source", "{empty}"], "no notebooks (*.ipynb) in"),
    ],
)
def test_cli_bad_source_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    args = [arg.replace("{empty}", str(tmp_path)) for arg in args]
    assert main(["workshop", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("labkit workshop: ") and message in err and err.count("\n") == 1


def test_unreadable_notebook_is_a_one_line_problem(tmp_path: Path) -> None:
    (tmp_path / "99-broken.ipynb").write_text(json.dumps({"cells": "nope"}))
    (problem,) = workshop.check(tmp_path)
    assert problem.startswith("cannot read 99-broken.ipynb: ") and "\n" not in problem
