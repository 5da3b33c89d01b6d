"""Every exercise of the kit is held to a bank of answers: look-alikes refused, variants accepted.

The banks live in ``tests/test_banks_*.py`` (one file per group of notebooks); this test reads
them all and asserts that no exercise is missing and none has fewer than ``MIN_WRONG`` wrong or
``MIN_RIGHT`` right answers. ``python tests/test_exercise_banks.py`` prints the inventory.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from labkit import exercises

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from exercise_banks import MIN_RIGHT, MIN_WRONG, Bank  # noqa: E402


def all_banks() -> dict[str, Bank]:
    """Every bank declared in tests/test_banks_*.py, by exercise id."""
    banks: dict[str, Bank] = {}
    for path in sorted(TESTS.glob("test_banks_*.py")):
        spec = importlib.util.spec_from_file_location(f"_banks_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for exercise_id, bank in module.BANKS.items():
            assert exercise_id not in banks, f"{exercise_id} has two banks"
            banks[exercise_id] = bank
    return banks


BANKS = all_banks()


@pytest.mark.parametrize("exercise_id", list(exercises.all_exercises()))
def test_every_exercise_has_a_full_bank(exercise_id: str) -> None:
    assert exercise_id in BANKS, f"exercise {exercise_id} has no answer bank in tests/test_banks_*"
    bank = BANKS[exercise_id]
    assert len(bank.wrong) >= MIN_WRONG, f"{exercise_id}: {len(bank.wrong)} wrong answers"
    assert len(bank.right) >= MIN_RIGHT, f"{exercise_id}: {len(bank.right)} right answers"
    labels = [w.label for w in bank.wrong] + [r.label for r in bank.right]
    assert len(labels) == len(set(labels)), f"{exercise_id}: answer labels repeat"


def test_banks_name_only_real_exercises() -> None:
    assert set(BANKS) <= set(exercises.all_exercises())


if __name__ == "__main__":
    for exercise_id, bank in BANKS.items():
        classes = ", ".join(w.label for w in bank.wrong)
        print(f"{exercise_id}: {len(bank.wrong)} wrong, {len(bank.right)} right: {classes}")
