"""Each vulnerable preset has its one flaw, exploitable over HTTP; the hardened preset refuses.

Every attack is proven twice: the forged admin token gets ``GET /api/admin`` -> 200 from its
preset's gateway, and 401 from the hardened gateway; ``labkit.verify`` refuses it too, with the
error that names why. The forgers are ``labkit.attacks``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization

import labkit
from labkit.attacks import confusion, crack, injection, none, psychic
from labkit.aws import FrozenClock, presets, serve
from labkit.aws.server import Api
from labkit.errors import (
    BadSignatureError,
    DisallowedAlgorithmError,
    InvalidTokenError,
    KeyNotFoundError,
    UnsafeKeyError,
)

NOW = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)
T = int(NOW.timestamp())
ADMIN = {
    "iss": "https://idp.labkit.local",
    "sub": "mallory",
    "aud": "labkit-api",
    "iat": T,
    "exp": T + 600,
    "jti": "forged-1",
    "role": "admin",
    "scope": "profile predict",
}
VERIFY = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": NOW}


@pytest.fixture(scope="module")
def hardened() -> Iterator[Api]:
    with serve(clock=FrozenClock(NOW), cache_ttl=0) as api:
        yield api


def admin(api: Api, token: str) -> requests.Response:
    return requests.get(
        f"{api.url}/api/admin", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def alice_token(api: Api) -> str:
    body = {"username": "alice", "password": "wonderland"}
    return requests.post(f"{api.url}/login", json=body, timeout=10).json()["access_token"]


def jwks_of(api: Api) -> dict:
    return requests.get(f"{api.url}/.well-known/jwks.json", timeout=10).json()


# One forger per preset: (api) -> (forged tokens, how labkit.verify must refuse the first) ------


def _unverified(api: Api) -> tuple[list[str], Callable[[str], Any], type]:
    forged = none.forge_tampered(alice_token(api), ADMIN).token
    jwks = jwks_of(api)
    return (
        [forged],
        lambda t: labkit.verify(t, jwks, algorithms=["RS256"], **VERIFY),
        BadSignatureError,
    )


def _alg_none(api: Api) -> tuple[list[str], Callable[[str], Any], type]:
    forged = [f.token for f in none.forge_none(ADMIN)]
    jwks = jwks_of(api)
    return (
        forged,
        lambda t: labkit.verify(t, jwks, algorithms=["RS256"], **VERIFY),
        DisallowedAlgorithmError,
    )


def _weak_secret(api: Api) -> tuple[list[str], Callable[[str], Any], type]:
    found = crack.crack(crack.Target.from_token(alice_token(api)))
    assert found.text == presets.WEAK_SECRET  # the bundled wordlist finds it
    forged = labkit.sign_token(ADMIN, found.text, "HS256")
    secret = found.text
    return (
        [forged],
        lambda t: labkit.verify(t, secret, algorithms=["HS256"], **VERIFY),
        UnsafeKeyError,
    )


def _key_confusion(api: Api) -> tuple[list[str], Callable[[str], Any], type]:
    jwks = jwks_of(api)
    forged = [f.token for f in confusion.forge_confusion(jwks, ADMIN)]
    public = labkit.keys.from_jwk(jwks["keys"][0])
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return (
        forged,
        lambda t: labkit.verify(t, pem, algorithms=["RS256"], **VERIFY),
        DisallowedAlgorithmError,
    )


def _jwk_injection(api: Api) -> tuple[list[str], Callable[[str], Any], type]:
    forged = injection.forge_jwk(ADMIN).token
    jwks = jwks_of(api)
    return (
        [forged],
        lambda t: labkit.verify(t, jwks, algorithms=["RS256"], **VERIFY),
        KeyNotFoundError,
    )


def _kid_traversal(api: Api) -> tuple[list[str], Callable[[str], Any], type]:
    forged = injection.forge_kid_traversal(ADMIN).token
    store_jwks = {"keys": [{"kty": "oct", "kid": "2026-02", "k": labkit.b64url_encode(b"s" * 64)}]}
    return (
        [forged],
        lambda t: labkit.verify(t, store_jwks, algorithms=["HS256"], **VERIFY),
        KeyNotFoundError,
    )


def _psychic(api: Api) -> tuple[list[str], Callable[[str], Any], type]:
    forged = psychic.forge(ADMIN, header={"kid": api.idp.kid}).token
    public = api.idp.public_key()
    return (
        [forged],
        lambda t: labkit.verify(t, public, algorithms=["ES256"], **VERIFY),
        BadSignatureError,
    )


FORGERS = {
    "unverified-signature": _unverified,
    "alg-none": _alg_none,
    "weak-secret": _weak_secret,
    "key-confusion": _key_confusion,
    "jwk-injection": _jwk_injection,
    "kid-traversal": _kid_traversal,
    "psychic-signature": _psychic,
}


@pytest.mark.parametrize("name", sorted(FORGERS))
def test_each_preset_flaw_is_exploitable_and_the_hardened_preset_refuses(
    name: str, hardened: Api
) -> None:
    with serve(name, clock=FrozenClock(NOW), cache_ttl=0) as api:
        forged, hardened_verify, error = FORGERS[name](api)
        accepted = [token for token in forged if admin(api, token).status_code == 200]
        assert accepted, f"{name}: no forged token got in"
        assert admin(api, accepted[0]).json() == {
            "sub": "mallory",
            "role": "admin",
            "secret": "the admin panel",
        }
        for token in forged:
            refused = admin(hardened, token)
            assert (refused.status_code, refused.json()) == (401, {"message": "Unauthorized"})
        with pytest.raises(error):
            hardened_verify(accepted[0])


def test_jku_injection_fetches_the_attackers_keys(hardened: Api) -> None:
    with (
        serve("jku-injection", clock=FrozenClock(NOW), cache_ttl=0) as api,
        injection.serve_jwks(injection.attacker_jwks(kid=hardened.idp.kid)) as attacker,
    ):
        assert api.idp.kid == hardened.idp.kid  # the same demo key: copy its kid, look honest
        forged = injection.forge_jku(ADMIN, attacker.url, kid=api.idp.kid).token
        response = admin(api, forged)
        assert response.status_code == 200, api.gateway.log[-1]
        assert attacker.requests == ["/.well-known/jwks.json"]  # the service came to fetch them
        assert admin(hardened, forged).status_code == 401
        assert attacker.requests == ["/.well-known/jwks.json"]  # the hardened one never did
        with pytest.raises(BadSignatureError, match="jku"):
            labkit.verify(forged, jwks_of(hardened), algorithms=["RS256"], **VERIFY)


def test_jwk_injection_uses_the_embedded_key_whatever_the_kid(hardened: Api) -> None:
    """CVE-2018-0114: node-jose verified with header.jwk and compared no kid (before 0.11.0).

    The forgeries jwt_tool's "Injected JWKS (-X i)" probe sends: the token's own kid kept while
    the key rides under kid "jwt_tool"; and tokens with no kid at all.
    """
    attacker = injection.attacker_key()
    with serve("jwk-injection", clock=FrozenClock(NOW), cache_ttl=0) as api:
        jwk = labkit.keys.to_jwk(attacker.public_key(), kid="jwt_tool")
        no_kid_jwk = {k: v for k, v in jwk.items() if k != "kid"}
        forged = [
            injection.forge_jwk(ADMIN, kid=api.idp.kid).token,
            labkit.sign_token(ADMIN, attacker, "RS256", headers={"kid": api.idp.kid, "jwk": jwk}),
            labkit.sign_token(ADMIN, attacker, "RS256", headers={"jwk": jwk}),
            labkit.sign_token(ADMIN, attacker, "RS256", headers={"jwk": no_kid_jwk}),
        ]
        for token in forged:
            assert admin(api, token).status_code == 200, api.gateway.log[-1]
            assert admin(hardened, token).status_code == 401
            with pytest.raises((BadSignatureError, KeyNotFoundError)):
                labkit.verify(token, jwks_of(hardened), algorithms=["RS256"], **VERIFY)


def test_jku_injection_looks_the_fetched_key_up_by_kid(hardened: Api) -> None:
    """The key selection the jku preset models: the served set is searched by the token's kid."""
    with (
        serve("jku-injection", clock=FrozenClock(NOW), cache_ttl=0) as api,
        injection.serve_jwks(injection.attacker_jwks(kid="jwt_tool")) as attacker,
    ):
        wrong_kid = injection.forge_jku(ADMIN, attacker.url, kid=api.idp.kid).token
        assert admin(api, wrong_kid).status_code == 401  # fetched, but no key under that kid
        assert attacker.requests == ["/.well-known/jwks.json"]
        right_kid = injection.forge_jku(ADMIN, attacker.url, kid="jwt_tool").token
        assert admin(api, right_kid).status_code == 200
        assert admin(hardened, right_kid).status_code == 401


