"""DPoP (RFC 9449): sender-constrained tokens, proofs made and checked, replay cache, nonces.

A bearer token works for whoever holds it. A DPoP-bound token carries
``cnf.jkt``, the RFC 7638 thumbprint of the client's public key (RFC 9449
section 6.1), and every request must come with a *proof*: a JWT of type
``dpop+jwt`` signed by that key, naming the request's method (``htm``) and
URL (``htu``), its time (``iat``), a unique id (``jti``) and the hash of the
access token (``ath``). A thief who copies the token has no key to sign with.

``verify_proof`` makes every check of RFC 9449 section 4.3, in this order:

1. one ``DPoP`` header only (``proof_from_headers``), at most ``MAX_PROOF_LENGTH``;
2. a single well-formed JWT (the kit's strict parser, ``labkit.tokens``);
3. the claims section 4.2 requires: ``jti``, ``htm``, ``htu``, ``iat`` (and ``ath``
   with an access token, ``nonce`` when the server gave one);
4. ``typ`` is ``dpop+jwt`` (also section 11.5: no JWT of another kind swapped in);
5. ``alg`` is an asymmetric algorithm the caller allows: never ``none``, never
   HMAC (section 11.6);
6. the signature verifies with the ``jwk`` header's key (``labkit.verify_jws``:
   RSA >= 2048 bits, points on their curve, ``use``/``key_ops``/``alg`` honoured);
7. that ``jwk`` holds no private member;
8. ``htm`` is the request's method; 9. ``htu`` is its URL, without query and
   fragment, after RFC 3986 syntax- and scheme-based normalisation;
10. the ``nonce`` is one this server issued (``NonceSource``, sections 8 and 9);
11. ``iat`` is at most ``max_age`` seconds old and at most ``leeway`` seconds in
    the future (section 11.1); 12. ``ath`` is the hash of the access token and
    the key's thumbprint is the token's ``cnf.jkt``.

Then the ``jti`` goes into the ``ReplayCache`` (section 11.1), so the same proof
never works twice; it is recorded only once every check passed, so bad proofs
cannot fill it.

Every refusal is an ``InvalidProofError`` (an ``InvalidTokenError``) whose
``error`` is the RFC's code for the ``WWW-Authenticate`` header
(``invalid_dpop_proof``, ``use_dpop_nonce``, ``invalid_token``), and also the
kit's error of that kind (``MalformedTokenError``, ``DisallowedAlgorithmError``,
...), with a one-line message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from labkit import algorithms, keys, tokens
from labkit.algorithms import PrivateKey, PublicKey
from labkit.errors import (
    BadSignatureError,
    ConfigurationError,
    DisallowedAlgorithmError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidTokenError,
    LabkitError,
    MalformedTokenError,
    NotYetValidError,
    UnsafeKeyError,
    shown,
)
from labkit.verify import verify_jws

if TYPE_CHECKING:
    import requests

__all__ = [
    "ALGORITHMS",
    "LEEWAY",
    "MAX_AGE",
    "MAX_JTI_LENGTH",
    "MAX_PROOF_LENGTH",
    "TYP",
    "Client",
    "InvalidProofError",
    "KeyBindingError",
    "MalformedProofError",
    "NonceSource",
    "Proof",
    "ProofAlgorithmError",
    "ProofExpiredError",
    "ProofFromFutureError",
    "ProofKeyError",
    "ProofMismatchError",
    "ProofSignatureError",
    "ReplayCache",
    "ReplayCacheFullError",
    "ReplayedProofError",
    "UseDpopNonceError",
    "access_token_hash",
    "challenge",
    "make_proof",
    "normalize_htu",
    "proof_from_headers",
    "public_jwk",
    "thumbprint",
    "verify_proof",
]

TYP = "dpop+jwt"
"""The ``typ`` every proof carries (RFC 9449 section 4.2, explicit typing per RFC 8725 3.11)."""
ALGORITHMS: tuple[str, ...] = tuple(a for a in algorithms.ALGORITHMS if not a.startswith("HS"))
"""The asymmetric JWS algorithms a proof may use: no HMAC, no ``none`` (sections 4.2, 11.6)."""
MAX_AGE = 60.0
"""Seconds a proof is accepted after its ``iat`` ("on the order of seconds or minutes", 11.1)."""
LEEWAY = 5.0
"""Seconds of clock skew allowed for an ``iat`` in the future (the note in section 11.1)."""
MAX_PROOF_LENGTH = 4096
"""The longest ``DPoP`` header value read; an RSA-4096 proof is about 1.3 KB."""
MAX_JTI_LENGTH = 128
"""The longest ``jti`` accepted: "reject DPoP proof JWTs with unnecessarily large jti" (11.1)."""

_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}
"""RFC 7638 section 3.2 (RSA, EC) and RFC 8037 section 2 (OKP): the members a thumbprint hashes."""
_REQUIRED = ("jti", "htm", "htu", "iat")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_CURVE_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


# Errors ------------------------------------------------------------------------------------------


class InvalidProofError(InvalidTokenError):
    """A DPoP proof (or its token) must not be trusted; ``error`` is RFC 9449's code."""

    error = "invalid_dpop_proof"


