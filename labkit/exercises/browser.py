"""Exercises for notebook 14: tokens in the browser.

14.1 reads the learner's ``Set-Cookie`` for the token as a browser would
(RFC 6265bis section 5.6: attribute names in any case, the last of a repeated
attribute wins) and throws a token with an attacker's ``; Domain=...`` at it.
14.2 holds a fingerprint check (OWASP JWT cheat sheet, "Token sidejacking") to
the requests a token thief can send: no cookie, a wrong one, the hash copied
from the stolen token, a token without ``fgp``. 14.3 holds a CSRF check (OWASP
CSRF Prevention Cheat Sheet) to forged requests: a sibling origin on the same
site, look-alike origins, no ``Origin``, the right origin without the token,
every state-changing method.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from labkit.exercises import NOT_ATTEMPTED, Exercise

__all__ = ["EXERCISES", "FINGERPRINT_COOKIE"]

FINGERPRINT_COOKIE = "__Host-fgp"
"""The fingerprint cookie's name in 14.2 (``labkit.aws.cookies.FINGERPRINT_COOKIE``)."""

_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fake_token() -> str:
    """A compact-JWT-shaped value, fresh each run (a hard-coded answer cannot match it)."""
    return ".".join(secrets.token_urlsafe(n) for n in (12, 48, 32))


# 14.1 · the token cookie -------------------------------------------------------------------------


def _attributes(header: str) -> tuple[str, str, dict[str, str]]:
    """Name, value and attributes (lowercase names; the last of a repeated one wins)."""
    pair, *rest = header.split(";")
    name, _, value = pair.partition("=")
    attributes: dict[str, str] = {}
    for item in rest:
        key, _, text = item.strip().partition("=")
        attributes[key.strip().lower()] = text.strip()
    return name.strip(), value.strip(), attributes


