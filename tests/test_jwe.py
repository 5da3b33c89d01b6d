"""labkit.jwe: round trips, RFC known answers, every refusal, and each attack proven twice.

The attack tests are named after their advisories. Each shows the vulnerable decryptor of
``labkit.attacks.jwe`` accepting the token or doing the attacker's work (counted in
``labkit.jwe.Work``), and ``labkit.jwe.decrypt`` refusing it with the counters at zero.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import examples, jwe, keys, tokens
from labkit.algorithms import sign_token
from labkit.attacks import jwe as attacks
from labkit.errors import (
    ConfigurationError,
    DisallowedAlgorithmError,
    InvalidTokenError,
    JweError,
)
from labkit.jwe import Work

RSA = keys.demo_private_key("rsa")
P256 = keys.demo_private_key("p256")
P384 = keys.demo_private_key("p384")
KW = bytes(range(32))
PASSWORD = b"correct horse battery staple"
assert isinstance(RSA, rsa.RSAPrivateKey) and isinstance(P256, ec.EllipticCurvePrivateKey)

# alg -> (what the sender encrypts to, what the recipient decrypts with)
KEYS: dict[str, tuple[Any, Any]] = {
    "RSA-OAEP": (RSA.public_key(), RSA),
    "RSA-OAEP-256": (RSA.public_key(), RSA),
    "ECDH-ES": (P256.public_key(), P256),
    "ECDH-ES+A128KW": (P256.public_key(), P256),
    "ECDH-ES+A192KW": (P384.public_key(), P384),
    "ECDH-ES+A256KW": (P256.public_key(), P256),
    "A128KW": (KW[:16], KW[:16]),
    "A192KW": (KW[:24], KW[:24]),
    "A256KW": (KW, KW),
    "PBES2-HS256+A128KW": (PASSWORD, PASSWORD),
    "PBES2-HS384+A192KW": (PASSWORD, PASSWORD),
    "PBES2-HS512+A256KW": (PASSWORD, PASSWORD),
}
OAEP = {"algorithms": ["RSA-OAEP-256"], "encryptions": ["A256GCM"]}
ECDH = {"algorithms": ["ECDH-ES"], "encryptions": ["A256GCM"]}


def test_every_alg_of_the_kit_has_a_key_here() -> None:
    assert set(KEYS) | {"dir"} == set(jwe.ALGORITHMS)
    assert "RSA1_5" not in jwe.ALGORITHMS


@pytest.mark.parametrize("alg", list(KEYS))
@pytest.mark.parametrize("enc", list(jwe.ENCRYPTIONS))
def test_round_trip(alg: str, enc: str) -> None:
    public, private = KEYS[alg]
    token = jwe.encrypt(b"Live long and prosper.", public, alg=alg, enc=enc, p2c=1000)
    assert token.count(".") == 4
    work = Work()
    got = jwe.decrypt(token, private, algorithms=[alg], encryptions=[enc], work=work)
    assert got == b"Live long and prosper."
    assert work.aead == 1


@pytest.mark.parametrize("enc", list(jwe.ENCRYPTIONS))
def test_dir_round_trip(enc: str) -> None:
    cek = bytes(jwe.ENCRYPTIONS[enc].key_size)
    token = jwe.encrypt({"sub": "alice"}, cek, alg="dir", enc=enc)
    assert jwe.parse(token).encrypted_key == b""
    assert jwe.decrypt(token, cek, algorithms=["dir"], encryptions=[enc]) == b'{"sub":"alice"}'


def test_the_protected_header_is_the_aad() -> None:
    """RFC 7516 section 5.1 step 14: change one header byte and the tag no longer matches."""
    token = jwe.encrypt(b"hi", KW, alg="A256KW", enc="A256GCM", header={"kid": "k1"})
    parsed = jwe.parse(token)
    header = tokens.b64url_encode(tokens.json_bytes({**parsed.header, "kid": "k2"}))
    altered = ".".join((header, *parsed.parts[1:]))
    with pytest.raises(JweError, match="does not decrypt under this key"):
        jwe.decrypt(altered, KW, algorithms=["A256KW"], encryptions=["A256GCM"])


@pytest.mark.parametrize("part", [1, 2, 3, 4])
def test_every_part_is_protected(part: int) -> None:
    token = jwe.encrypt(b"hi", RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM")
    parts = token.split(".")
    raw = bytearray(tokens.b64url_decode(parts[part]))
    raw[0] ^= 1
    parts[part] = tokens.b64url_encode(bytes(raw))
    with pytest.raises(JweError):
        jwe.decrypt(".".join(parts), RSA, **OAEP)


def test_rfc_7516_a3_known_answer() -> None:
    """RFC 7516 appendix A.3: A128KW + A128CBC-HS256, "Live long and prosper."."""
    token = (
        "eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0."
        "6KB707dM9YTIgHtLvtgWQ8mKwboJW3of9locizkDTHzBC2IlrT1oOQ."
        "AxY8DCtDaGlsbGljb3RoZQ."
        "KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY."
        "U0m_YmjN04DJvceFICbCVQ"
    )
    key = tokens.b64url_decode("GawgguFyGrWKav7AX4VKUg")
    got = jwe.decrypt(token, key, algorithms=["A128KW"], encryptions=["A128CBC-HS256"])
    assert got == b"Live long and prosper."


def test_rfc_7518_appendix_c_concat_kdf() -> None:
    """RFC 7518 appendix C: ECDH-ES between Alice and Bob, apu "Alice", apv "Bob", A128GCM."""
    alice = keys.from_jwk(
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
            "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
            "d": "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo",
        }
    )
    bob = keys.from_jwk(
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
            "y": "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
            "d": "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw",
        }
    )
    assert isinstance(alice, ec.EllipticCurvePrivateKey)
    assert isinstance(bob, ec.EllipticCurvePrivateKey)
    shared = alice.exchange(ec.ECDH(), bob.public_key())
    derived = jwe.concat_kdf(shared, "A128GCM", 16, b"Alice", b"Bob")
    assert tokens.b64url_encode(derived) == "VqqN6vgjbSBcIijNcacQGg"
    # and a token made with Alice as the ephemeral key decrypts with Bob's key
    token = jwe.encrypt(
        b"x", bob.public_key(), alg="ECDH-ES", enc="A128GCM", ephemeral=alice,
        apu=b"Alice", apv=b"Bob",
    )  # fmt: skip
    assert jwe.decrypt(token, bob, algorithms=["ECDH-ES"], encryptions=["A128GCM"]) == b"x"


def test_concat_kdf_matches_cryptography() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

    shared = bytes(range(32))
    for size in (16, 32, 48, 64):
        other = (7).to_bytes(4, "big") + b"A256GCM" + (1).to_bytes(4, "big") + b"u"
        other += (1).to_bytes(4, "big") + b"v" + (size * 8).to_bytes(4, "big")
        expected = ConcatKDFHash(hashes.SHA256(), size, other).derive(shared)
        assert jwe.concat_kdf(shared, "A256GCM", size, b"u", b"v") == expected


# Configuration: the caller allow-lists alg and enc, and RSA1_5 does not exist -----------------


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"algorithms": [], "encryptions": ["A256GCM"]}, "non-empty list"),
        ({"algorithms": "RSA-OAEP-256", "encryptions": ["A256GCM"]}, "non-empty list"),
        ({"algorithms": ["RSA1_5"], "encryptions": ["A256GCM"]}, "Bleichenbacher"),
        ({"algorithms": ["RSA-OAEP-256"], "encryptions": ["A256CTR"]}, "unknown JWE encryption"),
        ({"algorithms": ["HS256"], "encryptions": ["A256GCM"]}, "unknown JWE algorithm"),
    ],
)
def test_bad_configuration_fails_loudly(options: dict[str, Any], says: str) -> None:
    token = jwe.encrypt(b"hi", RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM")
    with pytest.raises(ConfigurationError, match=says):
        jwe.decrypt(token, RSA, **options)


def test_there_is_no_default_allow_list() -> None:
    token = jwe.encrypt(b"hi", RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM")
    with pytest.raises(TypeError):
        jwe.decrypt(token, RSA)  # type: ignore[call-arg]


def test_encrypt_refuses_rsa1_5() -> None:
    with pytest.raises(ConfigurationError, match="not implemented"):
        jwe.encrypt(b"hi", RSA.public_key(), alg="RSA1_5", enc="A256GCM")


def test_the_header_picks_only_among_the_allowed() -> None:
    token = jwe.encrypt(b"hi", RSA.public_key(), alg="RSA-OAEP", enc="A256GCM")
    with pytest.raises(JweError, match="alg 'RSA-OAEP' is not allowed here"):
        jwe.decrypt(token, RSA, **OAEP)
    token = jwe.encrypt(b"hi", RSA.public_key(), alg="RSA-OAEP-256", enc="A128CBC-HS256")
    with pytest.raises(JweError, match="enc 'A128CBC-HS256' is not allowed here"):
        jwe.decrypt(token, RSA, **OAEP)


# Malformed input: one JweError line each --------------------------------------------------------


def _with_header(token: str, **changes: Any) -> str:
    """``token`` with its protected header changed (the tag no longer matches: that is fine,
    every refusal tested with this comes before the AEAD)."""
    parsed = jwe.parse(token)
    header = {k: v for k, v in {**parsed.header, **changes}.items() if v is not None}
    return ".".join((tokens.b64url_encode(tokens.json_bytes(header)), *parsed.parts[1:]))


ECDH_TOKEN = jwe.encrypt(b"hi", P256.public_key(), alg="ECDH-ES", enc="A256GCM")


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("a.b.c", "this has a JWS (three parts)"),
        ("a.b.c.d.e.f", "this has 6 parts"),
        (".a.b.c.d", "no protected header"),
        ("x" * 20000, "over the limit of 16,384"),
        ("e30.." + "AAAA" * 3 + ".AA.AAAAAAAAAAAAAAAAAAAAAA", "has no 'alg'"),
        (_with_header(ECDH_TOKEN, crit=["exp"]), "crit"),
        (_with_header(ECDH_TOKEN, zip="GZIP"), "unknown zip"),
        (_with_header(ECDH_TOKEN, zip="DEF"), "does not inflate"),
        (_with_header(ECDH_TOKEN, epk=None), "ephemeral public key in 'epk'"),
        (_with_header(ECDH_TOKEN, epk="P-256"), "ephemeral public key in 'epk'"),
        (_with_header(ECDH_TOKEN, epk={"kty": "OKP", "crv": "X25519"}), "must be an EC key"),
        (_with_header(ECDH_TOKEN, apu=5), "'apu' must be base64url text"),
        (_with_header(ECDH_TOKEN, apv="a+b"), "not base64url"),
    ],
)
def test_malformed_tokens_get_one_line(token: str, says: str) -> None:
    with pytest.raises(JweError, match=re.escape(says)) as info:
        jwe.decrypt(token, P256, **ECDH)
    assert "\n" not in str(info.value)


def test_bytes_and_non_text() -> None:
    with pytest.raises(JweError, match="must be text, got int"):
        jwe.decrypt(5, P256, **ECDH)  # type: ignore[arg-type]
    with pytest.raises(JweError, match="ASCII"):
        jwe.decrypt("é".encode(), P256, **ECDH)
    assert jwe.decrypt(ECDH_TOKEN.encode("ascii"), P256, **ECDH) == b"hi"


def test_wrong_key_types_are_refused() -> None:
    with pytest.raises(JweError, match="RSA private key"):
        jwe.decrypt(jwe.encrypt(b"hi", RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM"),
                    RSA.public_key(), **OAEP)  # fmt: skip
    with pytest.raises(JweError, match="EC private key"):
        jwe.decrypt(ECDH_TOKEN, P256.public_key(), **ECDH)
    with pytest.raises(JweError, match="32-byte key"):
        token = jwe.encrypt(b"hi", KW, alg="A256KW", enc="A256GCM")
        jwe.decrypt(token, KW[:16], algorithms=["A256KW"], encryptions=["A256GCM"])


def test_a_signing_jwk_is_not_a_decryption_key() -> None:
    token = jwe.encrypt(b"hi", KW, alg="A256KW", enc="A256GCM")
    options = {"algorithms": ["A256KW"], "encryptions": ["A256GCM"]}
    jwk = {"kty": "oct", "k": tokens.b64url_encode(KW)}
    assert jwe.decrypt(token, {**jwk, "use": "enc"}, **options) == b"hi"
    with pytest.raises(JweError, match="use 'sig', not 'enc'"):
        jwe.decrypt(token, {**jwk, "use": "sig"}, **options)
    with pytest.raises(JweError, match="allow no encryption operation"):
        jwe.decrypt(token, {**jwk, "key_ops": ["sign", "verify"]}, **options)
    with pytest.raises(ConfigurationError, match="use 'sig'"):
        jwe.encrypt(b"hi", {**jwk, "use": "sig"}, alg="A256KW", enc="A256GCM")


def test_rsa_oaep_failures_all_look_alike() -> None:
    """RFC 7516 section 11.5: a bad encrypted key goes on with a random CEK, failing at the tag."""
    token = jwe.encrypt(b"hi", RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM")
    parts = token.split(".")
    parts[1] = tokens.b64url_encode(bytes(256))
    work = Work()
    with pytest.raises(JweError, match="does not decrypt under this key") as info:
        jwe.decrypt(".".join(parts), RSA, **OAEP, work=work)
    assert work.rsa == 1 and work.aead == 1
    other = rsa.generate_private_key(65537, 2048)
    with pytest.raises(JweError) as info_other:
        jwe.decrypt(token, other, **OAEP)
    assert str(info.value) == str(info_other.value)


def test_dir_and_direct_ecdh_carry_no_encrypted_key() -> None:
    parts = ECDH_TOKEN.split(".")
    parts[1] = tokens.b64url_encode(b"\x01" * 40)
    with pytest.raises(JweError, match="uses no encrypted key"):
        jwe.decrypt(".".join(parts), P256, **ECDH)


def test_iv_and_tag_sizes_are_checked() -> None:
    parts = ECDH_TOKEN.split(".")
    bad_iv = [*parts[:2], tokens.b64url_encode(bytes(16)), *parts[3:]]
    with pytest.raises(JweError, match="12-byte IV"):
        jwe.decrypt(".".join(bad_iv), P256, **ECDH)
    bad_tag = [*parts[:4], tokens.b64url_encode(bytes(8))]
    with pytest.raises(JweError, match="16-byte tag"):
        jwe.decrypt(".".join(bad_tag), P256, **ECDH)


def test_epk_on_another_curve_is_refused_before_ecdh() -> None:
    other = jwe.encrypt(b"hi", P384.public_key(), alg="ECDH-ES", enc="A256GCM")
    token = _with_header(ECDH_TOKEN, epk=jwe.parse(other).header["epk"])
    work = Work()
    with pytest.raises(JweError, match="the epk is on 'P-384', the recipient key on 'P-256'"):
        jwe.decrypt(token, P256, **ECDH, work=work)
    assert work == Work()


def test_epk_with_a_private_part_is_refused() -> None:
    epk = {**jwe.parse(ECDH_TOKEN).header["epk"], "d": "AAAA"}
    with pytest.raises(JweError, match="private part"):
        jwe.decrypt(_with_header(ECDH_TOKEN, epk=epk), P256, **ECDH)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"p2c": True}, "positive integer p2c"),
        ({"p2c": 0}, "positive integer p2c"),
        ({"p2c": "1000"}, "positive integer p2c"),
        ({"p2c": None}, "positive integer p2c"),
        ({"p2s": tokens.b64url_encode(b"short")}, "at least 8"),
        ({"p2c": 10**1000 // 10**990}, "over the limit"),
    ],
)
def test_pbes2_parameters(changes: dict[str, Any], says: str) -> None:
    token = jwe.encrypt(b"hi", PASSWORD, alg="PBES2-HS256+A128KW", enc="A128GCM", p2c=1000)
    work = Work()
    with pytest.raises(JweError, match=says):
        jwe.decrypt(
            _with_header(token, **changes), PASSWORD, algorithms=["PBES2-HS256+A128KW"],
            encryptions=["A128GCM"], work=work,
        )  # fmt: skip
    assert work.pbkdf2_iterations == 0


def test_zip_when_allowed_inflates_within_the_cap() -> None:
    token = jwe.encrypt(b"a" * 1000, RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM",
                        compress=True)  # fmt: skip
    assert jwe.parse(token).header["zip"] == "DEF"
    work = Work()
    assert jwe.decrypt(token, RSA, **OAEP, allow_zip=True, work=work) == b"a" * 1000
    assert work.inflated == 1000
    with pytest.raises(JweError, match="more than 999 bytes"):
        jwe.decrypt(token, RSA, **OAEP, allow_zip=True, max_inflated=999)


def test_inflate_refuses_garbage_and_truncation() -> None:
    with pytest.raises(JweError, match="not raw DEFLATE"):
        jwe.inflate(b"\xff\xff\xff", 100)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = deflate.compress(b"x" * 500) + deflate.flush()
    with pytest.raises(JweError, match="truncated"):
        jwe.inflate(data[:-2], 1000)


# Attacks, each proven twice ---------------------------------------------------------------------


def test_cve_2016_9121_invalid_curve_point_leaks_a_key_bit() -> None:
    """go-jose before 1.0.4: ECDH on an off-curve epk. One of two probes decrypts, which one
    is the private key's lowest bit; labkit.jwe refuses both before any ECDH."""
    probe = attacks.invalid_curve_probe()
    d = P256.private_numbers().private_value
    assert attacks.leaked_parity(attacks.ecdh_without_curve_check, P256, probe) == d % 2
    other = ec.generate_private_key(ec.SECP256R1())
    assert (
        attacks.leaked_parity(attacks.ecdh_without_curve_check, other, probe)
        == other.private_numbers().private_value % 2
    )
    work = Work()
    attacks.ecdh_without_curve_check(
        probe.if_even if d % 2 == 0 else probe.if_odd, P256, **ECDH, work=work
    )
    assert work.ecdh == 1
    for token in (probe.if_odd, probe.if_even):
        work = Work()
        with pytest.raises(JweError, match="not on P-256: refused before any ECDH"):
            jwe.decrypt(token, P256, **ECDH, work=work)
        assert work == Work()
    assert attacks.leaked_parity(jwe.decrypt, P256, probe) is None


