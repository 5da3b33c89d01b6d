"""authlib 1.9 as a real OpenID Connect relying party of the kit's provider, over loopback HTTP.

authlib's own client machinery (``OAuth2Mixin`` + ``OpenIDMixin``, what its
Flask, Django and Starlette integrations are built from, with its requests
``OAuth2Session``) reads the discovery document from ``server_metadata_url``,
runs the authorization-code flow with PKCE S256, redeems the code, and
validates the ID token with ``parse_id_token``: keys fetched from the
document's ``jwks_uri``, algorithms from ``id_token_signing_alg_values_supported``,
``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``azp``, ``at_hash`` (authlib's
CodeIDToken, on joserfc). The discovery document also passes authlib's RFC 8414
and OIDC Discovery metadata validation.

Then a bank of bad ID tokens: every one authlib refuses, ``labkit.oidc.verify_id_token``
refuses too; and the tokens only labkit refuses are named (``BEYOND_AUTHLIB``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import labkit
from labkit import algorithms, keys, oidc, tokens
from labkit.attacks import confusion
from labkit.aws import serve

with warnings.catch_warnings():  # authlib.integrations imports authlib.jose, deprecated in 1.9
    warnings.simplefilter("ignore")
    from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
    from authlib.oidc.discovery import OpenIDProviderMetadata

CLIENT, CALLBACK = "labkit-notebook", "http://127.0.0.1/callback"


class RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
    """authlib's framework-neutral OAuth 2 / OIDC client app, on requests."""

    client_cls = OAuth2Session


class _Framework:
    def update_token(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    with serve("hardened") as running:
        yield running


def relying_party(api: Any) -> RelyingParty:
    return RelyingParty(
        _Framework(),
        name="labkit",
        client_id=CLIENT,
        server_metadata_url=f"{api.url}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "none",
        },
    )


