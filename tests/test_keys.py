"""labkit.keys: demo keys, PEM loading, JWK/JWKS and RFC 7638 thumbprints."""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x25519
from cryptography.x509.oid import NameOID

from labkit import algorithms, keys, tokens
from labkit.errors import DisallowedAlgorithmError, KeyFormatError, UnsafeKeyError

ASYMMETRIC = tuple(name for name in keys.DEMO_KEYS if name != "hmac")
KEY_DIR = resources.files("labkit").joinpath("data", "keys")
# The demo keys' RFC 7638 thumbprints: notebooks store outputs that depend on these keys, so
# they must never be regenerated. If this fails, the key files changed.
DEMO_THUMBPRINTS = {
    "hmac": "q5m8-09J05lJn9Sdl06lcMQBBVATIaPReachIvmLl5E",
    "rsa": "z8ZoOtT3Zp2FIl-IEjrybgRA9XHvJUrAAmcmw5VBBoE",
    "rsa-2": "A5yM3iAIqJYjPvPhLBhVIDx3Ool3ot5NDRI3ExtuK-c",
    "rsa-1024": "00uD2pO_9vy5MuHeg6aBr-5WiQNcW_z84jvFw50OkWk",
    "p256": "N3_9LdUsrshKZ43kAUfC_BJmsk7FPB0HEGLcqHHvnUs",
    "p384": "_WgNVIzXXT0gFLn9-y48mPLPBKq5QYjm6-pPwy9MQZ8",
    "p521": "5aQoyv_X-ZKe0-vOzY-J-5TveOASykgoLMapX1vy9oE",
    "ed25519": "3ZXPqAX3IlLQ13Ac_HnvARBQaHG83IAHljFB0ZTizu4",
}
PYJWT_TO_JWK = {
    "rsa": jwt.algorithms.RSAAlgorithm.to_jwk,
    "rsa-2": jwt.algorithms.RSAAlgorithm.to_jwk,
    "rsa-1024": jwt.algorithms.RSAAlgorithm.to_jwk,
    "p256": jwt.algorithms.ECAlgorithm.to_jwk,
    "p384": jwt.algorithms.ECAlgorithm.to_jwk,
    "p521": jwt.algorithms.ECAlgorithm.to_jwk,
    "ed25519": jwt.algorithms.OKPAlgorithm.to_jwk,
}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def pem_bytes(key: object, fmt: str = "pkcs8") -> bytes:
    if fmt == "spki":
        return key.public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    private_format = {
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "traditional": serialization.PrivateFormat.TraditionalOpenSSL,
        "openssh": serialization.PrivateFormat.OpenSSH,
    }[fmt]
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    )


def same_key(a: object, b: object) -> bool:
    """Equal public halves (cryptography keys compare by value)."""
    pub = [k.public_key() if isinstance(k, algorithms.PrivateKey) else k for k in (a, b)]
    return pub[0] == pub[1]


# Demo keys --------------------------------------------------------------------------------------


def test_demo_key_names() -> None:
    assert keys.DEMO_KEYS == (
        "hmac",
        "rsa",
        "rsa-2",
        "p256",
        "p384",
        "p521",
        "ed25519",
        "rsa-1024",
    )


@pytest.mark.parametrize("name", keys.DEMO_KEYS)
def test_demo_keys_are_loaded_once(name: str) -> None:
    assert keys.demo_private_key(name) is keys.demo_private_key(name)
    assert keys.demo_public_key(name) is keys.demo_public_key(name)
    assert keys.demo_secret() is keys.demo_secret()


@pytest.mark.parametrize("name", keys.DEMO_KEYS)
def test_demo_keys_never_change(name: str) -> None:
    assert keys.thumbprint(keys.demo_public_key(name)) == DEMO_THUMBPRINTS[name]


