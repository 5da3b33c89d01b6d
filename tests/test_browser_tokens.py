"""Tokens in a real browser: XSS theft, HttpOnly cookies, CSRF and SameSite, fingerprints, BFF.

Debian's Chromium driven by playwright (``labkit.browser.chromium``; never
``playwright install``) against ``labkit.browser.serve_spa`` and the attacker's
server on other loopback ports. Each attack is proven twice: it works against
the flawed preset (or storage) and fails against the hardened one. Screenshots
land in test-output/ (gitignored) for a person to look at. Without Chromium the
module skips and says why, as tests/test_browser.py does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit import browser, tokens
from labkit.aws.cookies import FINGERPRINT_COOKIE, TOKEN_COOKIE

OUT = Path(__file__).resolve().parents[1] / "test-output"

pytestmark = pytest.mark.skipif(
    browser.chromium_missing() is not None,
    reason=f"{browser.chromium_missing()}: the browser tests need Debian's chromium and "
    "playwright (CI installs them: .ci/run)",
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as running:
        yield running


def save(name: str, png: bytes) -> None:
    OUT.mkdir(exist_ok=True)
    (OUT / f"browser-tokens-{name}.png").write_bytes(png)
    assert png.startswith(b"\x89PNG")


def test_xss_reads_the_token_from_local_storage_and_the_replay_works(chromium: Any) -> None:
    with browser.serve_spa("hardened") as spa, browser.serve_attacker(spa.url) as attacker:
        theft = browser.steal_with_xss(chromium, spa, attacker, "local")
        save("xss-local", theft.screenshot)
        save("xss-loot", theft.loot)
        assert tokens.parse(theft.stolen).payload["sub"] == "alice"
        replay = browser.call_api(spa.url, theft.stolen)  # from Python: no browser at all
        assert replay.status_code == 200 and replay.json()["sub"] == "alice"


@pytest.mark.parametrize("mode", ["cookie", "bff"])
def test_xss_finds_no_token_in_an_httponly_cookie_or_with_a_bff(chromium: Any, mode: str) -> None:
    with browser.serve_spa("hardened") as spa, browser.serve_attacker(spa.url) as attacker:
        theft = browser.steal_with_xss(chromium, spa, attacker, mode)
        save(f"xss-{mode}", theft.screenshot)
        assert theft.stolen == "(nothing)"
        me = spa.last("GET", "/bff/api/me" if mode == "bff" else "/api/me")
        assert me is not None and me["status"] == 200  # the page itself was signed in
        cookie = TOKEN_COOKIE if mode == "cookie" else browser.SESSION_COOKIE
        assert cookie in me["cookies"]


def test_chromium_keeps_secure_httponly_host_cookies_on_http_loopback(chromium: Any) -> None:
    """Chromium treats http://127.0.0.1 as potentially trustworthy: Secure and __Host- work."""

    def signed_in_cookies(chromium_browser: Any, url: str) -> list[dict]:
        context = chromium_browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/?mode=cookie")
        page.evaluate("() => window.lab.login('alice', 'wonderland')")
        jar = context.cookies()
        context.close()
        return jar

    with browser.serve_spa("hardened") as spa:
        (cookie,) = chromium.run(signed_in_cookies, spa.url)
    assert cookie["name"] == TOKEN_COOKIE
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_a_stolen_fingerprint_bound_token_is_refused_by_hardened_only(chromium: Any) -> None:
    for preset, accepted in (("hardened", False), ("fingerprint-ignored", True)):
        with browser.serve_spa(preset) as spa, browser.serve_attacker(spa.url) as attacker:
            theft = browser.steal_with_xss(chromium, spa, attacker, "fingerprint")
            assert "fgp" in tokens.parse(theft.stolen).payload
            assert FINGERPRINT_COOKIE not in theft.stolen  # HttpOnly: the payload cannot read it
            replay = browser.call_api(spa.url, theft.stolen)
            assert (replay.status_code == 200) is accepted, (preset, replay.text)


@pytest.mark.parametrize(
    ("same_site", "cross_site", "cookie_sent"),
    [
        ("Strict", False, True),  # another port of 127.0.0.1: the same site, cookies go
        ("Strict", True, False),  # localhost vs 127.0.0.1: another site
        ("Lax", True, False),  # Lax sends cookies on cross-site top-level GETs, not POSTs
        ("None", True, True),
    ],
)
def test_csrf_cookies_go_where_samesite_lets_them_and_the_csrf_check_stops_them(
    chromium: Any, same_site: str, cross_site: bool, cookie_sent: bool
) -> None:
    outcomes = {}
    for preset in ("cookie-no-csrf", "hardened"):
        with (
            browser.serve_spa(preset, same_site=same_site) as spa,
            browser.serve_attacker(spa.url) as attacker,
        ):
            forged = browser.forge_request(chromium, spa, attacker, cross_site=cross_site)
            save(
                f"csrf-{preset}-{same_site}-{'cross' if cross_site else 'same'}-site",
                forged.screenshot,
            )
            assert forged.cookie_sent is cookie_sent
            outcomes[preset] = forged
    flawed, hardened = outcomes["cookie-no-csrf"], outcomes["hardened"]
    if cookie_sent:
        assert (flawed.status, flawed.display_name) == (200, "pwned-by-csrf")
    else:
        assert (flawed.status, flawed.display_name) == (403, "alice")  # no cookie: no token
    assert (hardened.status, hardened.display_name) == (403, "alice")
