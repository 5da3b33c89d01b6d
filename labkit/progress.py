"""Progress an instructor can see: each exercise check recorded, and the room read back.

When ``LABKIT_PROGRESS_DIR`` names a folder, every ``labkit.exercises.check``
appends one line to ``DIR/<user>.jsonl``: a JSON object with the exercise id,
the status (``passed``, ``failed``, ``not attempted``, or ``error`` for an
exercise id the kit does not have), the UTC time and the user, and nothing else:
never the answer, never the message. For example (one line in the file)::

    {"exercise": "05.1", "status": "failed", "time": "2026-12-01T13:45:07Z",
     "user": "alice", "v": 1}

The user is ``LABKIT_PROGRESS_USER`` if set, else ``JUPYTERHUB_USER`` (set by
JupyterHub in every single-user server), else the operating system's user name.
The file name is the user name with every character other than ASCII letters,
digits, ``-`` and a non-leading ``.`` written as ``_`` plus its UTF-8 bytes in
hex (``alice@example.org`` -> ``alice_40example.org.jsonl``): no path
separator, hidden file or odd byte can reach the folder, and two names never
share a file.

Each line is written with a single ``write`` on a descriptor opened with
``O_APPEND`` (POSIX appends every such write whole at the end of the file, so
two kernels of one learner never interleave a line), and neither follows a
symlink nor blocks on a FIFO planted in the folder. Recording never breaks a
check: a folder that is missing, not a folder or not writable costs the learner
one printed line per session, and the check answers as always. The folder is
never created here: a typo in the variable must not scatter folders around.

Reading (``read``, ``labkit workshop progress DIR``, ``figure``) takes every
``*.jsonl`` file in the folder and skips, and counts, any line that is not a
record: a learner can write to their own file, so the report is a teaching aid
for the room, not an exam record.

``labkit.exercises`` imports this module only when ``LABKIT_PROGRESS_DIR`` is
set, so checks stay as fast as before; matplotlib is imported only by ``figure``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.errors import LabkitError

if TYPE_CHECKING:  # matplotlib is imported by figure() only
    from matplotlib.figure import Figure

__all__ = [
    "DIR_VARIABLE",
    "FORMAT_VERSION",
    "STATUSES",
    "USER_VARIABLE",
    "Progress",
    "ProgressError",
    "Record",
    "checked",
    "current_user",
    "figure",
    "file_name",
    "read",
    "record",
]

DIR_VARIABLE = "LABKIT_PROGRESS_DIR"
"""The environment variable naming the folder progress is recorded in (unset: nothing is)."""

USER_VARIABLE = "LABKIT_PROGRESS_USER"
"""Overrides who the records are for (default: ``JUPYTERHUB_USER``, else the OS user)."""

FORMAT_VERSION = 1
"""The ``v`` field of every record."""

STATUSES = ("passed", "failed", "not attempted", "error")
"""What a record can say about one check."""

SUFFIX = ".jsonl"
MAX_USER_CHARS = 100
MAX_EXERCISE_CHARS = 32
MAX_LINE_BYTES = 4096
"""A longer line is not a record (a record is under 300 bytes): skipped without reading on."""

_MAX_NAME_BYTES = 200  # the escaped user name; file systems allow 255 bytes per name
_SAFE = re.compile(r"[A-Za-z0-9.-]")
_VERDICTS = {"correct": "passed", "wrong": "failed", "not attempted": "not attempted"}
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # ISO 8601, UTC
_FIELDS = frozenset({"exercise", "status", "time", "user", "v"})


class ProgressError(LabkitError, ValueError):
    """Progress cannot be recorded or read: the folder, the user name or the record is unusable."""


@dataclass(frozen=True)
class Record:
    """One check of one exercise by one user."""

    user: str
    exercise: str
    status: str
    time: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "status": self.status,
            "time": self.time,
            "user": self.user,
            "v": FORMAT_VERSION,
        }


# Who, and which file ---------------------------------------------------------------------------


def current_user() -> str:
    """``LABKIT_PROGRESS_USER``, else ``JUPYTERHUB_USER``, else the OS user name (or ProgressError).

    ``getpass.getuser`` reads ``LOGNAME``/``USER``/... and then the password database, which a
    container may lack an entry in: that is a one-line error, not a KeyError.
    """
    for variable in (USER_VARIABLE, "JUPYTERHUB_USER"):
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    try:
        return getpass.getuser()
    except Exception:  # OSError (3.13+) or KeyError: no user name anywhere
        raise ProgressError(
            f"no user name: set {USER_VARIABLE} (no JUPYTERHUB_USER, no OS user name)"
        ) from None


def file_name(user: str) -> str:
    """The progress file of ``user`` (its name only): safe in any folder, one per user.

    Refuses (ProgressError) an empty name, one over MAX_USER_CHARS characters, or one with
    control characters; everything else is escaped, injectively, into a plain file name.
    """
    problem = _user_problem(user)
    if problem:
        raise ProgressError(f"the user name {_shown(user)} {problem}")
    escaped = "".join(
        char if _SAFE.fullmatch(char) and not (index == 0 and char == ".") else _escape(char)
        for index, char in enumerate(user)
    )
    if len(escaped.encode()) > _MAX_NAME_BYTES:
        raise ProgressError(f"the user name {_shown(user)} is too long for a file name")
    return escaped + SUFFIX


def _escape(char: str) -> str:
    return "".join(f"_{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))


def _user_problem(user: object) -> str | None:
    if not isinstance(user, str):
        return f"is a {type(user).__name__}, not text"
    if not user.strip():
        return "is empty"
    if len(user) > MAX_USER_CHARS:
        return f"is over {MAX_USER_CHARS} characters"
    if user != user.strip() or _has_control(user):
        return "has spaces around it or control characters"
    return None


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char).startswith("C") for char in text)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


# Recording ---------------------------------------------------------------------------------------


def record(
    exercise: str,
    status: str,
    *,
    folder: str | os.PathLike[str] | None = None,
    user: str | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Append one record to ``folder`` (default: ``$LABKIT_PROGRESS_DIR``); return the file.

    Raises ProgressError with the reason, in one line, if it cannot: use ``checked`` where a
    failure must not stop anything.
    """
    exercise, status = _valid_exercise(exercise), _valid_status(status)
    place = _folder(os.environ.get(DIR_VARIABLE, "") if folder is None else folder)
    who = current_user() if user is None else user
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    entry = Record(who, exercise, status, moment.strftime(_TIME_FORMAT))
    path = place / file_name(who)
    line = json.dumps(entry.to_dict(), sort_keys=True, ensure_ascii=True) + "\n"
    try:
        _append(path, line.encode("ascii"))
    except OSError as exc:
        raise ProgressError(f"cannot write {path}: {_reason(exc)}") from None
    return path


