"""Answer banks for notebook 12: insecure look-alikes refused, other right answers accepted.

12.1's policies go through ``labkit.jwe.decrypt`` with attacker tokens; 12.2's functions get
nested JWTs that a decrypt-and-trust or a decrypt-without-verify would accept; 12.3's tokens
must fool ``decrypt_and_trust`` and nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from exercise_banks import Bank, Right, Wrong, bank_tests

import labkit
from labkit import examples, jwe, keys, tokens
from labkit.algorithms import sign_token
from labkit.attacks import jwe as attacks
from labkit.exercises import get
from labkit.exercises.encryption import POLICY

SERVICE = keys.demo_private_key("rsa")
SERVICE_PUBLIC = SERVICE.public_key()
IDP_PUBLIC = keys.demo_public_key("p256")
NOW = 1767259800
API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": NOW}
ALICE = dict(examples.LAB_CLAIMS)
ADMIN = {**ALICE, "role": "admin"}


def solved(exercise_id: str) -> Any:
    """The bank solution's ``answer``, run in a namespace like the notebook's."""
    namespace: dict[str, Any] = {
        "labkit": labkit,
        "jwe": jwe,
        "service_key": SERVICE,
        "service_public": SERVICE_PUBLIC,
        "idp_public": IDP_PUBLIC,
        "POLICY": POLICY,
        "API": API,
        "alice": ALICE,
    }
    exec(get(exercise_id).solution, namespace)
    return namespace["answer"]


# 12.1 · A decrypt policy ------------------------------------------------------------------------

BANK_12_1 = Bank(
    wrong=(
        Wrong("zip-allowed", {**POLICY, "allow_zip": True}, "zip bomb"),
        Wrong(
            "zip-allowed-big-cap",
            {**POLICY, "allow_zip": True, "max_inflated": 10**9},
            "zip bomb",
        ),
        Wrong(
            "every-alg",
            {"algorithms": list(jwe.ALGORITHMS), "encryptions": ["A256GCM"]},
            "RSA-OAEP",
        ),
        Wrong(
            "every-enc",
            {"algorithms": ["RSA-OAEP-256"], "encryptions": list(jwe.ENCRYPTIONS)},
            "A128CBC-HS256",
        ),
        Wrong(
            "oaep-sha1-too",
            {"algorithms": ["RSA-OAEP-256", "RSA-OAEP"], "encryptions": ["A256GCM"]},
            "RSA-OAEP",
        ),
        Wrong(
            "rsa1_5-for-legacy",
            {"algorithms": ["RSA-OAEP-256", "RSA1_5"], "encryptions": ["A256GCM"]},
            "RSA1_5",
        ),
        Wrong(
            "pbes2-unbounded",
            {**POLICY, "algorithms": ["RSA-OAEP-256", "PBES2-HS256+A128KW"], "max_p2c": 10**9},
            "PBES2",
        ),
        Wrong("p2c-raised", {**POLICY, "max_p2c": 10**7}, "max_p2c"),
        Wrong("long-tokens", {**POLICY, "max_length": 10**6}, "19,000-character"),
        Wrong(
            "alg-as-a-string",
            {"algorithms": "RSA-OAEP-256", "encryptions": "A256GCM"},
            "refuses this policy",
        ),
        Wrong("wrong-alg", {"algorithms": ["ECDH-ES"], "encryptions": ["A256GCM"]}, "own"),
        Wrong("a-list", ["RSA-OAEP-256", "A256GCM"], "dict"),
        # Found by the red-team pass (tests/test_redteam_jwe_scan.py): each was approved.
        Wrong(
            "another-gcm-too",
            {"algorithms": ["RSA-OAEP-256"], "encryptions": ["A256GCM", "A128GCM"]},
            "also list A128GCM",
        ),
        Wrong(
            "key-wrap-and-dir-too",
            {"algorithms": ["RSA-OAEP-256", "A256KW", "dir"], "encryptions": ["A256GCM"]},
            "also list A256KW, dir",
        ),
        Wrong("a-little-longer", {**POLICY, "max_length": 18000}, "max_length above 16,384"),
        Wrong("negative-cap", {**POLICY, "max_inflated": -1}, "max_inflated must be"),
        Wrong("p2c-as-text", {**POLICY, "max_p2c": "5000"}, "max_p2c must be"),
        Wrong("zip-as-text", {**POLICY, "allow_zip": "no"}, "allow_zip must be"),
    ),
    right=(
        Right("tuples", {"algorithms": ("RSA-OAEP-256",), "encryptions": ("A256GCM",)}),
        Right(
            "safe-defaults-spelled-out",
            {**POLICY, "allow_zip": False, "max_length": 8192, "max_p2c": 1000},
        ),
        Right("a-set", {"algorithms": {"RSA-OAEP-256"}, "encryptions": {"A256GCM"}}),
    ),
)


# 12.2 · Decrypt, then verify --------------------------------------------------------------------


def decrypt_and_trust(token: str) -> dict:
    plaintext = jwe.decrypt(token, SERVICE, **POLICY)
    if plaintext.startswith(b"{"):
        return json.loads(plaintext)
    return tokens.parse(plaintext).payload


def decrypt_and_decode(token: str) -> dict:
    return tokens.parse(jwe.decrypt(token, SERVICE, **POLICY)).payload


def kit_decrypt_and_trust(token: str) -> dict:
    return attacks.decrypt_and_trust(token, SERVICE, **POLICY)


def verify_with_any_key(token: str) -> dict:
    inner = jwe.decrypt(token, SERVICE, **POLICY)
    header = tokens.parse(inner).header
    if header.get("alg") == "ES256" and "jwk" not in header:
        return tokens.parse(inner).payload  # "it says ES256, so it is from our IdP"
    raise labkit.InvalidTokenError("not ES256")


def no_audience(token: str) -> dict:
    inner = jwe.decrypt(token, SERVICE, **POLICY)
    return labkit.verify(inner, IDP_PUBLIC, algorithms=["ES256"], now=NOW, audience=None,
                         issuer=API["issuer"])  # fmt: skip


def generous_leeway(token: str) -> dict:
    inner = jwe.decrypt(token, SERVICE, **POLICY)
    return labkit.verify(inner, IDP_PUBLIC, algorithms=["ES256"], leeway=86400, **API)


def no_cty_check(token: str) -> dict:
    inner = jwe.decrypt(token, SERVICE, **POLICY)
    return labkit.verify(inner, IDP_PUBLIC, algorithms=["ES256"], **API)


def swallow_errors(token: str) -> dict:
    try:
        return jwe.decrypt_jwt(token, SERVICE, IDP_PUBLIC, **POLICY,
                               signing_algorithms=["ES256"], **API)  # fmt: skip
    except labkit.InvalidTokenError:
        return {}


def value_error(token: str) -> dict:
    try:
        return jwe.decrypt_jwt(token, SERVICE, IDP_PUBLIC, **POLICY,
                               signing_algorithms=["ES256"], **API)  # fmt: skip
    except labkit.InvalidTokenError as exc:
        raise ValueError(str(exc)) from None


def by_hand(token: str) -> dict:
    cty = jwe.parse(token).header.get("cty")
    if not isinstance(cty, str) or cty.upper() != "JWT":
        raise labkit.InvalidTokenError("the JWE does not carry a JWT")
    inner = jwe.decrypt(token, SERVICE, algorithms=["RSA-OAEP-256"], encryptions=["A256GCM"])
    return labkit.verify(inner, IDP_PUBLIC, algorithms=["ES256"], **API)


def with_required_jti_free(token: str) -> dict:
    return jwe.decrypt_jwt(
        token, SERVICE, keys.to_jwk(IDP_PUBLIC), algorithms=("RSA-OAEP-256",),
        encryptions=("A256GCM",), signing_algorithms=("ES256",), leeway=0, **API,
    )  # fmt: skip


def cty_chooses(token: str) -> dict:
    """Verifies what says cty JWT, and believes what says it is plain JSON."""
    cty = jwe.parse(token).header.get("cty", "JWT")
    inner = jwe.decrypt(token, SERVICE, **POLICY)
    if isinstance(cty, str) and cty.upper() == "JWT":
        return labkit.verify(inner, IDP_PUBLIC, algorithms=["ES256"], **API)
    try:
        return json.loads(inner)
    except ValueError:
        raise labkit.InvalidTokenError("neither a JWT nor JSON") from None


def inflates_what_it_gets(token: str) -> dict:
    """Checks cty and the signature, and inflates zip: DEF with no cap first."""
    if jwe.parse(token).header.get("cty") != "JWT":
        raise labkit.InvalidTokenError("not a nested JWT")
    inner = jwe.decrypt(token, SERVICE, **POLICY, allow_zip=True, max_inflated=10**8)
    return labkit.verify(inner, IDP_PUBLIC, algorithms=["ES256"], **API)


def trusts_the_embedded_jwk(token: str) -> dict:
    """Verifies with the inner header's jwk when there is one (CVE-2018-0114's mistake)."""
    if jwe.parse(token).header.get("cty") != "JWT":
        raise labkit.InvalidTokenError("not a nested JWT")
    inner = jwe.decrypt(token, SERVICE, **POLICY)
    header = tokens.parse(inner).header
    key = keys.from_jwk(header["jwk"]) if "jwk" in header else IDP_PUBLIC
    return labkit.verify(inner, key, algorithms=["ES256"], **API)


def verifies_es256_only(token: str) -> dict:
    """Refuses alg none, verifies ES256, and reads every other alg unverified."""
    if jwe.parse(token).header.get("cty") != "JWT":
        raise labkit.InvalidTokenError("not a nested JWT")
    inner = jwe.decrypt(token, SERVICE, **POLICY)
    alg = tokens.parse(inner).header.get("alg")
    if alg == "none":
        raise labkit.InvalidTokenError("unsigned")
    if alg == "ES256":
        return labkit.verify(inner, IDP_PUBLIC, algorithms=["ES256"], **API)
    return tokens.parse(inner).payload


def no_issuer(token: str) -> dict:
    return jwe.decrypt_jwt(
        token, SERVICE, IDP_PUBLIC, **POLICY, signing_algorithms=["ES256"],
        audience=API["audience"], now=NOW,
    )  # fmt: skip


def every_alg_and_enc(token: str) -> dict:
    return jwe.decrypt_jwt(
        token, SERVICE, IDP_PUBLIC, algorithms=list(jwe.ALGORITHMS),
        encryptions=list(jwe.ENCRYPTIONS), signing_algorithms=["ES256"], **API,
    )  # fmt: skip


def no_exp_needed(token: str) -> dict:
    if jwe.parse(token).header.get("cty") != "JWT":
        raise labkit.InvalidTokenError("not a nested JWT")
    inner = jwe.decrypt(token, SERVICE, **POLICY)
    return labkit.verify(inner, IDP_PUBLIC, algorithms=["ES256"], require_exp=False, **API)


def falls_back_to_a_bare_jws(token: str) -> dict:
    try:
        return jwe.decrypt_jwt(token, SERVICE, IDP_PUBLIC, **POLICY,
                               signing_algorithms=["ES256"], **API)  # fmt: skip
    except labkit.InvalidTokenError:
        return labkit.verify(token, IDP_PUBLIC, algorithms=["ES256"], **API)


def header_claims_win(token: str) -> dict:
    """Verifies, then lets claims replicated in the JWE header (RFC 7519 5.3) override."""
    claims = jwe.decrypt_jwt(token, SERVICE, IDP_PUBLIC, **POLICY,
                             signing_algorithms=["ES256"], **API)  # fmt: skip
    header = jwe.parse(token).header
    return {**claims, **{k: v for k, v in header.items() if k in ("sub", "role", "aud")}}


BANK_12_2 = Bank(
    wrong=(
        Wrong("decrypt-and-trust", decrypt_and_trust, "PUBLIC key"),
        Wrong("kit-decrypt-and-trust", kit_decrypt_and_trust, "PUBLIC key"),
        Wrong("decrypt-and-decode", decrypt_and_decode, "without verifying"),
        Wrong("checks-the-header-not-the-signature", verify_with_any_key, "IdP's public key"),
        Wrong("no-audience", no_audience, "aud"),
        Wrong("a-day-of-leeway", generous_leeway, "exp"),
        Wrong("no-cty-check", no_cty_check, "cty"),
        Wrong("swallows-errors", swallow_errors, "returned {}"),
        Wrong("raises-value-error", value_error, "raise a labkit.InvalidTokenError"),
        # Found by the red-team pass: each was approved.
        Wrong("cty-chooses-whether-to-verify", cty_chooses, "cty choose"),
        Wrong("inflates-without-a-cap", inflates_what_it_gets, "compressed"),
        Wrong("trusts-the-embedded-jwk", trusts_the_embedded_jwk, "brought along"),
        Wrong("verifies-es256-only", verifies_es256_only, "other than ES256"),
        Wrong("no-issuer", no_issuer, "iss"),
        Wrong("every-alg-and-enc", every_alg_and_enc, "never uses"),
        Wrong("header-claims-win", header_claims_win, "never the header's"),
        Wrong("no-exp-needed", no_exp_needed, "no exp"),
        Wrong("falls-back-to-a-bare-jws", falls_back_to_a_bare_jws, "never encrypted"),
    ),
    right=(
        Right("by-hand", by_hand),
        Right("jwk-key-and-tuples", with_required_jti_free),
    ),
)


# 12.3 · Encrypted is not authenticated ----------------------------------------------------------

IDP_SIGNED_JWS = sign_token(ADMIN, keys.demo_private_key("p256"), "ES256")
IDP_SIGNED_ADMIN = jwe.encrypt_jwt(
    IDP_SIGNED_JWS,
    SERVICE_PUBLIC,
    alg="RSA-OAEP-256",
    enc="A256GCM",
)
OTHER = rsa.generate_private_key(65537, 2048)

BANK_12_3 = Bank(
    wrong=(
        Wrong("signed-by-the-idp", IDP_SIGNED_ADMIN, "not a forgery"),
        Wrong("a-jws", sign_token(ADMIN, keys.demo_private_key("p256"), "ES256"), "compact JWE"),
        Wrong("for-another-key", attacks.mint(ADMIN, OTHER.public_key()), "refused"),
        Wrong("still-a-reader", attacks.mint(ALICE, SERVICE_PUBLIC), "role 'admin'"),
        Wrong("extra-claim", attacks.mint({**ADMIN, "groups": ["x"]}, SERVICE_PUBLIC), "'groups'"),
        Wrong("sub-changed", attacks.mint({**ADMIN, "sub": "mallory"}, SERVICE_PUBLIC), "Alice"),
        Wrong("oaep-sha1", attacks.mint(ADMIN, SERVICE_PUBLIC, alg="RSA-OAEP"), "not allowed"),
        Wrong(
            "cbc",
            jwe.encrypt(ADMIN, SERVICE_PUBLIC, alg="RSA-OAEP-256", enc="A128CBC-HS256"),
            "not allowed",
        ),
        Wrong("bytes", attacks.mint(ADMIN, SERVICE_PUBLIC).encode(), "string"),
        # Found by the red-team pass: IdP-signed, and approved because decrypt_jwt refused its cty.
        Wrong(
            "signed-by-the-idp-no-cty",
            jwe.encrypt(IDP_SIGNED_JWS.encode(), SERVICE_PUBLIC, alg="RSA-OAEP-256", enc="A256GCM"),
            "not a forgery",
        ),
        Wrong(
            "signed-by-the-idp-cty-json",
            jwe.encrypt(
                IDP_SIGNED_JWS.encode(),
                SERVICE_PUBLIC,
                alg="RSA-OAEP-256",
                enc="A256GCM",
                header={"cty": "json"},
            ),
            "not a forgery",
        ),
    ),
    right=(
        Right("kit-minter", attacks.mint(ADMIN, SERVICE_PUBLIC)),
        Right("unsigned-nested", attacks.mint_unsigned_nested(ADMIN, SERVICE_PUBLIC)),
        Right(
            "from-a-jwk",
            jwe.encrypt(
                ADMIN, keys.to_jwk(SERVICE_PUBLIC, use="enc"), alg="RSA-OAEP-256", enc="A256GCM"
            ),
        ),
    ),
)

BANKS = {"12.1": BANK_12_1, "12.2": BANK_12_2, "12.3": BANK_12_3}
test_wrong_answer_is_refused, test_right_answer_is_accepted = bank_tests(BANKS)


def test_solutions_are_right() -> None:
    from labkit.exercises import evaluate

    for exercise_id in BANKS:
        verdict = evaluate(exercise_id, solved(exercise_id))
        assert verdict.status == "correct", (exercise_id, verdict.message)
