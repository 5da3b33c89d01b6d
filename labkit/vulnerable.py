"""The verifier zoo: one function per real-world JWT bug, each named for its mistake.

Every function here is ``labkit.verify`` with exactly ONE bug put back: the
length bound, the strict parser, the claim checks (``exp``, ``nbf``, ``iat``,
``aud``, ``iss``, required claims) and every key and header rule the bug does
not touch still apply. So a forged token that passes one of them passes
because of that bug alone, and an honest mistake (an expired token, a wrong
audience, a tampered payload) is still refused. Each docstring names the real
incidents the bug mirrors, and the line that holds it is marked ``# THE BUG``.

They all take the arguments of ``labkit.verify``, return the claims, and raise
``labkit.InvalidTokenError`` subclasses when they do reject. ``**extra`` holds
``max_length`` (as in ``labkit.verify``) and the options a single verifier
documents; an option it does not know raises ``ConfigurationError``.

DEMO ONLY: these functions exist to be attacked in the notebooks, the tests and
the local gateway. Never use one to protect anything.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import inspect
import os
import secrets
import sqlite3
import textwrap
from collections.abc import Callable, Collection, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from labkit import claims, ecdsa, keys, outbound, tokens
from labkit.algorithms import (
    ALGORITHMS,
    PrivateKey,
    PublicKey,
    check_key,
    describe_key,
    sign_token,
)
from labkit.errors import (
    BadSignatureError,
    ConfigurationError,
    KeyFormatError,
    KeyNotFoundError,
    LabkitError,
    MalformedTokenError,
    UnsafeKeyError,
)
from labkit.verify import (  # the hardened verifier's own checks, reused as they are
    MAX_LENGTH,
    _allowed,
    _check_header,
    _check_length,
    _signed_data,
    verify,
)

__all__ = [
    "LAB_KIDS",
    "LabKeyStore",
    "accept_alg_none",
    "accept_empty_secret",
    "accept_weak_secret",
    "alg_from_header",
    "decode_without_verification",
    "ecdsa_without_range_check",
    "follow_jku",
    "kid_as_path",
    "kid_in_sql",
    "make_key_store",
    "source_of",
    "trust_embedded_jwk",
]

_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


# What every zoo verifier still does right --------------------------------------------------------


@dataclass(frozen=True)
class _Checks:
    """One call's options, and the hardened verifier's checks as methods a bug can reuse."""

    algorithms: Collection[str]
    audience: str | Collection[str] | None
    issuer: str | Collection[str] | None
    leeway: claims.Leeway
    required: Collection[str]
    now: claims.Now
    extra: Mapping[str, Any] = field(default_factory=dict)
    known_extra: Collection[str] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.extra) - {"max_length", *self.known_extra})
        if unknown:
            raise ConfigurationError(f"unknown option {unknown[0]!r} for this verifier")
        _allowed(self.algorithms)  # a bad list fails loudly, as in labkit.verify

    @property
    def max_length(self) -> int:
        return self.extra.get("max_length", MAX_LENGTH)

    def verify(self, token: str | bytes, key: Any, **override: Any) -> dict[str, Any]:
        """``labkit.verify`` itself, with these options (``override`` replaces some)."""
        options: dict[str, Any] = {
            "algorithms": self.algorithms,
            "audience": self.audience,
            "issuer": self.issuer,
            "leeway": self.leeway,
            "required": self.required,
            "now": self.now,
            "max_length": self.max_length,
        }
        return verify(token, key, **{**options, **override})

    def parse(self, token: str | bytes) -> tokens.Token:
        """Bound the length, then parse strictly. The signature is NOT checked here."""
        _check_length(token, self.max_length)
        return tokens.parse(token)

    def header(self, parsed: tokens.Token, allowed: Collection[str] | None = None) -> str:
        """The hardened header checks (``alg`` allowed and not none, ``crit``, ``b64``): the alg."""
        names = self.algorithms if allowed is None else allowed
        alg = _check_header(parsed.header, _allowed(names))
        _signed_data(parsed.header, parsed.signing_input, None)  # refuses b64=false
        return alg

    def claims(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The hardened claim checks (``labkit.claims.check``); the claims when they pass."""
        claims.check(
            payload,
            now=self.now,
            leeway=self.leeway,
            audience=self.audience,
            issuer=self.issuer,
            required=self.required,
        )
        return payload


