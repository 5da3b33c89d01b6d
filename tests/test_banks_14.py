"""Answer banks for notebook 14: insecure look-alikes refused, other right answers accepted.

14.1's answers write Set-Cookie values, 14.2's check fingerprints, 14.3's check forged
requests. Each ``Wrong`` is what a learner could write that looks right and is not (the
insecure look-alikes first); each ``Right`` is correct and written differently from the
solution. A last test ties 14.1's answer key to a real browser: the solution's cookie is
stored by Chromium as HttpOnly, Secure and SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from exercise_banks import Bank, Right, Wrong, bank_tests, extended

from labkit import browser
from labkit.aws import cookies
from labkit.exercises import get

FGP = "__Host-fgp"


def solved(exercise_id: str) -> Any:
    namespace: dict[str, Any] = {"hashlib": hashlib, "hmac": hmac, "re": re}  # the setup's
    exec(get(exercise_id).solution, namespace)
    return namespace["answer"]


# 14.1 · the token cookie -------------------------------------------------------------------------

_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _cookie(template: str, *, guard: bool = True) -> Any:
    def token_cookie(token: str, lifetime: int) -> str:
        if guard and not _JWT.fullmatch(token):
            raise ValueError("not a JWT")
        return template.format(token=token, lifetime=lifetime)

    return token_cookie


_GOOD = "__Host-access_token={token}; Path=/; Max-Age={lifetime}; Secure; HttpOnly; SameSite=Strict"

BANK_14_1 = Bank(
    wrong=(
        Wrong(
            "no-httponly",
            _cookie("__Host-t={token}; Path=/; Secure; SameSite=Strict"),
            "no HttpOnly",
        ),
        Wrong(
            "samesite-none",
            _cookie("__Host-t={token}; Path=/; Secure; HttpOnly; SameSite=None"),
            "SameSite=None",
        ),
        Wrong("no-samesite", _cookie("__Host-t={token}; Path=/; Secure; HttpOnly"), "no SameSite"),
        Wrong(
            "no-secure", _cookie("__Host-t={token}; Path=/; HttpOnly; SameSite=Lax"), "no Secure"
        ),
        Wrong(
            "domain-shared",
            _cookie("token={token}; Domain=labkit.local; Path=/; Secure; HttpOnly; SameSite=Lax"),
            "drop Domain",
        ),
        Wrong(
            "no-host-prefix",
            _cookie("access_token={token}; Path=/; Secure; HttpOnly; SameSite=Strict"),
            "name it __Host-",
        ),
        Wrong(
            "no-injection-guard",
            _cookie(_GOOD, guard=False),
            "'; Domain=attacker.example'",
        ),
        Wrong(
            "outlives-the-token",
            _cookie(_GOOD.replace("{lifetime}", "31536000")),
            "outlives the token",
        ),
        Wrong(
            "httponly-false-last-wins",  # a later attribute does not undo HttpOnly: but SameSite
            _cookie(_GOOD + "; SameSite=None"),
            "SameSite=None",
        ),
        Wrong(
            "bearer-in-value",
            _cookie("__Host-t=Bearer {token}; Path=/; Secure; HttpOnly; SameSite=Strict"),
            "the token itself",
        ),
        Wrong("path-api", _cookie(_GOOD.replace("Path=/", "Path=/api")), "Path=/"),
        Wrong("expires", _cookie(_GOOD + "; Expires=Wed, 01 Jan 2031 00:00:00 GMT"), "Max-Age"),
        Wrong("header-name-included", _cookie("Set-Cookie: " + _GOOD), "without 'Set-Cookie:'"),
        Wrong("not-a-function", _GOOD, "your function itself"),
    ),
    right=(
        Right(
            "lax-lowercase",
            _cookie(
                "__Host-sid={token}; httponly; secure; samesite=lax; path=/; max-age={lifetime}"
            ),
        ),
        Right(
            "kit-set-cookie",
            lambda token, lifetime: cookies.set_cookie(
                cookies.TOKEN_COOKIE, token, max_age=lifetime
            ),
        ),
        Right("shorter-max-age", _cookie(_GOOD.replace("{lifetime}", "60"))),
    ),
)


# 14.2 · the fingerprint check --------------------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fgp_compares_raw(claims: dict, jar: dict) -> bool:
    return jar.get(FGP) == claims.get("fgp")  # the hash copied from the token opens it


def fgp_fails_open_without_cookie(claims: dict, jar: dict) -> bool:
    if FGP not in jar:
        return True
    return _sha(jar[FGP]) == claims.get("fgp")


def fgp_fails_open_without_claim(claims: dict, jar: dict) -> bool:
    if "fgp" not in claims:
        return True
    return FGP in jar and _sha(jar[FGP]) == claims["fgp"]


def fgp_raises_without_cookie(claims: dict, jar: dict) -> bool:
    return hmac.compare_digest(_sha(jar[FGP]), claims["fgp"])


def fgp_md5(claims: dict, jar: dict) -> bool:
    return hashlib.md5(jar.get(FGP, "").encode()).hexdigest() == claims.get("fgp")


def fgp_any_cookie(claims: dict, jar: dict) -> bool:
    return any(_sha(v) == claims.get("fgp") or v == claims.get("fgp") for v in jar.values())


def fgp_truthy(claims: dict, jar: dict) -> bool:
    return bool(jar.get(FGP)) and bool(claims.get("fgp"))  # present, never compared


def fgp_returns_string(claims: dict, jar: dict) -> Any:
    return "yes" if _sha(jar.get(FGP, "")) == claims.get("fgp") else ""


def fgp_right_get_default(claims: dict, jar: dict) -> bool:
    fingerprint, expected = jar.get(FGP, ""), claims.get("fgp", "")
    if not fingerprint or type(expected) is not str:
        return False
    return hmac.compare_digest(hashlib.sha256(fingerprint.encode()).hexdigest(), expected)


def fgp_right_kit(claims: dict, jar: dict) -> bool:
    from labkit.errors import InvalidTokenError

    if "fgp" not in claims:
        return False
    try:
        request = cookies.BrowserRequest("GET", {}, jar)
        cookies.check_request(cookies.HARDENED, request, claims, "header")
    except InvalidTokenError:
        return False
    return True


BANK_14_2 = Bank(
    wrong=(
        Wrong("compares-cookie-to-hash", fgp_compares_raw, "the right cookie, your check refused"),
        Wrong("fails-open-no-cookie", fgp_fails_open_without_cookie, "no cookie at all"),
        Wrong("fails-open-no-claim", fgp_fails_open_without_claim, "a token without fgp"),
        Wrong("raises-without-cookie", fgp_raises_without_cookie, "raised KeyError"),
        Wrong("md5", fgp_md5, "the right cookie, your check refused"),
        Wrong("any-cookie-or-hash", fgp_any_cookie, "the hash copied from the stolen token"),
        Wrong("presence-only", fgp_truthy, "another fingerprint"),
        Wrong("not-a-bool", fgp_returns_string, "True or False"),
    ),
    right=(
        Right("get-with-defaults", fgp_right_get_default),
        Right("kit-check-request", fgp_right_kit),
    ),
)


# 14.3 · the CSRF check ---------------------------------------------------------------------------

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _token_ok(header: Any, claim: str) -> bool:
    return bool(header) and hmac.compare_digest(_sha(header), claim)


def csrf_origin_only(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    return method not in UNSAFE or origin == api


def csrf_token_only(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    return method not in UNSAFE or _token_ok(header, claim)


def csrf_startswith(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    ok = origin is not None and origin.startswith(api)
    return method not in UNSAFE or (ok and _token_ok(header, claim))


def csrf_host_only(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    same_host = origin is not None and urlsplit(origin).hostname == urlsplit(api).hostname
    return method not in UNSAFE or (same_host and _token_ok(header, claim))


def csrf_missing_origin_ok(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    if method not in UNSAFE:
        return True
    return (origin is None or origin == api) and _token_ok(header, claim)


def csrf_post_only(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    return method != "POST" or (origin == api and _token_ok(header, claim))


def csrf_raw_compare(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    return method not in UNSAFE or (origin == api and header == claim)


def csrf_substring(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    ok = origin is not None and origin in api
    return method not in UNSAFE or (ok and _token_ok(header, claim))


def csrf_right_safe_set(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    if method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return True
    if origin is None or origin != api or not isinstance(header, str) or not header:
        return False
    return hmac.compare_digest(hashlib.sha256(header.encode("utf-8")).hexdigest(), claim)


def csrf_right_kit(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    from labkit.errors import InvalidTokenError

    headers = {"Host": api.split("://", 1)[1]}
    if origin is not None:
        headers["Origin"] = origin
    if header is not None:
        headers[cookies.CSRF_HEADER] = header
    policy = cookies.BrowserPolicy(allowed_origins=(api,))
    try:
        cookies.check_request(
            policy, cookies.BrowserRequest(method, headers, {}), {"csrf": claim}, "cookie"
        )
    except InvalidTokenError:
        return False
    return True


BANK_14_3 = Bank(
    wrong=(
        Wrong("origin-only", csrf_origin_only, "without the CSRF token"),
        Wrong("token-only", csrf_token_only, "from another site with the right token"),
        Wrong("origin-startswith", csrf_startswith, "look-alike origin"),
        Wrong("same-host-is-enough", csrf_host_only, "from the same host without the port"),
        Wrong("missing-origin-allowed", csrf_missing_origin_ok, "without an Origin header"),
        Wrong("post-only", csrf_post_only, "PUT from the app's origin without the CSRF token"),
        Wrong("raw-compare", csrf_raw_compare, "with its CSRF token: your check refused"),
        Wrong("origin-substring", csrf_substring, "same host without the port"),
    ),
    right=(
        Right("explicit-safe-set", csrf_right_safe_set),
        Right("kit-check-request", csrf_right_kit),
    ),
)


# A walk-through's finds: look-alikes the first banks let through -------------------------------


def _blocklist_guard(template: str) -> Any:
    """A 'guard' that refuses only what it thought of: the word Domain and line breaks."""

    def token_cookie(token: str, lifetime: int) -> str:
        if "domain" in token.lower() or "\n" in token or "\r" in token:
            raise ValueError("suspicious token")
        return template.format(token=token, lifetime=lifetime)

    return token_cookie


def _escaped(token: str, lifetime: int) -> str:
    """Percent-encodes the token: an injected '; Domain=...' stays inside the value."""
    from urllib.parse import quote

    return _GOOD.format(token=quote(token, safe=""), lifetime=lifetime)


def fgp_truncated(digits: slice) -> Any:
    def fingerprint_ok(claims: dict, jar: dict) -> bool:
        expected, fingerprint = claims.get("fgp"), jar.get(FGP)
        if not isinstance(expected, str) or not fingerprint:
            return False
        return _sha(fingerprint)[digits] == expected[digits]

    return fingerprint_ok


def fgp_claim_in_digest(claims: dict, jar: dict) -> bool:
    expected, fingerprint = claims.get("fgp"), jar.get(FGP)
    return isinstance(expected, str) and bool(fingerprint) and expected in _sha(fingerprint)


def fgp_right_plain_equality(claims: dict, jar: dict) -> bool:
    """== on two hex digests is fine: the thief knows the hash, never the fingerprint."""
    expected, fingerprint = claims.get("fgp"), jar.get(FGP)
    return isinstance(expected, str) and bool(fingerprint) and _sha(fingerprint) == expected


def csrf_scheme_and_port(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    """Compares the scheme and the port, never the host."""
    if method not in UNSAFE:
        return True
    if not origin or origin == "null" or not origin.endswith(":" + api.rsplit(":", 1)[1]):
        return False
    return origin.split(":", 1)[0] == api.split(":", 1)[0] and _token_ok(header, claim)


def csrf_truncated_hash(method: str, origin: Any, header: Any, claim: str, api: str) -> bool:
    if method not in UNSAFE:
        return True
    return origin == api and bool(header) and _sha(header)[:16] == claim[:16]


def csrf_right_normalised_origin(
    method: str, origin: Any, header: Any, claim: str, api: str
) -> bool:
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        return True
    if not isinstance(origin, str) or origin.lower().rstrip("/") != api.lower():
        return False
    return isinstance(header, str) and hmac.compare_digest(_sha(header), claim)


BANKS = extended(
    {"14.1": BANK_14_1, "14.2": BANK_14_2, "14.3": BANK_14_3},
    wrong={
        "14.1": (
            Wrong(
                "session-cookie-no-max-age",
                _cookie(_GOOD.replace("; Max-Age={lifetime}", "")),
                "set Max-Age",
            ),
            Wrong(
                "max-age-zero",
                _cookie(_GOOD.replace("{lifetime}", "0")),
                "delete the cookie at once",
            ),
            Wrong(
                "max-age-not-digits",
                _cookie(_GOOD.replace("{lifetime}", "+{lifetime}")),
                "digits only",
            ),
        ),
        "14.2": (
            Wrong("first-16-hex-digits", fgp_truncated(slice(0, 16)), "compare all 64 hex digits"),
            Wrong("last-8-hex-digits", fgp_truncated(slice(-8, None)), "compare all 64 hex digits"),
            Wrong("claim-in-digest", fgp_claim_in_digest, "a token whose fgp is empty"),
        ),
        "14.3": (
            Wrong("scheme-and-port-only", csrf_scheme_and_port, "another host on the API's port"),
            Wrong("first-16-hex-digits", csrf_truncated_hash, "compare all 64 hex digits"),
        ),
    },
    right={
        "14.1": (
            Right("blocklist-guard-before-its-attributes", _blocklist_guard(_GOOD)),
            Right("token-percent-encoded", _escaped),
        ),
        "14.2": (Right("plain-equality-of-digests", fgp_right_plain_equality),),
        "14.3": (Right("origin-normalised", csrf_right_normalised_origin),),
    },
)

test_wrong_answer_is_refused, test_right_answer_is_accepted = bank_tests(BANKS)


@pytest.mark.parametrize("exercise_id", sorted(BANKS))
def test_the_solution_is_accepted(exercise_id: str) -> None:
    from labkit.exercises import evaluate

    assert evaluate(exercise_id, solved(exercise_id)).status == "correct"


@pytest.mark.skipif(browser.chromium_missing() is not None, reason=str(browser.chromium_missing()))
def test_the_solution_cookie_is_stored_hardened_by_chromium() -> None:
    """14.1's answer key, in a real browser: served on loopback, read back from the jar."""
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
    header = solved("14.1")(token, 900)

    @Request.application
    def app(request: Request) -> Response:
        response = Response("ok")
        response.headers["Set-Cookie"] = header
        return response

    def stored(chromium_browser: Any, url: str) -> tuple[dict, str]:
        context = chromium_browser.new_context()
        page = context.new_page()
        page.goto(url)
        (jar,) = context.cookies()
        script_sees = page.evaluate("document.cookie")
        context.close()
        return jar, script_sees

    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with browser.chromium() as chromium:
            cookie, readable = chromium.run(stored, f"http://127.0.0.1:{server.server_port}/")
    finally:
        server.shutdown()
        server.server_close()
    assert readable == ""  # HttpOnly: not readable by scripts
    assert cookie["value"] == token
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
