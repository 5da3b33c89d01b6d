"""labkit.vulnerable (issue 4 part A): each verifier has its one bug and is otherwise hardened.

For every zoo verifier here: it accepts the forgery its bug lets through, and it still refuses
the honest mistakes ``labkit.verify`` catches (expired, wrong audience or issuer, missing ``exp``,
malformed or oversized tokens, bad options). Then each one's own edges.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

import labkit
from labkit import examples, keys, tokens, vulnerable
from labkit.attacks.confusion import forge_confusion
from labkit.attacks.none import forge_empty_secret, forge_none, forge_tampered
from labkit.errors import (
    BadSignatureError,
    ConfigurationError,
    CriticalHeaderError,
    DisallowedAlgorithmError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidIssuerError,
    MalformedTokenError,
    MissingClaimError,
    UnsafeKeyError,
)

NOW = examples.LAB_CLAIMS["iat"] + 1800
API: dict[str, Any] = {
    "audience": "labkit-api",
    "issuer": "https://idp.labkit.local",
    "now": NOW,
}
SECRET = keys.demo_secret()
ADMIN = {**examples.LAB_CLAIMS, "role": "admin"}
RSA_PUBLIC = keys.demo_public_key("rsa")
SPKI_PEM = RSA_PUBLIC.public_bytes(  # type: ignore[union-attr]
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
PKCS1_PEM = RSA_PUBLIC.public_bytes(  # type: ignore[union-attr]
    serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
)
WEAK = b"secret"

Forge = Callable[[dict[str, Any]], str]

# verifier name -> (the service's key, its algorithms, how to forge a token its bug accepts)
ZOO: dict[str, tuple[Any, list[str], Forge]] = {
    "decode_without_verification": (
        SECRET,
        ["HS256"],
        lambda claims: forge_tampered(examples.lab_token(), claims).token,
    ),
    "accept_alg_none": (SECRET, ["HS256"], lambda claims: forge_none(claims)[3].token),
    "accept_empty_secret": ("", ["HS256"], lambda claims: forge_empty_secret(claims).token),
    "alg_from_header": (SPKI_PEM, ["RS256"], lambda c: forge_confusion(SPKI_PEM, c)[0].token),
    "accept_weak_secret": (WEAK, ["HS256"], lambda c: labkit.sign_token(c, WEAK, "HS256")),
}


def run(name: str, token: str, **options: Any) -> dict[str, Any]:
    key, algorithms, _ = ZOO[name]
    verifier = getattr(vulnerable, name)
    return verifier(token, key, **{"algorithms": algorithms, **API, **options})


def forged(name: str, **changes: Any) -> str:
    claims = {**ADMIN, **changes}
    return ZOO[name][2]({k: v for k, v in claims.items() if v is not None})


# Every zoo verifier of part A --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ZOO))
def test_accepts_the_forgery_its_bug_lets_through(name: str) -> None:
    assert run(name, forged(name)) == ADMIN


@pytest.mark.parametrize("name", list(ZOO))
def test_the_hardened_verifier_refuses_the_same_forgery(name: str) -> None:
    key, algorithms, _ = ZOO[name]
    with pytest.raises(labkit.InvalidTokenError):
        labkit.verify(forged(name), key, algorithms=algorithms, **API)


@pytest.mark.parametrize("name", list(ZOO))
def test_still_refuses_an_expired_token(name: str) -> None:
    with pytest.raises(ExpiredTokenError):
        run(name, forged(name, exp=NOW - 1))


@pytest.mark.parametrize("name", list(ZOO))
def test_still_refuses_a_token_for_another_audience(name: str) -> None:
    with pytest.raises(InvalidAudienceError):
        run(name, forged(name, aud="labkit-billing"))


@pytest.mark.parametrize("name", list(ZOO))
def test_still_refuses_another_issuer(name: str) -> None:
    with pytest.raises(InvalidIssuerError):
        run(name, forged(name, iss="https://idp.labkit"))


@pytest.mark.parametrize("name", list(ZOO))
def test_still_requires_exp(name: str) -> None:
    with pytest.raises(MissingClaimError):
        run(name, forged(name, exp=None))


@pytest.mark.parametrize("name", list(ZOO))
@pytest.mark.parametrize("bad", ["not a token", "a.b", "Bearer x.y.z", 42])
def test_still_parses_strictly(name: str, bad: object) -> None:
    with pytest.raises(MalformedTokenError):
        run(name, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(ZOO))
def test_still_refuses_padding_on_a_segment(name: str) -> None:
    head, body, sig = forged(name).split(".")
    with pytest.raises(MalformedTokenError, match="padding"):
        run(name, f"{head}.{body}=.{sig}")


@pytest.mark.parametrize("name", list(ZOO))
def test_still_bounds_the_length(name: str) -> None:
    with pytest.raises(MalformedTokenError, match="over the limit of 100"):
        run(name, forged(name), max_length=100)


@pytest.mark.parametrize("name", list(ZOO))
def test_options_are_checked_like_labkit_verify(name: str) -> None:
    token = forged(name)
    with pytest.raises(ConfigurationError, match="unknown option 'verify_signature'"):
        run(name, token, verify_signature=False)
    with pytest.raises(ConfigurationError, match="algorithms must be a list"):
        run(name, token, algorithms="HS256")
    with pytest.raises(ConfigurationError, match="includes 'none'"):
        run(name, token, algorithms=["none"])


@pytest.mark.parametrize("name", list(ZOO))
def test_docstring_names_the_bug_and_its_incident(name: str) -> None:
    verifier = getattr(vulnerable, name)
    doc = verifier.__doc__ or ""
    assert doc.startswith("Bug: ")
    assert "CVE-" in doc or "PortSwigger" in doc
    assert name in vulnerable.__all__


# decode_without_verification ---------------------------------------------------------------------


def test_decode_without_verification_ignores_the_key_entirely() -> None:
    token = forged("decode_without_verification")
    verify = vulnerable.decode_without_verification
    assert verify(token, None, algorithms=["HS256"], **API) == ADMIN
    assert verify(examples.lab_token(), None, algorithms=["HS256"], **API) == examples.LAB_CLAIMS


# accept_alg_none ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_accept_alg_none_takes_every_casing(alg: str) -> None:
    token = tokens.encode({"alg": alg, "typ": "JWT"}, ADMIN)
    assert run("accept_alg_none", token) == ADMIN


def test_accept_alg_none_takes_an_empty_signature_under_a_real_alg() -> None:
    token = tokens.encode({"alg": "HS256", "typ": "JWT"}, ADMIN)
    assert run("accept_alg_none", token) == ADMIN


def test_accept_alg_none_still_checks_real_signatures() -> None:
    assert run("accept_alg_none", examples.lab_token()) == examples.LAB_CLAIMS
    tampered = forge_tampered(examples.lab_token(), ADMIN).token
    with pytest.raises(BadSignatureError):
        run("accept_alg_none", tampered)
    wrong = labkit.sign_token(ADMIN, b"x" * 32, "HS256")
    with pytest.raises(BadSignatureError):
        run("accept_alg_none", wrong)


def test_accept_alg_none_still_enforces_the_algorithm_list_for_signed_tokens() -> None:
    hs512 = labkit.sign_token(ADMIN, SECRET, "HS512")
    with pytest.raises(DisallowedAlgorithmError):
        run("accept_alg_none", hs512)


# accept_empty_secret -----------------------------------------------------------------------------


def test_accept_empty_secret_with_a_real_secret_is_the_hardened_verifier() -> None:
    verify = vulnerable.accept_empty_secret
    assert verify(examples.lab_token(), SECRET, algorithms=["HS256"], **API) == examples.LAB_CLAIMS
    with pytest.raises(BadSignatureError):
        verify(forged("accept_empty_secret"), SECRET, algorithms=["HS256"], **API)


@pytest.mark.parametrize("empty", ["", b""])
def test_accept_empty_secret_checks_the_empty_key_hmac(empty: str | bytes) -> None:
    verify = vulnerable.accept_empty_secret
    assert verify(forged("accept_empty_secret"), empty, algorithms=["HS256"], **API) == ADMIN
    with pytest.raises(BadSignatureError):  # signed with the real secret: not under ""
        verify(examples.lab_token(), empty, algorithms=["HS256"], **API)


def test_accept_empty_secret_still_refuses_none_and_other_algorithms() -> None:
    with pytest.raises(DisallowedAlgorithmError):
        run("accept_empty_secret", forge_none(ADMIN)[0].token)
    with pytest.raises(DisallowedAlgorithmError):
        run("accept_empty_secret", forge_empty_secret(ADMIN, alg="HS384").token)
    rs256 = labkit.sign_token(ADMIN, keys.demo_private_key("rsa"), "RS256")
    with pytest.raises(UnsafeKeyError):
        vulnerable.accept_empty_secret(rs256, "", algorithms=["RS256"], **API)


# alg_from_header ---------------------------------------------------------------------------------


def test_alg_from_header_verifies_honest_rs256_tokens() -> None:
    honest = labkit.sign_token(examples.LAB_CLAIMS, keys.demo_private_key("rsa"), "RS256")
    assert run("alg_from_header", honest) == examples.LAB_CLAIMS


def test_alg_from_header_lets_the_token_pick_an_algorithm_outside_the_list() -> None:
    ps256 = labkit.sign_token(ADMIN, keys.demo_private_key("rsa"), "PS256")
    assert run("alg_from_header", ps256) == ADMIN  # the list said RS256 only
    with pytest.raises(DisallowedAlgorithmError):
        labkit.verify(ps256, SPKI_PEM, algorithms=["RS256"], **API)


def test_alg_from_header_uses_the_key_bytes_exactly() -> None:
    pkcs1_forgery = forge_confusion(PKCS1_PEM, ADMIN)[0].token  # the PKCS#1 PEM as secret
    with pytest.raises(BadSignatureError):
        run("alg_from_header", pkcs1_forgery)  # the service holds the SPKI PEM
    assert vulnerable.alg_from_header(pkcs1_forgery, PKCS1_PEM, algorithms=["RS256"], **API)
    text = SPKI_PEM.decode()
    assert vulnerable.alg_from_header(forged("alg_from_header"), text, algorithms=["RS256"], **API)


def test_alg_from_header_takes_a_key_object_as_its_spki_pem() -> None:
    token = forged("alg_from_header")
    assert vulnerable.alg_from_header(token, RSA_PUBLIC, algorithms=["RS256"], **API) == ADMIN
    private = keys.demo_private_key("rsa")
    assert vulnerable.alg_from_header(token, private, algorithms=["RS256"], **API) == ADMIN
    with pytest.raises(UnsafeKeyError, match="cannot use an object of type int"):
        vulnerable.alg_from_header(token, 42, algorithms=["RS256"], **API)


@pytest.mark.parametrize("alg", ["none", "NONE", "HS999", ""])
def test_alg_from_header_still_refuses_none_and_unknown_algorithms(alg: str) -> None:
    token = tokens.encode({"alg": alg}, ADMIN, b"sig")
    with pytest.raises((DisallowedAlgorithmError, MalformedTokenError)):
        run("alg_from_header", token)


def test_alg_from_header_still_checks_crit_on_the_hmac_path() -> None:
    head = {"alg": "HS256", "crit": ["exp-ttl"], "exp-ttl": 60}
    data = tokens.signing_input(head, ADMIN)
    mac = hmac.new(SPKI_PEM, data, hashlib.sha256).digest()
    with pytest.raises(CriticalHeaderError):
        run("alg_from_header", tokens.encode(head, ADMIN, mac))


# accept_weak_secret ------------------------------------------------------------------------------


def test_accept_weak_secret_checks_the_short_secret_properly() -> None:
    assert run("accept_weak_secret", forged("accept_weak_secret")) == ADMIN
    other = labkit.sign_token(ADMIN, "secreT", "HS256")
    with pytest.raises(BadSignatureError):
        run("accept_weak_secret", other)


def test_accept_weak_secret_with_a_strong_secret_is_the_hardened_verifier() -> None:
    verify = vulnerable.accept_weak_secret
    assert verify(examples.lab_token(), SECRET, algorithms=["HS256"], **API) == examples.LAB_CLAIMS
    with pytest.raises(BadSignatureError):
        verify(forged("accept_weak_secret"), SECRET, algorithms=["HS256"], **API)


def test_accept_weak_secret_still_refuses_none_empty_keys_and_other_algorithms() -> None:
    with pytest.raises(DisallowedAlgorithmError):
        run("accept_weak_secret", forge_none(ADMIN)[1].token)
    with pytest.raises(DisallowedAlgorithmError):
        run("accept_weak_secret", labkit.sign_token(ADMIN, WEAK, "HS512"))
    with pytest.raises(UnsafeKeyError, match="non-empty"):
        vulnerable.accept_weak_secret(
            forged("accept_empty_secret"), "", algorithms=["HS256"], **API
        )


# source_of: what the notebooks print -------------------------------------------------------------


@pytest.mark.parametrize("name", list(ZOO))
def test_source_of_shows_the_body_with_the_bug_marked(name: str) -> None:
    code = vulnerable.source_of(getattr(vulnerable, name))
    assert code.startswith("checks = _Checks(") and "# THE BUG" in code
    assert '"""' not in code and not code.startswith(" ")


def test_source_of_refuses_anything_but_a_zoo_verifier() -> None:
    with pytest.raises(ConfigurationError, match=r"not a verifier of labkit\.vulnerable"):
        vulnerable.source_of(labkit.verify)