class MalformedProofError(InvalidProofError, MalformedTokenError):
    """The DPoP header is missing, repeated, too long, or not a well-formed proof JWT."""


class ProofAlgorithmError(InvalidProofError, DisallowedAlgorithmError):
    """The proof's ``alg`` is ``none``, HMAC, unknown, or not allowed here."""


class ProofKeyError(InvalidProofError, UnsafeKeyError):
    """The proof's ``jwk`` is missing, private, symmetric, malformed or too weak."""


class ProofSignatureError(InvalidProofError, BadSignatureError):
    """The proof's signature does not verify with the key in its own ``jwk`` header."""


class ProofMismatchError(InvalidProofError, InvalidClaimError):
    """A proof claim does not match this request: ``htm``, ``htu`` or ``ath``."""


class ProofExpiredError(InvalidProofError, ExpiredTokenError):
    """The proof's ``iat`` is older than the window the server accepts."""


class ProofFromFutureError(InvalidProofError, NotYetValidError):
    """The proof's ``iat`` lies further in the future than the allowed clock skew."""


class ReplayedProofError(InvalidProofError, InvalidClaimError):
    """This proof's ``jti`` was already used at this URL: a copied proof, replayed."""


class ReplayCacheFullError(InvalidProofError):
    """The replay cache is at its bound: new proofs are refused until entries expire."""


class UseDpopNonceError(InvalidProofError, InvalidClaimError):
    """The server requires a nonce it issued, and the proof has none or an old one."""

    error = "use_dpop_nonce"


class KeyBindingError(InvalidProofError):
    """The access token is bound to another key, is not bound, or is sent with the wrong scheme."""

    error = "invalid_token"


# Keys and hashes ---------------------------------------------------------------------------------


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the access token's ASCII bytes (RFC 9449 section 4.2)."""
    if not isinstance(access_token, str) or not access_token.isascii():
        raise MalformedProofError("an access token must be ASCII text")
    return tokens.b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, Any]:
    """The public JWK of ``key`` for a proof's ``jwk`` header: key members only, never ``d``."""
    if isinstance(key, (bytes, bytearray, str)):
        raise ProofKeyError(
            "a DPoP key must be an asymmetric key pair, got a shared secret",
            "RFC 9449 section 4.2: the proof is signed with a private key, never a MAC",
        )
    public = key.public_key() if isinstance(key, PrivateKey) else key
    return {k: v for k, v in keys.to_jwk(public, use=None).items() if k != "kid"}