def test_ecdh_without_curve_check_still_decrypts_honest_tokens() -> None:
    for alg in ("ECDH-ES", "ECDH-ES+A256KW"):
        token = jwe.encrypt(b"hi", P256.public_key(), alg=alg, enc="A256GCM")
        options = {"algorithms": [alg], "encryptions": ["A256GCM"]}
        assert attacks.ecdh_without_curve_check(token, P256, **options) == b"hi"


def test_cve_2024_28102_zip_bomb() -> None:
    """jwcrypto before 1.5.6: a ~13 kB token inflates to 10 MB. labkit.jwe refuses zip by
    default (nothing inflated), and with zip allowed stops at its cap."""
    bomb = attacks.zip_bomb(RSA.public_key(), size=10_000_000)
    assert len(bomb) < jwe.MAX_LENGTH
    work = Work()
    assert len(attacks.inflate_without_limit(bomb, RSA, **OAEP, work=work)) == 10_000_000
    assert work.inflated == 10_000_000
    hardened = Work()
    with pytest.raises(JweError, match="does not inflate"):
        jwe.decrypt(bomb, RSA, **OAEP, work=hardened)
    assert hardened == Work()
    capped = Work()
    with pytest.raises(JweError, match="decompression bomb"):
        jwe.decrypt(bomb, RSA, **OAEP, allow_zip=True, work=capped)
    assert capped.inflated == jwe.MAX_INFLATED + 1
    assert work.inflated // capped.inflated >= 39


