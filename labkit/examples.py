"""Example tokens the notebooks take apart, with where each comes from.

Fixed values, so every notebook run prints the same bytes.
"""

from __future__ import annotations

from functools import cache

from labkit import algorithms, keys

__all__ = [
    "ARTICLE_TOKEN",
    "CLASSIC_SECRET",
    "CLASSIC_TOKEN",
    "LAB_CLAIMS",
    "lab_token",
]

# The HS256 example every JWT tutorial shows (RFC 7519's claims style, jwt.io's secret).
CLASSIC_SECRET = "your-256-bit-secret"
CLASSIC_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

# The source article's "final JWT": its payload says "role":"adm" but it carries the
# classic token's signature, so it does not verify. Exactly what a tampered token looks like.
ARTICLE_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwicm9sZSI6ImFkbSJ9"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

# Alice's login token on the kit's demo API (fixed times: issued 2026-01-01T09:00:00Z, 1 h life).
LAB_CLAIMS = {
    "iss": "https://idp.labkit.local",
    "sub": "alice",
    "aud": "labkit-api",
    "role": "reader",
    "iat": 1767258000,
    "exp": 1767261600,
}


@cache
def lab_token() -> str:
    """Alice's HS256 token, signed with the kit's DEMO ONLY secret."""
    return algorithms.sign_token(LAB_CLAIMS, keys.demo_secret(), "HS256")