def _valid_exercise(exercise: object) -> str:
    if (
        not isinstance(exercise, str)
        or not 0 < len(exercise) <= MAX_EXERCISE_CHARS
        or _has_control(exercise)
        or any(char.isspace() for char in exercise)
    ):
        raise ProgressError(f"{_shown(exercise)} is not an exercise id to record")
    return exercise


def _valid_status(status: object) -> str:
    status = _VERDICTS.get(status, status) if isinstance(status, str) else status
    if status not in STATUSES:
        raise ProgressError(f"{_shown(status)} is not a status; one of {', '.join(STATUSES)}")
    return str(status)


def _folder(value: str | os.PathLike[str]) -> Path:
    """The folder to write in, which must exist already (never created here)."""
    try:
        text = os.fspath(value)
    except TypeError:
        raise ProgressError(f"{DIR_VARIABLE} must be a folder path") from None
    if not isinstance(text, str) or not text.strip():
        raise ProgressError(f"{DIR_VARIABLE} is empty")
    if "\0" in text:
        raise ProgressError(f"{DIR_VARIABLE} contains a NUL character")
    path = Path(os.path.expanduser(text))  # "~nobody" stays as typed (Path raises)
    try:
        if not path.is_dir():
            what = "does not exist" if not path.exists() else "is not a folder"
            raise ProgressError(f"{text} {what}")
    except OSError as exc:  # a name too long, a loop of symlinks
        raise ProgressError(f"cannot use {text}: {_reason(exc)}") from None
    return path


