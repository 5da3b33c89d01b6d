"""`labkit workshop progress | reset | build` run as an instructor runs them: real processes.

Exit codes per the kit's contract (labkit/cli.py): 0 ok, 2 bad input with one line on stderr.
The last test builds a learner edition inside this checkout, as the README says, and proves
that git and `ruff check .` (the lint step of `make test`) leave the generated folder alone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from clirun import labkit_command

from labkit import progress, workshop

ROOT = Path(__file__).resolve().parents[1]
LEARNER = ROOT / "learner"
NOTEBOOKS = ROOT / "notebooks"
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def one_notebook(tmp_path: Path) -> Path:
    """Instructor notebook 05 alone: a build or reset of it is one real notebook's work."""
    source = tmp_path / "notebooks"
    source.mkdir()
    shutil.copy(next(NOTEBOOKS.glob("05-*.ipynb")), source)
    return source


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        labkit_command(*args),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("labkit workshop: ") and result.stderr.count("\n") == 1
    for word in words:
        assert word in result.stderr, result.stderr


# workshop progress --------------------------------------------------------------------------------


@pytest.fixture
def room(tmp_path: Path) -> Path:
    folder = tmp_path / "progress"
    folder.mkdir()
    for user, entries in {
        "alice": [("01.1", "failed"), ("01.1", "passed"), ("01.2", "passed")],
        "bob": [("01.1", "failed"), ("01.2", "not attempted")],
    }.items():
        for minute, (exercise, status) in enumerate(entries):
            moment = NOON + dt.timedelta(minutes=minute)
            progress.record(exercise, status, folder=folder, user=user, now=moment)
    with (folder / "bob.jsonl").open("a") as stream:
        stream.write("{not a record\n")
    return folder


def test_progress_prints_the_table_and_where_the_room_is_stuck(room: Path) -> None:
    result = run("workshop", "progress", str(room))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{room}: 2 users, 2 exercises, 5 checks in 2 files"
    assert lines[1] == "skipped 1 lines that are not records"
    assert [line.split() for line in lines[3:6]] == [
        ["user", "01.1", "01.2"],
        ["alice", "✓", "✓"],
        ["bob", "✗", "·"],
    ]
    assert "  01.1     1 user: bob" in lines
    assert ["bob", "01.1", "at", "2026-12-01T12:00:00Z"] in [line.split() for line in lines]


