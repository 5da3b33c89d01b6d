"""Token-type attacks: the right token of the wrong kind, for the wrong API, from the wrong issuer.

None of these forges a signature. Every token here is genuinely signed by a
provider the victim trusts; the victim only asks the wrong question of it.
Each vulnerable verifier is ``labkit.verify`` with one check left out, so it
fails exactly as the real mistake does (and the gateway presets run them):

===========================  ====================================================
vulnerable verifier          what it forgets, and the attack it lets through
===========================  ====================================================
``any_token_type``           ``typ`` and ``aud``: an ID token works as an access
                             token (RFC 8725 3.11; RFC 9068 section 4)
``untyped``                  ``typ`` only: an ID token issued to a client that
                             shares the API's identifier passes
``ignore_audience``          ``aud``: an access token minted for another API is
                             replayed here (RFC 9068 section 4, item 4)
``merged_issuers``           that keys belong to one issuer: a second trusted
                             issuer signs a token naming the first (mix-up,
                             RFC 9700 section 4.4; RFC 8725 3.8)
``login_without_nonce``      the ID token's ``nonce``: a captured ID token is
                             replayed into a new login (OIDC Core 3.1.3.7 item 11,
                             15.5.2)
===========================  ====================================================

The hardened counterparts: ``labkit.verify(..., typ="at+jwt", audience=...)``
at an API, ``labkit.verify(token, IssuerKeys({...}), ...)`` for several
issuers, and ``labkit.oidc.verify_id_token(..., nonce=...)`` at a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labkit import keys, tokens
from labkit.errors import ConfigurationError, LabkitError
from labkit.oidc import ACCESS_TOKEN_TYP
from labkit.verify import Key, verify

__all__ = [
    "PARTNER_ISSUER",
    "Partner",
    "any_token_type",
    "ignore_audience",
    "login_without_nonce",
    "merged_issuers",
    "partner",
    "untyped",
]

PARTNER_ISSUER = "https://partner-idp.labkit.local"
"""A second issuer the lab's API also trusts (a partner's, or a social login's)."""


def any_token_type(
    token: str, key: Key, *, audience: Any = None, typ: Any = None, **options: Any
) -> dict[str, Any]:
    """Verify signature, issuer and expiry, then treat whatever the IdP signed as an access token.

    The API checks that its own IdP signed the token and stops there: an ID
    token (``aud`` the client, no ``typ: at+jwt``) opens the API as well.
    """
    # THE BUG: neither the token's type nor its audience is asked for (whatever aud it has passes).
    return verify(token, key, audience=_its_own_audience(token), **options)


def untyped(token: str, key: Key, *, typ: Any = None, **options: Any) -> dict[str, Any]:
    """Every check but explicit typing: right for tokens of one kind, wrong next to an OIDC IdP.

    An ID token whose ``aud`` is the API's identifier (a console or first-party
    app registered under the same id, as Cognito's app clients often are) passes.
    """
    # THE BUG: typ is not required, so an ID token with the right aud is an access token here.
    return verify(token, key, **options)


def ignore_audience(
    token: str, key: Key, *, audience: Any = None, **options: Any
) -> dict[str, Any]:
    """A typed access token is required, but not one meant for this API."""
    # THE BUG: aud is never compared (whatever aud it has passes): partner-api's tokens replay.
    return verify(token, key, typ=ACCESS_TOKEN_TYP, audience=_its_own_audience(token), **options)


def merged_issuers(
    token: str, key_sets: Mapping[str, Key], *, issuer: Any = None, **options: Any
) -> dict[str, Any]:
    """Trust several issuers with one merged key set: any issuer's key vouches for any ``iss``."""
    merged = {"keys": [jwk for jwks in key_sets.values() for jwk in _jwks(jwks)["keys"]]}
    # THE BUG: iss and the key that signed are checked apart, never together.
    return verify(token, merged, issuer=list(key_sets), **options)


def login_without_nonce(
    id_token: str,
    key: Key,
    *,
    client_id: str,
    issuer: str,
    nonce: Any = None,
    algorithms: tuple[str, ...] = ("RS256",),
    **options: Any,
) -> dict[str, Any]:
    """A client's login that checks the ID token's signature, issuer, audience and expiry only.

    Same signature as ``labkit.oidc.verify_id_token``, which also checks ``nonce``.
    """
    # THE BUG: the nonce this login sent is never compared: an old ID token logs in again.
    return verify(
        id_token, key, algorithms=list(algorithms), audience=client_id, issuer=issuer, **options
    )


@dataclass(frozen=True)
class Partner:
    """The second trusted issuer of the mix-up lab: its issuer name, key and published JWKS."""

    issuer: str
    key: Any
    kid: str

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The partner's published keys."""
        return keys.to_jwks([keys.to_jwk(self.key.public_key(), kid=self.kid, alg="RS256")])


def partner() -> Partner:
    """The partner issuer, with the kit's second DEMO ONLY RSA key."""
    key = keys.demo_private_key("rsa-2")
    return Partner(PARTNER_ISSUER, key, keys.thumbprint(key))


def _its_own_audience(token: str) -> Any:
    """The token's own ``aud``: what a verifier that does not compare audiences accepts."""
    try:
        aud = tokens.parse(token).payload.get("aud")
    except LabkitError:
        return None  # labkit.verify says what is malformed
    return aud if isinstance(aud, (str, list)) and aud else None


def _jwks(value: Key) -> dict[str, Any]:
    if isinstance(value, dict) and isinstance(value.get("keys"), list):
        return value
    if callable(value):
        return _jwks(value())
    raise ConfigurationError("merged_issuers takes each issuer's JWKS (a dict with 'keys')")