def test_demo_secret_is_64_ascii_characters_and_pyjwt_does_not_warn() -> None:
    secret = keys.demo_secret()
    assert len(secret) == 64 and secret.isascii() and secret.startswith(b"DEMO-ONLY-")
    assert keys.demo_private_key("hmac") is secret is keys.demo_public_key("hmac")
    token = jwt.encode({"sub": "alice"}, secret, algorithm="HS256")  # warnings are errors here
    assert jwt.decode(token, secret, algorithms=["HS256"]) == {"sub": "alice"}


@pytest.mark.parametrize("name", ASYMMETRIC)
def test_demo_public_key_is_the_private_keys_half(name: str) -> None:
    private, public = keys.demo_private_key(name), keys.demo_public_key(name)
    assert isinstance(private, algorithms.PrivateKey)
    assert isinstance(public, algorithms.PublicKey)
    assert private.public_key() == public


def test_rsa_demo_keys_are_2048_bits_and_distinct() -> None:
    first, second = keys.demo_private_key("rsa"), keys.demo_private_key("rsa-2")
    assert first.key_size == second.key_size == 2048  # type: ignore[union-attr]
    assert not same_key(first, second)


@pytest.mark.parametrize("name", ["rsa-3", "RSA", "", None, ["rsa"]])
def test_unknown_demo_key_name(name: object) -> None:
    message = f"no demo key named {name!r}; the demo keys are hmac, rsa, rsa-2, p256, p384, p521,"
    for load in (keys.demo_private_key, keys.demo_public_key):
        with pytest.raises(KeyFormatError) as info:
            load(name)  # type: ignore[arg-type]
        assert info.value.message.startswith(message)


@pytest.mark.parametrize("alg", algorithms.ALGORITHMS)
def test_demo_key_for_every_alg_fits_it(alg: str) -> None:
    assert algorithms.check_key(alg, keys.demo_key_for(alg), signing=True)
    assert algorithms.check_key(alg, keys.demo_key_for(alg, private=False))


@pytest.mark.parametrize(
    ("alg", "name"), [("HS384", "hmac"), ("PS512", "rsa"), ("ES512", "p521"), ("EdDSA", "ed25519")]
)
def test_demo_key_for_picks_the_named_key(alg: str, name: str) -> None:
    assert keys.demo_key_for(alg) is keys.demo_private_key(name)
    assert keys.demo_key_for(alg, private=False) is keys.demo_public_key(name)


@pytest.mark.parametrize(("alg", "message"), [("none", "unsigned token"), ("ES256K", "unknown")])
def test_demo_key_for_unknown_alg(alg: str, message: str) -> None:
    with pytest.raises(DisallowedAlgorithmError, match=message):
        keys.demo_key_for(alg)


# DEMO ONLY markings -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ASYMMETRIC)
def test_each_pem_file_says_demo_only_and_still_loads(name: str) -> None:
    text = KEY_DIR.joinpath(f"demo-{name}.pem").read_text("ascii")
    assert text.startswith(f"DEMO ONLY - JWT Lab Kit demo key '{name}'")
    assert text.index("Never use it") < text.index("-----BEGIN PRIVATE KEY-----")
    # The explanatory lines are outside the PEM boundaries (RFC 7468): every reader skips them.
    assert same_key(
        serialization.load_pem_private_key(text.encode(), None), keys.demo_public_key(name)
    )
    alg = {"rsa": "RS256", "rsa-2": "PS256", "p256": "ES256", "p384": "ES384"}.get(name)
    alg = alg or {"p521": "ES512", "ed25519": "EdDSA", "rsa-1024": "RS256"}[name]
    with warnings.catch_warnings():  # PyJWT warns on the 1024-bit lab key, rightly
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        token = jwt.encode({"sub": "alice"}, text, algorithm=alg)  # PyJWT reads the text as-is
        assert jwt.decode(token, keys.demo_public_key(name), algorithms=[alg]) == {"sub": "alice"}


def test_readme_says_demo_only_and_lists_every_file() -> None:
    readme = KEY_DIR.joinpath("README.md").read_text("utf-8")
    assert readme.startswith("# DEMO ONLY")
    files = sorted(p.name for p in KEY_DIR.iterdir() if p.name != "README.md")
    assert files == sorted(["demo-hmac-secret.txt", *(f"demo-{n}.pem" for n in ASYMMETRIC)])
    for filename in files:
        assert f"`{filename}`" in readme


