"""Scan a JWT-protected endpoint (or a verifier) with every attack in the kit; report the flaws.

``scan(url, token)`` plays a playbook like jwt_tool's against one endpoint:

1. **Baseline.** The valid token must be accepted (with ``canary`` in the
   answer, if given) and a request without a token refused; otherwise nothing
   below would mean anything, and the scan stops with a clear message.
2. **Probes.** One request per forgery, each built by the forgers of
   ``labkit.attacks``: a flipped signature bit, an edited payload, a zeroed
   signature, no signature, ``alg: none`` in four casings, the empty HMAC key,
   the secret cracked from the bundled wordlist (HS tokens), the RSA public key
   as an HMAC secret, ``jwk`` and ``jku`` injection (the attacker's key server
   binds 127.0.0.1), ``kid`` path traversal and SQL injection, the psychic ES256
   signature. Then two claim probes: an expired token replayed, and a role
   escalated to ``admin``, both forged with whichever technique worked.
3. **Root causes.** A verifier that never checks signatures accepts nearly every
   forgery; that is one flaw, not a dozen. Each finding names the one root
   cause, the probes it explains, the evidence (status, canary, what the answer
   echoed), the fix and the notebook that teaches it.

Safety: only loopback targets (127.0.0.0/8, ::1, localhost), unless the host
is named in ``allow_hosts`` (the caller then needs the owner's permission);
at most ``max_requests`` requests, each with a timeout, no proxies from the
environment, and redirects are never followed (a 3xx counts as refused).

``target`` may also be a verifier: any ``function(token)`` that returns the
claims or raises ``labkit.InvalidTokenError``. The same probes then run
in-process, which is how notebook 11 checks a learner's verifier.
"""

from __future__ import annotations

import html
import ipaddress
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3

from labkit import __version__, keys, tokens
from labkit.algorithms import sign_token
from labkit.attacks import confusion, injection, none, psychic
from labkit.attacks import crack as cracking
from labkit.errors import ConfigurationError, LabkitError, MalformedTokenError

__all__ = [
    "DEFAULT_TIMEOUT",
    "FLAWS",
    "MAX_LIFETIME",
    "MAX_REQUESTS",
    "PROBES",
    "PROBE_IDS",
    "Attempt",
    "Finding",
    "Flaw",
    "ScanError",
    "ScanReport",
    "TargetRefusedError",
    "check_target",
    "escalate",
    "scan",
]

DEFAULT_TIMEOUT = 5.0
"""Seconds to wait for each answer (connect and read); a local API answers in milliseconds."""
MAX_REQUESTS = 60
"""The most requests one scan sends (a full scan needs about 25)."""
MAX_LIFETIME = 3600
"""Access tokens living longer than this many seconds are reported (the article: short expiry)."""
_MAX_BODY = 64 * 1024  # bytes of each answer read, at most
_MARKER = "labkit-scan"  # the harmless claim the tampered-payload probe adds

Verdict = Literal["accepted", "refused", "error", "skipped"]
Target = str | Callable[[str], Any]


class ScanError(LabkitError):
    """The scan cannot run or finish: the target is down, slow, not HTTP, or refuses the token."""


class TargetRefusedError(ScanError, ConfigurationError):
    """The URL names a host the scanner must not attack without the user's explicit say-so."""


# What can be wrong, and what each probe tests ----------------------------------------------------


@dataclass(frozen=True)
class Flaw:
    """One root cause a scan can report: its name, the fix, and the notebook that teaches it."""

    id: str
    attack: str
    fix: str
    notebook: str