# Never follow a symlink, never wait on a FIFO (POSIX; Windows has neither flag).
_POSIX_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _last_byte(fd: int, size: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, 1, size - 1)
    os.lseek(fd, size - 1, os.SEEK_SET)  # Windows: O_APPEND still writes at the end
    return os.read(fd, 1)


def _append(path: Path, data: bytes) -> None:
    """One ``write`` at the end of the file; never through a symlink, never into a FIFO."""
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | _POSIX_FLAGS | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), 0o644)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file")
        if info.st_size and _last_byte(fd, info.st_size) != b"\n":
            data = b"\n" + data  # a torn last line stays one bad line, not two
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(0, f"only {written} of {len(data)} bytes written")
    finally:
        os.close(fd)


_noted = False  # the "progress not recorded" line, printed once per session


def checked(exercise: object, status: str) -> None:
    """Record one check's verdict for ``labkit.exercises.check``; never raises.

    ``status`` is the verdict's (``correct``, ``wrong``, ``not attempted``) or ``error``.
    When it cannot be recorded, one line says so, the first time only.
    """
    global _noted
    try:
        _valid_exercise(exercise)
    except ProgressError:  # check() has said the id is no exercise; nothing to record
        return
    try:
        record(exercise, status)  # type: ignore[arg-type]
    except Exception as exc:  # whatever happens here, the learner's check has answered
        if _noted:
            return
        _noted = True
        reason = exc.message if isinstance(exc, LabkitError) else _reason(exc)
        with contextlib.suppress(Exception):
            print(
                f"ℹ️ progress not recorded ({DIR_VARIABLE}): {reason}; "
                "your checks work as before (this note is shown once)",
                file=sys.stdout,
            )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# Reading -----------------------------------------------------------------------------------------