@pytest.mark.parametrize("name", [p.name for p in presets.available()])
def test_every_preset_is_otherwise_the_hardened_service(name: str) -> None:
    """Honest tokens work; a tampered honest token, an expired one, a foreign audience do not."""
    clock = FrozenClock(NOW)
    with serve(name, clock=clock, cache_ttl=0) as api:
        token = alice_token(api)
        profile = requests.get(
            f"{api.url}/api/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert profile.json()["sub"] == "alice"
        assert admin(api, token).status_code == 403  # alice is no admin on any preset
        foreign = api.idp.issue("alice", "admin", ("profile",), aud="labkit-billing")
        audience_is_the_flaw = name in ("id-token-accepted", "audience-not-checked")
        assert admin(api, foreign).status_code == (200 if audience_is_the_flaw else 401)
        requests.post(f"{api.url}/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert admin(api, token).status_code == 401  # revocation works everywhere
        clock.advance(901)
        assert (
            admin(api, api.idp.issue("bob", "admin", ("profile",), exp=T + 900)).status_code == 401
        )


def test_preset_list_has_the_eighteen_presets_in_order() -> None:
    assert [p.name for p in presets.available()] == [
        "hardened",
        "unverified-signature",
        "alg-none",
        "weak-secret",
        "key-confusion",
        "jwk-injection",
        "jku-injection",
        "kid-traversal",
        "psychic-signature",
        "cookie-no-csrf",
        "fingerprint-ignored",
        "id-token-accepted",
        "typ-not-checked",
        "audience-not-checked",
        "dpop-optional",
        "dpop-no-replay-check",
        "dpop-no-ath",
        "dpop-no-htu",
    ]
    assert all(p.summary and "\n" not in p.summary for p in presets.available())


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(labkit.ConfigurationError, match="hardened, unverified-signature"):
        presets.get("nope")


def test_forged_tokens_never_raise_anything_but_invalid_token_in_the_hardened_authorizer(
    hardened: Api,
) -> None:
    authorizer = hardened.lab.authorizer
    assert isinstance(authorizer, labkit.aws.Authorizer)
    tokens = [f.token for f in none.forge_none(ADMIN)] + [
        injection.forge_jwk(ADMIN).token,
        injection.forge_kid_traversal(ADMIN).token,
        injection.forge_kid_sql(ADMIN).token,
        psychic.forge(ADMIN).token,
    ]
    for token in tokens:
        with pytest.raises(InvalidTokenError):
            authorizer.claims(token)
