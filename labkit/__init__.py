"""JWT Lab Kit: take JSON Web Tokens apart, sign them, break them and defend them.

``labkit`` is the helper package behind the kit's notebooks. Importing it has no
side effects: nothing is read, written or started until you call something.
"""

from __future__ import annotations

from labkit import algorithms, catalog, claims, display, examples, exercises, keys, tokens
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
