"""AWS's built-in JWT authorizers, HTTP API and REST API, over real HTTP on 127.0.0.1.

Every behaviour asserted here cites the page that documents it; where AWS documents nothing
the test says it pins the kit's own choice or wording.

HTTP = https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html
HTTP_TROUBLE = .../developerguide/http-api-troubleshooting-jwt.html
REST = .../developerguide/rest-api-jwt-authorizer.html (and -create, -methods, -keys, -claims)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_aws_gateway import NOW, UNAUTHORIZED

import labkit
from labkit import keys
from labkit.aws import FrozenClock, serve
from labkit.aws.gateway import Gateway, JwtAuthorizer, Route  # the re-export keeps callers working
from labkit.aws.idp import IdentityProvider
from labkit.aws.jwt_authorizer import (
    HTTP_JWKS_MAX_AGE,
    REFETCH_INTERVAL,
    REST_JWKS_MAX_AGE,
    RestJwtAuthorizer,
    TrustedIssuer,
    claim_string,
)
from labkit.aws.server import Api, create_lab
from labkit.errors import ConfigurationError, LabkitError


@pytest.fixture
def http_api(clock: FrozenClock) -> Iterator[Api]:
    with serve(clock=clock, mode="jwt") as api:
        yield api


@pytest.fixture
def rest_api(clock: FrozenClock) -> Iterator[Api]:
    with serve(clock=clock, mode="rest-jwt") as api:
        yield api


def get(api: Api, path: str = "/api/profile", authorization: str | None = None, **kw: Any):
    headers = {} if authorization is None else {"Authorization": authorization}
    method = kw.pop("method", "GET")
    return requests.request(method, f"{api.url}{path}", headers=headers, timeout=10, **kw)


def signed(api: Api, claims: dict[str, Any] | None = None, **header: Any) -> str:
    """A token signed with the IdP's real private key, with any claims and header."""
    now = int(api.clock())
    body = {
        "iss": api.idp.issuer,
        "aud": api.idp.audience,
        "sub": "alice",
        "role": "reader",
        "scope": "profile",
        "iat": now,
        "exp": now + 600,
    }
    body.update(claims or {})
    head = {"kid": api.idp.kid, **header}
    head = {k: v for k, v in head.items() if v is not None}
    key = api.idp.signing_key.private
    return pyjwt.encode({k: v for k, v in body.items() if v is not None}, key, "RS256", head)


def challenge(response: requests.Response) -> str:
    return response.headers.get("www-authenticate", "")


# HTTP API: the documented steps, in order -------------------------------------------------------


def test_http_token_alone_or_after_bearer(http_api: Api) -> None:
    # HTTP step 1: "The identitySource can include only the token, or the token prefixed with
    # Bearer."
    token = signed(http_api)
    assert get(http_api, authorization=token).status_code == 200
    assert get(http_api, authorization=f"Bearer {token}").status_code == 200
    missing = get(http_api)
    assert (missing.status_code, missing.json(), challenge(missing)) == (
        401,
        UNAUTHORIZED,
        "Bearer",  # kit's own: AWS documents no challenge for a missing token
    )


def test_http_refuses_a_token_without_kid_or_with_an_unknown_kid(http_api: Api) -> None:
    # HTTP step 4: "kid - The token must have a header claim that matches the key in the
    # jwks_uri that signed the token." The signature is right both times: only the kid is wrong.
    no_kid = get(http_api, authorization=signed(http_api, kid=None))
    unknown = get(http_api, authorization=signed(http_api, kid="not-in-the-jwks"))
    for response in (no_kid, unknown):
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
        assert challenge(response).startswith('Bearer scope="" error="invalid_token"')
    assert "no kid" in challenge(no_kid)  # kit's own wording
    assert "matches the token's kid" in challenge(unknown)  # kit's own wording


def test_http_supports_only_rsa_algorithms() -> None:
    # HTTP step 3: "Currently, only RSA-based algorithms are supported."
    with pytest.raises(ConfigurationError, match="only RSA-based algorithms"):
        JwtAuthorizer("https://idp", ("api",), dict, algorithms=("ES256",))
    with pytest.raises(ConfigurationError, match="only RSA-based algorithms"):
        JwtAuthorizer("https://idp", ("api",), dict, algorithms=("HS256",))


