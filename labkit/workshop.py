"""The workshop tools: a learner edition of the notebooks, and a check of the instructor copy.

The instructor notebooks carry every exercise's solution (a code cell tagged
``solution`` with metadata ``{"labkit": {"exercise": id}}``) so CI runs it, and
open with a banner cell (tagged ``instructor-only``) telling learners to open
the learner edition instead. The learner edition is generated from them, never
edited by hand: each solution cell becomes the exercise's ``starter`` code (so
``answer`` exists and ``check`` says "not attempted"), the banner is dropped,
every other cell is kept with its id, and all outputs are cleared. ``check``
verifies the shape that makes this work: the banner, objectives, minutes and
key points in every notebook, and for every exercise a task that mentions
``hint``, a solution equal to the bank's, and a ``check`` cell.

The repository commits the learner edition in ``learner/`` (``make learner``
runs ``mark_instructor_copies`` and then ``build``). A build is byte-for-byte
reproducible: same cell ids, sorted JSON as nbformat writes it, no outputs,
timings or widget state. It records a SHA-256 of every notebook it writes in
``OUTDIR/.labkit-build.json``, so a later build can tell a notebook a learner
has worked in from one it wrote, and refuses to overwrite the former unless
forced. A new folder it makes inside the kit's checkout (other than the committed
``learner/``) gets a ``.gitignore`` of ``*``, so neither git nor ruff (which honours
.gitignore in a git checkout) takes the generated notebooks for the kit's own.

``reset`` gives one learner notebook back as built, keeping the learner's copy
beside it as ``NAME.backup-<UTC time>.ipynb`` (never overwriting an earlier one).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import json
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
    "BANNER_ID",
    "GITIGNORE",
    "INSTRUCTOR_TAG",
    "MANIFEST",
    "SOLUTION_TAG",
    "ExerciseCell",
    "Reset",
    "WorkshopError",
    "banner_cell",
    "build",
    "check",
    "check_notebook",
    "default_source",
    "exercise_cells",
    "learner_copy",
    "mark_instructor_copies",
    "notebooks",
    "read",
    "reset",
]

SOLUTION_TAG = "solution"
"""The cell tag of an exercise's solution in the instructor notebooks."""

INSTRUCTOR_TAG = "instructor-only"
"""The cell tag of cells the learner edition leaves out (the instructor copy's banner)."""

BANNER_ID = "labkit-instructor-copy"
"""The nbformat cell id of the banner, fixed so that re-marking a notebook changes nothing."""

MANIFEST = ".labkit-build.json"
"""The file in a built edition that records each notebook's SHA-256 as written."""