def _check_hmac(alg: str, secret: bytes, parsed: tokens.Token) -> None:
    """An HS* check with ANY secret bytes (no length or key-type rule), in constant time."""
    expected = hmac.new(secret, parsed.signing_input, _HMAC_HASHES[alg]).digest()
    if not hmac.compare_digest(expected, parsed.signature):
        raise BadSignatureError(
            f"the {alg} signature does not match the header and payload under this key",
            "the token was altered, or signed with another key",
        )


def _key_bytes(key: object) -> bytes:
    """Key material as a careless HMAC sees it: text as UTF-8, a key object as its public PEM."""
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    if isinstance(key, (PrivateKey, PublicKey)):
        public = key.public_key() if isinstance(key, PrivateKey) else key
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    raise UnsafeKeyError(
        f"cannot use {describe_key(key)} as key material here", "pass a PEM or a secret"
    )


def source_of(verifier: Callable[..., Any]) -> str:
    """A zoo verifier's code without its signature and docstring: the lines notebooks show.

    The whole body is short on purpose: the hardened checks it reuses, and the
    bug, marked ``# THE BUG``.
    """
    if not callable(verifier) or getattr(verifier, "__module__", None) != __name__:
        raise ConfigurationError(f"{verifier!r} is not a verifier of labkit.vulnerable")
    lines = textwrap.dedent(inspect.getsource(verifier)).splitlines()
    function = ast.parse("\n".join(lines)).body[0]
    assert isinstance(function, ast.FunctionDef), "zoo verifiers are plain functions"
    body = function.body[1:] if ast.get_docstring(function) else function.body
    return textwrap.dedent("\n".join(lines[body[0].lineno - 1 : function.end_lineno]))


# The zoo -----------------------------------------------------------------------------------------


