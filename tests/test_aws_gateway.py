"""The local API Gateway over real HTTP: every status and body, the cache, revocation, rotation.

Each test starts the gateway on 127.0.0.1 with an ephemeral port and a frozen clock, and
talks to it with ``requests``, as a client of API Gateway would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import labkit
from labkit.attacks.none import forge_none
from labkit.aws import FrozenClock, article, serve
from labkit.aws.gateway import EXPLICIT_DENY, IMPLICIT_DENY
from labkit.aws.server import Api, create_lab
from labkit.errors import ConfigurationError

NOW = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)
UNAUTHORIZED = {"message": "Unauthorized"}


@pytest.fixture
def api(clock: FrozenClock) -> Iterator[Api]:
    with serve(clock=clock) as running:
        yield running


def login(api: Api, user: str = "alice", password: str | None = None, **extra: Any) -> dict:
    password = password or {"alice": "wonderland", "bob": "builder"}[user]
    response = requests.post(
        f"{api.url}/login", json={"username": user, "password": password, **extra}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def call(api: Api, path: str, token: str | None = None, method: str = "GET", **kw: Any):
    headers = kw.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, f"{api.url}{path}", headers=headers, timeout=10, **kw)


# The HTTP contract -------------------------------------------------------------------------------


def test_server_binds_loopback_on_an_ephemeral_port(api: Api) -> None:
    assert api.url.startswith("http://127.0.0.1:")
    assert int(api.url.rsplit(":", 1)[1]) > 0
    assert call(api, "/api/health").json() == {"status": "ok"}


def test_login_returns_a_bearer_token_with_role_and_scopes(api: Api) -> None:
    body = login(api)
    assert set(body) >= {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    claims = labkit.verify(
        body["access_token"],
        requests.get(f"{api.url}/.well-known/jwks.json", timeout=10).json(),
        algorithms=["RS256"],
        audience="labkit-api",
        issuer="https://idp.labkit.local",
        now=NOW,
    )
    assert (claims["sub"], claims["role"], claims["scope"]) == ("alice", "reader", "profile")
    assert claims["exp"] - claims["iat"] == 900
    assert isinstance(claims["jti"], str)


def test_profile_answers_sub_and_role(api: Api) -> None:
    response = call(api, "/api/profile", login(api)["access_token"])
    assert response.status_code == 200
    assert response.json() == {"sub": "alice", "role": "reader", "scopes": ["profile"]}


def test_admin_is_for_admins_and_alice_meets_an_explicit_deny(api: Api) -> None:
    alice = call(api, "/api/admin", login(api)["access_token"])
    assert alice.status_code == 403
    assert alice.json() == EXPLICIT_DENY
    # The wording real REST APIs send since at least 2024 (issue 13), byte for byte.
    assert alice.text == (
        '{"Message":"User is not authorized to access this resource with an explicit deny'
        ' in an identity-based policy"}'
    )
    assert alice.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    bob = call(api, "/api/admin", login(api, "bob")["access_token"])
    assert bob.status_code == 200
    assert bob.json()["role"] == "admin"


def test_predict_needs_the_predict_scope(api: Api) -> None:
    text = {"text": "I love how fast and secure this is"}
    alice = call(api, "/api/predict", login(api)["access_token"], "POST", json=text)
    assert alice.status_code == 403
    assert alice.json() == IMPLICIT_DENY
    bob = call(api, "/api/predict", login(api, "bob")["access_token"], "POST", json=text)
    assert bob.status_code == 200
    assert bob.json() == {
        "model": "toy-sentiment-1",
        "label": "positive",
        "score": 0.9747,
        "evidence": {"love": 2.0, "fast": 0.75, "secure": 1.0},
        "sub": "bob",
    }
    narrow = login(api, "bob", scope="profile")["access_token"]  # least privilege: ask for less
    assert call(api, "/api/predict", narrow, "POST", json=text).json() == IMPLICIT_DENY


def test_predict_is_deterministic_and_validates_its_input(api: Api) -> None:
    token = login(api, "bob")["access_token"]
    answers = {
        call(api, "/api/predict", token, "POST", json={"text": "bad slow"}).text for _ in "ab"
    }
    assert len(answers) == 1
    assert '"label": "negative"' in answers.pop()
    for body in ({"text": ""}, {"text": 5}, {"words": "x"}, [1, 2]):
        response = call(api, "/api/predict", token, "POST", json=body)
        assert response.status_code == 400, body
    assert call(api, "/api/predict", token, "POST", data=b"not json").status_code == 400
    too_long = call(api, "/api/predict", token, "POST", json={"text": "good " * 500})
    assert too_long.status_code == 413


def test_missing_or_empty_identity_source_is_401_without_calling_the_authorizer(api: Api) -> None:
    before = api.gateway.authorizer_calls
    for headers in ({}, {"Authorization": ""}):
        response = call(api, "/api/profile", headers=headers)
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
        assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert api.gateway.authorizer_calls == before
    assert api.gateway.log[-1].outcome == "missing identity source"


def test_invalid_and_expired_tokens_are_401(clock: FrozenClock) -> None:
    with serve(clock=clock, cache_ttl=0) as api:
        token = login(api)["access_token"]
        forged = labkit.parse(token)
        tampered = labkit.encode(
            forged.header, {**forged.payload, "role": "admin"}, forged.signature
        )
        assert call(api, "/api/admin", tampered).json() == UNAUTHORIZED
        assert "signature does not match" in api.gateway.log[-1].reason
        clock.advance(900)
        expired = call(api, "/api/profile", token)
        assert (expired.status_code, expired.json()) == (401, UNAUTHORIZED)
        assert "expired" in api.gateway.log[-1].reason


def test_unknown_route_is_missing_authentication_token(api: Api) -> None:
    for method, path in (("GET", "/nope"), ("DELETE", "/api/profile"), ("GET", "/login")):
        response = call(api, path, method=method)
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}


def _context_with_object(event: dict, context: object) -> dict:
    policy = labkit.aws.AuthPolicy.for_arn("alice", event["methodArn"]).allow_all().build()
    return {**policy, "context": {"roles": ["reader"]}}  # an array: API Gateway refuses it


def _crashes(event: dict, context: object) -> dict:
    raise ValueError("the authorizer has a bug")


def _no_principal(event: dict, context: object) -> dict:
    return {"policyDocument": article.generate_policy("u", "Allow", "*")["policyDocument"]}


@pytest.mark.parametrize("broken", [_context_with_object, _crashes, _no_principal])
def test_a_broken_authorizer_is_500_with_a_null_message(broken: Any, clock: FrozenClock) -> None:
    with serve(clock=clock, authorizer=broken) as api:
        response = call(api, "/api/profile", "anything")
        assert response.status_code == 500
        assert response.text == '{"message":null}'
        assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
        assert api.gateway.log[-1].outcome == "authorizer error"


def test_token_validation_expression_refuses_before_the_authorizer(clock: FrozenClock) -> None:
    pattern = r"Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    with serve(clock=clock, token_validation=pattern) as api:
        assert (
            call(api, "/api/profile", headers={"Authorization": "Basic YWxpY2U="}).status_code
            == 401
        )
        assert api.gateway.authorizer_calls == 0
        assert call(api, "/api/profile", login(api)["access_token"]).status_code == 200
        assert api.gateway.authorizer_calls == 1


# The policy cache --------------------------------------------------------------------------------


def test_cache_hit_miss_and_ttl_expiry_on_the_gateway_clock(api: Api, clock: FrozenClock) -> None:
    token = login(api)["access_token"]
    seen = [call(api, "/api/profile", token).headers["x-labkit-authorizer-cache"] for _ in range(3)]
    assert seen == ["miss", "hit", "hit"]
    assert api.gateway.authorizer_calls == 1
    clock.advance(299)
    assert call(api, "/api/profile", token).headers["x-labkit-authorizer-cache"] == "hit"
    clock.advance(1)  # 300 s after the first call: the cached policy is gone
    assert call(api, "/api/profile", token).headers["x-labkit-authorizer-cache"] == "miss"
    assert api.gateway.authorizer_calls == 2
    stats = api.gateway.cache.stats
    assert (stats.hits, stats.misses) == (3, 2)


def test_a_cached_policy_covers_every_path_for_its_token(api: Api) -> None:
    token = login(api)["access_token"]
    assert call(api, "/api/profile", token).status_code == 200
    admin = call(api, "/api/admin", token)
    assert (admin.status_code, admin.headers["x-labkit-authorizer-cache"]) == (403, "hit")
    assert admin.json() == EXPLICIT_DENY


def test_ttl_zero_disables_the_cache(clock: FrozenClock) -> None:
    with serve(clock=clock, cache_ttl=0) as api:
        token = login(api)["access_token"]
        for _ in range(3):
            assert call(api, "/api/profile", token).headers["x-labkit-authorizer-cache"] == "miss"
        assert api.gateway.authorizer_calls == 3


@pytest.mark.parametrize("ttl", [-1, 3601, True, "300"])
def test_ttl_must_be_0_to_3600(ttl: object) -> None:
    with pytest.raises(ConfigurationError):
        create_lab(cache_ttl=ttl)  # type: ignore[arg-type]


def test_errors_are_not_cached(api: Api) -> None:
    for _ in range(2):
        assert call(api, "/api/profile", "not-a-token").status_code == 401
    assert api.gateway.authorizer_calls == 2


def test_pitfall_a_policy_for_one_method_arn_denies_the_next_path() -> None:
    """The source article's authorizer names only event.methodArn; the cache reuses it.

    PyJWT inside the article's handler reads the real clock, so this server does too.
    """
    with serve("weak-secret", authorizer=article.handler) as api:
        raw = login(api, "bob")["access_token"]  # signed with the article's own secret
        headers = {"Authorization": raw}  # the article's handler reads the header as the token
        profile = call(api, "/api/profile", headers=headers)
        assert profile.json() == {"sub": "user", "role": None, "scopes": []}  # who? no context
        predict = call(api, "/api/predict", method="POST", headers=headers, json={"text": "good"})
        assert (predict.status_code, predict.headers["x-labkit-authorizer-cache"]) == (403, "hit")
        assert predict.json() == IMPLICIT_DENY
        api.gateway.cache.clear()
        again = call(api, "/api/predict", method="POST", headers=headers, json={"text": "good"})
        assert again.json() == {"message": "scope predict required"}  # the backend cannot tell
        # A client that follows RFC 6750 sends "Bearer <token>": the article's handler denies it.
        bearer = call(api, "/api/profile", raw)
        assert (bearer.status_code, bearer.json()) == (403, EXPLICIT_DENY)


# Revocation, refresh, rotation -------------------------------------------------------------------


def test_logout_revokes_but_a_cached_policy_outlives_it(api: Api, clock: FrozenClock) -> None:
    token = login(api)["access_token"]
    assert call(api, "/api/profile", token).status_code == 200  # policy now cached
    out = call(api, "/logout", token, "POST")
    assert out.status_code == 200
    assert out.json()["revoked"] == [labkit.parse(token).payload["jti"]]
    assert api.idp.is_revoked(labkit.parse(token).payload["jti"])
    assert call(api, "/api/profile", token).status_code == 200  # the pitfall: still cached
    clock.advance(300)
    assert call(api, "/api/profile", token).json() == UNAUTHORIZED
    assert "revoked" in api.gateway.log[-1].reason


def test_logout_is_immediate_without_a_cache(clock: FrozenClock) -> None:
    with serve(clock=clock, cache_ttl=0) as api:
        token = login(api)["access_token"]
        assert call(api, "/api/profile", token).status_code == 200
        assert call(api, "/logout", token, "POST").status_code == 200
        assert call(api, "/api/profile", token).status_code == 401


def test_logout_needs_a_token_the_idp_signed(api: Api) -> None:
    assert call(api, "/logout", method="POST").status_code == 401
    assert call(api, "/logout", "x.y.z", "POST").json() == {"message": "no valid access token"}
    forged = forge_none({"iss": "https://idp.labkit.local", "jti": "j"})[0]
    assert call(api, "/logout", forged.token, "POST").status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_session(api: Api, clock: FrozenClock) -> None:
    first = login(api)
    clock.advance(60)
    second = requests.post(
        f"{api.url}/refresh", json={"refresh_token": first["refresh_token"]}, timeout=10
    )
    assert second.status_code == 200
    fresh = second.json()
    assert fresh["refresh_token"] != first["refresh_token"]
    assert labkit.parse(fresh["access_token"]).payload["iat"] == int(NOW.timestamp()) + 60
    reuse = requests.post(
        f"{api.url}/refresh", json={"refresh_token": first["refresh_token"]}, timeout=10
    )
    assert reuse.status_code == 401
    assert "reused" in reuse.json()["message"]
    api.gateway.cache.clear()
    for token in (first["access_token"], fresh["access_token"]):
        assert call(api, "/api/profile", token).status_code == 401
    gone = requests.post(
        f"{api.url}/refresh", json={"refresh_token": fresh["refresh_token"]}, timeout=10
    )
    assert gone.status_code == 401


def test_refresh_tokens_expire(api: Api, clock: FrozenClock) -> None:
    first = login(api)
    clock.advance(8 * 3600)
    late = requests.post(
        f"{api.url}/refresh", json={"refresh_token": first["refresh_token"]}, timeout=10
    )
    assert late.status_code == 401
    assert "expired" in late.json()["message"]


def test_key_rotation_keeps_old_tokens_until_the_key_is_retired(clock: FrozenClock) -> None:
    with serve(clock=clock, cache_ttl=0) as api:
        old = login(api)["access_token"]
        old_kid = api.idp.kid
        new_kid = api.idp.rotate()
        new = login(api)["access_token"]
        assert labkit.parse(new).header["kid"] == new_kid != old_kid
        kids = [
            k["kid"]
            for k in requests.get(f"{api.url}/.well-known/jwks.json", timeout=10).json()["keys"]
        ]
        assert kids == [old_kid, new_kid]
        assert call(api, "/api/profile", old).status_code == 200
        assert call(api, "/api/profile", new).status_code == 200
        api.idp.retire(old_kid)
        assert call(api, "/api/profile", old).status_code == 401
        assert "kid" in api.gateway.log[-1].reason
        assert call(api, "/api/profile", new).status_code == 200
        with pytest.raises(ConfigurationError):
            api.idp.retire(new_kid)  # the signing key cannot be retired


# REQUEST authorizers, HTTP APIs, the JWT authorizer ----------------------------------------------


def test_request_authorizer_gets_headers_and_the_method_arn(clock: FrozenClock) -> None:
    seen: list[dict] = []
    real = create_lab(clock=clock).authorizer
    assert real is not None

    def spy(event: dict, context: object) -> dict:
        seen.append(event)
        return real(event, context)

    with serve(clock=clock, authorizer_type="REQUEST", authorizer=spy) as api:
        token = login(api)["access_token"]
        response = call(api, "/api/profile?x=1", token, headers={"X-Trace": "t1"})
        assert response.status_code == 200
        event = seen[-1]
        assert event["type"] == "REQUEST"
        assert event["methodArn"].endswith("/dev/GET/api/profile")
        assert event["headers"]["X-Trace"] == "t1"
        assert event["queryStringParameters"] == {"x": "1"}
        assert event["requestContext"]["resourcePath"] == "/api/profile"


def test_http_api_simple_responses(clock: FrozenClock) -> None:
    with serve(clock=clock, mode="http", cache_ttl=0) as api:
        assert call(api, "/api/profile").json() == UNAUTHORIZED
        alice = login(api)["access_token"]
        assert call(api, "/api/profile", alice).json()["sub"] == "alice"
        forbidden = call(api, "/api/admin", alice)
        assert (forbidden.status_code, forbidden.json()) == (403, {"message": "Forbidden"})
        assert call(api, "/api/profile", "junk").json() == {"message": "Forbidden"}
        assert call(api, "/nope").json() == {"message": "Not Found"}


def test_http_api_cached_simple_response_is_one_verdict_for_every_route(clock: FrozenClock) -> None:
    with serve(clock=clock, mode="http") as api:
        alice = login(api)["access_token"]
        assert call(api, "/api/profile", alice).status_code == 200
        admin = call(api, "/api/admin", alice)  # isAuthorized true was cached for /api/profile
        assert admin.headers["x-labkit-authorizer-cache"] == "hit"
        assert admin.json() == {
            "message": "role admin required"
        }  # only the backend's check is left


def test_http_api_broken_authorizer_is_500(clock: FrozenClock) -> None:
    def broken(event: dict, context: object) -> dict:
        return {"isAuthorized": "yes"}

    with serve(clock=clock, mode="http", authorizer=broken) as api:
        response = call(api, "/api/profile", "t")
        assert (response.status_code, response.json()) == (
            500,
            {"message": "Internal Server Error"},
        )


def test_jwt_authorizer_checks_issuer_audience_keys_and_scopes(clock: FrozenClock) -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html
    # (the steps; more in tests/test_aws_jwt_authorizer.py) and, for the audience wording,
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html
    with serve(clock=clock, mode="jwt") as api:
        missing = call(api, "/api/profile")
        assert (missing.status_code, missing.json()) == (401, UNAUTHORIZED)
        assert missing.headers["www-authenticate"] == "Bearer"
        alice = login(api)["access_token"]
        profile = call(api, "/api/profile", alice)
        assert profile.json() == {"sub": "alice", "role": "reader", "scopes": ["profile"]}
        predict = call(api, "/api/predict", alice, "POST", json={"text": "good"})
        assert (predict.status_code, predict.json()) == (403, {"message": "Forbidden"})
        assert predict.headers["www-authenticate"] == (
            'Bearer scope="predict" error="insufficient_scope" '
            'error_description="expected scopes: [predict]"'
        )
        bob = login(api, "bob")["access_token"]
        assert call(api, "/api/predict", bob, "POST", json={"text": "good"}).status_code == 200
        other = api.idp.issue("alice", "reader", ("profile",), aud="labkit-billing")
        wrong = call(api, "/api/profile", other)
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith('Bearer scope="" error="invalid_token"')
        assert wrong.headers["www-authenticate"].endswith(
            'error_description="the token does not have a valid audience"'
        )
        clock.advance(900)
        expired = call(api, "/api/profile", bob).headers["www-authenticate"]
        assert 'error_description="the token has expired"' in expired  # kit's own wording


def test_jwt_authorizer_has_no_deny_list(clock: FrozenClock) -> None:
    with serve(clock=clock, mode="jwt") as api:
        token = login(api)["access_token"]
        assert call(api, "/logout", token, "POST").status_code == 200
        assert call(api, "/api/profile", token).status_code == 200  # until exp


def test_jwt_mode_refuses_vulnerable_presets() -> None:
    with pytest.raises(ConfigurationError, match="Lambda authorizer"):
        create_lab("alg-none", mode="jwt")
    with pytest.raises(ConfigurationError, match="Lambda authorizer"):
        create_lab("alg-none", mode="rest-jwt")


def test_serve_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ConfigurationError, match="loopback"), serve(host="0.0.0.0"):
        pass  # pragma: no cover
