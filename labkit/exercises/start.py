"""Exercises for notebook 00: how exercises work."""

from __future__ import annotations

from typing import Any

from labkit.exercises import Exercise


def _parts_in_order(answer: Any) -> str | None:
    if not isinstance(answer, (list, tuple)):
        return f"give a list of three names, not {type(answer).__name__}"
    names = [str(part).strip().lower() for part in answer]
    if len(names) != 3:
        return f"a JWT has three parts; your list has {len(names)}"
    if sorted(names) == ["header", "payload", "signature"]:
        return None if names == ["header", "payload", "signature"] else "right parts, wrong order"
    return "use the names header, payload and signature"


def _anyone_can_read(answer: Any) -> str | None:
    if not isinstance(answer, bool):
        return "answer True or False"
    if answer is False:
        return "the payload is only base64url-encoded, not encrypted: anyone can decode it"
    return None


EXERCISES = (
    Exercise(
        id="00.1",
        title="The three parts",
        verify=_parts_in_order,
        hints=(
            "Look at the coloured token above: which part comes first?",
            "The order is the order of the dots: the part that says which algorithm, the claims, "
            "then the proof.",
        ),
        solution='answer = ["header", "payload", "signature"]',
        starter="answer = ...",
        success="Every JWS in compact form is header.payload.signature.",
    ),
    Exercise(
        id="00.2",
        title="Who can read a token?",
        verify=_anyone_can_read,
        hints=(
            "Is base64url a cipher or an encoding?",
            "An encoding needs no key to reverse.",
        ),
        solution="answer = True",
        starter="answer = ...",
        success="Never put secrets in a JWT's payload: signed is not encrypted.",
    ),
)
