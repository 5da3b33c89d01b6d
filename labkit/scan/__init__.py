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
   signature; with ``id_token`` / ``other_token``, the token-type probes send
   an ID token and another API's access token of the same issuer as they are.
   Then two claim probes: an expired token replayed, and a role
   escalated to ``admin``, both forged with whichever technique worked.
3. **Root causes.** A verifier that never checks signatures accepts nearly every
   forgery; that is one flaw, not a dozen. Each finding names the one root
   cause, the probes it explains, the evidence (status, canary, what the answer
   echoed), the fix and the notebook that teaches it.

Safety: only loopback targets (127.0.0.0/8, ::1, localhost), unless the host
is named in ``allow_hosts`` (the caller then needs the owner's permission).
The URL is judged by ``labkit.outbound``, the kit's one outbound-URL guard,
exactly as ``requests`` will send it (userinfo, backslashes and disguised
addresses are refused); an allowed name is resolved once and every request
goes to that address. At most ``max_requests`` requests, each with a timeout,
no proxies from the environment, and redirects are never followed (a 3xx
counts as refused).

``target`` may also be a verifier: any ``function(token)`` that returns the
claims or raises ``labkit.InvalidTokenError``. The same probes then run
in-process, which is how notebook 11 checks a learner's verifier.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

from labkit import keys, tokens
from labkit.errors import ConfigurationError, MalformedTokenError
from labkit.scan.engine import MAX_LIFETIME, _Scan
from labkit.scan.findings import FLAWS, Attempt, Finding, Flaw, ScanReport
from labkit.scan.probes import PROBE_IDS, PROBES, DpopTarget, escalate
from labkit.scan.transport import (
    DEFAULT_TIMEOUT,
    MAX_REQUESTS,
    MAX_TIMEOUT,
    ScanError,
    Target,
    TargetRefusedError,
    _transport,
    check_target,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "FLAWS",
    "MAX_LIFETIME",
    "MAX_REQUESTS",
    "MAX_TIMEOUT",
    "PROBES",
    "PROBE_IDS",
    "Attempt",
    "DpopTarget",
    "Finding",
    "Flaw",
    "ScanError",
    "ScanReport",
    "TargetRefusedError",
    "check_target",
    "escalate",
    "scan",
]


def scan(
    target: Target,
    token: str,
    *,
    header: str = "Authorization",
    cookie: str | None = None,
    cookies: dict[str, str] | None = None,
    canary: str | None = None,
    allow_hosts: Iterable[str] = (),
    public_key: Any = None,
    expired_token: str | None = None,
    wordlist: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_requests: int = MAX_REQUESTS,
    id_token: str | None = None,
    other_token: str | None = None,
) -> ScanReport:
    """Run every probe against ``target`` (a URL or a verifier function) and report the flaws.

    ``token`` is a valid token for the target. It travels as ``Authorization:
    Bearer <token>``, as the bare token in another ``header``, or in the
    ``cookie`` named. ``canary`` is text only an authenticated answer contains.
    ``public_key`` (PEM, JWK, JWKS or key) feeds the confusion probe; without it
    the target's ``/.well-known/jwks.json`` is tried. ``expired_token`` (an
    expired token of the same service) lets the expiry probe run without a
    forgery. ``wordlist`` defaults to the kit's bundled list of weak secrets.
    ``id_token`` (an ID token of the same issuer) and ``other_token`` (an access
    token of the same issuer for another API) feed the token-type probes.
    """
    started = time.perf_counter()
    original = _valid_token(token, "token")
    if expired_token is not None:
        _valid_token(expired_token, "expired_token")
    for given, name in ((id_token, "id_token"), (other_token, "other_token")):
        if given is not None:
            _valid_token(given, name)
    if isinstance(public_key, (str, bytes)):
        keys.load_pem(public_key)  # a KeyFormatError now, not a skipped probe later
    if isinstance(wordlist, (str, os.PathLike)) and not os.path.isfile(wordlist):
        raise ConfigurationError(f"no wordlist file at {os.fspath(wordlist)!r}")
    with ExitStack() as stack:
        transport = _transport(
            target, header, cookie, canary, allow_hosts, timeout, max_requests, cookies
        )
        stack.callback(transport.close)
        probe = _Scan(
            transport,
            token,
            original,
            public_key,
            expired_token,
            wordlist,
            stack,
            id_token=id_token,
            other_token=other_token,
        )
        findings, attempts, notes = probe.run()
    if transport.note:
        notes = (transport.note, *notes)
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
