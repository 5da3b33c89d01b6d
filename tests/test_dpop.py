"""labkit.dpop: proofs made and checked per RFC 9449 section 4.3, replay cache, nonces."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit import InvalidTokenError, LabkitError, algorithms, dpop, keys, tokens
from labkit.aws.clock import FrozenClock

NOW = 1_767_258_000  # 2026-01-01 09:00 UTC
URL = "https://api.example.com/api/profile"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
KEY = ec.generate_private_key(ec.SECP256R1())
JKT = dpop.thumbprint(KEY)


def proof(**kw: Any) -> str:
    kw.setdefault("access_token", TOKEN)
    kw.setdefault("iat", NOW)
    return dpop.make_proof(kw.pop("key", KEY), kw.pop("htm", "GET"), kw.pop("htu", URL), **kw)


def check(value: str, **kw: Any) -> dpop.Proof:
    kw.setdefault("htm", "GET")
    kw.setdefault("htu", URL)
    kw.setdefault("access_token", TOKEN)
    kw.setdefault("jkt", JKT)
    kw.setdefault("now", NOW)
    return dpop.verify_proof(value, **kw)


def resign(header: dict[str, Any], claims: dict[str, Any], key: Any = KEY, alg: str = "ES256"):
    return tokens.encode(
        header, claims, algorithms.sign(alg, key, tokens.signing_input(header, claims))
    )


def parts(value: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parsed = tokens.parse(value)
    return dict(parsed.header), dict(parsed.payload)


# Making proofs ------------------------------------------------------------------------------------


def test_a_proof_has_the_rfc_shape() -> None:
    header, claims = parts(proof(nonce="n-1"))
    assert header == {"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop.public_jwk(KEY)}
    assert set(header["jwk"]) == {"kty", "crv", "x", "y"}  # public members only
    assert claims["htm"] == "GET" and claims["htu"] == URL and claims["iat"] == NOW
    assert claims["ath"] == dpop.access_token_hash(TOKEN) and claims["nonce"] == "n-1"
    assert len(tokens.b64url_decode(claims["jti"])) >= 12  # RFC 9449 4.2: >= 96 random bits


def test_htu_is_sent_without_query_and_fragment() -> None:
    assert parts(proof(htu=URL + "?a=1#frag"))[1]["htu"] == URL


@pytest.mark.parametrize(
    ("key", "alg"),
    [
        (ec.generate_private_key(ec.SECP384R1()), "ES384"),
        (ed25519.Ed25519PrivateKey.generate(), "EdDSA"),
        (keys.demo_private_key("rsa"), "RS256"),
    ],
)
def test_every_asymmetric_key_kind_makes_and_passes_a_proof(key: Any, alg: str) -> None:
    made = proof(key=key)
    assert parts(made)[0]["alg"] == alg
    assert check(made, jkt=dpop.thumbprint(key)).jkt == dpop.thumbprint(key)


def test_make_proof_refuses_a_shared_secret() -> None:
    with pytest.raises(dpop.ProofKeyError, match="private key"):
        dpop.make_proof(b"x" * 32, "GET", URL)  # type: ignore[arg-type]


def test_ath_is_base64url_sha256_of_the_token() -> None:
    assert dpop.access_token_hash("abc") == "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"


# Every check of RFC 9449 section 4.3 -------------------------------------------------------------


def test_a_good_proof_passes_and_names_its_key() -> None:
    result = check(proof())
    assert result.jkt == JKT and result.jti and result.claims["htm"] == "GET"


def test_item_1_one_dpop_header_only() -> None:
    assert dpop.proof_from_headers(["a"]) == "a"
    with pytest.raises(dpop.MalformedProofError, match="no DPoP header"):
        dpop.proof_from_headers([])
    with pytest.raises(dpop.MalformedProofError, match="2 DPoP headers"):
        dpop.proof_from_headers(["a", "b"])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "the DPoP header is empty"),
        ("not-a-jwt", "the DPoP proof is not a JWT"),
        ("a" * 5000, "over the limit of 4096"),
    ],
)
def test_item_2_a_single_well_formed_jwt(value: str, message: str) -> None:
    with pytest.raises(dpop.MalformedProofError, match=message):
        check(value)


@pytest.mark.parametrize("name", ["jti", "htm", "htu", "iat", "ath"])
def test_item_3_required_claims(name: str) -> None:
    header, claims = parts(proof())
    del claims[name]
    with pytest.raises(dpop.MalformedProofError, match=f"no '{name}' claim"):
        check(resign(header, claims))


def test_item_3_ath_is_required_only_with_a_token() -> None:
    assert check(proof(access_token=None), access_token=None, jkt=None)


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt", "dpop"])
def test_item_4_typ_is_dpop_jwt(typ: object) -> None:
    header, claims = parts(proof())
    header["typ"] = typ
    with pytest.raises(dpop.MalformedProofError, match="not 'dpop\\+jwt'"):
        check(resign(header, claims))


def test_item_5_alg_none_and_hmac_are_refused() -> None:
    header, claims = parts(proof())
    for alg in ("none", "NONE", "None"):
        with pytest.raises(dpop.ProofAlgorithmError, match="unsigned"):
            check(tokens.encode({**header, "alg": alg}, claims))
    secret = b"s" * 32
    hmac_header = {
        **header,
        "alg": "HS256",
        "jwk": {"kty": "oct", "k": tokens.b64url_encode(secret)},
    }
    with pytest.raises(dpop.ProofAlgorithmError, match="a MAC"):
        check(resign(hmac_header, claims, secret, "HS256"))


def test_item_5_alg_must_be_allowed_by_local_policy() -> None:
    with pytest.raises(dpop.ProofAlgorithmError, match="not one this server allows"):
        check(proof(), algorithms=["EdDSA"])
    with pytest.raises(LabkitError, match="must not use"):
        check(proof(), algorithms=["HS256"])


def test_item_6_the_signature_verifies_with_the_jwk() -> None:
    header, claims = parts(proof())
    claims["htm"] = "GET"
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(dpop.ProofSignatureError, match="does not verify with the key in its jwk"):
        check(resign(header, claims, other))  # signed by another key than the jwk says


def test_item_6_a_weak_rsa_key_is_refused() -> None:
    weak = keys.demo_private_key("rsa-1024")
    with pytest.raises(dpop.ProofKeyError, match="2048"):
        check(proof(key=weak), jkt=dpop.thumbprint(weak))


@pytest.mark.parametrize("member", ["d", "p", "k"])
def test_item_7_the_jwk_must_hold_no_private_member(member: str) -> None:
    header, claims = parts(proof())
    header["jwk"] = {**header["jwk"], member: "AAAA"}
    with pytest.raises(dpop.ProofKeyError, match=f"private member\\(s\\) {member}"):
        check(resign(header, claims))


def test_item_7_the_real_private_jwk_is_refused() -> None:
    header, claims = parts(proof())
    header["jwk"] = keys.to_jwk(KEY, private=True)
    with pytest.raises(dpop.ProofKeyError, match="private member"):
        check(resign(header, claims))


def test_item_8_htm_is_the_request_method() -> None:
    with pytest.raises(dpop.ProofMismatchError, match="method 'GET', this request is 'POST'"):
        check(proof(), htm="POST")


@pytest.mark.parametrize(
    "other",
    [
        "https://api.example.com/api/admin",
        "https://evil.example.com/api/profile",
        "http://api.example.com/api/profile",
        "https://api.example.com:8443/api/profile",
    ],
)
def test_item_9_htu_is_the_request_url(other: str) -> None:
    with pytest.raises(dpop.ProofMismatchError, match="the proof is for"):
        check(proof(), htu=other)


@pytest.mark.parametrize(
    "same",
    [
        "https://API.example.com/api/profile",
        "https://api.example.com:443/api/profile",
        "https://api.example.com/api/profile?x=1#y",
        "https://api.example.com/api/./profile",
        "https://api.example.com/api/%70rofile",
    ],
)
def test_item_9_htu_compared_after_rfc3986_normalisation(same: str) -> None:
    assert check(proof(), htu=same)


def test_normalize_htu_refuses_what_is_no_http_url() -> None:
    for bad in ("", "ftp://x/", "/api", "https://user:pw@x/", "https://é.com/"):
        with pytest.raises(dpop.MalformedProofError, match="htu"):
            dpop.normalize_htu(bad)


def test_item_10_the_servers_nonce() -> None:
    clock = FrozenClock(NOW)
    nonces = dpop.NonceSource(clock=clock)
    with pytest.raises(dpop.UseDpopNonceError, match="has no nonce") as info:
        check(proof(), nonce=nonces)
    assert info.value.error == "use_dpop_nonce"
    assert check(proof(nonce=nonces.current()), nonce=nonces)
    with pytest.raises(dpop.UseDpopNonceError, match="not issued by this server"):
        check(proof(nonce=dpop.NonceSource(clock=clock).current()), nonce=nonces)
    old = nonces.current()
    clock.advance(301)
    with pytest.raises(dpop.UseDpopNonceError, match="over 300 s old"):
        check(proof(nonce=old, iat=NOW + 301), nonce=nonces, now=NOW + 301)
    with pytest.raises(dpop.UseDpopNonceError, match="not the one this server sent"):
        check(proof(nonce="abc"), nonce="abd")


def test_a_nonce_stays_the_same_for_half_its_lifetime_then_moves_on() -> None:
    clock = FrozenClock(NOW - NOW % 150)
    nonces = dpop.NonceSource(clock=clock)
    first = nonces.current()
    clock.advance(149)
    assert nonces.current() == first
    clock.advance(1)
    assert nonces.current() != first and nonces.check(first)


def test_item_11_iat_window() -> None:
    assert check(proof(iat=NOW - 60)) and check(proof(iat=NOW + 5))
    with pytest.raises(dpop.ProofExpiredError, match="made 61 s ago"):
        check(proof(iat=NOW - 61))
    with pytest.raises(dpop.ProofFromFutureError, match="6 s in the future"):
        check(proof(iat=NOW + 6))
    assert isinstance(dpop.ProofFromFutureError("x"), labkit_errors().NotYetValidError)


def labkit_errors() -> Any:
    import labkit.errors

    return labkit.errors


def test_item_12_ath_and_key_binding() -> None:
    with pytest.raises(dpop.ProofMismatchError, match="not the hash of this access token"):
        check(proof(access_token="another.token.here"))
    stranger = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(dpop.KeyBindingError, match="not the key the access token is bound to"):
        check(proof(key=stranger))
    with pytest.raises(dpop.KeyBindingError):
        check(proof(), jkt=None)  # an unbound token must not pass as a bound one


@pytest.mark.parametrize("jti", ["", "x" * 129, 7])
def test_jti_must_be_a_short_string(jti: object) -> None:
    header, claims = parts(proof())
    claims["jti"] = jti
    with pytest.raises(dpop.MalformedProofError, match="jti"):
        check(resign(header, claims))


def test_every_refusal_is_an_invalid_token_error_with_an_rfc_code() -> None:
    codes = {
        dpop.MalformedProofError: "invalid_dpop_proof",
        dpop.UseDpopNonceError: "use_dpop_nonce",
        dpop.KeyBindingError: "invalid_token",
    }
    for cls, code in codes.items():
        assert issubclass(cls, InvalidTokenError) and cls.error == code
    challenge = dpop.challenge(dpop.KeyBindingError('bad "key"'), algs=["ES256"])
    assert challenge == 'DPoP error="invalid_token", error_description="bad \'key\'", algs="ES256"'
    assert dpop.challenge() == f'DPoP algs="{" ".join(dpop.ALGORITHMS)}"'


# Replay cache ------------------------------------------------------------------------------------


def test_a_proof_is_single_use() -> None:
    cache = dpop.ReplayCache(clock=FrozenClock(NOW))
    made = proof()
    check(made, replay=cache)
    with pytest.raises(dpop.ReplayedProofError, match="already used at this URL"):
        check(made, replay=cache)
    assert len(cache) == 1


def test_a_refused_proof_is_not_remembered() -> None:
    cache = dpop.ReplayCache(clock=FrozenClock(NOW))
    made = proof()
    with pytest.raises(dpop.ProofMismatchError):
        check(made, replay=cache, htm="POST")
    assert len(cache) == 0
    check(made, replay=cache)


def test_replay_cache_is_bounded_in_entries_and_in_time() -> None:
    clock = FrozenClock(NOW)
    cache = dpop.ReplayCache(max_entries=3, window=65, clock=clock)
    for jti in "abc":
        cache.remember(jti, URL)
    with pytest.raises(dpop.ReplayCacheFullError, match="holds 3 recent proofs"):
        cache.remember("d", URL)  # full: refuse rather than forget an unexpired jti
    with pytest.raises(dpop.ReplayedProofError):
        cache.remember("a", URL)
    clock.advance(66)  # every entry has outlived the window in which its proof was acceptable
    cache.remember("d", URL)
    assert len(cache) == 1
    cache.remember("a", URL)  # "a" could no longer pass the iat check anyway


def test_the_same_jti_at_another_url_is_another_entry() -> None:
    cache = dpop.ReplayCache(clock=FrozenClock(NOW))
    cache.remember("a", URL)
    cache.remember("a", "https://api.example.com/other")


# Thumbprints (RFC 7638) --------------------------------------------------------------------------


def test_thumbprint_refuses_private_and_symmetric_jwks() -> None:
    assert dpop.thumbprint(dpop.public_jwk(KEY)) == JKT == keys.thumbprint(KEY.public_key())
    with pytest.raises(dpop.ProofKeyError, match="private member"):
        dpop.thumbprint(keys.to_jwk(KEY, private=True))
    with pytest.raises(dpop.ProofKeyError, match="private member\\(s\\) k"):
        dpop.thumbprint({"kty": "oct", "k": "AAAA"})  # an HMAC key's k is the secret itself
    with pytest.raises(dpop.ProofKeyError, match="kty 'OKPX'"):
        dpop.thumbprint({"kty": "OKPX", "x": "AAAA"})
    with pytest.raises(dpop.ProofKeyError, match="shared secret"):
        dpop.public_jwk(b"secret")  # type: ignore[arg-type]


def test_vectors_file_is_shipped_with_the_package() -> None:
    text = resources.files("labkit").joinpath("data/vectors/rfc9449.json").read_text("utf-8")
    assert {v["name"] for v in json.loads(text)["proofs"]} >= {"RFC9449-4.1-Figure2-token-request"}


# The boundary, fuzzed ----------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_valid_proof_or_one_labkit_error(text: str) -> None:
    try:
        check(text)
    except InvalidTokenError as exc:
        assert "\n" not in str(exc)
    else:  # pragma: no cover - random text is never a signed proof
        raise AssertionError("random text verified")


@settings(max_examples=300, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(["typ", "alg", "jwk", "kid", "crit"]), _JSON),
    claims=st.dictionaries(st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce"]), _JSON),
    sign=st.booleans(),
)
def test_any_header_and_claims_give_one_labkit_error(
    header: dict[str, Any], claims: dict[str, Any], sign: bool
) -> None:
    real_header, real_claims = parts(proof())
    header = {**real_header, **header}
    claims = {**real_claims, **claims}
    try:
        value = resign(header, claims) if sign else tokens.encode(header, claims, b"\0" * 64)
    except LabkitError:
        return  # not serialisable: nothing to send
    try:
        result = check(value)
    except InvalidTokenError as exc:
        assert "\n" not in str(exc)
    else:  # only the untouched fields can pass, signed by the real key
        assert sign and result.jkt == JKT and result.claims["htm"] == "GET"


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(min_value=-200, max_value=200))
def test_iat_boundary_is_exactly_the_window(offset: int) -> None:
    value = proof(iat=NOW + offset)
    if -60 <= offset <= 5:
        assert check(value)
    else:
        with pytest.raises((dpop.ProofExpiredError, dpop.ProofFromFutureError)):
            check(value)


def test_rsa_pss_and_key_sizes() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert check(proof(key=key, alg="PS256"), jkt=dpop.thumbprint(key)).header["alg"] == "PS256"
