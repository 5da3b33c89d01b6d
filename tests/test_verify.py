"""labkit.verify: every malformed-token class and unsafe-key class, the claims, key selection."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import labkit
from labkit import keys, tokens
from labkit.algorithms import ALGORITHMS, sign
from labkit.errors import (
    BadSignatureError,
    ConfigurationError,
    CriticalHeaderError,
    DisallowedAlgorithmError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidTokenError,
    KeyNotFoundError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
    UnsafeKeyError,
)
from labkit.verify import MAX_LENGTH, required_claims, roca_vulnerable, verify, verify_jws

NOW = 1_700_000_000  # 2023-11-14T22:13:20Z, the frozen clock of these tests
SECRET = keys.demo_secret()
CLAIMS = {"sub": "alice", "iat": NOW - 60, "exp": NOW + 600}


def make(
    claims: dict[str, Any] | bytes = CLAIMS,
    *,
    alg: str = "HS256",
    key: object = SECRET,
    header: dict[str, Any] | None = None,
) -> str:
    """A token signed over exactly the header given (alg first), unlike sign_token's defaults."""
    head = {"alg": alg, **(header or {})}
    return tokens.encode(head, claims, sign(alg, key, tokens.signing_input(head, claims)))


def check(token: str, key: object = SECRET, **options: Any) -> dict[str, Any]:
    options.setdefault("algorithms", ["HS256"])
    options.setdefault("now", NOW)
    return verify(token, key, **options)


def forge(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes, sig: bytes = b"") -> str:
    """A token from raw parts with an HS256 MAC over them, whatever they say."""
    head = header if isinstance(header, bytes) else tokens.json_bytes(header)
    body = payload if isinstance(payload, bytes) else tokens.json_bytes(payload)
    data = f"{tokens.b64url_encode(head)}.{tokens.b64url_encode(body)}".encode()
    mac = sig or sign("HS256", SECRET, data)
    return f"{data.decode()}.{tokens.b64url_encode(mac)}"


# Accepting good tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_algorithm_verifies_with_its_demo_key(alg: str) -> None:
    token = labkit.sign_token(CLAIMS, keys.demo_key_for(alg), alg)
    public = keys.demo_key_for(alg, private=False)
    assert check(token, public, algorithms=[alg]) == CLAIMS


@pytest.mark.parametrize("alg", ["RS256", "ES384", "EdDSA", "HS512"])
def test_every_key_form_is_accepted(alg: str) -> None:
    private = keys.demo_key_for(alg)
    token = labkit.sign_token(CLAIMS, private, alg)
    public = keys.demo_key_for(alg, private=False)
    jwk = keys.to_jwk(public, alg=alg, private=isinstance(public, bytes))
    forms: list[object] = [private, public, jwk, {"keys": [jwk]}]
    if not isinstance(public, bytes):
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        forms += [pem, pem.decode()]
    else:
        forms += [public.decode()]
    for form in forms:
        assert check(token, form, algorithms=[alg]) == CLAIMS


def test_bytes_token_and_pyjwt_tokens_verify() -> None:
    token = jwt.encode(CLAIMS, SECRET, algorithm="HS256")
    assert check(token) == CLAIMS
    assert check(token.encode()) == CLAIMS


def test_labkit_tokens_verify_under_pyjwt() -> None:
    token = make(CLAIMS)
    assert jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False}) == CLAIMS


def test_verify_jws_returns_raw_payload_bytes() -> None:
    token = make(b"not JSON \x00\xff")
    assert verify_jws(token, SECRET, algorithms=["HS256"]) == b"not JSON \x00\xff"
    with pytest.raises(MalformedTokenError, match="the payload is not UTF-8"):
        check(token)


# Malformed tokens: MalformedTokenError, each class -----------------------------------------------

