"""Where the probes go: HTTP to one URL, or calls of a verifier function in-process.

Safety lives in ``labkit.outbound``, the kit's one outbound-URL guard:
``check_target`` judges the URL as ``requests`` will send it and refuses any
host but loopback unless it is named in ``allow_hosts``; the HTTP transport
resolves an allowed name once and sends every probe to that address, with no
proxies from the environment, no redirects, at most 64 KiB of each answer
read and a timeout. Every transport counts its requests against the budget.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from labkit import __version__, outbound, tokens
from labkit.errors import ConfigurationError, LabkitError
from labkit.scan.findings import _cut
from labkit.scan.redact import redacted_url

DEFAULT_TIMEOUT = 5.0
"""Seconds to wait for each answer (connect and read); a local API answers in milliseconds."""
MAX_TIMEOUT = 60.0
"""The longest ``timeout`` accepted, in seconds (it must be more than 0)."""
MAX_REQUESTS = 60
"""The most requests one scan sends (a full scan needs about 25)."""
_MAX_BODY = 64 * 1024  # bytes of each answer read, at most

Target = str | Callable[[str], Any]


class ScanError(LabkitError):
    """The scan cannot run or finish: the target is down, slow, not HTTP, or refuses the token."""


class TargetRefusedError(ScanError, outbound.UnsafeURLError):
    """The URL names a host the scanner must not attack without the user's explicit say-so."""


def check_target(url: object, allow_hosts: Iterable[str] = ()) -> str | None:
    """Refuse a URL the scanner must not attack; for an allowed remote host, the reminder to print.

    Loopback targets (127.0.0.0/8, ::1, ``localhost`` as 127.0.0.1) return
    None. Any other host must be named in ``allow_hosts`` exactly, or
    ``TargetRefusedError`` is raised before anything is resolved or sent.
    """
    destination = _judged(url, allow_hosts)
    if destination.local:
        return None
    return (
        f"scanning {destination.host}, which is not this machine: "
        "make sure you have the owner's permission to test it"
    )


def _judged(url: object, allow_hosts: Iterable[str]) -> outbound.Destination:
    """The destination ``labkit.outbound`` judged for ``url``, or ``TargetRefusedError``."""
    if isinstance(allow_hosts, str):
        allow_hosts = [allow_hosts]
    try:
        return outbound.judge(url, outbound.Policy.allowing(allow_hosts))
    except outbound.HostNotAllowedError as exc:
        raise TargetRefusedError(
            f"refusing to scan {exc.host}: only loopback targets are scanned by default",
            f"if you have permission to test it, name it with --allow-host {exc.host}",
            host=exc.host,
        ) from None
    except outbound.UnsafeURLError as exc:
        raise TargetRefusedError(f"refusing to scan: {exc.message}", exc.why) from None


# Transports: the same probes over HTTP or in-process ---------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int | None
    accepted: bool
    body: str
    detail: str = ""


class _Budget(Exception):
    """The request budget is spent."""


class _Transport:
    label = ""
    requests = 0
    origin: str | None = None
    local = True  # the target is this machine (a loopback URL, or a function in this process)
    note = ""  # what the report should say about where the requests went

    def send(self, token: str | None) -> _Answer:
        raise NotImplementedError

    def get_json(self, path: str) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""


