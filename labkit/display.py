"""Rich notebook output: a token in colour, with a readable plain-text fallback.

The colours are from the Okabe-Ito palette, which stays distinguishable with
the common forms of colour blindness.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from labkit import tokens
from labkit.errors import ConfigurationError, shown

__all__ = ["PALETTE", "ColouredToken", "colour_token", "pretty_json"]

PALETTE = {"header": "#D55E00", "payload": "#0072B2", "signature": "#009E73"}


@dataclass(frozen=True)
class ColouredToken:
    """A compact token shown as header.payload.signature in three colours."""

    token: str

    def __post_init__(self) -> None:
        head, body, sig = tokens.split(self.token)  # MalformedTokenError if not 3 segments
        object.__setattr__(self, "token", f"{head}.{body}.{sig}")  # text, also from bytes

    def _repr_html_(self) -> str:
        head, body, sig = _segments(self.token)
        spans = [
            f'<span style="color:{PALETTE[name]}" title="{name}">{html.escape(text)}</span>'
            for name, text in zip(PALETTE, (head, body, sig), strict=True)
        ]
        legend = " ".join(
            f'<span style="color:{colour}">&#9632; {name}</span>'
            for name, colour in PALETTE.items()
        )
        dot = '<span style="color:#000">.</span>'
        return (
            '<div style="font-family:monospace;word-break:break-all;font-size:110%">'
            f"{dot.join(spans)}</div><div style='font-size:90%'>{legend}</div>"
        )

    def __repr__(self) -> str:
        parts = zip(PALETTE, _segments(self.token), strict=True)
        return "\n".join(f"{name:>9}: {text}" for name, text in parts)


def colour_token(token: str) -> ColouredToken:
    """Wrap a token so Jupyter shows its three parts in colour (checked for shape first)."""
    return ColouredToken(token)


def pretty_json(value: object) -> str:
    """JSON indented for reading; a value JSON cannot hold is shown by its ``repr``."""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=shown)
    except (ValueError, TypeError, RecursionError) as exc:  # a huge int, a circular list
        raise ConfigurationError(f"cannot show this value as JSON: {exc}") from None


def _segments(token: str) -> tuple[str, str, str]:
    head, body, sig = token.split(".")
    return head, body, sig