GOOD = make()
HEAD, BODY, SIG = GOOD.split(".")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "a token must be a string, got NoneType"),
        (12345, "a token must be a string, got int"),
        ({"payload": "e30"}, "a token must be a string, got dict"),
        ("", "the token is empty"),
        ("abc", "has 1 segment"),
        (f"{HEAD}.{BODY}", "has 2 segments"),
        (f"{GOOD}.", "has 4 segments"),
        ("a.b.c.d.e", "encrypted JWE"),
        (f".{BODY}.{SIG}", "the header segment is empty"),
        (f"{HEAD}..{SIG}", "the payload segment is empty"),
        (f"Bearer {GOOD}", "starts with 'Bearer '"),
        (f"{GOOD} ", "whitespace at position"),
        (f"{HEAD}=.{BODY}.{SIG}", "'=' padding"),
        (f"{HEAD}.{BODY}.{SIG[:4]}+{SIG[5:]}", "not base64url: character '\\+'"),
        (f"{HEAD}.{BODY}.{SIG[:4]}?{SIG[5:]}", "not base64url: character '\\?'"),
        (f"{HEAD}.{BODY}.abcde", "impossible base64url length"),
        (f"{HEAD}.{BODY}.AB", "not canonical base64url"),
        ("é.é.é", "not base64url: character 'é'"),
        (b"\xff.\xff.\xff", "non-ASCII bytes"),
        (forge(b"{alg: HS256}", CLAIMS), "the header is not JSON"),
        (forge(b"[1, 2]", CLAIMS), "the header must be a JSON object, got an array"),
        (forge(b"\xff\xfe", CLAIMS), "the header is not UTF-8"),
        (forge(b'{"alg":"HS256","alg":"none"}', CLAIMS), "the header has the member 'alg' twice"),
        (forge({"alg": "HS256"}, b'{"sub":"a","sub":"b"}'), "the payload has the member 'sub'"),
        (forge({"alg": "HS256"}, b'{"exp": NaN}'), "JSON does not allow NaN"),
        (forge({"alg": "HS256"}, b"[]"), "the payload must be a JSON object"),
        (forge({"typ": "JWT"}, CLAIMS), "the header has no 'alg'"),
        (forge({"alg": ["HS256"]}, CLAIMS), "'alg' must be a string"),
        (forge({"alg": "HS256", "kid": 7}, CLAIMS), "'kid' must be a string"),
        (forge({"alg": "HS256", "crit": "exp"}, CLAIMS), "'crit' must be a non-empty list"),
        (forge({"alg": "HS256", "crit": []}, CLAIMS), "'crit' must be a non-empty list"),
        (forge({"alg": "HS256", "crit": [1]}, CLAIMS), "'crit' must be a non-empty list"),
        (forge({"alg": "HS256", "crit": ["b64"]}, CLAIMS), "'crit' lists 'b64', which the"),
        (forge({"alg": "HS256", "b64": "no", "crit": ["b64"]}, CLAIMS), "'b64' must be true"),
        (forge({"alg": "HS256", "b64": True}, CLAIMS), "does not list it in 'crit'"),
        (forge({"alg": "HS256", "b64": False, "crit": ["b64"]}, CLAIMS), "b64=false"),
        ("e" * (MAX_LENGTH + 1), "over the limit of 8192"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
def test_malformed_tokens(token: object, message: str) -> None:
    with pytest.raises(MalformedTokenError, match=message) as info:
        check(token)  # type: ignore[arg-type]
    assert type(info.value) is MalformedTokenError


def test_max_length_is_checked_before_parsing() -> None:
    too_long = f"{GOOD}{'!' * 50}"  # garbage a parser would complain about differently
    with pytest.raises(MalformedTokenError, match=f"is {len(too_long)} characters long"):
        check(too_long, max_length=len(GOOD))
    assert check(GOOD, max_length=len(GOOD)) == CLAIMS


# Algorithms: DisallowedAlgorithmError, CriticalHeaderError ---------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_never_accepted(alg: str) -> None:
    token = tokens.encode({"alg": alg}, CLAIMS)
    with pytest.raises(DisallowedAlgorithmError, match="unsigned token"):
        check(token, algorithms=list(ALGORITHMS))


def test_alg_outside_the_allowed_list_is_refused() -> None:
    token = make(alg="HS384")
    with pytest.raises(DisallowedAlgorithmError, match="'HS384', which is not in the allowed"):
        check(token)


def test_unknown_alg_in_token_is_refused() -> None:
    with pytest.raises(DisallowedAlgorithmError, match="'HS999'"):
        check(forge({"alg": "HS999"}, CLAIMS))


def test_jwk_alg_must_match_token_alg() -> None:
    jwk = keys.to_jwk(SECRET, alg="HS256", private=True)
    token = make(alg="HS512")
    with pytest.raises(DisallowedAlgorithmError, match="its key is for 'HS256'"):
        check(token, jwk, algorithms=["HS256", "HS512"])


def test_unknown_critical_header_is_refused() -> None:
    token = make(header={"crit": ["exp"], "exp": NOW})
    with pytest.raises(CriticalHeaderError, match="marks 'exp' critical"):
        check(token)


# Keys: UnsafeKeyError, each class ----------------------------------------------------------------

RSA_PUBLIC = keys.demo_public_key("rsa")
RSA_PEM = RSA_PUBLIC.public_bytes(  # type: ignore[union-attr]
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def _rsa_jwk_with_modulus(n: int) -> dict[str, Any]:
    size = (n.bit_length() + 7) // 8
    return {"kty": "RSA", "e": "AQAB", "n": tokens.b64url_encode(n.to_bytes(size, "big"))}


def _roca_like_modulus() -> int:
    """An odd 2048-bit n with n = 1 mod every fingerprint prime: it carries the fingerprint."""
    product = 1
    for p in [p for p in range(3, 168) if all(p % d for d in range(2, p))]:
        product *= p
    return product * 2 ** (2048 - product.bit_length()) + 1


def _ssh_public_key() -> bytes:
    return keys.demo_public_key("ed25519").public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )


RSA_1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
RSA_JWK = keys.to_jwk(RSA_PUBLIC, alg="RS256")
P384 = keys.demo_public_key("p384")

UNSAFE_KEYS = [
    ("hmac-secret-for-RS256", "RS256", SECRET, "RS256 needs an RSA"),
    ("rsa-public-key-as-hmac-secret", "HS256", RSA_PUBLIC, "HS256 needs a shared secret"),
    ("pem-text-as-hmac-secret", "HS256", RSA_PEM.decode(), "HS256 needs a shared secret"),
    ("ssh-key-as-hmac-secret", "HS256", _ssh_public_key(), "asymmetric key"),
    ("jwk-json-as-hmac-secret", "HS256", json.dumps(RSA_JWK), "looks like a JWK"),
    ("ec-curve-mismatch", "ES256", P384, "ES256 needs an EC public or private key on P-256"),
    ("ed25519-for-RS256", "RS256", keys.demo_public_key("ed25519"), "RS256 needs an RSA"),
    ("short-hs256-secret", "HS256", b"k" * 31, "secret is 31 bytes; at least 32"),
    ("short-hs384-secret", "HS384", b"k" * 47, "secret is 47 bytes; at least 48"),
    ("short-hs512-secret", "HS512", b"k" * 63, "secret is 63 bytes; at least 64"),
    ("empty-secret", "HS256", b"", "non-empty secret"),
    ("rsa-1024", "RS256", RSA_1024, "1024 bits; at least 2048"),
    ("roca", "RS256", _rsa_jwk_with_modulus(_roca_like_modulus()), "ROCA"),
    ("jwk-use-enc", "RS256", {**RSA_JWK, "use": "enc"}, "use='enc', not 'sig'"),
    ("jwk-key-ops-encrypt", "RS256", {**RSA_JWK, "key_ops": ["encrypt"]}, "do not include"),
    ("jwk-key-ops-not-list", "RS256", {**RSA_JWK, "key_ops": "verify"}, "do not include"),
    ("jwk-bad-kty", "RS256", {"kty": "RSA-OAEP"}, "unknown JWK kty"),
    ("jwk-off-curve", "ES256", {**keys.to_jwk(P384), "crv": "P-256"}, "is 48 bytes"),
    ("broken-pem", "RS256", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END", "not a PEM"),
    ("none-key", "RS256", None, "cannot verify with None"),
    ("list-key", "RS256", [RSA_JWK], "cannot verify with an object of type list"),
    ("dict-neither", "RS256", {"k": "abc"}, "a JWK \\(with 'kty'\\) or a JWKS"),
    ("jwks-empty", "RS256", {"keys": []}, "the JWKS has no keys"),
    ("jwks-not-list", "RS256", {"keys": RSA_JWK}, "a 'keys' array"),
    (
        "jwks-mixed",
        "RS256",
        {"keys": [RSA_JWK, keys.to_jwk(SECRET, kid="s", private=True)]},
        "mixes HMAC secrets with public keys",
    ),
    ("jwks-duplicate-kid", "RS256", {"keys": [RSA_JWK, dict(RSA_JWK)]}, "share kid"),
]


@pytest.mark.parametrize(
    ("alg", "key", "message"), [pytest.param(*case[1:], id=case[0]) for case in UNSAFE_KEYS]
)
def test_unsafe_keys_are_refused(alg: str, key: object, message: str) -> None:
    # The signature is never reached: a key must be judged before it is used.
    token = tokens.encode({"alg": alg}, CLAIMS, b"\x00" * 64)
    with pytest.raises(UnsafeKeyError, match=message) as info:
        check(token, key, algorithms=[alg])
    assert type(info.value) is UnsafeKeyError
    assert "\n" not in str(info.value)


def test_roca_fingerprint() -> None:
    assert roca_vulnerable(_roca_like_modulus())
    for name in ("rsa", "rsa-2"):
        assert not roca_vulnerable(keys.demo_public_key(name).public_numbers().n)  # type: ignore[union-attr]
    assert not roca_vulnerable(RSA_1024.public_numbers().n)


def test_private_keys_verify_through_their_public_half() -> None:
    token = labkit.sign_token(CLAIMS, keys.demo_private_key("rsa"), "PS256")
    assert check(token, keys.demo_private_key("rsa"), algorithms=["PS256"]) == CLAIMS


# Key selection: KeyNotFoundError -----------------------------------------------------------------

SECRET_2 = bytes(range(64))
JWKS = {
    "keys": [
        keys.to_jwk(SECRET, kid="one", alg="HS256", private=True),
        keys.to_jwk(SECRET_2, kid="two", alg="HS256", private=True),
    ]
}


def test_jwks_kid_selects_the_key() -> None:
    assert check(make(header={"kid": "one"}), JWKS) == CLAIMS
    assert check(make(header={"kid": "two"}, key=SECRET_2), JWKS) == CLAIMS


def test_jwks_wrong_kid_fails_the_signature() -> None:
    with pytest.raises(BadSignatureError):
        check(make(header={"kid": "two"}), JWKS)


def test_jwks_token_without_kid_is_refused() -> None:
    with pytest.raises(KeyNotFoundError, match="no 'kid', and the key set holds 2 keys"):
        check(make(), JWKS)


def test_jwks_unknown_kid_is_refused() -> None:
    with pytest.raises(KeyNotFoundError, match="no key in the key set has kid 'three'"):
        check(make(header={"kid": "three"}), JWKS)


def test_single_jwk_with_another_kid_is_refused() -> None:
    jwk = JWKS["keys"][0]
    assert check(make(), jwk) == CLAIMS  # a token without kid may use the only key
    with pytest.raises(KeyNotFoundError, match="'two' is not the key's kid 'one'"):
        check(make(header={"kid": "two"}), jwk)


def test_a_changed_bytearray_secret_is_read_again() -> None:
    secret = bytearray(SECRET)
    token = make()
    assert check(token, secret) == CLAIMS
    secret[0] ^= 1
    with pytest.raises(BadSignatureError):
        check(token, secret)


def test_a_changed_jwks_dict_is_read_again() -> None:
    """Dicts are cached by content, never by identity: a rotated key set takes effect at once."""
    rotating = {"keys": [keys.to_jwk(SECRET, kid="k", alg="HS256", private=True)]}
    token = make(header={"kid": "k"})
    assert check(token, rotating) == CLAIMS
    rotating["keys"][0] = keys.to_jwk(SECRET_2, kid="k", alg="HS256", private=True)
    with pytest.raises(BadSignatureError):
        check(token, rotating)


# Signatures: BadSignatureError -------------------------------------------------------------------


def _flip(segment: str) -> str:
    """The signature segment with one bit changed."""
    raw = bytearray(tokens.b64url_decode(segment))
    raw[-1] ^= 1
    return tokens.b64url_encode(bytes(raw))


def _cut(segment: str) -> str:
    """The signature segment three bytes short."""
    return tokens.b64url_encode(tokens.b64url_decode(segment)[:-3])


def _mallory(body: str) -> str:
    """The payload segment claiming another subject."""
    claims = json.loads(tokens.b64url_decode(body))
    return tokens.b64url_encode(tokens.json_bytes({**claims, "sub": "mallory"}))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(f"{HEAD}.{_mallory(BODY)}.{SIG}", id="payload-changed"),
        pytest.param(f"{HEAD}.{BODY}.{_flip(SIG)}", id="signature-changed"),
        pytest.param(f"{HEAD}.{BODY}.{_cut(SIG)}", id="signature-truncated"),
        pytest.param(f"{HEAD}.{BODY}.", id="signature-empty"),
        pytest.param(make(key=SECRET_2), id="other-secret"),
        pytest.param(make(header={"typ": "JWT"}).split(".")[0] + f".{BODY}.{SIG}", id="header"),
    ],
)
def test_bad_signatures(token: str) -> None:
    with pytest.raises(BadSignatureError, match="the HS256 signature does not match") as info:
        check(token)
    assert type(info.value) is BadSignatureError


