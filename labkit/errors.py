"""One exception hierarchy for the kit.

Every error carries a one-line message that says what was wrong and, where it
helps, why it matters, so notebooks, the CLI and the gateway can show it as-is.
"""

from __future__ import annotations

__all__ = [
    "BadSignatureError",
    "ConfigurationError",
    "CriticalHeaderError",
    "DisallowedAlgorithmError",
    "ExerciseError",
    "ExpiredTokenError",
    "InvalidAudienceError",
    "InvalidClaimError",
    "InvalidIssuerError",
    "InvalidTokenError",
    "JweError",
    "KeyFormatError",
    "KeyNotFoundError",
    "LabkitError",
    "MalformedTokenError",
    "MissingClaimError",
    "NotYetValidError",
    "UnsafeKeyError",
    "shown",
]


class LabkitError(Exception):
    """Base of every error the kit raises on purpose."""

    def __init__(self, message: str, why: str | None = None) -> None:
        self.message = _one_line(message)
        self.why = None if why is None else _one_line(why)
        super().__init__(f"{self.message}; {self.why}" if self.why else self.message)


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for an error message: one line, at most ``limit`` characters.

    Messages quote what they refuse, and untrusted input can be huge: a
    1,000-digit number, or an int whose ``repr`` Python itself refuses.
    """
    try:
        text = repr(value)
    except ValueError:  # an int over CPython's 4,300-digit str conversion limit
        digits = int(value.bit_length() * 0.30103) if isinstance(value, int) else 0
        text = f"<a number of about {digits:,} digits>" if digits else f"<{type(value).__name__}>"
    except Exception:  # a caller's object whose __repr__ fails
        text = f"<{type(value).__name__}>"
    text = _one_line(text)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _one_line(text: object) -> str:
    """Messages are one line (the CLI prints one, the gateway logs one): line breaks -> spaces."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # str() of a huge int, or a __str__ that fails
            return shown(text)
    return " ".join(text.splitlines())


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


class KeyNotFoundError(InvalidTokenError):
    """No key fits the token's ``kid``, or a key set cannot say which key to use."""


class CriticalHeaderError(InvalidTokenError):
    """The token lists a ``crit`` header extension this verifier does not implement."""


class JweError(InvalidTokenError):
    """The JWE must not be decrypted or trusted: malformed, disallowed, undecryptable, costly."""


class InvalidClaimError(InvalidTokenError):
    """A claim is missing, has the wrong type, or fails its check."""


class ExpiredTokenError(InvalidClaimError):
    """The ``exp`` time has passed (beyond the leeway)."""


class NotYetValidError(InvalidClaimError):
    """The ``nbf`` time has not come yet, or ``iat`` lies in the future (beyond the leeway)."""


class InvalidAudienceError(InvalidClaimError):
    """The ``aud`` claim does not name this service exactly."""


class InvalidIssuerError(InvalidClaimError):
    """The ``iss`` claim is not exactly the expected issuer."""


class MissingClaimError(InvalidClaimError):
    """A claim the verifier requires is absent."""


class KeyFormatError(LabkitError, ValueError):
    """Key material (PEM, JWK, JWKS, secret) could not be read."""


class ConfigurationError(LabkitError, ValueError):
    """The verifier was called with options that cannot work: a bug in the caller, not the token."""


class ExerciseError(LabkitError, LookupError):
    """An exercise id is unknown, or a checked answer is wrong in strict mode."""
