"""labkit.exercises: verdicts, hints, strict mode, and agreement with the notebooks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit import exercises
from labkit.errors import ExerciseError
from labkit.exercises import check, evaluate, hint, solution

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = exercises.all_exercises()


def notebook_cells() -> list[tuple[str, dict]]:
    return [
        (path.name, cell)
        for path in sorted(NOTEBOOKS.glob("*.ipynb"))
        for cell in json.loads(path.read_text())["cells"]
    ]


def test_untouched_answer_is_not_attempted(capsys: pytest.CaptureFixture[str]) -> None:
    check("00.1", ...)
    assert capsys.readouterr().out.startswith("⏳ 00.1 not attempted yet")


def test_an_answer_of_none_says_so() -> None:
    verdict = evaluate("00.1", None)
    assert verdict.status == "wrong"
    assert "your answer is None: did you forget to return or assign" in verdict.message


def test_a_function_that_returns_none_says_so() -> None:
    def my_b64url_decode(segment: str) -> bytes:
        padded = segment + "=" * (-len(segment) % 4)  # computes, forgets to return
        print(padded)

    verdict = evaluate("01.1", my_b64url_decode)
    assert verdict.status == "wrong"
    assert "your function my_b64url_decode returned None: did you forget" in verdict.message
    verdict = evaluate("03.2", lambda iss, trusted: None)
    assert "your function returned None" in verdict.message


@pytest.mark.parametrize(
    "body",
    ["...", "pass", '"""A docstring."""', '"""A docstring."""\n    ...', "return None"],
)
def test_a_stub_function_is_not_attempted(body: str) -> None:
    namespace: dict = {}
    exec(f"def f(segment):\n    {body}\n", namespace)
    verdict = evaluate("01.1", namespace["f"])
    assert verdict.status == "not attempted"
    assert "f's body is still ...: write its code" in verdict.message


def test_right_and_wrong_answers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LABKIT_STRICT_EXERCISES", raising=False)
    check("00.1", ["header", "payload", "signature"])
    assert capsys.readouterr().out.startswith("✅ 00.1 correct.")
    check("00.1", ["payload", "header", "signature"])
    wrong = "❌ 00.1 not yet: right parts, wrong order (try hint('00.1'))\n"
    assert capsys.readouterr().out == wrong


def test_strict_mode_raises_on_wrong_answers_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABKIT_STRICT_EXERCISES", "1")
    check("00.2", True)
    check("00.2", ...)
    with pytest.raises(ExerciseError, match=r"exercise 00\.2 failed in strict mode"):
        check("00.2", False)


def test_learner_code_that_raises_is_reported_not_raised() -> None:
    def broken(segment: str) -> bytes:
        raise ValueError("boom")

    verdict = evaluate("01.1", broken)
    assert verdict.status == "wrong"
    assert "your code raised ValueError: boom" in verdict.message


def test_hints_and_solutions(capsys: pytest.CaptureFixture[str]) -> None:
    hint("01.1")
    assert capsys.readouterr().out.startswith("💡 Hint 1 of 2 for 01.1:")
    solution("01.1")
    assert "def my_b64url_decode" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("call", "line"),
    [
        (lambda: hint("01.1", 3), "⚠️ 01.1 has hints 1 to 2, not 3: try hint('01.1', 2)"),
        (lambda: hint("01.1", 0), "⚠️ 01.1 has hints 1 to 2, not 0: try hint('01.1', 1)"),
        (lambda: hint("01.1", "2"), "⚠️ hint('01.1', n): n is a hint number from 1 to 2, not '2'"),
        (lambda: hint("01.1", 1.0), "n is a hint number from 1 to 2, not 1.0"),
        (lambda: hint("01.1", True), "n is a hint number from 1 to 2, not True"),
        (lambda: hint("9.9"), "⚠️ no exercise '9.9'; the exercises are: 00.1, 00.2"),
        (lambda: hint(1.1), "⚠️ no exercise 1.1; the exercises are"),
        (lambda: solution("9.9"), "⚠️ no exercise '9.9'"),
    ],
)
def test_hint_and_solution_mistakes_print_one_friendly_line(
    capsys: pytest.CaptureFixture[str], call: Callable[[], None], line: str
) -> None:
    call()  # no raise, strict mode or not
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and line in out, out


def test_unknown_exercise_lists_the_known_ones(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABKIT_STRICT_EXERCISES", "1")
    with pytest.raises(ExerciseError, match=r"no exercise '9.9'; the exercises are: 00.1, 00.2"):
        check("9.9", 1)
    monkeypatch.delenv("LABKIT_STRICT_EXERCISES")
    check("9.9", 1)
    check(["00.1"], 1)
    assert capsys.readouterr().out.count("⚠️ no exercise") == 2


def test_outside_strict_mode_check_never_raises(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Nasty(Exception):
        def __str__(self) -> str:
            raise RuntimeError("even str() fails")

    def explodes(*args: object) -> object:
        raise Nasty

    monkeypatch.delenv("LABKIT_STRICT_EXERCISES", raising=False)
    for exercise_id in ALL:
        for answer in (None, 0, "x", [], {}, explodes, lambda *a: None, object()):
            check(exercise_id, answer)
    assert "your code raised Nasty: (no message)" in capsys.readouterr().out


@pytest.mark.parametrize("exercise_id", list(ALL))
def test_starter_code_counts_as_not_attempted(exercise_id: str) -> None:
    namespace: dict = {}
    exec(ALL[exercise_id].starter, namespace)
    assert evaluate(exercise_id, namespace["answer"]).status == "not attempted"


@pytest.mark.parametrize("exercise_id", list(ALL))
def test_every_exercise_is_complete(exercise_id: str) -> None:
    exercise = ALL[exercise_id]
    assert exercise.title and exercise.hints and exercise.solution.strip()
    assert "answer" in exercise.starter and "answer" in exercise.solution


def test_notebook_solution_cells_match_the_bank() -> None:
    """The instructor copy runs exactly the solution that solution() prints."""
    seen = {}
    for name, cell in notebook_cells():
        exercise_id = cell.get("metadata", {}).get("labkit", {}).get("exercise")
        if exercise_id:
            assert "solution" in cell["metadata"].get("tags", []), (name, exercise_id)
            seen[exercise_id] = "".join(cell["source"])
    assert seen == {eid: ex.solution for eid, ex in ALL.items() if eid in seen}
    notebook_ids = {name[:2] for name, _ in notebook_cells()}
    assert {eid for eid in ALL if eid[:2] in notebook_ids} == set(seen)


def test_every_exercise_in_a_notebook_is_checked() -> None:
    sources = ["".join(cell["source"]) for _, cell in notebook_cells()]
    checked = {eid for eid in ALL for src in sources if f'check("{eid}", answer)' in src}
    present = {eid for eid in ALL if any(f"Exercise {eid}" in s for s in sources)}
    assert present == checked


def test_an_answer_that_never_returns_is_reported_not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    monkeypatch.setenv("LABKIT_ANSWER_TIMEOUT", "0.2")
    release = threading.Event()

    def stuck(segment: str) -> bytes:
        release.wait(30)  # released below, so no thread outlives the test
        return b""

    try:
        verdict = evaluate("01.1", stuck)
    finally:
        release.set()
    assert verdict.status == "wrong"
    assert "did not return within 0.2 s (an endless loop?)" in verdict.message