FLAWS: dict[str, Flaw] = {
    f.id: f
    for f in (
        Flaw(
            "no-authentication",
            "No authentication: the endpoint answers without a token",
            "Put the authorizer in front of every route that is not public; deny by default.",
            "09-lambda-authorizer.ipynb",
        ),
        Flaw(
            "signature-not-verified",
            "Signature never verified: the claims are decoded and believed",
            "Verify the signature with your own keys before reading any claim (labkit.verify, "
            "jwt.decode with algorithms=[...]); never decode() where verify() is meant.",
            "04-unverified-and-none.ipynb",
        ),
        Flaw(
            "unsigned-token-accepted",
            "Unsigned token accepted: alg none, or an empty signature",
            "Pin the algorithms you accept (never none, in any casing) and refuse a token "
            "whose signature is empty.",
            "04-unverified-and-none.ipynb",
        ),
        Flaw(
            "empty-hmac-secret",
            "Empty HMAC secret: anyone can sign with the empty key",
            "Refuse to start without a secret of 32+ random bytes; never default it to ''.",
            "04-unverified-and-none.ipynb",
        ),
        Flaw(
            "weak-hmac-secret",
            "Guessable HMAC secret: cracked offline from one token",
            "Use 32+ random bytes (secrets.token_bytes(32)) and rotate it; better, sign with "
            "RS256/ES256 so services hold only public keys.",
            "05-weak-secrets.ipynb",
        ),
        Flaw(
            "algorithm-confusion",
            "Algorithm confusion: the RSA public key accepted as an HS256 secret",
            "Fix the algorithm per key in your configuration; never let the token's header "
            "choose it, and keep HMAC secrets and public keys apart.",
            "06-algorithm-confusion.ipynb",
        ),
        Flaw(
            "jwk-injection",
            "jwk injection: the key embedded in the token verifies it (CVE-2018-0114)",
            "Take keys only from your configuration (a pinned key or your IdP's JWKS); ignore jwk.",
            "07-header-injection.ipynb",
        ),
        Flaw(
            "jku-injection",
            "jku injection: keys fetched from the URL the token names",
            "Fetch keys only from the JWKS URL you configured; never follow jku (it is also SSRF).",
            "07-header-injection.ipynb",
        ),
        Flaw(
            "kid-path-traversal",
            "kid path traversal: ../../dev/null makes an empty HMAC key",
            "Use kid only to pick a key from a fixed set loaded at start-up, never as a path.",
            "07-header-injection.ipynb",
        ),
        Flaw(
            "kid-sql-injection",
            "kid SQL injection: UNION SELECT returns the attacker's secret",
            "Look kid up in a fixed key set (or with a parameterised query), never in SQL text.",
            "07-header-injection.ipynb",
        ),
        Flaw(
            "psychic-signature",
            "Psychic signature: ES256 r = s = 0 verifies (CVE-2022-21449)",
            "Patch the runtime (Java 17.0.3 / 18.0.1 or later); use a library that checks "
            "0 < r, s < n.",
            "08-psychic-signatures.ipynb",
        ),
        Flaw(
            "expiry-not-enforced",
            "Expired token accepted: exp is not checked",
            "Check exp on every request with a small leeway (30-60 s), and require it.",
            "03-claims-and-validation.ipynb",
        ),
        Flaw(
            "long-lived-token",
            "Long-lived token: no exp, or a lifetime over an hour",
            "Issue access tokens that live minutes, with refresh tokens; revoke on logout.",
            "10-api-platform.ipynb",
        ),
        Flaw(
            "plain-http",
            "Token sent over plain HTTP to a non-local host",
            "Always use HTTPS: anyone on the path can copy a bearer token.",
            "10-api-platform.ipynb",
        ),
    )
}
"""Every flaw a scan can report, by id."""

# A verifier that never checks signatures accepts every forgery: each of these flaws
# is then a symptom of that one root cause, not a finding of its own.
_SIGNATURE_FLAWS = frozenset(
    {
        "unsigned-token-accepted",
        "empty-hmac-secret",
        "weak-hmac-secret",
        "algorithm-confusion",
        "jwk-injection",
        "jku-injection",
        "kid-path-traversal",
        "kid-sql-injection",
        "psychic-signature",
    }
)
# Narrower root causes: a flaw (key) that makes another (values) pass as well.
_EXPLAINS = {
    "signature-not-verified": _SIGNATURE_FLAWS,
    "empty-hmac-secret": frozenset({"kid-path-traversal"}),  # /dev/null reads as the empty key
}