@pytest.mark.parametrize("alg", ["RS256", "PS384", "ES256", "ES512", "EdDSA"])
def test_bad_asymmetric_signatures(alg: str) -> None:
    token = labkit.sign_token(CLAIMS, keys.demo_key_for(alg), alg)
    head, body, sig = token.split(".")
    public = keys.demo_key_for(alg, private=False)
    for bad in (f"{head}.{_mallory(body)}.{sig}", f"{head}.{body}.{_cut(sig)}", f"{head}.{body}."):
        with pytest.raises(BadSignatureError):
            check(bad, public, algorithms=[alg])


def test_embedded_jwk_is_never_trusted() -> None:
    """The attacker signs with their own key and ships it in the header (CVE-2018-0114 class)."""
    attacker = ec.generate_private_key(ec.SECP256R1())
    header = {"jwk": keys.to_jwk(attacker.public_key())}
    token = make(alg="ES256", key=attacker, header=header)
    with pytest.raises(BadSignatureError, match="names its own key \\('jwk'\\)"):
        check(token, keys.demo_public_key("p256"), algorithms=["ES256"])


def test_jku_and_x5u_headers_are_ignored_not_followed() -> None:
    header = {"jku": "http://198.51.100.7/jwks.json", "x5u": "http://198.51.100.7/cert.pem"}
    assert check(make(header=header)) == CLAIMS  # signed by our key: accepted, URLs never read


