"""The notebook map: one list that 00-start-here, the README and the tests share."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOTEBOOKS", "Notebook", "NotebookMap", "notebook_map"]


@dataclass(frozen=True)
class Notebook:
    """One lesson: its file, title, minutes of teaching and exercises, and what it teaches."""

    file: str
    title: str
    teach: int
    exercises: int
    learn: str

    @property
    def minutes(self) -> int:
        return self.teach + self.exercises


NOTEBOOKS = (
    Notebook(
        "00-start-here.ipynb",
        "Start here",
        5,
        5,
        "What the kit teaches, how exercises check themselves, an environment check.",
    ),
    Notebook(
        "01-token-anatomy.ipynb",
        "Token anatomy",
        15,
        10,
        "Header, payload, signature; base64url; registered, public and private claims; "
        "decoding is not verifying.",
    ),
    Notebook(
        "02-signing-algorithms.ipynb",
        "Signing algorithms",
        20,
        15,
        "HMAC by hand; RSA PKCS#1 v1.5 and PSS; ECDSA's raw (r, s); EdDSA; JWK, JWKS and kid; "
        "size and speed per algorithm.",
    ),
    Notebook(
        "03-claims-and-validation.ipynb",
        "Claims and validation",
        20,
        15,
        "exp, nbf and iat with a frozen clock and leeway; exact aud and iss (CVE-2024-53861); "
        "required claims; what PyJWT checks by default and what labkit.verify adds.",
    ),
    Notebook(
        "05-weak-secrets.ipynb",
        "Weak secrets",
        15,
        15,
        "Cracking an HS256 secret offline with a wordlist and rules, then forging with it; "
        "time-to-crack by length and alphabet; generating and rotating real secrets; "
        "when to prefer asymmetric keys.",
    ),
)


@dataclass(frozen=True)
class NotebookMap:
    """The map as a Markdown table (shown rendered in Jupyter, as text elsewhere)."""

    notebooks: tuple[Notebook, ...]

    def _repr_markdown_(self) -> str:
        rows = [
            f"| [{nb.file[:2]}]({nb.file}) | {nb.title} | {nb.teach} + {nb.exercises} "
            f"| {nb.learn} |"
            for nb in self.notebooks
        ]
        head = "| # | Notebook | Minutes (teach + exercises) | You learn |\n|---|---|---|---|"
        return "\n".join([head, *rows])

    def __repr__(self) -> str:
        lines = [f"{nb.file[:2]}  {nb.title:<22} {nb.minutes:>3} min" for nb in self.notebooks]
        total = sum(nb.minutes for nb in self.notebooks)
        return "\n".join([*lines, f"{'':<26}{total:>3} min in all"])


def notebook_map() -> NotebookMap:
    """The notebook map, rendered as a table in Jupyter."""
    return NotebookMap(NOTEBOOKS)
