"""Tokens that travel in cookies: where the authorizer reads them, CSRF defence, fingerprints.

A browser app keeps its access token in one of three places, and each needs
its own checks on the API side (notebook 14):

- ``localStorage`` / ``sessionStorage`` plus an ``Authorization`` header: any
  script in the page (an XSS payload) can read the token and replay it from
  anywhere. OWASP's *token sidejacking* defence binds the token to the browser:
  a random fingerprint goes into a hardened cookie, its SHA-256 into the token
  (claim ``fgp``), and the API refuses the token without the matching cookie
  (https://cheatsheetseries.owasp.org/cheatsheets/JSON_Web_Token_for_Java_Cheat_Sheet.html
  "Token sidejacking"). A script can steal the token, not the ``HttpOnly`` cookie.
- an ``HttpOnly; Secure; SameSite`` cookie: scripts cannot read it, but the
  browser attaches it to requests other sites trigger (CSRF). ``SameSite``
  stops cross-*site* requests only; ``127.0.0.1:8001`` and ``127.0.0.1:8002``
  are the same site (RFC 6265bis section 5.2: a site is scheme and registrable
  domain, ports do not count). So a state-changing request carried by a cookie
  must also show an allowed ``Origin`` and a CSRF token the attacker cannot
  read (OWASP CSRF Prevention Cheat Sheet, "Synchronizer token" and "Verifying
  origin with standard headers":
  https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html).
  Here the CSRF token's SHA-256 is a claim (``csrf``) of the signed token, so
  the check needs no server-side state.
- a backend-for-frontend (BFF) holds the token; the browser holds only a
  session cookie (``labkit.browser``; OAuth 2.0 for Browser-Based Apps,
  https://datatracker.ietf.org/doc/html/draft-ietf-oauth-browser-based-apps).

API Gateway passes cookies to a Lambda authorizer, never picks one out: an
identity source names the whole ``Cookie`` header (``$request.header.Cookie``,
``method.request.header.Cookie``), and the authorizer parses it; HTTP APIs'
payload 2.0 also lists the cookies in ``cookies``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
"Identity sources", and the 2.0 event format). ``BrowserAuthorizer`` is the
kit's Lambda authorizer doing that. It needs the request (method, headers,
cookies), so it works with REQUEST authorizers and HTTP APIs; a REST TOKEN
authorizer sees one header only, and a token bound to a fingerprint is then
refused (fail closed).

Caching: the CSRF verdict depends on the method, ``Origin`` and the CSRF
header, not only on the cookie. An authorizer cache keyed on the ``Cookie``
alone would hand a same-origin Allow to the forged request that follows with
the same cookie: serve it with ``cache_ttl=0`` (as ``labkit.browser`` does) or
add those to the identity sources.

On ``http://127.0.0.1`` and ``http://localhost`` Chromium treats the origin as
potentially trustworthy: it stores and sends ``Secure`` cookies (since Chrome 89,
https://bugs.chromium.org/p/chromium/issues/detail?id=1056543), and Debian's
Chromium 156 takes the ``__Host-`` prefix there too (measured by
tests/test_browser_tokens.py; browsers have differed on prefixes on localhost:
https://github.com/httpwg/http-extensions/issues/2605).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from labkit.aws.authorizer import Authorizer, bearer_token
from labkit.errors import ConfigurationError, InvalidTokenError, shown

__all__ = [
    "CSRF_HEADER",
    "FINGERPRINT_CLAIM",
    "FINGERPRINT_COOKIE",
    "HARDENED",
    "STATE_CHANGING",
    "TOKEN_COOKIE",
    "BrowserAuthorizer",
    "BrowserPolicy",
    "BrowserRequest",
    "check_request",
    "digest",
    "new_secret",
    "parse_cookie_header",
    "set_cookie",
]


TOKEN_COOKIE = "__Host-access_token"
"""The token's cookie. ``__Host-``: Secure, Path=/, no Domain (RFC 6265bis 4.1.3.2)."""
FINGERPRINT_COOKIE = "__Host-fgp"
"""The fingerprint's cookie (OWASP names it ``__Secure-Fgp``; ``__Host-`` is stricter)."""
FINGERPRINT_CLAIM = "fgp"
"""The claim holding the fingerprint's SHA-256, hex."""
CSRF_CLAIM = "csrf"
"""The claim holding the CSRF token's SHA-256, hex."""
CSRF_HEADER = "X-CSRF-Token"
"""The header a page's own script sends the CSRF token in (other sites cannot set it cross-origin
without a CORS preflight the API never grants)."""
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that change state (RFC 9110 section 9.2.1: the others are safe)."""

_COOKIE_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
_MAX_COOKIE_HEADER = 8192
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BrowserPolicy:
    """What the authorizer demands of browser-carried tokens. The defaults are the safe choices.

    ``token_cookie``: read the token from this cookie when there is no
    ``Authorization`` header (None: header only). ``csrf``: a state-changing
    request whose token came from a cookie needs an allowed ``Origin`` and the
    CSRF token whose hash is in the token. ``fingerprint``: a token with an
    ``fgp`` claim needs the fingerprint cookie that hashes to it.
    ``allowed_origins``: the origins whose pages may send state-changing
    requests; empty means the API's own origin (the ``Host`` the browser sent).
    """

    token_cookie: str | None = TOKEN_COOKIE
    csrf: bool = True
    fingerprint: bool = True
    fingerprint_cookie: str = FINGERPRINT_COOKIE
    allowed_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (self.token_cookie, self.fingerprint_cookie):
            if name is not None and not (isinstance(name, str) and _COOKIE_NAME.fullmatch(name)):
                raise ConfigurationError(f"{shown(name)} is not a cookie name")
        if not isinstance(self.csrf, bool) or not isinstance(self.fingerprint, bool):
            raise ConfigurationError("csrf and fingerprint must be True or False")
        if isinstance(self.allowed_origins, str) or not all(
            isinstance(o, str) and _origin(o) == o for o in self.allowed_origins
        ):
            raise ConfigurationError(
                f"allowed_origins must be origins such as 'http://127.0.0.1:8000', "
                f"got {shown(self.allowed_origins)}"
            )


HARDENED = BrowserPolicy()
"""The safe choice of every option: the hardened preset's."""


