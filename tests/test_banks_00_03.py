"""Answer banks for notebooks 00-03: insecure look-alikes refused by name, other right answers.

Each wrong answer is a mistake a learner makes or the bug the lesson is about; its ``says``
fragment is what the refusal must name. Right answers are written differently from the
bank's solution, so the checks test the property, not the solution's spelling.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import math
import re
import unicodedata
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from exercise_banks import Bank, Right, Wrong, bank_tests, extended

import labkit
from labkit import examples, keys
from labkit.exercises.validation import NOW as NOW_SECONDS
from labkit.exercises.validation import T0, TRUSTED

UTC = dt.timezone.utc
NOW = dt.datetime.fromtimestamp(NOW_SECONDS, tz=UTC)
ALICE = examples.lab_token()
EXP = examples.LAB_CLAIMS["exp"]


# 01.1 -----------------------------------------------------------------------------------------


def lenient_b64url(segment: str) -> bytes:  # the lesson's first draft: skips junk, takes '+/'
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_skipping_junk(segment: str) -> bytes:  # refuses '+/' and '=', still skips the rest
    if set("+/=") & set(segment):
        raise ValueError(segment)
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_accepting_padding(segment: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_=-]*", segment):
        raise ValueError(segment)
    return base64.urlsafe_b64decode(segment.rstrip("=") + "=" * (-len(segment.rstrip("=")) % 4))


def b64url_validating_alphabet_only(segment: str) -> bytes:  # misses stray low bits
    if not re.fullmatch(r"[A-Za-z0-9_-]*", segment):
        raise ValueError(segment)
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64_standard_alphabet(segment: str) -> bytes:
    return base64.b64decode(segment + "=" * (-len(segment) % 4), validate=True)


def b64url_no_padding_added(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment)


def b64url_returns_text(segment: str) -> str:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode("latin-1")


def b64url_by_table(segment: str) -> bytes:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(segment) % 4 == 1:
        raise ValueError("impossible length")
    bits = "".join(format(alphabet.index(c), "06b") for c in segment)  # ValueError on junk
    whole = len(bits) // 8
    if "1" in bits[whole * 8 :]:
        raise ValueError("stray low bits")
    return int(bits[: whole * 8] or "0", 2).to_bytes(whole, "big") if whole else b""


def b64url_strict_binascii(segment: str) -> bytes:
    if "=" in segment or "+" in segment or "/" in segment:
        raise ValueError(segment)
    padded = segment.replace("-", "+").replace("_", "/") + "=" * (-len(segment) % 4)
    data = binascii.a2b_base64(padded, strict_mode=True)
    if base64.b64encode(data).decode().rstrip("=") != padded.rstrip("="):
        raise ValueError("not canonical")
    return data


# 01.3 -----------------------------------------------------------------------------------------


def forged(claims: dict[str, Any], *, header: str | None = None, sig: str | None = None) -> str:
    head, _, signature = ALICE.split(".")
    body = labkit.b64url_encode(json.dumps(claims, separators=(",", ":")))
    return f"{header or head}.{body}.{signature if sig is None else sig}"


# 02.1 -----------------------------------------------------------------------------------------


def seg(part: dict[str, Any], **options: Any) -> str:
    return labkit.b64url_encode(json.dumps(part, **{"separators": (",", ":"), **options}))


HS256_HEADER = {"alg": "HS256", "typ": "JWT"}


def hs256_bare_hash(claims: dict[str, Any], secret: bytes) -> str:
    data = seg(HS256_HEADER) + "." + seg(claims)
    return data + "." + labkit.b64url_encode(hashlib.sha256(secret + data.encode()).digest())


def hs256_sort_keys(claims: dict[str, Any], secret: bytes) -> str:
    data = seg(HS256_HEADER) + "." + seg(claims, sort_keys=True)
    return data + "." + labkit.b64url_encode(hmac.digest(secret, data.encode(), "sha256"))


def hs256_hardcoded_secret(claims: dict[str, Any], secret: bytes) -> str:
    return jwt.encode(claims, keys.demo_secret(), algorithm="HS256")


def hs256_hex_signature(claims: dict[str, Any], secret: bytes) -> str:
    data = seg(HS256_HEADER) + "." + seg(claims)
    return data + "." + hmac.new(secret, data.encode(), hashlib.sha256).hexdigest()


def hs256_swapped_key(claims: dict[str, Any], secret: bytes) -> str:
    data = seg(HS256_HEADER) + "." + seg(claims)
    return data + "." + labkit.b64url_encode(hmac.digest(data.encode(), secret, "sha256"))


def hs256_spaces(claims: dict[str, Any], secret: bytes) -> str:
    data = seg(HS256_HEADER, separators=(", ", ": ")) + "." + seg(claims, separators=(", ", ": "))
    return data + "." + labkit.b64url_encode(hmac.digest(secret, data.encode(), "sha256"))


def hs256_padded(claims: dict[str, Any], secret: bytes) -> str:
    data = seg(HS256_HEADER) + "." + seg(claims)
    mac = hmac.digest(secret, data.encode(), "sha256")
    return data + "." + base64.urlsafe_b64encode(mac).decode()


def hs256_alg_none(claims: dict[str, Any], secret: bytes) -> str:
    return seg({"alg": "none", "typ": "JWT"}) + "." + seg(claims) + "."


def hs256_pyjwt(claims: dict[str, Any], secret: bytes) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def hs256_by_hand(claims: dict[str, Any], secret: bytes) -> str:
    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    parts = [b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (HS256_HEADER, claims)]
    signing_input = ".".join(parts).encode("ascii")
    return ".".join([*parts, b64url(hmac.new(secret, signing_input, "sha256").digest())])


# 02.2 -----------------------------------------------------------------------------------------


def halves(sig: bytes, at: int | None = None) -> tuple[int, int]:
    at = len(sig) // 2 if at is None else at
    return int.from_bytes(sig[:at], "big"), int.from_bytes(sig[at:], "big")


def der_any_length(sig: bytes) -> bytes:  # converts what no curve could have made
    return encode_dss_signature(*halves(sig))


def der_fixed_split(sig: bytes) -> bytes:
    if len(sig) not in (64, 96, 132):
        raise ValueError("bad length")
    return encode_dss_signature(*halves(sig, 32))


def der_swapped(sig: bytes) -> bytes:
    if len(sig) not in (64, 96, 132):
        raise ValueError("bad length")
    r, s = halves(sig)
    return encode_dss_signature(s, r)


def der_little_endian(sig: bytes) -> bytes:
    if len(sig) not in (64, 96, 132):
        raise ValueError("bad length")
    half = len(sig) // 2
    return encode_dss_signature(
        int.from_bytes(sig[:half], "little"), int.from_bytes(sig[half:], "little")
    )


def der_by_hand_no_sign_byte(sig: bytes) -> bytes:  # forgets DER's 0x00 before a high bit
    if len(sig) not in (64, 96, 132):
        raise ValueError("bad length")
    half = len(sig) // 2
    ints = [sig[:half].lstrip(b"\0") or b"\0", sig[half:].lstrip(b"\0") or b"\0"]
    body = b"".join(b"\x02" + bytes([len(i)]) + i for i in ints)
    return (
        b"\x30" + bytes([len(body)]) + body
        if len(body) < 128
        else b"\x30\x81" + bytes([len(body)]) + body
    )


def der_raw_unchanged(sig: bytes) -> bytes:
    if len(sig) not in (64, 96, 132):
        raise ValueError("bad length")
    return sig


def der_by_hand(sig: bytes) -> bytes:
    sizes = {64: 32, 96: 48, 132: 66}
    if len(sig) not in sizes:
        raise ValueError(f"{len(sig)} bytes is no ES256/384/512 signature")

    def integer(raw: bytes) -> bytes:
        raw = raw.lstrip(b"\0") or b"\0"
        if raw[0] & 0x80:
            raw = b"\0" + raw
        return b"\x02" + bytes([len(raw)]) + raw

    body = integer(sig[: sizes[len(sig)]]) + integer(sig[sizes[len(sig)] :])
    length = bytes([len(body)]) if len(body) < 128 else b"\x81" + bytes([len(body)])
    return b"\x30" + length + body


def der_divmod(sig: bytes) -> bytes:
    if len(sig) % 2 or len(sig) // 2 not in (32, 48, 66):
        raise ValueError("wrong size")
    r, s = divmod(int.from_bytes(sig, "big"), 1 << (4 * len(sig)))
    return encode_dss_signature(r, s)


# 02.3 -----------------------------------------------------------------------------------------

REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def b64sha256(text: str) -> str:
    return labkit.b64url_encode(hashlib.sha256(text.encode()).digest())


def kid_echo(jwk: dict[str, Any]) -> str:
    return jwk["kid"]


def kid_echo_or_compute(jwk: dict[str, Any]) -> str:  # trusts a kid when there is one
    if "kid" in jwk:
        return jwk["kid"]
    return b64sha256(json.dumps({n: jwk[n] for n in REQUIRED[jwk["kty"]]}, separators=(",", ":")))


def thumb_all_members(jwk: dict[str, Any]) -> str:
    return b64sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")))


def thumb_public_minus_kid(jwk: dict[str, Any]) -> str:  # still hashes use, alg, d ...
    rest = {k: v for k, v in jwk.items() if k != "kid"}
    return b64sha256(json.dumps(rest, sort_keys=True, separators=(",", ":")))


def thumb_whitespace(jwk: dict[str, Any]) -> str:
    return b64sha256(json.dumps({n: jwk[n] for n in REQUIRED[jwk["kty"]]}, sort_keys=True))


def thumb_hex(jwk: dict[str, Any]) -> str:
    text = json.dumps({n: jwk[n] for n in REQUIRED[jwk["kty"]]}, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def thumb_unsorted(jwk: dict[str, Any]) -> str:
    members = {n: v for n, v in jwk.items() if n in REQUIRED[jwk["kty"]]}
    return b64sha256(json.dumps(members, separators=(",", ":")))


def thumb_by_hand(jwk: dict[str, Any]) -> str:
    names = sorted(REQUIRED[jwk["kty"]])
    text = "{" + ",".join(f'"{n}":"{jwk[n]}"' for n in names) + "}"
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode().rstrip("=")


def thumb_labkit(jwk: dict[str, Any]) -> str:
    return labkit.keys.thumbprint(jwk)


# 03.1 -----------------------------------------------------------------------------------------


def live_inclusive_exp(claims: dict, now: float, leeway: float = 0) -> bool:
    return not ("exp" in claims and now - leeway > claims["exp"])


def live_ignores_nbf_iat(claims: dict, now: float, leeway: float = 0) -> bool:
    return not ("exp" in claims and now - leeway >= claims["exp"])


def live_leeway_backwards(claims: dict, now: float, leeway: float = 0) -> bool:
    expired = "exp" in claims and now + leeway >= claims["exp"]
    early = any(n in claims and claims[n] > now - leeway for n in ("nbf", "iat"))
    return not (expired or early)


def live_needs_exp(claims: dict, now: float, leeway: float = 0) -> bool:
    if "exp" not in claims:
        return False  # presence is the verifier's `required` job, not the time window's
    return now - leeway < claims["exp"] and all(
        claims[n] <= now + leeway for n in ("nbf", "iat") if n in claims
    )


def live_no_type_check(claims: dict, now: float, leeway: float = 0) -> bool:
    try:
        expired = "exp" in claims and now - leeway >= float(claims["exp"])
        early = any(n in claims and float(claims[n]) > now + leeway for n in ("nbf", "iat"))
    except (TypeError, ValueError):
        return False
    return not (expired or early)


def live_allows_future_iat(claims: dict, now: float, leeway: float = 0) -> bool:
    if not all(type(claims[n]) in (int, float) for n in ("exp", "nbf", "iat") if n in claims):
        return False
    expired = "exp" in claims and now - leeway >= claims["exp"]
    return not (expired or ("nbf" in claims and claims["nbf"] > now + leeway))


def live_by_window(claims: dict, now: float, leeway: float = 0) -> bool:
    values = {n: claims.get(n) for n in ("exp", "nbf", "iat")}
    for value in values.values():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return False
        if value is not None and not -float("inf") < value < float("inf"):  # NaN, Infinity
            return False
    start = max(v for v in (values["nbf"], values["iat"], float("-inf")) if v is not None)
    end = values["exp"] if values["exp"] is not None else float("inf")
    return start - leeway <= now < end + leeway


def live_labkit(claims: dict, now: float, leeway: float = 0) -> bool:
    try:
        labkit.claims.check_times(claims, now=now, leeway=leeway)
    except labkit.InvalidTokenError:
        return False
    return True


# 03.2 -----------------------------------------------------------------------------------------


def iss_substring(iss: object, trusted: Any) -> bool:  # CVE-2024-53861's shape
    return isinstance(iss, str) and iss in trusted


def iss_prefix(iss: object, trusted: Any) -> bool:
    allowed = [trusted] if isinstance(trusted, str) else trusted
    return isinstance(iss, str) and any(iss.startswith(t) for t in allowed)


def iss_element_in_iss(iss: object, trusted: Any) -> bool:
    allowed = [trusted] if isinstance(trusted, str) else trusted
    return isinstance(iss, str) and any(t in iss for t in allowed)


def iss_iss_in_element(iss: object, trusted: Any) -> bool:
    allowed = [trusted] if isinstance(trusted, str) else trusted
    return isinstance(iss, str) and bool(iss) and any(iss in t for t in allowed)


def iss_casefold(iss: object, trusted: Any) -> bool:
    allowed = [trusted] if isinstance(trusted, str) else trusted
    return isinstance(iss, str) and iss.strip().lower() in [t.lower() for t in allowed]


def iss_no_type_check(iss: Any, trusted: Any) -> bool:
    allowed = [trusted] if isinstance(trusted, str) else list(trusted)
    return iss == allowed or iss in allowed


def iss_set_overlap(iss: Any, trusted: Any) -> bool:
    issuers = {iss} if isinstance(iss, str) else set(iss) if isinstance(iss, list) else set()
    allowed = {trusted} if isinstance(trusted, str) else set(trusted)
    return bool(issuers & allowed)


def iss_any_equal(iss: object, trusted: Any) -> bool:
    allowed = (trusted,) if isinstance(trusted, str) else tuple(trusted)
    return type(iss) is str and any(iss == t for t in allowed)


def iss_frozenset(iss: object, trusted: Any) -> bool:
    if not isinstance(iss, str):
        return False
    return iss in frozenset([trusted] if isinstance(trusted, str) else trusted)


# 03.3 -----------------------------------------------------------------------------------------

OPTIONS = {
    "algorithms": ["HS256"],
    "audience": "labkit-api",
    "issuer": TRUSTED,
    "leeway": 30,
    "required": ("sub",),
    "now": NOW,
}


def options(**changes: Any) -> dict[str, Any]:
    merged = {**OPTIONS, **changes}
    return {k: v for k, v in merged.items() if v is not None}


BANKS = {
    "00.1": Bank(
        wrong=(
            Wrong("one-string", "header.payload.signature", "not one string"),
            Wrong("jwe-five-parts", ["header", "key", "iv", "ciphertext", "tag"], "(JWE)"),
            Wrong("wrong-order", ["payload", "header", "signature"], "wrong order"),
            Wrong("set-has-no-order", {"header", "payload", "signature"}, "order matters"),
            Wrong("synonym-claims", ["header", "claims", "signature"], "not 'claims'"),
            Wrong("two-parts", ["header", "payload"], "your list has 2"),
            Wrong("repeated", ["header", "header", "signature"], "each part appears once"),
            Wrong("not-strings", [1, 2, 3], "each part's name is a string"),
        ),
        right=(
            Right("tuple", ("header", "payload", "signature")),
            Right("capitalised", ["Header", "Payload", "Signature"]),
            Right("split", ["header", "payload", "signature"]),
        ),
    ),
    "00.2": Bank(
        wrong=(
            Wrong("false", False, "not encrypted"),
            Wrong("string-true", "True", "not the string 'True'"),
            Wrong("int-one", 1, "answer True or False, not 1"),
            Wrong("yes", "yes", "answer the bool True or False"),
            Wrong("list", [True], "answer True or False"),
        ),
        right=(Right("not-false", not False), Right("comparison", 3 > 2)),
    ),
    "01.1": Bank(
        wrong=(
            Wrong("accepts-base64-alphabet", lenient_b64url, "base64's '+' and '/'"),
            Wrong(
                "skips-junk-characters", b64url_skipping_junk, "a character outside the alphabet"
            ),
            Wrong("accepts-padding", b64url_accepting_padding, "'=' padding"),
            Wrong("stray-low-bits", b64url_validating_alphabet_only, "stray low bits"),
            Wrong("standard-alphabet", b64_standard_alphabet, "'-_8' is valid base64url"),
            Wrong("no-padding-added", b64url_no_padding_added, "Incorrect padding"),
            Wrong("returns-str", b64url_returns_text, "return bytes, not str"),
        ),
        right=(
            Right("bit-table", b64url_by_table),
            Right("binascii-strict", b64url_strict_binascii),
            Right("labkit", labkit.b64url_decode),
        ),
    ),
    "01.2": Bank(
        wrong=(
            Wrong(
                "naive-utc",
                dt.datetime.fromtimestamp(EXP, tz=UTC).replace(tzinfo=None),
                "timezone-aware",
            ),
            Wrong("iat-not-exp", dt.datetime.fromtimestamp(T0, tz=UTC), "is the iat claim"),
            Wrong(
                "local-time-as-utc",
                dt.datetime.fromtimestamp(EXP, tz=UTC).replace(
                    tzinfo=dt.timezone(dt.timedelta(hours=5))
                ),
                "a timezone slipped in",
            ),
            Wrong("the-number", EXP, "that is a number"),
            Wrong("iso-string", "2026-01-01T10:00:00+00:00", "that is a string"),
            Wrong("a-date", dt.date(2026, 1, 1), "a date has no time of day"),
            Wrong("one-second-off", dt.datetime.fromtimestamp(EXP - 1, tz=UTC), "read the exp"),
        ),
        right=(
            Right(
                "other-zone", dt.datetime.fromtimestamp(EXP, tz=dt.timezone(dt.timedelta(hours=-5)))
            ),
            Right("epoch-plus", dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=EXP)),
            Right("literal", dt.datetime(2026, 1, 1, 10, 0, tzinfo=UTC)),
        ),
    ),
    "01.3": Bank(
        wrong=(
            Wrong(
                "alg-none-header",
                forged({**examples.LAB_CLAIMS, "role": "admin"}, header=seg({"alg": "none"})),
                "keep the original header",
            ),
            Wrong(
                "signature-stripped",
                forged({**examples.LAB_CLAIMS, "role": "admin"}, sig=""),
                "keep the original signature",
            ),
            Wrong(
                "duplicate-role-member",
                ALICE.split(".")[0]
                + "."
                + labkit.b64url_encode(
                    json.dumps(examples.LAB_CLAIMS, separators=(",", ":"))[:-1] + ',"role":"admin"}'
                )
                + "."
                + ALICE.split(".")[2],
                "the member 'role' twice",
            ),
            Wrong(
                "case-variant", forged({**examples.LAB_CLAIMS, "role": "Admin"}), "exactly 'admin'"
            ),
            Wrong("role-list", forged({**examples.LAB_CLAIMS, "role": ["admin"]}), "not ['admin']"),
            Wrong(
                "also-changed-sub",
                forged({**examples.LAB_CLAIMS, "role": "admin", "sub": "bob"}),
                "you also changed sub",
            ),
            Wrong(
                "extra-claim",
                forged({**examples.LAB_CLAIMS, "role": "admin", "admin": True}),
                "you also changed admin",
            ),
            Wrong("bytes", ALICE.encode(), "as a string, not bytes"),
            Wrong("unchanged", ALICE, "role should be the string 'admin'"),
        ),
        right=(
            Right(
                "default-json-spacing",
                ".".join(
                    [
                        ALICE.split(".")[0],
                        labkit.b64url_encode(json.dumps({**examples.LAB_CLAIMS, "role": "admin"})),
                        ALICE.split(".")[2],
                    ]
                ),
            ),
            Right(
                "role-moved-last",
                forged(
                    {
                        **{k: v for k, v in examples.LAB_CLAIMS.items() if k != "role"},
                        "role": "admin",
                    }
                ),
            ),
        ),
    ),
    "02.1": Bank(
        wrong=(
            Wrong("bare-sha256-not-hmac", hs256_bare_hash, "open to length extension"),
            Wrong("alg-none", hs256_alg_none, '"alg": "HS256"'),
            Wrong("hard-coded-secret", hs256_hardcoded_secret, "don't hard-code it"),
            Wrong("sort-keys", hs256_sort_keys, "sort_keys=True reorders the claims"),
            Wrong("hmac-key-swapped", hs256_swapped_key, "key and the message are swapped"),
            Wrong("hex-signature", hs256_hex_signature, "not their hex digits"),
            Wrong("json-spaces", hs256_spaces, "no spaces"),
            Wrong("padded-signature", hs256_padded, "'=' padding"),
        ),
        right=(Right("pyjwt", hs256_pyjwt), Right("by-hand-b64url", hs256_by_hand)),
    ),
    "02.2": Bank(
        wrong=(
            Wrong("any-length-converted", der_any_length, "fits no curve"),
            Wrong("split-at-32", der_fixed_split, "split at 32 bytes"),
            Wrong("r-s-swapped", der_swapped, "r and s swapped"),
            Wrong("little-endian", der_little_endian, "little-endian"),
            Wrong("der-without-sign-byte", der_by_hand_no_sign_byte, "not DER of (r, s)"),
            Wrong("raw-unchanged", der_raw_unchanged, "raw r || s unchanged"),
        ),
        right=(Right("der-by-hand", der_by_hand), Right("divmod", der_divmod)),
    ),
    "02.3": Bank(
        wrong=(
            Wrong("echo-kid", kid_echo, "you returned its kid"),
            Wrong("kid-if-present", kid_echo_or_compute, "you returned its kid"),
            Wrong("all-members", thumb_all_members, "hash only the required members"),
            Wrong("all-but-kid", thumb_public_minus_kid, "hash only the required members"),
            Wrong("whitespace", thumb_whitespace, "no whitespace"),
            Wrong("hex-digest", thumb_hex, "not hex"),
            Wrong("unsorted", thumb_unsorted, "sort the member names"),
        ),
        right=(Right("by-hand-json", thumb_by_hand), Right("labkit-keys", thumb_labkit)),
    ),
    "03.1": Bank(
        wrong=(
            Wrong("exp-inclusive", live_inclusive_exp, "with leeway 0 should be not live"),
            Wrong("only-exp", live_ignores_nbf_iat, "should be not live"),
            Wrong("leeway-backwards", live_leeway_backwards, "should be live"),
            Wrong("string-numericdate", live_no_type_check, "{'exp': '1767258300'}"),
            Wrong("future-iat-allowed", live_allows_future_iat, "{'iat': 'T0+0'}"),
            Wrong("no-exp-means-dead", live_needs_exp, "should be live, you returned False"),
        ),
        right=(Right("window", live_by_window), Right("labkit-check-times", live_labkit)),
    ),
    "03.2": Bank(
        wrong=(
            Wrong("substring-cve-2024-53861", iss_substring, "substring match"),
            Wrong("prefix", iss_prefix, "prefix match"),
            Wrong("element-contained-in-iss", iss_element_in_iss, "should be False"),
            Wrong("iss-contained-in-element", iss_iss_in_element, "substring match"),
            Wrong("case-and-space-folding", iss_casefold, "no case folding"),
            Wrong("no-type-check", iss_no_type_check, "not a str, is never trusted"),
            Wrong("list-overlap", iss_set_overlap, "not a str, is never trusted"),
        ),
        right=(Right("any-equal", iss_any_equal), Right("frozenset", iss_frozenset)),
    ),
    "03.3": Bank(
        wrong=(
            Wrong("require-exp-false", options(require_exp=False), "require_exp=False drops exp"),
            Wrong(
                "three-algorithms-incl-rs256",
                options(algorithms=["HS256", "HS384", "RS256"]),
                "allows HS384, RS256 besides HS256",
            ),
            Wrong("extra-issuer", options(issuer=[TRUSTED, "https://evil.example"]), "also trusts"),
            Wrong(
                "extra-audience", options(audience=["labkit-api", "labkit-billing"]), "also trusts"
            ),
            Wrong("no-audience", options(audience=None), "Alice's token at the frozen clock was"),
            Wrong("no-issuer", options(issuer=None), "'https://idp.labkit' was accepted"),
            Wrong("big-leeway", options(leeway=3600), "expired 31 s before the clock was accepted"),
            Wrong("no-leeway", options(leeway=None), "expired 20 s before the clock was refused"),
            Wrong("required-as-string", options(required="sub"), "a string would be read"),
            Wrong("algorithms-string", options(algorithms="HS256"), "must be a list"),
            Wrong("no-clock", options(now=None), "pass now=NOW"),
        ),
        right=(
            Right("required-sub-keeps-exp", options()),
            Right("explicit-exp", options(required=["exp", "sub"], issuer=[TRUSTED])),
            Right("epoch-seconds", options(required={"sub"}, now=NOW_SECONDS, leeway=25.0)),
        ),
    ),
}


# Red-team look-alikes (issue 11: "other look-alikes of the same kinds will be tried") ---------
# Each was accepted before its check was widened; the check now probes the whole class.


def _canonical(segment: str) -> bytes:
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != segment:
        raise ValueError(f"{segment!r} is not canonical base64url")
    return data


def b64url_strip_first(segment: str) -> bytes:  # "tidy the input" before a strict decode
    return _canonical(segment.strip())


def b64url_nfkc_first(segment: str) -> bytes:  # "normalise Unicode" before a strict decode
    return _canonical(unicodedata.normalize("NFKC", segment))


def b64url_regex_then_decode(segment: str) -> bytes:  # a regex allowlist, but '$' allows '\n'
    if not re.match(r"^[A-Za-z0-9_-]*$", segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    return _canonical(segment.rstrip("\n")) if segment.endswith("\n") else _canonical(segment)


def thumbprint_or_kid_if_shaped(jwk: dict[str, Any]) -> str:  # trusts a thumbprint-shaped kid
    kid = jwk.get("kid", "")
    if isinstance(kid, str) and re.fullmatch(r"[A-Za-z0-9_-]{43}", kid):
        return kid
    return keys.thumbprint(jwk)


def thumbprint_public_members(jwk: dict[str, Any]) -> str:  # right: the public members present
    members = {k: jwk[k] for k in ("crv", "e", "kty", "n", "x", "y") if k in jwk}
    text = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return labkit.b64url_encode(hashlib.sha256(text.encode()).digest())


def _allowed(trusted: Any) -> list[Any]:
    return [trusted] if isinstance(trusted, str) else list(trusted)


def iss_nfkc(iss: object, trusted: Any) -> bool:  # "normalise Unicode" folds fullwidth letters
    return isinstance(iss, str) and unicodedata.normalize("NFKC", iss) in _allowed(trusted)


def iss_rstrip(iss: object, trusted: Any) -> bool:  # tolerates a trailing space or line end
    return isinstance(iss, str) and iss.rstrip() in _allowed(trusted)


def iss_upper(iss: object, trusted: Any) -> bool:  # upper() maps the dotless i to I
    return isinstance(iss, str) and iss.upper() in [t.upper() for t in _allowed(trusted)]


def iss_scheme_upgrade(iss: object, trusted: Any) -> bool:  # "http is the same issuer"
    if not isinstance(iss, str):
        return False
    return iss in _allowed(trusted) or iss.replace("http://", "https://", 1) in _allowed(trusted)


def iss_regex(iss: object, trusted: Any) -> bool:  # re.fullmatch with the name as the pattern
    return isinstance(iss, str) and any(re.fullmatch(t, iss) for t in _allowed(trusted))


def iss_hard_coded(iss: object, trusted: Any) -> bool:  # knows the check's names, tests nothing
    return iss in ("https://idp.labkit.local", "https://b.example") and iss != ["x"]


def iss_by_index(iss: object, trusted: Any) -> bool:  # right: an explicit loop of ==
    if type(iss) is not str:
        return False
    return any(type(name) is str and name == iss for name in _allowed(trusted))


def iss_by_dict(iss: object, trusted: Any) -> bool:  # right: dict membership hashes whole str
    return isinstance(iss, str) and iss in dict.fromkeys(_allowed(trusted))


def live_nan_and_infinity(claims: dict, now: float, leeway: float = 0) -> bool:
    """The lesson's rules, typed, but NaN and Infinity are floats too: exp=Infinity never dies."""
    times = [claims[name] for name in ("exp", "nbf", "iat") if name in claims]
    if not all(type(t) in (int, float) for t in times):
        return False
    expired = "exp" in claims and now - leeway >= claims["exp"]
    too_early = "nbf" in claims and claims["nbf"] > now + leeway
    from_the_future = "iat" in claims and claims["iat"] > now + leeway
    return not (expired or too_early or from_the_future)


