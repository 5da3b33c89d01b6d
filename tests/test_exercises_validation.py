"""Notebook 03's exercises: the solutions pass, typical mistakes get a pointed message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import labkit
from labkit.exercises import evaluate, get

NOW = dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.timezone.utc)  # notebook 03's frozen clock


def solved(exercise_id: str) -> Any:
    namespace: dict[str, Any] = {"NOW": NOW, "labkit": labkit}
    exec(get(exercise_id).solution, namespace)
    return namespace["answer"]


@pytest.mark.parametrize("exercise_id", ["03.1", "03.2", "03.3"])
def test_solutions_are_correct(exercise_id: str) -> None:
    assert evaluate(exercise_id, solved(exercise_id)).status == "correct"


def test_time_window_mistakes() -> None:
    def inclusive_exp(claims: dict, now: float, leeway: float = 0) -> bool:
        return not ("exp" in claims and now - leeway > claims["exp"])

    verdict = evaluate("03.1", inclusive_exp)
    assert verdict.status == "wrong"
    assert "at now=T0+300 with leeway 0 should be not live" in verdict.message


def test_the_cve_2024_53861_shape_is_caught() -> None:
    verdict = evaluate("03.2", lambda iss, trusted: iss in trusted)
    assert verdict.status == "wrong"
    assert "issuer_ok('', 'https://idp.labkit.local') should be False" in verdict.message


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("now", "pass now=NOW"),
        ("leeway", "expired 20 s before the clock was refused"),
        ("audience", "audience 'labkit-api' but this verifier names no audience"),
        ("issuer", "issuer 'https://idp.labkit' was accepted"),
        ("required", "without 'sub' was accepted"),
    ],
)
def test_options_mistakes(drop: str, message: str) -> None:
    options = {k: v for k, v in solved("03.3").items() if k != drop}
    verdict = evaluate("03.3", options)
    assert verdict.status == "wrong"
    assert message in verdict.message