def test_http_hs256_token_with_the_public_key_as_secret_is_proven_twice(http_api: Api) -> None:
    # The algorithm-confusion attack (CVE-2015-9235 class): HMAC keyed with the published RSA
    # public key. A verifier that trusts the header's alg accepts it; the JWT authorizer does not.
    from cryptography.hazmat.primitives import serialization

    from labkit import vulnerable
    from labkit.attacks import confusion

    public_pem = http_api.idp.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"iss": http_api.idp.issuer, "aud": http_api.idp.audience, "sub": "mallory"}
    claims |= {"role": "admin", "scope": "profile predict", "exp": int(http_api.clock()) + 600}
    forged = confusion.forge_confusion(public_pem, claims, header={"kid": http_api.idp.kid})[
        0
    ].token
    options = {"algorithms": ["RS256"], "now": http_api.clock()}
    options |= {"audience": http_api.idp.audience, "issuer": http_api.idp.issuer}
    assert vulnerable.alg_from_header(forged, public_pem, **options)["sub"] == "mallory"
    with pytest.raises(LabkitError):
        labkit.verify(forged, http_api.idp.jwks(), **options)
    refused = get(http_api, authorization=f"Bearer {forged}")
    assert (refused.status_code, refused.json()) == (401, UNAUTHORIZED)
    assert "algorithm is not allowed: HS256" in challenge(refused)  # kit's own wording


def test_http_issuer_and_audience_or_client_id(http_api: Api) -> None:
    # HTTP step 4: iss must match the issuer; "aud or client_id - Must match one of the audience
    # entries ... API Gateway validates client_id only if aud is not present. When both aud and
    # client_id are present, API Gateway evaluates aud."
    wrong_iss = get(http_api, authorization=signed(http_api, {"iss": "https://evil.example"}))
    assert "valid issuer" in challenge(wrong_iss)  # kit's own wording
    client_id = signed(http_api, {"aud": None, "client_id": http_api.idp.audience})
    assert get(http_api, authorization=client_id).status_code == 200
    both = signed(http_api, {"aud": "labkit-billing", "client_id": http_api.idp.audience})
    refused = get(http_api, authorization=both)
    assert refused.status_code == 401
    # AWS's own wording, from HTTP_TROUBLE's example response:
    assert challenge(refused) == (
        'Bearer scope="" error="invalid_token" '
        'error_description="the token does not have a valid audience"'
    )
    assert get(http_api, authorization=signed(http_api, {"aud": ["x", "labkit-api"]})).ok


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"exp": -1}, "expired"),  # "exp - Must be after the current time in UTC."
        ({"nbf": +60}, "not valid yet"),  # "nbf - Must be before the current time in UTC."
        ({"iat": +60}, "issued in the future"),  # "iat - Must be before the current time in UTC."
        ({"exp": None}, "exp claim is missing"),  # kit's choice: exp required
        ({"iat": "yesterday"}, "iat claim is missing or not a number"),  # kit's choice
    ],
)
def test_http_exp_nbf_iat(http_api: Api, claims: dict[str, Any], words: str) -> None:
    now = int(http_api.clock())
    timed = {k: (now + v if isinstance(v, int) else v) for k, v in claims.items()}
    response = get(http_api, authorization=signed(http_api, timed))
    assert response.status_code == 401
    assert words in challenge(response)  # kit's own wording for each


def test_http_route_scopes_need_one_match(http_api: Api) -> None:
    # "If you configure scopes for a route, the token must include at least one of the route's
    # scopes." (HTTP); scope or scp.
    predict = get(http_api, "/api/predict", signed(http_api), method="POST", json={"text": "ok"})
    assert (predict.status_code, predict.json()) == (403, {"message": "Forbidden"})
    assert challenge(predict) == (  # kit's own wording
        'Bearer scope="predict" error="insufficient_scope" '
        'error_description="expected scopes: [predict]"'
    )
    scp = signed(http_api, {"scope": None, "scp": ["other", "predict"]})
    assert get(http_api, "/api/predict", scp, method="POST", json={"text": "ok"}).ok


