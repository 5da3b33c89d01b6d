"""Exercises for notebook 06: algorithm confusion."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import serialization

from labkit import examples, keys, vulnerable
from labkit.attacks.confusion import pkcs1_v15_encode
from labkit.errors import InvalidTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise
from labkit.exercises.unverified import _admin_token

__all__ = ["EXERCISES", "SERVICE", "billing_pem", "service_pem"]

SERVICE: dict[str, Any] = {
    "algorithms": ["RS256"],
    "audience": "labkit-api",
    "issuer": "https://idp.labkit.local",
    "now": examples.LAB_CLAIMS["iat"] + 1800,  # 2026-01-01T09:30:00Z, the notebooks' frozen clock
}
"""How notebook 06's services verify tokens: RS256 only, they believe."""


@cache
def service_pem() -> bytes:
    """The API's DEMO ONLY public key (``rsa``) as the SubjectPublicKeyInfo PEM it publishes."""
    return _pem("rsa", serialization.PublicFormat.SubjectPublicKeyInfo)


@cache
def billing_pem() -> bytes:
    """The billing service's copy of its DEMO ONLY key (``rsa-2``): a PKCS#1 PEM file."""
    return _pem("rsa-2", serialization.PublicFormat.PKCS1)


def _pem(name: str, fmt: serialization.PublicFormat) -> bytes:
    public = keys.demo_public_key(name)
    assert not isinstance(public, bytes), "an RSA demo key"
    return public.public_bytes(serialization.Encoding.PEM, fmt)


def _accepted_by(token: str, key: bytes) -> str | None:
    try:
        vulnerable.alg_from_header(token, key, **SERVICE)
    except InvalidTokenError as exc:
        return f"{type(exc).__name__}: {exc.message}"
    return None


def _hs256_admin(answer: Any) -> str | None:
    forged, problem = _admin_token(answer)
    if forged is None:
        return problem
    if forged.header.get("alg") != "HS256":
        return f"the header should say HS256, not {forged.header.get('alg')!r}"
    return None


def _from_pem(answer: Any) -> str | None:
    problem = _hs256_admin(answer)
    if problem is not None:
        return problem
    rejected = _accepted_by(answer, service_pem())
    return None if rejected is None else f"the API rejects it ({rejected}); HMAC with public_pem"


def _from_jwks(answer: Any) -> str | None:
    problem = _hs256_admin(answer)
    if problem is not None:
        return problem
    rejected = _accepted_by(answer, billing_pem())
    if rejected is None:
        return None
    spki = keys.demo_public_key("rsa-2").public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if _accepted_by(answer, spki) is None:
        return "right key, wrong bytes: the billing service keeps a PKCS#1 PEM, not SPKI"
    return f"the billing service rejects it ({rejected})"


def _encoder(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    cases = [(b"eyJhbGciOiJSUzI1NiJ9.e30", 128), (b"", 256), (secrets.token_bytes(40), 256)]
    for data, size in [*cases, (b"x" * 1000, 512)]:
        got = answer(data, size)
        if got is None:
            return NOT_ATTEMPTED
        if not isinstance(got, int) or isinstance(got, bool):
            return f"return the padded message as an int, not {type(got).__name__}"
        expected = pkcs1_v15_encode("RS256", data, size)
        if got != expected:
            shown = f"{got:#x}"
            shown = shown if len(shown) < 40 else f"{shown[:20]}...{shown[-16:]}"
            return (
                f"for size {size} you returned {shown}; as hex it should read "
                "0x1fff...ff00 + DigestInfo prefix + SHA-256 digest"
            )
    return None


EXERCISES = (
    Exercise(
        id="06.1",
        title="Sign with the public key",
        verify=_from_pem,
        hints=(
            "The API checks an HS256 token with HMAC-SHA256 keyed by public_pem, byte for byte.",
            "hmac.new(public_pem, labkit.tokens.signing_input(header, claims), hashlib.sha256)",
        ),
        solution="""\
import hashlib
import hmac

header = {"alg": "HS256", "typ": "JWT"}
claims = {**labkit.examples.LAB_CLAIMS, "role": "admin"}
mac = hmac.new(public_pem, labkit.tokens.signing_input(header, claims), hashlib.sha256).digest()
answer = labkit.encode(header, claims, mac)""",
        starter="answer = ...",
        success="Everything you needed was public: the key, the algorithm, the claims.",
    ),
    Exercise(
        id="06.2",
        title="From a JWKS to the right bytes",
        verify=_from_jwks,
        hints=(
            "labkit.keys.from_jwk turns the JWK back into a key; public_bytes makes a PEM of it.",
            "The billing file says BEGIN RSA PUBLIC KEY: serialization.PublicFormat.PKCS1.",
        ),
        solution="""\
from cryptography.hazmat.primitives import serialization

billing_key = keys.from_jwk(billing_jwks["keys"][0])
pkcs1_pem = billing_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
claims = {**labkit.examples.LAB_CLAIMS, "role": "admin"}
answer = labkit.sign_token(claims, pkcs1_pem, "HS256")  # the PEM bytes as an HMAC secret""",
        starter="answer = ...",
        success="One key, two PEM spellings, two HMAC secrets: tools send both.",
    ),
    Exercise(
        id="06.3",
        title="The message an RS256 signature signs",
        verify=_encoder,
        hints=(
            "00 01, then FF bytes, then 00, then the DigestInfo: SHA256_PREFIX + sha256(data).",
            "The FF run is size - len(digest_info) - 3 bytes long; int.from_bytes(..., 'big').",
        ),
        solution="""\
import hashlib

SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def emsa_pkcs1_v15(signing_input: bytes, size: int) -> int:
    digest_info = SHA256_PREFIX + hashlib.sha256(signing_input).digest()
    padded = b"\\x00\\x01" + b"\\xff" * (size - len(digest_info) - 3) + b"\\x00" + digest_info
    return int.from_bytes(padded, "big")


answer = emsa_pkcs1_v15""",
        starter="""\
SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def emsa_pkcs1_v15(signing_input: bytes, size: int) -> int:
    ...  # your code here


answer = emsa_pkcs1_v15""",
        success="No randomness anywhere: anyone can compute m, which is what the gcd needs.",
    ),
)