def _cookie(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    token, lifetime = _fake_token(), 300 + secrets.randbelow(3300)
    header = answer(token, lifetime)
    if header is None:
        return NOT_ATTEMPTED
    if not isinstance(header, str):
        return f"return the Set-Cookie value as a str, not {type(header).__name__}"
    if header.lower().startswith("set-cookie:"):
        return "return the header's value only, without 'Set-Cookie:'"
    name, value, attributes = _attributes(header)
    if value != token:
        return "the cookie's value must be the token itself (no 'Bearer ', no quotes)"
    if "httponly" not in attributes:
        return "no HttpOnly: any script in the page (an XSS payload) reads document.cookie"
    if "secure" not in attributes:
        return "no Secure: the browser would send the token over plain http://"
    same_site = attributes.get("samesite", "").capitalize()
    if same_site not in ("Strict", "Lax"):
        shown = f"SameSite={attributes['samesite']}" if "samesite" in attributes else "no SameSite"
        return (
            f"{shown}: say SameSite=Strict (or Lax) explicitly; None sends the cookie with "
            "cross-site requests, and browsers differ on the default"
        )
    if "domain" in attributes:
        return "drop Domain: it shares the cookie with every subdomain (host-only is the default)"
    if attributes.get("path") != "/":
        return "set Path=/ (a __Host- cookie must have it)"
    if not name.startswith("__Host-"):
        return (
            f"name it __Host-... (not {name!r}): the browser then refuses any such cookie set "
            "without Secure, with a Domain or another Path, so a sibling site cannot plant one"
        )
    if "expires" in attributes:
        return "use Max-Age, not Expires (Expires is read on the client's clock)"
    problem = _max_age(attributes.get("max-age"), lifetime)
    if problem is not None:
        return problem
    for evil in (
        f"{token}; Domain=attacker.example",
        f"{token}\r\nSet-Cookie: admin=1",
        f"{token}; Domain=attacker.example; SameSite=None",
    ):
        try:
            injected = answer(evil, lifetime)
        except Exception:  # refusing is right: the token is not a token
            continue
        if not isinstance(injected, str):
            continue
        # As a browser reads it: the same name and attributes as the honest cookie, or the
        # 'token' smuggled attributes in (an escaped or trimmed token is harmless).
        if "\r" in injected or "\n" in injected or _attributes(injected)[::2] != (name, attributes):
            return (
                "a 'token' with '; Domain=attacker.example' (or a line break) went into your "
                "header as attributes: refuse anything but base64url and dots"
            )
    return None


def _max_age(text: str | None, lifetime: int) -> str | None:
    """Max-Age as RFC 6265bis section 5.6.2 reads it: ASCII digits (an optional '-'), or ignored."""
    if text is None:
        return (
            "set Max-Age to the token's lifetime: without it the cookie lasts the whole "
            "browser session, which browsers restore for days"
        )
    if not re.fullmatch(r"-?[0-9]+", text):
        return (
            f"Max-Age={text} is not a number of seconds to a browser (digits only), so it "
            "ignores it and keeps the cookie for the whole session"
        )
    age = int(text)
    if age <= 0:
        return (
            f"Max-Age={age} makes the browser delete the cookie at once: use the token's lifetime"
        )
    if age > lifetime:
        return (
            f"Max-Age={age} outlives the token ({lifetime} s): a stale token in the jar helps "
            "nobody but a thief; use the token's lifetime"
        )
    return None


# 14.2 · the fingerprint check --------------------------------------------------------------------


def _fingerprint(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    fingerprint = secrets.token_urlsafe(32)
    claims = {"sub": "alice", "fgp": _sha256(fingerprint)}
    cases = (
        ("the right cookie", claims, {FINGERPRINT_COOKIE: fingerprint}, True),
        (
            "the right cookie, and others",
            claims,
            {"theme": "dark", FINGERPRINT_COOKIE: fingerprint},
            True,
        ),
        ("no cookie at all (the thief's replay)", claims, {}, False),
        ("another fingerprint", claims, {FINGERPRINT_COOKIE: secrets.token_urlsafe(32)}, False),
        (
            "the hash copied from the stolen token",
            claims,
            {FINGERPRINT_COOKIE: claims["fgp"]},
            False,
        ),
        ("an empty cookie", claims, {FINGERPRINT_COOKIE: ""}, False),
        ("a token without fgp", {"sub": "alice"}, {FINGERPRINT_COOKIE: fingerprint}, False),
        ("a token without fgp and no cookie", {"sub": "alice"}, {}, False),
        (
            "fgp that is not a string",
            {"sub": "alice", "fgp": [claims["fgp"]]},
            {FINGERPRINT_COOKIE: fingerprint},
            False,
        ),
        ("the fingerprint under another name", claims, {"__Secure-Fgp": fingerprint}, False),
        (
            "a token whose fgp is empty",
            {"sub": "alice", "fgp": ""},
            {FINGERPRINT_COOKIE: fingerprint},
            False,
        ),
        *(
            (
                f"a cookie whose SHA-256 differs from fgp in hex digit {i + 1} of 64 only",
                {"sub": "alice", "fgp": _one_digit_off(claims["fgp"], i)},
                {FINGERPRINT_COOKIE: fingerprint},
                False,
            )
            for i in (0, 31, 63)
        ),
    )
    for what, given_claims, cookies, expected in cases:
        try:
            got = answer(dict(given_claims), dict(cookies))
        except Exception as exc:
            return (
                f"with {what} your function raised {type(exc).__name__}: refuse with False "
                "(an exception in an authorizer is a 500)"
            )
        if got is None:
            return NOT_ATTEMPTED
        if not isinstance(got, bool):
            return f"return True or False, not {type(got).__name__}"
        if got != expected:
            verdict = "accepted" if got else "refused"
            return f"with {what}, your check {verdict} the request{_whole_hash(what, got)}"
    return None


def _one_digit_off(digest: str, i: int) -> str:
    """``digest`` (hex) with hex digit ``i`` changed: a hash that matches in every other place."""
    return digest[:i] + format((int(digest[i], 16) + 1) % 16, "x") + digest[i + 1 :]


def _whole_hash(what: str, accepted: bool) -> str:
    if accepted and "hex digit" in what:
        return (
            ": compare all 64 hex digits (hmac.compare_digest on the whole hexdigest); against "
            "a shorter compare a thief searches for a value whose hash matches"
        )
    return ""


# 14.3 · the CSRF check ---------------------------------------------------------------------------


def _csrf(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    port = 20000 + secrets.randbelow(20000)
    api = f"http://127.0.0.1:{port}"
    token = secrets.token_urlsafe(32)
    claim = _sha256(token)
    cases: list[tuple[str, str, str | None, str | None, bool]] = [
        ("GET from another site, no token", "GET", "http://evil.example", None, True),
    ]
    for method in _UNSAFE:
        cases.append((f"{method} from the app, with its CSRF token", method, api, token, True))
    for method in _UNSAFE:
        cases += [
            (f"{method} from the app's origin without the CSRF token", method, api, None, False),
            (
                f"{method} from a sibling port, same site, no token",
                method,
                f"http://127.0.0.1:{port + 1}",
                None,
                False,
            ),
            (
                f"{method} from another site with the right token",
                method,
                "http://localhost:1",
                token,
                False,
            ),
        ]
    cases += [
        ("POST without an Origin header", "POST", None, token, False),
        ("POST with Origin: null (a sandboxed iframe)", "POST", "null", token, False),
        ("POST from the same host without the port", "POST", "http://127.0.0.1", token, False),
        ("POST from a look-alike origin", "POST", f"{api}.evil.example", token, False),
        (
            "POST from another host on the API's port",
            "POST",
            f"http://localhost:{port}",
            token,
            False,
        ),
        (
            "POST over https to the same host and port",
            "POST",
            f"https://127.0.0.1:{port}",
            token,
            False,
        ),
        ("POST with the claim's hash as the token", "POST", api, claim, False),
        ("POST with an empty CSRF token", "POST", api, "", False),
        ("POST with a different CSRF token", "POST", api, secrets.token_urlsafe(32), False),
    ]
    claims = {what: claim for what, *_ in cases}
    for i in (0, 31, 63):
        what = f"POST with a CSRF token whose SHA-256 differs from the claim in hex digit {i + 1}"
        cases.append((what, "POST", api, token, False))
        claims[what] = _one_digit_off(claim, i)
    for what, method, origin, header, expected in cases:
        try:
            got = answer(method, origin, header, claims[what], api)
        except Exception as exc:
            return f"{what}: your function raised {type(exc).__name__}; answer False instead"
        if got is None:
            return NOT_ATTEMPTED
        if not isinstance(got, bool):
            return f"return True or False, not {type(got).__name__}"
        if got != expected:
            verdict = "allowed" if got else "refused"
            return f"{what}: your check {verdict} it{_whole_hash(what, got)}"
    return None


EXERCISES = (
    Exercise(
        id="14.1",
        title="The token's cookie",
        verify=_cookie,
        hints=(
            "Four attributes do the work: HttpOnly (no script reads it), Secure (https only), "
            "SameSite (not sent by cross-site requests), and the __Host- prefix with Path=/ "
            "and no Domain (only this host, and nobody else can set it).",
            "Refuse a token that is not base64url and dots before writing it into the header: "
            "'; Domain=...' would become an attribute. Max-Age is the token's lifetime.",
        ),
        solution="""\
def token_cookie(token: str, lifetime: int) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+", token):
        raise ValueError("not a compact JWT")
    return (
        f"__Host-access_token={token}; Path=/; Max-Age={lifetime}; "
        "Secure; HttpOnly; SameSite=Strict"
    )


answer = token_cookie""",
        starter="""\
def token_cookie(token: str, lifetime: int) -> str:
    ...  # your code here: the Set-Cookie value for the token


answer = token_cookie""",
        success="Scripts cannot read it, other sites cannot send it, and nobody else can set it.",
    ),
    Exercise(
        id="14.2",
        title="Check the fingerprint",
        verify=_fingerprint,
        hints=(
            "The token's fgp claim is the SHA-256 (hex) of the fingerprint; the cookie holds the "
            "fingerprint itself. Hash the cookie and compare; a thief knows the hash, not the "
            "fingerprint.",
            "Every token of this app is bound: no fgp, no cookie, or a claim that is not a "
            "string means False. Compare with hmac.compare_digest.",
        ),
        solution="""\
def fingerprint_ok(claims: dict, cookies: dict) -> bool:
    expected = claims.get("fgp")
    fingerprint = cookies.get("__Host-fgp")
    if not isinstance(expected, str) or not fingerprint:
        return False
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()
    return hmac.compare_digest(digest, expected)


answer = fingerprint_ok""",
        starter="""\
def fingerprint_ok(claims: dict, cookies: dict) -> bool:
    ...  # your code here


answer = fingerprint_ok""",
        success="A token stolen from the page is now useless without the HttpOnly cookie.",
    ),
    Exercise(
        id="14.3",
        title="Stop the forged request",
        verify=_csrf,
        hints=(
            "Safe methods (GET) pass. POST, PUT, PATCH and DELETE need BOTH: Origin equal to "
            "api_origin, exactly, and the CSRF header whose SHA-256 is the token's csrf claim.",
            "A missing Origin or 'null' is a refusal; so is any origin that only starts with or "
            "contains api_origin. Hash the header and compare with hmac.compare_digest.",
        ),
        solution="""\
def csrf_ok(method: str, origin, csrf_header, csrf_claim: str, api_origin: str) -> bool:
    if method not in ("POST", "PUT", "PATCH", "DELETE"):
        return True
    if origin != api_origin or not csrf_header:
        return False
    digest = hashlib.sha256(csrf_header.encode()).hexdigest()
    return hmac.compare_digest(digest, csrf_claim)


answer = csrf_ok""",
        starter="""\
def csrf_ok(method: str, origin, csrf_header, csrf_claim: str, api_origin: str) -> bool:
    ...  # your code here


answer = csrf_ok""",
        success="SameSite narrows who can send the cookie; this check decides what they can do.",
    ),
)