def test_http_claims_reach_the_backend_as_strings_arrays_bracketed() -> None:
    # floci-io/floci#2011 (events measured on a real HTTP API) and
    # aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock#802:
    # numbers and booleans stringified, arrays "[a b c]", objects as JSON text, nulls left out;
    # jwt.scopes null on a route without scopes (DefinitelyTyped/DefinitelyTyped#75458).
    assert claim_string(["admin", "poweruser"]) == "[admin poweruser]"
    assert claim_string(1787996002) == "1787996002"
    assert claim_string(True) == "true"
    assert claim_string({"city": "Seattle"}) == '{"city":"Seattle"}'
    assert claim_string(None) is None
    seen: list[dict[str, Any]] = []
    clock = FrozenClock(NOW)
    idp = IdentityProvider(clock=clock)

    def backend(event: dict[str, Any], context: object) -> dict[str, Any]:
        seen.append(event["requestContext"]["authorizer"])
        return {"statusCode": 200, "body": "ok"}

    gateway = Gateway(
        [Route("GET", "/a", backend), Route("GET", "/b", backend, scopes=("profile",))],
        kind="jwt",
        jwt=JwtAuthorizer(idp.issuer, (idp.audience,), idp.jwks),
        clock=clock,
    )
    token = idp.issue("alice", "reader", ("profile",), groups=["a", "b"], flag=True, gone=None)
    from werkzeug.test import Client

    client = Client(gateway)
    assert client.get("/a", headers={"Authorization": token}).status_code == 200
    assert client.get("/b", headers={"Authorization": token}).status_code == 200
    claims = seen[0]["jwt"]["claims"]
    assert (claims["groups"], claims["flag"], claims["exp"]) == (
        "[a b]",
        "true",
        str(int(NOW.timestamp()) + 900),
    )
    assert "gone" not in claims
    assert (seen[0]["jwt"]["scopes"], seen[1]["jwt"]["scopes"]) == (None, ["profile"])


def test_http_jwks_cached_two_hours_rotation_waits_for_it(
    http_api: Api, clock: FrozenClock
) -> None:
    # HTTP step 3: "API Gateway can cache the public keys for two hours." Kit's choice: an unknown
    # kid does not refetch (the docs promise no refetch), so a new key is seen when the cache ages.
    assert HTTP_JWKS_MAX_AGE == 7200
    old = signed(http_api)
    assert get(http_api, authorization=old).ok
    fetches = http_api.gateway.jwt.keys.fetches
    old_kid = http_api.idp.kid
    http_api.idp.rotate()
    new = signed(http_api)
    assert get(http_api, authorization=new).status_code == 401  # cached set: new kid unknown
    http_api.idp.retire(old_kid)
    assert get(http_api, authorization=old).ok  # retired, yet still accepted from the cache
    clock.advance(HTTP_JWKS_MAX_AGE)
    fresh = signed(http_api)
    assert get(http_api, authorization=fresh).ok
    assert http_api.gateway.jwt.keys.fetches == fetches + 1
    assert get(http_api, authorization=signed(http_api, kid=old_kid)).status_code == 401


def test_http_any_header_value_is_401_or_403_never_5xx(http_api: Api) -> None:
    _fuzz(http_api)


# REST API: the new built-in JWT authorizer ------------------------------------------------------


def test_rest_jwt_mode_discovers_keys_and_answers_like_rest(rest_api: Api) -> None:
    # REST: the issuer's OIDC discovery document at ISSUER/.well-known/openid-configuration
    # names its jwks_uri (-create, -keys pages); the local IdP serves it.
    document = get(rest_api, "/.well-known/openid-configuration").json()
    assert document["issuer"] == rest_api.idp.issuer
    assert document["jwks_uri"] == f"{rest_api.url}/.well-known/jwks.json"
    assert rest_api.gateway.kind == "rest" and rest_api.gateway.mode == "rest-jwt"
    profile = get(rest_api, authorization=f"Bearer {signed(rest_api)}")
    assert profile.json() == {"sub": "alice", "role": "reader", "scopes": ["profile"]}
    missing = get(rest_api)
    assert (missing.status_code, missing.json()) == (401, UNAUTHORIZED)
    assert missing.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert "www-authenticate" not in missing.headers  # kit's choice: REST documents none
    nowhere = get(rest_api, "/api/nowhere", signed(rest_api))
    assert (nowhere.status_code, nowhere.json()) == (
        403,
        {"message": "Missing Authentication Token"},
    )


