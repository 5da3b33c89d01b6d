"""ECDSA malleability (issue 12): an ES256 (r, s) has a twin (r, n - s) that verifies too.

The twin is the same claims under another string. Both verify with ``labkit.verify`` (JWS
does not ask for a low s), so anything keyed on the token string can be walked around; the
local IdP's deny-list keys on ``jti``, so the twin of a logged-out token is refused. Shown
over real HTTP against the preset whose IdP signs ES256, and in-process against the IdP
with the hardened verifier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests

import labkit
import labkit.aws
from labkit import algorithms, ecdsa, keys, tokens
from labkit.attacks.malleability import malleate, twin_signature
from labkit.aws import FrozenClock
from labkit.aws.idp import IdentityProvider
from labkit.errors import DisallowedAlgorithmError, MalformedTokenError

NOW = dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.timezone.utc)
API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local"}


@pytest.fixture(scope="module")
def es256_api() -> Iterator[labkit.aws.Api]:
    """The local API whose IdP signs ES256 (preset psychic-signature), no authorizer cache."""
    with labkit.aws.serve("psychic-signature", clock=FrozenClock(NOW), cache_ttl=0) as api:
        yield api


def login(api: labkit.aws.Api) -> str:
    body = {"username": "alice", "password": "wonderland"}
    return requests.post(f"{api.url}/login", json=body, timeout=5).json()["access_token"]


def get_profile(api: labkit.aws.Api, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{api.url}/api/profile", headers=headers, timeout=5).status_code


def test_ecdsa_malleability_twin_verifies_with_the_same_claims(es256_api: labkit.aws.Api) -> None:
    token = login(es256_api)
    twin = malleate(token).token
    original, copy = tokens.parse(token), tokens.parse(twin)
    assert twin != token and copy.signature != original.signature
    assert (copy.header, copy.payload) == (original.header, original.payload)
    r, s = (int.from_bytes(original.signature[i : i + 32], "big") for i in (0, 32))
    assert copy.signature == r.to_bytes(32, "big") + (ecdsa.N - s).to_bytes(32, "big")
    jwks = es256_api.idp.jwks()
    now = original.payload["iat"]
    assert labkit.verify(token, jwks, algorithms=["ES256"], now=now, **API) == original.payload
    assert labkit.verify(twin, jwks, algorithms=["ES256"], now=now, **API) == original.payload
    public = es256_api.idp.public_key()
    assert ecdsa.verify(copy.signing_input, copy.signature, public)  # the hand-rolled math agrees
    assert malleate(twin).token == token  # the twin's twin is the original


def test_ecdsa_malleability_bypasses_a_deny_list_of_token_strings(
    es256_api: labkit.aws.Api,
) -> None:
    token = login(es256_api)
    revoked_strings = {token}  # the mistake: revoking the string, not the token's jti
    twin = malleate(token).token
    assert twin not in revoked_strings
    assert get_profile(es256_api, twin) == 200  # a valid token the string list never names


def test_ecdsa_malleability_twin_of_a_logged_out_token_is_refused(
    es256_api: labkit.aws.Api,
) -> None:
    token = login(es256_api)
    twin = malleate(token).token
    assert get_profile(es256_api, token) == 200
    assert get_profile(es256_api, twin) == 200
    headers = {"Authorization": f"Bearer {token}"}
    logout = requests.post(f"{es256_api.url}/logout", headers=headers, timeout=5)
    assert logout.status_code == 200
    jti = tokens.parse(token).payload["jti"]
    assert logout.json()["revoked"] == [jti]
    assert get_profile(es256_api, token) == 401
    assert get_profile(es256_api, twin) == 401
    assert "revoked" in es256_api.gateway.log[-1].reason
    assert es256_api.idp.is_revoked(tokens.parse(twin).payload["jti"])


def test_ecdsa_malleability_logging_out_the_twin_revokes_the_original(
    es256_api: labkit.aws.Api,
) -> None:
    token = login(es256_api)
    twin = malleate(token).token
    headers = {"Authorization": f"Bearer {twin}"}
    assert requests.post(f"{es256_api.url}/logout", headers=headers, timeout=5).status_code == 200
    assert get_profile(es256_api, token) == 401


def test_ecdsa_malleability_with_the_hardened_verifier_and_the_idp_deny_list() -> None:
    """In-process: labkit.verify (not the preset's flawed verifier) plus the IdP's jti list."""
    clock = FrozenClock(NOW)
    idp = IdentityProvider(alg="ES256", clock=clock)
    token = idp.login("alice", "wonderland")["access_token"]
    twin = malleate(token).token

    def authorize(candidate: str) -> bool:
        claims = labkit.verify(candidate, idp.jwks(), algorithms=["ES256"], now=clock(), **API)
        return not idp.is_revoked(claims["jti"])

    assert authorize(token) and authorize(twin)
    idp.logout(token)
    assert not authorize(token)
    assert not authorize(twin)


def test_ecdsa_malleability_needs_an_es256_token_with_a_valid_s() -> None:
    rs256 = algorithms.sign_token({"sub": "x"}, keys.demo_private_key("rsa"), "RS256")
    with pytest.raises(DisallowedAlgorithmError):
        malleate(rs256)
    with pytest.raises(MalformedTokenError):
        twin_signature(bytes(64))  # s = 0: no twin, and no valid signature either
    with pytest.raises(MalformedTokenError):
        twin_signature(bytes(63))
    with pytest.raises(MalformedTokenError):
        malleate("not a token")