_REDTEAM_WRONG: dict[str, tuple[Wrong, ...]] = {
    "03.1": (Wrong("nan-and-infinity-are-floats", live_nan_and_infinity, "{'exp': inf}"),),
    "01.1": (
        Wrong("strip-before-strict-decode", b64url_strip_first, "a line end after the segment"),
        Wrong("nfkc-before-strict-decode", b64url_nfkc_first, "fullwidth letters"),
        Wrong("regex-dollar-accepts-newline", b64url_regex_then_decode, "'YWI\\n'"),
    ),
    "02.3": (
        Wrong(
            "echo-a-thumbprint-shaped-kid",
            thumbprint_or_kid_if_shaped,
            "whose kid is another key's thumbprint you returned its kid",
        ),
    ),
    "03.2": (
        Wrong("nfkc-normalised", iss_nfkc, "no case folding, Unicode normalization"),
        Wrong("trailing-whitespace-stripped", iss_rstrip, "no case folding, Unicode"),
        Wrong("upper-case-compare", iss_upper, "no case folding"),
        Wrong("http-treated-as-https", iss_scheme_upgrade, "'http://idp.labkit.local'"),
        Wrong("unescaped-regex", iss_regex, "'https://idpXlabkit.local'"),
        Wrong("hard-coded-names", iss_hard_coded, "should be True, you returned False"),
    ),
    "03.3": (
        Wrong("leeway-39", options(leeway=39), "expired 31 s before the clock was accepted"),
        Wrong(
            "audience-dict-of-two",
            options(audience={"labkit-api": 1, "labkit-billing": 2}),
            "audience also trusts labkit-billing",
        ),
        Wrong(
            "algorithms-dict-with-none",
            options(algorithms={"HS256": True, "none": True}),
            "algorithms allows none besides HS256",
        ),
    ),
}
_REDTEAM_RIGHT: dict[str, tuple[Right, ...]] = {
    "02.3": (Right("public-members-present", thumbprint_public_members),),
    "03.2": (Right("typed-loop", iss_by_index), Right("dict-keys", iss_by_dict)),
    "03.3": (Right("leeway-timedelta", options(leeway=dt.timedelta(seconds=30))),),
}
BANKS = extended(BANKS, _REDTEAM_WRONG, _REDTEAM_RIGHT)


