"""Answer banks for the exercises of notebooks 04-07: insecure look-alikes first, then right ones.

Every wrong answer is something a learner (or an attacker's shortcut) would plausibly write;
its label names the look-alike class, and ``says`` is the part of the refusal that names the
mistake. The right answers are written differently from each exercise's solution.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import random
import re
import secrets
import sqlite3
import string
import time
import unicodedata
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from exercise_banks import Bank, Right, Wrong, bank_tests, extended, reads_the_checkers_locals

from labkit import algorithms, examples, keys, tokens
from labkit.attacks import confusion as confusion_attack
from labkit.attacks import injection as injection_attack
from labkit.attacks import none as none_attack
from labkit.exercises.confusion import billing_pem, service_pem
from labkit.exercises.weak_secrets import GPU_RATE, MANGLED_TOKEN

ADMIN = {**examples.LAB_CLAIMS, "role": "admin"}
PEM, SPKI, PKCS1 = (
    serialization.Encoding.PEM,
    serialization.PublicFormat.SubjectPublicKeyInfo,
    serialization.PublicFormat.PKCS1,
)


def hs256(claims: dict[str, Any], key: bytes, header: dict[str, Any] | None = None) -> str:
    """An HS256 token with the MAC computed by hand (any key, even empty: sign_token refuses it)."""
    head = {"alg": "HS256", "typ": "JWT"} if header is None else header
    mac = hmac.new(key, tokens.signing_input(head, claims), hashlib.sha256).digest()
    return tokens.encode(head, claims, mac)


def unsigned(alg: Any, claims: dict[str, Any] = ADMIN, signature: bytes = b"") -> str:
    return tokens.encode({"alg": alg, "typ": "JWT"}, claims, signature)


# 04.1: past a denylist of exactly "none" -------------------------------------------------------

BANK_04_1 = Bank(
    wrong=(
        Wrong("exactly-lowercase-none", unsigned("none"), "blocks exactly 'none'"),
        Wrong("fullwidth-none", unsigned("ｎｏｎｅ"), "is not 'none' to this verifier"),
        Wrong("none-trailing-space", unsigned("none "), "is not 'none' to this verifier"),
        Wrong("none-trailing-nul", unsigned("None\0"), "is not 'none' to this verifier"),
        Wrong("missing-alg", tokens.encode({"typ": "JWT"}, ADMIN), "has no alg"),
        Wrong("alg-as-list", unsigned(["None"]), "alg must be a string"),
        Wrong("alg-null", unsigned(None), "alg must be a string"),
        Wrong("hs256-tampered", hs256(ADMIN, b"guess" * 8), "the header says alg 'HS256'"),
        Wrong("none-with-signature", unsigned("None", signature=b"x" * 32), "empty signature"),
        Wrong("role-still-reader", unsigned("None", examples.LAB_CLAIMS), "role should be 'admin'"),
        Wrong(
            "exp-extended",
            unsigned("NONE", {**ADMIN, "exp": ADMIN["exp"] + 86400}),
            "keep Alice's other claims",
        ),
        Wrong("not-a-string", 42, "as a string"),
        Wrong("not-a-token", "none.none.", "not a well-formed token"),
    ),
    right=(
        Right("upper-case", unsigned("NONE")),
        Right("capitalized-no-typ", tokens.encode({"alg": "None"}, ADMIN)),
        Right("reordered-header", tokens.encode({"typ": "JWT", "alg": "nonE"}, ADMIN)),
        Right("forge-none-helper", none_attack.forge_none(ADMIN)[1].token),
    ),
)

# 04.2: sign with the empty secret ---------------------------------------------------------------

BANK_04_2 = Bank(
    wrong=(
        Wrong("signed-with-the-real-secret", hs256(ADMIN, keys.demo_secret()), "rejects it"),
        Wrong("one-space-key", hs256(ADMIN, b" "), "rejects it"),
        Wrong("alg-none-instead", unsigned("none"), "sign it with HS256"),
        Wrong(
            "hs384-empty-key",
            none_attack.forge_empty_secret(ADMIN, alg="HS384").token,
            "not 'HS384'",
        ),
        Wrong("empty-signature", unsigned("HS256"), "compute HMAC-SHA256 with the empty key"),
        Wrong(
            "truncated-mac",
            tokens.encode(
                {"alg": "HS256", "typ": "JWT"},
                ADMIN,
                hmac.new(
                    b"", tokens.signing_input({"alg": "HS256", "typ": "JWT"}, ADMIN), hashlib.sha256
                ).digest()[:16],
            ),
            "32 bytes",
        ),
        Wrong("role-still-reader", hs256(examples.LAB_CLAIMS, b""), "role should be 'admin'"),
    ),
    right=(
        Right("one-zero-byte-key", hs256(ADMIN, b"\x00")),  # HMAC pads keys with zero bytes
        Right("block-of-zero-bytes", hs256(ADMIN, bytes(64))),
        Right("forge-helper", none_attack.forge_empty_secret(ADMIN).token),
        Right("reordered-header", hs256(ADMIN, b"", {"typ": "JWT", "alg": "HS256"})),
    ),
)

# 04.3: an algorithm check nobody gets past ------------------------------------------------------


def denylist_lower_none(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    return isinstance(alg, str) and alg in allowed and alg != "none"


def denylist_only(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    return isinstance(alg, str) and alg.lower() != "none"


def lower_only(header: dict, allowed: list[str]) -> bool:  # the kit's old solution
    alg = header.get("alg")
    return isinstance(alg, str) and alg.lower() != "none" and alg in allowed


def strip_lower_no_nfkc(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    return isinstance(alg, str) and alg in allowed and alg.strip("\0 \t").lower() != "none"


def nfkc_but_nul_kept(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        return False
    return unicodedata.normalize("NFKC", alg).casefold().strip() != "none"


def case_insensitive_match(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        return False
    return alg.lower() in [name.lower() for name in allowed]


def strip_before_match(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    return isinstance(alg, str) and alg.lower() != "none" and alg.strip() in allowed


def prefix_match(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        return False
    return any(name.startswith(alg) for name in allowed)


def contains_match(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    return isinstance(alg, str) and alg.lower() != "none" and any(n in alg for n in allowed)


def list_unwrapped(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    names = alg if isinstance(alg, (list, tuple)) else [alg]
    return all(isinstance(n, str) and n.lower() != "none" and n in allowed for n in names)


def returns_the_name(header: dict, allowed: list[str]) -> Any:
    alg = header.get("alg")
    return alg if alg in allowed else False


def forgot_to_return(h: dict, a: list[str]) -> bool:
    h.get("alg") in a  # noqa: B015 - the mistake under test: the result is dropped


def key_error_on_missing(header: dict, allowed: list[str]) -> bool:
    return header["alg"] in allowed and header["alg"].lower() != "none"


def only_real_algorithm_names(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    return type(alg) is str and alg in allowed and alg in algorithms.ALGORITHMS


_JWS_NAME = re.compile(r"(?:HS|RS|PS|ES)(?:256|384|512)|EdDSA")


def jws_name_pattern(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    return isinstance(alg, str) and _JWS_NAME.fullmatch(alg) is not None and alg in allowed


def normalised_denylist_after_allowlist(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    if type(alg) is not str or not any(alg == name for name in allowed):
        return False
    folded = unicodedata.normalize("NFKC", alg).casefold()
    return folded.strip(string.whitespace + "\0") != "none"


BANK_04_3 = Bank(
    wrong=(
        Wrong("denylist-of-lowercase-none", denylist_lower_none, "every spelling of none"),
        Wrong("denylist-without-allowlist", denylist_only, "a denylist is not enough"),
        Wrong("lower-only-misses-padding", lower_only, "trailing space"),
        Wrong("no-nfkc-misses-fullwidth", strip_lower_no_nfkc, "after NFKC"),
        Wrong("strip-keeps-nul", nfkc_but_nul_kept, "stops at NUL"),
        Wrong("case-insensitive-match", case_insensitive_match, "compare exactly: 'hs256'"),
        Wrong("strip-before-match", strip_before_match, "no strip()"),
        Wrong("prefix-match", prefix_match, "a prefix of an allowed name"),
        Wrong("substring-match", contains_match, "stray whitespace"),
        Wrong("list-alg-unwrapped", list_unwrapped, "alg is a list"),
        Wrong("returns-the-name", returns_the_name, "return True or False"),
        Wrong("forgot-to-return", forgot_to_return, "returned None"),
        Wrong("key-error-on-missing-alg", key_error_on_missing, "raised KeyError"),
        Wrong("not-a-function", True, "pass your function itself"),
    ),
    right=(
        Right("real-algorithm-names-only", only_real_algorithm_names),
        Right("jws-name-pattern", jws_name_pattern),
        Right("normalised-denylist-after-allowlist", normalised_denylist_after_allowlist),
    ),
)

# 05.1-05.3 -----------------------------------------------------------------------------------

BANK_05_1 = Bank(
    wrong=(
        Wrong("base-word", "dragon", "the word it was built from"),
        Wrong("line-end-from-file", b"Dr@g0n2025\r\n", "stray whitespace or a line end"),
        Wrong("trailing-newline-text", "Dr@g0n2025\n", "stray whitespace or a line end"),
        Wrong("wrong-case", "dR@G0N2025", "wrong case"),
        Wrong("plausible-variant", "Dragon2025", "does not produce the token's signature"),
        Wrong("the-article-secret", "your-256-bit-secret", "does not produce"),
        Wrong("a-number", 2025, "as a str or bytes"),
    ),
    right=(
        Right("text", "Dr@g0n2025"),
        Right("bytes", b"Dr@g0n2025"),
        Right("bytearray", bytearray(b"Dr@g0n2025")),
    ),
)

_MANGLED = tokens.parse(MANGLED_TOKEN).payload
_CAROL_ADMIN = {**_MANGLED, "role": "admin"}

BANK_05_2 = Bank(
    wrong=(
        Wrong("wrong-secret", hs256(_CAROL_ADMIN, b"dragon"), "the signature does not verify"),
        Wrong(
            "edited-not-resigned",
            tokens.encode(
                tokens.parse(MANGLED_TOKEN).header,
                _CAROL_ADMIN,
                tokens.parse(MANGLED_TOKEN).signature,
            ),
            "the signature does not verify",
        ),
        Wrong("alg-none", unsigned("none", _CAROL_ADMIN), "sign it with HS256"),
        Wrong(
            "hs512-right-secret",
            algorithms.sign_token(_CAROL_ADMIN, b"Dr@g0n2025" * 7, "HS512"),
            "not 'HS512'",
        ),
        Wrong("role-unchanged", MANGLED_TOKEN, "role should be 'admin'"),
        Wrong(
            "exp-extended",
            hs256({**_CAROL_ADMIN, "exp": _MANGLED["exp"] + 10**6}, b"Dr@g0n2025"),
            "you changed exp",
        ),
        Wrong("empty-signature", unsigned("HS256", _CAROL_ADMIN), "the signature is empty"),
    ),
    right=(
        Right("sign-token-text-secret", algorithms.sign_token(_CAROL_ADMIN, "Dr@g0n2025", "HS256")),
        Right(
            "hand-hmac-reordered-header",
            hs256(_CAROL_ADMIN, b"Dr@g0n2025", {"typ": "JWT", "alg": "HS256"}),
        ),
    ),
)

_YEAR = 365.25 * 24 * 3600
_KEYSPACE = 62**10

BANK_05_3 = Bank(
    wrong=(
        Wrong("whole-keyspace", _KEYSPACE / GPU_RATE / _YEAR, "the whole keyspace"),
        Wrong("seconds-not-years", _KEYSPACE / 2 / GPU_RATE, "that is in seconds"),
        Wrong("days-not-years", _KEYSPACE / 2 / GPU_RATE / 86400, "that is in days"),
        Wrong("lower-case-alphabet", 26**10 / 2 / GPU_RATE / _YEAR, "26 lower-case letters"),
        Wrong("power-the-wrong-way", 10**62 / 2 / GPU_RATE / _YEAR, "10 ** 62"),
        Wrong("text", "1.33", "not str"),
        Wrong("boolean", True, "not bool"),
        Wrong("not-a-number", float("nan"), "positive, finite"),
    ),
    right=(
        Right("rounded-as-the-message-says", 1.33),
        Right("two-digits", 1.3),
        Right("365-day-year", _KEYSPACE / 2 / GPU_RATE / (365 * 86400)),
    ),
)

# 05.4: a secret from the CSPRNG, 256 bits of it -----------------------------------------------

_COUNTER = itertools.count()
_CACHED = os.urandom(32)


def mersenne_twister() -> bytes:
    return random.randbytes(32)


def mersenne_getrandbits() -> bytes:
    return random.getrandbits(256).to_bytes(32, "big")


def hashed_clock() -> bytes:
    return hashlib.sha256(str(time.time_ns()).encode()).digest()


def hashed_counter() -> bytes:
    return hashlib.sha256(b"secret-%d" % next(_COUNTER)).digest()


def hashed_4_byte_urandom() -> bytes:
    return hashlib.sha256(os.urandom(4)).digest()


def zeros_plus_one_random_byte() -> bytes:
    return bytes(31) + os.urandom(1)


def hash_of_a_slice() -> bytes:
    return hashlib.sha256(os.urandom(32)[:4]).digest()


def hex_of_16_bytes() -> str:
    return secrets.token_hex(16)


def hashed_uuid4() -> bytes:
    return hashlib.sha256(uuid.uuid4().bytes).digest()


def seeded_fresh_random() -> bytes:
    return random.Random().randbytes(32)


def cached_secret() -> bytes:
    return _CACHED


def an_int() -> int:
    return secrets.randbits(256)


def forgot_return() -> bytes:
    secrets.token_bytes(32)  # the mistake under test: the secret is dropped


BANK_05_4 = Bank(
    wrong=(
        Wrong("random-randbytes", mersenne_twister, "drew no bytes from the operating system"),
        Wrong("random-getrandbits", mersenne_getrandbits, "drew no bytes"),
        Wrong("hashed-clock", hashed_clock, "drew no bytes"),
        Wrong("hashed-counter", hashed_counter, "drew no bytes"),
        Wrong("random-instance", seeded_fresh_random, "drew no bytes"),
        Wrong("hashed-4-byte-urandom", hashed_4_byte_urandom, "only 4 random bytes"),
        Wrong("31-zero-bytes-plus-1-random", zeros_plus_one_random_byte, "only 1 random byte"),
        Wrong("hash-of-a-slice", hash_of_a_slice, "only 32 of the 256 random bits"),
        Wrong("hashed-uuid4", hashed_uuid4, "only 16 random bytes"),
        Wrong("128-bit-hex", hex_of_16_bytes, "only 16 random bytes (128 bits)"),
        Wrong("same-secret-every-call", cached_secret, "the same secret twice"),
        Wrong("an-int", an_int, "not int"),
        Wrong("forgot-to-return", forgot_return, "returned None"),
    ),
    right=(
        Right("token-hex-32", lambda: secrets.token_hex(32)),
        Right("urandom-imported-by-name", None),  # replaced below: needs its own namespace
        Right("system-random", lambda: random.SystemRandom().randbytes(32)),
        Right("hash-of-64-random-bytes", lambda: hashlib.sha256(os.urandom(64)).digest()),
        Right("token-urlsafe-32", lambda: secrets.token_urlsafe(32)),
    ),
)


def _urandom_by_name() -> Any:
    namespace: dict[str, Any] = {}
    exec("from os import urandom\n\ndef make_secret():\n    return urandom(32)\n", namespace)
    return namespace["make_secret"]


BANK_05_4 = Bank(
    wrong=BANK_05_4.wrong,
    right=tuple(
        Right(r.label, _urandom_by_name()) if r.answer is None else r for r in BANK_05_4.right
    ),
)

# 06.1-06.3 -----------------------------------------------------------------------------------

_RSA = keys.demo_public_key("rsa")
_RSA2 = keys.demo_public_key("rsa-2")


def _pem(key: Any, fmt: Any) -> bytes:
    return key.public_bytes(PEM, fmt)


BANK_06_1 = Bank(
    wrong=(
        Wrong("pkcs1-pem", hs256(ADMIN, _pem(_RSA, PKCS1)), "you used the PKCS#1 PEM"),
        Wrong(
            "pem-without-newline",
            hs256(ADMIN, service_pem().rstrip(b"\n")),
            "without its final newline",
        ),
        Wrong("crlf-pem", hs256(ADMIN, service_pem().replace(b"\n", b"\r\n")), "Windows line"),
        Wrong(
            "der-bytes",
            hs256(ADMIN, _RSA.public_bytes(serialization.Encoding.DER, SPKI)),
            "the DER bytes",
        ),
        Wrong("jwk-json", hs256(ADMIN, json.dumps(keys.to_jwk(_RSA)).encode()), "the JWK as JSON"),
        Wrong("demo-secret", hs256(ADMIN, keys.demo_secret()), "the service rejects it"),
        Wrong("rs256-header", tokens.encode({"alg": "RS256"}, ADMIN, b"x" * 256), "not 'RS256'"),
        Wrong("alg-none", unsigned("none"), "not 'none'"),
        Wrong("empty-signature", unsigned("HS256"), "the signature is empty"),
        Wrong("role-reader", hs256(examples.LAB_CLAIMS, service_pem()), "role should be 'admin'"),
    ),
    right=(
        Right("sign-token", algorithms.sign_token(ADMIN, service_pem(), "HS256")),
        Right("forge-helper", confusion_attack.forge_confusion(_RSA, ADMIN)[0].token),
        Right("no-typ", hs256(ADMIN, service_pem(), {"alg": "HS256"})),
    ),
)

BANK_06_2 = Bank(
    wrong=(
        Wrong("spki-of-the-right-key", hs256(ADMIN, _pem(_RSA2, SPKI)), "you used the Subject"),
        Wrong("the-api-key", hs256(ADMIN, service_pem()), "the billing service has its own key"),
        Wrong(
            "pkcs1-without-newline",
            hs256(ADMIN, billing_pem().rstrip(b"\n")),
            "PKCS#1 PEM without its final newline",
        ),
        Wrong(
            "modulus-bytes",
            hs256(ADMIN, _RSA2.public_numbers().n.to_bytes(256, "big")),
            "the modulus n",
        ),
        Wrong(
            "ssh-key",
            hs256(
                ADMIN,
                _RSA2.public_bytes(
                    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
                ),
            ),
            "OpenSSH",
        ),
        Wrong("rs256-header", tokens.encode({"alg": "RS256"}, ADMIN, b"x" * 256), "not 'RS256'"),
    ),
    right=(
        Right("hand-hmac-pkcs1", hs256(ADMIN, billing_pem())),
        Right(
            "forge-helper-second-spelling",
            confusion_attack.forge_confusion(keys.to_jwks([_RSA2]), ADMIN)[1].token,
        ),
    ),
)

_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def _emsa(**slip: Any) -> Any:
    """An EMSA-PKCS1-v1_5 encoder with one slip (byte order, run length, prefix, digest...)."""

    def encode(signing_input: bytes, size: int) -> int:
        digest = slip.get("digest", lambda d: hashlib.sha256(d).digest())(signing_input)
        info = slip.get("prefix", _PREFIX) + digest
        run = size - len(info) - 3 + slip.get("extra", 0)
        padded = slip.get("head", b"\x00\x01") + b"\xff" * run + slip.get("sep", b"\x00") + info
        return int.from_bytes(padded, slip.get("order", "big"))

    return encode


def emsa_as_bytes(signing_input: bytes, size: int) -> bytes:
    info = _PREFIX + hashlib.sha256(signing_input).digest()
    return b"\x00\x01" + b"\xff" * (size - len(info) - 3) + b"\x00" + info


def emsa_by_arithmetic(signing_input: bytes, size: int) -> int:
    info = int.from_bytes(_PREFIX + hashlib.sha256(signing_input).digest(), "big")
    info_bits = 8 * (len(_PREFIX) + 32)
    ones = (1 << (8 * (size - 3) - info_bits)) - 1  # the FF run, as all-one bits
    return (1 << (8 * (size - 2))) | (ones << (info_bits + 8)) | info


def emsa_by_bytearray(signing_input: bytes, size: int) -> int:
    out = bytearray(b"\xff" * size)
    out[0], out[1] = 0, 1
    info = _PREFIX + hashlib.sha256(signing_input).digest()
    out[size - len(info) - 1] = 0
    out[size - len(info) :] = info
    return int.from_bytes(out, byteorder="big")


BANK_06_3 = Bank(
    wrong=(
        Wrong("little-endian", _emsa(order="little"), "little-endian"),
        Wrong("ff-run-one-too-long", _emsa(extra=1), "your FF run is 75 bytes"),
        Wrong("ff-run-one-too-short", _emsa(extra=-1), "your FF run is 73 bytes"),
        Wrong("no-digestinfo-prefix", _emsa(prefix=b""), "the DigestInfo prefix is missing"),
        Wrong(
            "hex-digest",
            _emsa(digest=lambda d: hashlib.sha256(d).hexdigest().encode()),
            "the hex digest as text",
        ),
        Wrong("sha1-digest", _emsa(digest=lambda d: hashlib.sha1(d).digest()), "not SHA-256"),
        Wrong("no-00-separator", _emsa(sep=b""), "a 00 byte must separate"),
        Wrong("encryption-padding-00-02", _emsa(head=b"\x00\x02"), "encryption padding"),
        Wrong("returns-bytes", emsa_as_bytes, "as an int: int.from_bytes"),
    ),
    right=(
        Right("bit-arithmetic", emsa_by_arithmetic),
        Right("bytearray-filled-in-place", emsa_by_bytearray),
    ),
)

# 07.1-07.4 -----------------------------------------------------------------------------------

_MY_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_MY_JWK = keys.to_jwk(_MY_KEY.public_key())
_SERVICE_JWK = keys.to_jwk(_RSA)
_IDP_KEY = keys.demo_private_key("rsa")


def _rs256(claims: dict[str, Any], key: Any, **headers: Any) -> str:
    return algorithms.sign_token(claims, key, "RS256", headers=headers)


BANK_07_1 = Bank(
    wrong=(
        Wrong("service-jwk-own-key", _rs256(ADMIN, _MY_KEY, jwk=_SERVICE_JWK), "service's own"),
        Wrong("service-key-and-jwk", _rs256(ADMIN, _IDP_KEY, jwk=_SERVICE_JWK), "service's own"),
        Wrong(
            "private-jwk-embedded",
            _rs256(
                ADMIN,
                _MY_KEY,
                jwk={
                    **_MY_JWK,
                    "d": tokens.b64url_encode(_MY_KEY.private_numbers().d.to_bytes(256, "big")),
                },
            ),
            "private key members",
        ),
        Wrong("jwk-as-text", _rs256(ADMIN, _MY_KEY, jwk=json.dumps(_MY_JWK)), "a JSON object"),
        Wrong("jku-instead", _rs256(ADMIN, _MY_KEY, jku="http://127.0.0.1/jwks"), "'jwk' member"),
        Wrong("no-jwk", _rs256(ADMIN, _MY_KEY), "'jwk' member"),
        Wrong(
            "hmac-with-oct-jwk",
            algorithms.sign_token(
                ADMIN, b"k" * 32, "HS256", headers={"jwk": {"kty": "oct", "k": "a2traw"}}
            ),
            "refused it",
        ),
        Wrong("role-reader", _rs256(examples.LAB_CLAIMS, _MY_KEY, jwk=_MY_JWK), "role should be"),
    ),
    right=(
        Right("forge-helper", injection_attack.forge_jwk(ADMIN).token),
        Right("own-3072-bit-key-with-kid", None),  # built below: a key of its own
    ),
)
_BIG = rsa.generate_private_key(public_exponent=65537, key_size=3072)
BANK_07_1 = Bank(
    wrong=BANK_07_1.wrong,
    right=(
        BANK_07_1.right[0],
        Right(
            "own-3072-bit-key-with-kid",
            _rs256(ADMIN, _BIG, jwk={**keys.to_jwk(_BIG.public_key()), "kid": "mine"}, kid="mine"),
        ),
        # CVE-2018-0114: the embedded key is used whatever the header's kid names (node-jose
        # before 0.11.0 looked no kid up), so the IdP's own kid beside the attacker's jwk works.
        Right("idp-kid-kept", _rs256(ADMIN, _MY_KEY, jwk=_MY_JWK, kid=keys.to_jwk(_RSA)["kid"])),
    ),
)


def _hs(claims: dict[str, Any], key: bytes, kid: Any) -> str:
    return hs256(claims, key, {"alg": "HS256", "typ": "JWT", "kid": kid})


_DEEP = "../" * 12 + "dev/null"

BANK_07_2 = Bank(
    wrong=(
        Wrong("another-known-file", _hs(ADMIN, b"\x00", "../" * 12 + "etc/hostname"), "/dev/null"),
        Wrong("too-few-dot-dots", _hs(ADMIN, b"\x00", "../dev/null"), "climb with more ../"),
        Wrong("url-encoded-slashes", _hs(ADMIN, b"\x00", "..%2f..%2fdev%2fnull"), "/dev/null"),
        Wrong("space-key", _hs(ADMIN, b" ", _DEEP), "refused it"),
        Wrong("right-path-65-zero-bytes", _hs(ADMIN, bytes(65), _DEEP), "the empty key b''"),
        Wrong("no-kid", hs256(ADMIN, b"\x00"), "/dev/null"),
        Wrong("kid-as-list", _hs(ADMIN, b"\x00", [_DEEP]), "/dev/null"),
        Wrong("role-reader", _hs(examples.LAB_CLAIMS, b"\x00", _DEEP), "role should be"),
    ),
    right=(
        Right("forge-helper-empty-key", injection_attack.forge_kid_traversal(ADMIN).token),
        Right("absolute-path", _hs(ADMIN, b"\x00", "/dev/null")),
        Right(
            "eight-zero-bytes",
            algorithms.sign_token(
                ADMIN, bytes(8), "HS256", headers={"kid": "../" * 20 + "dev/null"}
            ),
        ),
    ),
)

_MINE = "a-secret-mallory-picked-for-this-lab-0123456789"

BANK_07_3 = Bank(
    wrong=(
        Wrong("or-true-guessing-the-key", _hs(ADMIN, b"guess" * 8, "' OR '1'='1"), "UNION SELECT"),
        Wrong(
            "union-short-secret",
            _hs(ADMIN, b"short", "x' UNION SELECT 'short' --"),
            "refused it",
        ),
        Wrong(
            "union-signed-with-another",
            _hs(ADMIN, b"another-secret-of-forty-bytes-000000000", f"x' UNION SELECT '{_MINE}' --"),
            "refused it",
        ),
        Wrong(
            "union-without-comment",
            _hs(ADMIN, _MINE.encode(), f"x' UNION SELECT '{_MINE}'"),
            "refused it",
        ),
        Wrong("plain-kid", _hs(ADMIN, _MINE.encode(), "2026-01"), "UNION SELECT"),
        Wrong("role-reader", _hs(examples.LAB_CLAIMS, _MINE.encode(), "x"), "role should be"),
    ),
    right=(
        Right("forge-helper", injection_attack.forge_kid_sql(ADMIN).token),
        Right(
            "union-all-lower-case", _hs(ADMIN, _MINE.encode(), f"x' union all select '{_MINE}' --")
        ),
        Right(
            "balanced-quotes-no-comment",
            _hs(ADMIN, _MINE.encode(), f"x' UNION SELECT '{_MINE}' WHERE '1'='1"),
        ),
    ),
)


def _one_row(db: sqlite3.Connection, sql: str, *params: Any) -> Any:
    row = db.execute(sql, params).fetchone()
    return None if row is None else row[0]


def like_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE kid LIKE ?", kid)


def glob_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE kid GLOB ?", kid)


def nocase_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE kid = ? COLLATE NOCASE", kid)


def lower_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE lower(kid) = lower(?)", kid)


def stripped_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE kid = ?", kid.strip())


def trim_in_sql_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE kid = trim(?)", kid)


def f_string_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, f"SELECT secret FROM keys WHERE kid = '{kid}'")


def quote_deleting_lookup(db: sqlite3.Connection, kid: str) -> Any:
    cleaned = kid.replace("'", "")  # the "sanitiser" under test
    return _one_row(db, f"SELECT secret FROM keys WHERE kid = '{cleaned}'")


def quote_doubling_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE kid = '{}'".format(kid.replace("'", "''")))


def substring_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE instr(?, kid) > 0", kid)


def dict_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return dict(db.execute("SELECT kid, secret FROM keys").fetchall()).get(kid)


def named_parameter_lookup(db: sqlite3.Connection, kid: str) -> Any:
    row = db.execute("SELECT secret FROM keys WHERE kid = :kid", {"kid": kid}).fetchone()
    return row[0] if row else None


def binary_collation_lookup(db: sqlite3.Connection, kid: str) -> Any:
    return _one_row(db, "SELECT secret FROM keys WHERE kid = ? COLLATE BINARY LIMIT 1", kid)


BANK_07_4 = Bank(
    wrong=(
        Wrong("like", like_lookup, "LIKE treats %"),
        Wrong("glob", glob_lookup, "GLOB treats *"),
        Wrong("collate-nocase", nocase_lookup, "ignores case"),
        Wrong("lower-both-sides", lower_lookup, "ignores case"),
        Wrong("strip-in-python", stripped_lookup, "strips whitespace"),
        Wrong("trim-in-sql", trim_in_sql_lookup, "strips whitespace"),
        Wrong("f-string", f_string_lookup, "still reaches the SQL text"),
        Wrong("quote-deleting-f-string", quote_deleting_lookup, "deletes quotes"),
        Wrong("quote-doubling-format", quote_doubling_lookup, "still reaches the SQL text"),
        Wrong("substring-instr", substring_lookup, "inside a longer one"),
        Wrong("not-a-function", "SELECT secret FROM keys WHERE kid = ?", "pass your function"),
    ),
    right=(
        Right("dict-of-all-rows", dict_lookup),
        Right("named-parameter", named_parameter_lookup),
        Right("binary-collation", binary_collation_lookup),
    ),
)

BANKS = {
    "04.1": BANK_04_1,
    "04.2": BANK_04_2,
    "04.3": BANK_04_3,
    "05.1": BANK_05_1,
    "05.2": BANK_05_2,
    "05.3": BANK_05_3,
    "05.4": BANK_05_4,
    "06.1": BANK_06_1,
    "06.2": BANK_06_2,
    "06.3": BANK_06_3,
    "07.1": BANK_07_1,
    "07.2": BANK_07_2,
    "07.3": BANK_07_3,
    "07.4": BANK_07_4,
}


# Red-team look-alikes (issue 11: "other look-alikes of the same kinds will be tried") ---------
# Each was accepted before its check was widened; the check now probes the whole class.


def low_bit_of_each_byte() -> bytes:  # 32 bytes drawn, 32 bits kept
    return bytes(b % 2 for b in os.urandom(32))


def seven_bits_per_byte() -> bytes:  # "printable-ish": 224 bits
    return bytes(b & 0x7F for b in os.urandom(32))


def top_bit_forced() -> bytes:
    return bytes(b | 0x80 for b in secrets.token_bytes(32))


def hex_digest_as_bytes() -> bytes:  # 32 bytes long, but 32 hex digits: 128 bits
    return hashlib.sha256(os.urandom(32)).hexdigest()[:32].encode()


def half_digest_twice() -> bytes:
    return hashlib.sha256(os.urandom(32)).digest()[:16] * 2


def two_uuid4() -> bytes:  # 32 bytes, but uuid4 fixes 6 bits of each: 244 bits
    return uuid.uuid4().bytes + uuid.uuid4().bytes


def sixty_four_digits() -> str:  # 64 characters, log2(10) bits each: 213 bits
    return "".join(secrets.choice(string.digits) for _ in range(64))


def printable_mod_94() -> bytes:
    return bytes(33 + b % 94 for b in os.urandom(32))


def random_unless_watched() -> bytes:  # draws from the CSPRNG only when it looks patched
    if type(os.urandom).__name__ != "builtin_function_or_method":
        return os.urandom(32)
    return random.randbytes(32)


def rewrites_the_check() -> bytes:  # lowers the checker's thresholds, then returns 4 bytes x 8
    import labkit.exercises.weak_secrets as check

    check._NEEDED_BYTES = check._NEEDED_BITS = 0  # type: ignore[attr-defined]
    return os.urandom(4) * 8


def system_random_256_bits() -> bytes:
    return random.SystemRandom().getrandbits(256).to_bytes(32, "big")


def urlsafe_alphabet_43() -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(secrets.choice(alphabet) for _ in range(43))


def csprng_xor_mersenne() -> bytes:  # the CSPRNG's 256 bits survive the XOR
    return bytes(a ^ b for a, b in zip(os.urandom(32), random.randbytes(32), strict=True))


def lookup_nfkc(db: sqlite3.Connection, kid: str) -> Any:  # "normalise Unicode" first
    row = db.execute(
        "SELECT secret FROM keys WHERE kid = ?", (unicodedata.normalize("NFKC", kid),)
    ).fetchone()
    return None if row is None else row[0]


def lookup_dash_folding(db: sqlite3.Connection, kid: str) -> Any:
    kid = kid.replace("\u2010", "-").replace("\u2011", "-").replace("\u2212", "-")
    row = db.execute("SELECT secret FROM keys WHERE kid = ?", (kid,)).fetchone()
    return None if row is None else row[0]


def lookup_stored_kid_as_regex(db: sqlite3.Connection, kid: str) -> Any:
    for stored, secret in db.execute("SELECT kid, secret FROM keys"):
        if re.fullmatch(stored, kid):
            return secret
    return None


_KNOWN = {
    "2026-01": "first-secret-0123456789abcdef",
    "2026-02": "second-secret-0123456789abcdef",
    "Issuer-Key": "third-secret-0123456789abcdef",
}


def lookup_hard_coded(db: sqlite3.Connection, kid: str) -> Any:  # never asks the database
    return _KNOWN.get(kid)


def lookup_rewrites_the_check(db: sqlite3.Connection, kid: str) -> Any:
    import labkit.exercises.injection as check

    check._NEAR_MISSES = ()  # type: ignore[attr-defined]
    row = db.execute(f"SELECT secret FROM keys WHERE kid = '{kid}'").fetchone()
    return None if row is None else row[0]


def lookup_hex_compare(db: sqlite3.Connection, kid: str) -> Any:  # right: byte-exact in SQL
    row = db.execute("SELECT secret FROM keys WHERE hex(kid) = hex(?)", (kid,)).fetchone()
    return None if row is None else row[0]


_REDTEAM_WRONG: dict[str, tuple[Wrong, ...]] = {
    "04.3": (Wrong("reads-the-checkers-locals", reads_the_checkers_locals, "returned None"),),
    "05.4": (
        Wrong("low-bit-of-each-byte", low_bit_of_each_byte, "only 32 of the 256 random bits"),
        Wrong("seven-bits-per-byte", seven_bits_per_byte, "only 224 of the 256 random bits"),
        Wrong("top-bit-forced", top_bit_forced, "only 224 of the 256 random bits"),
        Wrong("hex-digest-as-bytes", hex_digest_as_bytes, "can hold only 128 bits"),
        Wrong("half-digest-twice", half_digest_twice, "repeats itself"),
        Wrong("two-uuid4", two_uuid4, "only 244 of the 256 random bits"),
        Wrong("sixty-four-digits", sixty_four_digits, "can hold only 213 bits"),
        Wrong("printable-mod-94", printable_mod_94, "can hold only 210 bits"),
        Wrong("random-unless-watched", random_unless_watched, "random seeded alike"),
        Wrong("rewrites-the-check", rewrites_the_check, "changed the kit itself"),
    ),
    "07.4": (
        Wrong("hard-coded-secrets", lookup_hard_coded, "for kid '2026-01' you returned"),
        Wrong("nfkc-kid", lookup_nfkc, "folds fullwidth digits"),
        Wrong("unicode-dash-folded", lookup_dash_folding, "folds a Unicode hyphen"),
        Wrong("stored-kid-as-regex", lookup_stored_kid_as_regex, "reads the stored kid as"),
        Wrong("rewrites-the-check", lookup_rewrites_the_check, "changed the kit itself"),
    ),
}
_REDTEAM_RIGHT: dict[str, tuple[Right, ...]] = {
    "05.4": (
        Right("system-random-getrandbits", system_random_256_bits),
        Right("urlsafe-alphabet-43", urlsafe_alphabet_43),
        Right("csprng-xor-mersenne", csprng_xor_mersenne),
    ),
    "07.4": (Right("hex-compare", lookup_hex_compare),),
}
BANKS = extended(BANKS, _REDTEAM_WRONG, _REDTEAM_RIGHT)

test_wrong_answer_is_refused, test_right_answer_is_accepted = bank_tests(BANKS)
