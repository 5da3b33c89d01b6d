"""Exercises for notebook 06: algorithm confusion."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import serialization

from labkit import examples, keys, tokens, vulnerable
from labkit.attacks.confusion import pkcs1_v15_encode
from labkit.errors import InvalidTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise
from labkit.exercises._probes import is_starter
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
    if not forged.signature:
        return "the signature is empty: HMAC the header.payload with the key's bytes"
    return None


def _spellings(name: str) -> dict[str, bytes]:
    """The byte strings a learner may HMAC with for one RSA key, by what they are."""
    public = keys.demo_public_key(name)
    assert not isinstance(public, bytes), "an RSA demo key"
    spki = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs1 = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ssh = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    modulus = public.public_numbers().n
    return {
        "the SubjectPublicKeyInfo PEM (BEGIN PUBLIC KEY)": spki,
        "the PKCS#1 PEM (BEGIN RSA PUBLIC KEY)": pkcs1,
        "the SubjectPublicKeyInfo PEM without its final newline": spki.rstrip(b"\n"),
        "the PKCS#1 PEM without its final newline": pkcs1.rstrip(b"\n"),
        "the PEM with Windows line ends": spki.replace(b"\n", b"\r\n"),
        "the PKCS#1 PEM with Windows line ends": pkcs1.replace(b"\n", b"\r\n"),
        "the DER bytes (no PEM armour)": der,
        "the OpenSSH public key": ssh,
        "the modulus n as bytes": modulus.to_bytes((modulus.bit_length() + 7) // 8, "big"),
        "the JWK as JSON text": json.dumps(keys.to_jwk(public)).encode(),
    }


def _signed_with(token: str, candidates: dict[str, bytes]) -> str | None:
    """Which candidate HMAC-SHA256 key signed ``token``, if any."""
    jws = tokens.parse(token)
    for label, key in candidates.items():
        mac = hmac.new(key, jws.signing_input, hashlib.sha256).digest()
        if hmac.compare_digest(mac, jws.signature):
            return label
    return None


def _right_key(answer: str, name: str, held: bytes, holds: str) -> str | None:
    rejected = _accepted_by(answer, held)
    if rejected is None:
        return None
    used = _signed_with(answer, _spellings(name))
    if used is not None:
        return (
            f"right key, wrong bytes: you used {used}, but the service HMACs with {holds}, "
            "byte for byte"
        )
    return f"the service rejects it ({rejected}); HMAC with {holds}"


def _from_pem(answer: Any) -> str | None:
    problem = _hs256_admin(answer)
    if problem is not None:
        return problem
    return _right_key(answer, "rsa", service_pem(), "public_pem (SubjectPublicKeyInfo PEM)")


def _from_jwks(answer: Any) -> str | None:
    problem = _hs256_admin(answer)
    if problem is not None:
        return problem
    if _signed_with(answer, {"the API's key": service_pem()}) is not None:
        return "that is signed with the API's public_pem; the billing service has its own key"
    return _right_key(answer, "rsa-2", billing_pem(), "its PKCS#1 PEM (BEGIN RSA PUBLIC KEY)")


_ENCODER_STARTER = """\
SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def emsa_pkcs1_v15(signing_input: bytes, size: int) -> int:
    ...  # your code here


answer = emsa_pkcs1_v15"""

_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def _encoder(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    if is_starter(answer, _ENCODER_STARTER):
        return NOT_ATTEMPTED
    cases = [(b"eyJhbGciOiJSUzI1NiJ9.e30", 128), (b"", 256), (secrets.token_bytes(40), 256)]
    for data, size in [*cases, (b"x" * 1000, 512), (bytes(range(256)), 384)]:
        got = answer(data, size)
        if got is None:
            return f"your function returned None for size {size}: return the padded message"
        if isinstance(got, (bytes, bytearray)):
            return "return the padded message as an int: int.from_bytes(padded, 'big')"
        if not isinstance(got, int) or isinstance(got, bool):
            return f"return the padded message as an int, not {type(got).__name__}"
        expected = pkcs1_v15_encode("RS256", data, size)
        if got != expected:
            return f"for size {size}: {_encoding_mistake(got, data, size)}"
    return None


def _encoding_mistake(got: int, data: bytes, size: int) -> str:
    """Name the one mistake that turns the right EMSA-PKCS1-v1_5 encoding into ``got``.

    The four usual ones get four messages: byte order, the FF run's length, the
    DigestInfo prefix, the digest itself (plus the 00 separator and 00 02).
    """
    digest = hashlib.sha256(data).digest()
    right = pkcs1_v15_encode("RS256", data, size).to_bytes(size, "big")
    if got == int.from_bytes(right, "little"):
        return "you read the bytes little-endian; the integer is big-endian: 'big'"
    if got <= 0:
        return "the message is a positive integer: 00 01, FF bytes, 00, the DigestInfo"
    raw = got.to_bytes((got.bit_length() + 7) // 8, "big")  # the leading 00 is implicit
    if raw[0] == 0x02:
        return (
            "00 02 starts the encryption padding (random bytes); a signature starts "
            "00 01 and pads with FF bytes"
        )
    if raw[0] != 0x01:
        return f"the message starts {raw[:2].hex(' ')}; it must start 00 01, then FF bytes"
    run = len(raw) - 1 - len(raw[1:].lstrip(b"\xff"))
    rest = raw[1 + run :]
    expected_run = size - len(_PREFIX) - len(digest) - 3
    if rest[:1] != b"\x00":
        if rest.startswith(_PREFIX) or rest.endswith(digest):
            return "a 00 byte must separate the FF run from the DigestInfo"
        return "the padding between 00 01 and 00 must be FF bytes only"
    tail = rest[1:]
    if tail != _PREFIX + digest and tail.endswith(_PREFIX + digest):
        return "the padding between 00 01 and the 00 separator must be FF bytes only"
    if tail != _PREFIX + digest:
        if tail == digest or (tail.endswith(digest) and not tail.startswith(_PREFIX)):
            return (
                "the DigestInfo prefix is missing: SHA256_PREFIX (19 bytes naming SHA-256) "
                "goes right before the digest"
            )
        if tail == _PREFIX + hashlib.sha256(data).hexdigest().encode():
            return "that is the hex digest as text; use hashlib.sha256(...).digest() (raw bytes)"
        return (
            "the bytes after SHA256_PREFIX are not SHA-256 of signing_input: hash exactly "
            "the bytes you are given, with hashlib.sha256(...).digest()"
        )
    if run != expected_run:
        return (
            f"your FF run is {run} bytes; it should be size - len(digest_info) - 3 = "
            f"{expected_run}, so that the message is exactly size bytes"
        )
    return "compare your bytes with 00 01 FF..FF 00 SHA256_PREFIX digest"


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
        starter=_ENCODER_STARTER,
        success="No randomness anywhere: anyone can compute m, which is what the gcd needs.",
    ),
)