def thumbprint(jwk_or_key: Mapping[str, Any] | PrivateKey | PublicKey) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public key or JWK: the value of ``cnf.jkt``.

    A JWK holding private members, or an HMAC (``oct``) key, is refused: the
    thumbprint binds a token to a public key (RFC 9449 section 6.1).
    """
    if isinstance(jwk_or_key, Mapping):
        return keys.thumbprint(_public_key_of(dict(jwk_or_key))[0])
    return keys.thumbprint(public_jwk(jwk_or_key))


def _public_key_of(jwk: object) -> tuple[dict[str, Any], PublicKey]:
    """Check a proof's ``jwk`` (section 4.3 item 7) and load it: the JWK and its key."""
    checked = _public_jwk_members(jwk)
    try:
        key = keys.from_jwk(checked)
    except LabkitError as exc:
        raise ProofKeyError(f"the proof's jwk is not a usable key: {exc.message}") from None
    assert isinstance(key, PublicKey)
    return checked, key


def _jkt(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 over a JWK already loaded and checked (by ``verify_jws``): no second load."""
    canonical = json.dumps(
        {m: jwk[m] for m in _THUMBPRINT_MEMBERS[jwk["kty"]]}, separators=(",", ":")
    )
    return tokens.b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def _public_jwk_members(jwk: object) -> dict[str, Any]:
    """Section 4.3 item 7 and 4.2: a JSON object, an asymmetric ``kty``, no private member."""
    if not isinstance(jwk, dict):
        raise ProofKeyError(
            "the proof has no 'jwk' header (a JSON object)",
            "RFC 9449 section 4.2: the proof carries the client's public key",
        )
    leaked = [name for name in _PRIVATE_MEMBERS if name in jwk]
    if leaked:
        raise ProofKeyError(
            f"the proof's jwk holds private member(s) {', '.join(leaked)}",
            "RFC 9449 section 4.3 item 7: the jwk header must be a public key",
        )
    if jwk.get("kty") not in ("RSA", "EC", "OKP"):
        raise ProofKeyError(
            f"the proof's jwk has kty {shown(jwk.get('kty'))}; expected RSA, EC or OKP",
            "a DPoP key is asymmetric",
        )
    return jwk


def default_alg(key: PrivateKey | PublicKey) -> str:
    """The algorithm a proof signed by ``key`` uses by default: ES256 for P-256, RS256 for RSA."""
    family = algorithms.describe_key(key)
    if "RSA" in family:
        return "RS256"
    if "Ed25519" in family or "Ed448" in family:
        return "EdDSA"
    curve = getattr(key, "curve", None)
    if curve is not None and curve.name in _CURVE_ALGS:
        return _CURVE_ALGS[curve.name]
    raise ProofKeyError(f"no DPoP algorithm fits {family}")


# Making proofs -----------------------------------------------------------------------------------


def make_proof(
    key: PrivateKey,
    htm: str,
    htu: str,
    *,
    access_token: str | None = None,
    nonce: str | None = None,
    iat: float | None = None,
    jti: str | None = None,
    alg: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A DPoP proof JWT for one request (RFC 9449 section 4.2), signed by ``key``.

    ``htu`` is sent without its query and fragment. ``access_token`` adds
    ``ath``; ``nonce`` is the server's latest ``DPoP-Nonce``; ``jti`` defaults
    to 128 random bits (the RFC asks for at least 96); ``iat`` to now.
    ``extra`` adds or overrides claims (the attack labs use it).
    """
    if not isinstance(key, PrivateKey):
        raise ProofKeyError(
            f"a proof is signed with a private key, got {algorithms.describe_key(key)}",
            "RFC 9449 section 4.2: asymmetric signatures only",
        )
    alg = default_alg(key) if alg is None else alg
    if alg not in ALGORITHMS:
        raise ProofAlgorithmError(f"a DPoP proof cannot use alg {shown(alg)}")
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16) if jti is None else jti,
        "htm": htm,
        "htu": _without_query(htu),
        "iat": int(time.time()) if iat is None else iat,
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    claims.update(extra or {})
    header = {"typ": TYP, "alg": alg, "jwk": public_jwk(key)}
    signature = algorithms.sign(alg, key, tokens.signing_input(header, claims))
    return tokens.encode(header, claims, signature)


