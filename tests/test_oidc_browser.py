"""The code flow with PKCE in a real browser: Chromium signs in at the kit's ``/authorize``.

Debian's Chromium driven by Playwright (as tests/test_browser.py does) opens the
authorization URL, gets the provider's login form, types the DEMO ONLY password
and submits; the provider redirects to the client's registered URI, which the
test intercepts (nothing listens on it) to read the code. The test then redeems
the code with the verifier the browser never saw, and validates the ID token.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from test_browser import CHROMIUM, CHROMIUM_ARGS

from labkit import oidc
from labkit.aws import serve

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}: install Debian's `chromium`"
)
CALLBACK = "http://127.0.0.1/callback"


def test_chromium_signs_in_and_the_code_redeems() -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    verifier, state, nonce = (secrets.token_urlsafe(n) for n in (48, 12, 12))
    with serve("hardened") as api:
        query = {
            "response_type": "code",
            "client_id": "labkit-notebook",
            "redirect_uri": CALLBACK,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": oidc.s256(verifier),
            "code_challenge_method": "S256",
        }
        landed: list[str] = []
        with sync_api.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()

                def callback(route: object) -> None:
                    landed.append(route.request.url)  # type: ignore[attr-defined]
                    route.fulfill(status=200, body="signed in")  # type: ignore[attr-defined]

                page.route(f"{CALLBACK}*", callback)
                page.goto(f"{api.url}/authorize?{urlencode(query)}")
                assert "Sign in to labkit-notebook" in page.content()
                page.fill("#username", "alice")
                page.fill("#password", "wonderland")
                page.click("#sign-in")
                page.wait_for_url(f"{CALLBACK}*", timeout=20_000)
            finally:
                browser.close()
        (url,) = landed
        answer = parse_qs(urlsplit(url).query)
        assert answer["state"] == [state] and answer["iss"] == [api.idp.issuer]
        form = {
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": CALLBACK,
            "client_id": "labkit-notebook",
            "code_verifier": verifier,
        }
        issued = requests.post(f"{api.url}/token", data=form, timeout=5).json()
        claims = oidc.verify_id_token(
            issued["id_token"],
            api.idp.jwks(),
            client_id="labkit-notebook",
            issuer=api.idp.issuer,
            nonce=nonce,
            access_token=issued["access_token"],
        )
    assert claims["sub"] == "alice"


def test_the_login_page_cannot_be_framed_and_checks_the_request_first() -> None:
    with serve("hardened") as api:
        query = {
            "response_type": "code",
            "client_id": "labkit-notebook",
            "redirect_uri": CALLBACK,
            "scope": "openid",
            "code_challenge": oidc.s256("x" * 43),
            "code_challenge_method": "S256",
        }
        page = requests.get(f"{api.url}/authorize", params=query, timeout=5)
        assert page.status_code == 200 and page.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        plain = {**query, "code_challenge_method": "plain", "code_challenge": "x" * 43}
        refused = requests.get(
            f"{api.url}/authorize", params=plain, allow_redirects=False, timeout=5
        )
        assert refused.status_code == 302 and "error=invalid_request" in refused.headers["Location"]
