"""The one outbound-URL guard: every HTTP request the kit sends to a URL it was given.

Four parts of the kit fetch a URL someone else wrote: the scanner (the user's
target), the ``follow_jku`` lab verifier (a URL from the token), the Lambda
authorizer's JWKS client (``JWKS_URL``) and the tamper playground (a URL typed
into a widget). A guard that reads the URL with one parser while ``requests``
sends it with another can be talked past: ``http://evil.invalid\\@127.0.0.1/``
is 127.0.0.1 to ``urllib.parse`` (RFC 3986: the authority runs to the last
``@``) and evil.invalid to urllib3, which ends the authority at the backslash
as the WHATWG URL Standard does (psf/requests#7141; GHSA-v359-jj2v-j536 is the
same split in another project). So this module decides on the URL exactly as
``requests`` will send it, and then sends exactly that:

1. ``judge(url, policy)`` reads the URL strictly, builds the
   ``requests.PreparedRequest`` for it, reads the prepared URL back with
   ``urllib3.util.parse_url`` (what the connection pool uses) and refuses,
   before anything is resolved or sent, unless both readings agree on scheme,
   host and port and the host is one ``policy`` allows. Refused outright:
   userinfo (any ``@`` in the authority), backslashes, whitespace and control
   characters, non-ASCII characters (fullwidth digits, ideographic dots: write
   IDNA names in their ``xn--`` form), ``%`` in the host, a path that starts
   with ``//``, as written or once dot segments are removed (``/.//x``:
   urllib3 reads ``//x`` as a host again), empty or odd ports,
   trailing dots, schemes other than http(s), and IPv4 addresses in any form
   but the dotted quad: ``127.1``, ``2130706433``, ``0x7f.1`` and
   ``0177.0.0.1`` all mean 127.0.0.1 to ``inet_aton(3)`` (and to the WHATWG
   IPv4 parser), so the guard names the address and asks for it plainly.
   IPv4-mapped IPv6 (``[::ffff:127.0.0.1]``, RFC 4291 section 2.5.5.2) is
   refused the same way, and so are the unspecified addresses ``0.0.0.0`` and
   ``[::]`` (which reach this machine on Linux without being loopback).
2. Hosts: loopback IP literals (127.0.0.0/8, ``[::1]``) are always allowed.
   ``localhost`` is allowed where the policy says so, and always means
   127.0.0.1: the guard never asks the resolver (RFC 6761 section 6.3 lets
   resolvers answer it with loopback, a hosts file may say otherwise). Any
   other host must be named in the policy's allow-list, or (for the JWKS
   client only) be an https URL, whose certificate authenticates the name.
3. ``GuardedSession(destination)`` resolves an allowed name ONCE
   (``socket.getaddrinfo``), refuses unspecified and multicast answers, and
   connects only to those addresses for the session's life, so a DNS answer
   that changes between requests (DNS rebinding) cannot move the requests
   elsewhere. TLS still checks the certificate against the name. The residual
   risk: the one answer comes from whoever runs the name's DNS, which the user
   trusted by allowing that name; the scanner prints the addresses it used.
4. Every request: the prepared request built from the judged URL (checked to
   be that URL, string for string: ``judge`` refuses a URL that preparing
   rewrites again, as ``/%2E%2E//x`` becomes ``/..//x`` and then ``/x``), no
   proxies or ``.netrc`` from the environment (``trust_env = False``,
   ``proxies = {}``), no redirects, no
   retries, a connect and a read timeout plus a deadline for the whole body,
   and at most ``max_bytes`` of the answer read.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import string
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from labkit.errors import ConfigurationError, LabkitError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "JWKS",
    "LOOPBACK",
    "LOOPBACK_LITERALS",
    "MAX_URL_LENGTH",
    "Destination",
    "FetchError",
    "GuardedSession",
    "HostNotAllowedError",
    "Policy",
    "Reply",
    "UnsafeRequestError",
    "UnsafeURLError",
    "check_fields",
    "fetch",
    "judge",
    "resolve",
]

MAX_URL_LENGTH = 2048
"""Longest URL judged, in characters; far more than any URL the kit needs."""
DEFAULT_MAX_BYTES = 64 * 1024
"""Bytes of an answer read at most, unless the caller says otherwise."""

_SCHEMES = {"http": 80, "https": 443}
_HEX = frozenset(string.hexdigits)
_DIGITS = frozenset(string.digits)
_OCTAL = frozenset(string.octdigits)
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_IPV6_CHARS = frozenset(string.hexdigits + ":.")
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
"""An HTTP field name, and a cookie name: an RFC 9110 section 5.6.2 ``token``."""
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*\Z")
"""A header value sent: one line of visible ASCII, spaces and tabs (no CR, LF, NUL)."""
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*\Z")
"""A cookie value sent: RFC 6265 section 4.1.1 ``cookie-octet``s (no ';', ',', space, quote)."""


class UnsafeURLError(ConfigurationError):
    """The guard refused the URL before anything was resolved or sent."""

    def __init__(self, message: str, why: str | None = None, *, host: str | None = None) -> None:
        super().__init__(message, why)
        self.host = host


class UnsafeRequestError(ConfigurationError):
    """A header or cookie the guard will not send (``check_fields``), refused before sending."""


class HostNotAllowedError(UnsafeURLError):
    """The URL is well formed, but its host is not one the caller allowed (``host`` says which)."""


class FetchError(LabkitError):
    """The request went out but no usable answer came back (``kind`` names the failure)."""

    def __init__(
        self, message: str, why: str | None = None, *, kind: str, timed_out: bool = False
    ) -> None:
        super().__init__(message, why)
        self.kind = kind
        self.timed_out = timed_out


@dataclass(frozen=True)
class Policy:
    """Which hosts a caller may reach beyond the loopback IP literals, which are always allowed.

    ``allow_hosts`` holds canonical hosts (lower-case names, dotted-quad IPv4,
    compressed IPv6); build it with ``Policy.allowing`` to have entries checked.
    ``localhost`` allows that name (as 127.0.0.1). ``public_https`` allows any
    host over https (the JWKS client: TLS authenticates the issuer's name).
    """

    allow_hosts: frozenset[str] = frozenset()
    localhost: bool = True
    public_https: bool = False

    @classmethod
    def allowing(cls, hosts: Iterable[object], *, localhost: bool = True) -> Policy:
        """A policy that allows ``hosts`` (names or IP literals, as a user writes them)."""
        allowed = set()
        for entry in hosts:
            if not isinstance(entry, str) or not entry.strip():
                raise UnsafeURLError(f"an allowed host must be a host name, got {entry!r}")
            text = entry.strip().lower()
            bracketed = text.startswith("[") and text.endswith("]")
            _ascii_only(text, "allowed host")
            allowed.add(_canonical(text[1:-1] if bracketed else text, bracketed)[0])
        return cls(frozenset(allowed), localhost=localhost)


LOOPBACK = Policy()
"""Loopback IP literals and ``localhost``: the scanner's default, the playground's only choice."""
LOOPBACK_LITERALS = Policy(localhost=False)
"""Loopback IP literals only: the ``follow_jku`` lab verifier, which never names a host."""
JWKS = Policy(public_https=True)
"""https to any host, http to loopback only: an issuer's JWKS (``labkit.aws.authorizer``)."""


@dataclass(frozen=True)
class Destination:
    """A judged URL: where ``requests`` will send it, and the addresses it may connect to.

    ``url`` is the URL as the prepared request carries it; ``host`` is
    canonical (see ``Policy``); ``addresses`` is empty until an allowed name is
    resolved (``GuardedSession`` does it once); ``local`` is True when the URL
    alone says this machine (a loopback IP literal or ``localhost``).
    """

    url: str
    scheme: str
    host: str
    port: int
    origin: str
    path: str
    local: bool
    addresses: tuple[str, ...] = field(default=())

    def at(self, path: str) -> Destination:
        """The same origin (and resolved addresses) with another ``path``, judged again."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise UnsafeURLError(f"a path must start with '/', got {_shown(path)}")
        same = Policy(frozenset({self.host}), localhost=True)
        moved = judge(self.origin + path, same)
        if (moved.scheme, moved.host, moved.port) != (self.scheme, self.host, self.port):
            raise UnsafeURLError(f"the path {_shown(path)} would leave {self.origin}")
        return replace(moved, addresses=self.addresses, local=self.local)


@dataclass(frozen=True)
class Reply:
    """An answer: status, headers, at most ``max_bytes`` of the body, and whether more came."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool

    @property
    def text(self) -> str:
        """The body as text (UTF-8; undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")


# Judging a URL -----------------------------------------------------------------------------------


def judge(url: object, policy: Policy = LOOPBACK) -> Destination:
    """The destination ``url`` names, as ``requests`` will send it; ``UnsafeURLError`` if refused.

    Nothing is resolved or sent. See the module docstring for every rule.
    """
    scheme, host_text, bracketed, port_text = _split(url)
    host, ip = _canonical(host_text, bracketed)
    port = _port(port_text, scheme)
    assert isinstance(url, str)
    prepared_url, origin, path = _as_requests_sends_it(url, scheme, host_text, port_text)
    local = False
    addresses: tuple[str, ...] = ()
    if ip is not None and ip.is_unspecified:
        raise UnsafeURLError(
            f"{host} is not an address to send to (it means 'any address')",
            "write 127.0.0.1 for this machine",
            host=host,
        )
    if ip is not None and ip.is_loopback:
        local, addresses = True, (host,)
    elif host == "localhost" and policy.localhost:
        local, addresses = True, ("127.0.0.1",)
    elif host in policy.allow_hosts or (policy.public_https and scheme == "https"):
        addresses = (host,) if ip is not None else ()
    else:
        raise HostNotAllowedError(f"{host} is not this machine's loopback address", host=host)
    return Destination(prepared_url, scheme, host, port, origin, path, local, addresses)


def _split(url: object) -> tuple[str, str, bool, str | None]:
    """Scheme, host text, bracketed?, and port text: a strict RFC 3986 reading."""
    if not isinstance(url, str) or not url:
        raise UnsafeURLError(f"expected an http(s) URL, got {_shown(url)}")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURLError(f"the URL is over {MAX_URL_LENGTH} characters")
    _ascii_only(url, "URL")
    scheme, colon, rest = url.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in _SCHEMES:
        raise UnsafeURLError(
            f"only http and https URLs are fetched, got {_shown(url)}",
            "for example http://127.0.0.1:8000/api/profile",
        )
    if not rest.startswith("//") or rest.startswith("///"):
        raise UnsafeURLError(f"the URL must start with {scheme}:// and a host, got {_shown(url)}")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if rest[2 + len(authority) :].startswith("//"):
        raise UnsafeURLError(
            f"the path of {_shown(url)} starts with '//'",
            "urllib3 reads '//name' in a request target as a host; write one '/'",
        )
    if "@" in authority:
        raise UnsafeURLError(
            f"the URL has userinfo ('@' before the host): {_shown(url)}",
            "parsers disagree on which side of '@' the host is; the kit sends no userinfo",
        )
    if "%" in authority:
        raise UnsafeURLError(f"the host of {_shown(url)} is percent-encoded: write it plainly")
    if authority.startswith("["):
        inside, bracket, after = authority[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise UnsafeURLError(f"cannot read the IPv6 host of {_shown(url)}")
        host_text, bracketed, port_part = inside, True, after
    else:
        host_text, _, port_rest = authority.partition(":")
        bracketed, port_part = False, (":" + port_rest) if ":" in authority else ""
    port_text = port_part[1:] if port_part else None
    if not host_text:
        raise UnsafeURLError(f"the URL has no host: {_shown(url)}")
    return scheme, host_text.lower(), bracketed, port_text


def _canonical(host: str, bracketed: bool) -> tuple[str, _IP | None]:
    """The host as the resolver will take it: an IP address, or a lower-case DNS name."""
    if bracketed:
        if not host or not set(host) <= _IPV6_CHARS:
            raise UnsafeURLError(f"[{host}] is not an IPv6 address")
        try:
            ip6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURLError(f"[{host}] is not an IPv6 address") from None
        embedded = ip6.ipv4_mapped or (
            ipaddress.IPv4Address(int(ip6)) if int(ip6) >> 32 == 0 and int(ip6) > 1 else None
        )
        if embedded is not None:
            raise UnsafeURLError(
                f"[{host}] is the IPv4 address {embedded} in IPv6 form",
                f"write {embedded}",
                host=host,
            )
        return str(ip6), ip6
    if host.endswith("."):
        raise UnsafeURLError(
            f"the host {host!r} ends with a dot",
            f"write {host.rstrip('.')!r}: the same host to a resolver, a different one to a list",
            host=host,
        )
    if _ends_in_number(host):
        ip4 = _ipv4(host)
        if str(ip4) != host:
            raise UnsafeURLError(
                f"the host {host!r} is the IPv4 address {ip4} to the resolver",
                f"write {ip4} (short, octal and hex forms are refused)",
                host=host,
            )
        return host, ip4
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise UnsafeURLError(f"{host!r} is not a host name (letters, digits, '-', dots)", host=host)
    return host, None


def _ends_in_number(host: str) -> bool:
    """The WHATWG URL Standard's "ends in a number" test: the host must then be IPv4."""
    last = host.rpartition(".")[2]
    if last and set(last) <= _DIGITS:
        return True
    return last[:2] == "0x" and set(last[2:]) <= _HEX


def _ipv4(host: str) -> ipaddress.IPv4Address:
    """``host`` read as ``inet_aton(3)`` does: 1 to 4 parts, each decimal, 0-octal or 0x-hex."""
    parts = host.split(".")
    numbers = [_ipv4_number(part) for part in parts]
    if len(parts) > 4 or None in numbers:
        raise UnsafeURLError(f"the host {host!r} is neither an IPv4 address nor a name", host=host)
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        raise UnsafeURLError(f"the host {host!r} is not an IPv4 address (a part is too big)")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int | None:
    if part[:2] == "0x":
        digits, base, allowed = part[2:], 16, _HEX
    elif len(part) > 1 and part.startswith("0"):
        digits, base, allowed = part[1:], 8, _OCTAL
    else:
        digits, base, allowed = part, 10, _DIGITS
    if not digits or not set(digits) <= allowed:  # checked: int() would accept "1_0" and " 1"
        return None
    return int(digits, base)


def _port(text: str | None, scheme: str) -> int:
    if text is None:
        return _SCHEMES[scheme]
    if not text or not set(text) <= _DIGITS or len(text) > 5 or not 0 < int(text) < 65536:
        raise UnsafeURLError(f"the port {text!r} is not a number from 1 to 65535")
    return int(text)


def _as_requests_sends_it(
    url: str, scheme: str, host: str, port: str | None
) -> tuple[str, str, str]:
    """The prepared URL, its origin and path; refused unless urllib3 reads the same host, port."""
    try:
        prepared = requests.Request("GET", url).prepare()
        assert prepared.url is not None
        sent = urllib3.util.parse_url(prepared.url)
        again = requests.Request("GET", prepared.url).prepare().url
    except (requests.RequestException, urllib3.exceptions.HTTPError, ValueError) as exc:
        raise UnsafeURLError(f"requests cannot send {_shown(url)}: {type(exc).__name__}") from None
    if again != prepared.url:  # "/%2E%2E//x" -> "/..//x" -> "/x": judged is not what is sent
        raise UnsafeURLError(
            f"requests rewrites {_shown(url)} again each time it prepares it "
            f"({_shown(prepared.url)}, then {_shown(again)})",
            "write the path without dot segments ('.', '..', '%2e')",
        )
    sent_host = (sent.host or "").strip("[]").lower()
    sent_port = None if sent.port is None else str(sent.port)
    if (sent.scheme, sent_host, sent_port) != (scheme, host, None if port is None else port):
        raise UnsafeURLError(
            f"the URL {_shown(url)} reads as {sent_host or 'no host'} to urllib3 "
            f"and as {host} here",
            "an ambiguous URL is never sent",
        )
    if (sent.path or "").startswith("//"):  # dot segments removed: "/.//evil" is "//evil"
        raise UnsafeURLError(
            f"the path of {_shown(url)} is sent as {_shown(sent.path)}, which starts with '//'",
            "urllib3 reads '//name' in a request target as a host; write one '/'",
        )
    return prepared.url, f"{sent.scheme}://{sent.netloc}", sent.path or "/"


def _ascii_only(text: str, what: str) -> None:
    for index, char in enumerate(text):
        if not "!" <= char <= "~" or char == "\\":
            name = f"U+{ord(char):04X}" if char != "\\" else "a backslash"
            raise UnsafeURLError(
                f"the {what} has {name} at position {index}",
                "write hosts in ASCII (IDNA names as xn--...), percent-encode the path, "
                "no spaces, tabs, newlines or backslashes",
            )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_fields(
    headers: Mapping[str, str] | None = None, cookies: Mapping[str, str] | None = None
) -> None:
    """Refuse header and cookie fields that would not go out as the caller wrote them.

    Names must be RFC 9110 tokens (RFC 6265 section 4.1.1 for cookie names):
    ``X-A\\r\\nHost: evil`` would add a header, ``s=1; evil`` a second cookie, a
    space or NUL would be sent as-is and read differently by each server.
    Header values are one line of visible ASCII; cookie values RFC 6265
    ``cookie-octet``s. ``UnsafeRequestError`` (one line) names the field.
    """
    for kind, fields, values in (
        ("header", headers, _FIELD_VALUE),
        ("cookie", cookies, _COOKIE_VALUE),
    ):
        for name, value in (fields or {}).items():
            if not isinstance(name, str) or not _FIELD_NAME.match(name):
                raise UnsafeRequestError(
                    f"{kind} must be a {kind} name (an HTTP token), got {_shown(name)}",
                    "letters, digits and !#$%&'*+-.^_`|~ only: no spaces, ':', ';', '=' "
                    "or line breaks",
                )
            if not isinstance(value, str) or not values.match(value):
                raise UnsafeRequestError(
                    f"the value of the {kind} {name} cannot be sent: {_shown(value)}",
                    "one line of printable ASCII (cookie values: no spaces, ';', ',' or quotes)",
                )


# Sending -----------------------------------------------------------------------------------------


def resolve(destination: Destination) -> Destination:
    """``destination`` with its addresses: an allowed name is resolved here, once."""
    if destination.addresses:
        return destination
    try:
        found = socket.getaddrinfo(destination.host, destination.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(
            f"the host name {destination.host} does not resolve ({exc})", kind="ConnectionError"
        ) from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        ip = ipaddress.ip_address(address.partition("%")[0])
        if ip.is_unspecified or ip.is_multicast:
            raise FetchError(
                f"{destination.host} resolves to {address}, which is no address to send to",
                kind="ConnectionError",
            )
    if not addresses:
        raise FetchError(f"{destination.host} resolves to nothing", kind="ConnectionError")
    return replace(destination, addresses=addresses)


class GuardedSession:
    """Requests to one judged destination only: pinned addresses, no proxies, no redirects.

    Resolves an allowed name once, on creation (``FetchError`` if it does not
    resolve). ``get()`` sends to the destination's URL, ``get(path)`` to another
    path of the same origin. Use it as a context manager, or call ``close()``.
    """

    def __init__(self, destination: Destination, *, user_agent: str | None = None) -> None:
        if not isinstance(destination, Destination):
            raise UnsafeURLError("a GuardedSession needs a Destination from outbound.judge()")
        self.destination = resolve(destination)
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy, .netrc or CA bundle from the environment
        self._session.proxies = {}
        adapter = _PinnedAdapter(self.destination)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        if user_agent:
            self._session.headers["User-Agent"] = user_agent

    def get(
        self,
        path: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Reply:
        """GET the destination (or ``path`` on its origin); a ``Reply`` or ``FetchError``."""
        return self.request(
            "GET", path, headers=headers, cookies=cookies, timeout=timeout, max_bytes=max_bytes
        )

    def request(
        self,
        method: str,
        path: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        json_body: object = None,
        timeout: float = 5.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Reply:
        """Send ``method`` to the destination (or ``path`` on its origin), as ``get`` does.

        ``json_body`` (any JSON value but None) is sent as the body, for a login form.
        """
        target = self.destination if path is None else self.destination.at(path)
        check_fields(headers, cookies)
        request = requests.Request(method, target.url, headers=dict(headers or {}), json=json_body)
        request.cookies = dict(cookies or {})
        try:
            prepared = self._session.prepare_request(request)
        except (requests.RequestException, ValueError, TypeError) as exc:  # belt and braces
            raise UnsafeRequestError(f"requests cannot send this request: {exc}") from None
        if prepared.url != target.url:  # nothing may re-read the URL between judging and sending
            raise UnsafeURLError(f"the prepared URL changed: {_shown(prepared.url)}")
        try:
            with self._session.send(
                prepared,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
                proxies={},
                verify=True,
            ) as response:
                body, truncated = _read(response, target.url, timeout, max_bytes)
                return Reply(response.status_code, dict(response.headers), body, truncated)
        except requests.Timeout:
            raise _too_slow(target.url, timeout) from None
        except requests.ConnectionError as exc:
            raise FetchError(
                f"no usable answer from {target.url}: {_reason(exc)}", kind=type(exc).__name__
            ) from None
        except (requests.RequestException, OSError, ValueError) as exc:
            raise FetchError(
                f"{target.url} did not answer with valid HTTP: {type(exc).__name__}",
                kind=type(exc).__name__,
            ) from None

    def close(self) -> None:
        """Release the connections."""
        self._session.close()

    def __enter__(self) -> GuardedSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def fetch(
    destination: Destination,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Reply:
    """One guarded GET of a judged destination (a fresh session, resolved once)."""
    with GuardedSession(destination) as session:
        return session.get(headers=headers, timeout=timeout, max_bytes=max_bytes)


def _read(
    response: requests.Response, url: str, timeout: float, max_bytes: int
) -> tuple[bytes, bool]:
    """At most ``max_bytes`` of the body, within ``timeout`` even if it trickles in."""
    deadline = time.monotonic() + timeout
    body = bytearray()
    try:
        while len(body) <= max_bytes:
            chunk = response.raw.read1(max_bytes + 1 - len(body), decode_content=True)
            if not chunk:
                break
            body += chunk
            if time.monotonic() > deadline:
                raise _too_slow(url, timeout)
    except urllib3.exceptions.ReadTimeoutError:
        raise _too_slow(url, timeout) from None
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(
            f"{url} broke off its answer: {type(exc).__name__}", kind=type(exc).__name__
        ) from None
    return bytes(body[:max_bytes]), len(body) > max_bytes


def _too_slow(url: str, timeout: float) -> FetchError:
    return FetchError(
        f"{url} did not answer within {timeout:g} s (timeout)", kind="Timeout", timed_out=True
    )


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


class _PinnedAdapter(HTTPAdapter):
    """Connection pools whose connections go to the destination's addresses, and nowhere else."""

    def __init__(self, destination: Destination) -> None:
        self._destination = destination  # before super().__init__, which builds the pools
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        addresses = self._destination.addresses
        self.poolmanager.pool_classes_by_scheme = {
            "http": _pinned_pool(HTTPConnectionPool, HTTPConnection, addresses),
            "https": _pinned_pool(HTTPSConnectionPool, HTTPSConnection, addresses),
        }

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        sent = urllib3.util.parse_url(request.url or "")
        port = sent.port or _SCHEMES.get(sent.scheme or "", 0)
        dest = self._destination
        same = _same_host((sent.host or "").strip("[]").lower(), dest.host)
        if not same or (sent.scheme, port) != (dest.scheme, dest.port):
            raise UnsafeURLError(f"this session sends only to {dest.origin}, not {request.url}")
        return super().send(request, *args, **kwargs)


def _same_host(written: str, canonical: str) -> bool:
    try:
        return str(ipaddress.ip_address(written)) == canonical
    except ValueError:
        return written == canonical


def _pinned_pool(pool: type, connection: type, addresses: tuple[str, ...]) -> type:
    """A pool class whose connections connect to ``addresses`` (tried in order) only."""

    def _new_conn(self: Any) -> socket.socket:
        error: OSError | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connecting to {address} timed out") from exc
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")

    pinned = type(f"Pinned{connection.__name__}", (connection,), {"_new_conn": _new_conn})
    return type(f"Pinned{pool.__name__}", (pool,), {"ConnectionCls": pinned})
