"""labkit.exercises: verdicts, hints, strict mode, and agreement with the notebooks."""

from __future__ import annotations

import json
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
    assert evaluate("00.1", None).status == "not attempted"


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
    with pytest.raises(ExerciseError, match="has hints 1 to 2, not 3"):
        hint("01.1", 3)


def test_unknown_exercise_lists_the_known_ones() -> None:
    with pytest.raises(ExerciseError, match=r"no exercise '9.9'; the exercises are: 00.1, 00.2"):
        check("9.9", 1)


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