def decode_refusing_with_assert(segment: str) -> bytes:  # refuses, but not with ValueError
    assert "=" not in segment and "+" not in segment and "/" not in segment
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == segment
    return raw


def der_refusing_with_assert(raw: bytes) -> bytes:
    assert len(raw) in (64, 96, 132)
    half = len(raw) // 2
    return encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )


def is_live_without_bool_check(claims: dict, now: float, leeway: float = 0) -> bool:
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and not isinstance(value, (int, float)):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
    if "exp" in claims and now - leeway >= claims["exp"]:
        return False
    if "nbf" in claims and now + leeway < claims["nbf"]:
        return False
    return not ("iat" in claims and claims["iat"] > now + leeway)


_WALKTHROUGH_WRONG: dict[str, tuple[Wrong, ...]] = {
    "01.1": (Wrong("refuses-with-assert", decode_refusing_with_assert, "raise ValueError"),),
    "02.2": (Wrong("refuses-with-assert", der_refusing_with_assert, "raise ValueError"),),
    "03.1": (Wrong("bool-nbf-or-iat", is_live_without_bool_check, "should be not live"),),
}
BANKS = extended(BANKS, _WALKTHROUGH_WRONG, {})

test_wrong_answer_is_refused, test_right_answer_is_accepted = bank_tests(BANKS)