@dataclass
class Progress:
    """The records of a progress folder, and what the report says about them."""

    folder: Path
    records: list[Record] = field(default_factory=list)
    files: int = 0
    skipped: int = 0
    """Lines that are not records (corrupted, truncated, edited by hand)."""
    unreadable: list[str] = field(default_factory=list)
    """Files that could not be read (permissions, not a regular file, a symlink)."""

    def users(self) -> list[str]:
        return sorted({r.user for r in self.records}, key=lambda name: (name.casefold(), name))

    def exercises(self) -> list[str]:
        return sorted({r.exercise for r in self.records}, key=_exercise_order)

    def states(self) -> dict[str, dict[str, str]]:
        """user -> exercise -> ``passed`` (ever), else ``failed`` (tried), else ``not attempted``.

        A pass counts once made: who finished what, even if a later run of the cell failed.
        """
        rank = {"not attempted": 0, "failed": 1, "error": 1, "passed": 2}
        names = {0: "not attempted", 1: "failed", 2: "passed"}
        best: dict[str, dict[str, int]] = {}
        for r in self.records:
            mine = best.setdefault(r.user, {})
            mine[r.exercise] = max(mine.get(r.exercise, 0), rank[r.status])
        return {
            user: {ex: names[best[user][ex]] for ex in sorted(best[user], key=_exercise_order)}
            for user in self.users()
        }

    def stuck(self) -> list[tuple[str, list[str]]]:
        """Exercises some users tried and have not passed, most such users first."""
        states = self.states()
        tried = {
            ex: [user for user in states if states[user].get(ex) == "failed"]
            for ex in self.exercises()
        }
        ranked = sorted(tried.items(), key=lambda item: (-len(item[1]), _exercise_order(item[0])))
        return [(ex, users) for ex, users in ranked if users]

    def last_failed(self) -> dict[str, Record]:
        """Per user, the most recent failed check of an exercise they have not passed yet."""
        states = self.states()
        last: dict[str, Record] = {}
        for r in self.records:  # in file order: a user's file is in the order they checked
            if r.status in ("failed", "error") and states[r.user][r.exercise] == "failed":
                last[r.user] = r
        return {user: last[user] for user in self.users() if user in last}

    def to_dict(self) -> dict[str, Any]:
        """The report for machines (``labkit workshop progress DIR --json``)."""
        return {
            "folder": str(self.folder),
            "files": self.files,
            "records": len(self.records),
            "skipped_lines": self.skipped,
            "unreadable_files": self.unreadable,
            "users": self.users(),
            "exercises": self.exercises(),
            "progress": self.states(),
            "stuck": [{"exercise": ex, "users": users} for ex, users in self.stuck()],
            "last_failed": {
                user: {"exercise": r.exercise, "time": r.time}
                for user, r in self.last_failed().items()
            },
        }

    def text(self, *, plain: bool = False) -> str:
        """The report for people: a table of users x exercises, then where the room is stuck.

        ``plain`` marks cells ``+``, ``x`` and ``.`` instead of ✓, ✗ and ·, for a terminal
        that cannot show them.
        """
        users, exercises, states = self.users(), self.exercises(), self.states()
        lines = [
            f"{self.folder}: {len(users)} users, {len(exercises)} exercises, "
            f"{len(self.records)} checks in {self.files} files"
        ]
        if self.skipped:
            lines.append(f"skipped {self.skipped} lines that are not records")
        if self.unreadable:
            names = ", ".join(self.unreadable)
            lines.append(f"could not read {len(self.unreadable)} files: {names}")
        if not users:
            return "\n".join(lines)
        width = min(24, max(len("user"), *(len(user) for user in users)))
        cols = [max(len(ex), 1) for ex in exercises]
        lines.append("")
        lines.append(_row("user", exercises, width, cols))
        marks = _PLAIN if plain else _MARKS
        for user in users:
            row = [marks[states[user].get(ex, "not attempted")] for ex in exercises]
            lines.append(_row(_cut(user, width), row, width, cols))
        passed = [str(sum(states[u].get(ex) == "passed" for u in users)) for ex in exercises]
        lines.append(_row("passed", passed, width, cols))
        lines.append(
            f"{marks['passed']} passed  {marks['failed']} tried, not passed yet  "
            f"{marks['not attempted']} not attempted"
        )
        stuck = self.stuck()
        lines.append("")
        if not stuck:
            lines.append("Where the room is stuck: nowhere (no exercise tried and not passed)")
        else:
            lines.append("Where the room is stuck (tried, not passed yet):")
            for ex, who in stuck:
                count = f"{len(who)} {'user' if len(who) == 1 else 'users'}"
                lines.append(f"  {ex:<8} {count}: {_names(who)}")
        failed = self.last_failed()
        if failed:
            lines.append("Last failed, per user:")
            for user, r in failed.items():
                lines.append(f"  {_cut(user, width):<{width}}  {r.exercise} at {r.time}")
        return "\n".join(lines)


_MARKS = {"passed": "✓", "failed": "✗", "not attempted": "·"}
_PLAIN = {"passed": "+", "failed": "x", "not attempted": "."}


def read(folder: str | os.PathLike[str]) -> Progress:
    """Every record in ``folder``'s ``*.jsonl`` files; ProgressError if there are no such files."""
    path = _readable_folder(folder)
    files = sorted(entry for entry in path.iterdir() if entry.name.endswith(SUFFIX))
    if not files:
        raise ProgressError(
            f"no progress files (*{SUFFIX}) in {path}: is {DIR_VARIABLE} set to it for the "
            "learners, and has anyone run a check yet?"
        )
    progress = Progress(path)
    for file in files:
        try:
            lines = list(_lines(file))
        except OSError as exc:
            progress.unreadable.append(f"{file.name} ({_reason(exc)})")
            continue
        progress.files += 1
        for line in lines:
            entry = _parse(line)
            if entry is None:
                progress.skipped += line.strip() != b""
            else:
                progress.records.append(entry)
    return progress


def _readable_folder(folder: object) -> Path:
    if not isinstance(folder, (str, os.PathLike)) or not os.fspath(folder):
        raise ProgressError("DIR must be the progress folder's path")
    text = os.fspath(folder)
    if not isinstance(text, str) or "\0" in text:
        raise ProgressError("DIR must be a folder path without NUL characters")
    path = Path(os.path.expanduser(text))  # "~nobody" stays as typed (Path raises)
    try:
        if not path.exists():
            raise ProgressError(f"{text} does not exist: give the folder {DIR_VARIABLE} names")
        if not path.is_dir():
            raise ProgressError(f"{text} is a file, not a folder: give the folder of *{SUFFIX}")
        os.listdir(path)
    except OSError as exc:
        raise ProgressError(f"cannot read {text}: {_reason(exc)}") from None
    return path


