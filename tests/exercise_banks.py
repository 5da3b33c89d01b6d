"""Banks of answers every exercise check is held to: insecure look-alikes it must refuse.

Not a test module. Each ``tests/test_banks_*.py`` declares ``BANKS: dict[str, Bank]``
(exercise id -> bank) and calls ``bank_tests(BANKS)`` to get its parametrized tests; the
coverage test in ``tests/test_exercise_banks.py`` reads every bank and asserts each exercise
of the kit has at least ``MIN_WRONG`` wrong answers (insecure look-alikes first) and
``MIN_RIGHT`` right ones written differently from the solution.

A wrong answer is ``Wrong(label, answer, says)``: ``label`` names the look-alike class (it is
the test id and the note's inventory), ``answer`` is what a learner would bind to ``answer``,
and ``says`` is a fragment the refusal message must contain, so the message names the mistake.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from labkit.exercises import evaluate

MIN_WRONG = 5
MIN_RIGHT = 2


@dataclass(frozen=True)
class Wrong:
    """An answer the check must refuse, and a fragment its message must contain."""

    label: str
    answer: Any
    says: str


@dataclass(frozen=True)
class Right:
    """A correct answer written differently from the bank's solution."""

    label: str
    answer: Any


@dataclass(frozen=True)
class Bank:
    """The wrong and right answers for one exercise."""

    wrong: tuple[Wrong, ...]
    right: tuple[Right, ...]
    setup: Callable[[], None] | None = field(default=None, compare=False)


def reads_the_checkers_locals(*args: Any) -> Any:  # computes nothing: the cheat itself
    """An "answer" that returns the checker's expected value from its caller's frame."""
    return sys._getframe(1).f_locals.get("expected")


def extended(
    banks: dict[str, Bank],
    wrong: dict[str, tuple[Wrong, ...]],
    right: dict[str, tuple[Right, ...]],
) -> dict[str, Bank]:
    """``banks`` with more answers added per exercise (a later review's finds, kept apart)."""
    return {
        eid: replace(
            bank, wrong=bank.wrong + wrong.get(eid, ()), right=bank.right + right.get(eid, ())
        )
        for eid, bank in banks.items()
    }


def bank_tests(banks: dict[str, Bank]) -> tuple[Callable[..., None], Callable[..., None]]:
    """Two parametrized tests over ``banks``: every wrong answer refused, every right accepted."""
    wrong_cases = [
        pytest.param(eid, w, id=f"{eid}-wrong-{w.label}")
        for eid, bank in banks.items()
        for w in bank.wrong
    ]
    right_cases = [
        pytest.param(eid, r, id=f"{eid}-right-{r.label}")
        for eid, bank in banks.items()
        for r in bank.right
    ]

    @pytest.mark.parametrize(("exercise_id", "wrong"), wrong_cases)
    def test_wrong_answer_is_refused(exercise_id: str, wrong: Wrong) -> None:
        _setup(banks[exercise_id])
        verdict = evaluate(exercise_id, wrong.answer)
        assert verdict.status == "wrong", f"{wrong.label}: {verdict.message}"
        assert wrong.says in verdict.message, f"{wrong.label}: {verdict.message}"

    @pytest.mark.parametrize(("exercise_id", "right"), right_cases)
    def test_right_answer_is_accepted(exercise_id: str, right: Right) -> None:
        _setup(banks[exercise_id])
        verdict = evaluate(exercise_id, right.answer)
        assert verdict.status == "correct", f"{right.label}: {verdict.message}"

    return test_wrong_answer_is_refused, test_right_answer_is_accepted


def _setup(bank: Bank) -> None:
    if bank.setup is not None:
        bank.setup()
