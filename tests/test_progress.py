"""labkit.progress: what check() records for the instructor, and the room's report read back.

A record says which exercise, what status, when and who: never the answer or the message. A
progress folder that cannot be used never breaks a check (one note per session), hostile user
names never leave the folder, and a corrupted progress file is read line by line: each bad line
is skipped and counted, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from labkit import progress
from labkit.errors import ExerciseError
from labkit.exercises import check

NOON = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
FIELDS = {"exercise", "status", "time", "user", "v"}
NOTE = "ℹ️ progress not recorded (LABKIT_PROGRESS_DIR): "
HOSTILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No progress folder or user from the developer's shell; the once-per-session note unsaid."""
    for name in (progress.DIR_VARIABLE, progress.USER_VARIABLE, "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LABKIT_STRICT_EXERCISES", raising=False)
    monkeypatch.setattr(progress, "_noted", False)
    plt.switch_backend("agg")


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="ascii").splitlines()]


def write_records(folder: Path, user: str, *entries: tuple[str, str]) -> None:
    for index, (exercise, status) in enumerate(entries):
        moment = NOON + dt.timedelta(minutes=index)
        progress.record(exercise, status, folder=folder, user=user, now=moment)


# What check() records ---------------------------------------------------------------------------


def test_each_check_appends_one_record_and_never_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(progress.DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    secret_answer = "my-answer-SECRET-4242"
    check("00.1")  # the untouched starter: not attempted
    check("01.1", lambda segment: secret_answer.encode())  # wrong
    check("99.9", secret_answer)  # no such exercise
    check("01.1", __import__("labkit").b64url_decode)  # the kit's own decoder: right
    printed = capsys.readouterr().out
    assert NOTE not in printed
    assert [p.name for p in tmp_path.iterdir()] == ["alice.jsonl"]
    raw = (tmp_path / "alice.jsonl").read_text(encoding="ascii")
    assert secret_answer not in raw and "not yet" not in raw and "expected" not in raw
    records = lines_of(tmp_path / "alice.jsonl")
    assert [(r["exercise"], r["status"]) for r in records] == [
        ("00.1", "not attempted"),
        ("01.1", "failed"),
        ("99.9", "error"),
        ("01.1", "passed"),
    ]
    for r in records:
        assert set(r) == FIELDS and r["user"] == "alice" and r["v"] == 1
        stamp = dt.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%SZ")
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        assert abs((now - stamp).total_seconds()) < 3600


def test_strict_mode_records_the_failure_then_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(progress.DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv(progress.USER_VARIABLE, "ci")
    monkeypatch.setenv("LABKIT_STRICT_EXERCISES", "1")
    with pytest.raises(ExerciseError):
        check("01.1", lambda segment: b"")
    with pytest.raises(ExerciseError):
        check("99.9", 1)
    statuses = [r["status"] for r in lines_of(tmp_path / "ci.jsonl")]
    assert statuses == ["failed", "error"]


def test_a_non_text_exercise_id_is_not_recorded_and_says_nothing_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(progress.DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv(progress.USER_VARIABLE, "bob")
    check(5, 1)  # type: ignore[arg-type]
    assert capsys.readouterr().out.startswith("⚠️ no exercise 5;")
    assert list(tmp_path.iterdir()) == []


def test_who_the_user_is(monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    assert progress.current_user() == getpass.getuser()
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-user")
    assert progress.current_user() == "hub-user"
    monkeypatch.setenv(progress.USER_VARIABLE, " chosen ")
    assert progress.current_user() == "chosen"


def test_no_user_name_anywhere_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def nobody() -> str:
        raise KeyError("getpwuid(): uid not found: 12345")

    monkeypatch.setattr("getpass.getuser", nobody)
    with pytest.raises(progress.ProgressError, match=f"set {progress.USER_VARIABLE}"):
        progress.current_user()


def test_check_does_not_import_progress_unless_asked() -> None:
    """check() stays as fast as before: labkit.progress is loaded only with the variable set."""
    code = (
        "import sys; from labkit.exercises import check; check('00.1'); "
        "print('labkit.progress' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != progress.DIR_VARIABLE}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.splitlines()[-1] == "False"


# A folder that cannot be used never breaks a check ---------------------------------------------


def unusable_folders(tmp_path: Path) -> dict[str, str]:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    return {
        "missing": str(tmp_path / "nope"),
        "a file": str(a_file),
        "under a file": str(a_file / "deeper"),
        "blank": "   ",
        "read-only for everyone": "/proc/self",
    }


@pytest.mark.parametrize(
    "case", ["missing", "a file", "under a file", "blank", "read-only for everyone"]
)
def test_unusable_folder_still_answers_with_one_note_per_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    monkeypatch.setenv(progress.DIR_VARIABLE, unusable_folders(tmp_path)[case])
    monkeypatch.setenv(progress.USER_VARIABLE, "alice")
    check("00.1")
    check("00.2")
    check("00.1")
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith("⏳")] == [
        line for line in lines if not line.startswith("ℹ️")
    ]
    assert len([line for line in lines if line.startswith("⏳")]) == 3
    notes = [line for line in lines if line.startswith(NOTE)]
    assert len(notes) == 1, lines
    assert lines[1] == notes[0]  # right after the first verdict


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_one_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv(progress.DIR_VARIABLE, str(locked))
    try:
        check("00.1")
    finally:
        locked.chmod(0o700)
    assert "Permission denied" in capsys.readouterr().out


def test_a_folder_path_with_nul_is_a_one_line_error(tmp_path: Path) -> None:
    """The environment cannot carry a NUL; a caller of record() can."""
    with pytest.raises(progress.ProgressError, match="NUL"):
        progress.record("00.1", "passed", folder=f"{tmp_path}\0x", user="alice")


def test_a_symlink_or_fifo_planted_as_the_users_file_is_never_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    folder = tmp_path / "progress"
    folder.mkdir()
    (folder / "alice.jsonl").symlink_to(victim)
    os.mkfifo(folder / "bob.jsonl")  # a writer opening a FIFO would block without O_NONBLOCK
    monkeypatch.setenv(progress.DIR_VARIABLE, str(folder))
    for user in ("alice", "bob"):
        monkeypatch.setenv(progress.USER_VARIABLE, user)
        monkeypatch.setattr(progress, "_noted", False)
        check("00.1")
        assert NOTE in capsys.readouterr().out
    assert victim.read_text() == "precious\n"


# Hostile user names and folder values (hypothesis) ------------------------------------------------

SAFE_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")
USER_NAMES = st.one_of(
    st.text(max_size=120),
    st.sampled_from(["..", ".", "/", "a/b", "a\\b", "../../etc/x", ".hidden", "_2e", "CON", "_"]),
    st.text(alphabet="./\\_\0\n ~$:*?<>|", max_size=12),
)


@HOSTILE
@given(user=USER_NAMES)
def test_any_user_name_is_refused_in_one_line_or_stays_in_the_folder(user: str) -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "progress"
        folder.mkdir()
        try:
            path = progress.record("00.1", "passed", folder=folder, user=user, now=NOON)
        except progress.ProgressError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
        assert path.parent == folder and path.name.endswith(".jsonl")
        assert not path.name.startswith(".") and len(path.name.encode()) <= 255
        assert set(path.name) <= SAFE_CHARACTERS
        assert [p.name for p in folder.iterdir()] == [path.name]
        (entry,) = progress.read(folder).records
        assert entry.user == user


@HOSTILE
@given(first=USER_NAMES, second=USER_NAMES)
def test_two_user_names_never_share_a_file(first: str, second: str) -> None:
    assume(first != second)
    try:
        names = progress.file_name(first), progress.file_name(second)
    except progress.ProgressError:
        return
    assert names[0] != names[1]


FOLDER_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "~nobody-here/x", "/dev/null", "/proc/self/fd/0", "/proc/self"]),
    st.text(alphabet="./\\~ ", max_size=8),
).filter(lambda value: "\0" not in value)  # the environment cannot hold a NUL


@HOSTILE
@given(value=FOLDER_VALUES)
def test_any_folder_value_leaves_check_answering(value: str) -> None:
    """check() prints its verdict whatever the variable says; at most one note; no traceback."""
    with tempfile.TemporaryDirectory() as temp:
        here = Path(temp) / "cwd" / "deeper"
        here.mkdir(parents=True)
        previous, saved = os.getcwd(), dict(os.environ)
        os.chdir(here)  # relative values resolve in here, where nothing else lives
        try:
            target = Path(os.path.expanduser(value)).resolve()
            assume(not target.is_dir() or target == here or Path(temp) in target.parents)
            os.environ[progress.DIR_VARIABLE] = value
            os.environ[progress.USER_VARIABLE] = "fuzz"
            progress._noted = False
            out = _printed(lambda: (check("00.1"), check("00.1")))
        finally:
            os.chdir(previous)
            os.environ.clear()
            os.environ.update(saved)
    lines = out.splitlines()
    assert sum(line.startswith("⏳ 00.1 not attempted") for line in lines) == 2
    assert sum(line.startswith(NOTE) for line in lines) <= 1
    assert len(lines) <= 3


def _printed(action: object) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        action()  # type: ignore[operator]
    return buffer.getvalue()


# Corrupted progress files (hypothesis): a bad line is skipped and counted -------------------------


def good_line(user: str, exercise: str, status: str) -> bytes:
    entry = {"exercise": exercise, "status": status, "time": "2026-12-01T12:00:00Z", "user": user}
    return json.dumps({**entry, "v": 1}).encode()


GOOD = st.builds(
    good_line,
    st.sampled_from(["alice", "bob", "carol@x.org", "Zoë"]),
    st.sampled_from(["00.1", "00.2", "05.1", "10.3"]),
    st.sampled_from(progress.STATUSES),
)
MUTATIONS = {
    "user": [None, 3, "", " lead", "a\nb", "x" * 101, ["alice"]],
    "exercise": [None, 5.1, "", "05 1", "x" * 33, "a\tb"],
    "status": [None, "won", "PASSED", 1],
    "time": [None, "yesterday", "2026-12-01 12:00:00", 0, "2026-13-01T12:00:00Z"],
    "v": [None, 2, True, 1.0, "1"],
}
MUTATED = st.sampled_from(
    [
        json.dumps({**json.loads(good_line("alice", "00.1", "passed")), key: value}).encode()
        for key, values in MUTATIONS.items()
        for value in values
    ]
    + [b'{"exercise": "00.1"}', b"[1, 2]", b'"text"', b"null", b"{" * 3000, b"\x00" * 10]
)
TORN = GOOD.flatmap(lambda line: st.integers(1, len(line) - 1).map(lambda cut: line[:cut]))
JUNK = st.one_of(
    MUTATED,
    TORN,
    st.binary(max_size=60).map(lambda data: b"\xff" + data.replace(b"\n", b"")),
    st.just(b"y" * 5000),
)


@HOSTILE
@given(
    data=st.lists(st.one_of(GOOD, JUNK), max_size=30),
    ending=st.sampled_from([b"\n", b"", b"\r\n"]),
)
def test_corrupted_file_skips_and_counts_bad_lines(data: list[bytes], ending: bytes) -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        (folder / "mixed.jsonl").write_bytes(b"\n".join(data) + (ending if data else b""))
        report = progress.read(folder)
        good = [json.loads(line) for line in data if _is_good(line)]
        bad = [line for line in data if not _is_good(line) and line.strip()]
        assert [(r.user, r.exercise, r.status) for r in report.records] == [
            (g["user"], g["exercise"], g["status"]) for g in good
        ]
        assert report.skipped == len(bad)
        assert report.files == 1
        report.text(), report.to_dict()  # a report of any of it, never a traceback


def _is_good(line: bytes) -> bool:
    try:
        data = json.loads(line)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("v") == 1 and line in _GOOD_LINES


_GOOD_LINES = {
    good_line(user, exercise, status)
    for user in ("alice", "bob", "carol@x.org", "Zoë")
    for exercise in ("00.1", "00.2", "05.1", "10.3")
    for status in progress.STATUSES
}


def test_a_torn_last_line_stays_one_bad_line_when_the_next_check_appends(tmp_path: Path) -> None:
    torn = good_line("alice", "00.1", "passed")[:20]
    (tmp_path / "alice.jsonl").write_bytes(torn)
    progress.record("00.2", "failed", folder=tmp_path, user="alice", now=NOON)
    report = progress.read(tmp_path)
    assert [(r.exercise, r.status) for r in report.records] == [("00.2", "failed")]
    assert report.skipped == 1


def test_unreadable_entries_are_named_not_fatal(tmp_path: Path) -> None:
    write_records(tmp_path, "alice", ("00.1", "passed"))
    os.mkfifo(tmp_path / "fifo.jsonl")  # reading a FIFO would block
    (tmp_path / "folder.jsonl").mkdir()
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "alice.jsonl")
    report = progress.read(tmp_path)
    assert len(report.records) == 1 and report.files == 1
    assert sorted(name.split(" ")[0] for name in report.unreadable) == [
        "fifo.jsonl",
        "folder.jsonl",
        "link.jsonl",
    ]


