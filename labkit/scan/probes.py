"""What the scan sends: one forgery probe per attack, and the claims of the two claim probes.

Each probe forges its tokens with the forgers of ``labkit.attacks``; ``escalate``
and ``_expired`` edit the claims that the role-escalation and expired-replay
probes send with whichever technique worked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit import tokens
from labkit.algorithms import sign_token
from labkit.attacks import confusion, injection, none, psychic
from labkit.scan.findings import Attempt, Verdict, _cut

if TYPE_CHECKING:
    from labkit.scan.engine import _Scan

_MARKER = "labkit-scan"  # the harmless claim the tampered-payload probe adds


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
    if not s.transport.local:
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


# Token types (notebook 13): genuine tokens of the same provider, of the wrong kind or for
# another API. Nothing is forged, so they cannot carry edited claims (the claim probes skip).


def _audiences(claims: dict[str, Any]) -> set[str]:
    aud = claims.get("aud", claims.get("client_id"))
    return {a for a in (aud if isinstance(aud, list) else [aud]) if isinstance(a, str)}


def _given(s: _Scan, claims: dict[str, Any], name: str, flag: str) -> tuple[str, tokens.Token]:
    if claims != s.claims:
        raise _Skip("sends a real token as it is: it cannot carry edited claims")
    token = getattr(s, name)
    if token is None:
        raise _Skip(f"needs {flag} TOKEN (a token of the same issuer)")
    return token, tokens.parse(token)


def _id_token(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    raw, given = _given(s, claims, "id_token", "--id-token")
    if _audiences(given.payload) & _audiences(s.claims):
        raise _Skip("the ID token's aud is this API: the wrong-typ probe sends it")
    return [(f"ID token for {_cut(', '.join(sorted(_audiences(given.payload))), 24)}", raw)]


def _wrong_typ(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    raw, given = _given(s, claims, "id_token", "--id-token")
    if not _audiences(given.payload) & _audiences(s.claims):
        raise _Skip("needs an ID token whose aud is this API (the id-token probe sent this one)")
    return [(f"typ {_cut(str(given.header.get('typ')), 12)!r}, aud this API", raw)]


def _cross_audience(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    raw, given = _given(s, claims, "other_token", "--other-token")
    theirs = _audiences(given.payload)
    if not theirs or theirs & _audiences(s.claims):
        raise _Skip("the other token must be for another audience than the valid token")
    return [(f"access token for {_cut(', '.join(sorted(theirs)), 24)}", raw)]


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
    _Probe("id-token", "id-token-accepted", _id_token),
    _Probe("wrong-typ", "typ-not-checked", _wrong_typ),
    _Probe("cross-audience", "audience-not-checked", _cross_audience),
    # DPoP (RFC 9449, notebook 15): see the block at the end of this module
    _Probe("dpop-enforcement", "dpop-not-enforced", lambda s, c: _dpop_enforcement(s, c)),
    _Probe("dpop-replay", "dpop-proof-replay", lambda s, c: _dpop_replay(s, c)),
    _Probe("dpop-binding", "dpop-proof-not-bound", lambda s, c: _dpop_binding(s, c)),
)
"""The forgery probes in the order they run; ``expired-replay`` and ``role-escalation`` follow."""



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


def _expired(claims: dict[str, Any]) -> dict[str, Any]:
    """The claims issued an hour before and expired a minute before the original token's iat."""
    iat = claims.get("iat")
    base = int(iat) if _number(iat) else int(time.time())
    out = {**claims, "iat": base - 3600, "exp": base - 60}
    if "nbf" in out:
        out["nbf"] = base - 3600
    return out


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(secret: bytes) -> str:
    text = secret.decode("utf-8", errors="replace")
    return repr(_cut(text, 24))


def _confusion_label(explanation: str) -> str:
    """'HS256 with the SubjectPublicKeyInfo PEM ... as the HMAC secret' -> a short variant name."""
    for name, short in (("SubjectPublicKeyInfo", "SPKI PEM"), ("PKCS#1", "PKCS#1 PEM")):
        if name in explanation:
            return f"HS256 keyed with the {short}"
    return "HS256 keyed with the PEM as published"