def test_rest_jwt_scopes_per_method_403(rest_api: Api) -> None:
    # -methods page: "A valid token that carries none of the method's scopes receives a
    # 403 Forbidden response."; scope or scp, any one of the method's scopes.
    token = signed(rest_api)
    refused = get(rest_api, "/api/predict", f"Bearer {token}", method="POST", json={"text": "x"})
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})  # kit's body
    assert refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    allowed = signed(rest_api, {"scope": "profile predict"})
    assert get(rest_api, "/api/predict", allowed, method="POST", json={"text": "good"}).ok


def test_rest_jwt_refuses_forged_and_foreign_tokens_twice(rest_api: Api) -> None:
    # An unknown kid and a token signed by another key: what a forger has. The vulnerable
    # verifier that ignores the signature accepts it; labkit.verify and the authorizer refuse.
    from labkit import vulnerable

    claims = {"iss": rest_api.idp.issuer, "aud": rest_api.idp.audience, "sub": "mallory"}
    claims |= {"exp": int(rest_api.clock()) + 600, "scope": "profile predict", "role": "admin"}
    forged = pyjwt.encode(claims, keys.demo_private_key("rsa-2"), "RS256", {"kid": "attacker"})
    options = {"algorithms": ["RS256"], "now": rest_api.clock()}
    options |= {"audience": rest_api.idp.audience, "issuer": rest_api.idp.issuer}
    assert vulnerable.decode_without_verification(forged, None, **options)["sub"] == "mallory"
    with pytest.raises(LabkitError):
        labkit.verify(forged, rest_api.idp.jwks(), **options)
    refused = get(rest_api, authorization=f"Bearer {forged}")
    assert (refused.status_code, refused.json()) == (401, UNAUTHORIZED)
    assert rest_api.gateway.log[-1].reason == "no key in the issuer's JWKS matches the token's kid"


def test_rest_jwt_refetches_keys_for_an_unseen_kid(rest_api: Api, clock: FrozenClock) -> None:
    # -keys page: "API Gateway caches each issuer's signing keys for up to 1 hour ... When API
    # Gateway receives a token signed with a key it hasn't seen, it retrieves the key set again."
    # Kit's choice: at most once per REFETCH_INTERVAL (60 s), so invented kids cannot flood the IdP.
    assert REST_JWKS_MAX_AGE == 3600 and REFETCH_INTERVAL == 60
    assert get(rest_api, authorization=signed(rest_api)).ok
    cache = rest_api.gateway.jwt.keys(rest_api.idp.issuer)
    fetches = cache.fetches
    rest_api.idp.rotate()
    assert get(rest_api, authorization=signed(rest_api)).status_code == 401  # within 60 s
    clock.advance(REFETCH_INTERVAL)
    assert get(rest_api, authorization=signed(rest_api)).ok
    for kid in ("a", "b", "c"):
        get(rest_api, authorization=signed(rest_api, kid=kid))
    assert cache.fetches == fetches + 1


def test_rest_jwt_several_issuers_audiences_algorithms_required_claims(clock: FrozenClock) -> None:
    # REST: "You declare the issuers that you trust, the audiences that you accept from each
    # issuer, the signing algorithms that you allow, and any additional claims that a token must
    # carry." The issuer must match iss exactly, trailing slash included (-create page).
    one = IdentityProvider(clock=clock, issuer="https://one.example", audience="api-one")
    two = IdentityProvider(
        clock=clock, alg="ES256", issuer="https://two.example/", audience="api-two"
    )
    served = {}
    for idp in (one, two):
        base = idp.issuer.rstrip("/")
        served[f"{base}/.well-known/openid-configuration"] = idp.openid_configuration
        served[f"{base}/.well-known/jwks.json"] = idp.jwks
    authorizer = RestJwtAuthorizer(
        (TrustedIssuer(one.issuer, ("api-one",)), TrustedIssuer(two.issuer, ("api-two",))),
        algorithms=("RS256", "ES256"),
        required_claims={"token_use": "access"},
        fetch=lambda url: served[url](),
    )
    ok = authorizer.check(one.issue("a", "reader", ("p",), token_use="access"), (), clock)
    assert ok.status == 200 and ok.context["claims"]["sub"] == "a"
    assert authorizer.check(two.issue("b", "reader", ("p",), token_use="access"), (), clock).ok
    assert authorizer.check(one.issue("a", "reader", ("p",)), (), clock).reason == (
        "the token lacks the required claim token_use"  # kit's own wording
    )
    crossed = one.issue("a", "reader", ("p",), token_use="access", aud="api-two")
    assert authorizer.check(crossed, (), clock).status == 401  # audiences are per issuer
    slash = one.issue("a", "reader", ("p",), token_use="access", iss="https://one.example/")
    assert authorizer.check(slash, (), clock).reason == "the token's issuer is not trusted"
    with pytest.raises(ConfigurationError, match="among RS256"):
        RestJwtAuthorizer((TrustedIssuer("https://x", ("a",)),), algorithms=("HS256",))


