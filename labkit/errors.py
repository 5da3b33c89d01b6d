"""One exception hierarchy for the kit.

Every error carries a one-line message that says what was wrong and, where it
helps, why it matters, so notebooks, the CLI and the gateway can show it as-is.
"""

from __future__ import annotations

__all__ = [
    "BadSignatureError",
    "DisallowedAlgorithmError",
    "ExerciseError",
    "InvalidTokenError",
    "KeyFormatError",
    "LabkitError",
    "MalformedTokenError",
    "UnsafeKeyError",
]


class LabkitError(Exception):
    """Base of every error the kit raises on purpose."""

    def __init__(self, message: str, why: str | None = None) -> None:
        self.message = message
        self.why = why
        super().__init__(f"{message}; {why}" if why else message)


class InvalidTokenError(LabkitError):
    """The token must not be trusted; the message says why."""


class MalformedTokenError(InvalidTokenError):
    """The token is not a well-formed compact JWS (segments, base64url, JSON)."""


class BadSignatureError(InvalidTokenError):
    """The signature does not match the signing input under the given key."""


class DisallowedAlgorithmError(InvalidTokenError):
    """The token's algorithm is not one the caller allowed, or is unknown."""


class UnsafeKeyError(InvalidTokenError):
    """The key does not fit the algorithm, or is too weak to trust."""


class KeyFormatError(LabkitError, ValueError):
    """Key material (PEM, JWK, JWKS, secret) could not be read."""


class ExerciseError(LabkitError, LookupError):
    """An exercise id is unknown, or a checked answer is wrong in strict mode."""