GITIGNORE = (
    "# Written by `labkit workshop build`: a generated learner edition, not the kit's sources.\n"
    "*\n"
)
"""The ``.gitignore`` a build writes into a new folder inside the checkout (see ``build``)."""

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
    """A learner's copy: solutions become starter code, instructor-only cells go, no outputs."""
    bank = exercises.all_exercises()
    out = copy.deepcopy(nb)
    out.cells = [cell for cell in out.cells if INSTRUCTOR_TAG not in _tags(cell)]
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
    outdir: str | os.PathLike[str],
    source: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
) -> list[Path]:
    """Write the learner edition of every notebook (and the files beside them) into ``outdir``.

    Everything is checked before anything is written: ``outdir`` must be a usable folder outside
    the instructor notebooks, and no notebook a learner edited since the last build may be
    overwritten (or removed, when its instructor copy is gone) unless ``force`` is true.
    """
    target = _target(outdir)
    paths = notebooks(source)
    folder = paths[0].parent.resolve()
    ignored = _ignored_here(target, folder)
    if target == folder or folder in target.parents:
        raise WorkshopError(
            f"{outdir} is inside the instructor notebooks' folder; choose a folder outside it"
        )
    learner = {path.name: _dumps(learner_copy(_read_stable(path), path.name)) for path in paths}
    built = _manifest(target)
    stale = [name for name in built if name not in learner and name.endswith(".ipynb")]
    lost = [name for name in sorted({*learner, *stale}) if _edited(target / name, built, learner)]
    if lost and not force:
        raise WorkshopError(
            f"{outdir} has notebooks changed since they were built, which this build would lose: "
            f"{', '.join(lost)}; move them away, or pass --force to overwrite them"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
        if ignored:
            (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        _copy_assets(folder, target)
        for name in stale:
            (target / name).unlink(missing_ok=True)  # its instructor copy is gone
        for name, text in learner.items():
            (target / name).write_text(text, encoding="utf-8")
        (target / MANIFEST).write_text(_manifest_text(learner), encoding="utf-8")
    except OSError as exc:
        reason = _reason(exc)
        raise WorkshopError(f"cannot write the learner edition to {outdir}: {reason}") from None
    return [target / name for name in learner]


def _ignored_here(target: Path, folder: Path) -> bool:
    """Should a build into ``target`` write GITIGNORE? Only into a folder it makes itself
    inside the checkout that holds the instructor notebooks, and never into the committed
    ``learner/`` beside them (which must stay exactly what a build writes, and tracked)."""
    root = folder.parent
    return not target.exists() and root in target.parents and target != root / "learner"


@dataclass(frozen=True)
class Reset:
    """What ``reset`` did: the notebook restored, and where the learner's copy went (if any)."""

    notebook: Path
    source: Path
    backup: Path | None
    written: bool
    """False when the notebook was exactly as built already."""


def reset(
    name: str,
    folder: str | os.PathLike[str] = "learner",
    source: str | os.PathLike[str] | None = None,
    *,
    now: dt.datetime | None = None,
) -> Reset:
    """Give the learner notebook ``name`` (``05``, ``5`` or ``05-weak-secrets.ipynb``) back as
    ``build`` writes it, from the instructor copy in ``source``; keep the learner's copy.

    The copy goes to ``NAME.backup-<UTC time>.ipynb`` beside it, created exclusively (an
    earlier backup is never overwritten); an unchanged notebook needs no backup. The new
    notebook replaces the old one in a single rename, so it is never half-written.
    """
    paths = notebooks(source)
    instructor = paths[0].parent.resolve()
    place = _learner_folder(folder, instructor)
    chosen = _pick(name, paths)
    text = _dumps(learner_copy(_read_stable(chosen), chosen.name)).encode()
    target = place / chosen.name
    try:
        mine = target.read_bytes() if target.exists() else None
    except OSError as exc:
        raise WorkshopError(f"cannot read {target}: {_reason(exc)}") from None
    backup = None
    try:
        if mine is not None and mine != text:
            backup = _backup(target, mine, now or dt.datetime.now(dt.timezone.utc))
        if mine != text:
            _replace(target, text)
        _note_in_manifest(place, chosen.name, text)
    except OSError as exc:
        raise WorkshopError(f"cannot reset {target}: {_reason(exc)}") from None
    return Reset(target, chosen, backup, mine != text)


def _learner_folder(folder: object, instructor: Path) -> Path:
    if not isinstance(folder, (str, os.PathLike)) or not os.fspath(folder):
        raise WorkshopError("--dir must name the folder of learner notebooks, e.g. learner/")
    text = os.fspath(folder)
    if not isinstance(text, str) or "\0" in text:
        raise WorkshopError("--dir must be a folder path without NUL characters")
    try:
        place = Path(text).expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise WorkshopError(f"cannot use {text}: {_reason(exc)}") from None
    if not place.exists():
        raise WorkshopError(
            f"{text} does not exist: run this in the kit's folder, or pass --dir with the folder "
            "of learner notebooks"
        )
    if not place.is_dir():
        raise WorkshopError(f"{text} is a file, not a folder of learner notebooks")
    if place == instructor or instructor in place.parents:
        raise WorkshopError(
            f"{text} is the instructor notebooks' folder: reset restores learner notebooks "
            "(--dir learner/)"
        )
    return place


_NUMBER = re.compile(r"\d{1,3}")


def _pick(name: object, paths: list[Path]) -> Path:
    """The instructor notebook that ``name`` (a number, a file name, or a stem) means."""
    known = f"{paths[0].stem.split('-')[0]} to {paths[-1].stem.split('-')[0]}"
    if not isinstance(name, str) or not name.strip():
        raise WorkshopError(f"name a notebook by its number ({known}) or file name")
    given = name.strip()
    base = given.replace("\\", "/").rsplit("/", 1)[-1]
    if _NUMBER.fullmatch(base):
        found = [path for path in paths if path.stem.split("-")[0].lstrip("0") == base.lstrip("0")]
    else:
        stem = base[: -len(".ipynb")] if base.endswith(".ipynb") else base
        found = [path for path in paths if path.stem == stem]
    if len(found) != 1:
        raise WorkshopError(f"no notebook {_shown(given)}: give its number ({known}) or file name")
    return found[0]


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _backup(target: Path, data: bytes, now: dt.datetime) -> Path:
    """Write ``data`` to a backup file beside ``target`` that did not exist before."""
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for number in range(1, 1000):
        suffix = "" if number == 1 else f"-{number}"
        backup = target.with_name(f"{target.stem}.backup-{stamp}{suffix}{target.suffix}")
        try:
            with open(backup, "xb") as stream:  # exclusive: never an earlier backup
                stream.write(data)
        except FileExistsError:
            continue
        with contextlib.suppress(OSError):
            shutil.copystat(target, backup)  # the learner's own modification time
        return backup
    raise OSError(0, "999 backups with the same time stamp already exist")


def _replace(target: Path, data: bytes) -> None:
    """Write ``target`` whole or not at all: a temporary file beside it, then one rename."""
    temporary = target.with_name(f".{target.name}.labkit-reset")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _note_in_manifest(place: Path, name: str, text: bytes) -> None:
    """Keep an existing build manifest true, so a later build knows the notebook as its own."""
    if not (place / MANIFEST).is_file():
        return
    built = _manifest(place)
    if built.get(name) == _sha256(text):
        return
    built[name] = _sha256(text)
    (place / MANIFEST).write_text(_manifest_json(built), encoding="utf-8")


def mark_instructor_copies(source: str | os.PathLike[str] | None = None) -> list[Path]:
    """Put the instructor-only banner first in every instructor notebook; return those changed.

    Idempotent, and it touches nothing else: the notebook's JSON is rewritten exactly as
    nbformat writes it (sorted keys, indent 1, UTF-8, a final newline), so on a notebook
    nbformat wrote the only diff is the banner cell. A banner already first is updated in place.
    """
    changed = []
    for path in notebooks(source):
        try:
            raw = path.read_text(encoding="utf-8")
            nb = json.loads(raw)
            cells = nb["cells"]
            if not isinstance(cells, list):
                raise TypeError("'cells' is not a list")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WorkshopError(f"cannot mark {path.name}: {_reason(exc)}") from None
        banner = banner_cell(path.name, with_id=nb.get("nbformat_minor", 0) >= 5)
        if cells and isinstance(cells[0], dict) and _is_banner(cells[0]):
            cells[0] = banner
        else:
            cells.insert(0, banner)
        text = _json_text(nb)
        if text != raw:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def banner_cell(name: str, *, with_id: bool = True) -> dict[str, Any]:
    """The first cell of the instructor copy ``name``: what it is, and where learners go."""
    source = (
        "> **Instructor copy.** The exercise solutions are filled in and run, so the outputs show "
        f"the answers. **Learners:** open [`learner/{name}`](../learner/{name}) instead "
        "(starter code, no stored answers); the [README](../README.md) explains the two "
        "editions. "
        "`labkit workshop build` leaves this cell out."
    )
    cell: dict[str, Any] = {
        "cell_type": "markdown",
        "metadata": {"tags": [INSTRUCTOR_TAG]},
        "source": [source],
    }
    if with_id:  # nbformat 4.5+ notebooks give every cell an id
        cell["id"] = BANNER_ID
    return cell


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
    problems = _banner(nb, name)
    markdown = [
        cell.source
        for cell in nb.cells
        if cell.cell_type == "markdown" and INSTRUCTOR_TAG not in _tags(cell)
    ]
    if not markdown:
        return [*problems, "no markdown cells: it needs a title, objectives, minutes, key points"]
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


def _banner(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """The instructor copy must say so first, and send learners to their edition."""
    first = nb.cells[0] if nb.cells else None
    if first is None or not _is_banner(first) or first.cell_type != "markdown":
        return [
            f"the first cell is not the {INSTRUCTOR_TAG!r} banner of an instructor copy; "
            "run `make learner` (labkit.workshop.mark_instructor_copies) to add it"
        ]
    if f"learner/{name}" not in first.source:
        return [f"the {INSTRUCTOR_TAG!r} banner does not point learners to learner/{name}"]
    return []


def _is_banner(cell: Any) -> bool:
    return INSTRUCTOR_TAG in _tags(cell)


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
    """Files and folders beside the notebooks (data, images), minus hidden and cache folders
    and ``conftest.py`` (how nbval runs the instructor copies, nothing a learner opens)."""
    for entry in sorted(source.iterdir()):
        if entry.suffix == ".ipynb" or entry.name.startswith((".", "__pycache__")):
            continue
        if entry.name == "conftest.py":
            continue
        if entry.is_dir():
            shutil.copytree(
                entry,
                target / entry.name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".*", "__pycache__"),
            )
        else:
            shutil.copy2(entry, target / entry.name)


# Writing an edition -----------------------------------------------------------------------------


def _target(outdir: object) -> Path:
    """``outdir`` as an absolute folder path, or a one-line reason it cannot be one."""
    if not isinstance(outdir, (str, os.PathLike)):
        raise WorkshopError(f"OUTDIR must be a folder path, not {type(outdir).__name__}")
    text = os.fspath(outdir)
    if not isinstance(text, str) or not text.strip():
        raise WorkshopError("OUTDIR is empty: name a folder for the learner edition, e.g. learner/")
    if "\0" in text:
        raise WorkshopError("OUTDIR contains a NUL character; name a real folder")
    try:
        target = Path(text).expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise WorkshopError(f"cannot use {text} as OUTDIR: {_reason(exc)}") from None
    if target.exists() and not target.is_dir():
        raise WorkshopError(f"{text} is a file, not a folder; choose a folder for the edition")
    above = next(parent for parent in target.parents if parent.exists())
    if not above.is_dir():
        raise WorkshopError(f"cannot make {text}: {above} is a file, not a folder")
    return target


def _read_stable(path: Path) -> nbformat.NotebookNode:
    """``read``, but a cell without an id gets one derived from its place, never a random one.

    nbformat gives cells of pre-4.5 notebooks random ids on upgrade; a build must not change
    from run to run.
    """
    nb = read(path)
    try:
        raw_cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return nb  # read() accepted it, so this cannot happen in practice
    for index, (cell, raw) in enumerate(zip(nb.cells, raw_cells, strict=False)):
        if isinstance(raw, dict) and "id" not in raw:
            cell["id"] = f"{path.stem[:40]}-cell-{index}"
    return nb


def _dumps(nb: nbformat.NotebookNode) -> str:
    """A notebook as nbformat writes it, validated, ending with one newline."""
    return nbformat.writes(nb).rstrip("\n") + "\n"


def _json_text(data: object) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_text(learner: dict[str, str]) -> str:
    return _manifest_json({name: _sha256(text.encode()) for name, text in learner.items()})


def _manifest_json(hashes: dict[str, str]) -> str:
    return _json_text(
        {
            "about": "written by `labkit workshop build`: the SHA-256 of each learner notebook "
            "as built, so that a rebuild never overwrites a learner's work unasked",
            "notebooks": dict(sorted(hashes.items())),
        }
    )


def _manifest(target: Path) -> dict[str, str]:
    """The notebook hashes of the last build in ``target`` ({} if none or unreadable)."""
    try:
        hashes = json.loads((target / MANIFEST).read_text(encoding="utf-8"))["notebooks"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(hashes, dict):
        return {}
    return {str(name): str(digest) for name, digest in hashes.items() if Path(name).name == name}


def _edited(path: Path, built: dict[str, str], learner: dict[str, str]) -> bool:
    """Would writing or removing ``path`` lose something a build did not write?"""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # unreadable: do not guess, let --force decide
    if path.name in built and _sha256(data) == built[path.name]:
        return False  # exactly as the last build wrote it
    return path.name not in learner or data != learner[path.name].encode()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