def test_rest_jwt_claims_keep_their_json_types() -> None:
    # -claims page: "A Lambda proxy integration receives each claim with its JSON type."
    seen: list[dict[str, Any]] = []
    clock = FrozenClock(NOW)
    idp = IdentityProvider(clock=clock)

    def backend(event: dict[str, Any], context: object) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "body": "ok"}

    authorizer = RestJwtAuthorizer(
        (TrustedIssuer(idp.issuer, (idp.audience,)),),
        fetch=lambda url: idp.jwks() if url.endswith("jwks.json") else idp.openid_configuration(),
    )
    from werkzeug.test import Client

    gateway = Gateway([Route("GET", "/a", backend)], kind="rest-jwt", jwt=authorizer, clock=clock)
    token = idp.issue("alice", "reader", ("p",), roles=["user", "editor"], version="42")
    assert Client(gateway).get("/a", headers={"Authorization": token}).status_code == 200
    claims = seen[0]["requestContext"]["authorizer"]["claims"]
    assert (claims["roles"], claims["version"], type(claims["iat"])) == (
        ["user", "editor"],
        "42",
        int,
    )
    assert seen[0]["httpMethod"] == "GET"  # a REST API: the 1.0 proxy event


def test_rest_jwt_discovery_must_name_the_same_issuer(clock: FrozenClock) -> None:
    # OpenID Connect Discovery 1.0 section 4.3: the document's issuer must be the issuer.
    idp = IdentityProvider(clock=clock)
    liar = {**idp.openid_configuration(), "issuer": "https://someone-else"}
    authorizer = RestJwtAuthorizer(
        (TrustedIssuer(idp.issuer, (idp.audience,)),), fetch=lambda u: liar
    )
    verdict = authorizer.check(idp.issue("a", "reader", ()), (), clock)
    assert (verdict.status, verdict.body, verdict.error_type) == (
        500,
        {"message": None},
        "AuthorizerConfigurationException",
    )


def test_rest_jwt_discovery_stays_on_loopback(clock: FrozenClock) -> None:
    # The kit's one outbound guard: the IdP's real issuer name is not loopback, so nothing leaves.
    idp = IdentityProvider(clock=clock)
    authorizer = RestJwtAuthorizer((TrustedIssuer(idp.issuer, (idp.audience,)),))
    verdict = authorizer.check(idp.issue("a", "reader", ()), (), clock)
    assert verdict.status == 500 and "idp.labkit.local" in verdict.reason


def test_rest_jwt_mode_needs_the_hardened_preset_and_http() -> None:
    with pytest.raises(ConfigurationError, match="Lambda authorizer"):
        create_lab("alg-none", mode="rest-jwt")
    with pytest.raises(ConfigurationError, match="http only"), serve(mode="rest-jwt", tls=True):
        pass  # pragma: no cover


def test_rest_any_header_value_is_401_or_403_never_5xx(rest_api: Api) -> None:
    _fuzz(rest_api)


# Helpers ------------------------------------------------------------------------------------------


def _fuzz(api: Api) -> None:
    segment = st.text(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/", max_size=40
    )
    jwtish = st.builds(lambda a, b, c: f"{a}.{b}.{c}", segment, segment, segment)
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=200)
    real = st.just(signed(api, {"exp": int(api.clock()) + 3600}))
    tampered = real.flatmap(
        lambda t: st.integers(0, len(t) - 1).map(lambda i: t[:i] + "x" + t[i + 1 :])
    )
    values = st.one_of(printable, jwtish, jwtish.map("Bearer ".__add__), tampered, real)

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(value=values)
    def check(value: str) -> None:
        response = requests.get(
            f"{api.url}/api/profile", headers={"Authorization": value.encode("latin-1")}, timeout=10
        )
        assert response.status_code in (200, 401, 403), (value, response.status_code, response.text)

    check()