# Claims ------------------------------------------------------------------------------------------


def claims_token(**claims: Any) -> str:
    return make({k: v for k, v in {**CLAIMS, **claims}.items() if v is not None})


def test_expired_token() -> None:
    expected = re.escape("expired at 2023-11-14T22:03:20Z (now 2023-11-14T22:13:20Z)")
    with pytest.raises(ExpiredTokenError, match=expected) as info:
        check(claims_token(exp=NOW - 600))
    assert type(info.value) is ExpiredTokenError


def test_expiry_boundary_and_leeway() -> None:
    token = claims_token(exp=NOW)
    with pytest.raises(ExpiredTokenError):
        check(token)  # exp is the first instant the token is invalid (RFC 7519 4.1.4)
    assert check(token, leeway=1)["exp"] == NOW
    assert check(token, leeway=dt.timedelta(seconds=1))["exp"] == NOW
    assert check(token, now=NOW - 1)["exp"] == NOW


def test_not_before_and_issued_at_in_the_future() -> None:
    with pytest.raises(NotYetValidError, match="not valid before"):
        check(claims_token(nbf=NOW + 30))
    assert check(claims_token(nbf=NOW + 30), leeway=30)["nbf"] == NOW + 30
    with pytest.raises(NotYetValidError, match=r"issued at .* in the future"):
        check(claims_token(iat=NOW + 300))


