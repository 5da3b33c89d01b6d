"""Self-checking exercises: ``check``, ``hint`` and ``solution`` for every notebook.

Each notebook's exercises live in a module of this package (``anatomy`` for 01,
...). In a notebook an exercise is three cells: the task (markdown), the
learner's code (tagged ``solution`` in the instructor copy, replaced by the
exercise's ``starter`` in the learner edition), and ``check("01.1", answer)``.

``check`` never raises outside strict mode (a wrong answer, an unknown id, a
learner's function that crashes: each is one printed line), so the learner
edition runs top to bottom. With ``LABKIT_STRICT_EXERCISES=1`` (set by
``make test``) a wrong answer or an unknown id raises, so CI catches a broken
solution. ``hint`` and ``solution`` never raise.

The contract for checkers (``Exercise.verify``), so every bank reports alike:

- ``evaluate`` answers three cases before a checker runs: ``...`` (the
  untouched ``answer = ...``) and a function whose body is still a stub
  (``...``, ``pass`` or a docstring: the starter's ``def f(): ...``) are "not
  attempted"; ``None`` is wrong, with a message saying it is ``None``.
- So a checker always gets a real answer. When the learner's function returns
  ``None``, the checker returns ``NOT_ATTEMPTED`` (or its own message);
  ``evaluate`` reports that as "your function returned None". Anything else a
  checker returns is the message naming the mistake; ``None`` means correct.
- A checker may let the learner's code raise: ``evaluate`` reports it.
"""

from __future__ import annotations

import dis
import importlib
import os
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from labkit import tokens
from labkit.errors import ExerciseError, MalformedTokenError

__all__ = [
    "Exercise",
    "Verdict",
    "all_exercises",
    "check",
    "evaluate",
    "get",
    "hint",
    "solution",
    "token_answer",
]

# One module per notebook; each defines EXERCISES: tuple[Exercise, ...].
_BANKS = (
    "start",
    "anatomy",
    "signing",
    "validation",
    "unverified",
    "weak_secrets",
    "confusion",
    "injection",
    "psychic",
    "authorizer",
    "platform",
    "capstone",
    "encryption",
    "browser",
    "tokentypes",
    "dpop",
)