@pytest.mark.parametrize(
    "documented",
    [keys, keys.demo_secret, keys.demo_private_key, keys.demo_public_key, keys.demo_key_for],
)
def test_docstrings_say_demo_only(documented: object) -> None:
    assert "DEMO ONLY" in (documented.__doc__ or "")


def test_demo_keys_constant_is_documented_as_demo_only() -> None:
    source = Path(keys.__file__).read_text("utf-8")
    after = source[source.index("\nDEMO_KEYS:") :]
    assert "DEMO ONLY" in after.split('"""')[1]  # the attribute docstring below the constant


# PEM --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ASYMMETRIC)
@pytest.mark.parametrize("fmt", ["pkcs8", "spki"])
def test_load_pem_private_and_public(name: str, fmt: str) -> None:
    source = keys.demo_private_key(name) if fmt == "pkcs8" else keys.demo_public_key(name)
    for data in (pem_bytes(source, fmt), pem_bytes(source, fmt).decode()):
        loaded = keys.load_pem(data)
        assert isinstance(loaded, algorithms.PrivateKey if fmt == "pkcs8" else algorithms.PublicKey)
        assert same_key(loaded, source)


@pytest.mark.parametrize("name", ["rsa", "p256"])
def test_load_pem_traditional_openssl_private_key(name: str) -> None:
    data = pem_bytes(keys.demo_private_key(name), "traditional")
    assert data.startswith(
        b"-----BEGIN RSA PRIVATE KEY" if name == "rsa" else b"-----BEGIN EC PRIV"
    )
    assert same_key(keys.load_pem(data), keys.demo_public_key(name))


def test_load_pem_pkcs1_rsa_public_key() -> None:
    data = keys.demo_public_key("rsa").public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    assert data.startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    assert same_key(keys.load_pem(data), keys.demo_public_key("rsa"))


def test_load_pem_certificate_gives_its_public_key() -> None:
    key = keys.demo_private_key("p256")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DEMO ONLY")])
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[union-attr]
        .serial_number(1)
        .not_valid_before(when)
        .not_valid_after(when.replace(year=2035))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    loaded = keys.load_pem(cert.public_bytes(serialization.Encoding.PEM))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    assert loaded == keys.demo_public_key("p256")


def _encrypted(fmt: serialization.PrivateFormat) -> bytes:
    return keys.demo_private_key("p256").private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, fmt, serialization.BestAvailableEncryption(b"pw")
    )


def _corrupt_body() -> bytes:
    lines = pem_bytes(keys.demo_private_key("p256")).splitlines()
    lines[1] = b"A" * len(lines[1])
    return b"\n".join(lines)