def test_cve_2022_36083_huge_p2c() -> None:
    """panva/jose before 4.9.2: p2c is the sender's choice. A keyless token with p2c = 10**6
    costs the vulnerable decryptor a million PBKDF2 iterations; labkit.jwe none."""
    token = attacks.huge_p2c(1_000_000)
    options = {"algorithms": ["PBES2-HS256+A128KW"], "encryptions": ["A128GCM"]}
    work = Work()
    with pytest.raises(JweError, match="does not decrypt"):
        attacks.pbes2_without_p2c_limit(token, PASSWORD, **options, work=work)
    assert work.pbkdf2_iterations == 1_000_000
    hardened = Work()
    with pytest.raises(JweError, match="refused before any PBKDF2 work"):
        jwe.decrypt(token, PASSWORD, **options, work=hardened)
    assert hardened == Work()
    # and a service that never asked for PBES2 refuses it by name
    with pytest.raises(JweError, match="not allowed here"):
        jwe.decrypt(token, KW, algorithms=["A256KW"], encryptions=["A128GCM"])


def test_cve_2026_28490_rsa1_5_length_oracle() -> None:
    """Authlib before 1.6.9: RSA1_5 from the header, and a bad padding answered apart from a
    bad tag. The two probes get two different answers; labkit.jwe gives one, before any RSA."""
    public = RSA.public_key()
    answers: dict[bool, set[str]] = {True: set(), False: set()}
    for conforming in (True, False) * 4:
        probe = attacks.rsa1_5_probe(public, conforming=conforming)
        with pytest.raises(JweError) as info:
            attacks.rsa1_5_length_oracle(probe, RSA, **OAEP)
        answers[conforming].add(str(info.value))
        work = Work()
        with pytest.raises(JweError, match="alg 'RSA1_5' is not allowed here") as hardened:
            jwe.decrypt(probe, RSA, **OAEP, work=work)
        assert work == Work()
        assert "Bleichenbacher" in str(hardened.value)
    assert answers[True] == {jwe._UNDECRYPTABLE}
    assert answers[False] == {"invalid CEK length"}