@dataclass(frozen=True)
class BrowserRequest:
    """What the checks read from one request: method, headers (any case), cookies."""

    method: str
    headers: Mapping[str, str]
    cookies: Mapping[str, str]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


# Secrets, hashes and Set-Cookie ------------------------------------------------------------------


def new_secret() -> tuple[str, str]:
    """A fresh random value (32 bytes, base64url) and its SHA-256 (hex) for the token's claim."""
    value = secrets.token_urlsafe(32)
    return value, digest(value)


def digest(value: str) -> str:
    """SHA-256 of ``value`` as lowercase hex: what ``fgp`` and ``csrf`` claims hold."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def set_cookie(
    name: str,
    value: str,
    *,
    same_site: str = "Strict",
    http_only: bool = True,
    secure: bool = True,
    max_age: int | None = None,
) -> str:
    """A ``Set-Cookie`` value: Path=/, and the attributes asked for (the safe ones by default)."""
    if not _COOKIE_NAME.fullmatch(name) or not re.fullmatch(r"[A-Za-z0-9_.~-]*", value):
        raise ConfigurationError(f"cannot set cookie {shown(name)}={shown(value)}")
    if same_site not in ("Strict", "Lax", "None"):
        raise ConfigurationError(f"SameSite is Strict, Lax or None, not {shown(same_site)}")
    if same_site == "None" and not secure:
        raise ConfigurationError("SameSite=None needs Secure (browsers drop it otherwise)")
    parts = [f"{name}={value}", "Path=/"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    parts.append(f"SameSite={same_site}")
    return "; ".join(parts)


def parse_cookie_header(value: object) -> dict[str, str]:
    """``a=1; b=2`` as a dict; the first of a repeated name wins; malformed pairs are skipped.

    Browsers send the cookie with the longest path first, then the oldest
    (RFC 6265bis section 5.7.3), so the first is the one the app set; a later
    duplicate is what a sibling site could have planted ("cookie tossing").
    """
    if not isinstance(value, str) or len(value) > _MAX_COOKIE_HEADER:
        return {}
    cookies: dict[str, str] = {}
    for pair in value.split(";"):
        name, sep, text = pair.strip().partition("=")
        if sep and _COOKIE_NAME.fullmatch(name) and name not in cookies:
            cookies[name] = text.strip().strip('"')
    return cookies


# The checks --------------------------------------------------------------------------------------


def token_of(policy: BrowserPolicy, request: BrowserRequest) -> tuple[str, str]:
    """The token and where it came from (``"header"`` or ``"cookie"``); ``InvalidTokenError``."""
    authorization = request.header("authorization")
    if authorization is not None:
        return bearer_token(authorization), "header"
    if policy.token_cookie is not None:
        token = request.cookies.get(policy.token_cookie)
        if token:
            return token, "cookie"
    raise InvalidTokenError("no token: neither an Authorization header nor the token cookie")


def check_request(
    policy: BrowserPolicy, request: BrowserRequest, claims: Mapping[str, Any], source: str
) -> None:
    """Refuse (``InvalidTokenError``) what the policy forbids; the token is already verified."""
    if policy.fingerprint and FINGERPRINT_CLAIM in claims:
        expected = claims[FINGERPRINT_CLAIM]
        cookie = request.cookies.get(policy.fingerprint_cookie)
        if not isinstance(expected, str) or not _HEX64.fullmatch(expected):
            raise InvalidTokenError("the token's fgp claim is not a SHA-256 in hex")
        if not cookie or not hmac.compare_digest(digest(cookie), expected):
            raise InvalidTokenError(
                f"the token is bound to a fingerprint and the {policy.fingerprint_cookie} "
                "cookie is missing or does not match",
                "a token stolen from the page is useless without the HttpOnly cookie",
            )
    if policy.csrf and source == "cookie" and request.method.upper() in STATE_CHANGING:
        _check_origin(policy, request)
        expected = claims.get(CSRF_CLAIM)
        sent = request.header(CSRF_HEADER)
        if not isinstance(expected, str) or not _HEX64.fullmatch(expected):
            raise InvalidTokenError(
                "a cookie-carried token without a csrf claim cannot change state"
            )
        if not sent or not hmac.compare_digest(digest(sent), expected):
            raise InvalidTokenError(
                f"state-changing request without the right {CSRF_HEADER}",
                "the browser attaches cookies to forged requests; only the page knows the token",
            )


def _check_origin(policy: BrowserPolicy, request: BrowserRequest) -> None:
    origin = request.header("origin")
    if origin is None or origin == "null":
        raise InvalidTokenError("state-changing request without an Origin header")
    if _origin(origin) != origin:  # browsers send scheme://host[:port] and nothing else
        raise InvalidTokenError(
            f"Origin {shown(origin, 60)} is not an origin (scheme://host[:port])",
            "RFC 6454 section 6.1: an origin is serialized with nothing after the port",
        )
    if policy.allowed_origins:
        if origin not in policy.allowed_origins:
            raise InvalidTokenError(f"Origin {shown(origin)} is not allowed")
        return
    host = request.header("host")
    if not host or urlsplit(origin).netloc.lower() != host.lower():
        raise InvalidTokenError(f"Origin {shown(origin)} is not this API's origin")


def _origin(text: str) -> str | None:
    """``scheme://host[:port]`` of ``text``, or None (also for userinfo, a path, a bad port).

    ``Origin: http://[::1`` made ``urlsplit`` raise, a 500 from the authorizer (kit's
    red-team finding); ``//host``, ``foo://host`` and ``http://host/`` passed for the API's
    own origin. Any ValueError is "not an origin".
    """
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    if parts.path or parts.query or parts.fragment or "#" in text or "?" in text:
        return None
    return f"{parts.scheme}://{parts.netloc}"


# The authorizer ----------------------------------------------------------------------------------


class BrowserAuthorizer(Authorizer):
    """The kit's Lambda authorizer, reading cookie-carried tokens and enforcing ``policy``.

    Header-carried tokens without an ``fgp`` claim are judged exactly as by
    ``Authorizer``; everything else needs a REQUEST event (REST) or payload 2.0
    (HTTP API), which carry the method, the headers and the cookies.
    """

    def __init__(self, *args: Any, browser: BrowserPolicy = HARDENED, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(browser, BrowserPolicy):
            raise ConfigurationError(f"browser must be a BrowserPolicy, got {shown(browser)}")
        self.browser = browser

    def _event_claims(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """REQUEST and 2.0 events carry the method, headers and cookies: judged by the policy.
        (A TOKEN event carries one header and no cookies: ``claims`` below.)"""
        return self._judge(_request_of(event))

    def claims(self, token: str) -> dict[str, Any]:
        """``Authorizer.claims``, refusing a fingerprint-bound token: this path has no cookies.

        The TOKEN event's path (and any direct caller) ends here; REQUEST and 2.0
        events go through ``_judge``, which checks the fingerprint cookie instead.
        """
        claims = super().claims(token)
        if self.browser.fingerprint and FINGERPRINT_CLAIM in claims:
            raise InvalidTokenError("a fingerprint-bound token needs its cookie: a REQUEST event")
        return claims

    def _judge(self, request: BrowserRequest) -> dict[str, Any]:
        token, source = token_of(self.browser, request)
        claims = super().claims(token)  # verified; the fingerprint is checked just below
        check_request(self.browser, request, claims, source)
        return claims


def _request_of(event: Mapping[str, Any]) -> BrowserRequest:
    """Method, headers and cookies of a REQUEST (1.0) or payload 2.0 authorizer event."""
    raw = event.get("headers")
    headers = (
        {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
        if (isinstance(raw, Mapping))
        else {}
    )
    if event.get("version") == "2.0":
        method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "")
        listed = event.get("cookies")
        jar = "; ".join(c for c in listed if isinstance(c, str)) if isinstance(listed, list) else ""
    else:
        method = event.get("httpMethod", "")
        jar = next((v for k, v in headers.items() if k.lower() == "cookie"), "")
    return BrowserRequest(str(method), headers, parse_cookie_header(jar))


def policy_of(names: Sequence[str]) -> BrowserPolicy:
    """The hardened policy with the named safe choices turned off (for the presets)."""
    off = set(names)
    unknown = off - {"csrf", "fingerprint"}
    if unknown:
        raise ConfigurationError(f"unknown browser checks: {', '.join(sorted(unknown))}")
    return BrowserPolicy(csrf="csrf" not in off, fingerprint="fingerprint" not in off)
