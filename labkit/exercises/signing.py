"""Exercises for notebook 02: signing algorithms."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from labkit import algorithms, examples, keys, tokens
from labkit.errors import MalformedTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise

# 02.1: Alice's claims with the demo secret, then other claims with another 32+ byte secret
# (PyJWT, which the notebook also uses, warns about shorter HMAC keys).
_HS256_CASES: tuple[tuple[dict[str, Any], bytes], ...] = (
    (examples.LAB_CLAIMS, keys.demo_secret()),
    ({"sub": "bob", "role": "admin", "scope": ["read", "write"]}, b"another-secret-" * 3),
)
_ES_ALGS = ("ES256", "ES384", "ES512")
_THUMBPRINT_KEYS = ("rsa", "p256", "p384", "ed25519")
# RFC 7638 section 3.2 (RSA, EC) and RFC 8037 section 2 (OKP): the members a thumbprint hashes.
_REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def _hs256_token(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for claims, secret in _HS256_CASES:
        got = answer(dict(claims), secret)
        if got is None:
            return NOT_ATTEMPTED
        if not isinstance(got, str):
            return f"return the token as a str, not {type(got).__name__}"
        expected = algorithms.sign_token(claims, secret, "HS256")
        if got == expected:
            continue
        try:
            token = tokens.parse(got)
        except MalformedTokenError as exc:
            return f"that is not a well-formed token: {exc}"
        head, body, _ = got.split(".")
        want_head, want_body, _ = expected.split(".")
        if token.header != {"alg": "HS256", "typ": "JWT"}:
            return 'the header should be exactly {"alg": "HS256", "typ": "JWT"}'
        if token.payload != claims:
            return "the payload segment should hold the claims you were given"
        if (head, body) != (want_head, want_body):
            return "right JSON, different bytes: use json.dumps(..., separators=(',', ':'))"
        return (
            "header and payload are right but the signature is not: HMAC-SHA256 the ASCII "
            "bytes of 'header.payload' with the secret, then base64url the 32 bytes"
        )
    return None


def _raw_to_der(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for alg in _ES_ALGS:
        key = keys.demo_key_for(alg)
        raw = algorithms.sign(alg, key, b"header.payload")
        got = answer(raw)
        if got is None:
            return NOT_ATTEMPTED
        if not isinstance(got, bytes):
            return f"return bytes, not {type(got).__name__}"
        if got == raw:
            return f"for {alg} you returned the raw r || s unchanged; encode it as DER"
        half = len(raw) // 2
        r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        if got != encode_dss_signature(r, s):
            return (
                f"for {alg} ({len(raw)}-byte signature) that is not DER of (r, s): "
                f"r is the first {half} bytes, s the last {half}"
            )
    return None


def _thumbprint(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for name in _THUMBPRINT_KEYS:
        jwk = keys.to_jwk(keys.demo_public_key(name))  # has use and kid too, as published JWKs do
        got = answer(dict(jwk))
        if got is None:
            return NOT_ATTEMPTED
        if not isinstance(got, str):
            return f"return the thumbprint as a base64url str, not {type(got).__name__}"
        if got == keys.thumbprint(jwk):
            continue
        return f"for the demo {name!r} key ({jwk['kty']}): {_thumbprint_mistake(jwk, got)}"
    return None


def _thumbprint_mistake(jwk: dict[str, Any], got: str) -> str:
    """Name the usual mistake by recomputing the thumbprint with it."""
    names = _REQUIRED[jwk["kty"]]
    required = {name: jwk[name] for name in names}
    digest = hashlib.sha256(json.dumps(required, separators=(",", ":")).encode()).digest()
    variants = {
        "hash only the required members (drop kid, use, alg)": json.dumps(
            jwk, sort_keys=True, separators=(",", ":")
        ),
        "no whitespace in the JSON: separators=(',', ':')": json.dumps(required, sort_keys=True),
        "sort the member names": json.dumps(
            {name: value for name, value in jwk.items() if name in names}, separators=(",", ":")
        ),
    }
    for advice, text in variants.items():
        if got == tokens.b64url_encode(hashlib.sha256(text.encode()).digest()):
            return advice
    if got.lower() == digest.hex():
        return "base64url-encode the 32-byte digest, not hex"
    if got in (base64.b64encode(digest).decode(), base64.urlsafe_b64encode(digest).decode()):
        return "use base64url without '=' padding"
    return "that is not its RFC 7638 thumbprint"


EXERCISES = (
    Exercise(
        id="02.1",
        title="An HS256 token from scratch",
        verify=_hs256_token,
        hints=(
            "Three steps: base64url the compact JSON of header and claims, join them with '.', "
            "then HMAC-SHA256 that string's bytes and append '.' + base64url(signature).",
            "json.dumps(part, separators=(',', ':')), labkit.b64url_encode(...), and "
            "hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()",
        ),
        solution="""\
import hashlib
import hmac
import json


def hs256_token(claims: dict, secret: bytes) -> str:
    def segment(part: dict) -> str:
        return labkit.b64url_encode(json.dumps(part, separators=(",", ":")))

    signing_input = segment({"alg": "HS256", "typ": "JWT"}) + "." + segment(claims)
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + labkit.b64url_encode(signature)


answer = hs256_token""",
        starter="""\
def hs256_token(claims: dict, secret: bytes) -> str:
    ...  # your code here


answer = hs256_token""",
        success="Byte for byte what PyJWT makes: a JWT library is JSON, base64url and one MAC.",
    ),
    Exercise(
        id="02.2",
        title="From JWS back to DER",
        verify=_raw_to_der,
        hints=(
            "Split the signature in the middle: r is the first half, s the second, both "
            "big-endian; encode_dss_signature(r, s) writes the DER.",
            "half = len(signature) // 2; r = int.from_bytes(signature[:half], 'big'): "
            "ES512's halves are 66 bytes, because P-521 numbers are 521 bits.",
        ),
        solution="""\
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def raw_to_der(signature: bytes) -> bytes:
    half = len(signature) // 2
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    return encode_dss_signature(r, s)


answer = raw_to_der""",
        starter="""\
def raw_to_der(signature: bytes) -> bytes:
    ...  # your code here


answer = raw_to_der""",
        success="Every JWS library does this before it calls a DER-speaking crypto library.",
    ),
    Exercise(
        id="02.3",
        title="A kid from the key itself",
        verify=_thumbprint,
        hints=(
            "Keep only the required members (REQUIRED[jwk['kty']]), dump them as JSON with "
            "sorted keys and no whitespace, SHA-256 the UTF-8 bytes, base64url the digest.",
            "json.dumps(members, sort_keys=True, separators=(',', ':')), then "
            "labkit.b64url_encode(hashlib.sha256(text.encode()).digest())",
        ),
        solution="""\
import hashlib
import json

REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def my_thumbprint(jwk: dict) -> str:
    members = {name: jwk[name] for name in REQUIRED[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return labkit.b64url_encode(hashlib.sha256(canonical.encode()).digest())


answer = my_thumbprint""",
        starter="""\
REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def my_thumbprint(jwk: dict) -> str:
    ...  # your code here


answer = my_thumbprint""",
        success="Same key, same kid, whoever computes it: that is why RFC 7638 fixes every byte.",
    ),
)