# Browser probes (notebook 14) --------------------------------------------------------------------
# They send what a browser would, not a forged token: a cookie-carried token on a cross-site POST,
# and a fingerprint-bound token without its cookie. ``run_browser_probes(scan, cookies)`` runs
# them against an HTTP target; ``cookies`` are what the client normally sends beside the token
# (the fingerprint cookie), so that leaving one out is what the probe tests.

_FOREIGN_ORIGIN = "https://attacker.invalid"  # RFC 2606's .invalid: a site that cannot exist
_FINGERPRINT_CLAIM = "fgp"  # labkit.aws.cookies.FINGERPRINT_CLAIM (not imported: no aws here)


@dataclass(frozen=True)
class _BrowserProbe:
    id: str
    flaw: str
    run: Callable[[_Scan, dict[str, str]], Attempt]


def _browser_send(
    s: _Scan, method: str, headers: dict[str, str], cookies: dict[str, str]
) -> tuple[int, str]:
    """One request through the scan's guarded session, counted against its budget."""
    from labkit import outbound
    from labkit.scan.transport import ScanError, _Budget

    transport: Any = s.transport
    if transport.requests >= transport.max_requests:
        raise _Budget
    transport.requests += 1
    try:
        reply = transport.session.request(
            method, None, headers=headers, cookies=cookies, timeout=transport.timeout
        )
    except outbound.FetchError as exc:
        raise ScanError(exc.message) from None
    return reply.status, reply.text