def test_rsa1_5_downgrade_is_accepted_by_the_vulnerable_decryptor() -> None:
    from cryptography.hazmat.primitives.asymmetric import padding

    cek = bytes(range(32))
    encrypted_key = RSA.public_key().encrypt(cek, padding.PKCS1v15())
    protected = tokens.b64url_encode(tokens.json_bytes({"alg": "RSA1_5", "enc": "A256GCM"}))
    iv = bytes(12)
    ciphertext, tag = jwe._seal(jwe.ENCRYPTIONS["A256GCM"], cek, iv, b"hi", protected.encode())
    token = ".".join(
        (protected, *(tokens.b64url_encode(p) for p in (encrypted_key, iv, ciphertext, tag)))
    )
    assert attacks.rsa1_5_length_oracle(token, RSA, **OAEP) == b"hi"
    with pytest.raises(JweError, match="RSA1_5"):
        jwe.decrypt(token, RSA, **OAEP)


MALLORY = {**examples.LAB_CLAIMS, "sub": "mallory", "role": "admin"}
IDP = keys.demo_private_key("rsa")  # the issuer signs with the demo RSA key in these tests
SIGNING = {
    "signing_algorithms": ["RS256"],
    "audience": "labkit-api",
    "issuer": "https://idp.labkit.local",
    "now": examples.LAB_CLAIMS["iat"] + 60,
}