def _without_query(url: str) -> str:
    if not isinstance(url, str):
        raise MalformedProofError(f"htu must be a URL string, got {type(url).__name__}")
    return url.split("#", 1)[0].split("?", 1)[0]


def normalize_htu(url: object) -> str:
    """``url`` as ``htu`` is compared: no query or fragment, RFC 3986 sections 6.2.2 and 6.2.3.

    Scheme and host lower-cased, the default port dropped, an empty path made
    ``/``, percent-encoded unreserved characters decoded and the remaining
    escapes upper-cased, ``.`` and ``..`` segments removed (RFC 9449 section 4.3
    asks for this normalisation "to reduce the likelihood of false negatives").
    """
    if not isinstance(url, str) or not url or len(url) > 2048 or not url.isascii():
        raise MalformedProofError(f"htu must be an absolute http(s) URL, got {shown(url)}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise MalformedProofError(f"htu is not a valid URL: {shown(url)}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        raise MalformedProofError(f"htu must be an absolute http(s) URL, got {shown(url)}")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{_normal_path(parts.path)}"


def _normal_path(path: str) -> str:
    decoded = "".join(
        (unquote(part) if unquote(part) in _UNRESERVED else part.upper())
        if len(part) == 3
        else part
        for part in _escapes(path)
    )
    segments: list[str] = []
    for segment in decoded.split("/")[1:] if decoded.startswith("/") else decoded.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment != ".":
            segments.append(segment)
    trailing = "/" if decoded.endswith(("/", "/.", "/..")) and segments and segments[-1] else ""
    return "/" + "/".join(segments) + trailing if segments else "/"


def _escapes(path: str) -> list[str]:
    """``path`` split into single characters and ``%XX`` escapes."""
    out, i = [], 0
    while i < len(path):
        if path[i] == "%" and _hex(path[i + 1 : i + 3]):
            out.append(path[i : i + 3])
            i += 3
        else:
            out.append(path[i])
            i += 1
    return out


def _hex(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdefABCDEF" for c in text)


# Replay cache and nonces -------------------------------------------------------------------------


class ReplayCache:
    """The ``jti`` values seen in the last ``window`` seconds, at most ``max_entries`` of them.

    RFC 9449 section 11.1: a server "can store the jti value of each DPoP
    proof for the time window in which the respective DPoP proof JWT would be
    accepted", "or store only a hash thereof" against memory exhaustion. Each
    entry is a 16-byte BLAKE2b digest of (htu, jti) and its expiry, in
    insertion order; expired entries leave from the front. Memory is bounded
    by ``max_entries``: about 200 bytes an entry on CPython 3.11 (bench/dpop.py
    measures it), so the default 100,000 entries stay under 24 MB. At the
    bound a new proof is refused (``ReplayCacheFullError``) rather than an
    unexpired entry forgotten: forgetting one would make its proof replayable.
    """

    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        window: float = MAX_AGE + LEEWAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError(f"max_entries must be a positive int, got {max_entries!r}")
        if not isinstance(window, (int, float)) or not 0 < window < math.inf:
            raise ConfigurationError(f"window must be seconds over 0, got {window!r}")
        self.max_entries = max_entries
        self.window = float(window)
        self.clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def remember(
        self, jti: str, htu: str, *, until: float | None = None, now: float | None = None
    ) -> None:
        """Record a proof's ``jti`` at ``htu``; ``ReplayedProofError`` if it was seen already.

        ``until`` is the last moment the proof itself is accepted (its ``iat`` plus the
        verifier's ``max_age``), ``now`` the verifier's clock: the entry is kept at least
        until then, even when ``window`` is shorter than the verifier's ``max_age``. Before,
        an entry left at exactly ``window`` seconds, the very moment a proof dated
        ``leeway`` seconds ahead was still accepted, and a ``max_age`` over ``window``
        left a whole interval replayable (kit's red-team finding).
        """
        digest = hashlib.blake2b(
            f"{htu} {jti}".encode("utf-8", "surrogatepass"), digest_size=16
        ).digest()
        now = self.clock() if now is None else float(now)
        expiry = now + self.window if until is None else max(now + self.window, float(until))
        with self._lock:
            self._expire(now)
            if digest in self._seen:
                raise ReplayedProofError(
                    f"the proof's jti {shown(jti, 40)} was already used at this URL",
                    "RFC 9449 section 11.1: a proof is single-use; this one was copied",
                )
            if len(self._seen) >= self.max_entries:
                raise ReplayCacheFullError(
                    f"the replay cache holds {self.max_entries} recent proofs; try again shortly",
                    "forgetting an unexpired jti would make its proof replayable",
                )
            self._seen[digest] = expiry

    def _expire(self, now: float) -> None:
        """Drop entries from the front while they are past their expiry (kept AT it: a proof
        is still accepted at the last instant of its window)."""
        while self._seen:
            digest, expiry = next(iter(self._seen.items()))
            if expiry >= now:
                return
            del self._seen[digest]


class NonceSource:
    """Server-provided nonces (RFC 9449 sections 8 and 9): unpredictable, time-limited, stateless.

    A nonce is base64url(issue time || HMAC-SHA256(secret, issue time)[:16]),
    so the server keeps no list: any nonce it made within ``lifetime``
    seconds checks, any other is refused. ``current()`` hands out the same
    nonce for ``lifetime / 2`` seconds, then a new one ("clients need to keep
    only one nonce value and servers need to keep a window of recent
    nonces", section 8). The time inside also dates the proof by the server's
    own clock (section 11.1), whatever ``iat`` says.
    """

    def __init__(
        self,
        *,
        secret: bytes | None = None,
        lifetime: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(lifetime, (int, float)) or not 0 < lifetime < math.inf:
            raise ConfigurationError(f"lifetime must be seconds over 0, got {lifetime!r}")
        self._secret = os.urandom(32) if secret is None else secret
        if not isinstance(self._secret, bytes) or len(self._secret) < 32:
            raise ConfigurationError("a nonce secret must be at least 32 bytes")
        self.lifetime = float(lifetime)
        self.clock = clock

    def current(self) -> str:
        """The nonce to send in ``DPoP-Nonce`` now."""
        step = self.lifetime / 2
        issued = int(self.clock() // step * step)
        return self._make(issued)

    def check(self, nonce: object) -> float:
        """The issue time of a nonce this source made and that is still fresh; else raise."""
        if not isinstance(nonce, str) or not nonce:
            raise UseDpopNonceError(
                "the proof has no nonce, and this server requires the one it sent in DPoP-Nonce",
                "RFC 9449 sections 8 and 9: retry with the nonce from the DPoP-Nonce header",
            )
        try:
            raw = tokens.b64url_decode(nonce, "nonce")
        except MalformedTokenError:
            raw = b""
        issued = struct.unpack(">Q", raw[:8])[0] if len(raw) == 24 else -1
        if issued < 0 or not _same(self._make(issued), nonce):
            raise UseDpopNonceError(
                "the proof's nonce was not issued by this server",
                "a nonce is only accepted by the server that issued it (RFC 9449 section 9)",
            )
        if self.clock() - issued > self.lifetime:
            raise UseDpopNonceError(
                f"the proof's nonce is over {self.lifetime:g} s old",
                "use the newest DPoP-Nonce the server sent",
            )
        return float(issued)

    def _make(self, issued: int) -> str:
        stamp = struct.pack(">Q", issued)
        mac = hmac.new(self._secret, stamp, hashlib.sha256).digest()[:16]
        return tokens.b64url_encode(stamp + mac)


# Checking proofs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proof:
    """A proof that passed every check: its header, claims, key, and the key's thumbprint."""

    header: dict[str, Any]
    claims: dict[str, Any]
    jwk: dict[str, Any]
    jkt: str

    @property
    def jti(self) -> str:
        return str(self.claims["jti"])


def proof_from_headers(values: Sequence[str]) -> str:
    """The one ``DPoP`` header value of a request (RFC 9449 section 4.3 item 1)."""
    if not values:
        raise MalformedProofError(
            "the request has no DPoP header", "a DPoP-bound token needs a proof with every request"
        )
    if len(values) > 1:
        raise MalformedProofError(
            f"the request has {len(values)} DPoP headers; exactly one is allowed",
            "RFC 9449 section 4.3 item 1",
        )
    return values[0]


def verify_proof(
    proof: str,
    *,
    htm: str,
    htu: str,
    access_token: str | None = None,
    jkt: str | None = None,
    algorithms: Collection[str] = ALGORITHMS,
    max_age: float = MAX_AGE,
    leeway: float = LEEWAY,
    replay: ReplayCache | None = None,
    nonce: NonceSource | str | None = None,
    now: float | None = None,
) -> Proof:
    """Check a DPoP proof for one request (RFC 9449 section 4.3); the ``Proof``, or raise.

    ``htm``/``htu`` are the request's method and URL. ``access_token`` and
    ``jkt`` (the token's ``cnf.jkt``) are given at a protected resource: then
    ``ath`` and the key binding are checked (item 12). ``replay`` records the
    ``jti``; ``nonce`` is a ``NonceSource`` (a nonce it issued is required) or
    the exact nonce the server sent. ``now`` freezes the clock.
    """
    allowed = _allowed(algorithms)
    if not isinstance(proof, str) or not proof:
        raise MalformedProofError("the DPoP header is empty")
    if len(proof) > MAX_PROOF_LENGTH:
        raise MalformedProofError(
            f"the DPoP proof is {len(proof)} characters long, over the limit of {MAX_PROOF_LENGTH}"
        )
    try:
        parsed = tokens.parse(proof)
    except MalformedTokenError as exc:
        raise MalformedProofError(f"the DPoP proof is not a JWT: {exc.message}", exc.why) from None
    header, claims = parsed.header, parsed.payload
    _check_typ(header)
    alg = _check_alg(header.get("alg"), allowed)
    jwk = _public_jwk_members(header.get("jwk"))
    _check_signature(proof, jwk, alg)  # loads the jwk, checks its point or size, verifies
    found = _jkt(jwk)
    _check_claims(claims, access_token is not None)
    if claims["htm"] != htm:
        raise ProofMismatchError(
            f"the proof is for method {shown(claims['htm'])}, this request is {shown(htm)}",
            "RFC 9449 section 4.3 item 8: a proof covers one method",
        )
    target = normalize_htu(htu)
    if normalize_htu(claims["htu"]) != target:
        raise ProofMismatchError(
            f"the proof is for {shown(claims['htu'], 80)}, this request is {shown(target, 80)}",
            "RFC 9449 section 4.3 item 9: a proof covers one URL",
        )
    clock = time.time() if now is None else float(now)
    _check_nonce(nonce, claims.get("nonce"))
    _check_iat(float(claims["iat"]), clock, max_age, leeway)
    if access_token is not None:
        _check_binding(claims, access_token, jkt, found)
    if replay is not None:
        replay.remember(claims["jti"], target, until=float(claims["iat"]) + max_age, now=clock)
    return Proof(dict(header), dict(claims), dict(jwk), found)


def _allowed(names: Collection[str]) -> frozenset[str]:
    if isinstance(names, str) or not isinstance(names, (list, tuple, set, frozenset)) or not names:
        raise ConfigurationError(f"algorithms must be a list such as ['ES256'], got {names!r}")
    bad = [n for n in names if n not in ALGORITHMS]
    if bad:
        raise ConfigurationError(
            f"algorithms names {bad[0]!r}, which a DPoP proof must not use",
            f"RFC 9449 section 11.6: asymmetric only; allowed: {', '.join(ALGORITHMS)}",
        )
    return frozenset(names)


def _check_typ(header: Mapping[str, Any]) -> None:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() != TYP:
        raise MalformedProofError(
            f"the proof's typ is {shown(typ)}, not 'dpop+jwt'",
            "RFC 9449 section 11.5: a JWT of another kind must not pass as a proof",
        )


def _check_alg(alg: object, allowed: frozenset[str]) -> str:
    if not isinstance(alg, str):
        raise MalformedProofError(f"the proof's alg must be a string, got {shown(alg)}")
    if alg.lower() == "none":
        raise ProofAlgorithmError(
            f"the proof says alg {shown(alg)}: unsigned",
            "RFC 9449 section 11.6: the algorithm none MUST NOT be allowed",
        )
    if alg.upper().startswith("HS"):
        raise ProofAlgorithmError(
            f"the proof says alg {shown(alg)}, a MAC",
            "RFC 9449 section 4.2: a symmetric algorithm proves nothing about a key pair",
        )
    if alg not in allowed:
        raise ProofAlgorithmError(
            f"the proof's alg {shown(alg)} is not one this server allows: {sorted(allowed)}"
        )
    return alg


def _check_signature(proof: str, jwk: dict[str, Any], alg: str) -> None:
    try:
        verify_jws(proof, jwk, algorithms=[alg], max_length=MAX_PROOF_LENGTH)
    except BadSignatureError as exc:
        raise ProofSignatureError(
            f"the proof's {alg} signature does not verify with the key in its jwk header",
            "it was altered, or signed by another key",
        ) from exc
    except InvalidTokenError as exc:
        raise ProofKeyError(f"the proof's key cannot verify it: {exc.message}", exc.why) from exc


def _check_claims(claims: Mapping[str, Any], with_token: bool) -> None:
    for name in (*_REQUIRED, "ath") if with_token else _REQUIRED:
        if name not in claims:
            raise MalformedProofError(
                f"the proof has no '{name}' claim", "RFC 9449 section 4.2 requires it"
            )
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise MalformedProofError(
            f"the proof's jti must be a string of 1 to {MAX_JTI_LENGTH} characters, "
            f"got {shown(jti, 40)}",
            "RFC 9449 section 11.1: reject unnecessarily large jti values",
        )
    for name in ("htm", "htu") + (("ath",) if with_token else ()):
        if not isinstance(claims[name], str):
            raise MalformedProofError(f"the proof's {name} must be a string")
    if _numeric_date(claims["iat"]) is None:
        raise MalformedProofError(
            f"the proof's iat must be a NumericDate, got {shown(claims['iat'], 40)}"
        )


def _numeric_date(value: object) -> float | None:
    """``value`` as seconds (RFC 7519 2: a finite JSON number), or None.

    JSON integers have no size limit: ``1`` followed by 400 zeros is an int no float can hold,
    and comparing or subtracting it crashed the check (a 5xx; kit's red-team finding).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None


def _check_nonce(nonce: NonceSource | str | None, presented: object) -> None:
    """RFC 9449 section 4.3 item 10 and 11.3: the server's nonce, when it gave one."""
    if nonce is None:
        return
    if isinstance(nonce, NonceSource):
        nonce.check(presented)
        return
    if not isinstance(presented, str) or not _same(presented, nonce):
        raise UseDpopNonceError(
            "the proof's nonce is not the one this server sent",
            "RFC 9449 section 11.3: a proof without the nonce must not be accepted",
        )


def _check_iat(iat: float, now: float, max_age: float, leeway: float) -> None:
    if iat > now + leeway:
        raise ProofFromFutureError(
            f"the proof's iat is {iat - now:.0f} s in the future (allowed skew {leeway:g} s)",
            "RFC 9449 section 11.2: a pre-made proof must not outlive its moment",
        )
    if iat < now - max_age:
        raise ProofExpiredError(
            f"the proof was made {now - iat:.0f} s ago; it is accepted for {max_age:g} s",
            "RFC 9449 section 11.1: a proof is accepted only briefly after its creation",
        )


def _check_binding(
    claims: Mapping[str, Any], access_token: str, jkt: str | None, found: str
) -> None:
    if not _same(claims["ath"], access_token_hash(access_token)):
        raise ProofMismatchError(
            "the proof's ath is not the hash of this access token",
            "RFC 9449 section 7: a proof works with the one token it was made for",
        )
    if not isinstance(jkt, str) or not _same(jkt, found):
        raise KeyBindingError(
            "the proof's key is not the key the access token is bound to (cnf.jkt)",
            "RFC 9449 section 6: the token works only with its own key",
        )


def _same(presented: str, expected: str) -> bool:
    """Constant-time equality of two strings of any characters.

    ``hmac.compare_digest`` raises TypeError on a non-ASCII ``str`` (an ``ath`` of ``"\\x80"``
    was a 5xx; kit's red-team finding), so both sides are compared as UTF-8 bytes.
    """
    return hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def challenge(error: InvalidProofError | None = None, *, algs: Collection[str] = ALGORITHMS) -> str:
    """A ``WWW-Authenticate: DPoP`` value (RFC 9449 section 7.1): the error, its text, ``algs``."""
    parts = []
    if error is not None:
        description = error.message.replace("\\", "").replace('"', "'")
        parts += [f'error="{error.error}"', f'error_description="{description}"']
    parts.append(f'algs="{" ".join(algs)}"')
    return "DPoP " + ", ".join(parts)


# A client ----------------------------------------------------------------------------------------


class Client:
    """A DPoP client: it holds the key, proves each request, and keeps the server's nonce.

    ``request`` sends ``Authorization: DPoP <token>`` and a fresh proof, and
    retries once when the server answers ``use_dpop_nonce`` with a new
    ``DPoP-Nonce`` (RFC 9449 sections 8 and 9); every ``DPoP-Nonce`` a server
    sends is kept for the next proof to it (section 8.2).
    """

    def __init__(
        self, key: PrivateKey, *, alg: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.key = key
        self.clock = clock  # the proofs' iat: a lab's frozen clock, or the real one
        self.alg = default_alg(key) if alg is None else alg
        self.jkt = thumbprint(key)
        self.nonces: dict[str, str] = {}  # origin -> the newest nonce it sent

    def proof(self, method: str, url: str, access_token: str | None = None, **kw: Any) -> str:
        """A proof for ``method url`` with the server's latest nonce (``kw`` as in make_proof)."""
        kw.setdefault("nonce", self.nonces.get(_origin(url)))
        kw.setdefault("iat", int(self.clock()))
        return make_proof(self.key, method, url, access_token=access_token, alg=self.alg, **kw)

    def request(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        session: requests.Session | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one DPoP request (through ``session`` if given); the response."""
        import requests

        sender = session if session is not None else requests
        extra = dict(kwargs.pop("headers", None) or {})
        # A proof covers one URL; a redirect would carry it, and the custom DPoP header that
        # requests does not strip, to wherever the server points (kit's red-team finding).
        kwargs.setdefault("allow_redirects", False)
        response = None
        for _ in range(2):
            headers = dict(extra)
            headers["DPoP"] = self.proof(method, url, access_token)
            if access_token is not None:
                headers["Authorization"] = f"DPoP {access_token}"
            response = sender.request(method, url, headers=headers, timeout=10, **kwargs)
            fresh = response.headers.get("DPoP-Nonce")
            if fresh:
                self.nonces[_origin(url)] = fresh
            if not (fresh and "use_dpop_nonce" in _challenge_text(response)):
                return response
        assert response is not None
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _challenge_text(response: Any) -> str:
    text = response.headers.get("WWW-Authenticate", "")
    if response.status_code == 400:
        text += response.text[:500]
    return text