def test_concurrent_appends_of_one_user_never_interleave(tmp_path: Path) -> None:
    """Four processes (a learner's four kernels) append 200 records each to one file."""
    code = (
        "import sys; from labkit import progress\n"
        "for i in range(200):\n"
        "    progress.record('05.%d' % (i % 7 + 1), 'failed', folder=sys.argv[1], user='alice')\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)]) for _ in range(4)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    report = progress.read(tmp_path)
    assert len(report.records) == 800 and report.skipped == 0


# The report --------------------------------------------------------------------------------------


@pytest.fixture
def room(tmp_path: Path) -> Path:
    write_records(tmp_path, "alice", ("00.1", "passed"), ("00.2", "failed"), ("00.2", "passed"))
    write_records(
        tmp_path, "bob", ("00.1", "failed"), ("00.2", "failed"), ("00.10", "not attempted")
    )
    write_records(tmp_path, "carol", ("00.1", "not attempted"), ("00.2", "failed"))
    write_records(tmp_path, "dave", ("00.2", "passed"), ("00.1", "failed"), ("00.1", "passed"))
    return tmp_path


def test_report_says_who_finished_what(room: Path) -> None:
    report = progress.read(room)
    assert report.users() == ["alice", "bob", "carol", "dave"]
    assert report.exercises() == ["00.1", "00.2", "00.10"]  # numbered order, not text order
    assert report.states() == {
        "alice": {"00.1": "passed", "00.2": "passed"},
        "bob": {"00.1": "failed", "00.2": "failed", "00.10": "not attempted"},
        "carol": {"00.1": "not attempted", "00.2": "failed"},
        "dave": {"00.1": "passed", "00.2": "passed"},  # a pass counts once made
    }


def test_report_says_where_the_room_is_stuck(room: Path) -> None:
    report = progress.read(room)
    assert report.stuck() == [("00.2", ["bob", "carol"]), ("00.1", ["bob"])]
    last = report.last_failed()
    assert {user: (r.exercise, r.time) for user, r in last.items()} == {
        "bob": ("00.2", "2026-12-01T12:01:00Z"),
        "carol": ("00.2", "2026-12-01T12:01:00Z"),
    }


def test_report_text_is_a_table_of_marks(room: Path) -> None:
    text = progress.read(room).text().splitlines()
    assert text[0] == f"{room}: 4 users, 3 exercises, 11 checks in 4 files"
    table = {line.split()[0]: line.split()[1:] for line in text[2:7]}
    assert table == {
        "user": ["00.1", "00.2", "00.10"],
        "alice": ["✓", "✓", "·"],
        "bob": ["✗", "✗", "·"],
        "carol": ["·", "✗", "·"],
        "dave": ["✓", "✓", "·"],
    }
    assert "  00.2     2 users: bob, carol" in text
    assert any(line.split() == ["bob", "00.2", "at", "2026-12-01T12:01:00Z"] for line in text)


def test_reading_a_bad_folder_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    for folder, words in [
        (tmp_path / "nope", "does not exist"),
        (tmp_path / "notes.txt", "is a file, not a folder"),
        (tmp_path, "no progress files (*.jsonl)"),
        ("", "DIR must be"),
    ]:
        with pytest.raises(progress.ProgressError) as caught:
            progress.read(folder)
        assert words in str(caught.value) and "\n" not in str(caught.value)


def test_figure_is_a_heatmap_of_users_by_exercises(room: Path) -> None:
    fig = progress.figure(room)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["alice", "bob", "carol", "dave"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["00.1", "00.2", "00.10"]
    marks = sorted(t.get_text() for t in ax.texts)
    assert marks == sorted(["✓", "✓", "·", "✗", "✗", "·", "·", "✗", "·", "✓", "✓", "·"])
    fig.canvas.draw()  # renders every mark (a missing glyph would warn, and warnings are errors)
    assert progress.figure(progress.read(room)).axes


def test_figure_of_a_folder_with_no_records_says_so(tmp_path: Path) -> None:
    (tmp_path / "alice.jsonl").write_text("not a record\n")
    with pytest.raises(progress.ProgressError, match="no records"):
        progress.figure(tmp_path)


def test_a_learner_notebook_run_in_a_real_kernel_records_every_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel inherits the server's environment (as on a hub): notebook 00, top to bottom."""
    import nbformat
    from nbclient import NotebookClient

    root = Path(__file__).resolve().parents[1]
    for name, path in {
        "JUPYTER_RUNTIME_DIR": root / ".cache" / "jupyter" / "runtime",
        "IPYTHONDIR": root / ".cache" / "ipython",
        "MPLCONFIGDIR": root / ".cache" / "matplotlib",
    }.items():
        if name not in os.environ:
            path.mkdir(parents=True, exist_ok=True)
            monkeypatch.setenv(name, str(path))
    monkeypatch.setenv(progress.DIR_VARIABLE, str(tmp_path))
    monkeypatch.setenv("JUPYTERHUB_USER", "learner-01")
    learner = root / "learner"
    nb = nbformat.read(learner / "00-start-here.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": learner}}
    ).execute()
    report = progress.read(tmp_path)
    assert report.users() == ["learner-01"]
    assert report.states() == {"learner-01": {"00.1": "not attempted", "00.2": "not attempted"}}
    assert [p.name for p in tmp_path.iterdir()] == ["learner-01.jsonl"]
