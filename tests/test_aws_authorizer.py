"""The Lambda authorizer as AWS calls it: environment configuration and the three event shapes."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import jwt
import pytest

import labkit
from labkit import keys
from labkit.aws import FrozenClock, article, authorizer, serve
from labkit.aws.authorizer import (
    Authorizer,
    AuthorizerConfig,
    JwksClient,
    bearer_token,
    handler,
    policy_for,
    scopes_of,
)
from labkit.aws.idp import IdentityProvider
from labkit.aws.policy import Decision, evaluate
from labkit.errors import ConfigurationError, InvalidTokenError

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/api/profile"
ADMIN_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/api/admin"
ENV = {"JWT_ISSUER": "https://idp.labkit.local", "JWT_AUDIENCE": "labkit-api"}


@pytest.fixture
def idp() -> IdentityProvider:
    return IdentityProvider()  # the real clock: handler() reads the real clock, like a Lambda


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[labkit.aws.Api]:
    with serve() as api:
        monkeypatch.setenv("JWKS_URL", f"{api.url}/.well-known/jwks.json")
        for name, value in ENV.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("JWT_SECRET", raising=False)
        yield api


def token_event(token: str, arn: str = ARN) -> dict:
    return {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": arn}


def test_handler_reads_its_configuration_from_the_environment(served: labkit.aws.Api) -> None:
    token = served.idp.issue("alice", "reader", ("profile",))
    response = handler(token_event(token), authorizer.LambdaContext())
    assert response["principalId"] == "alice"
    assert response["context"] == {"sub": "alice", "role": "reader", "scope": "profile"}
    assert evaluate(response["policyDocument"], ARN) is Decision.ALLOW
    assert evaluate(response["policyDocument"], ADMIN_ARN) is Decision.EXPLICIT_DENY


def test_handler_raises_unauthorized_for_a_bad_token(served: labkit.aws.Api) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$") as info:
        handler(token_event("x.y.z"))
    assert type(info.value) is Exception  # exactly what AWS looks for
    assert isinstance(info.value.__cause__, InvalidTokenError)


def test_handler_serves_request_and_http_api_events(served: labkit.aws.Api) -> None:
    token = served.idp.issue("bob", "admin", ("profile", "predict"))
    request = {
        "type": "REQUEST",
        "methodArn": ADMIN_ARN,
        "headers": {"authorization": f"Bearer {token}"},
    }
    assert evaluate(handler(request)["policyDocument"], ADMIN_ARN) is Decision.ALLOW
    v2 = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ADMIN_ARN,
        "identitySource": [f"Bearer {token}"],
    }
    assert handler(v2) == {
        "isAuthorized": True,
        "context": {"sub": "bob", "role": "admin", "scope": "profile predict"},
    }
    alice = served.idp.issue("alice", "reader", ("profile",))
    assert handler({**v2, "identitySource": [f"Bearer {alice}"]}) == {
        "isAuthorized": False,
        "context": {"sub": "alice", "role": "reader", "scope": "profile"},
    }
    assert handler({**v2, "identitySource": ["Bearer junk"]}) == {"isAuthorized": False}


def test_handler_refetches_the_jwks_for_an_unknown_kid(
    served: labkit.aws.Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authorizer, "_JWKS_MIN_REFRESH", 0.0)  # no 30 s wait in a test
    old = served.idp.issue("alice", "reader", ("profile",))
    assert handler(token_event(old))["principalId"] == "alice"  # JWKS fetched and cached
    served.idp.rotate()
    new = served.idp.issue("alice", "reader", ("profile",))
    assert handler(token_event(new))["principalId"] == "alice"  # unknown kid: fetched again


def test_handler_without_keys_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JWKS_URL", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="no keys"):
        handler(token_event("x.y.z"))


def test_handler_with_an_hmac_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = keys.demo_secret().decode("ascii")
    monkeypatch.delenv("JWKS_URL", raising=False)
    monkeypatch.setenv("JWT_SECRET", secret)
    monkeypatch.setenv("JWT_ALGORITHMS", "HS256")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    hs = IdentityProvider(alg="HS256", key=secret.encode("ascii"))
    assert handler(token_event(hs.issue("alice", "reader", ())))["principalId"] == "alice"
    rs = IdentityProvider().issue("alice", "reader", ())
    with pytest.raises(Exception, match="Unauthorized"):
        handler(token_event(rs))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWKS_URL": "https://x/jwks", "JWT_AUDIENCE": "a"}, "issuer"),
        ({"JWKS_URL": "https://x/jwks", "JWT_ISSUER": "i"}, "audience"),
        ({"JWKS_URL": "https://x/jwks", **ENV, "JWT_ALGORITHMS": "RS256,none"}, "JWT_ALGORITHMS"),
        ({"JWKS_URL": "https://x/jwks", "JWT_SECRET": "s", **ENV}, "not both"),
        ({"JWKS_URL": "https://x/jwks", **ENV, "JWT_LEEWAY": "soon"}, "JWT_LEEWAY"),
    ],
)
def test_bad_configuration_is_a_configuration_error(env: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AuthorizerConfig.from_env(env)


@pytest.mark.parametrize(
    "url", ["http://example.com/jwks.json", "ftp://127.0.0.1/jwks", "https:///jwks", "jwks.json"]
)
def test_jwks_url_must_be_https_or_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        JwksClient(url)


def test_jwks_client_caches_and_rate_limits_refreshes(served: labkit.aws.Api) -> None:
    clock = FrozenClock(1_000_000)
    client = JwksClient(f"{served.url}/.well-known/jwks.json", clock=clock)
    first = client()
    assert client() is first  # cached
    assert client.refresh() is False  # fetched under 30 s ago
    clock.advance(30)
    assert client.refresh() is True
    clock.advance(300)
    assert client() is not first  # the TTL ran out


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer a.b.c") == "a.b.c"
    assert bearer_token("bearer a.b.c") == "a.b.c"
    for bad in (
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer  a.b.c",
        "Basic a.b.c",
        "a.b.c",
        "Bearer a b",
    ):
        with pytest.raises(InvalidTokenError):
            bearer_token(bad)


def test_scopes_from_scope_or_scp() -> None:
    assert scopes_of({"scope": "a b"}) == ("a", "b")
    assert scopes_of({"scp": ["a", "b"]}) == ("a", "b")
    assert scopes_of({"scope": 5}) == ()
    assert scopes_of({"scp": [1]}) == ()


def test_policy_for_roles_and_scopes() -> None:
    def decide(claims: dict, verb: str, path: str) -> Decision:
        arn = f"arn:aws:execute-api:us-east-1:123456789012:abc123/dev/{verb}{path}"
        return evaluate(policy_for(claims, ARN)["policyDocument"], arn)

    reader = {"sub": "alice", "role": "reader", "scope": "profile"}
    assert decide(reader, "GET", "/api/profile") is Decision.ALLOW
    assert decide(reader, "GET", "/api/admin") is Decision.EXPLICIT_DENY
    assert decide(reader, "DELETE", "/api/admin/users") is Decision.EXPLICIT_DENY
    assert decide(reader, "POST", "/api/predict") is Decision.IMPLICIT_DENY
    assert decide({**reader, "scope": "predict"}, "POST", "/api/predict") is Decision.ALLOW
    boss = {"sub": "bob", "role": "admin"}
    assert decide(boss, "GET", "/api/admin") is Decision.ALLOW
    assert decide(boss, "GET", "/api/administrators") is Decision.IMPLICIT_DENY
    with pytest.raises(InvalidTokenError, match="sub"):
        policy_for({"role": "admin"}, ARN)


def test_unknown_events_are_configuration_errors(idp: IdentityProvider) -> None:
    config = AuthorizerConfig(issuer=idp.issuer, audience=idp.audience)
    auth = Authorizer(config, key=idp.jwks)
    for event in ({}, {"type": "WEBSOCKET"}, {"type": "TOKEN", "authorizationToken": "x"}, None):
        with pytest.raises(ConfigurationError):
            auth(event)  # type: ignore[arg-type]


def test_the_article_handler_is_the_source_articles_code(idp: IdentityProvider) -> None:
    token = jwt.encode({"sub": "1234567890"}, "your-256-bit-secret" * 2, algorithm="HS256")
    assert article.handler({"authorizationToken": token, "methodArn": ARN})["policyDocument"][
        "Statement"
    ] == [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ARN}]
    good = labkit.sign_token({"sub": "1234567890"}, article.SECRET, "HS256")
    allowed = article.handler({"authorizationToken": good, "methodArn": ARN})
    assert allowed == article.generate_policy("user", "Allow", ARN)
    denied = article.handler({"authorizationToken": f"Bearer {good}", "methodArn": ARN})
    assert denied == article.generate_policy("user", "Deny", ARN)
    source = inspect.getsource(article)
    assert "'your-256-bit-secret'" in source


# REQUIRED_CLAIMS and REQUIRE_EXP: naming claims never drops exp -----------------------------------

NEW_REQUIRED_CONTRACT = "require_exp" in inspect.signature(labkit.verify).parameters
"""labkit.verify's contract of issue 12: ``required`` names claims IN ADDITION to exp."""
needs_new_required_contract = pytest.mark.xfail(
    not NEW_REQUIRED_CONTRACT,
    reason="needs labkit.verify(required=..., require_exp=...) of issue 12 (verify.py change)",
    strict=True,
)
HS_ENV = {**ENV, "JWT_SECRET": keys.demo_secret().decode("ascii"), "JWT_ALGORITHMS": "HS256"}
T0 = 1_767_258_000


