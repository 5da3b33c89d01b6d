"""The learner edition: committed in learner/, exactly what `labkit workshop build` writes.

`learner/` is what every learner link opens, so it must never drift from `notebooks/`: a fresh
build is compared with it file by file, byte for byte. Each committed learner notebook then runs
top to bottom in a real kernel (nbclient): a solution cell that became starter code must leave
``answer`` defined, ``check`` must say "not attempted", and no later cell may depend on the
learner's answer. (Strict nbval would compare nothing there: the edition stores no outputs.)
The build's guards (issue 12) have regression and property tests named for the class of input.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbclient import NotebookClient

from labkit import exercises, workshop
from labkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
LEARNER = ROOT / "learner"  # the committed learner edition
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))  # whatever exists when the tests run
CELL_TIMEOUT = 600  # seconds; no notebook cell comes near it
REBUILD = "run `make learner` and commit learner/"


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path (hidden ones too: the manifest)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".ipynb_checkpoints" not in path.parts
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A learner edition built now from notebooks/."""
    outdir = tmp_path_factory.mktemp("learner")
    written = workshop.build(outdir, ROOT / "notebooks")
    assert {path.name for path in NOTEBOOKS} <= {path.name for path in written}
    return outdir


def test_committed_learner_edition_is_exactly_what_build_writes(fresh: Path) -> None:
    assert LEARNER.is_dir(), f"learner/ is missing: {REBUILD}"
    built, committed = files(fresh), files(LEARNER)
    missing = sorted(set(built) - set(committed))
    extra = sorted(set(committed) - set(built))
    assert not missing, f"learner/ lacks {missing}: {REBUILD}"
    assert not extra, f"learner/ has files a build does not write: {extra}; {REBUILD}"
    stale = [name for name in built if built[name] != committed[name]]
    assert not stale, f"learner/ differs from a fresh build in {stale}: {REBUILD}"


def test_build_is_reproducible(fresh: Path, tmp_path: Path) -> None:
    workshop.build(tmp_path / "again", ROOT / "notebooks")
    assert files(tmp_path / "again") == files(fresh)


def test_build_keeps_cell_ids_and_derives_missing_ones(tmp_path: Path) -> None:
    """Source ids are kept; a pre-4.5 notebook (no ids) gets the same ids on every build."""
    source = tmp_path / "notebooks"
    source.mkdir()
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    nbformat.write(nb, source / NOTEBOOKS[1].name)
    old = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# old")])
    raw = json.loads(nbformat.writes(old))
    raw["nbformat_minor"] = 4
    for cell in raw["cells"]:
        del cell["id"]
    (source / "99-old.ipynb").write_text(json.dumps(raw))
    first, second = tmp_path / "one", tmp_path / "two"
    workshop.build(first, source)
    workshop.build(second, source)
    assert files(first) == files(second)
    kept = [c.id for c in nb.cells if workshop.INSTRUCTOR_TAG not in c.metadata.get("tags", [])]
    assert [c.id for c in nbformat.read(first / NOTEBOOKS[1].name, as_version=4).cells] == kept


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
def test_learner_copy_has_starters_and_no_outputs(instructor: Path) -> None:
    original = nbformat.read(instructor, as_version=4)
    assert workshop.INSTRUCTOR_TAG in original.cells[0].metadata.get("tags", [])
    original.cells = original.cells[1:]  # the banner is the one cell learners do not get
    learner = nbformat.read(LEARNER / instructor.name, as_version=4)
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
def test_learner_notebook_runs_top_to_bottom(instructor: Path) -> None:
    path = LEARNER / instructor.name
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": LEARNER}}
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


# The instructor copies' banner ------------------------------------------------------------------