def test_progress_on_an_ascii_terminal_uses_ascii_marks(room: Path) -> None:
    progress.record("01.1", "passed", folder=room, user="Zoë", now=NOON)
    result = run("workshop", "progress", str(room), env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["alice", "+", "+"] in rows and ["bob", "x", "."] in rows
    assert ["Zo\\xeb", "+", "."] in rows


def test_progress_json_is_for_machines(room: Path) -> None:
    result = run("workshop", "progress", str(room), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["users"] == ["alice", "bob"] and report["exercises"] == ["01.1", "01.2"]
    assert report["progress"] == {
        "alice": {"01.1": "passed", "01.2": "passed"},
        "bob": {"01.1": "failed", "01.2": "not attempted"},
    }
    assert report["stuck"] == [{"exercise": "01.1", "users": ["bob"]}]
    assert report["last_failed"] == {"bob": {"exercise": "01.1", "time": "2026-12-01T12:00:00Z"}}
    assert (report["records"], report["skipped_lines"], report["files"]) == (5, 1, 2)


def test_progress_bad_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a-file.jsonl").write_text("")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(run("workshop", "progress", str(tmp_path / "nope")), "does not exist")
    one_line_error(run("workshop", "progress", str(tmp_path / "a-file.jsonl")), "is a file")
    one_line_error(run("workshop", "progress", str(empty)), "no progress files (*.jsonl)")
    usage = run("workshop", "progress")
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1


def test_progress_with_only_bad_lines_is_an_empty_report(tmp_path: Path) -> None:
    (tmp_path / "alice.jsonl").write_bytes(b"\xff\xfe\n{}\n")
    result = run("workshop", "progress", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"{tmp_path}: 0 users, 0 exercises, 0 checks in 1 files",
        "skipped 2 lines that are not records",
    ]


# workshop reset ---------------------------------------------------------------------------------


def test_reset_restores_one_notebook_and_says_where_the_copy_is(
    tmp_path: Path, one_notebook: Path
) -> None:
    shutil.copytree(LEARNER, tmp_path / "learner")
    target = next((tmp_path / "learner").glob("05-*.ipynb"))
    target.write_text('{"my": "work"}')
    result = run("workshop", "reset", "05", "--source", str(one_notebook), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (backup,) = (tmp_path / "learner").glob("05-*.backup-*Z.ipynb")
    assert result.stdout == (
        f"labkit workshop reset: restored learner/{target.name}; your copy is "
        f"learner/{backup.name} (in JupyterLab: File > Reload Notebook from Disk)\n"
    )
    assert backup.read_text() == '{"my": "work"}'
    assert target.read_bytes() == (LEARNER / target.name).read_bytes()
    assert files_of(tmp_path / "learner", backup) == files_of(LEARNER)


def files_of(folder: Path, *leaving_out: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes()
        for path in folder.iterdir()
        if path.is_file() and path not in leaving_out
    }


def test_reset_bad_input_is_one_line_exit_2(tmp_path: Path, one_notebook: Path) -> None:
    shutil.copytree(LEARNER, tmp_path / "learner")
    source = ("--source", str(one_notebook))
    one_line_error(run("workshop", "reset", "42", *source, cwd=tmp_path), "no notebook '42'")
    one_line_error(
        run("workshop", "reset", "05", "--dir", "missing", *source, cwd=tmp_path), "missing"
    )
    one_line_error(
        run("workshop", "reset", "05", "--dir", str(one_notebook), *source),
        "is the instructor notebooks' folder",
    )
    assert files_of(tmp_path / "learner") == files_of(LEARNER)


# workshop build's guards, as users meet them ----------------------------------------------------


def test_build_refuses_a_file_and_an_edited_notebook_in_one_line(
    tmp_path: Path, one_notebook: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    source = ("--source", str(one_notebook))
    one_line_error(run("workshop", "build", str(a_file), *source), "is a file, not a folder")
    out = tmp_path / "out"
    assert run("workshop", "build", str(out), *source).returncode == 0
    edited = next(out.glob("05-*.ipynb"))
    edited.write_text("{}")
    one_line_error(run("workshop", "build", str(out), *source), edited.name, "--force")
    assert edited.read_text() == "{}"
    assert run("workshop", "build", str(out), *source, "--force").returncode == 0
    assert edited.read_bytes() == (LEARNER / edited.name).read_bytes()


def _git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    inside = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    return inside.stdout.strip() == "true"


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not _git_checkout(), reason="not a git checkout: ruff reads .gitignore in one")
def test_build_inside_the_checkout_leaves_git_status_and_ruff_clean() -> None:
    """`labkit workshop build some-dir/` in the checkout, then `make test`'s lint still passes."""
    pytest.importorskip("ruff")
    name = f"workshop-build-{uuid.uuid4().hex[:8]}"
    outdir = ROOT / name
    try:
        result = run("workshop", "build", f"{name}/", cwd=ROOT)
        assert result.returncode == 0, result.stderr
        assert (outdir / ".gitignore").read_text() == workshop.GITIGNORE
        assert len(list(outdir.glob("*.ipynb"))) == len(list(NOTEBOOKS.glob("*.ipynb")))
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", name],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        assert status.stdout == ""
        lint = _ruff(".")
        assert lint.returncode == 0, lint.stdout[-2000:]
        # Without it (a copy with no .git, whose .gitignore ruff cannot honour) ruff lints the
        # generated notebooks, and pyproject's rules for every *.ipynb still pass them.
        (outdir / ".gitignore").unlink()
        unignored = _ruff("--no-cache", name)
        assert unignored.returncode == 0, unignored.stdout[-2000:]
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
