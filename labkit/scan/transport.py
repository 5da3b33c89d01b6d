"""Where the probes go: HTTP to one URL, or calls of a verifier function in-process.

Safety lives here: ``check_target`` refuses any host but loopback unless it is
named in ``allow_hosts``; every transport counts its requests against the
budget; HTTP requests use no proxies from the environment, never follow
redirects, read at most 64 KiB of each answer and time out.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3

from labkit import __version__
from labkit.errors import ConfigurationError, LabkitError
from labkit.scan.findings import _cut

DEFAULT_TIMEOUT = 5.0
"""Seconds to wait for each answer (connect and read); a local API answers in milliseconds."""
MAX_REQUESTS = 60
"""The most requests one scan sends (a full scan needs about 25)."""
_MAX_BODY = 64 * 1024  # bytes of each answer read, at most

Target = str | Callable[[str], Any]


class ScanError(LabkitError):
    """The scan cannot run or finish: the target is down, slow, not HTTP, or refuses the token."""


class TargetRefusedError(ScanError, ConfigurationError):
    """The URL names a host the scanner must not attack without the user's explicit say-so."""


def check_target(url: object, allow_hosts: Iterable[str] = ()) -> str | None:
    """Refuse a URL the scanner must not attack; for an allowed remote host, the reminder to print.

    Loopback targets (127.0.0.0/8, ::1, ``localhost``) return None. Any other
    host must be named in ``allow_hosts`` exactly, or ``TargetRefusedError``
    is raised before anything is sent.
    """
    if not isinstance(url, str) or not url:
        raise TargetRefusedError(f"the target must be an http(s) URL, got {url!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise TargetRefusedError(f"cannot read the URL {url!r}: {exc}") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise TargetRefusedError(
            f"the target must be an http(s) URL with a host, got {url!r}",
            "for example http://127.0.0.1:8000/api/profile",
        )
    if _is_loopback(host):
        return None
    allowed = {str(name).strip().strip("[]").lower() for name in allow_hosts}
    if host not in allowed:
        raise TargetRefusedError(
            f"refusing to scan {host}: only loopback targets are scanned by default",
            f"if you have permission to test it, name it with --allow-host {host}",
        )
    return (
        f"scanning {host}, which is not this machine: "
        "make sure you have the owner's permission to test it"
    )


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

    def send(self, token: str | None) -> _Answer:
        raise NotImplementedError

    def get_json(self, path: str) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""


class _Http(_Transport):
    """Requests to one URL: no proxies, no redirects, bounded answers, a timeout each."""

    def __init__(
        self,
        url: str,
        header: str,
        cookie: str | None,
        canary: str | None,
        timeout: float,
        max_requests: int,
    ) -> None:
        parts = urlsplit(url)
        self.url = url
        self.label = f"GET {parts.path or '/'}"
        self.origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.header, self.cookie, self.canary = header, cookie, canary
        self.timeout, self.max_requests = timeout, max_requests
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or .netrc from the environment
        self.session.headers["User-Agent"] = f"labkit-scan/{__version__}"

    def send(self, token: str | None) -> _Answer:
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        if token is not None:
            if self.cookie is not None:
                cookies[self.cookie] = token
            elif self.header.lower() == "authorization":
                headers[self.header] = f"Bearer {token}"
            else:
                headers[self.header] = token
        status, body = self._get(self.url, headers, cookies)
        seen = self.canary is None or self.canary in body
        accepted = 200 <= status < 300 and seen
        detail = ""
        if self.canary is not None and 200 <= status < 300:
            detail = "canary seen" if seen else "no canary"
        elif 300 <= status < 400:
            detail = "redirect, not followed"
        return _Answer(status, accepted, body, detail)

    def get_json(self, path: str) -> Any:
        status, body = self._get(f"{self.origin}{path}", {}, {})
        if status != 200:
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None

    def _get(self, url: str, headers: dict[str, str], cookies: dict[str, str]) -> tuple[int, str]:
        if self.requests >= self.max_requests:
            raise _Budget
        self.requests += 1
        try:
            with self.session.get(
                url,
                headers=headers,
                cookies=cookies,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                stream=True,
            ) as response:
                return response.status_code, self._body(response)
        except requests.Timeout:
            raise self._too_slow() from None
        except requests.ConnectionError as exc:
            raise ScanError(f"no usable answer from {self.url}: {_reason(exc)}") from None
        except (requests.RequestException, OSError, ValueError) as exc:
            raise ScanError(
                f"{self.url} did not answer with valid HTTP: {type(exc).__name__}"
            ) from None

    def _body(self, response: requests.Response) -> str:
        """At most 64 KiB of the answer, within the timeout even if it trickles in."""
        deadline = time.monotonic() + self.timeout
        body = bytearray()
        try:
            while len(body) < _MAX_BODY:
                chunk = response.raw.read1(_MAX_BODY - len(body), decode_content=True)
                if not chunk:
                    break
                body += chunk
                if time.monotonic() > deadline:
                    raise self._too_slow()
        except urllib3.exceptions.ReadTimeoutError:
            raise self._too_slow() from None
        except urllib3.exceptions.HTTPError as exc:
            raise ScanError(f"{self.url} broke off its answer: {type(exc).__name__}") from None
        return bytes(body).decode("utf-8", errors="replace")

    def _too_slow(self) -> ScanError:
        return ScanError(
            f"{self.url} did not answer within {self.timeout:g} s (timeout)",
            "the target is too slow or hangs; try --timeout with more seconds",
        )

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
) -> _Transport:
    if isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 3:
        raise ConfigurationError(f"max_requests must be an integer >= 3, got {max_requests!r}")
    if callable(target):
        return _Verifier(target, max_requests)
    check_target(target, allow_hosts)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 60:
        raise ConfigurationError(f"timeout must be 0 to 60 seconds, got {timeout!r}")
    if not isinstance(header, str) or not header.strip() or ":" in header:
        raise ConfigurationError(f"header must be a header name, got {header!r}")
    if cookie is not None and (not isinstance(cookie, str) or not cookie.strip()):
        raise ConfigurationError(f"cookie must be a cookie name, got {cookie!r}")
    if canary is not None and (not isinstance(canary, str) or not canary):
        raise ConfigurationError("canary must be non-empty text")
    assert isinstance(target, str)
    return _Http(target, header, cookie, canary, float(timeout), max_requests)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in words: refused, reset, not HTTP."""
    text = str(exc)
    for needle, reason in (
        ("Connection refused", "connection refused (is a server running on that port?)"),
        ("BadStatusLine", "what came back is not HTTP"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
        ("Connection reset", "the connection was reset"),
        ("Name or service not known", "the host name does not resolve"),
    ):
        if needle in text:
            return reason
    return type(exc).__name__