def hs_authorizer(**env: str) -> Authorizer:
    return Authorizer(AuthorizerConfig.from_env({**HS_ENV, **env}), clock=FrozenClock(T0))


def hs_token(**claims: object) -> str:
    base = {"iss": ENV["JWT_ISSUER"], "aud": ENV["JWT_AUDIENCE"], "sub": "alice", "exp": T0 + 60}
    merged = {k: v for k, v in {**base, **claims}.items() if v is not None}
    return labkit.algorithms.sign_token(merged, keys.demo_secret(), "HS256")


def test_required_claims_are_read_from_the_environment_and_keep_exp() -> None:
    config = AuthorizerConfig.from_env({**HS_ENV, "REQUIRED_CLAIMS": " sub, scope,,sub"})
    assert config.required == ("sub", "scope")
    assert config.require_exp is True
    assert config.verify_options() == {"required": ("sub", "scope")}  # exp stays implied
    assert AuthorizerConfig.from_env(HS_ENV).verify_options() == {}  # the verifier's default
    listed = AuthorizerConfig.from_env({**HS_ENV, "REQUIRED_CLAIMS": "exp,sub"})
    assert listed.verify_options() == {"required": ("sub",)}


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "no", " off "])
def test_require_exp_false_is_the_explicit_opt_out(value: str) -> None:
    config = AuthorizerConfig.from_env({**HS_ENV, "REQUIRE_EXP": value, "REQUIRED_CLAIMS": "sub"})
    assert config.require_exp is False
    assert config.verify_options() == {"required": ("sub",), "require_exp": False}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REQUIRE_EXP": "maybe"}, "REQUIRE_EXP must be true or false"),
        ({"REQUIRE_EXP": "false", "REQUIRED_CLAIMS": "exp"}, "names exp"),
    ],
)
def test_bad_required_settings_are_configuration_errors(env: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AuthorizerConfig.from_env({**HS_ENV, **env})
    with pytest.raises(ConfigurationError, match="REQUIRED_CLAIMS"):
        AuthorizerConfig(issuer="i", audience="a", secret="s", required=("sub scope",))


def test_required_claims_are_enforced() -> None:
    strict = hs_authorizer(REQUIRED_CLAIMS="sub,scope")
    assert strict.claims(hs_token(scope="profile"))["scope"] == "profile"
    with pytest.raises(InvalidTokenError, match="scope"):
        strict.claims(hs_token())  # no scope
    with pytest.raises(InvalidTokenError):
        strict.claims(hs_token(exp=T0 - 1))  # expired: exp is still checked


@needs_new_required_contract
def test_required_claims_sub_still_refuses_a_token_without_exp() -> None:
    # Holds once labkit.verify keeps exp required when `required` names other claims.
    with pytest.raises(InvalidTokenError, match="exp"):
        hs_authorizer(REQUIRED_CLAIMS="sub").claims(hs_token(exp=None))


@needs_new_required_contract
def test_require_exp_false_accepts_a_token_without_exp() -> None:
    claims = hs_authorizer(REQUIRE_EXP="false").claims(hs_token(exp=None))
    assert claims["sub"] == "alice" and "exp" not in claims


def test_a_token_without_exp_is_refused_by_default() -> None:
    with pytest.raises(InvalidTokenError, match="exp"):
        hs_authorizer().claims(hs_token(exp=None))