def test_clock_accepts_datetimes_and_refuses_naive_ones() -> None:
    token = claims_token()
    aware = dt.datetime.fromtimestamp(NOW, tz=dt.timezone.utc)
    assert check(token, now=aware) == CLAIMS
    assert check(token, now=aware.astimezone(dt.timezone(dt.timedelta(hours=5)))) == CLAIMS
    with pytest.raises(ConfigurationError, match="naive datetime"):
        check(token, now=aware.replace(tzinfo=None))


def test_real_clock_is_the_default() -> None:
    with pytest.raises(ExpiredTokenError):
        verify(claims_token(), SECRET, algorithms=["HS256"])  # NOW is in 2023


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": "tomorrow"}, "'exp' claim must be a NumericDate"),
        ({"exp": True}, "'exp' claim must be a NumericDate"),
        ({"nbf": None, "exp": [NOW]}, "'exp' claim must be a NumericDate"),
        ({"iat": {"t": 1}}, "'iat' claim must be a NumericDate"),
        ({"sub": 42}, "'sub' claim must be a string, got int"),
        ({"jti": None}, "'jti' claim must be a string"),
    ],
)
def test_claims_of_the_wrong_type(claims: dict[str, Any], message: str) -> None:
    token = make({**CLAIMS, **claims})
    with pytest.raises(InvalidClaimError, match=message) as info:
        check(token)
    assert type(info.value) is InvalidClaimError