BAD_PEMS = [
    (b"garbage", "not a PEM key: no '-----BEGIN ...-----' line found"),
    ("", "not a PEM key: no '-----BEGIN ...-----' line found"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n", "not a PEM key: the 'PRIVATE KEY' block does not dec"),
    (b"-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n", "not a PEM key: the 'PUBLIC"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a PEM key: the 'CERT"),
    (_corrupt_body, "not a PEM key: the 'PRIVATE KEY' block does not decode to a valid key"),
    (
        b"-----BEGIN CERTIFICATE REQUEST-----\n",
        "not a PEM key: found a 'CERTIFICATE REQUEST' block",
    ),
    (
        lambda: pem_bytes(keys.demo_private_key("ed25519"), "openssh"),
        "not a PEM key: found a 'OPENSSH PRIVATE KEY' block",
    ),
    (lambda: _encrypted(serialization.PrivateFormat.PKCS8), "encrypted PEM keys are not supported"),
    (
        lambda: _encrypted(serialization.PrivateFormat.TraditionalOpenSSL),
        "encrypted PEM keys are not supported",
    ),
    (
        lambda: pem_bytes(x25519.X25519PrivateKey.generate()),
        "unsupported key type: an object of type X25519PrivateKey",
    ),
    (
        lambda: pem_bytes(ec.generate_private_key(ec.SECP256K1())),
        "unsupported key type: an EC private key on secp256k1",
    ),
    (12345, "a PEM key must be text or bytes, got int"),
]


@pytest.mark.parametrize(("data", "message"), BAD_PEMS)
def test_load_pem_refuses_bad_input_in_one_line(data: object, message: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        keys.load_pem(data() if callable(data) else data)  # type: ignore[arg-type]
    assert info.value.message.startswith(message)
    assert "\n" not in str(info.value)
    # No chained cryptography traceback is shown under the one-line message.
    error = info.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


# JWK --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ASYMMETRIC)
def test_jwk_round_trip_public_and_private(name: str) -> None:
    private, public = keys.demo_private_key(name), keys.demo_public_key(name)
    private_jwk = keys.to_jwk(private, private=True)
    public_jwk = keys.to_jwk(public)
    assert keys.to_jwk(private) == public_jwk  # private=False exports the public half only
    assert not PRIVATE_MEMBERS & set(public_jwk)
    assert "d" in private_jwk
    assert keys.from_jwk(public_jwk) == public
    round_trip = keys.from_jwk(private_jwk)
    assert isinstance(round_trip, algorithms.PrivateKey)
    assert keys.to_jwk(round_trip, private=True) == private_jwk
    assert (
        public_jwk["kid"] == private_jwk["kid"] == keys.thumbprint(public) == DEMO_THUMBPRINTS[name]
    )


def test_hmac_jwk_round_trip_needs_private_opt_in() -> None:
    secret = keys.demo_secret()
    with pytest.raises(UnsafeKeyError) as info:
        keys.to_jwk(secret)
    assert info.value.message == "refusing to export an HMAC secret as a JWK without private=True"
    jwk = keys.to_jwk(secret, private=True)
    assert list(jwk) == ["kty", "use", "kid", "k"]
    assert jwk["k"] == jwt.algorithms.HMACAlgorithm.to_jwk(secret, as_dict=True)["k"]
    assert keys.from_jwk(jwk) == secret


@pytest.mark.parametrize("name", ASYMMETRIC)
def test_jwk_agrees_with_pyjwt(name: str) -> None:
    to_pyjwt_jwk = PYJWT_TO_JWK[name]
    for key, private in ((keys.demo_private_key(name), True), (keys.demo_public_key(name), False)):
        ours = keys.to_jwk(key, private=private)
        theirs = to_pyjwt_jwk(key, as_dict=True)
        members = set(theirs) - {"key_ops"}  # kty, crv and the key material
        assert members <= set(ours)
        assert {m: ours[m] for m in members} == {m: theirs[m] for m in members}
        assert same_key(jwt.PyJWK(ours).key, key)
        assert type(jwt.PyJWK(ours).key) is type(key)  # private stays private


def test_ed448_jwk_round_trip() -> None:
    key = ed448.Ed448PrivateKey.generate()
    jwk = keys.to_jwk(key, private=True)
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed448")
    assert jwk == {
        **jwt.algorithms.OKPAlgorithm.to_jwk(key, as_dict=True),
        "use": "sig",
        "kid": jwk["kid"],
    }
    assert keys.from_jwk(jwk).public_key() == key.public_key()  # type: ignore[union-attr]


def test_ec_coordinates_keep_their_full_length() -> None:
    jwk = keys.to_jwk(keys.demo_public_key("p521"))
    assert {len(tokens.b64url_decode(jwk[c])) for c in ("x", "y")} == {66}


def test_to_jwk_options() -> None:
    key = keys.demo_public_key("rsa")
    jwk = keys.to_jwk(key, kid="2026-01", alg="RS256", use=None)
    assert list(jwk) == ["kty", "alg", "kid", "n", "e"]
    assert jwk["kid"] == "2026-01"
    assert keys.to_jwk(key, alg="PS256")["alg"] == "PS256"


@pytest.mark.parametrize(
    ("key", "kwargs", "error", "message"),
    [
        (
            "rsa",
            {"alg": "ES256"},
            UnsafeKeyError,
            "ES256 needs an EC public or private key on P-256",
        ),
        (
            "p256",
            {"alg": "ES384"},
            UnsafeKeyError,
            "ES384 needs an EC public or private key on P-384",
        ),
        ("p256", {"alg": "none"}, DisallowedAlgorithmError, "alg 'none' means an unsigned token"),
        (
            "rsa",
            {"private": True},
            KeyFormatError,
            "private=True needs a private key, got an RSA pu",
        ),
    ],
)
def test_to_jwk_refuses(key: str, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        keys.to_jwk(keys.demo_public_key(key), **kwargs)
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("-----BEGIN PUBLIC KEY-----", "cannot make a JWK from a str of 26 characters"),
        ({"kty": "oct"}, "cannot make a JWK from a dict"),
        (None, "cannot make a JWK from None"),
        (
            x25519.X25519PrivateKey.generate().public_key(),
            "cannot make a JWK from an object of type X25519PublicKey",
        ),
    ],
)
def test_to_jwk_refuses_what_is_not_a_key(key: object, message: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        keys.to_jwk(key, private=True)  # type: ignore[arg-type]
    assert info.value.message.startswith(message)


def test_from_jwk_accepts_rsa_private_key_with_d_only() -> None:
    full = keys.to_jwk(keys.demo_private_key("rsa"), private=True)
    d_only = {m: v for m, v in full.items() if m not in {"p", "q", "dp", "dq", "qi"}}
    assert keys.to_jwk(keys.from_jwk(d_only), private=True) == full


def _jwk(name: str, private: bool = False, **changes: object) -> dict:
    key = keys.demo_private_key(name) if private else keys.demo_public_key(name)
    jwk = keys.to_jwk(key, private=private)
    jwk.update(changes)
    return {m: v for m, v in jwk.items() if v is not None}


def _other(name: str, member: str) -> str:
    return keys.to_jwk(keys.demo_private_key(name), private=True)[member]


BAD_JWKS = [
    ([], "a JWK must be a JSON object (dict), got list"),
    ("{}", "a JWK must be a JSON object (dict), got str"),
    ({}, "the JWK has no 'kty' member"),
    ({"kty": "DSA"}, "unknown JWK kty 'DSA'; expected RSA, EC, OKP or oct"),
    ({"kty": "rsa"}, "unknown JWK kty 'rsa'"),
    ({"kty": 1}, "unknown JWK kty 1"),
    (lambda: _jwk("rsa", n=None), "the RSA JWK is missing 'n'"),
    (lambda: _jwk("rsa", e=65537), "the RSA JWK's 'e' must be a string, got int"),
    (lambda: _jwk("rsa", e="AQAB="), "the RSA JWK's 'e' contains '=' padding"),
    (lambda: _jwk("rsa", e="AQ+B"), "the RSA JWK's 'e' is not base64url: character '+'"),
    (lambda: _jwk("rsa", e="AQAC"), "the RSA JWK's n/e are not a valid public key"),
    (lambda: _jwk("rsa", True, q=None), "the RSA JWK has p, dp, dq, qi but not q"),
    (lambda: _jwk("rsa", True, d=_other("rsa-2", "d")), "the RSA JWK's private members do not"),
    (lambda: _jwk("rsa", True, oth=[]), "multi-prime RSA JWKs ('oth') are not supported"),
    (lambda: _jwk("p256", crv=None), "the EC JWK is missing 'crv'"),
    (lambda: _jwk("p256", crv="secp256k1"), "unknown EC curve 'secp256k1'; expected P-256, P-384"),
    (lambda: _jwk("p256", y=None), "the EC JWK is missing 'y'"),
    (lambda: _jwk("p256", x="AAAA"), "the EC JWK's 'x' is 3 bytes; P-256 needs exactly 32"),
    (lambda: _jwk("p384", crv="P-256"), "the EC JWK's 'x' is 48 bytes; P-256 needs exactly 32"),
    (lambda: _jwk("p256", y=_other("p256", "x")), "the EC JWK's point (x, y) is not on P-256"),
    (
        lambda: _jwk("p256", True, d=_other("p384", "d")),
        "the EC JWK's 'd' is 48 bytes; P-256 needs",
    ),
    (lambda: _jwk("p256", True, d="A" * 43), "the EC JWK's 'd' does not match its public point"),
    (lambda: _jwk("ed25519", crv="X25519"), "unsupported OKP curve 'X25519'"),
    (lambda: _jwk("ed25519", x="AAAA"), "the OKP JWK's 'x' is 3 bytes; Ed25519 keys are 32"),
    (lambda: _jwk("ed25519", True, d="A" * 43), "the OKP JWK's 'd' does not match its 'x'"),
    ({"kty": "oct"}, "the oct JWK is missing 'k'"),
    ({"kty": "oct", "k": ""}, "the oct JWK's 'k' is empty"),
    ({"kty": "oct", "k": "c2VjcmV0", "alg": "RS256"}, "the JWK says alg 'RS256' but holds 6 bytes"),
    (
        lambda: _jwk("p256", alg="ES384"),
        "the JWK says alg 'ES384' but holds an EC public key on P-2",
    ),
]


@pytest.mark.parametrize(("jwk", "message"), BAD_JWKS)
def test_from_jwk_refuses_malformed_keys(jwk: object, message: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        keys.from_jwk(jwk() if callable(jwk) else jwk)  # type: ignore[arg-type]
    assert info.value.message.startswith(message), info.value.message


def test_from_jwk_ignores_algs_it_does_not_sign_with() -> None:
    jwk = _jwk("rsa", alg="RSA-OAEP", use="enc")  # an encryption key in a JWKS is not an error
    assert keys.from_jwk(jwk) == keys.demo_public_key("rsa")


# JWKS -------------------------------------------------------------------------------------------


def test_jwks_round_trip() -> None:
    public = [keys.demo_public_key(name) for name in ASYMMETRIC]
    jwks = keys.to_jwks(public)
    assert [jwk["kid"] for jwk in jwks["keys"]] == [DEMO_THUMBPRINTS[n] for n in ASYMMETRIC]
    for text in (jwks, json.dumps(jwks), json.dumps(jwks).encode()):
        pairs = keys.from_jwks(text)
        assert [jwk for jwk, _ in pairs] == jwks["keys"]
        assert [key for _, key in pairs] == public


def test_to_jwks_accepts_ready_jwks_and_exports_public_halves() -> None:
    custom = keys.to_jwk(keys.demo_public_key("rsa"), kid="rsa-1", alg="RS256")
    jwks = keys.to_jwks([custom, keys.demo_private_key("p256")])
    assert jwks["keys"][0] == custom
    assert "d" not in jwks["keys"][1]


@pytest.mark.parametrize(
    ("items", "error", "message"),
    [
        (lambda: [_jwk("rsa", True)], UnsafeKeyError, "key 0 has private member(s) d, p, q, dp,"),
        (lambda: [keys.demo_secret()], UnsafeKeyError, "refusing to export an HMAC secret"),
        (
            lambda: [_jwk("rsa", kid="a"), _jwk("p256", kid="a")],
            KeyFormatError,
            "two keys in the JWKS share kid 'a'",
        ),
        (lambda: [{"kty": "EC"}], KeyFormatError, "the EC JWK is missing 'crv'"),
    ],
)
def test_to_jwks_refuses(items: object, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        keys.to_jwks(items())  # type: ignore[operator]
    assert info.value.message.startswith(message)


def test_to_jwks_private_store() -> None:
    jwks = keys.to_jwks([keys.demo_private_key("p256"), keys.demo_secret()], private=True)
    assert [jwk["kty"] for jwk in jwks["keys"]] == ["EC", "oct"]
    assert "d" in jwks["keys"][0]


@pytest.mark.parametrize(
    ("jwks", "message"),
    [
        ("{not json", "the JWKS is not JSON: "),
        (b"\xff", "the JWKS is not UTF-8 text"),
        ("[" * 40 + "]" * 40, "the JWKS nests arrays/objects deeper than 32 levels"),
        ([], "a JWKS must be a JSON object with a 'keys' array"),
        ({"keys": {}}, "a JWKS must be a JSON object with a 'keys' array"),
        (
            lambda: {"keys": [_jwk("rsa"), _jwk("p256", y=None)]},
            "key 1 of the JWKS: the EC JWK is missing 'y'",
        ),
        (
            {"keys": [{"kty": "oct", "k": "AA", "kid": "a"}] * 2},
            "two keys in the JWKS share kid 'a'",
        ),
    ],
)
def test_from_jwks_refuses(jwks: object, message: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        keys.from_jwks(jwks() if callable(jwks) else jwks)  # type: ignore[arg-type]
    assert info.value.message.startswith(message)


# Thumbprints ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["RFC7638-3.1-RSA-thumbprint", "RFC8037-A.3-Ed25519-thumbprint", "RFC7517-A.1-EC-thumbprint"],
)
def test_thumbprint_rfc_vectors(vectors_dir: Path, name: str) -> None:
    data = json.loads((vectors_dir / "rfc" / "rfc_vectors.json").read_text("utf-8"))
    vector = next(v for v in data["vectors"] if v["name"] == name)
    assert vector["kind"] == "jwk_thumbprint" and vector["alg"] == "SHA-256"
    assert keys.thumbprint(vector["jwk"]) == vector["expected"]
    assert keys.thumbprint(keys.from_jwk(vector["jwk"])) == vector["expected"]


@pytest.mark.parametrize("name", keys.DEMO_KEYS)
def test_thumbprint_ignores_kid_use_and_private_members(name: str) -> None:
    jwk = keys.to_jwk(keys.demo_private_key(name), private=True, kid="x", alg=None, use="enc")
    assert keys.thumbprint(jwk) == keys.thumbprint(keys.demo_private_key(name))
    assert keys.thumbprint(jwk) == DEMO_THUMBPRINTS[name]


def test_thumbprint_by_hand() -> None:
    jwk = keys.to_jwk(keys.demo_public_key("p256"))
    canonical = json.dumps({m: jwk[m] for m in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    assert keys.thumbprint(jwk) == tokens.b64url_encode(digest)


def test_thumbprint_of_a_malformed_jwk() -> None:
    with pytest.raises(KeyFormatError, match="the EC JWK is missing 'x'"):
        keys.thumbprint({"kty": "EC", "crv": "P-256"})


def test_to_jwks_given_one_key_says_to_pass_a_list() -> None:
    with pytest.raises(KeyFormatError, match=r"got an RSA public key \(2048 bits\)") as info:
        keys.to_jwks(keys.demo_public_key("rsa"))  # type: ignore[arg-type]
    assert info.value.why == "for one key, pass a list of one: to_jwks([key])"
    with pytest.raises(KeyFormatError, match="to_jwks takes a list of keys, got 64 bytes"):
        keys.to_jwks(keys.demo_secret(), private=True)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError, match="got a JWKS already"):
        keys.to_jwks(keys.to_jwks([keys.demo_public_key("rsa")]))  # type: ignore[arg-type]
    one = keys.to_jwks(iter([keys.demo_public_key("rsa")]))  # any iterable of keys still works
    assert len(one["keys"]) == 1


@pytest.mark.parametrize("member", ["x", "y"])
def test_an_ec_coordinate_at_or_above_the_field_prime_is_refused(member: str) -> None:
    """P-521's 66 bytes hold x + p: OpenSSL reduces it to the same point, another spelling."""
    public = ec.generate_private_key(ec.SECP521R1()).public_key()
    jwk = keys.to_jwk(public)
    value = getattr(public.public_numbers(), member) + keys.FIELD_PRIMES["P-521"]
    with pytest.raises(KeyFormatError, match="field prime"):
        keys.from_jwk({**jwk, member: tokens.b64url_encode(value.to_bytes(66, "big"))})
    assert keys.from_jwk(jwk).public_numbers() == public.public_numbers()  # the honest one loads