Checker = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``verify`` returns None when the answer is right, else what is off."""

    id: str
    title: str
    verify: Checker
    hints: tuple[str, ...]
    solution: str
    starter: str
    success: str = ""


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one answer."""

    status: Literal["correct", "wrong", "not attempted"]
    message: str

    def __str__(self) -> str:
        return self.message


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of the kit, by id, in notebook order."""
    return dict(_load())


def get(exercise_id: str) -> Exercise:
    """The exercise with this id, or a clear error listing the ids that exist."""
    bank = _load()
    if not isinstance(exercise_id, str) or exercise_id not in bank:
        known = ", ".join(bank)
        raise ExerciseError(f"no exercise {exercise_id!r}; the exercises are: {known}")
    return bank[exercise_id]


def evaluate(exercise_id: str, answer: Any = ...) -> Verdict:
    """Judge an answer without printing: not attempted, right or wrong (see the module doc)."""
    exercise = get(exercise_id)
    if answer is ...:
        return _not_attempted(exercise_id, "replace the ... with your answer and run again")
    if answer is None:
        return _wrong(
            exercise_id,
            "your answer is None: did you forget to return or assign the value?",
        )
    if _is_stub(answer):
        return _not_attempted(
            exercise_id, f"{answer.__name__}'s body is still ...: write its code and run again"
        )
    tampered = _restore(_PRISTINE)  # a cell may have rewritten the check before calling it
    if tampered:
        return _tampered(exercise_id, tampered)
    before = _kit_state(exercise)
    try:
        problem = exercise.verify(_Isolated(answer) if callable(answer) else answer)
    except Exception as exc:  # the learner's code may raise anything: report it, don't crash
        problem = f"your code raised {type(exc).__name__}: {_one_line(exc)}"
    tampered = _restore(before)
    if tampered:
        return _tampered(exercise_id, tampered)
    if problem is None:
        return Verdict("correct", f"✅ {exercise_id} correct. {exercise.success}".rstrip())
    if problem == NOT_ATTEMPTED:
        if isinstance(answer, types.FunctionType):
            return _wrong(
                exercise_id,
                f"your function {_name(answer)}returned None: did you forget to return the result?",
            )
        return _not_attempted(exercise_id, "fill in the starter code")
    return _wrong(exercise_id, str(problem))


def check(exercise_id: str, answer: Any = ...) -> None:
    """Print a friendly verdict on ``answer``; only in strict mode does a wrong answer raise.

    With ``LABKIT_PROGRESS_DIR`` set, the verdict's status (never the answer) is recorded for
    the instructor too: see ``labkit.progress``.
    """
    strict = os.environ.get("LABKIT_STRICT_EXERCISES") == "1"
    try:
        verdict = evaluate(exercise_id, answer)
    except ExerciseError as exc:  # an unknown id
        if not strict:
            print(f"⚠️ {exc.message}")
        _record(exercise_id, "error")
        if strict:
            raise
        return
    print(verdict)
    _record(exercise_id, verdict.status)
    if verdict.status == "wrong" and strict:
        raise ExerciseError(f"exercise {exercise_id} failed in strict mode: {verdict.message}")


def _record(exercise_id: object, status: str) -> None:
    """Tell ``labkit.progress`` when an instructor set LABKIT_PROGRESS_DIR (else not imported)."""
    if os.environ.get("LABKIT_PROGRESS_DIR"):
        from labkit import progress

        progress.checked(exercise_id, status)  # never raises: a check always answers


def hint(exercise_id: str, n: int = 1) -> None:
    """Print hint ``n`` (1 is the gentlest; later ones give more away); never raises."""
    try:
        hints = get(exercise_id).hints
    except ExerciseError as exc:
        print(f"⚠️ {exc.message}")
        return
    if isinstance(n, bool) or not isinstance(n, int):
        print(f"⚠️ hint({exercise_id!r}, n): n is a hint number from 1 to {len(hints)}, not {n!r}")
        return
    if not 1 <= n <= len(hints):
        print(
            f"⚠️ {exercise_id} has hints 1 to {len(hints)}, not {n}: "
            f"try hint({exercise_id!r}, {len(hints) if n > len(hints) else 1}), "
            f"or solution({exercise_id!r})"
        )
        return
    more = f"  (more: hint({exercise_id!r}, {n + 1}))" if n < len(hints) else ""
    print(f"💡 Hint {n} of {len(hints)} for {exercise_id}: {hints[n - 1]}{more}")


def solution(exercise_id: str) -> None:
    """Print a worked solution: try the hints first. Never raises."""
    try:
        text = get(exercise_id).solution.strip()
    except ExerciseError as exc:
        print(f"⚠️ {exc.message}")
        return
    print(f"# Solution to {exercise_id}\n{text}")


ANSWER_TIMEOUT = 30.0
"""Seconds one call of a learner's function may take before the check gives up on it
(``LABKIT_ANSWER_TIMEOUT`` overrides it, e.g. for a slow shared JupyterHub)."""


def _answer_timeout() -> float:
    try:
        return max(0.1, float(os.environ.get("LABKIT_ANSWER_TIMEOUT", ANSWER_TIMEOUT)))
    except ValueError:
        return ANSWER_TIMEOUT


class _Isolated:
    """The learner's callable, run on a thread of its own each time the checker calls it.

    So its caller's frame is a thread's start, not the checker's: a function that
    reads the expected answer out of the checker's locals
    (``sys._getframe(1).f_locals["expected"]``) finds nothing there. Attributes
    (``__code__``, ``__globals__``, ``__name__``) are the learner's own.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self._function = function

    def __getattr__(self, name: str) -> Any:
        return getattr(self._function, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["value"] = self._function(*args, **kwargs)
            except BaseException as exc:  # handed to the checker's thread, as if raised there
                outcome["error"] = exc

        worker = threading.Thread(target=run, name="labkit-answer", daemon=True)
        worker.start()
        timeout = _answer_timeout()
        worker.join(timeout)
        if worker.is_alive():  # a loop that never ends must not hang the learner's kernel
            raise TimeoutError(
                f"it did not return within {timeout:g} s (an endless loop?); "
                "restart the kernel if it keeps the CPU busy"
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")


# Module globals the kit itself sets lazily (caches built on first use): not tampering.
_LAZY_STATE = frozenset({"labkit.aws.authorizer._from_env", "labkit.attacks.crack._WORKER"})

_State = list[tuple[Any, dict[str, Any]]]


def _kit_state(exercise: Exercise) -> _State:
    """Every labkit module's globals and the exercise's own fields, as they are now.

    A learner's code runs in the checker's process and could rebind what the check
    reads (its cases, thresholds, the reference verifier): comparing afterwards
    catches that, and restoring keeps one bad cell from corrupting later checks.
    """
    modules = [
        module
        for name, module in list(sys.modules.items())
        if module is not None and (name == "labkit" or name.startswith("labkit."))
    ]
    return [(module, dict(vars(module))) for module in modules] + [(exercise, dict(vars(exercise)))]


# The checkers as loaded: labkit.exercises' own modules and every Exercise (filled by _load).
_PRISTINE: _State = []


def _tampered(exercise_id: str, names: list[str]) -> Verdict:
    return _wrong(
        exercise_id,
        f"your code changed the kit itself ({', '.join(names[:3])}): an answer must compute "
        "its result, not rewrite the check (restored)",
    )


def _restore(before: _State) -> list[str]:
    """Put back every name rebound or deleted since ``before``; return which ones, if any."""
    changed = []
    for owner, saved in before:
        current = vars(owner)
        label = getattr(owner, "__name__", None) or f"exercise {getattr(owner, 'id', '?')}"
        for key, value in saved.items():
            if key in current and current[key] is value:
                continue
            if f"{label}.{key}" in _LAZY_STATE:
                continue
            changed.append(f"{label}.{key}")
            object.__setattr__(owner, key, value)  # modules and frozen dataclasses alike
    return changed


def _not_attempted(exercise_id: str, what: str) -> Verdict:
    return Verdict("not attempted", f"⏳ {exercise_id} not attempted yet: {what}.")


def _wrong(exercise_id: str, problem: str) -> Verdict:
    return Verdict("wrong", f"❌ {exercise_id} not yet: {problem} (try hint({exercise_id!r}))")


def _name(function: types.FunctionType) -> str:
    return "" if function.__name__ == "<lambda>" else f"{function.__name__} "


def _one_line(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a learner's exception class may break even str()
        text = ""
    return " ".join(text.split())[:300] or "(no message)"


# Instructions a function whose body does nothing consists of, in any CPython version.
_NO_OPS = frozenset({"RESUME", "NOP", "CACHE", "EXTENDED_ARG", "COPY_FREE_VARS", "MAKE_CELL"})


def _is_stub(answer: object) -> bool:
    """True for a function whose body is only ``...``, ``pass`` or a docstring (a starter).

    Such a body compiles to "return None" and nothing else, whatever it says; a
    function that computes anything and forgets to return is not a stub, so it
    is reported as returning None instead of as not attempted.
    """
    if not isinstance(answer, types.FunctionType) or answer.__name__ == "<lambda>":
        return False  # a starter is never a lambda: `lambda s: None` is an answer
    ops = [ins for ins in dis.get_instructions(answer) if ins.opname not in _NO_OPS]
    if len(ops) == 1:  # 3.12+: RETURN_CONST None
        return ops[0].opname == "RETURN_CONST" and ops[0].argval is None
    return (
        len(ops) == 2
        and ops[0].opname == "LOAD_CONST"
        and ops[0].argval is None
        and ops[1].opname == "RETURN_VALUE"
    )


# A checker returns this when the answer is still the untouched starter code.
NOT_ATTEMPTED = "\0not attempted"


def token_answer(answer: Any, what: str = "token") -> tokens.Token | str:
    """For checkers: the answer parsed as a JWT, or one line saying why it is not one."""
    if not isinstance(answer, str):
        return f"give the {what} as a string, not {type(answer).__name__}"
    try:
        return tokens.parse(answer)
    except MalformedTokenError as exc:
        return f"that is not a well-formed token: {exc}"


@cache
def _load() -> dict[str, Exercise]:
    bank: dict[str, Exercise] = {}
    for name in _BANKS:
        module = importlib.import_module(f"{__name__}.{name}")
        for exercise in module.EXERCISES:
            if exercise.id in bank:
                raise ExerciseError(f"exercise id {exercise.id} is defined twice")
            bank[exercise.id] = exercise
    own = [module for name, module in list(sys.modules.items()) if name.startswith(f"{__name__}.")]
    _PRISTINE[:] = [(module, dict(vars(module))) for module in [sys.modules[__name__], *own]]
    _PRISTINE.extend((exercise, dict(vars(exercise))) for exercise in bank.values())
    return bank