def test_absurd_numeric_dates_are_rejected_without_overflow() -> None:
    assert check(make({**CLAIMS, "exp": 10**400}))["exp"] == 10**400
    with pytest.raises(ExpiredTokenError, match="expired at -1e\\+300 s"):
        check(make({**CLAIMS, "exp": -1e300}))
    with pytest.raises(MalformedTokenError, match="beyond a double's range"):
        check(forge({"alg": "HS256"}, b'{"exp": 1e999}'))  # JSON's way to spell infinity


def test_required_claims() -> None:
    no_exp = make({"sub": "alice"})
    with pytest.raises(MissingClaimError, match="no 'exp' claim; without exp a stolen token"):
        check(no_exp)
    assert check(no_exp, require_exp=False) == {"sub": "alice"}
    with pytest.raises(MissingClaimError, match="no 'jti' claim"):
        check(claims_token(), required=["exp", "jti"])
    with pytest.raises(MissingClaimError, match="no 'jti' claim"):
        check(claims_token(), required=["jti"])


# Issue 12: naming other required claims once silently stopped requiring exp.
NO_EXP = {"sub": "alice", "iat": NOW - 60, "jti": "j-1"}


@pytest.mark.parametrize(
    "required",
    [("sub",), ["sub", "jti"], (), None, frozenset({"sub"}), ("exp", "sub"), ("sub", "exp")],
    ids=["sub", "sub-jti", "empty", "none", "frozenset", "exp-sub", "sub-exp"],
)
def test_required_keeps_exp_whatever_else_is_named(required: Any) -> None:
    with pytest.raises(MissingClaimError, match="no 'exp' claim"):
        check(make(NO_EXP), required=required)
    assert check(make({**NO_EXP, "exp": NOW + 600}), required=required)["sub"] == "alice"


def test_required_keeps_exp_and_adds_the_named_claims() -> None:
    with pytest.raises(MissingClaimError, match="no 'jti' claim"):
        check(GOOD, required=("sub", "jti"))
    no_sub = make({k: v for k, v in CLAIMS.items() if k != "sub"})
    with pytest.raises(MissingClaimError, match="no 'sub' claim"):
        check(no_sub, required={"sub"})


