"""Run the local API (gateway, authorizer, identity provider, demo API) on loopback.

::

    with labkit.aws.serve(preset="alg-none") as api:
        requests.get(f"{api.url}/api/profile", headers={"Authorization": f"Bearer {token}"})

``serve`` builds the preset's service, binds werkzeug's threaded server to
127.0.0.1 on a port the OS picks, serves from a daemon thread, and shuts the
server down when the block ends. ``labkit serve`` runs the same until Ctrl-C.

Only loopback addresses are accepted: the vulnerable presets are
deliberately broken and the keys are published demo keys, so the server must
never be reachable from the network.

A handful of slow clients cannot starve it: each connection has
``read_timeout`` seconds (``READ_TIMEOUT``) to send its whole request, however
it trickles the bytes (a slowloris sends a header byte every second and
never finishes), and at most ``max_connections`` (``MAX_CONNECTIONS``) are
served at once by as many threads; the rest wait in the listen backlog.
TLS handshakes happen in those threads under the same deadline, not in the
thread that accepts connections.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from labkit.aws import backend, presets, wire
from labkit.aws.cache import DEFAULT_TTL
from labkit.aws.clock import Clock, system_clock
from labkit.aws.cookies import BrowserAuthorizer
from labkit.aws.gateway import Gateway, LambdaHandler, Route
from labkit.aws.idp import ROUTES as IDP_ROUTES
from labkit.aws.idp import IdentityProvider
from labkit.aws.jwt_authorizer import JwtAuthorizer, RestJwtAuthorizer, TrustedIssuer
from labkit.errors import ConfigurationError

__all__ = [
    "MAX_CONNECTIONS",
    "MODES",
    "READ_TIMEOUT",
    "Api",
    "Lab",
    "create_lab",
    "listen",
    "publish",
    "serve",
    "url_of",
]

log = logging.getLogger(__name__)

READ_TIMEOUT = 10.0
"""Seconds a connection has to deliver its request (TLS handshake, line, headers, body)."""
MAX_CONNECTIONS = 64
"""Connections served at once (one thread each); more wait in the listen backlog."""
_DRAIN_WAIT = 0.05  # seconds to wait for more of a body nobody will read

Mode = Literal["rest", "http", "jwt", "rest-jwt"]
"""REST + Lambda authorizer, HTTP API + Lambda authorizer, HTTP API JWT authorizer, REST API JWT
authorizer (the last two are AWS's own: ``labkit.aws.jwt_authorizer``)."""
MODES: tuple[str, ...] = ("rest", "http", "jwt", "rest-jwt")
_JWT_MODES = ("jwt", "rest-jwt")


@dataclass
class Lab:
    """Everything behind one local API: the gateway (WSGI app), its IdP, its authorizer."""

    gateway: Gateway
    idp: IdentityProvider
    service: presets.Service
    authorizer: LambdaHandler | None
    clock: Clock

    def close(self) -> None:
        self.service.close()


def create_lab(
    preset: str = "hardened",
    *,
    mode: Mode = "rest",
    authorizer_type: Literal["TOKEN", "REQUEST"] = "TOKEN",
    cache_ttl: float = DEFAULT_TTL,
    clock: Clock | None = None,
    authorizer: LambdaHandler | None = None,
    token_validation: str | None = None,
    identity_sources: Sequence[str] = ("Authorization",),
) -> Lab:
    """Build the gateway for ``preset`` without serving it (tests can call it as a WSGI app).

    ``authorizer`` replaces the preset's Lambda authorizer with any
    ``(event, context)`` function (the source article's, say).
    ``identity_sources`` are the Lambda authorizer's cache key (e.g. add
    ``$context.routeKey`` for one cached answer per route, see ``Gateway``).
    """
    clock = system_clock if clock is None else clock
    if mode not in MODES:
        raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode in _JWT_MODES and preset != "hardened":
        raise ConfigurationError(
            f"preset {preset!r} needs a Lambda authorizer; mode {mode!r} is AWS's own JWT "
            "authorizer",
            "use mode 'rest' or 'http' for the vulnerable presets",
        )
    service = presets.build(preset, clock=clock)
    idp = service.idp
    if authorizer is None and mode not in _JWT_MODES:
        # The kit's authorizer, with the preset's checks of browser-carried tokens (cookies.py)
        authorizer = BrowserAuthorizer(
            service.config,
            key=service.key,
            verifier=service.verifier,
            is_revoked=idp.is_revoked,
            clock=clock,
            browser=service.browser,
        )
    routes = [  # /login and /refresh also bind tokens to a DPoP key (RFC 9449 section 5)
        Route(m, p, idp.dpop_handle if (m, p) in idp.DPOP_ROUTES else idp.handle, authorize=False)
        for m, p in IDP_ROUTES
    ]
    routes += [
        Route(method, path, backend.handler, authorize=auth, scopes=scopes)
        for method, path, auth, scopes in backend.ROUTES
    ]
    jwt: JwtAuthorizer | RestJwtAuthorizer | None = None
    if mode == "jwt":
        jwt = JwtAuthorizer(idp.issuer, (idp.audience,), idp.jwks)
    elif mode == "rest-jwt":  # the IdP's keys are found by OIDC discovery, over real HTTP
        jwt = RestJwtAuthorizer((TrustedIssuer(idp.issuer, (idp.audience,)),))
    gateway = Gateway(
        routes,
        kind=mode,
        authorizer=None if mode in _JWT_MODES else authorizer,
        authorizer_type=authorizer_type,
        token_validation=token_validation,
        identity_sources=identity_sources,
        cache_ttl=cache_ttl,
        clock=clock,
        jwt=jwt,
    )
    gateway.dpop = presets.dpop_guard(preset, clock=clock)  # RFC 9449: labkit.aws.dpop_guard
    return Lab(gateway, idp, service, authorizer, clock)


@dataclass
class Api:
    """A running local API: its base ``url`` and the parts behind it."""

    url: str
    preset: str
    mode: Mode
    lab: Lab
    certificate: Path | None = None  # with tls=True: the demo certificate to trust

    @property
    def gateway(self) -> Gateway:
        return self.lab.gateway

    @property
    def idp(self) -> IdentityProvider:
        return self.lab.idp

    @property
    def clock(self) -> Clock:
        return self.lab.clock

    def __repr__(self) -> str:
        return f"<local API {self.url} preset={self.preset} mode={self.mode}>"


@contextmanager
def serve(
    preset: str = "hardened",
    *,
    mode: Mode = "rest",
    authorizer_type: Literal["TOKEN", "REQUEST"] = "TOKEN",
    host: str = "127.0.0.1",
    port: int = 0,
    cache_ttl: float = DEFAULT_TTL,
    clock: Clock | None = None,
    authorizer: LambdaHandler | None = None,
    token_validation: str | None = None,
    quiet: bool = True,
    tls: bool = False,
    read_timeout: float = READ_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    identity_sources: Sequence[str] = ("Authorization",),
) -> Iterator[Api]:
    """Serve the local API in a background thread for the length of a ``with`` block.

    ``port=0`` lets the OS pick a free port (see ``api.url``). ``clock`` (a
    ``FrozenClock``) stops time for the IdP, the authorizer and the cache at
    once. ``quiet=False`` logs each request to the ``labkit.aws.server`` logger.
    ``tls=True`` serves HTTPS with a DEMO ONLY self-signed certificate for
    127.0.0.1; clients pass ``verify=api.certificate``. ``read_timeout`` and
    ``max_connections`` bound what slow or idle clients can hold (see the module).
    """
    if tls and mode == "rest-jwt":
        raise ConfigurationError(
            "mode 'rest-jwt' is served over http only",
            "its OIDC discovery goes through the kit's outbound guard, which checks TLS "
            "certificates and does not trust the DEMO ONLY certificate",
        )
    lab = create_lab(
        preset,
        mode=mode,
        authorizer_type=authorizer_type,
        cache_ttl=cache_ttl,
        clock=clock,
        authorizer=authorizer,
        token_validation=token_validation,
        identity_sources=identity_sources,
    )
    certificate = context = None
    try:
        if tls:
            folder = lab.service.resources.enter_context(
                tempfile.TemporaryDirectory(prefix="labkit-tls-")
            )
            certificate, key = wire.demo_certificate(folder)
            context = wire.server_context(certificate, key)
        server = listen(
            lab.gateway,
            host,
            port,
            quiet=quiet,
            ssl_context=context,
            read_timeout=read_timeout,
            max_connections=max_connections,
        )
    except BaseException:
        lab.close()
        raise
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # shutdown() waits for one poll: keep it short
        name="labkit-gateway",
        daemon=True,
    )
    thread.start()
    try:
        url = url_of(host, server.server_port, tls=tls)
        publish(lab, url)
        yield Api(url, preset, mode, lab, certificate)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        lab.close()


