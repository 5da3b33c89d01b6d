"""Exercises for notebook 00: how exercises work."""

from __future__ import annotations

from typing import Any

from labkit.exercises import Exercise

_PARTS = ["header", "payload", "signature"]
# Names a learner may reach for instead: JWE's five parts, or another word for a part.
_OTHER_NAMES = {
    "claims": "payload",
    "body": "payload",
    "sig": "signature",
    "mac": "signature",
    "protected header": "header",
}


def _parts_in_order(answer: Any) -> str | None:
    if isinstance(answer, str):
        return "give a list of three names such as ['a', 'b', 'c'], not one string"
    if not isinstance(answer, (list, tuple)):
        return f"give a list of three names (order matters), not a {type(answer).__name__}"
    if not all(isinstance(part, str) for part in answer):
        return "each part's name is a string, such as 'header'"
    names = [part.strip().lower() for part in answer]
    if len(names) == 5:
        return "five parts is an encrypted token (JWE); a signed JWT (JWS) has three"
    if len(names) != 3:
        return f"a signed JWT has three parts; your list has {len(names)}"
    for name in names:
        if name in _OTHER_NAMES:
            return f"call the {_OTHER_NAMES[name]} part {_OTHER_NAMES[name]!r}, not {name!r}"
    if sorted(names) == sorted(_PARTS):
        return None if names == _PARTS else "right parts, wrong order"
    if len(set(names)) < 3:
        return "each part appears once"
    return "use the names header, payload and signature"


def _anyone_can_read(answer: Any) -> str | None:
    if isinstance(answer, str):
        return f"answer the bool True or False, not the string {answer!r}"
    if not isinstance(answer, bool):
        return f"answer True or False, not {answer!r}"
    if answer is False:
        return (
            "a signed token's payload is only base64url-encoded, not encrypted: anyone "
            "holding the token can decode it, no key needed"
        )
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
        success="Never put secrets in a signed JWT's payload: signed is not encrypted (JWE is).",
    ),
)