def _carried(s: _Scan, cookies: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies that carry the valid token the way the scan was told to."""
    transport: Any = s.transport
    headers: dict[str, str] = {}
    jar = dict(cookies)
    if transport.cookie is not None:
        jar[transport.cookie] = s.token
    elif transport.header.lower() == "authorization":
        headers[transport.header] = f"Bearer {s.token}"
    else:
        headers[transport.header] = s.token
    return headers, jar


def _cookie_csrf(s: _Scan, cookies: dict[str, str]) -> Attempt:
    """POST with the token in its cookie, a foreign Origin and no CSRF token: a forged request."""
    probe, flaw = "cookie-csrf", "cookie-csrf"
    if getattr(s.transport, "cookie", None) is None:
        return Attempt(probe, flaw, "", "skipped", detail="the token is not sent in a cookie")
    headers, jar = _carried(s, cookies)
    headers.update({"Origin": _FOREIGN_ORIGIN, "Content-Type": "application/x-www-form-urlencoded"})
    status, body = _browser_send(s, "POST", headers, jar)
    variant = f"POST, Origin {_FOREIGN_ORIGIN}, no CSRF token"
    if status in (404, 405) or (status == 403 and "Missing Authentication Token" in body):
        return Attempt(probe, flaw, variant, "skipped", status, "no POST route at this URL")
    if 200 <= status < 300 or status in (400, 422):
        detail = "authorized" if status < 300 else "authorized; the empty body was refused after"
        return Attempt(probe, flaw, variant, "accepted", status, detail)
    verdict: Verdict = "error" if status >= 500 else "refused"
    return Attempt(probe, flaw, variant, verdict, status)


def _fingerprint_missing(s: _Scan, cookies: dict[str, str]) -> Attempt:
    """The fingerprint-bound token with every cookie but its fingerprint: a sidejacked token."""
    probe, flaw = "fingerprint-missing", "fingerprint-not-checked"
    if _FINGERPRINT_CLAIM not in s.claims:
        return Attempt(probe, flaw, "", "skipped", detail="the token has no fgp claim")
    headers, jar = _carried(s, cookies)
    status, _ = _browser_send(s, "GET", headers, jar)
    if not 200 <= status < 300:
        detail = "the token was refused even with its cookies (pass the fingerprint cookie)"
        return Attempt(probe, flaw, "", "skipped", status, detail)
    fingerprints = [name for name in cookies if "fgp" in name.lower()] or list(cookies)
    kept = {k: v for k, v in jar.items() if k not in fingerprints}
    status, _ = _browser_send(s, "GET", headers, kept)
    variant = f"without the cookie {', '.join(fingerprints) or '(none given)'}"
    verdict: Verdict = (
        "accepted" if 200 <= status < 300 else "error" if status >= 500 else "refused"
    )
    return Attempt(probe, flaw, variant, verdict, status)


BROWSER_PROBES: tuple[_BrowserProbe, ...] = (
    _BrowserProbe("cookie-csrf", "cookie-csrf", _cookie_csrf),
    _BrowserProbe("fingerprint-missing", "fingerprint-not-checked", _fingerprint_missing),
)
"""The browser probes, run after the claim probes against HTTP targets."""

BROWSER_PROBE_IDS: tuple[str, ...] = tuple(p.id for p in BROWSER_PROBES)

PROBE_IDS: tuple[str, ...] = (
    *(p.id for p in PROBES),
    "expired-replay",
    "role-escalation",
    *BROWSER_PROBE_IDS,
)
"""Every probe a scan reports, in the order it runs them: what reports, SARIF and JUnit list."""


def run_browser_probes(s: _Scan, cookies: dict[str, str] | None = None) -> list[Attempt]:
    """Every browser probe's attempt (skipped, with the reason, against a verifier function)."""
    if not hasattr(s.transport, "session"):
        return [
            Attempt(p.id, p.flaw, "", "skipped", detail="needs an HTTP target")
            for p in BROWSER_PROBES
        ]
    return [p.run(s, dict(cookies or {})) for p in BROWSER_PROBES]


# DPoP (RFC 9449, notebook 15) --------------------------------------------------------------------
#
# A DPoP-bound token (``cnf.jkt``) must come with a fresh proof from its key. Scan one with
# ``scan(DpopTarget(url, key), token)``: every request (baseline, forgeries) then carries a valid
# proof, and the three probes below send the token as a thief or a replayer would. Against a plain
# URL only ``dpop-enforcement`` can run (the bound token sent as Bearer, as any scan sends it).


@dataclass(frozen=True)
class _Shape:
    """How ``DpopTarget`` sends one token: scheme, and what is wrong with the proof, if any."""

    scheme: str = "DPoP"
    proof: bool = True
    twice: bool = False  # the same proof sent again: the answer to the second is the verdict
    htm: str | None = None
    path: str | None = None
    other_token: bool = False
    ahead: float = 0.0
    thief: bool = False
    unsigned: bool = False


class _Shaped(str):
    """A token that tells ``DpopTarget`` how to send it (the engine passes it through as is)."""

    shape: _Shape


def _shaped(token: str, shape: _Shape) -> _Shaped:
    value = _Shaped(token)
    value.shape = shape
    return value


class DpopTarget:
    """A scan target that speaks DPoP: each token goes as ``Authorization: DPoP`` with a proof.

    The URL passes the scanner's own guard (loopback, or a host in ``allow_hosts``) and
    every request goes through ``labkit.outbound``. The server's ``DPoP-Nonce`` is kept
    and a ``use_dpop_nonce`` answer is retried once (RFC 9449 sections 8 and 9), so one
    probe may cost two requests (``requests`` counts them all). A 2xx answer is an
    acceptance; a 5xx is a crash; anything else is a refusal.
    """

    def __init__(
        self,
        url: str,
        key: Any,
        *,
        allow_hosts: Any = (),
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from labkit import __version__, dpop, outbound
        from labkit.scan.transport import _judged

        destination = _judged(url, allow_hosts)
        self.url, self.timeout = destination.url, timeout
        self.session = outbound.GuardedSession(destination, user_agent=f"labkit-scan/{__version__}")
        self.client = dpop.Client(key, clock=clock)
        self.requests = 0
        self.__name__ = f"DPoP client of {self.url}"

    def __call__(self, token: str) -> Any:
        from labkit.errors import InvalidTokenError, LabkitError

        shape = getattr(token, "shape", _Shape())
        if not token:
            shape = _Shape(scheme="", proof=False)
        headers = self._headers(str(token), shape)
        status, body, challenge = self._get(headers)
        if shape.proof and status == 401 and "use_dpop_nonce" in challenge:
            headers = self._headers(str(token), shape)  # the nonce the server just sent
            status, body, challenge = self._get(headers)
        if shape.twice and 200 <= status < 300:
            status, body, challenge = self._get(headers)
        if status >= 500:
            raise RuntimeError(f"HTTP {status}")
        if not 200 <= status < 300:
            raise InvalidTokenError(f"HTTP {status} {challenge}".strip())
        try:
            return tokens.load_json(body, "answer")
        except LabkitError:  # a 2xx that is not JSON is still an acceptance
            return {}

    def _headers(self, token: str, shape: _Shape) -> dict[str, str]:
        from labkit.attacks import dpop as forge

        headers = {"Authorization": f"{shape.scheme} {token}"} if shape.scheme else {}
        if not shape.proof:
            return headers
        nonce = self.client.nonces.get(_origin_of(self.url))
        url = self.url if shape.path is None else _origin_of(self.url) + shape.path
        ath_of = token + "x" if shape.other_token else token
        now = int(self.client.clock())
        if shape.unsigned:
            jwk = self.client.proof("GET", self.url, token)  # the key's own public jwk
            proof = forge.forge_none_proof(
                tokens.parse(jwk).header["jwk"], "GET", url, ath_of, now=now, nonce=nonce
            ).token
        elif shape.thief:
            proof = forge.forge_own_key_proof("GET", url, ath_of, iat=now, nonce=nonce).token
        else:
            proof = self.client.proof(
                shape.htm or "GET", url, ath_of, iat=int(now + shape.ahead), nonce=nonce
            )
        headers["DPoP"] = proof
        return headers

    def _get(self, headers: dict[str, str]) -> tuple[int, str, str]:
        self.requests += 1
        reply = self.session.get(None, headers=headers, timeout=self.timeout, max_bytes=65536)
        nonce = reply.headers.get("DPoP-Nonce")
        if nonce:
            self.client.nonces[_origin_of(self.url)] = nonce
        return reply.status, reply.text, reply.headers.get("WWW-Authenticate", "")

    def close(self) -> None:
        self.session.close()


def _origin_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _bound(s: _Scan, claims: dict[str, Any]) -> str:
    """The token the DPoP probes send, or ``_Skip`` when they do not apply."""
    if claims != s.claims:
        raise _Skip("the DPoP probes send the bound token as issued")
    cnf = s.claims.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jkt"), str):
        raise _Skip("the token is not DPoP-bound (no cnf.jkt)")
    return s.token


def _speaks_dpop(s: _Scan) -> bool:
    return isinstance(getattr(s.transport, "verifier", None), DpopTarget)


def _dpop_enforcement(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    token = _bound(s, claims)
    if not _speaks_dpop(s):  # a plain URL scan sends the token as Bearer, without a proof
        return [("the bound token as Bearer, no proof", token)]
    return [
        ("the bound token as Bearer, no proof", _shaped(token, _Shape("Bearer", proof=False))),
        ("scheme DPoP, no DPoP header", _shaped(token, _Shape(proof=False))),
    ]


def _dpop_replay(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    token = _bound(s, claims)
    if not _speaks_dpop(s):
        raise _Skip("needs the token's DPoP key: scan DpopTarget(url, key)")
    return [("one proof sent twice", _shaped(token, _Shape(twice=True)))]


def _dpop_binding(s: _Scan, claims: dict[str, Any]) -> list[tuple[str, str]]:
    token = _bound(s, claims)
    if not _speaks_dpop(s):
        raise _Skip("needs the token's DPoP key: scan DpopTarget(url, key)")
    shapes = [
        ("proof for another URL", _Shape(path="/labkit-scan/other")),
        ("proof for POST", _Shape(htm="POST")),
        ("proof made for another token (ath)", _Shape(other_token=True)),
        ("proof by another key (cnf.jkt)", _Shape(thief=True)),
        ("proof dated an hour ahead", _Shape(ahead=3600)),
        ("alg none proof with the public jwk", _Shape(unsigned=True)),
    ]
    return [(label, _shaped(token, shape)) for label, shape in shapes]
