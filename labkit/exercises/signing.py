"""Exercises for notebook 02: signing algorithms."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from labkit import algorithms, examples, keys, tokens
from labkit.errors import LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise

# 02.1: Alice's claims with the demo secret, then other claims with another 32+ byte secret
# (PyJWT, which the notebook also uses, warns about shorter HMAC keys).
_HS256_CASES: tuple[tuple[dict[str, Any], bytes], ...] = (
    (examples.LAB_CLAIMS, keys.demo_secret()),
    ({"sub": "bob", "role": "admin", "scope": ["read", "write"]}, b"another-secret-" * 3),
)
_ES_ALGS = ("ES256", "ES384", "ES512")
# Lengths no ES* signature has (64, 96, 132 bytes): a converter must not guess where r ends.
_BAD_RAW_SIZES = (0, 2, 63, 65, 128)
_THUMBPRINT_KEYS = ("rsa", "p256", "p384", "ed25519")
# RFC 7638 section 3.2 (RSA, EC) and RFC 8037 section 2 (OKP): the members a thumbprint hashes.
_REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def _hs256_token(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    fresh = ({"sub": secrets.token_hex(8), "n": secrets.randbelow(10**6)}, secrets.token_bytes(32))
    for claims, secret in (*_HS256_CASES, fresh):  # a fresh case: no table of known answers helps
        got = answer(dict(claims), secret)
        if got is None:
            return NOT_ATTEMPTED
        if isinstance(got, bytes):
            return "return the token as a str, not bytes (decode it: .decode('ascii'))"
        if not isinstance(got, str):
            return f"return the token as a str, not {type(got).__name__}"
        expected = algorithms.sign_token(claims, secret, "HS256")
        if got != expected:
            return _hs256_mistake(got, expected, claims, secret)
    return None


def _hs256_mistake(got: str, expected: str, claims: dict[str, Any], secret: bytes) -> str:
    """Name what differs from the expected token, by recomputing the usual mistakes."""
    if got.count(".") != 2:
        return f"a JWS has three dot-separated segments; yours has {got.count('.') + 1}"
    head, body, sig = got.split(".")
    want_head, want_body, _ = expected.split(".")
    try:
        header = json.loads(_unpadded_decode(head))
        payload = json.loads(_unpadded_decode(body))
    except (ValueError, UnicodeDecodeError):
        return "the header and payload segments must be base64url of JSON (no '=' padding)"
    if "=" in got:
        return "base64url without '=' padding (RFC 7515 section 2)"
    if header != {"alg": "HS256", "typ": "JWT"}:
        return f'the header should be exactly {{"alg": "HS256", "typ": "JWT"}}, not {header}'
    if payload != claims:
        return "the payload segment should hold the claims you were given, unchanged"
    if (head, body) != (want_head, want_body):
        return _json_bytes_mistake(head, body, claims)
    data = f"{head}.{body}".encode()
    candidates = {
        "that is SHA-256(secret + data), not HMAC: a bare hash is open to length extension, "
        "use hmac.new(secret, data, hashlib.sha256)": hashlib.sha256(secret + data).digest(),
        "that is SHA-256(data + secret), not HMAC: use hmac.new(secret, data, hashlib.sha256)": (
            hashlib.sha256(data + secret).digest()
        ),
        "the key and the message are swapped: hmac.new(secret, signing_input, ...)": hmac.new(
            data, secret, hashlib.sha256
        ).digest(),
        "sign 'header.payload', not the payload segment alone": hmac.new(
            secret, body.encode(), hashlib.sha256
        ).digest(),
        "that MAC used another secret: sign with the secret you were given, don't hard-code it": (
            hmac.new(keys.demo_secret(), data, hashlib.sha256).digest()
        ),
    }
    mac = hmac.new(secret, data, hashlib.sha256).digest()
    if sig.lower() == mac.hex():
        return "base64url the 32 signature bytes, not their hex digits"
    if sig == base64.b64encode(mac).decode().rstrip("="):
        return "use base64url ('-' and '_'), not base64 ('+' and '/'), for the signature"
    try:
        got_mac = _unpadded_decode(sig)
    except ValueError:
        got_mac = b""
    for advice, candidate in candidates.items():
        if got_mac == candidate:
            return advice
    return (
        "header and payload are right but the signature is not: HMAC-SHA256 the ASCII "
        "bytes of 'header.payload' with the secret, then base64url the 32 bytes"
    )


def _json_bytes_mistake(head: str, body: str, claims: dict[str, Any]) -> str:
    def segment(part: dict[str, Any], **options: Any) -> str:
        return tokens.b64url_encode(json.dumps(part, **options))

    header = {"alg": "HS256", "typ": "JWT"}
    compact = {"separators": (",", ":")}
    if body == segment(claims, sort_keys=True, **compact) and body != segment(claims, **compact):
        return (
            "right JSON, different bytes: sort_keys=True reorders the claims; keep their "
            "order (json.dumps(claims, separators=(',', ':')))"
        )
    if head == segment({"typ": "JWT", "alg": "HS256"}, **compact):
        return 'right JSON, different bytes: write the header as {"alg": "HS256", "typ": "JWT"}'
    if head == segment(header) or body == segment(claims):
        return "right JSON, different bytes: no spaces, use json.dumps(..., separators=(',', ':'))"
    return (
        "right JSON, different bytes: json.dumps(part, separators=(',', ':')) with the "
        "members in the order given"
    )


def _unpadded_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _raw_to_der(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for alg, raw in _der_cases():
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
            return f"for {alg} ({len(raw)}-byte signature) {_der_mistake(raw, got)}"
    for size in _BAD_RAW_SIZES:
        try:
            got = answer(bytes(range(1, size + 1)))
        except (ValueError, LabkitError):  # the task asks for ValueError
            continue
        except Exception as exc:
            return (
                f"a {size}-byte signature fits no curve and you raised {type(exc).__name__}: "
                "raise ValueError, as the task asks (an assert vanishes under python -O)"
            )
        return (
            f"a {size}-byte signature fits no curve (ES256/384/512 signatures are 64, 96 or "
            "132 bytes), but you converted it: refuse it (raise ValueError) rather than guess "
            "where r ends"
        )
    return None


def _der_cases() -> list[tuple[str, bytes]]:
    """Real signatures of each curve, and edge values: small r (leading zero bytes), top-bit s."""
    cases = []
    for alg in _ES_ALGS:
        raw = algorithms.sign(alg, keys.demo_key_for(alg), b"header.payload")
        half = len(raw) // 2
        cases.append((alg, raw))
        cases.append((alg, (1).to_bytes(half, "big") + b"\xff" * half))
        cases.append((alg, secrets.token_bytes(len(raw))))
        cases.append((alg, b"\x80" + b"\x00" * (half - 1) + (255).to_bytes(half, "big")))
    return cases


def _der_mistake(raw: bytes, got: bytes) -> str:
    half = len(raw) // 2
    r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    if got == encode_dss_signature(s, r):
        return "has r and s swapped: r is the first half"
    little = encode_dss_signature(
        int.from_bytes(raw[:half], "little"), int.from_bytes(raw[half:], "little")
    )
    if got == little:
        return "read r and s as little-endian: JWS writes them big-endian"
    if len(raw) != 64 and got == _fixed_split_der(raw, 32):
        return "split at 32 bytes, but each half is len(signature) // 2 for this curve"
    return (
        f"that is not DER of (r, s): r is the first {half} bytes, s the last {half} "
        "(encode_dss_signature handles leading zeros and the sign bit)"
    )


def _fixed_split_der(raw: bytes, at: int) -> bytes:
    return encode_dss_signature(int.from_bytes(raw[:at], "big"), int.from_bytes(raw[at:], "big"))


def _thumbprint_jwks() -> list[tuple[str, dict[str, Any]]]:
    """JWKs to hash, each as a service receives them: kid absent, wrong, extra or private members.

    A published key's ``kid`` is often its thumbprint, so a function that echoes
    ``kid`` would pass on those alone: here the kid is missing or a lie.
    """
    cases: list[tuple[str, dict[str, Any]]] = []
    for name in _THUMBPRINT_KEYS:
        public = keys.demo_public_key(name)
        jwk = keys.to_jwk(public)
        no_kid = {k: v for k, v in jwk.items() if k != "kid"}
        cases.append(
            (f"the demo {name!r} key with kid 'attacker-chosen'", {**jwk, "kid": "attacker-chosen"})
        )
        cases.append((f"the demo {name!r} key without a kid", no_kid))
        shuffled = dict(reversed(list(no_kid.items())))
        cases.append(
            (
                f"the demo {name!r} key, members in reverse order",
                {**shuffled, "key_ops": ["verify"]},
            )
        )
    for name in ("rsa", "p256"):
        private = keys.to_jwk(keys.demo_private_key(name), private=True, kid="2026-01")
        cases.append((f"the demo {name!r} private JWK (with 'd')", private))
    fresh = keys.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key(), kid="2026-01")
    cases.append(("a P-256 key made just now, kid '2026-01'", fresh))
    # A kid shaped like a thumbprint, but another key's: echoing such a kid must fail too.
    lie = keys.thumbprint(keys.to_jwk(keys.demo_public_key("p384")))
    made = keys.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
    cases.append(("a new P-256 key whose kid is another key's thumbprint", {**made, "kid": lie}))
    return cases


def _thumbprint(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for description, jwk in _thumbprint_jwks():
        got = answer(dict(jwk))
        if got is None:
            return NOT_ATTEMPTED
        if isinstance(got, bytes):
            return "return the thumbprint as a base64url str, not bytes"
        if not isinstance(got, str):
            return f"return the thumbprint as a base64url str, not {type(got).__name__}"
        want = keys.thumbprint(jwk)
        if got == want:
            continue
        if "kid" in jwk and got == jwk["kid"]:
            return (
                f"for {description} you returned its kid: a kid is whatever the sender wrote; "
                "compute the thumbprint from the key's members"
            )
        return f"for {description} ({jwk['kty']}): {_thumbprint_mistake(jwk, got)}"
    return None


def _thumbprint_mistake(jwk: dict[str, Any], got: str) -> str:
    """Name the usual mistake by recomputing the thumbprint with it."""
    names = _REQUIRED[jwk["kty"]]
    required = {name: jwk[name] for name in names}
    digest = hashlib.sha256(json.dumps(required, separators=(",", ":")).encode()).digest()
    variants = {
        "hash only the required members (drop kid, use, alg and private ones such as d)": (
            json.dumps(jwk, sort_keys=True, separators=(",", ":"))
        ),
        "hash only the required members, sorted (not the whole JWK as given)": json.dumps(
            jwk, separators=(",", ":")
        ),
        "hash only the required members (not use, alg, key_ops or private ones)": json.dumps(
            {k: v for k, v in jwk.items() if k != "kid"}, sort_keys=True, separators=(",", ":")
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
            "ES512's halves are 66 bytes, because P-521 numbers are 521 bits. Any other "
            "length than 64, 96 or 132 bytes is no signature: raise ValueError.",
        ),
        solution="""\
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def raw_to_der(signature: bytes) -> bytes:
    if len(signature) not in (64, 96, 132):  # ES256, ES384, ES512
        raise ValueError(f"a {len(signature)}-byte signature fits no curve")
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
            "Ignore the JWK's kid (the sender wrote it). Keep only the required members "
            "(REQUIRED[jwk['kty']]), dump them as JSON with sorted keys and no whitespace, "
            "SHA-256 the UTF-8 bytes, base64url the digest.",
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
