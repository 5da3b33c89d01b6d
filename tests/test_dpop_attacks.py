"""DPoP attacks, each proven twice over real loopback HTTP: the flawed preset (or the one-bug
verifier of ``labkit.attacks.dpop``) accepts it, the hardened gateway and
``labkit.dpop.verify_proof`` refuse it. Plus the IdP's binding (RFC 9449 section 5).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from labkit import dpop, keys, tokens
from labkit.attacks import dpop as attacks
from labkit.aws import Api, FrozenClock, serve
from labkit.aws.server import create_lab

KEY = ec.generate_private_key(ec.SECP256R1())
ALICE = {"username": "alice", "password": "wonderland"}
BOB = {"username": "bob", "password": "builder"}


@pytest.fixture
def api(clock: FrozenClock) -> Iterator[Api]:
    with serve("hardened", clock=clock) as running:
        yield running


def client(api: Api, key: Any = KEY) -> dpop.Client:
    return dpop.Client(key, clock=api.clock)


def bound_login(api: Api, who: dict[str, str] = ALICE, key: Any = KEY) -> tuple[dpop.Client, str]:
    """Log in with a DPoP proof; the client (holding the API's nonce) and the bound token."""
    c = client(api, key)
    answer = c.request("POST", f"{api.url}/login", json=who)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "DPoP"
    token = answer.json()["access_token"]
    warm = c.request("GET", f"{api.url}/api/profile", access_token=token)  # fetches the nonce
    assert warm.status_code == 200, warm.headers
    return c, token


def get(api: Api, path: str, headers: dict[str, str], method: str = "GET") -> requests.Response:
    return requests.request(method, f"{api.url}{path}", headers=headers, timeout=10)


def refused(response: requests.Response, error: str = "invalid_dpop_proof") -> bool:
    challenge = response.headers.get("WWW-Authenticate", "")
    return (
        response.status_code == 401
        and response.json() == {"message": "Unauthorized"}
        and challenge.startswith(f'DPoP error="{error}"')
        and 'algs="' in challenge
    )


def both(preset: str, clock: FrozenClock) -> Iterator[tuple[Api, Api]]:
    with serve(preset, clock=clock) as vulnerable, serve("hardened", clock=clock) as hardened:
        yield vulnerable, hardened


# The IdP binds tokens (RFC 9449 section 5) -------------------------------------------------------


def test_login_with_a_proof_binds_the_token_to_the_key(api: Api) -> None:
    c, token = bound_login(api)
    claims = tokens.parse(token).payload
    assert claims["cnf"] == {"jkt": dpop.thumbprint(KEY)} == {"jkt": c.jkt}
    plain = requests.post(f"{api.url}/login", json=ALICE, timeout=10).json()
    assert (
        plain["token_type"] == "Bearer" and "cnf" not in tokens.parse(plain["access_token"]).payload
    )


def test_login_refuses_a_bad_or_replayed_proof(api: Api) -> None:
    proof = client(api).proof("POST", f"{api.url}/login")
    first = requests.post(f"{api.url}/login", json=ALICE, headers={"DPoP": proof}, timeout=10)
    again = requests.post(f"{api.url}/login", json=ALICE, headers={"DPoP": proof}, timeout=10)
    assert first.status_code == 200
    assert again.status_code == 400 and again.json()["error"] == "invalid_dpop_proof"
    wrong = client(api).proof("POST", f"{api.url}/refresh")
    answer = requests.post(f"{api.url}/login", json=ALICE, headers={"DPoP": wrong}, timeout=10)
    assert answer.status_code == 400 and "the proof is for" in answer.json()["error_description"]


def test_a_bound_session_refreshes_only_with_its_own_key(api: Api) -> None:
    c = client(api)
    login = c.request("POST", f"{api.url}/login", json=ALICE).json()
    body = {"refresh_token": login["refresh_token"]}
    bare = requests.post(f"{api.url}/refresh", json=body, timeout=10)
    other = client(api, attacks.attacker_key()).request("POST", f"{api.url}/refresh", json=body)
    assert bare.status_code == 401 and other.status_code == 401
    assert "DPoP-bound" in bare.json()["message"]
    fresh = c.request("POST", f"{api.url}/refresh", json=body)
    assert fresh.status_code == 200 and fresh.json()["token_type"] == "DPoP"
    assert tokens.parse(fresh.json()["access_token"]).payload["cnf"]["jkt"] == c.jkt


# The gateway enforces it (RFC 9449 sections 7 and 9) ---------------------------------------------


def test_nonce_challenge_then_success_with_the_next_nonce(api: Api) -> None:
    c = client(api)
    token = c.request("POST", f"{api.url}/login", json=ALICE).json()["access_token"]
    first = get(
        api,
        "/api/profile",
        {"Authorization": f"DPoP {token}", "DPoP": c.proof("GET", f"{api.url}/api/profile", token)},
    )
    assert refused(first, "use_dpop_nonce") and first.headers["DPoP-Nonce"]
    assert first.headers["Cache-Control"] == "no-store"
    retry = c.request("GET", f"{api.url}/api/profile", access_token=token)
    assert retry.status_code == 200 and retry.json()["sub"] == "alice"
    assert retry.headers["DPoP-Nonce"]  # section 8.2: the next nonce rides on the 200


def test_an_unbound_token_stays_a_bearer_token_but_not_a_dpop_one(api: Api) -> None:
    token = requests.post(f"{api.url}/login", json=ALICE, timeout=10).json()["access_token"]
    assert get(api, "/api/profile", {"Authorization": f"Bearer {token}"}).status_code == 200
    assert refused(get(api, "/api/profile", {"Authorization": f"DPoP {token}"}), "invalid_token")


def test_the_authorizer_cache_does_not_let_a_replayed_proof_through(api: Api) -> None:
    c, token = bound_login(api)
    headers = {
        "Authorization": f"DPoP {token}",
        "DPoP": c.proof("GET", f"{api.url}/api/profile", token),
    }
    assert get(api, "/api/profile", headers).status_code == 200
    again = get(api, "/api/profile", headers)
    assert again.headers["x-labkit-authorizer-cache"] == "hit"  # the Allow was cached ...
    assert refused(again)  # ... and the DPoP step still saw the replay


@pytest.mark.parametrize("mode", ["http", "jwt"])
def test_a_bound_token_as_bearer_is_refused_in_every_mode(clock: FrozenClock, mode: str) -> None:
    with serve("hardened", mode=mode, clock=clock) as api:
        token = client(api).request("POST", f"{api.url}/login", json=ALICE).json()["access_token"]
        assert refused(
            get(api, "/api/profile", {"Authorization": f"Bearer {token}"}), "invalid_token"
        )


# Attack 1: a stolen DPoP-bound token, without the key ---------------------------------------------


def test_stolen_bound_token_without_a_proof(clock: FrozenClock) -> None:
    for vulnerable, hardened in both("dpop-optional", clock):
        for api in (vulnerable, hardened):
            _, token = bound_login(api)
            as_bearer = get(api, "/api/profile", {"Authorization": f"Bearer {token}"})
            no_proof = get(api, "/api/profile", {"Authorization": f"DPoP {token}"})
            if api is vulnerable:
                assert as_bearer.status_code == 200 and as_bearer.json()["sub"] == "alice"
                assert no_proof.status_code == 200
            else:
                assert refused(as_bearer, "invalid_token")
                assert (
                    refused(no_proof) and "no DPoP header" in no_proof.headers["WWW-Authenticate"]
                )


# Attack 2: a replayed proof ---


def test_replayed_proof(clock: FrozenClock) -> None:
    for vulnerable, hardened in both("dpop-no-replay-check", clock):
        for api in (vulnerable, hardened):
            c, token = bound_login(api)
            captured = {
                "Authorization": f"DPoP {token}",
                "DPoP": c.proof("GET", f"{api.url}/api/profile", token),
            }
            assert get(api, "/api/profile", captured).status_code == 200  # the client's request
            replay = get(api, "/api/profile", captured)  # the attacker's copy
            if api is vulnerable:
                assert replay.status_code == 200
            else:
                assert refused(replay) and "already used" in replay.headers["WWW-Authenticate"]


# Attack 3: a proof for another method or URL ---


def test_proof_for_another_method_or_url(clock: FrozenClock) -> None:
    for vulnerable, hardened in both("dpop-no-htu", clock):
        for api in (vulnerable, hardened):
            c, token = bound_login(api, BOB)
            captured = c.proof("GET", f"{api.url}/api/profile", token)  # meant for the profile
            headers = {"Authorization": f"DPoP {token}", "DPoP": captured}
            elsewhere = get(api, "/api/admin", headers)
            other_method = get(
                api,
                "/api/predict",
                {**headers, "DPoP": c.proof("GET", f"{api.url}/api/predict", token)},
                method="POST",
            )
            if api is vulnerable:
                assert elsewhere.status_code == 200 and other_method.status_code != 401
            else:
                assert (
                    refused(elsewhere)
                    and "the proof is for" in elsewhere.headers["WWW-Authenticate"]
                )
                assert (
                    refused(other_method)
                    and "method 'GET'" in other_method.headers["WWW-Authenticate"]
                )


# Attack 4: a proof made for another token (no ath check) ---


def test_proof_made_for_another_token(clock: FrozenClock) -> None:
    for vulnerable, hardened in both("dpop-no-ath", clock):
        for api in (vulnerable, hardened):
            c, first = bound_login(api)
            _, second = bound_login(api)  # same key, a second session (RFC 9449 section 7)
            proof = c.proof("GET", f"{api.url}/api/profile", first)
            swapped = get(api, "/api/profile", {"Authorization": f"DPoP {second}", "DPoP": proof})
            if api is vulnerable:
                assert swapped.status_code == 200
            else:
                assert refused(swapped) and "ath" in swapped.headers["WWW-Authenticate"]


# Attacks 5-7: verifier bugs, in-process (the one-bug verifier) and over HTTP ---


def test_future_iat(api: Api) -> None:
    c, token = bound_login(api)
    url, now = f"{api.url}/api/profile", api.clock()
    nonce = c.nonces[f"{api.url}"]
    forged = attacks.forge_future_proof(KEY, "GET", url, token, now=now, nonce=nonce).token
    kw = {"htm": "GET", "htu": url, "access_token": token, "jkt": c.jkt, "now": now}
    assert attacks.verify_without_future_bound(forged, **kw)["iat"] == now + 3600
    with pytest.raises(dpop.ProofFromFutureError, match="3600 s in the future"):
        dpop.verify_proof(forged, **kw)
    assert refused(get(api, "/api/profile", {"Authorization": f"DPoP {token}", "DPoP": forged}))


def test_alg_none_and_hmac_proofs(api: Api) -> None:
    c, token = bound_login(api)
    url, now = f"{api.url}/api/profile", api.clock()
    nonce = c.nonces[f"{api.url}"]
    kw = {"htm": "GET", "htu": url, "access_token": token, "jkt": c.jkt, "now": now}
    unsigned = attacks.forge_none_proof(
        dpop.public_jwk(KEY), "GET", url, token, now=now, nonce=nonce
    ).token
    assert attacks.verify_alg_from_header(unsigned, **kw)["htu"] == url
    with pytest.raises(dpop.ProofAlgorithmError, match="unsigned"):
        dpop.verify_proof(unsigned, **kw)
    secret = b"k" * 32
    mac = attacks.forge_hmac_proof(secret, "GET", url, token, now=now, nonce=nonce).token
    mac_jkt = {**kw, "jkt": keys.thumbprint({"kty": "oct", "k": tokens.b64url_encode(secret)})}
    assert attacks.verify_alg_from_header(mac, **mac_jkt)  # a token bound to that oct "key"
    with pytest.raises(dpop.ProofAlgorithmError, match="a MAC"):
        dpop.verify_proof(mac, **mac_jkt)
    for forged in (unsigned, mac):
        assert refused(get(api, "/api/profile", {"Authorization": f"DPoP {token}", "DPoP": forged}))


def test_proof_by_the_thiefs_own_key(api: Api) -> None:
    c, token = bound_login(api)
    url, now = f"{api.url}/api/profile", api.clock()
    forged = attacks.forge_own_key_proof(
        "GET", url, token, iat=int(now), nonce=c.nonces[f"{api.url}"]
    ).token
    kw = {"htm": "GET", "htu": url, "access_token": token, "jkt": c.jkt, "now": now}
    assert attacks.verify_without_key_binding(forged, **kw)["ath"] == dpop.access_token_hash(token)
    with pytest.raises(dpop.KeyBindingError, match=r"cnf\.jkt"):
        dpop.verify_proof(forged, **kw)
    answer = get(api, "/api/profile", {"Authorization": f"DPoP {token}", "DPoP": forged})
    assert refused(answer, "invalid_token")


def test_every_dpop_preset_is_otherwise_hardened(clock: FrozenClock) -> None:
    """The honest DPoP flow works on each; the flaws of the others are refused on each."""
    for preset in ("dpop-optional", "dpop-no-replay-check", "dpop-no-ath", "dpop-no-htu"):
        with serve(preset, clock=clock) as api:
            c, token = bound_login(api)
            assert c.request("GET", f"{api.url}/api/profile", access_token=token).status_code == 200
            stranger = attacks.forge_own_key_proof(
                "GET", f"{api.url}/api/profile", token, iat=int(clock()), nonce=c.nonces[api.url]
            )
            answer = get(
                api, "/api/profile", {"Authorization": f"DPoP {token}", "DPoP": stranger.token}
            )
            assert refused(answer, "invalid_token"), preset


# The gateway's DPoP boundary, fuzzed (in-process WSGI: the same code the server runs) ------------


@settings(max_examples=150, deadline=None)
@given(
    proof=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=400),
    scheme=st.sampled_from(["DPoP", "Bearer", "dpop", ""]),
    repeat=st.integers(min_value=1, max_value=3),
)
def test_any_dpop_header_gets_a_401_never_a_5xx(proof: str, scheme: str, repeat: int) -> None:
    headers = [("Authorization", f"{scheme} {_BOUND}".strip())]
    headers += [("DPoP", proof)] * repeat
    response = _WSGI.get("/api/profile", headers=headers)
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json() == {"message": "Unauthorized"}
    if scheme:  # a bare token never reaches the DPoP step: the authorizer refuses it first
        assert response.headers["WWW-Authenticate"].startswith("DPoP ")


_LAB = create_lab(clock=FrozenClock(1_767_258_000), cache_ttl=0)
_WSGI = Client(_LAB.gateway)
_BOUND = _LAB.idp.issue("alice", "reader", ("profile",), cnf={"jkt": dpop.thumbprint(KEY)})
