"""Registered, public and private claims (RFC 7519 section 4), and NumericDates.

Checks of claim values (exp, nbf, aud, iss, ...) belong to the hardened
verifier; this module names the claims and converts their times.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

__all__ = ["PUBLIC", "REGISTERED", "as_datetime", "kind"]

REGISTERED = {
    "iss": "issuer: who made and signed the token",
    "sub": "subject: whom the token is about (a user id)",
    "aud": "audience: which service(s) must accept it",
    "exp": "expiration time: reject at or after this NumericDate",
    "nbf": "not before: reject before this NumericDate",
    "iat": "issued at: when it was made",
    "jti": "JWT id: unique id, for revocation and replay checks",
}

# A few claims registered with IANA's "JSON Web Token Claims" registry by other specs
# (OpenID Connect, RFC 8693, RFC 9068): safe to use with their registered meaning.
PUBLIC = frozenset(
    {
        "name",
        "email",
        "email_verified",
        "given_name",
        "family_name",
        "scope",
        "client_id",
        "roles",
        "groups",
        "entitlements",
        "act",
        "cnf",
        "nonce",
        "auth_time",
        "azp",
        "sid",
    }
)


def kind(name: str) -> Literal["registered", "public", "private"]:
    """Which family a claim name belongs to."""
    if name in REGISTERED:
        return "registered"
    if name in PUBLIC or ":" in name:  # a collision-resistant URI name is public too
        return "public"
    return "private"


def as_datetime(seconds: float) -> dt.datetime:
    """A NumericDate (seconds since 1970-01-01T00:00:00Z) as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
