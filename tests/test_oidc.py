"""The kit's OpenID Connect provider, explicit typing and issuer-bound keys, token-type attacks.

Everything over real loopback HTTP where a client would use HTTP: discovery, the
code flow with PKCE, the token endpoint's errors (RFC 6749 section 5.2). Each
token-type attack is proven twice: its vulnerable verifier accepts the genuine
token, ``labkit.verify`` (or ``labkit.oidc.verify_id_token``) refuses it. The
gateway presets and the scanner's token-type probes close the file, with a
Hypothesis property for the new endpoints' bad input.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit
from labkit import keys, oidc, scan
from labkit.attacks import tokentypes
from labkit.aws import FrozenClock, serve
from labkit.aws.idp import IdentityProvider
from labkit.errors import (
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidTokenError,
    KeyNotFoundError,
    MissingClaimError,
)
from labkit.verify import IssuerKeys, TokenTypeError

ISSUER, API = "https://idp.labkit.local", "labkit-api"
CALLBACK = "http://127.0.0.1/callback"


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    with serve("hardened") as running:
        yield running


def discovery(api: Any) -> dict[str, Any]:
    return requests.get(f"{api.url}/.well-known/openid-configuration", timeout=5).json()


def authorize(api: Any, **overrides: Any) -> requests.Response:
    verifier = overrides.pop("verifier", "v" * 43)
    form = {
        "response_type": "code",
        "client_id": "labkit-notebook",
        "redirect_uri": CALLBACK,
        "scope": "openid profile",
        "state": "s-1",
        "nonce": "n-1",
        "code_challenge": oidc.s256(verifier),
        "code_challenge_method": "S256",
        "username": "alice",
        "password": "wonderland",
        **overrides,
    }
    form = {k: v for k, v in form.items() if v is not None}
    return requests.post(f"{api.url}/authorize", data=form, allow_redirects=False, timeout=5)


def redirect_query(response: requests.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)


def redeem(api: Any, code: str, verifier: str = "v" * 43, **overrides: Any) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "labkit-notebook",
        "code_verifier": verifier,
        **overrides,
    }
    return requests.post(f"{api.url}/token", data=form, timeout=5)


# Discovery and the code flow ---------------------------------------------------------------------


def test_discovery_names_the_endpoints_the_server_answers_on(api: Any) -> None:
    doc = discovery(api)
    assert doc["issuer"] == ISSUER
    for name, path in (
        ("jwks_uri", "/.well-known/jwks.json"),
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
    ):
        assert doc[name] == api.url + path
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert requests.get(doc["jwks_uri"], timeout=5).json() == api.idp.jwks()


def test_code_flow_gives_an_id_token_and_a_typed_access_token(api: Any) -> None:
    got = oidc.code_flow(api.url, nonce="n-42")
    access, id_token = labkit.parse(got["access_token"]), labkit.parse(got["id_token"])
    assert access.header["typ"] == "at+jwt"  # RFC 9068 2.1
    assert access.payload["aud"] == API and access.payload["client_id"] == "labkit-notebook"
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} <= set(access.payload)
    assert id_token.header["typ"] == "JWT"
    claims = id_token.payload
    assert claims["aud"] == claims["azp"] == "labkit-notebook" and claims["nonce"] == "n-42"
    assert claims["at_hash"] == oidc.at_hash(got["access_token"], "RS256")
    verified = oidc.verify_id_token(
        got["id_token"],
        api.idp.jwks(),
        client_id="labkit-notebook",
        issuer=ISSUER,
        nonce="n-42",
        access_token=got["access_token"],
    )
    assert verified["sub"] == "alice"
    assert (
        labkit.verify(
            got["access_token"], api.idp.jwks(), algorithms=["RS256"], audience=API, typ="at+jwt"
        )["role"]
        == "reader"
    )
    profile = requests.get(
        f"{api.url}/api/profile", headers={"Authorization": f"Bearer {got['access_token']}"}
    )
    assert profile.status_code == 200 and profile.json()["sub"] == "alice"


def test_at_hash_is_the_left_half_of_sha256_as_oidc_core_shows() -> None:
    # OIDC Core appendix A.3's access token and its at_hash (ID token signed RS256).
    token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
    assert oidc.at_hash(token, "RS256") == "77QmUPtjPfzWtF2AnpK9RQ"


def test_s256_is_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oidc.s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_code_works_once_and_its_second_use_revokes_the_grant(api: Any) -> None:
    code = redirect_query(authorize(api))["code"][0]
    first = redeem(api, code)
    assert first.status_code == 200
    second = redeem(api, code)
    assert second.status_code == 400
    assert second.json() == {
        "error": "invalid_grant",
        "error_description": "the code was already used: grant revoked",
    }
    again = requests.post(
        f"{api.url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first.json()["refresh_token"],
            "client_id": "labkit-notebook",
        },
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_reuse_ends_the_grant(api: Any) -> None:
    got = oidc.code_flow(api.url)

    def refresh(token: str) -> requests.Response:
        form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": got_client}
        return requests.post(f"{api.url}/token", data=form, timeout=5)

    got_client = "labkit-notebook"
    fresh = refresh(got["refresh_token"])
    assert fresh.status_code == 200 and "id_token" not in fresh.json()
    assert labkit.parse(fresh.json()["access_token"]).header["typ"] == "at+jwt"
    assert refresh(got["refresh_token"]).json()["error"] == "invalid_grant"  # reused
    assert refresh(fresh.json()["refresh_token"]).json()["error"] == "invalid_grant"  # family gone
    got_client = "partner-dashboard"
    assert refresh(oidc.code_flow(api.url)["refresh_token"]).status_code == 400  # other client


def test_pkce_verifier_must_match_and_plain_is_refused(api: Any) -> None:
    code = redirect_query(authorize(api))["code"][0]
    wrong = redeem(api, code, verifier="w" * 43)
    assert wrong.json()["error"] == "invalid_grant" and "code_verifier" in wrong.text
    plain = redirect_query(authorize(api, code_challenge="v" * 43, code_challenge_method="plain"))
    assert plain["error"] == ["invalid_request"] and "S256" in plain["error_description"][0]
    assert plain["state"] == ["s-1"] and plain["iss"] == [ISSUER]
    missing = redirect_query(authorize(api, code_challenge=None, code_challenge_method=None))
    assert missing["error"] == ["invalid_request"]


def test_plain_pkce_works_only_when_the_provider_allows_it() -> None:
    idp = IdentityProvider()
    relaxed = oidc.OidcProvider(idp, allow_plain=True)
    params = {
        "response_type": "code",
        "client_id": "labkit-notebook",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "code_challenge": "p" * 43,
        "code_challenge_method": "plain",
        "username": "alice",
        "password": "wonderland",
    }
    code = parse_qs(urlsplit(relaxed.authorize(params)).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "labkit-notebook",
        "code_verifier": "p" * 43,
    }
    assert "id_token" in relaxed.token(form)
    assert relaxed.challenge_methods == ["S256", "plain"]
    with pytest.raises(oidc.OAuthError, match="plain is refused"):
        idp.oidc.authorize(params)


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1/callback/",
        "http://127.0.0.1/callback?x=1",
        "http://127.0.0.1:8080/callback",
        "http://127.0.0.1/Callback",
        "https://127.0.0.1/callback",
        "http://127.0.0.1/partner/callback",  # another client's
        "http://evil.example/callback",
    ],
)
def test_redirect_uris_match_exactly_and_a_bad_one_is_never_redirected_to(
    api: Any, redirect_uri: str
) -> None:
    answer = authorize(api, redirect_uri=redirect_uri)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert answer.json()["error"] == "invalid_request"


def test_codes_expire_and_belong_to_their_client(clock: FrozenClock) -> None:
    with serve("hardened", clock=clock) as api:
        code = redirect_query(authorize(api))["code"][0]
        other = redeem(
            api, code, client_id="labkit-api", redirect_uri="http://127.0.0.1/console/callback"
        )
        assert other.json()["error"] == "invalid_grant"  # and it is now spent
        code = redirect_query(authorize(api))["code"][0]
        clock.advance(oidc.CODE_TTL)
        assert redeem(api, code).json()["error_description"] == "the code has expired"


def test_wrong_password_and_unknown_scope(api: Any) -> None:
    denied = authorize(api, password="nope")
    assert denied.status_code == 401 and denied.json()["error"] == "access_denied"
    scope = redirect_query(authorize(api, scope="openid predict"))  # alice has no predict
    assert scope["error"] == ["invalid_scope"]
    no_openid = redirect_query(authorize(api, scope="profile"))
    assert no_openid["error"] == ["invalid_scope"]


def test_authorize_takes_query_parameters_too(api: Any) -> None:
    params = {
        "response_type": "code",
        "client_id": "labkit-notebook",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "code_challenge": oidc.s256("q" * 50),
        "code_challenge_method": "S256",
    }
    login = {"username": "bob", "password": "builder"}
    answer = requests.post(f"{api.url}/authorize", params=params, data=login, allow_redirects=False)
    code = redirect_query(answer)["code"][0]
    assert redeem(api, code, verifier="q" * 50).status_code == 200
    twice = requests.get(f"{api.url}/authorize?client_id=a&client_id=b", allow_redirects=False)
    assert twice.status_code == 400 and "once" in twice.json()["error_description"]


def test_the_code_store_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oidc, "MAX_CODES", 4)
    idp = IdentityProvider()
    params = {
        "response_type": "code",
        "client_id": "labkit-notebook",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "code_challenge": oidc.s256("c" * 43),
        "code_challenge_method": "S256",
        "username": "alice",
        "password": "wonderland",
    }
    for _ in range(4):
        idp.oidc.authorize(params)
    with pytest.raises(oidc.OAuthError) as refused:
        idp.oidc.authorize(params)
    assert refused.value.status == 429


# labkit.verify: explicit typing and issuer-bound keys -----------------------------------------


SECRET = b"k" * 32
CLAIMS = {"iss": ISSUER, "aud": API, "sub": "alice", "exp": 4102444800}


def typed(typ: str | None) -> str:
    return labkit.sign_token(CLAIMS, SECRET, "HS256", headers={"typ": typ})


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"])
def test_typ_is_compared_case_insensitively_with_or_without_application(typ: str) -> None:
    options = {"algorithms": ["HS256"], "audience": API, "typ": "at+jwt"}
    assert labkit.verify(typed(typ), SECRET, **options)["sub"] == "alice"
    assert labkit.verify(typed("at+jwt"), SECRET, **{**options, "typ": typ})


@pytest.mark.parametrize(
    "typ",
    [None, "JWT", "jwt", "at+JWT ", "text/at+jwt", "application/jwt", "at+jwt;x=1", "dpop+jwt"],
)
def test_typ_other_than_the_required_one_is_refused(typ: str | None) -> None:
    with pytest.raises(TokenTypeError, match="typ"):
        labkit.verify(typed(typ), SECRET, algorithms=["HS256"], audience=API, typ="at+jwt")
    assert labkit.verify(typed(typ), SECRET, algorithms=["HS256"], audience=API)  # untyped call


def test_typ_must_be_a_string_in_the_header() -> None:
    token = labkit.tokens.encode({"alg": "HS256", "typ": ["at+jwt"]}, CLAIMS, b"")
    with pytest.raises(InvalidTokenError):
        labkit.verify(token, SECRET, algorithms=["HS256"], audience=API, typ="at+jwt")
    with pytest.raises(labkit.ConfigurationError):
        labkit.verify(typed("at+jwt"), SECRET, algorithms=["HS256"], audience=API, typ=[])


def test_issuer_keys_choose_the_key_set_by_iss() -> None:
    main, other = keys.demo_private_key("rsa"), tokentypes.partner()
    jwks_a = keys.to_jwks([keys.to_jwk(main.public_key(), kid="a-1", alg="RS256")])
    bound = IssuerKeys({ISSUER: jwks_a, other.issuer: other.jwks()})
    good = labkit.sign_token(CLAIMS, main, "RS256", headers={"kid": "a-1"})
    assert labkit.verify(good, bound, algorithms=["RS256"], audience=API)["iss"] == ISSUER
    theirs = {**CLAIMS, "iss": other.issuer}
    b_token = labkit.sign_token(theirs, other.key, "RS256", headers={"kid": other.kid})
    assert labkit.verify(b_token, bound, algorithms=["RS256"], audience=API)["iss"] == other.issuer
    mixed = labkit.sign_token(CLAIMS, other.key, "RS256", headers={"kid": other.kid})
    with pytest.raises(KeyNotFoundError):  # iss A, kid of B's set: A's keys do not have it
        labkit.verify(mixed, bound, algorithms=["RS256"], audience=API)
    stranger = labkit.sign_token({**CLAIMS, "iss": "https://x"}, main, "RS256")
    with pytest.raises(InvalidIssuerError):
        labkit.verify(stranger, bound, algorithms=["RS256"], audience=API)
    with pytest.raises(InvalidIssuerError):  # a caller's issuer narrows the mapping
        labkit.verify(b_token, bound, algorithms=["RS256"], audience=API, issuer=ISSUER)
    with pytest.raises(labkit.ConfigurationError):
        labkit.verify_jws(good, bound, algorithms=["RS256"])
    with pytest.raises(labkit.ConfigurationError):
        IssuerKeys({})


# The attacks, each proven twice ----------------------------------------------------------------


@pytest.fixture(scope="module")
def zoo(api: Any) -> dict[str, str]:
    """Genuine tokens of the hardened provider, one of each kind the attacks swap."""
    notebook = oidc.code_flow(api.url, nonce="first-login")
    return {
        "access": notebook["access_token"],
        "id": notebook["id_token"],
        "console_id": oidc.code_flow(api.url, client_id="labkit-api")["id_token"],
        "partner_access": oidc.code_flow(api.url, client_id="partner-dashboard")["access_token"],
    }


def api_options(api: Any) -> dict[str, Any]:
    return {"algorithms": ["RS256"], "audience": API, "issuer": ISSUER}


def test_attack_id_token_as_access_token(api: Any, zoo: dict[str, str]) -> None:
    jwks = api.idp.jwks()
    claims = tokentypes.any_token_type(zoo["id"], jwks, **api_options(api))
    assert claims["aud"] == "labkit-notebook"  # accepted: an ID token opened the API
    with pytest.raises(TokenTypeError):
        labkit.verify(zoo["id"], jwks, typ="at+jwt", **api_options(api))
    with pytest.raises(InvalidAudienceError):  # and the audience alone refuses it too
        labkit.verify(zoo["id"], jwks, **api_options(api))


def test_attack_id_token_with_the_apis_own_id_needs_typ(api: Any, zoo: dict[str, str]) -> None:
    jwks = api.idp.jwks()
    assert tokentypes.untyped(zoo["console_id"], jwks, **api_options(api))["aud"] == API
    assert labkit.verify(zoo["console_id"], jwks, **api_options(api))  # aud alone cannot tell
    with pytest.raises(TokenTypeError):
        labkit.verify(zoo["console_id"], jwks, typ="at+jwt", **api_options(api))


def test_attack_access_token_for_another_api(api: Any, zoo: dict[str, str]) -> None:
    jwks = api.idp.jwks()
    claims = tokentypes.ignore_audience(zoo["partner_access"], jwks, **api_options(api))
    assert claims["aud"] == "partner-api"
    with pytest.raises(InvalidAudienceError):
        labkit.verify(zoo["partner_access"], jwks, typ="at+jwt", **api_options(api))
    with pytest.raises(TokenTypeError):  # the same vulnerable API still refuses an ID token
        tokentypes.ignore_audience(zoo["id"], jwks, **api_options(api))


def test_attack_mix_up_of_two_trusted_issuers(api: Any) -> None:
    partner = tokentypes.partner()
    sets = {ISSUER: api.idp.jwks(), partner.issuer: partner.jwks()}
    as_bob = {"iss": ISSUER, "sub": "bob", "aud": API, "role": "admin", "exp": 4102444800}
    forged = labkit.sign_token(as_bob, partner.key, "RS256", headers={"kid": partner.kid})
    claims = tokentypes.merged_issuers(forged, sets, algorithms=["RS256"], audience=API)
    assert claims["sub"] == "bob" and claims["iss"] == ISSUER  # the partner spoke for the IdP
    with pytest.raises(KeyNotFoundError):
        labkit.verify(forged, IssuerKeys(sets), algorithms=["RS256"], audience=API)


def test_attack_id_token_replayed_into_a_new_login(api: Any, zoo: dict[str, str]) -> None:
    jwks, new_nonce = api.idp.jwks(), secrets.token_urlsafe(12)
    rp = {"client_id": "labkit-notebook", "issuer": ISSUER}
    claims = tokentypes.login_without_nonce(zoo["id"], jwks, nonce=new_nonce, **rp)
    assert claims["nonce"] == "first-login"  # an old login's token logged in again
    with pytest.raises(InvalidClaimError, match="nonce"):
        oidc.verify_id_token(zoo["id"], jwks, nonce=new_nonce, **rp)
    no_nonce = api.idp.sign(
        {k: v for k, v in labkit.parse(zoo["id"]).payload.items() if k != "nonce"}, "JWT"
    )
    with pytest.raises(MissingClaimError):
        oidc.verify_id_token(no_nonce, jwks, nonce=new_nonce, **rp)


def test_an_access_token_is_never_an_id_token(api: Any) -> None:
    idp = api.idp
    claims = {"iss": ISSUER, "sub": "alice", "aud": "labkit-notebook", "iat": 1, "exp": 4102444800}
    token = idp.sign(claims, "at+jwt")
    with pytest.raises(TokenTypeError):
        oidc.verify_id_token(
            token, idp.jwks(), client_id="labkit-notebook", issuer=ISSUER, nonce=None
        )


# Presets and the scanner -----------------------------------------------------------------------


def tokens_of(api: Any) -> dict[str, str]:
    return {
        "access": oidc.code_flow(api.url)["access_token"],
        "id": oidc.code_flow(api.url)["id_token"],
        "console_id": oidc.code_flow(api.url, client_id="labkit-api")["id_token"],
        "other": oidc.code_flow(api.url, client_id="partner-dashboard")["access_token"],
    }


def status(api: Any, token: str) -> int:
    return requests.get(
        f"{api.url}/api/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).status_code


@pytest.mark.parametrize(
    ("preset", "accepted"),
    [
        ("hardened", set()),
        ("id-token-accepted", {"id", "console_id", "other"}),
        ("typ-not-checked", {"console_id"}),
        ("audience-not-checked", {"other"}),
    ],
)
def test_presets_accept_exactly_their_flaws_tokens(preset: str, accepted: set[str]) -> None:
    with serve(preset) as api:
        zoo = tokens_of(api)
        assert status(api, zoo["access"]) == 200
        got = {name for name in ("id", "console_id", "other") if status(api, zoo[name]) == 200}
    assert got == accepted


@pytest.mark.parametrize(
    ("preset", "id_token", "flaws"),
    [
        ("hardened", "id", []),
        ("hardened", "console_id", []),
        ("id-token-accepted", "id", ["id-token-accepted"]),
        ("typ-not-checked", "console_id", ["typ-not-checked"]),
        ("audience-not-checked", "id", ["audience-not-checked"]),
    ],
)
def test_scan_finds_each_token_type_preset_and_nothing_on_hardened(
    preset: str, id_token: str, flaws: list[str]
) -> None:
    with serve(preset) as api:
        zoo = tokens_of(api)
        report = scan.scan(
            f"{api.url}/api/profile",
            zoo["access"],
            id_token=zoo[id_token],
            other_token=zoo["other"],
        )
    assert report.flaws == flaws, report.text()
    if preset == "id-token-accepted":
        (finding,) = report.findings
        assert {a.probe for a in finding.explains} == {"cross-audience"}
        assert finding.flaw.notebook == "13-token-types-oidc.ipynb"


def test_scan_without_the_extra_tokens_skips_the_token_type_probes(api: Any) -> None:
    report = scan.scan(f"{api.url}/api/profile", oidc.code_flow(api.url)["access_token"])
    skipped = {a.probe: a.detail for a in report.attempts if a.verdict == "skipped"}
    assert "--id-token" in skipped["id-token"] and "--other-token" in skipped["cross-audience"]
    with pytest.raises(labkit.MalformedTokenError):
        scan.scan(f"{api.url}/api/profile", "x", id_token="not-a-token")


# Bad input at the new endpoints ------------------------------------------------------------------

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
FIELDS = st.sampled_from(
    [
        "grant_type",
        "code",
        "code_verifier",
        "client_id",
        "redirect_uri",
        "refresh_token",
        "response_type",
        "scope",
        "code_challenge",
        "code_challenge_method",
        "username",
        "password",
        "state",
        "nonce",
    ]
)
VALUES = st.text(max_size=80) | st.sampled_from(
    ["authorization_code", "refresh_token", "labkit-notebook", CALLBACK, "S256", "plain", "code"]
)


@FUZZ
@given(
    st.sampled_from([("POST", "/token"), ("POST", "/authorize"), ("GET", "/authorize")]),
    st.lists(st.tuples(FIELDS, VALUES), max_size=8) | st.binary(max_size=200).map(lambda b: b),
)
def test_bad_input_never_gets_a_5xx_and_errors_are_one_line(
    api: Any, route: tuple[str, str], body: Any
) -> None:
    method, path = route
    if method == "GET":
        pairs = body if isinstance(body, list) else [("x", body.decode("latin-1"))]
        answer = requests.get(f"{api.url}{path}", params=pairs, allow_redirects=False, timeout=5)
    else:
        answer = requests.post(f"{api.url}{path}", data=body, allow_redirects=False, timeout=5)
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        error = answer.json()
        assert set(error) <= {"error", "error_description", "message"}
        assert "\n" not in json.dumps(error) and len(answer.text) < 1000
        if path == "/token" and answer.status_code != 413:
            assert error["error"] in {
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unsupported_grant_type",
                "invalid_scope",
                "temporarily_unavailable",
            }


def test_labkit_scan_takes_the_token_type_inputs_on_the_command_line() -> None:
    from clirun import run_labkit

    with serve("typ-not-checked") as api:
        zoo = tokens_of(api)
        url = f"{api.url}/api/profile"
        found = run_labkit(
            "scan",
            url,
            "--token",
            zoo["access"],
            "--id-token",
            zoo["console_id"],
            "--other-token",
            zoo["other"],
            "--json",
        )
        bad = run_labkit("scan", url, "--token", zoo["access"], "--id-token", "nope")
    assert found.returncode == 1, found.stderr
    assert [f["id"] for f in json.loads(found.stdout)["findings"]] == ["typ-not-checked"]
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "malformed" in bad.stderr


def test_verify_jws_types_the_signature_layer_too() -> None:
    token = typed("dpop+jwt")
    assert labkit.verify_jws(token, SECRET, algorithms=["HS256"], typ="DPoP+JWT")
    with pytest.raises(TokenTypeError):
        labkit.verify_jws(token, SECRET, algorithms=["HS256"], typ="at+jwt")