class _Http(_Transport):
    """Requests to one judged URL through ``labkit.outbound``: pinned address, bounded answers."""

    def __init__(
        self,
        destination: outbound.Destination,
        header: str,
        cookie: str | None,
        canary: str | None,
        timeout: float,
        max_requests: int,
        cookies: dict[str, str] | None = None,
    ) -> None:
        self.cookies = dict(cookies or {})  # sent with every request, beside the token
        self.url = destination.url
        self.label = f"GET {redacted_url(destination.path)}"  # reports name it: no secrets
        self.origin, self.local = destination.origin, destination.local
        self.header, self.cookie, self.canary = header, cookie, canary
        self.timeout, self.max_requests = timeout, max_requests
        try:  # an allowed name is resolved here, once: every probe goes to these addresses
            self.session = outbound.GuardedSession(
                destination, user_agent=f"labkit-scan/{__version__}"
            )
        except outbound.FetchError as exc:
            raise ScanError(f"cannot scan {self.url}: {exc.message}") from None
        if not self.local:
            pinned = ", ".join(self.session.destination.addresses)
            self.note = (
                f"scanned {destination.host}, which is not this machine (with the owner's "
                f"permission, you said); its name was resolved once, to {pinned}, "
                "and every request went there"
            )

    def send(self, token: str | None) -> _Answer:
        headers: dict[str, str] = {}
        cookies: dict[str, str] = dict(self.cookies)
        if token is not None:
            if self.cookie is not None:
                cookies[self.cookie] = token
            elif self.header.lower() == "authorization":
                headers[self.header] = f"Bearer {token}"
            else:
                headers[self.header] = token
        status, body = self._get(None, headers, cookies)
        seen = self.canary is None or self.canary in body
        accepted = 200 <= status < 300 and seen
        detail = ""
        if self.canary is not None and 200 <= status < 300:
            detail = "canary seen" if seen else "no canary"
        elif 300 <= status < 400:
            detail = "redirect, not followed"
        return _Answer(status, accepted, body, detail)

    def get_json(self, path: str) -> Any:
        status, body = self._get(path, {}, {})
        if status != 200:
            return None
        try:
            return tokens.load_json(body, "answer")
        except LabkitError:  # not JSON, or hostile JSON (deep, huge numbers): nothing to read
            return None

    def _get(
        self, path: str | None, headers: dict[str, str], cookies: dict[str, str]
    ) -> tuple[int, str]:
        if self.requests >= self.max_requests:
            raise _Budget
        self.requests += 1
        try:
            reply = self.session.get(
                path, headers=headers, cookies=cookies, timeout=self.timeout, max_bytes=_MAX_BODY
            )
        except outbound.FetchError as exc:
            if exc.timed_out:
                raise ScanError(
                    f"{self.url} did not answer within {self.timeout:g} s (timeout)",
                    "the target is too slow or hangs; try --timeout with more seconds",
                ) from None
            raise ScanError(exc.message) from None
        return reply.status, reply.text

    def close(self) -> None:
        self.session.close()


class _Verifier(_Transport):
    """Calls of a verifier function: it accepts by returning, refuses by raising a labkit error."""

    def __init__(self, verifier: Callable[[str], Any], max_requests: int) -> None:
        self.verifier = verifier
        self.label = f"verifier {getattr(verifier, '__name__', type(verifier).__name__)}"
        self.max_requests = max_requests

    def send(self, token: str | None) -> _Answer:
        if self.requests >= self.max_requests:
            raise _Budget
        self.requests += 1
        try:
            claims = self.verifier("" if token is None else token)
        except LabkitError as exc:
            return _Answer(None, False, "", f"refused: {type(exc).__name__}")
        except Exception as exc:  # a crash is not an acceptance, but it is worth a look
            return _Answer(None, False, "", f"crashed: {type(exc).__name__}: {_cut(str(exc), 60)}")
        body = json.dumps(claims, default=str) if isinstance(claims, dict) else ""
        return _Answer(None, True, body, "returned the claims")

    def get_json(self, path: str) -> Any:
        return None


def _transport(
    target: Target,
    header: str,
    cookie: str | None,
    canary: str | None,
    allow_hosts: Iterable[str],
    timeout: float,
    max_requests: int,
    cookies: dict[str, str] | None = None,
) -> _Transport:
    if isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 3:
        raise ConfigurationError(f"max_requests must be an integer >= 3, got {max_requests!r}")
    if callable(target):
        return _Verifier(target, max_requests)
    destination = _judged(target, allow_hosts)
    if (
        not isinstance(timeout, (int, float))
        or isinstance(timeout, bool)
        or not 0 < timeout <= MAX_TIMEOUT
    ):
        raise ConfigurationError(
            f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds, got {timeout!r}"
        )
    for option, name in (("header", header), ("cookie", cookie)):
        if name is not None and not isinstance(name, str):
            raise ConfigurationError(f"{option} must be a {option} name, got {type(name).__name__}")
    # names only here (values are the probes' tokens): CR/LF, ';', '=' would add fields
    outbound.check_fields({header: ""}, None if cookie is None else {cookie: ""})
    outbound.check_fields(None, cookies)
    if canary is not None and (not isinstance(canary, str) or not canary):
        raise ConfigurationError("canary must be non-empty text")
    return _Http(destination, header, cookie, canary, float(timeout), max_requests, cookies)
