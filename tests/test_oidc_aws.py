"""AWS's JWT authorizers and the kit's OIDC provider: one discovery document, what passes.

Neither authorizer reads ``typ`` (AWS: "There is no standard mechanism to
differentiate JWT access tokens from other types of JWTs, such as OpenID Connect
ID tokens", http-api-jwt-authorizer.html). So: the ``at+jwt`` access token
passes; an ID token issued to another client fails the audience check; an ID
token whose ``aud`` is the configured audience passes a route without scopes and
fails one that requires a scope (an ID token carries none), as AWS recommends.
"""

from __future__ import annotations

import pytest
import requests

from labkit import oidc
from labkit.aws import FrozenClock, serve
from labkit.aws.jwt_authorizer import JwtAuthorizer


def call(api, path: str, token: str, method: str = "GET") -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(
        method, f"{api.url}{path}", headers=headers, json={"text": "hi"}, timeout=5
    ).status_code


@pytest.mark.parametrize("mode", ["jwt", "rest-jwt"])
def test_jwt_authorizers_and_oidc_tokens(mode: str) -> None:
    with serve("hardened", mode=mode) as api:
        document = requests.get(f"{api.url}/.well-known/openid-configuration", timeout=5).json()
        if mode == "rest-jwt":  # the REST authorizer found the keys through this very document
            assert api.gateway.jwt.discover() == {document["issuer"]: document["jwks_uri"]}
        bob = oidc.code_flow(api.url, username="bob", password="builder", scope="openid predict")
        console = oidc.code_flow(
            api.url, client_id="labkit-api", username="bob", password="builder"
        )
        assert call(api, "/api/profile", bob["access_token"]) == 200
        assert call(api, "/api/predict", bob["access_token"], "POST") == 200
        assert call(api, "/api/profile", bob["id_token"]) == 401  # aud labkit-notebook
        # AWS does not check typ: an ID token with the configured aud opens a scope-less route,
        assert call(api, "/api/profile", console["id_token"]) == 200
        # and a route that requires a scope refuses it (403): AWS's recommended defence.
        assert call(api, "/api/predict", console["id_token"], "POST") == 403


def test_http_authorizer_from_the_discovery_document() -> None:
    clock = FrozenClock(1_767_258_000)
    with serve("hardened", mode="jwt", clock=clock) as api:
        made = JwtAuthorizer.from_discovery(api.url, (api.idp.audience,))
        assert made.issuer == api.idp.issuer
        token = oidc.code_flow(api.url)
        assert made.check(token["access_token"], (), clock).ok
        assert made.keys.fetches == 1  # fetched from jwks_uri over HTTP
        assert made.check(token["id_token"], (), clock).status == 401


def test_the_http_api_mode_is_set_up_from_the_discovery_document() -> None:
    """serve(mode="jwt") builds its authorizer as AWS does: issuer and jwks_uri from the document,
    keys over real HTTP (the same document the REST mode and authlib read)."""
    clock = FrozenClock(1_767_258_000)
    with serve("hardened", mode="jwt", clock=clock) as api:
        document = requests.get(f"{api.url}/.well-known/openid-configuration", timeout=5).json()
        jwt = api.gateway.jwt
        assert isinstance(jwt, JwtAuthorizer) and jwt.issuer == document["issuer"]
        assert jwt.jwks != api.idp.jwks  # not handed the IdP's keys in-process
        assert jwt.keys.fetches == 0  # nothing fetched until a token needs a key
        token = oidc.code_flow(api.url)["access_token"]
        assert call(api, "/api/profile", token) == 200
        assert jwt.keys.fetches == 1  # from jwks_uri, over HTTP