def publish(lab: Lab, url: str, *, discover: bool = True) -> None:
    """Tell the IdP where its keys are served; a REST JWT authorizer discovers them now.

    AWS reads the issuer's discovery document when either JWT authorizer is created;
    here the server's URL is known only once it listens, so discovery runs
    then (``discover=False``: at the first request, for a server not yet
    serving), over real HTTP through ``labkit.outbound``; in ``serve`` a
    failure stops it with one line.
    """
    lab.idp.jwks_uri = f"{url}/.well-known/jwks.json"
    jwt = lab.gateway.jwt
    if isinstance(jwt, RestJwtAuthorizer):
        jwt.locate(lab.idp.issuer, url)
        if discover:
            jwt.discover()
    elif isinstance(jwt, JwtAuthorizer) and discover:  # as AWS creates it: from the document
        lab.gateway.jwt = JwtAuthorizer.from_discovery(
            url, jwt.audience, jwks_max_age=jwt.jwks_max_age, algorithms=jwt.algorithms
        )


def listen(
    app: Gateway,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    quiet: bool = True,
    ssl_context: ssl.SSLContext | None = None,
    read_timeout: float = READ_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> BaseWSGIServer:
    """A threaded werkzeug server for ``app`` on a loopback ``host`` (not yet serving)."""
    _check_loopback(host)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigurationError(f"port must be 0 to 65535, got {port!r}")
    if isinstance(read_timeout, bool) or not isinstance(read_timeout, (int, float)):
        raise ConfigurationError(f"read_timeout must be seconds, got {read_timeout!r}")
    if not 0 < read_timeout <= 3600:
        raise ConfigurationError(f"read_timeout must be over 0 and at most 3600 s: {read_timeout}")
    if isinstance(max_connections, bool) or not isinstance(max_connections, int):
        raise ConfigurationError(f"max_connections must be an integer, got {max_connections!r}")
    if not 1 <= max_connections <= 10_000:
        raise ConfigurationError(f"max_connections must be 1 to 10000, got {max_connections}")
    handler = type(
        "Handler", (_JsonErrorsHandler,), {"quiet": quiet, "read_timeout": float(read_timeout)}
    )
    server = _bind(host, port, app, handler, max_connections)
    if ssl_context is not None:  # the handshake runs in the connection's thread, with its deadline
        server.socket = ssl_context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        server.ssl_context = ssl_context
    return server


def _bind(host: str, port: int, app: Any, handler: type, max_connections: int) -> _BoundedServer:
    """The bound server, or one ``ConfigurationError`` line (a busy port says so).

    werkzeug's server prints the bind error to stderr and calls ``sys.exit(1)``
    instead of raising, so the error is caught and its text kept for the message.
    """
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            return _BoundedServer(host, port, app, handler, max_connections=max_connections)
    except (SystemExit, OSError) as exc:
        reason = " ".join(said.getvalue().split()) or str(getattr(exc, "strerror", "") or exc)
        if "in use" in reason:
            raise ConfigurationError(
                f"port {port} on {host} is already in use",
                "stop what uses it, or pass port 0 to let the OS pick a free port",
            ) from None
        raise ConfigurationError(f"cannot listen on {host}:{port}: {reason}") from None


class _BoundedServer(ThreadedWSGIServer):
    """werkzeug's threaded server, with at most ``max_connections`` threads at a time."""

    def __init__(self, *args: Any, max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._closing = threading.Event()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Wait for a free slot (the accept loop pauses: new clients queue in the backlog)."""
        while not self._slots.acquire(timeout=0.05):
            if self._closing.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def shutdown(self) -> None:
        self._closing.set()
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke below HTTP (a bad TLS handshake, say): one line, no traceback."""
        error = sys.exc_info()[1]
        log.info("connection from %s dropped: %s", client_address, type(error).__name__)


class _DeadlineReader(socket.SocketIO):
    """A socket reader that refuses to wait past the connection's deadline.

    The socket timeout alone bounds each wait, so a client sending a byte a
    second would never trip it; the deadline bounds the whole request.

    Once the answer is on its way (``draining``), werkzeug reads and discards
    whatever body the app left unread; then a read takes only what has
    already arrived, so a client that keeps its end open does not hold the
    thread until the deadline.
    """

    def __init__(self, sock: socket.socket, deadline: float, idle: float) -> None:
        super().__init__(sock, "rb")
        self._deadline, self._idle = deadline, idle
        self.draining = False

    def readinto(self, buffer: Any) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took longer than the server's read timeout")
        if self.draining:
            self._sock.settimeout(min(left, _DRAIN_WAIT))
            try:
                return self._sock.recv_into(buffer)
            except TimeoutError:
                return 0  # nothing more has arrived: the discarded body ends here
        self._sock.settimeout(min(left, self._idle))
        return super().readinto(buffer)


def _check_loopback(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigurationError(
            f"refusing to listen on {host!r}: the local API binds loopback only (127.0.0.1, ::1)",
            "its presets are deliberately vulnerable and its keys are published demo keys",
        )


def url_of(host: str, port: int, *, tls: bool = False) -> str:
    """The base URL of a server on ``host``:``port`` (IPv6 literals in brackets)."""
    scheme = "https" if tls else "http"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class _JsonErrorsHandler(WSGIRequestHandler):
    """werkzeug's handler, with JSON for errors raised before the app runs, and quiet logs.

    Requests whose headers are too long or too many never reach the WSGI
    app: ``http.server`` answers them itself, in HTML. The gateway's contract
    is JSON everywhere, so ``send_error`` is rewritten.
    """

    quiet = True
    read_timeout = READ_TIMEOUT

    def setup(self) -> None:
        self.timeout = self.read_timeout  # socketserver applies it to the socket
        super().setup()
        deadline = time.monotonic() + self.read_timeout
        self._reader = _DeadlineReader(self.connection, deadline, self.timeout)
        self.rfile = io.BufferedReader(self._reader)

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (OSError, ValueError) as exc:  # ssl.SSLError and timeouts are OSErrors
                log.info("TLS handshake with %s failed: %s", self.client_address, exc)
                return
        super().handle()

    def send_response(self, code: int, message: str | None = None) -> None:
        self.connection.settimeout(self.timeout)  # the answer gets the full timeout to go out
        self._reader.draining = True  # the app has read what it needed (the gateway never streams)
        super().send_response(code, message)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        body = json.dumps({"message": message or phrase}).encode("utf-8")
        self.send_response(code, phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log(self, type: str, message: str, *args: Any) -> None:
        if not self.quiet:
            log.info("%s - %s", self.address_string(), message % args)