def decode_without_verification(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: the signature is never checked; the claims are decoded, checked and believed.

    A decode function used where a verify function was meant: auth0's java-jwt
    ``JWT.decode()`` in Apache ShenYu Admin (CVE-2021-37580), jjwt's ``parse()``
    instead of ``parseClaimsJws()`` in Portofino (CVE-2021-29451), PyJWT's
    ``options={"verify_signature": False}``, Node's ``jsonwebtoken.decode()``.
    PortSwigger's lab "JWT authentication bypass via unverified signature". The
    claims are still checked (expiry, audience, issuer); ``key`` is ignored.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    parsed = checks.parse(token)
    # THE BUG: no signature check at all; whoever wrote the claims is believed.
    return checks.claims(parsed.payload)


def accept_alg_none(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: an unsigned token is accepted: ``alg`` none in any casing, or an empty signature.

    RFC 7519 section 6 defines "unsecured JWTs" with ``alg: none``, and early
    libraries honoured it whatever the caller expected (Tim McLean, "Critical
    vulnerabilities in JSON Web Token libraries", 2015; CVE-2015-2951 in
    jwt_tool's list). Denylists that compared case-sensitively then fell to
    ``nonE`` (Auth0's Authentication API, 2020), and verifiers that took an
    empty signature as nothing to check accepted any claims: ServiceStack
    compared signatures over the length of the one received (CVE-2020-28042),
    prime-jwt decoded unsigned tokens even when given a verifier (2018).
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    parsed = checks.parse(token)
    alg = parsed.header.get("alg")
    # THE BUG: "none" in any casing, or no signature at all, is taken as nothing to verify.
    if (isinstance(alg, str) and alg.lower() == "none") or not parsed.signature:
        return checks.claims(parsed.payload)
    return checks.verify(token, key)


def accept_empty_secret(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: an empty HMAC secret (a setting nobody filled in) is used, so anyone can sign.

    InfluxDB before 1.7.6 checked bearer tokens with its configured shared
    secret even when that was the empty default, so a token signed with an
    empty key was accepted as any user (CVE-2019-20933; jwt_tool tests this
    "blank password" bug as CVE-2019-20933/CVE-2020-28637). A secret read with
    ``os.environ.get("JWT_SECRET", "")`` does the same when the variable is
    unset. A non-empty key is verified by the hardened path.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    if key not in ("", b""):
        return checks.verify(token, key)
    parsed = checks.parse(token)
    alg = checks.header(parsed)
    if alg not in _HMAC_HASHES:
        return checks.verify(token, key)  # an empty key fits no RS/ES/...: the hardened error
    # THE BUG: the empty secret is used as it is, where the service should refuse to start.
    _check_hmac(alg, b"", parsed)
    return checks.claims(parsed.payload)


def alg_from_header(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: the token's header picks the algorithm, and one key serves every algorithm.

    The service holds an RSA public key for RS256. A token that says HS256 gets
    an HMAC check with that key's PEM bytes as the secret, and the PEM is
    public, so anyone can sign. node-jsonwebtoken < 4.2.2 took the algorithm
    from the header (CVE-2015-9235); jwt-simple <= 0.3.0 accepted an algorithm
    argument and did not enforce it (CVE-2016-10555), as ``algorithms`` is
    validated here and not enforced; PyJWT < 2.4.0 (CVE-2022-29217) and
    python-jose <= 3.3.0 (CVE-2024-33663) let a caller who allowed both HS and
    RS/ES use a public key as the HMAC secret, through key formats their
    denylists missed. ``key`` is PEM text or bytes (used byte for byte) or a key
    object (used as its SubjectPublicKeyInfo PEM); none and unknown algorithms
    are still refused.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    parsed = checks.parse(token)
    alg = parsed.header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        return checks.verify(token, key)  # none or unknown: refused as the hardened verifier does
    # THE BUG: the only algorithm allowed is the one the token asks for...
    if alg not in _HMAC_HASHES:
        return checks.verify(token, key, algorithms=[alg])
    checks.header(parsed, allowed=[alg])
    # ...and whatever the key is, its bytes become the HMAC secret.
    _check_hmac(alg, _key_bytes(key), parsed)
    return checks.claims(parsed.payload)


def accept_weak_secret(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: any non-empty HMAC secret is used, however short or guessable.

    RFC 7518 section 3.2 requires an HS256 key of at least 256 bits; most
    libraries never enforced it (PyJWT only warns, with
    ``InsecureKeyLengthWarning``), and secrets such as ``secret`` are cracked
    offline from one token (hashcat mode 16500, jwt_tool; PortSwigger's lab
    "JWT authentication bypass via weak signing key"). The local gateway's
    ``weak-secret`` preset runs this verifier.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    parsed = checks.parse(token)
    alg = checks.header(parsed)
    if alg not in _HMAC_HASHES or not isinstance(key, (str, bytes)) or not key:
        return checks.verify(token, key)
    # THE BUG: no minimum length: a 6-character word counts as much as 32 random bytes.
    _check_hmac(alg, _key_bytes(key), parsed)
    return checks.claims(parsed.payload)


# Issue 4 part B adds its verifiers below this line (and their names to __all__ above):
# trust_embedded_jwk, follow_jku, kid_as_path, kid_in_sql, ecdsa_without_range_check.
# ------------------------------------------------------------------------------------------------


def trust_embedded_jwk(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: a public key embedded in the token's ``jwk`` header verifies it, whatever its ``kid``.

    RFC 7515 section 4.1.3 lets a header carry the signer's key as a JWK, meant
    to identify it, never to be trusted for it. Cisco's node-jose 0.9.0 to
    0.10.x verified with that key (CVE-2018-0114, fixed in 0.11.0 per NVD):
    its CHANGELOG for 0.9.0 reads "find keys embedded in JWS header", and its
    ``lib/jws/verify.js`` took ``JWK.asKey(header.jwk)`` as the key whenever a
    header carried one, before and instead of any keystore lookup by ``kid``;
    0.11.0 put that behind ``allowEmbeddedKey``, off by default (cisco/node-jose
    pull request 147). So the header's ``kid`` was never compared with anything:
    a token may name the service's own kid, the embedded key's, another, or
    none, and the embedded key still checks it. That is how jwt_tool's
    "Injected JWKS (-X i)" probe and PortSwigger's lab "JWT authentication
    bypass via jwk header injection" forge, and this verifier does the same.

    ``key`` is the service's own key, used for tokens without ``jwk``. The
    embedded key must still be one JWK (a JSON object with ``kty``) that passes
    the hardened key rules: the allowed algorithms, ``use``/``key_ops``/``alg``
    of the JWK, and the minimum RSA size.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    header = checks.parse(token).header
    if "jwk" not in header:
        return checks.verify(token, key)
    jwk = _embedded_jwk(header["jwk"])
    # THE BUG: the key the token brought checks it; its kid is dropped, so no kid is compared.
    return checks.verify(token, {name: value for name, value in jwk.items() if name != "kid"})


def follow_jku(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: the key set is fetched from the URL in the token's ``jku`` header.

    ``jku`` names where the signer's JWKS lives; whoever writes the token
    writes the URL, so a verifier that follows it checks the signature with the
    attacker's keys (PortSwigger's lab "JWT authentication bypass via jku
    header injection"; RFC 8725 section 3.10 adds the server-side request
    forgery). URL allowlists meant to stop it are bypassed with a prefix
    match, an open redirect or a ``user@host`` URL. ``key`` is the service's
    own keys, used for tokens without ``jku``.

    Key selection: the fetched set is searched by the header's ``kid``, as
    ``labkit.verify`` searches any JWKS (several keys: the one with that kid;
    one key: it serves when its kid matches or it has none). That is what
    services that follow ``jku`` do: Microsoft's Azure Attestation JWT verifier
    sample fetches the token's ``jku`` and looks the certificate up by the
    token's ``kid`` (``maa.jwt.verifier/src/main.cpp``; reported as jku
    injection in Azure-Samples/microsoft-azure-attestation issue 29), SAP's
    XSUAA decoder takes ``jku`` and ``kid`` from the header and checks the URL
    against its UAA domain (SAP/cloud-security-services-integration-library
    pull request 97), and PortSwigger's jku lab has the attacker put the kid
    of their served key in the token. So the attacker serves their key under
    the kid the token names; jwt_tool's "Spoof JWKS (-X s)" builds its set that
    way (``exportJWKS`` uses the token's kid) and finds this flaw once told,
    with ``-ju``, where that set is hosted: its default URL is on httpbin.org,
    which this verifier never fetches.

    Lab safety: the URL passes ``labkit.outbound``, the kit's one outbound-URL
    guard, which judges it as ``requests`` sends it: only ``http(s)`` URLs
    whose host is a loopback IP literal (127.0.0.0/8, ::1) are fetched,
    without proxies or redirects; any other ``jku`` (a name, ``user@host``, a
    backslash, ``127.1``) is refused with ``KeyNotFoundError`` before any
    connection, and nothing leaves the machine.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    header = checks.parse(token).header
    if "jku" not in header:
        return checks.verify(token, key)
    # THE BUG: the token says where its keys are, and the verifier goes and gets them.
    return checks.verify(token, _fetch_jwks(header["jku"]))


def kid_as_path(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: ``kid`` is joined to a key directory and the file it reaches is the HMAC secret.

    ``key`` is the service's key directory (a path; one file of secret text
    per kid, as ``make_key_store`` writes). ``kid = "../../../../dev/null"``
    climbs out of it to an empty file the attacker can predict, and a token
    signed with an empty secret verifies (PortSwigger's lab "JWT authentication
    bypass via kid header path traversal"; OWASP WSTG-SESS-10; RFC 8725 section
    3.10). The service trusts its own files, so it uses whatever bytes it reads,
    empty ones included, as the services it mirrors did.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    directory = _existing(key, "directory")
    parsed = checks.parse(token)
    alg = checks.header(parsed)
    kid = _kid(parsed.header)
    # THE BUG: the token's kid becomes part of a file path.
    path = os.path.join(directory, kid)
    try:
        with open(path, "rb") as file:
            secret = file.read(_MAX_KEY_FILE)  # bounded: a kid of /dev/zero must not hang
    except (OSError, ValueError) as exc:
        raise KeyNotFoundError(f"no key file for kid {kid!r}: {type(exc).__name__}") from None
    if alg not in _HMAC_HASHES:
        return checks.verify(token, secret)  # the directory holds HMAC secrets: refused as usual
    _check_hmac(alg, secret, parsed)
    return checks.claims(parsed.payload)


def kid_in_sql(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: ``kid`` is pasted into the SQL query that looks up the HMAC secret.

    ``key`` is the path of the service's sqlite3 key database (table
    ``keys(kid, secret)``, as ``make_key_store`` writes; opened read-only). A
    kid of ``x' UNION SELECT 'any secret' --`` makes the lookup return a
    secret the attacker chose, and the token they signed with it verifies:
    WebGoat's JWT "kid" lesson, jwt_tool's injection checks, RFC 8725 section
    3.10 ("should ensure that this does not create SQL or LDAP injection").
    Everything after the lookup is the hardened verifier, minimum key length
    included: it does not help when the attacker picks the key.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    uri = Path(_existing(key, "file")).resolve().as_uri() + "?mode=ro"
    parsed = checks.parse(token)
    checks.header(parsed)
    kid = _kid(parsed.header)
    # THE BUG: string formatting builds the query, so the kid can rewrite it.
    query = f"SELECT secret FROM keys WHERE kid = '{kid}'"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            row = db.execute(query).fetchone()
    except sqlite3.Error as exc:  # the error text leaks too, as real services' 500 pages did
        raise KeyNotFoundError(f"the key lookup for kid {kid!r} failed: {exc}") from None
    if row is None or not isinstance(row[0], (str, bytes)):
        raise KeyNotFoundError(f"no key with kid {kid!r}")
    secret = row[0].encode("utf-8") if isinstance(row[0], str) else row[0]
    return checks.verify(token, secret)


def ecdsa_without_range_check(
    token: str | bytes,
    key: Any,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] = ("exp",),
    now: claims.Now = None,
    **extra: Any,
) -> dict[str, Any]:
    """Bug: ES256 is verified without checking 0 < r < n and 0 < s < n ("psychic signatures").

    Java 15 to 18 rewrote ECDSA verification from C++ to Java and lost that
    one check, so the signature r = s = 0 verified every message under every
    key (CVE-2022-21449, Neil Madden, April 2022; fixed in 17.0.3 and 18.0.1).
    The math is ``labkit.ecdsa`` with ``range_check=False``; ``cryptography``
    only reads the key. ``key`` is the P-256 public key (an EC key object, a
    PEM or a JWK); other algorithms go to the hardened verifier unchanged.
    """
    checks = _Checks(algorithms, audience, issuer, leeway, required, now, extra)
    parsed = checks.parse(token)
    if checks.header(parsed) != "ES256":
        return checks.verify(token, key)
    public = _p256_key(key)
    if len(parsed.signature) != 64:
        raise BadSignatureError(f"an ES256 signature is 64 bytes, got {len(parsed.signature)}")
    # THE BUG: range_check=False, so r = s = 0 goes through the math and comes out equal.
    if not ecdsa.verify(parsed.signing_input, parsed.signature, public, range_check=False):
        raise BadSignatureError(
            "the ES256 signature does not match the header and payload under this key",
            "the token was altered, or signed with another key",
        )
    return checks.claims(parsed.payload)


# The lab's key store: what kid_as_path and kid_in_sql look keys up in ---------------------------


LAB_KIDS: tuple[str, ...] = ("2026-01", "2026-02")
"""The kids of the lab's HMAC keys: one per month, the newest signs."""
_MAX_KEY_FILE = 1 << 16  # bytes read from a key file or a jku response, at most
_FETCH_TIMEOUT = 5.0  # seconds for a jku fetch (loopback answers in milliseconds)


@dataclass(frozen=True)
class LabKeyStore:
    """The kid labs' service keys, in a key directory and in a sqlite3 database.

    ``secrets`` maps each kid to its HMAC secret (random, made afresh by
    ``make_key_store``); ``jwks`` is the same keys as a JWK Set, the fixed
    table ``labkit.verify`` looks a kid up in.
    """

    directory: Path
    database: Path
    secrets: Mapping[str, bytes]

    @property
    def kid(self) -> str:
        """The kid the service signs new tokens with (the newest)."""
        return max(self.secrets)

    @property
    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The secrets as an ``oct`` JWKS: a private key store, never to be published."""
        oct_keys = [
            {"kty": "oct", "kid": kid, "k": tokens.b64url_encode(secret)}
            for kid, secret in self.secrets.items()
        ]
        return keys.to_jwks(oct_keys, private=True)

    def sign(self, payload: dict[str, Any], alg: str = "HS256") -> str:
        """An honest token, signed with the current secret and naming it by ``kid``."""
        secret = self.secrets[self.kid]
        return sign_token(payload, secret, alg, headers={"kid": self.kid})


def make_key_store(root: str | os.PathLike[str], kids: Collection[str] = LAB_KIDS) -> LabKeyStore:
    """Write the kid labs' keys under ``root`` (a fresh temporary directory, say).

    One random 64-character secret per kid, written both as ``root/keys/<kid>``
    and as a row of ``root/keys.sqlite3`` (table ``keys(kid, secret)``).
    """
    base = Path(root)
    directory, database = base / "keys", base / "keys.sqlite3"
    directory.mkdir(parents=True, exist_ok=True)
    store = {kid: secrets.token_hex(32).encode("ascii") for kid in kids}
    for kid, secret in store.items():
        (directory / kid).write_bytes(secret)
    with closing(sqlite3.connect(database)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS keys (kid TEXT PRIMARY KEY, secret TEXT NOT NULL)")
        db.executemany(
            "INSERT OR REPLACE INTO keys VALUES (?, ?)",
            [(kid, secret.decode("ascii")) for kid, secret in store.items()],
        )
    return LabKeyStore(directory, database, store)


# Helpers of the header-injection bugs ------------------------------------------------------------


def _kid(header: dict[str, Any]) -> str:
    kid = header.get("kid")
    if kid is None:
        raise KeyNotFoundError("the token has no 'kid', so no key can be looked up")
    if not isinstance(kid, str):
        raise MalformedTokenError(f"the header's 'kid' must be a string, got {kid!r}")
    return kid


def _embedded_jwk(jwk: object) -> dict[str, Any]:
    """The header's ``jwk`` if it is one JWK; a JWK Set or a string is not a key to embed."""
    if not isinstance(jwk, dict) or "kty" not in jwk or "keys" in jwk:
        raise MalformedTokenError(
            f"the header's 'jwk' must be one JWK (a JSON object with 'kty'), got {_shown(jwk)}"
        )
    return jwk


def _shown(value: object) -> str:
    """``value`` on one line, cut to 60 characters (it came from the token)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _existing(location: object, kind: str) -> str:
    """The service's key directory or database path; a wrong one is the caller's mistake."""
    if not isinstance(location, (str, os.PathLike)):
        got = describe_key(location)
        raise ConfigurationError(f"key must be the path of the key {kind}, got {got}")
    path = os.fspath(location)
    if not (os.path.isdir(path) if kind == "directory" else os.path.isfile(path)):
        raise ConfigurationError(f"key must be the path of an existing key {kind}: {path!r}")
    return path


def _fetch_jwks(url: object) -> dict[str, Any]:
    """GET the JWKS at a loopback ``url`` through ``labkit.outbound``; else ``KeyNotFoundError``.

    The guard judges the URL as ``requests`` sends it and allows loopback IP
    literals only (127.0.0.0/8, ::1): a host name, even ``localhost``, would be
    the resolver's to answer, and ``user@host``, backslash and disguised-number
    URLs are refused before any connection.
    """
    if not isinstance(url, str):
        raise MalformedTokenError(f"the header's 'jku' must be a URL string, got {url!r}")
    try:
        destination = outbound.judge(url, outbound.LOOPBACK_LITERALS)
    except outbound.UnsafeURLError as exc:
        detail = "" if isinstance(exc, outbound.HostNotAllowedError) else f": {exc.message}"
        raise KeyNotFoundError(
            f"refusing to fetch keys from {_url_shown(url)}{detail}",
            "this lab verifier follows jku only to http(s)://127.0.0.1 (or [::1]), "
            "so nothing ever leaves this machine",
        ) from None
    target = _url_shown(destination.url)
    try:
        reply = outbound.fetch(destination, timeout=_FETCH_TIMEOUT, max_bytes=_MAX_KEY_FILE)
    except outbound.UnsafeURLError as exc:  # judged safe, refused at send: still the token's URL
        raise KeyNotFoundError(f"the jku {target} cannot be fetched: {exc.message}") from None
    except outbound.FetchError as exc:
        raise KeyNotFoundError(f"could not fetch the jku {target}: {exc.kind}") from None
    if reply.status != 200:
        raise KeyNotFoundError(f"the jku {target} answered HTTP {reply.status}")
    if reply.truncated:
        raise KeyNotFoundError(f"the jku {target} sent over {_MAX_KEY_FILE} bytes")
    try:
        return tokens.load_json(reply.body, f"answer from the jku {target}")
    except LabkitError as exc:  # deep nesting, huge numbers, not JSON: one line, never a crash
        raise KeyNotFoundError(
            f"the jku {target} did not send usable JSON: {exc.message}"
        ) from None


def _url_shown(url: str) -> str:
    """``url`` quoted on one line, cut to 100 characters (it came from the token)."""
    text = repr(url)
    return text if len(text) <= 100 else text[:97] + "..."


def _p256_key(key: object) -> ec.EllipticCurvePublicKey:
    try:
        if isinstance(key, dict):
            key = keys.from_jwk(key)
        elif isinstance(key, (str, bytes)):
            key = keys.load_pem(key)
    except KeyFormatError as exc:
        raise UnsafeKeyError(f"the key cannot be used: {exc.message}", exc.why) from None
    public = check_key("ES256", key)  # an EC key on P-256, or UnsafeKeyError
    assert isinstance(public, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey))
    return public.public_key() if isinstance(public, ec.EllipticCurvePrivateKey) else public
