"""The Python API: one-line errors (a busy port, as the CLI says it), and every mode serving."""

from __future__ import annotations

import socket

import pytest
import requests

from labkit.aws import server
from labkit.errors import ConfigurationError


def test_busy_port_is_a_configuration_error_not_an_exit() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = rf"port {port} on 127.0.0.1 is already in use"
        with pytest.raises(ConfigurationError, match=busy):
            server.listen(lambda environ, start: [], "127.0.0.1", port)


@pytest.mark.parametrize("mode", server.MODES)
def test_every_mode_serves_the_profile_to_a_logged_in_user(mode: str) -> None:
    with server.serve(mode=mode) as api:
        login = {"username": "bob", "password": "builder"}
        token = requests.post(f"{api.url}/login", json=login, timeout=10).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        profile = requests.get(f"{api.url}/api/profile", headers=auth, timeout=10)
        assert profile.json()["role"] == "admin"
        assert api.idp.openid_configuration()["jwks_uri"] == f"{api.url}/.well-known/jwks.json"


def test_rest_jwt_mode_discovers_before_serve_yields() -> None:
    # AWS reads the discovery document when the authorizer is created (rest-api-jwt-authorizer-
    # create page); serve() does so once it listens, so the first request finds the jwks_uri known.
    with server.serve(mode="rest-jwt") as api:
        jwt = api.gateway.jwt
        assert jwt.discover() == {api.idp.issuer: f"{api.url}/.well-known/jwks.json"}


def test_unknown_mode_is_one_line() -> None:
    with pytest.raises(ConfigurationError, match="mode must be one of rest, http, jwt, rest-jwt"):
        server.create_lab(mode="grpc")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sources", "second"),
    [
        (["$request.header.Authorization"], 403),  # the admin verdict, cached, answers /api/profile
        (["$request.header.Authorization", "$context.routeKey"], 200),  # one answer per route
    ],
)
def test_serve_passes_identity_sources_to_the_gateway(sources: list[str], second: int) -> None:
    # HTTP API simple responses: "To cache responses per route, add $context.routeKey to your
    # authorizer's identity sources" (Caching authorizer responses,
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html)
    with server.serve(mode="http", identity_sources=sources) as api:
        login = {"username": "alice", "password": "wonderland"}
        token = requests.post(f"{api.url}/login", json=login, timeout=10).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        admin = requests.get(f"{api.url}/api/admin", headers=auth, timeout=10)
        profile = requests.get(f"{api.url}/api/profile", headers=auth, timeout=10)
        assert (admin.status_code, profile.status_code) == (403, second)
        assert api.gateway.authorizer_calls == (1 if second == 403 else 2)


def test_the_token_is_read_from_the_header_whatever_the_identity_source_order() -> None:
    # identitySource lists the values in the configured order; with $context.routeKey first,
    # identitySource[0] is "GET /api/profile", not the token (http-api-lambda-authorizer page).
    sources = ["$context.routeKey", "$request.header.Authorization"]
    with server.serve(mode="http", identity_sources=sources) as api:
        login = {"username": "alice", "password": "wonderland"}
        token = requests.post(f"{api.url}/login", json=login, timeout=10).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        profile = requests.get(f"{api.url}/api/profile", headers=auth, timeout=10)
        assert (profile.status_code, profile.json()["sub"]) == (200, "alice")
        assert requests.get(f"{api.url}/api/profile", timeout=10).status_code == 401