@pytest.mark.parametrize("instructor", NOTEBOOKS, ids=lambda path: path.stem)
def test_instructor_copy_says_so_in_its_first_cell(instructor: Path) -> None:
    first = nbformat.read(instructor, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    assert first.metadata["tags"] == [workshop.INSTRUCTOR_TAG]
    assert first.source.startswith("> **Instructor copy.**")
    assert f"(../learner/{instructor.name})" in first.source
    assert (LEARNER / instructor.name).is_file()


def test_mark_instructor_copies_inserts_only_the_banner_and_is_idempotent(tmp_path: Path) -> None:
    for path in NOTEBOOKS:
        shutil.copy(path, tmp_path / path.name)
    assert workshop.mark_instructor_copies(tmp_path) == []  # committed copies are marked
    target = tmp_path / NOTEBOOKS[2].name
    marked = target.read_text(encoding="utf-8")
    raw = json.loads(marked)
    raw["cells"] = raw["cells"][1:]
    target.write_text(json.dumps(raw, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    assert workshop.mark_instructor_copies(tmp_path) == [target]
    assert target.read_text(encoding="utf-8") == marked  # byte for byte: nothing else changed
    assert workshop.mark_instructor_copies(tmp_path) == []
    target.write_text(marked.replace("> **Instructor copy.**", "Old banner."), encoding="utf-8")
    assert workshop.mark_instructor_copies(tmp_path) == [target]  # updated in place, not doubled
    assert target.read_text(encoding="utf-8") == marked


def test_check_requires_the_banner(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    nb.cells = nb.cells[1:]
    nbformat.write(nb, tmp_path / NOTEBOOKS[1].name)
    (problem,) = workshop.check(tmp_path)
    assert "the first cell is not the 'instructor-only' banner" in problem
    workshop.mark_instructor_copies(tmp_path)
    assert workshop.check(tmp_path) == []


# workshop build's guards (issue 12): OUTDIR must be a usable folder, learners' work is kept -----


def tiny_source(folder: Path, *names: str) -> Path:
    """A folder of small instructor notebooks (no exercises): cheap to build many times."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or ("01-one.ipynb",):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {name}")])
        for index, cell in enumerate(nb.cells):
            cell.id = f"c{index}"
        nbformat.write(nb, folder / name)
    return folder


def unusable(tmp_path: Path) -> dict[str, object]:
    file = tmp_path / "a-file.txt"
    file.write_text("not a folder\n")
    return {
        "empty": "",
        "blank": "   ",
        "file": str(file),
        "under-a-file": str(file / "learner"),
        "nul": str(tmp_path / "bad\0name"),
        "not-a-path": 42,
        "no-permission": "/sys/kernel/labkit-learner",  # EPERM even for root
    }


UNUSABLE = ["empty", "blank", "file", "under-a-file", "nul", "not-a-path", "no-permission"]


@pytest.mark.parametrize("case", UNUSABLE)
def test_unusable_outdir_is_a_one_line_workshop_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    outdir = unusable(tmp_path)[case]
    if case == "no-permission" and not Path("/sys/kernel").is_dir():
        pytest.skip("no /sys/kernel on this machine")
    source = tiny_source(tmp_path / "notebooks")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    with pytest.raises(workshop.WorkshopError) as caught:
        workshop.build(outdir, source)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value) and str(caught.value)
    assert list(cwd.iterdir()) == [], "nothing may be written into the current folder"


@pytest.mark.parametrize("case", [c for c in UNUSABLE if c not in ("nul", "not-a-path")])
def test_unusable_outdir_on_the_command_line_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    if case == "no-permission" and not Path("/sys/kernel").is_dir():
        pytest.skip("no /sys/kernel on this machine")
    outdir = str(unusable(tmp_path)[case])
    source = str(tiny_source(tmp_path / "notebooks"))
    monkeypatch.chdir(tmp_path / "notebooks")
    assert main(["workshop", "build", outdir, "--source", source]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("labkit workshop: ") and captured.err.count("\n") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unusable_outdir_read_only_folder_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(workshop.WorkshopError, match="cannot write the learner edition"):
            workshop.build(locked / "learner", tiny_source(tmp_path / "notebooks"))
    finally:
        locked.chmod(0o700)


def test_overwrite_guard_refuses_an_edited_notebook_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tiny_source(tmp_path / "notebooks", "01-one.ipynb", "02-two.ipynb")
    out = tmp_path / "learner"
    workshop.build(out, source)
    built = files(out)
    edited = (out / "02-two.ipynb").read_text().replace("# 02-two", "# my work")
    (out / "02-two.ipynb").write_text(edited)
    with pytest.raises(workshop.WorkshopError) as caught:
        workshop.build(out, source)
    assert "would lose: 02-two.ipynb;" in str(caught.value) and "--force" in str(caught.value)
    assert "01-one.ipynb" not in str(caught.value)
    assert (out / "02-two.ipynb").read_text() == edited  # nothing was written
    assert main(["workshop", "build", str(out), "--source", str(source)]) == 2
    assert "02-two.ipynb" in capsys.readouterr().err
    assert main(["workshop", "build", str(out), "--source", str(source), "--force"]) == 0
    assert files(out) == built


def test_overwrite_guard_refuses_a_notebook_it_did_not_write(tmp_path: Path) -> None:
    source = tiny_source(tmp_path / "notebooks")
    out = tmp_path / "learner"
    out.mkdir()
    (out / "01-one.ipynb").write_text("{}")  # same name, no manifest: someone's own notebook
    (out / "notes.txt").write_text("mine\n")
    with pytest.raises(workshop.WorkshopError, match=r"would lose: 01-one\.ipynb;"):
        workshop.build(out, source)
    workshop.build(out, source, force=True)
    assert (out / "notes.txt").read_text() == "mine\n"  # files a build does not write are kept


def test_overwrite_guard_rebuild_removes_notebooks_whose_source_is_gone(tmp_path: Path) -> None:
    source = tiny_source(tmp_path / "notebooks", "01-one.ipynb", "02-two.ipynb")
    out = tmp_path / "learner"
    workshop.build(out, source)
    (source / "02-two.ipynb").unlink()
    workshop.build(out, source)  # unedited: removed, so out matches a fresh build
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["01-one.ipynb"]
    tiny_source(source, "03-three.ipynb")
    workshop.build(out, source)
    (out / "03-three.ipynb").write_text("{}")
    (source / "03-three.ipynb").unlink()
    with pytest.raises(workshop.WorkshopError, match=r"would lose: 03-three\.ipynb;"):
        workshop.build(out, source)
    assert (out / "03-three.ipynb").read_text() == "{}"


def test_overwrite_guard_ignores_a_forged_manifest_entry(tmp_path: Path) -> None:
    """A manifest can only vouch for notebooks: it never makes a build delete other files."""
    source = tiny_source(tmp_path / "notebooks")
    out = tmp_path / "learner"
    workshop.build(out, source)
    (out / "keep.txt").write_text("mine\n")
    manifest = json.loads((out / workshop.MANIFEST).read_text())
    manifest["notebooks"]["keep.txt"] = workshop._sha256(b"mine\n")
    manifest["notebooks"]["../outside.ipynb"] = "0" * 64
    (out / workshop.MANIFEST).write_text(json.dumps(manifest))
    workshop.build(out, source)
    assert (out / "keep.txt").read_text() == "mine\n"


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES)
def test_unusable_outdir_any_name_builds_or_is_a_one_line_workshop_error(name: str) -> None:
    """Whatever the folder name, a build writes under its parent or says why not in one line."""
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp) / "a" / "b"
        source = tiny_source(Path(temp) / "src")
        base.mkdir(parents=True)
        try:
            written = workshop.build(os.path.join(str(base), name) if name else name, source)
        except workshop.WorkshopError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
        assert all(Path(temp) in path.parents for path in written)
        assert all(path.read_bytes() for path in written)


# workshop reset (issue 14): one learner notebook back as built, the learner's copy kept ---------

def _noon() -> object:
    import datetime

    return datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)


NOON = _noon()  # the backup's time stamp, fixed


def built_edition(tmp_path: Path) -> tuple[Path, Path]:
    source = tiny_source(tmp_path / "notebooks", "01-one.ipynb", "02-two.ipynb", "10-ten.ipynb")
    out = tmp_path / "learner"
    workshop.build(out, source)
    return source, out


def test_reset_restores_the_notebook_and_keeps_the_learners_copy(tmp_path: Path) -> None:
    source, out = built_edition(tmp_path)
    built = files(out)
    mine = (out / "01-one.ipynb").read_text().replace("# 01-one", "# my work")
    (out / "01-one.ipynb").write_text(mine)
    done = workshop.reset("01", out, source, now=NOON)
    assert done.written and done.notebook == out / "01-one.ipynb"
    assert done.backup == out / "01-one.backup-20261201T120000Z.ipynb"
    assert done.backup.read_text() == mine
    assert (out / "01-one.ipynb").read_bytes() == built["01-one.ipynb"]
    assert {k: v for k, v in files(out).items() if ".backup-" not in k} == built


def test_reset_never_overwrites_an_earlier_backup(tmp_path: Path) -> None:
    source, out = built_edition(tmp_path)
    backups = []
    for attempt in ("first", "second", "third"):
        (out / "02-two.ipynb").write_text(f"{attempt} try\n")
        backups.append(workshop.reset("2", out, source, now=NOON).backup)  # the same second
    assert [path.name for path in backups] == [
        "02-two.backup-20261201T120000Z.ipynb",
        "02-two.backup-20261201T120000Z-2.ipynb",
        "02-two.backup-20261201T120000Z-3.ipynb",
    ]
    assert [path.read_text() for path in backups] == ["first try\n", "second try\n", "third try\n"]


def test_reset_of_an_unchanged_or_missing_notebook_needs_no_backup(tmp_path: Path) -> None:
    source, out = built_edition(tmp_path)
    built = files(out)
    unchanged = workshop.reset("10-ten.ipynb", out, source)
    assert not unchanged.written and unchanged.backup is None
    (out / "10-ten.ipynb").unlink()
    missing = workshop.reset("10-ten", out, source)
    assert missing.written and missing.backup is None
    assert files(out) == built


def test_reset_keeps_the_manifest_true_so_a_later_build_is_not_refused(tmp_path: Path) -> None:
    source, out = built_edition(tmp_path)
    nb = nbformat.read(source / "01-one.ipynb", as_version=4)
    nb.cells[0].source = "# 01-one, revised"  # the instructor revises it after the build
    nbformat.write(nb, source / "01-one.ipynb")
    workshop.reset("01", out, source, now=NOON)  # a learner takes the revision
    nb.cells[0].source = "# 01-one, revised again"
    nbformat.write(nb, source / "01-one.ipynb")
    workshop.build(out, source)  # not refused: the reset notebook is known as the build's own
    fresh = tmp_path / "fresh"
    workshop.build(fresh, source)
    assert (out / "01-one.ipynb").read_bytes() == (fresh / "01-one.ipynb").read_bytes()
    assert (out / workshop.MANIFEST).read_bytes() == (fresh / workshop.MANIFEST).read_bytes()


def test_reset_of_the_committed_edition_gives_back_exactly_the_committed_notebook(
    tmp_path: Path,
) -> None:
    out = tmp_path / "learner"
    shutil.copytree(LEARNER, out)
    target = next(out.glob("05-*.ipynb"))
    target.write_text("{}")
    done = workshop.reset("05", out, ROOT / "notebooks", now=NOON)
    assert done.backup is not None and done.backup.read_text() == "{}"
    assert target.read_bytes() == (LEARNER / target.name).read_bytes()


@pytest.mark.parametrize(
    ("name", "folder", "message"),
    [
        ("99", "learner", "no notebook '99': give its number (01 to 10) or file name"),
        ("one", "learner", "no notebook 'one'"),
        ("", "learner", "name a notebook by its number (01 to 10) or file name"),
        ("01", "nope", "nope does not exist"),
        ("01", "learner/01-one.ipynb", "is a file, not a folder of learner notebooks"),
        ("01", "notebooks", "is the instructor notebooks' folder"),
    ],
)
def test_reset_bad_input_is_a_one_line_workshop_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, folder: str, message: str
) -> None:
    source, _ = built_edition(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = files(tmp_path)
    with pytest.raises(workshop.WorkshopError) as caught:
        workshop.reset(name, folder, source)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert files(tmp_path) == before  # nothing written, nothing backed up


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=20))
def test_reset_any_name_picks_a_notebook_or_is_one_line(name: str) -> None:
    with tempfile.TemporaryDirectory() as temp:
        source, out = built_edition(Path(temp))
        (out / "02-two.ipynb").write_text("mine\n")
        try:
            done = workshop.reset(name, out, source, now=NOON)
        except workshop.WorkshopError as exc:
            assert str(exc) and "\n" not in str(exc)
            assert (out / "02-two.ipynb").read_text() == "mine\n"
            return
        assert done.notebook.parent == out and done.notebook.name in {
            "01-one.ipynb",
            "02-two.ipynb",
            "10-ten.ipynb",
        }
        assert all(Path(temp) in path.parents for path in Path(temp).rglob("*"))


# A generated folder inside the checkout is ignored by git and ruff (issue 14) -------------------


def test_build_ignores_a_new_folder_inside_the_checkout_but_never_learner(tmp_path: Path) -> None:
    checkout = tmp_path / "kit"
    source = tiny_source(checkout / "notebooks")
    for outdir in ("handout", "deeper/still"):
        workshop.build(checkout / outdir, source)
        assert (checkout / outdir / ".gitignore").read_text() == workshop.GITIGNORE
    workshop.build(checkout / "learner", source)  # the committed edition: tracked, as built
    (checkout / "mine").mkdir()  # a folder that was there before: the instructor's own
    workshop.build(checkout / "mine", source)
    workshop.build(tmp_path / "elsewhere", source)  # outside the checkout: nothing to ignore
    for outdir in ("learner", "mine"):
        assert not (checkout / outdir / ".gitignore").exists()
    assert not (tmp_path / "elsewhere" / ".gitignore").exists()
    workshop.build(checkout / "handout", source)  # a rebuild keeps it
    assert (checkout / "handout" / ".gitignore").is_file()