def test_required_keeps_exp_unless_the_named_opt_out_is_given() -> None:
    assert check(make(NO_EXP), required=("sub",), require_exp=False)["jti"] == "j-1"
    assert check(make(NO_EXP), required=None, require_exp=False)["sub"] == "alice"
    with pytest.raises(MissingClaimError, match="no 'exp' claim"):  # naming exp wins
        check(make(NO_EXP), required=("exp",), require_exp=False)
    with pytest.raises(ExpiredTokenError):  # the opt-out drops presence, never the expiry check
        check(make({**NO_EXP, "exp": NOW - 1}), require_exp=False)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"required": "sub"}, "required must be a collection of claim names such as"),
        ({"required": "exp"}, "a string would be read as its characters"),
        ({"required": b"sub"}, "required must be a collection of claim names"),
        ({"required": {"sub": 1}}, "required must be a collection of claim names"),
        ({"required": [""]}, "required must hold claim names"),
        ({"require_exp": 0}, "require_exp must be True or False"),
        ({"require_exp": "no"}, "require_exp must be True or False"),
    ],
)
def test_required_keeps_exp_options_that_cannot_work(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        check(GOOD, **options)


def test_required_keeps_exp_order_and_names() -> None:
    assert required_claims(None) == ("exp",)
    assert required_claims(("sub", "exp", "sub")) == ("exp", "sub")
    assert required_claims({"jti", "sub"}) == ("exp", "jti", "sub")
    assert required_claims(["sub"], require_exp=False) == ("sub",)


@pytest.mark.parametrize(
    ("aud", "audience"),
    [("api", "api"), (["web", "api"], "api"), ("api", ["api", "admin"]), (["a", "b"], {"b"})],
)
def test_audience_exact_matches(aud: object, audience: object) -> None:
    assert check(claims_token(aud=aud), audience=audience)["aud"] == aud


@pytest.mark.parametrize(
    ("aud", "audience", "error", "message"),
    [
        ("api", "admin", InvalidAudienceError, "for audience 'api', not 'admin'"),
        ("api-staging", "api", InvalidAudienceError, "not 'api'"),
        (["ap", "i"], "api", InvalidAudienceError, "not 'api'"),
        ("api", None, InvalidAudienceError, "names no audience"),
        ([], "api", InvalidAudienceError, "must be a string or a list of strings"),
        ([1], "api", InvalidAudienceError, "must be a string or a list of strings"),
        ({"api": 1}, "api", InvalidAudienceError, "must be a string or a list"),
        (None, "api", MissingClaimError, "no 'aud' claim; expected audience 'api'"),
    ],
)
def test_audience_mismatches(aud: object, audience: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message) as info:
        check(claims_token(aud=aud), audience=audience)
    assert type(info.value) is error


def test_issuer_exact_match() -> None:
    token = claims_token(iss="https://idp.example")
    assert check(token, issuer="https://idp.example")["iss"] == "https://idp.example"
    assert check(token, issuer=["https://other", "https://idp.example"])["sub"] == "alice"
    assert check(token)["sub"] == "alice"  # no issuer configured: iss is not checked
    with pytest.raises(InvalidIssuerError, match=re.escape("not 'https://idp.example/'")):
        check(token, issuer="https://idp.example/")
    with pytest.raises(MissingClaimError, match="no 'iss' claim"):
        check(claims_token(), issuer="https://idp.example")
    with pytest.raises(InvalidClaimError, match="'iss' claim must be a string"):
        check(claims_token(iss=["https://idp.example"]), issuer="https://idp.example")


def test_cve_2024_53861_issuer_partial_match_is_rejected() -> None:
    """PyJWT 2.10.0 compared with ``in``: "__abc__" passed for issuer "abc"."""
    for iss in ("__abc__", "ab", "abcd", "ABC"):
        with pytest.raises(InvalidIssuerError) as info:
            check(claims_token(iss=iss), issuer="abc")
        assert type(info.value) is InvalidIssuerError
    assert check(claims_token(iss="abc"), issuer="abc")["iss"] == "abc"


def test_cve_2022_29217_public_keys_never_serve_as_hmac_secrets() -> None:
    """PyJWT < 2.4 let an attacker pick HS256 and MAC with the server's public SSH/PEM key."""
    for public in (RSA_PEM, RSA_PEM.decode(), _ssh_public_key()):
        raw = public if isinstance(public, bytes) else public.encode()
        forged = make(alg="HS256", key=raw)
        with pytest.raises(UnsafeKeyError):
            check(forged, public, algorithms=["HS256", "RS256"])


def test_claims_check_order_is_stable() -> None:
    token = make({"sub": "alice", "iss": "x", "aud": "y"})
    with pytest.raises(MissingClaimError, match="'exp'"):
        check(token, issuer="z", audience="w")  # required claims come first


# Options: ConfigurationError (a caller bug, deliberately not an InvalidTokenError) ---------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"algorithms": "HS256"}, "must be a list such as \\['RS256'\\]"),
        ({"algorithms": []}, "algorithms is empty"),
        ({"algorithms": ["none"]}, "includes 'none'"),
        ({"algorithms": ["HS256", "HS999"]}, "unknown 'HS999'"),
        ({"algorithms": [["HS256"]]}, "must be a list"),
        ({"algorithms": [256]}, "must hold names"),
        ({"leeway": -1}, "leeway must be a number of seconds >= 0"),
        ({"leeway": "30"}, "leeway must be a number"),
        ({"audience": 7}, "audience must be a string or a collection"),
        ({"issuer": [None]}, "issuer must be a string or a collection"),
        ({"required": [1]}, "required must hold claim names"),
        ({"max_length": 0}, "max_length must be a positive int"),
        ({"now": "2024-01-01"}, "now must be a datetime or epoch seconds"),
    ],
)
def test_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        check(GOOD, **options)
    assert not isinstance(info.value, InvalidTokenError)