def _lines(path: Path) -> Iterator[bytes]:
    """The file's lines, each bounded (a longer one is yielded truncated: not a record)."""
    fd = os.open(path, os.O_RDONLY | _POSIX_FLAGS | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise OSError(0, "not a regular file")
        while chunk := stream.readline(MAX_LINE_BYTES + 1):
            if len(chunk) > MAX_LINE_BYTES:
                while chunk and not chunk.endswith(b"\n"):  # skip the rest of the long line
                    chunk = stream.readline(MAX_LINE_BYTES + 1)
                yield b"\0"  # never a record
                continue
            yield chunk


def _parse(line: bytes) -> Record | None:
    """A record, or None for anything else (never raises)."""
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not data.keys() >= _FIELDS:
        return None
    if type(data["v"]) is not int or data["v"] != FORMAT_VERSION:  # not True, not 1.0
        return None
    user, exercise, status, time = data["user"], data["exercise"], data["status"], data["time"]
    if _user_problem(user) or status not in STATUSES or not isinstance(time, str):
        return None
    try:
        _valid_exercise(exercise)
        dt.datetime.strptime(time, _TIME_FORMAT)
    except (ProgressError, ValueError):
        return None
    return Record(user, exercise, status, time)


def _exercise_order(exercise: str) -> tuple[tuple[int, int | str], ...]:
    """``00.2`` before ``00.10``; ids that are not numbers after all numbered ones."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in exercise.split("."))


def _row(label: str, cells: list[str], width: int, cols: list[int]) -> str:
    padded = (f"{cell:^{w}}" for cell, w in zip(cells, cols, strict=True))
    return "  ".join([f"{label:<{width}}", *padded]).rstrip()


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _names(users: list[str], most: int = 8) -> str:
    shown = ", ".join(users[:most])
    return shown if len(users) <= most else f"{shown} and {len(users) - most} more"


# The figure --------------------------------------------------------------------------------------

# Okabe-Ito colours (colour-blind safe), like labkit.plots; the marks say it without colour too.
_COLOURS = {"not attempted": "#E8E8E8", "failed": "#E69F00", "passed": "#009E73"}


def figure(source: str | os.PathLike[str] | Progress) -> Figure:
    """The room as a heatmap: one row per user, one column per exercise, ✓ / ✗ / · in each cell.

    ``source`` is the progress folder or a ``Progress`` read from it. The figure is returned,
    not shown: a notebook cell displays it.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch

    progress = source if isinstance(source, Progress) else read(source)
    users, exercises, states = progress.users(), progress.exercises(), progress.states()
    if not users:
        raise ProgressError(f"no records in {progress.folder}: nothing to draw")
    grid = [
        [to_rgb(_COLOURS[states[user].get(ex, "not attempted")]) for ex in exercises]
        for user in users
    ]
    size = (min(16.0, 2.5 + 0.55 * len(exercises)), min(20.0, 1.8 + 0.35 * len(users)))
    fig, ax = plt.subplots(figsize=size, dpi=100, layout="constrained")
    try:
        ax.imshow(grid, aspect="auto")
        ax.set_xticks(range(len(exercises)), exercises, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(users)), [_cut(user, 24) for user in users], fontsize=8)
        ax.set_xticks([x - 0.5 for x in range(1, len(exercises))], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, len(users))], minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        for row, user in enumerate(users):
            for col, ex in enumerate(exercises):
                mark = _MARKS[states[user].get(ex, "not attempted")]
                ax.text(col, row, mark, ha="center", va="center", fontsize=9)
        labels = {
            "passed": "passed",
            "failed": "tried, not passed",
            "not attempted": "not attempted",
        }
        ax.legend(
            handles=[Patch(color=_COLOURS[key], label=label) for key, label in labels.items()],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12 - 0.25 / max(1, len(users)) ** 0.5),
            ncol=3,
            fontsize=8,
        )
        ax.set_title(f"Who passed what: {len(users)} users, {len(exercises)} exercises")
    finally:
        plt.close(fig)
    return fig
