"""JWT Lab Kit: take JSON Web Tokens apart, sign them, break them and defend them.

``labkit`` is the helper package behind the kit's notebooks. Importing it has no
side effects: nothing is read, written or started until you call something.

Only what ``labkit.verify`` needs loads with the package (the Lambda
authorizer imports it, and a cold start pays for every module). ``catalog``,
``display``, ``examples`` and ``exercises`` load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Eager: the verifier and what it is built from. ``verify`` must stay eager: importing the
# submodule ``labkit.verify`` sets the package attribute to the module, and only this import,
# run after it, makes ``labkit.verify`` the function again.
from labkit import algorithms, claims, keys, tokens
from labkit.algorithms import sign_token
from labkit.errors import (
    BadSignatureError,
    ConfigurationError,
    CriticalHeaderError,
    DisallowedAlgorithmError,
    ExerciseError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidTokenError,
    KeyFormatError,
    KeyNotFoundError,
    LabkitError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
    UnsafeKeyError,
)
from labkit.tokens import Jws, Token, b64url_decode, b64url_encode, encode, parse, parse_jws
from labkit.verify import verify, verify_jws  # the function shadows the module name on purpose

if TYPE_CHECKING:
    from labkit import catalog, display, examples, exercises

__version__ = "0.1.0"

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
    "Jws",
    "KeyFormatError",
    "KeyNotFoundError",
    "LabkitError",
    "MalformedTokenError",
    "MissingClaimError",
    "NotYetValidError",
    "Token",
    "UnsafeKeyError",
    "__version__",
    "algorithms",
    "b64url_decode",
    "b64url_encode",
    "catalog",
    "claims",
    "display",
    "encode",
    "examples",
    "exercises",
    "keys",
    "parse",
    "parse_jws",
    "sign_token",
    "tokens",
    "verify",
    "verify_jws",
]

_LAZY = ("catalog", "display", "examples", "exercises")


def __getattr__(name: str) -> Any:
    """Load the notebook-side modules on first use (the authorizer never needs them)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f"{__name__}.{name}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