# verify_jws: detached and unencoded payloads -----------------------------------------------------


def test_detached_payload() -> None:
    head, body, sig = make(b"the content").split(".")
    detached = f"{head}..{sig}"
    assert verify_jws(detached, SECRET, algorithms=["HS256"], detached_payload=b"the content")
    with pytest.raises(BadSignatureError):
        verify_jws(detached, SECRET, algorithms=["HS256"], detached_payload=b"other content")
    with pytest.raises(MalformedTokenError, match="carries one too"):
        verify_jws(f"{head}.{body}.{sig}", SECRET, algorithms=["HS256"], detached_payload=b"x")


def test_unencoded_payload_rfc_7797() -> None:
    header = {"alg": "HS256", "b64": False, "crit": ["b64"]}
    head = tokens.b64url_encode(tokens.json_bytes(header))
    mac = sign("HS256", SECRET, f"{head}.$.02".encode())
    token = f"{head}..{tokens.b64url_encode(mac)}"
    assert verify_jws(token, SECRET, algorithms=["HS256"], detached_payload=b"$.02") == b"$.02"
    with pytest.raises(MalformedTokenError, match="b64=false"):
        verify_jws(token, SECRET, algorithms=["HS256"])


def test_every_message_is_one_line() -> None:
    for token in (GOOD[:-2], f"{HEAD}.{BODY}", claims_token(exp=NOW - 1)):
        with pytest.raises(InvalidTokenError) as info:
            check(token)
        assert "\n" not in str(info.value)


def test_the_key_cache_is_bounded_and_thread_safe() -> None:
    """A threaded server verifies with many keys at once; the cache must neither grow nor race."""
    module = sys.modules["labkit.verify"]  # labkit.verify is the function; this is its module
    secrets = [i.to_bytes(2, "big") * 32 for i in range(300)]

    def one(secret: bytes) -> dict[str, Any]:
        return check(make(key=secret), secret)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(claims == CLAIMS for claims in pool.map(one, secrets))
    assert len(module._BY_VALUE) <= module._CACHE_SIZE
    assert len(module._BY_ID) <= module._CACHE_SIZE