def login(api: Any, rp: RelyingParty) -> tuple[dict[str, Any], str]:
    """authlib's code flow: its authorization URL, the kit's login form, authlib's redemption."""
    started = rp.create_authorization_url(redirect_uri=CALLBACK)
    assert "code_challenge=" in started["url"] and "nonce=" in started["url"]
    form = {"username": "alice", "password": "wonderland"}
    answer = requests.post(started["url"], data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [started["state"]]
    token = rp.fetch_access_token(
        redirect_uri=CALLBACK, code=query["code"][0], code_verifier=started["code_verifier"]
    )
    return token, started["nonce"]


def test_discovery_passes_authlibs_metadata_validation(api: Any) -> None:
    document = requests.get(f"{api.url}/.well-known/openid-configuration", timeout=5).json()
    AuthorizationServerMetadata(document).validate()  # RFC 8414
    OpenIDProviderMetadata(document).validate()  # OIDC Discovery 1.0 section 3


def test_authlib_runs_the_code_flow_and_validates_the_id_token(api: Any) -> None:
    rp = relying_party(api)
    token, nonce = login(api, rp)
    assert labkit.parse(token["access_token"]).header["typ"] == "at+jwt"
    user = rp.parse_id_token(token, nonce=nonce)
    assert user["sub"] == "alice" and user["aud"] == CLIENT and user["nonce"] == nonce
    assert rp.server_metadata["jwks"] == api.idp.jwks()  # fetched from jwks_uri
    assert oidc.verify_id_token(
        token["id_token"],
        api.idp.jwks(),
        client_id=CLIENT,
        issuer=api.idp.issuer,
        nonce=nonce,
        access_token=token["access_token"],
    )
    refreshed = rp.fetch_access_token(
        grant_type="refresh_token", refresh_token=token["refresh_token"]
    )
    assert labkit.parse(refreshed["access_token"]).payload["client_id"] == CLIENT


# The bank of ID tokens ---------------------------------------------------------------------------


def bank(api: Any, good: dict[str, Any], access: str, nonce: str) -> dict[str, str]:
    """ID tokens a client may be handed: three right ones, the rest wrong in one way each."""
    idp, now = api.idp, good["iat"]
    key, kid = idp.signing_key.private, idp.kid
    other = keys.demo_private_key("rsa-2")

    def signed(claims: dict[str, Any], **header: Any) -> str:
        return algorithms.sign_token(claims, key, "RS256", headers={"kid": kid, **header})

    def edit(**changes: Any) -> str:
        claims = {**good, **changes}
        return signed({k: v for k, v in claims.items() if v is not _DROP})

    def raw(payload: str) -> str:
        head = tokens.b64url_encode(json.dumps({"alg": "RS256", "kid": kid}).encode())
        body = tokens.b64url_encode(payload.encode())
        signature = algorithms.sign("RS256", key, f"{head}.{body}".encode())
        return f"{head}.{body}.{tokens.b64url_encode(signature)}"

    genuine = signed(good)
    head, body, sig = genuine.split(".")
    signature = bytearray(tokens.b64url_decode(sig))
    signature[-1] ^= 1
    flipped = tokens.b64url_encode(bytes(signature))
    confused = confusion.forge_confusion(idp.jwks(), good, header={"kid": kid})[0].token
    return {
        "right: as issued": genuine,
        "right: aud as a one-element list": edit(aud=[CLIENT]),
        "right: no at_hash": edit(at_hash=_DROP),
        "signature bit flipped": f"{head}.{body}.{flipped}",
        "signed by another key under the IdP's kid": algorithms.sign_token(
            good, other, "RS256", headers={"kid": kid}
        ),
        "unknown kid": algorithms.sign_token(good, other, "RS256", headers={"kid": "nope"}),
        "alg none": tokens.encode({"alg": "none", "kid": kid}, good, b""),
        "HS256 keyed with the public key": confused,
        "expired an hour ago": edit(exp=now - 3600, iat=now - 7200),
        "expired a minute ago": edit(exp=now - 60, iat=now - 960),
        "issued in the future": edit(iat=now + 3600, exp=now + 4500),
        "not valid before an hour from now": edit(nbf=now + 3600),
        "another issuer": edit(iss="https://evil.example"),
        "issuer with a trailing slash": edit(iss=idp.issuer + "/"),
        "another audience": edit(aud="partner-dashboard"),
        "two audiences and no azp": edit(aud=[CLIENT, "labkit-api"], azp=_DROP),
        "azp another client": edit(azp="partner-dashboard"),
        "nonce of another login": edit(nonce="an-old-login"),
        "no nonce": edit(nonce=_DROP),
        "at_hash of another token": edit(at_hash=oidc.at_hash("another", "RS256")),
        "no exp": edit(exp=_DROP),
        "no iat": edit(iat=_DROP),
        "no sub": edit(sub=_DROP),
        "exp as a string": edit(exp=str(good["exp"])),
        "typed at+jwt (an access token)": signed(good, typ="at+jwt"),
        "unknown critical header": signed(good, crit=["labkit-x"], **{"labkit-x": 1}),
        "duplicate sub member": raw(json.dumps(good)[:-1] + ', "sub": "bob"}'),
        "the access token itself": access,
    }


_DROP = object()

BEYOND_AUTHLIB = {
    # authlib's validate_aud returns early without an "aud" claims option, and parse_id_token
    # passes only "iss": an ID token for another client passes if azp names this one (OIDC Core
    # 3.1.3.7 item 3 says the client MUST check aud; seen in apache/airflow#70825 and #69948).
    "another audience": "aud is not this client: authlib compares aud only when told to",
    "expired a minute ago": "authlib's parse_id_token allows 120 s of leeway; labkit 0 by default",
    "typed at+jwt (an access token)": "RFC 9068 2.1: an at+jwt token is an access token",
    "duplicate sub member": "two 'sub' members: which one is the user? (RFC 7519 section 4)",
}
"""What labkit refuses that authlib 1.9.10 accepts, and why."""


def authlib_verdict(rp: RelyingParty, token: str, access: str, nonce: str) -> bool:
    try:
        rp.parse_id_token({"id_token": token, "access_token": access}, nonce=nonce)
    except Exception:  # any refusal of authlib's (joserfc errors, ValueError, ...)
        return False
    return True


def labkit_verdict(api: Any, token: str, access: str, nonce: str) -> bool:
    try:
        oidc.verify_id_token(
            token,
            api.idp.jwks(),
            client_id=CLIENT,
            issuer=api.idp.issuer,
            nonce=nonce,
            access_token=access,
        )
    except labkit.InvalidTokenError:
        return False
    return True


def test_labkit_refuses_every_id_token_authlib_refuses_and_names_what_else(api: Any) -> None:
    rp = relying_party(api)
    token, nonce = login(api, rp)
    access, good = token["access_token"], labkit.parse(token["id_token"]).payload
    verdicts: dict[str, tuple[bool, bool]] = {}
    for name, candidate in bank(api, good, access, nonce).items():
        verdicts[name] = (
            authlib_verdict(rp, candidate, access, nonce),
            labkit_verdict(api, candidate, access, nonce),
        )
    right = {name for name in verdicts if name.startswith("right")}
    assert all(verdicts[name] == (True, True) for name in right), verdicts
    for name, (by_authlib, by_labkit) in verdicts.items():
        if not by_authlib:
            assert not by_labkit, f"authlib refuses {name!r}, labkit accepts it"
    beyond = {name for name, v in verdicts.items() if v == (True, False)}
    assert beyond == set(BEYOND_AUTHLIB), verdicts
    refused_by_both = [name for name, v in verdicts.items() if v == (False, False)]
    assert len(refused_by_both) >= 20
    print(
        f"\nID tokens: {len(right)} validated by both, {len(refused_by_both)} refused by both, "
        f"{len(beyond)} refused by labkit only"
    )


def test_the_id_token_from_the_flow_unlocks_nothing_at_the_api(api: Any) -> None:
    token, _ = login(api, relying_party(api))

    def call(bearer: str) -> int:
        headers = {"Authorization": f"Bearer {bearer}"}
        return requests.get(f"{api.url}/api/profile", headers=headers, timeout=5).status_code

    assert call(token["access_token"]) == 200
    assert call(token["id_token"]) == 401