@dataclass(frozen=True)
class Attempt:
    """One probe's outcome: what was sent, what came back, and the verdict on it."""

    probe: str
    flaw: str
    variant: str
    verdict: Verdict
    status: int | None = None
    detail: str = ""

    @property
    def evidence(self) -> str:
        """The status (or the verifier's answer) and what else was seen, in one phrase."""
        parts = [f"HTTP {self.status}" if self.status is not None else "", self.detail]
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class Finding:
    """One root-cause flaw, the attempts that prove it and the probes it explains."""

    flaw: Flaw
    attempts: tuple[Attempt, ...]
    explains: tuple[Attempt, ...] = ()

    @property
    def id(self) -> str:
        return self.flaw.id

    @property
    def evidence_lines(self) -> list[str]:
        """The proof: each accepted probe, then what the same flaw also let through."""
        lines = [f"{a.probe} ({a.variant}): {a.evidence}" for a in self.attempts]
        if self.explains:
            names = sorted({a.probe for a in self.explains})
            lines.append(f"also accepted because of it: {', '.join(names)}")
        return lines

    @property
    def evidence(self) -> str:
        """The proof in one line."""
        return "; ".join(self.evidence_lines)


@dataclass(frozen=True)
class ScanReport:
    """What a scan found: findings (root causes), every attempt, and what it cost.

    Shown as a table: ``str(report)`` in a terminal, an HTML table in Jupyter.
    ``exit_code`` is the CLI's: 0 clean, 1 findings.
    """

    target: str
    alg: str
    findings: tuple[Finding, ...]
    attempts: tuple[Attempt, ...]
    requests: int
    seconds: float
    baseline: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0

    @property
    def flaws(self) -> list[str]:
        """The ids of the flaws found, in the order of ``FLAWS``."""
        return [f.id for f in self.findings]

    def summary(self) -> str:
        """One line: verdict, token algorithm, requests and time (in ms: notebooks mask it)."""
        verdict = (
            "no findings"
            if self.clean
            else f"{len(self.findings)} finding{'s' if len(self.findings) > 1 else ''}: "
            + ", ".join(self.flaws)
        )
        took = f"{self.seconds * 1e3:.1f} ms"
        return f"{self.target}: {verdict} ({self.alg} token, {self.requests} requests, {took})"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``labkit scan --json``)."""
        return {
            "target": self.target,
            "alg": self.alg,
            "clean": self.clean,
            "requests": self.requests,
            "seconds": round(self.seconds, 4),
            "baseline": list(self.baseline),
            "findings": [
                {
                    "id": f.id,
                    "attack": f.flaw.attack,
                    "evidence": f.evidence,
                    "fix": f.flaw.fix,
                    "notebook": f"notebooks/{f.flaw.notebook}",
                    "probes": [a.probe for a in f.attempts],
                    "explains": sorted({a.probe for a in f.explains}),
                }
                for f in self.findings
            ],
            "attempts": [
                {
                    "probe": a.probe,
                    "flaw": a.flaw,
                    "variant": a.variant,
                    "verdict": a.verdict,
                    "status": a.status,
                    "detail": a.detail,
                }
                for a in self.attempts
            ],
            "notes": list(self.notes),
        }

    def text(self) -> str:
        """The terminal table: the findings, then every probe's verdict."""
        lines = [self.summary()]
        if self.baseline:
            lines.append(f"baseline: {'; '.join(self.baseline)}")
        for number, finding in enumerate(self.findings, 1):
            lines += [
                "",
                f"{number}. {finding.flaw.attack} [{finding.id}]",
                f"   evidence: {finding.evidence}",
                f"   fix:      {finding.flaw.fix}",
                f"   learn:    notebooks/{finding.flaw.notebook}",
            ]
        lines += ["", f"{'probe':<19} {'verdict':<9} {'variant':<30} evidence"]
        for a in self.attempts:
            lines.append(f"{a.probe:<19} {a.verdict:<9} {_cut(a.variant, 30):<30} {a.evidence}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return _html(self)


# The scan ----------------------------------------------------------------------------------------


def scan(
    target: Target,
    token: str,
    *,
    header: str = "Authorization",
    cookie: str | None = None,
    canary: str | None = None,
    allow_hosts: Iterable[str] = (),
    public_key: Any = None,
    expired_token: str | None = None,
    wordlist: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_requests: int = MAX_REQUESTS,
) -> ScanReport:
    """Run every probe against ``target`` (a URL or a verifier function) and report the flaws.

    ``token`` is a valid token for the target. It travels as ``Authorization:
    Bearer <token>``, as the bare token in another ``header``, or in the
    ``cookie`` named. ``canary`` is text only an authenticated answer contains.
    ``public_key`` (PEM, JWK, JWKS or key) feeds the confusion probe; without it
    the target's ``/.well-known/jwks.json`` is tried. ``expired_token`` (an
    expired token of the same service) lets the expiry probe run without a
    forgery. ``wordlist`` defaults to the kit's bundled list of weak secrets.
    """
    started = time.perf_counter()
    original = _valid_token(token, "token")
    if expired_token is not None:
        _valid_token(expired_token, "expired_token")
    if isinstance(public_key, (str, bytes)):
        keys.load_pem(public_key)  # a KeyFormatError now, not a skipped probe later
    if isinstance(wordlist, (str, os.PathLike)) and not os.path.isfile(wordlist):
        raise ConfigurationError(f"no wordlist file at {os.fspath(wordlist)!r}")
    with ExitStack() as stack:
        transport = _transport(target, header, cookie, canary, allow_hosts, timeout, max_requests)
        stack.callback(transport.close)
        probe = _Scan(transport, token, original, public_key, expired_token, wordlist, stack)
        findings, attempts, notes = probe.run()
    if isinstance(target, str) and (reminder := check_target(target, allow_hosts)):
        notes = (reminder, *notes)
    return ScanReport(
        transport.label,
        str(original.header.get("alg")),
        findings,
        attempts,
        transport.requests,
        time.perf_counter() - started,
        tuple(probe.baseline),
        notes,
    )


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


def escalate(claims: dict[str, Any]) -> dict[str, Any]:
    """``claims`` with the privileges raised: role admin (or admin added to roles/groups)."""
    out = dict(claims)
    changed = False
    for name in ("role", "roles", "groups"):
        value = out.get(name)
        if isinstance(value, str):
            out[name], changed = "admin", True
        elif isinstance(value, list):
            out[name], changed = [*value, "admin"] if "admin" not in value else value, True
    for name in ("admin", "is_admin"):
        if isinstance(out.get(name), bool):
            out[name], changed = True, True
    if not changed:
        out["role"] = "admin"
    return out


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


# The probes --------------------------------------------------------------------------------------

Forge = Callable[["_Scan", dict[str, Any]], list[tuple[str, str]]]


class _Skip(Exception):
    """This probe does not apply here; the message says why."""


@dataclass(frozen=True)
class _Probe:
    id: str
    flaw: str
    forge: Forge


def _tampered_signature(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    head, body, _ = tokens.split(s.token)
    if claims != s.claims:
        body = tokens.b64url_encode(tokens.json_bytes(claims))
    flipped = bytearray(s.parsed.signature)
    flipped[-1] ^= 0x01
    return [("last signature bit flipped", f"{head}.{body}.{tokens.b64url_encode(bytes(flipped))}")]


def _tampered_payload(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    edited = {**claims, _MARKER: "tampered"} if claims == s.claims else claims
    return [("claim added, signature kept", none.forge_tampered(s.token, edited).token)]


def _null_signature(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    if s.alg.startswith("ES"):
        raise _Skip("zero bytes are r = s = 0 for ECDSA: the psychic probe sends that")
    zeros = bytes(len(s.parsed.signature))
    return [(f"{len(zeros)} zero bytes", tokens.encode(s.header, claims, zeros))]


def _signature_stripped(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f"alg {s.alg}, empty signature", tokens.encode(s.header, claims))]


def _alg_none(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    forged = none.forge_none(claims, header=s.header)
    return [(f"alg {none.NONE_CASINGS[i]!r}", f.token) for i, f in enumerate(forged)]


def _empty_secret(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    return [("HS256, empty key", none.forge_empty_secret(claims, header=s.header).token)]


def _weak_secret(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    secret = s.cracked()
    headers = {k: v for k, v in s.header.items() if k != "alg"}
    token = sign_token(claims, secret, s.alg, headers=headers)
    return [(f"signed with the cracked secret {_shown(secret)}", token)]


def _confusion(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    key = s.public_key()
    forged = confusion.forge_confusion(key, claims, header=s.header)
    if not forged:
        raise _Skip("the published key set has no public key to confuse")
    return [(_confusion_label(f.explanation), f.token) for f in forged]


def _jwk(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    return [("attacker's RSA key in jwk", injection.forge_jwk(claims).token)]


def _jku(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    origin = s.transport.origin
    if origin is not None and not _is_loopback(urlsplit(origin).hostname or ""):
        # 127.0.0.1 in a jku would send a remote target to ITS own loopback: never do that
        raise _Skip("the scanner's key server is on this machine; a remote target cannot reach it")
    server = s.key_server()
    forged = injection.forge_jku(claims, server.url, kid=s.header.get("kid"))
    return [("jku -> the scanner's key server on 127.0.0.1", forged.token)]


def _kid_traversal(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    return [("kid ../../dev/null, empty key", injection.forge_kid_traversal(claims).token)]


def _kid_sql(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    return [("kid ' UNION SELECT '<secret>' --", injection.forge_kid_sql(claims).token)]


def _psychic(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    return [("ES256, r = s = 0", psychic.forge(claims, header=s.header).token)]


PROBES: tuple[_Probe, ...] = (
    _Probe("tampered-signature", "signature-not-verified", _tampered_signature),
    _Probe("tampered-payload", "signature-not-verified", _tampered_payload),
    _Probe("null-signature", "signature-not-verified", _null_signature),
    _Probe("signature-stripped", "unsigned-token-accepted", _signature_stripped),
    _Probe("alg-none", "unsigned-token-accepted", _alg_none),
    _Probe("empty-secret", "empty-hmac-secret", _empty_secret),
    _Probe("weak-secret", "weak-hmac-secret", _weak_secret),
    _Probe("confusion", "algorithm-confusion", _confusion),
    _Probe("jwk", "jwk-injection", _jwk),
    _Probe("jku", "jku-injection", _jku),
    _Probe("kid-traversal", "kid-path-traversal", _kid_traversal),
    _Probe("kid-sql", "kid-sql-injection", _kid_sql),
    _Probe("psychic", "psychic-signature", _psychic),
)
"""The forgery probes in the order they run; ``expired-replay`` and ``role-escalation`` follow."""

PROBE_IDS: tuple[str, ...] = (*(p.id for p in PROBES), "expired-replay", "role-escalation")


class _Scan:
    """One scan's state: the token, the lazily made resources, and the attempts so far."""

    def __init__(
        self,
        transport: _Transport,
        token: str,
        parsed: tokens.Token,
        public_key: Any,
        expired_token: str | None,
        wordlist: Any,
        stack: ExitStack,
    ) -> None:
        self.transport = transport
        self.token = token
        self.parsed = parsed
        self.header = dict(parsed.header)
        self.claims = dict(parsed.payload)
        self.alg = str(parsed.header.get("alg"))
        self.expired_token = expired_token
        self.wordlist = wordlist
        self.stack = stack
        self._public_key = public_key
        self._server: injection.KeyServer | None = None
        self.attempts: list[Attempt] = []
        self.baseline: list[str] = []
        self.notes: list[str] = []
        self.working: _Probe | None = None  # the first probe whose forgery was accepted
        self.working_variant = ""

    def run(self) -> tuple[tuple[Finding, ...], tuple[Attempt, ...], tuple[str, ...]]:
        self._baseline()
        static = self._static_findings()
        if self._unprotected():
            found = (self._finding("no-authentication", self.attempts), *static)
            return found, tuple(self.attempts), ()
        try:
            for probe in PROBES:
                self._run(probe, self.claims)
            self._expired()
            self._escalation()
        except _Budget:
            self.notes.append(
                f"the request budget ({self.transport.max_requests}) ran out; later probes skipped"
            )
            done = {a.probe for a in self.attempts}
            self.attempts += [
                Attempt(p, "", "", "skipped", detail="request budget spent")
                for p in PROBE_IDS
                if p not in done
            ]
        errors = [a.probe for a in self.attempts if a.verdict == "error"]
        if errors:
            self.notes.append(
                "the target failed (5xx or a crash) on: "
                + ", ".join(errors)
                + "; a verifier should refuse bad tokens, not fall over"
            )
        findings = (*self._root_causes(), *static)
        return findings, tuple(self.attempts), tuple(self.notes)

    # Baseline -------------------------------------------------------------------------------------

    def _baseline(self) -> None:
        answer = self._send(self.token)
        if not answer.accepted:
            raise ScanError(
                f"the target refused the valid token ({_answer_text(answer)})",
                "check the token (not expired? for this API?), --header/--cookie and --canary",
            )
        self.baseline.append(f"valid token accepted ({_answer_text(answer)})")

    def _unprotected(self) -> bool:
        """True (and recorded) when a request without any token is accepted too."""
        answer = self._send(None)
        if not answer.accepted:
            self.baseline.append(f"no token refused ({_answer_text(answer)})")
            return False
        self.attempts.append(
            Attempt(
                "no-token",
                "no-authentication",
                "no token at all",
                "accepted",
                answer.status,
                _join(answer.detail, "if that answer is a login page, pass --canary"),
            )
        )
        return True

    def _static_findings(self) -> tuple[Finding, ...]:
        """What the token and the URL show without sending anything: lifetime, plain HTTP."""
        found = []
        exp, iat = self.claims.get("exp"), self.claims.get("iat")
        if not _number(exp):
            detail = "the token has no exp: it never expires"
        elif _number(iat) and exp - iat > MAX_LIFETIME:
            detail = f"the token lives {_duration(exp - iat)} (exp - iat)"
        else:
            detail = ""
        if detail:
            found.append(("long-lived-token", "token lifetime", detail))
        origin = self.transport.origin or ""
        if origin.startswith("http://") and not _is_loopback(urlsplit(origin).hostname or ""):
            found.append(("plain-http", "transport", "the URL is http://, not https://"))
        return tuple(
            self._finding(flaw, [Attempt(probe, flaw, "read, not sent", "accepted", None, detail)])
            for flaw, probe, detail in found
        )

    # Probes ---------------------------------------------------------------------------------------

    def _run(self, probe: _Probe, claims: dict[str, Any], name: str | None = None) -> Attempt:
        """Send the probe's forgeries in turn until one is accepted; record the outcome.

        Under another ``name`` (a claim probe reusing the technique that worked),
        only the variant that worked is sent.
        """
        name = name or probe.id
        try:
            variants = probe.forge(self, claims)
            if name != probe.id:
                variants = [v for v in variants if v[0] == self.working_variant] or variants
        except _Skip as skip:
            return self._record(Attempt(name, probe.flaw, "", "skipped", detail=str(skip)))
        except LabkitError as exc:  # a forger that cannot work on this token
            return self._record(
                Attempt(name, probe.flaw, "", "skipped", detail=f"not applicable: {exc.message}")
            )
        attempt = Attempt(name, probe.flaw, "", "skipped", detail="nothing to send")
        sent = 0
        fetched_before = len(self._server.requests) if self._server is not None else 0
        for variant, token in variants:
            answer = self._send(token)
            sent += 1
            verdict: Verdict = (
                "accepted" if answer.accepted else "error" if _failed(answer) else "refused"
            )
            attempt = Attempt(name, probe.flaw, variant, verdict, answer.status, answer.detail)
            if answer.accepted:
                attempt = replace(attempt, detail=_join(attempt.detail, self._echo(answer, claims)))
                break
        if sent > 1 and attempt.verdict != "accepted":
            attempt = replace(attempt, variant=f"all {sent} variants")
        fetches = len(self._server.requests) - fetched_before if self._server is not None else 0
        if name == "jku" and fetches:
            fetched = f"the target fetched the scanner's key set ({fetches}x)"
            attempt = replace(attempt, detail=_join(attempt.detail, fetched))
            if attempt.verdict != "accepted":  # refused, but it still fetched: SSRF
                attempt = replace(attempt, verdict="accepted")
        if attempt.verdict == "accepted" and self.working is None and name == probe.id:
            self.working, self.working_variant = probe, attempt.variant
        return self._record(attempt)

    def _expired(self) -> None:
        """Replay an expired token: the one given, or one forged with the technique that worked."""
        if self.expired_token is not None:
            answer = self._send(self.expired_token)
            verdict: Verdict = "accepted" if answer.accepted else "refused"
            self._record(
                Attempt(
                    "expired-replay",
                    "expiry-not-enforced",
                    "the expired token given",
                    verdict,
                    answer.status,
                    answer.detail,
                )
            )
            return
        if self.working is None:
            self._record(
                Attempt(
                    "expired-replay",
                    "expiry-not-enforced",
                    "",
                    "skipped",
                    detail="needs an expired token of this service (--expired-token)",
                )
            )
            return
        probe = replace(self.working, flaw="expiry-not-enforced")
        attempt = self._run(probe, _expired(self.claims), name="expired-replay")
        self.attempts[-1] = replace(attempt, variant=f"via {self.working.id}: {attempt.variant}")

    def _escalation(self) -> None:
        """Claims tampering: role admin, forged by the technique that worked (or signature kept)."""
        probe = self.working or PROBES[1]
        attempt = self._run(probe, escalate(self.claims), name="role-escalation")
        self.attempts[-1] = replace(attempt, variant=f"via {probe.id}: role admin")

    def _send(self, token: str | None) -> _Answer:
        return self.transport.send(token)

    def _record(self, attempt: Attempt) -> Attempt:
        self.attempts.append(attempt)
        return attempt

    def _echo(self, answer: _Answer, claims: dict[str, Any]) -> str:
        """'answer shows role admin' when the target echoes an escalated claim back."""
        try:
            body = json.loads(answer.body)
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        shown = [
            f"{name} {value}"
            for name, value in claims.items()
            if value != self.claims.get(name) and body.get(name) == value
        ]
        return f"answer shows {', '.join(shown)}" if shown else ""

    # Resources ------------------------------------------------------------------------------------

    def cracked(self) -> bytes:
        if self.alg not in ("HS256", "HS384", "HS512"):
            raise _Skip(f"the token is {self.alg}, not HMAC-signed")
        if not hasattr(self, "_secret"):
            result = cracking.crack(self.token, self.wordlist, processes=1)
            self._secret, self._guesses = result.secret, result.guesses
        if self._secret is None:
            raise _Skip(f"the secret is not in the wordlist ({self._guesses} guesses, offline)")
        return self._secret

    def public_key(self) -> Any:
        if self._public_key is None:
            jwks = self.transport.get_json("/.well-known/jwks.json")
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
                raise _Skip("no public key: pass public_key (--public-key PEM)")
            self._public_key = jwks
        return self._public_key

    def key_server(self) -> injection.KeyServer:
        if self._server is None:
            jwks = injection.attacker_jwks(kid=self.header.get("kid"))
            self._server = self.stack.enter_context(injection.serve_jwks(jwks))
        return self._server

    # Root causes ----------------------------------------------------------------------------------

    def _root_causes(self) -> list[Finding]:
        accepted = [a for a in self.attempts if a.verdict == "accepted"]
        flaws = {a.flaw for a in accepted}
        explained = {flaw: _EXPLAINS.get(flaw, frozenset()) & flaws for flaw in flaws}
        hidden = set().union(*explained.values()) if explained else set()
        findings = []
        for flaw in FLAWS:
            if flaw not in flaws or flaw in hidden:
                continue
            proof = [a for a in accepted if a.flaw == flaw]
            also = [a for a in accepted if a.flaw in explained[flaw]]
            findings.append(self._finding(flaw, proof, also))
        return findings

    @staticmethod
    def _finding(flaw: str, proof: Sequence[Attempt], also: Sequence[Attempt] = ()) -> Finding:
        return Finding(FLAWS[flaw], tuple(proof), tuple(also))


# Helpers -----------------------------------------------------------------------------------------


def _valid_token(token: object, name: str) -> tokens.Token:
    if not isinstance(token, str):
        kind = type(token).__name__
        raise MalformedTokenError(f"{name} must be a compact JWT string, got {kind}")
    parsed = tokens.parse(token)
    alg = parsed.header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none" or not parsed.signature:
        raise MalformedTokenError(
            f"{name} must be a signed token (alg {alg!r}, {len(parsed.signature)}-byte signature)",
            "the scan forges from a real token the target accepts",
        )
    return parsed


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _expired(claims: dict[str, Any]) -> dict[str, Any]:
    """The claims issued an hour before and expired a minute before the original token's iat."""
    iat = claims.get("iat")
    base = int(iat) if _number(iat) else int(time.time())
    out = {**claims, "iat": base - 3600, "exp": base - 60}
    if "nbf" in out:
        out["nbf"] = base - 3600
    return out


def _failed(answer: _Answer) -> bool:
    return (answer.status is not None and answer.status >= 500) or answer.detail.startswith(
        "crashed"
    )


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _shown(secret: bytes) -> str:
    text = secret.decode("utf-8", errors="replace")
    return repr(_cut(text, 24))


def _confusion_label(explanation: str) -> str:
    """'HS256 with the SubjectPublicKeyInfo PEM ... as the HMAC secret' -> a short variant name."""
    for name, short in (("SubjectPublicKeyInfo", "SPKI PEM"), ("PKCS#1", "PKCS#1 PEM")):
        if name in explanation:
            return f"HS256 keyed with the {short}"
    return "HS256 keyed with the PEM as published"


def _answer_text(answer: _Answer) -> str:
    return _join(f"HTTP {answer.status}" if answer.status is not None else "", answer.detail)


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


# HTML --------------------------------------------------------------------------------------------

_VERDICT_COLOURS = {
    "accepted": "#D55E00",
    "refused": "#009E73",
    "error": "#000000",
    "skipped": "#999999",
}


def _html(report: ScanReport) -> str:
    e = html.escape
    colour = "#009E73" if report.clean else "#D55E00"
    parts = [f'<p style="font-weight:bold;color:{colour}">{e(report.summary())}</p>']
    if report.baseline:
        parts.append(f"<p>baseline: {e('; '.join(report.baseline))}</p>")
    if report.findings:
        rows = "".join(
            f"<tr><td><b>{e(f.flaw.attack)}</b><br><code>{e(f.id)}</code></td>"
            f"<td>{'<br>'.join(e(line) for line in f.evidence_lines)}</td>"
            f"<td>{e(f.flaw.fix)}</td>"
            f'<td><a href="{e(f.flaw.notebook)}">{e(f.flaw.notebook[:2])}</a></td></tr>'
            for f in report.findings
        )
        parts.append(
            "<table><thead><tr><th>Finding</th><th>Evidence</th><th>Fix</th><th>Learn</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    cells = "".join(
        f"<tr><td><code>{e(a.probe)}</code></td>"
        f'<td style="color:{_VERDICT_COLOURS[a.verdict]};font-weight:bold">{e(a.verdict)}</td>'
        f"<td>{e(a.variant)}</td><td>{e(a.evidence)}</td></tr>"
        for a in report.attempts
    )
    parts.append(
        f"<details><summary>All {len(report.attempts)} probes</summary><table><thead><tr>"
        "<th>Probe</th><th>Verdict</th><th>Variant</th><th>Evidence</th></tr></thead>"
        f"<tbody>{cells}</tbody></table></details>"
    )
    parts += [f"<p><i>note: {e(note)}</i></p>" for note in report.notes]
    return "".join(parts)
