"""What a forger returns: the forged token and, in one line, why it might be accepted."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Forgery"]


@dataclass(frozen=True)
class Forgery:
    """A forged token and a one-line explanation of the trick it plays on a verifier."""

    token: str
    explanation: str

    def __str__(self) -> str:
        return f"{self.explanation}: {self.token}"
