"""Self-checking exercises: ``check``, ``hint`` and ``solution`` for every notebook.

Each notebook's exercises live in a module of this package (``anatomy`` for 01,
...). In a notebook an exercise is three cells: the task (markdown), the
learner's code (tagged ``solution`` in the instructor copy, replaced by the
exercise's ``starter`` in the learner edition), and ``check("01.1", answer)``.

``check`` never raises for a right answer or an untouched starter, so the
learner edition runs top to bottom. With ``LABKIT_STRICT_EXERCISES=1`` (set by
``make test``) a wrong answer raises, so CI catches a broken solution.
"""

from __future__ import annotations

import importlib
import os
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
    if exercise_id not in bank:
        known = ", ".join(bank)
        raise ExerciseError(f"no exercise {exercise_id!r}; the exercises are: {known}")
    return bank[exercise_id]


def evaluate(exercise_id: str, answer: Any = ...) -> Verdict:
    """Judge an answer without printing: untouched (``...``/None), right or wrong."""
    exercise = get(exercise_id)
    if answer is ... or answer is None:
        return Verdict(
            "not attempted",
            f"⏳ {exercise_id} not attempted yet: replace the ... with your answer and run again.",
        )
    try:
        problem = exercise.verify(answer)
    except Exception as exc:  # the learner's code may raise anything: report it, don't crash
        problem = f"your code raised {type(exc).__name__}: {exc}"
    if problem is None:
        return Verdict("correct", f"✅ {exercise_id} correct. {exercise.success}".rstrip())
    if problem == NOT_ATTEMPTED:
        return Verdict(
            "not attempted", f"⏳ {exercise_id} not attempted yet: fill in the starter code."
        )
    return Verdict("wrong", f"❌ {exercise_id} not yet: {problem} (try hint({exercise_id!r}))")


def check(exercise_id: str, answer: Any = ...) -> None:
    """Print a friendly verdict on ``answer``; in strict mode a wrong answer raises."""
    verdict = evaluate(exercise_id, answer)
    print(verdict)
    if verdict.status == "wrong" and os.environ.get("LABKIT_STRICT_EXERCISES") == "1":
        raise ExerciseError(f"exercise {exercise_id} failed in strict mode: {verdict.message}")


def hint(exercise_id: str, n: int = 1) -> None:
    """Print hint ``n`` (1 is the gentlest; later ones give more away)."""
    hints = get(exercise_id).hints
    if not 1 <= n <= len(hints):
        raise ExerciseError(f"exercise {exercise_id} has hints 1 to {len(hints)}, not {n}")
    more = f"  (more: hint({exercise_id!r}, {n + 1}))" if n < len(hints) else ""
    print(f"💡 Hint {n} of {len(hints)} for {exercise_id}: {hints[n - 1]}{more}")


def solution(exercise_id: str) -> None:
    """Print a worked solution: try the hints first."""
    print(f"# Solution to {exercise_id}\n{get(exercise_id).solution.strip()}")


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
    return bank