def test_encrypted_is_not_authenticated() -> None:
    """Anyone with the recipient's PUBLIC key mints a JWE a decrypt-and-trust service believes;
    decrypt_jwt wants a signed JWT inside (cty JWT) and verifies it."""
    for forged in (
        attacks.mint(MALLORY, RSA.public_key()),
        attacks.mint_unsigned_nested(MALLORY, RSA.public_key()),
    ):
        assert attacks.decrypt_and_trust(forged, RSA, **OAEP)["role"] == "admin"
        with pytest.raises(InvalidTokenError):
            jwe.decrypt_jwt(forged, RSA, IDP.public_key(), **OAEP, **SIGNING)
    with pytest.raises(JweError, match="cty is None, not 'JWT'"):
        jwe.decrypt_jwt(attacks.mint(MALLORY, RSA.public_key()), RSA, IDP.public_key(),
                        **OAEP, **SIGNING)  # fmt: skip
    with pytest.raises(DisallowedAlgorithmError, match="none"):
        jwe.decrypt_jwt(attacks.mint_unsigned_nested(MALLORY, RSA.public_key()), RSA,
                        IDP.public_key(), **OAEP, **SIGNING)  # fmt: skip


def test_sign_then_encrypt_round_trip() -> None:
    signed = sign_token(examples.LAB_CLAIMS, IDP, "RS256")
    nested = jwe.encrypt_jwt(signed, RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM")
    assert jwe.parse(nested).header["cty"] == "JWT"
    claims = jwe.decrypt_jwt(nested, RSA, IDP.public_key(), **OAEP, **SIGNING)
    assert claims == examples.LAB_CLAIMS
    # the inner token signed by someone else fails verification
    other = rsa.generate_private_key(65537, 2048)
    nested_other = jwe.encrypt_jwt(sign_token(MALLORY, other, "RS256"), RSA.public_key(),
                                   alg="RSA-OAEP-256", enc="A256GCM")  # fmt: skip
    with pytest.raises(InvalidTokenError, match="signature"):
        jwe.decrypt_jwt(nested_other, RSA, IDP.public_key(), **OAEP, **SIGNING)
    # and the claims checks of labkit.verify apply
    with pytest.raises(InvalidTokenError, match="aud"):
        jwe.decrypt_jwt(nested, RSA, IDP.public_key(), **OAEP, **{**SIGNING, "audience": "x"})


def test_encrypt_jwt_takes_a_signed_jwt() -> None:
    with pytest.raises(ConfigurationError, match="three parts"):
        jwe.encrypt_jwt("not a jwt", RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM")


# The bad-input boundary, as a property -----------------------------------------------------------

VALID = jwe.encrypt(b'{"sub":"alice"}', P256.public_key(), alg="ECDH-ES+A256KW", enc="A256GCM")
ALL = {"algorithms": list(jwe.ALGORITHMS), "encryptions": list(jwe.ENCRYPTIONS)}
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
HEADER_VALUES = {
    "alg": st.sampled_from([*jwe.ALGORITHMS, "RSA1_5", "none", ""]) | JSONISH,
    "enc": st.sampled_from(list(jwe.ENCRYPTIONS)) | JSONISH,
    "zip": st.sampled_from(["DEF", "def"]) | JSONISH,
    "epk": st.fixed_dictionaries(
        {
            "kty": st.sampled_from(["EC", "OKP"]),
            "crv": st.sampled_from(["P-256", "P-384"]),
            "x": st.text("AB_-", max_size=44),
            "y": st.text("AB_-", max_size=44),
        }
    )
    | JSONISH,
    "p2c": st.integers(-5, 10**7) | JSONISH,
    "p2s": st.text("AB", max_size=12) | JSONISH,
    "apu": st.text("AB", max_size=8) | JSONISH,
    "crit": JSONISH,
}


@st.composite
def hostile_jwes(draw: st.DrawFn) -> str | bytes:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.text(max_size=200) | st.binary(max_size=200))
    parts = VALID.split(".")
    if kind == 1:  # a mutated honest token
        index = draw(st.integers(0, 4))
        text = parts[index]
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        parts[index] = text[:pos] + draw(st.text(max_size=3)) + text[pos + 1 :]
        return ".".join(parts)
    header = draw(st.fixed_dictionaries({}, optional=HEADER_VALUES))
    try:
        protected = tokens.b64url_encode(tokens.json_bytes(header))
    except Exception:
        protected = "e30"
    return ".".join((protected, *parts[1:]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_jwes(), st.sampled_from([P256, RSA, KW, PASSWORD]))
def test_decrypt_raises_only_jwe_error(token: str | bytes, key: Any) -> None:
    try:
        jwe.decrypt(token, key, **ALL, allow_zip=True)
    except JweError as exc:
        assert "\n" not in str(exc) and str(exc)
