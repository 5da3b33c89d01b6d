"""The hardened verifier: the one to copy into real services.

``verify_jws`` checks the signature layer and ``verify`` adds the JWT claims.
PyJWT does the cryptography (its algorithm objects, with an explicit list of
allowed algorithms); every line here adds a check PyJWT leaves to its caller:

- the token is bounded in length before parsing, then parsed once, strictly;
- ``alg`` must be allowed by the caller AND fit the key: an HMAC secret never
  verifies RS/PS/ES/EdDSA, a public key never serves as an HMAC secret, and
  ``none`` is never accepted;
- a JWK must be meant for signatures (``use``, ``key_ops``, ``alg``); a key set
  must not mix secrets with public keys or repeat a ``kid``, and must be able
  to say which key a token means;
- keys must be strong: RSA >= 2048 bits and not ROCA-generated, HMAC secrets
  >= 32 bytes and at least as long as the hash;
- unknown ``crit`` extensions are refused; ``jku``, ``x5u``, ``x5c`` and
  ``jwk`` headers are never followed or trusted: keys come from the caller;
- ``exp`` is always required: naming other required claims adds to it, and only
  the explicit ``require_exp=False`` drops it;
- explicit typing (RFC 8725 section 3.11): with ``typ="at+jwt"`` the header's
  ``typ`` must say so, compared case-insensitively and with or without the
  ``application/`` prefix (RFC 7515 section 4.1.9), so an ID token or any other
  JWT of the same issuer and key is not taken for an access token;
- issuer-bound key sets: ``IssuerKeys({issuer: keys, ...})`` picks the keys by
  the token's ``iss``, so a token claiming issuer A is checked with A's keys
  only, never with a key of issuer B (the mix-up of RFC 9700 section 4.4).

Key preparation is cached, so a service pays for it once per key.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import Algorithm

from labkit import claims, keys, tokens
from labkit.algorithms import (
    ALGORITHMS,
    PrivateKey,
    PublicKey,
    VerifyingKey,
    check_key,
    describe_key,
)
from labkit.errors import (
    BadSignatureError,
    ConfigurationError,
    CriticalHeaderError,
    DisallowedAlgorithmError,
    InvalidIssuerError,
    InvalidTokenError,
    KeyFormatError,
    KeyNotFoundError,
    MalformedTokenError,
    UnsafeKeyError,
    shown,
)

__all__ = [
    "MAX_LENGTH",
    "MIN_HMAC_BYTES",
    "MIN_RSA_BITS",
    "IssuerKeys",
    "TokenTypeError",
    "required_claims",
    "roca_vulnerable",
    "verify",
    "verify_jws",
]

MAX_LENGTH = 8192
"""Default bound on a token's length: real tokens are far shorter, parsers need not see more."""
MIN_RSA_BITS = 2048
"""RSA moduli below this are refused (NIST SP 800-131A retired 1024-bit RSA in 2013)."""
MIN_HMAC_BYTES = 32
"""HMAC secrets below this are refused, and below the hash size for HS384/HS512 (RFC 7518 3.2)."""

Key = VerifyingKey | str | dict[str, Any]
"""What the verifier takes: a secret, a PEM, a ``cryptography`` key, a JWK or a JWKS dict."""

_SUPPORTED_CRIT = frozenset({"b64"})
_UNTRUSTED_HEADERS = ("jwk", "jku", "x5u", "x5c")
_CACHE_SIZE = 256


def verify(
    token: str | bytes,
    key: Key,
    *,
    algorithms: Collection[str],
    audience: str | Collection[str] | None = None,
    issuer: str | Collection[str] | None = None,
    leeway: claims.Leeway = 0,
    required: Collection[str] | None = (),
    require_exp: bool = True,
    max_length: int = MAX_LENGTH,
    now: claims.Now = None,
    typ: str | Collection[str] | None = None,
) -> dict[str, Any]:
    """Verify a JWT and return its claims, or raise the ``InvalidTokenError`` that says why not.

    ``algorithms`` lists what the caller accepts (the token's header never
    decides); ``audience`` and ``issuer`` are matched exactly; ``now`` (an aware
    datetime or epoch seconds) freezes the clock. ``required`` names the claims
    that must be present IN ADDITION to ``exp`` (``()`` and ``None`` add none;
    listing ``exp`` again is fine): a token without ``exp`` never expires, so
    listing what else the code relies on must never drop it. Only the explicit
    ``require_exp=False`` does, for tokens that are meant not to expire.
    See the module docstring for every check. Options that cannot work raise
    ``ConfigurationError`` instead, so a misconfigured service fails loudly
    rather than as "invalid token". ``typ`` names the token type(s) accepted
    (``"at+jwt"`` for an access token, RFC 9068); ``key`` may be an
    ``IssuerKeys`` (then ``iss`` picks the key set and must be one of its issuers).
    """
    allowed = _allowed(algorithms)
    must_have = required_claims(required, require_exp=require_exp)
    types = _types(typ)
    _check_length(token, max_length)
    parsed = tokens.parse(token)
    alg = _check_header(parsed.header, allowed)
    _check_typ(parsed.header, types)
    if isinstance(key, IssuerKeys):
        key, issuer = key.for_token(parsed.payload, issuer)
    data = _signed_data(parsed.header, parsed.signing_input, None)
    _check_signature(alg, parsed.header, data, parsed.signature, key)
    claims.check(
        parsed.payload,
        now=now,
        leeway=leeway,
        audience=audience,
        issuer=issuer,
        required=must_have,
    )
    return parsed.payload


def verify_jws(
    token: str | bytes,
    key: Key,
    *,
    algorithms: Collection[str],
    max_length: int = MAX_LENGTH,
    detached_payload: bytes | None = None,
    typ: str | Collection[str] | None = None,
) -> bytes:
    """Verify the signature layer alone and return the raw payload bytes (need not be JSON).

    Every key, algorithm, header and encoding rule of ``verify`` applies; no
    claim is checked. ``detached_payload`` supplies content sent apart from the
    token (RFC 7515 appendix F), also unencoded with ``b64: false`` (RFC 7797).
    """
    allowed = _allowed(algorithms)
    types = _types(typ)
    if isinstance(key, IssuerKeys):
        raise ConfigurationError(
            "verify_jws checks no claims, so it cannot pick keys by iss",
            "use verify() with IssuerKeys, or pass the one issuer's keys",
        )
    _check_length(token, max_length)
    jws = tokens.parse_jws(token)
    if detached_payload is not None and jws.payload:
        raise MalformedTokenError("a detached payload was given, but the token carries one too")
    alg = _check_header(jws.header, allowed)
    _check_typ(jws.header, types)
    data = _signed_data(jws.header, jws.signing_input, detached_payload)
    _check_signature(alg, jws.header, data, jws.signature, key)
    return jws.payload if detached_payload is None else detached_payload


class TokenTypeError(InvalidTokenError):
    """The header's ``typ`` is not the token type this verifier accepts (RFC 8725 3.11)."""


class IssuerKeys(Mapping[str, Any]):
    """Key sets bound to their issuers: ``IssuerKeys({"https://a": jwks_a, "https://b": ...})``.

    Pass it as ``verify``'s ``key``: the token's ``iss`` chooses the key set, so
    each issuer vouches only for its own tokens. Trusting two issuers with one
    merged key set lets issuer B (or whoever holds B's key) sign a token that
    says ``iss`` A; here B's ``kid`` is simply not in A's set.
    """

    def __init__(self, sets: Mapping[str, Key]) -> None:
        if not isinstance(sets, Mapping) or not sets:
            raise ConfigurationError("IssuerKeys needs a mapping of issuer -> keys, got none")
        for issuer in sets:
            if not isinstance(issuer, str) or not issuer:
                raise ConfigurationError(f"IssuerKeys: an issuer is a URL string, got {issuer!r}")
        self._sets = dict(sets)

    def __getitem__(self, issuer: str) -> Any:
        return self._sets[issuer]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    def __repr__(self) -> str:
        return f"IssuerKeys({sorted(self._sets)})"

    def for_token(self, payload: Mapping[str, Any], issuer: object) -> tuple[Key, Any]:
        """The key set of the (still unverified) ``iss``, and the issuers to check it against.

        Choosing by an unverified claim is safe here: the signature must then
        verify under that issuer's keys alone, and ``iss`` is checked again.
        """
        iss = payload.get("iss") if isinstance(payload, Mapping) else None
        if not isinstance(iss, str) or iss not in self._sets:
            raise InvalidIssuerError(
                f"the token's iss {_quoted(iss)} is not one of the trusted issuers "
                f"{sorted(self._sets)}",
                "each issuer's keys verify only that issuer's tokens",
            )
        return self._sets[iss], (list(self._sets) if issuer is None else issuer)


def _types(typ: object) -> frozenset[str] | None:
    """The accepted ``typ`` values, normalized; None when the caller does not type tokens."""
    if typ is None:
        return None
    names = [typ] if isinstance(typ, str) else typ
    if not isinstance(names, (list, tuple, set, frozenset)) or not names:
        raise ConfigurationError(f"typ must be a media type such as 'at+jwt', got {_quoted(typ)}")
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise ConfigurationError(f"typ must hold media type names (str), got {_quoted(typ)}")
    return frozenset(_media_type(n) for n in names)


def _media_type(value: str) -> str:
    """RFC 7515 4.1.9: compared case-insensitively; ``application/`` may be left out when the
    name has no other ``/``. So ``at+jwt``, ``AT+JWT`` and ``application/at+jwt`` are one type.

    Media type names are ASCII (RFC 6838 4.2), and so is the case folding: ``str.lower`` folds
    the Kelvin sign U+212A to ``k``, which made a ``typ`` of ``\u212ab+jwt`` pass for
    ``kb+jwt`` (kit's red-team finding). A non-ASCII ``typ`` is kept as is and matches nothing.
    """
    if not value.isascii():
        return value
    lowered = value.lower()
    rest = lowered[len("application/") :] if lowered.startswith("application/") else lowered
    return rest if "/" not in rest else lowered


def _check_typ(header: dict[str, Any], types: frozenset[str] | None) -> None:
    if types is None:
        return
    typ = header.get("typ")
    if not isinstance(typ, str) or _media_type(typ) not in types:
        raise TokenTypeError(
            f"the header's typ is {_quoted(typ)}, not {' or '.join(sorted(types))}",
            "RFC 8725 3.11: a token of another type (an ID token, say) must not pass for this one",
        )


def roca_vulnerable(n: int) -> bool:
    """True if the RSA modulus ``n`` carries the ROCA fingerprint (CVE-2017-15361).

    Infineon chips made primes of the form k*M + (65537**a mod M), so ``n`` mod
    each small prime p lies in the subgroup that 65537 generates mod p. A random
    modulus passes all 38 tests with probability below 2**-100 (Nemec et al.,
    CCS 2017; the test of the public roca-detect tool). Such keys can be
    factored from the public key alone.
    """
    return all(n % p in residues for p, residues in _roca_subgroups().items())


def _quoted(value: object) -> str:
    """``repr(value)`` for a refusal, never failing (a caller's JWK can hold a 10**5000 int).

    Longer than ``shown``'s default: what a token holds is bounded by ``max_length``,
    and notebooks show kids such as an SQL injection in full.
    """
    return shown(value, limit=200)


# Options -----------------------------------------------------------------------------------------


def _allowed(algorithms: Collection[str]) -> frozenset[str]:
    if isinstance(algorithms, (list, tuple, set, frozenset)):
        try:
            return _allowed_set(tuple(algorithms))
        except TypeError:  # an unhashable entry: not a name
            pass
    raise ConfigurationError(
        f"algorithms must be a list such as ['RS256'], got {_quoted(algorithms)}",
        "a string would be searched by substring, and the token must never choose",
    )


def required_claims(
    required: Collection[str] | None, *, require_exp: bool = True
) -> tuple[str, ...]:
    """The claims ``verify`` demands: ``exp`` (unless ``require_exp=False``), then ``required``.

    ``required`` adds to ``exp``, it never replaces it (``required=("sub",)``
    once silently stopped requiring ``exp``). A lone string is refused: it would
    be read as its characters, or as one name where a list was meant.
    """
    if not isinstance(require_exp, bool):
        raise ConfigurationError(f"require_exp must be True or False, got {_quoted(require_exp)}")
    if required is None:
        names: tuple[object, ...] = ()
    elif isinstance(required, (str, bytes)):
        raise ConfigurationError(
            "required must be a collection of claim names such as ('sub',), "
            f"got {_quoted(required)}",
            "a string would be read as its characters; exp is required without being named",
        )
    elif isinstance(required, (list, tuple)):
        names = tuple(required)
    elif isinstance(required, (set, frozenset)):
        names = tuple(sorted(required, key=str))
    else:
        raise ConfigurationError(
            "required must be a collection of claim names such as ('sub',), "
            f"got {_quoted(required)}"
        )
    checked = ["exp"] if require_exp else []
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"required must hold claim names (str), got {_quoted(name)}")
        if name not in checked:
            checked.append(name)
    return tuple(checked)


@lru_cache(maxsize=64)
def _allowed_set(names: tuple[Any, ...]) -> frozenset[str]:
    if not names:
        raise ConfigurationError("algorithms is empty: no token could ever verify")
    for name in names:
        if not isinstance(name, str):
            raise ConfigurationError(f"algorithms must hold names (str), got {_quoted(name)}")
        if name.lower() == "none":
            raise ConfigurationError(
                "algorithms includes 'none'", "an unsigned token proves nothing; never allow it"
            )
        if name not in ALGORITHMS:
            known = ", ".join(ALGORITHMS)
            raise ConfigurationError(f"algorithms names unknown {_quoted(name)}; known: {known}")
    return frozenset(names)


def _check_length(token: object, max_length: int) -> None:
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ConfigurationError(f"max_length must be a positive int, got {_quoted(max_length)}")
    if not isinstance(token, (str, bytes)):
        raise MalformedTokenError(f"a token must be a string, got {type(token).__name__}")
    if len(token) > max_length:
        raise MalformedTokenError(
            f"the token is {len(token)} characters long, over the limit of {max_length}",
            "a bound before parsing keeps oversized input from costing CPU and memory",
        )


# Header ------------------------------------------------------------------------------------------


def _check_header(header: dict[str, Any], allowed: frozenset[str]) -> str:
    """Check ``alg``, ``crit`` and ``b64`` before anything relies on them; return the alg."""
    alg = _token_alg(header, allowed)
    _check_crit(header)
    b64 = header.get("b64", True)
    if not isinstance(b64, bool):
        raise MalformedTokenError(f"the header's 'b64' must be true or false, got {_quoted(b64)}")
    if "b64" in header and "b64" not in header.get("crit", ()):
        raise MalformedTokenError("the header has 'b64' but does not list it in 'crit' (RFC 7797)")
    return alg


def _token_alg(header: dict[str, Any], allowed: frozenset[str]) -> str:
    alg = header.get("alg")
    if alg is None:
        raise MalformedTokenError("the header has no 'alg'")
    if not isinstance(alg, str):
        raise MalformedTokenError(f"the header's 'alg' must be a string, got {_quoted(alg)}")
    if alg.lower() == "none":
        raise DisallowedAlgorithmError(
            f"alg {_quoted(alg)} means an unsigned token",
            "it proves nothing, so it is never accepted",
        )
    if alg not in allowed:
        raise DisallowedAlgorithmError(
            f"the token says alg {_quoted(alg)}, "
            f"which is not in the allowed list {sorted(allowed)}",
            "the verifier, not the token, decides the algorithm",
        )
    return alg


def _check_crit(header: dict[str, Any]) -> None:
    """RFC 7515 4.1.11: a listed extension must be understood, or the token is rejected."""
    if "crit" not in header:
        return
    crit = header["crit"]
    if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
        raise MalformedTokenError(f"'crit' must be a non-empty list of names, got {_quoted(crit)}")
    unknown = [name for name in crit if name not in _SUPPORTED_CRIT]
    if unknown:
        raise CriticalHeaderError(
            f"the token marks {_quoted(unknown[0])} critical, and this verifier does not "
            "implement it",
            "RFC 7515 4.1.11: a critical extension that is not understood makes the token invalid",
        )
    absent = [name for name in crit if name not in header]
    if absent:
        raise MalformedTokenError(
            f"'crit' lists {_quoted(absent[0])}, which the header does not contain"
        )


def _signed_data(header: dict[str, Any], signing_input: bytes, detached: bytes | None) -> bytes:
    """The bytes the signature covers, honouring ``b64`` (RFC 7797) and a detached payload.

    Runs after ``_check_header``, so ``b64`` is a bool here.
    """
    b64 = header.get("b64", True)
    if detached is None:
        if not b64:
            raise MalformedTokenError(
                "the header says b64=false: the payload is unencoded and sent apart",
                "JWT claims are always base64url; use verify_jws(..., detached_payload=...)",
            )
        return signing_input
    if not isinstance(detached, bytes):
        raise ConfigurationError(f"detached_payload must be bytes, got {type(detached).__name__}")
    head = signing_input[:-1]  # signing_input is b"<header>." when the payload segment is empty
    return head + b"." + (tokens.b64url_encode(detached).encode("ascii") if b64 else detached)


# Signature ---------------------------------------------------------------------------------------


def _check_signature(
    alg: str, header: dict[str, Any], data: bytes, signature: bytes, key: Key
) -> None:
    entry = _key_set(key).select(header.get("kid"))
    alg_object, prepared = entry.ready_for(alg)
    try:
        valid = alg_object.verify(data, prepared, signature)
    except ValueError:  # a signature of an impossible shape is simply wrong
        valid = False
    if not valid:
        raise BadSignatureError(
            f"the {alg} signature does not match the header and payload under this key",
            _bad_signature_why(header),
        )


def _bad_signature_why(header: dict[str, Any]) -> str:
    named = [name for name in _UNTRUSTED_HEADERS if name in header]
    if named:
        return f"the token names its own key ('{named[0]}'), which is never trusted"
    return "the token was altered, or signed with another key"


# Keys --------------------------------------------------------------------------------------------


@dataclass
class _Key:
    """One verification key: the public half (or the secret), its JWK if any, ready algorithms."""

    key: PublicKey | bytes
    jwk: dict[str, Any] | None = None
    ready: dict[str, tuple[Algorithm, Any]] = field(default_factory=dict)

    @property
    def kid(self) -> object:
        return None if self.jwk is None else self.jwk.get("kid")

    def ready_for(self, alg: str) -> tuple[Algorithm, Any]:
        """PyJWT's algorithm object and prepared key, after every check; cached per algorithm."""
        if alg not in self.ready:
            _check_jwk(self.jwk, alg)
            key = check_key(alg, self.key)
            _check_strength(alg, key)
            self.ready[alg] = _pyjwt_prepared(alg, key)
        return self.ready[alg]


@dataclass(frozen=True)
class _KeySet:
    """The caller's keys, checked as a set; ``select`` picks the one a token's ``kid`` means."""

    keys: tuple[_Key, ...]

    def select(self, kid: object) -> _Key:
        if kid is not None and not isinstance(kid, str):
            raise MalformedTokenError(f"the header's 'kid' must be a string, got {_quoted(kid)}")
        if len(self.keys) == 1:
            only = self.keys[0]
            if kid is not None and only.kid is not None and kid != only.kid:
                raise KeyNotFoundError(
                    f"the token's kid {_quoted(kid)} is not the key's kid {_quoted(only.kid)}"
                )
            return only
        if kid is None:
            raise KeyNotFoundError(
                f"the token has no 'kid', and the key set holds {len(self.keys)} keys",
                "trying each key in turn would let any of them vouch for any token",
            )
        for entry in self.keys:
            if entry.kid == kid:
                return entry
        raise KeyNotFoundError(f"no key in the key set has kid {_quoted(kid)}")


# Two caches of checked key sets. By identity for immutable keys (key objects, secrets, PEMs),
# each entry keeping its key alive so an id is never reused while cached; by value for
# secrets and PEMs built afresh per call, and for dicts, which can change after a call.
_BY_ID: dict[int, tuple[object, _KeySet]] = {}
_BY_VALUE: dict[tuple[str, Hashable], _KeySet] = {}
_CACHE_LOCK = threading.Lock()  # lookups need none; eviction must not race a threaded server


def _key_set(key: Key) -> _KeySet:
    """The checked key set for ``key``, from a cache when this key was seen before."""
    hit = _BY_ID.get(id(key))
    if hit is not None and hit[0] is key:
        return hit[1]
    value_key = _value_key(key)
    key_set = _BY_VALUE.get(value_key) if value_key is not None else None
    if key_set is None:
        key_set = _load_key_set(key)
        if value_key is not None:
            _remember(_BY_VALUE, value_key, key_set)
    if isinstance(key, (str, bytes, PrivateKey, PublicKey)):  # immutable: safe by identity
        _remember(_BY_ID, id(key), (key, key_set))
    return key_set


def _value_key(key: object) -> tuple[str, Hashable] | None:
    if isinstance(key, (str, bytes)):
        return (type(key).__name__, key)
    if isinstance(key, dict):
        try:
            return ("json", json.dumps(key, sort_keys=True))
        except (TypeError, ValueError, RecursionError):
            return None  # not JSON: _load_key_set explains what is wrong
    return None


def _remember(cache: dict[Any, Any], cache_key: Hashable, value: object) -> None:
    with _CACHE_LOCK:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))  # the oldest entry
        cache[cache_key] = value


def _load_key_set(key: object) -> _KeySet:
    try:
        if isinstance(key, dict):
            return _KeySet(_from_dict(key))
        return _KeySet((_Key(_public(_from_material(key))),))
    except KeyFormatError as exc:
        raise UnsafeKeyError(f"the key cannot be used: {exc.message}", exc.why) from None


def _from_material(key: object) -> PublicKey | bytes:
    if isinstance(key, (bytearray, memoryview)):
        key = bytes(key)
    if isinstance(key, str):
        try:
            key = key.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no bytes to use as a secret
            raise UnsafeKeyError(
                "the secret is text that cannot be encoded as UTF-8 (a lone surrogate)",
                "pass the secret as bytes, or as text without lone surrogates",
            ) from None
    if isinstance(key, bytes):
        return keys.load_pem(key) if b"-----BEGIN" in key else key
    if isinstance(key, (PrivateKey, PublicKey)):
        return key
    raise UnsafeKeyError(
        f"cannot verify with {describe_key(key)}",
        "pass a secret, a PEM, a cryptography key, a JWK dict or a JWKS dict",
    )


def _from_dict(key: dict[str, Any]) -> tuple[_Key, ...]:
    if "keys" not in key:
        if "kty" not in key:
            raise UnsafeKeyError("a key dict must be a JWK (with 'kty') or a JWKS (with 'keys')")
        return (_Key(_public(keys.from_jwk(key)), dict(key)),)
    pairs = keys.from_jwks(key)  # refuses a bad member and duplicate kids
    if not pairs:
        raise UnsafeKeyError("the JWKS has no keys")
    secret = [isinstance(k, bytes) for _, k in pairs]
    if any(secret) and not all(secret):
        raise UnsafeKeyError(
            "the JWKS mixes HMAC secrets with public keys",
            "a token could then pick an HMAC algorithm and be checked with the wrong kind of key",
        )
    return tuple(_Key(_public(k), dict(jwk)) for jwk, k in pairs)


def _public(key: PrivateKey | PublicKey | bytes) -> PublicKey | bytes:
    return key.public_key() if isinstance(key, PrivateKey) else key


def _check_jwk(jwk: dict[str, Any] | None, alg: str) -> None:
    """A JWK's own metadata must allow verifying ``alg`` signatures (RFC 7517 4.2-4.4)."""
    if jwk is None:
        return
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise UnsafeKeyError(
            f"the JWK is marked use={_quoted(use)}, not 'sig'",
            "a key published for encryption must not vouch for signatures",
        )
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise UnsafeKeyError(f"the JWK's key_ops {_quoted(ops)} do not include 'verify'")
    jwk_alg = jwk.get("alg")
    if jwk_alg is not None and jwk_alg != alg:
        raise DisallowedAlgorithmError(
            f"the token says alg {_quoted(alg)} but its key is for {_quoted(jwk_alg)}",
            "a key is used with the one algorithm it was made for",
        )


def _check_strength(alg: str, key: PublicKey | bytes) -> None:
    if isinstance(key, bytes):
        need = max(MIN_HMAC_BYTES, int(alg[2:]) // 8)
        if len(key) < need:
            raise UnsafeKeyError(
                f"the {alg} secret is {len(key)} bytes; at least {need} are needed",
                "RFC 7518 3.2: an HMAC key must be at least as long as the hash output",
            )
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise UnsafeKeyError(
                f"the RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are needed",
                "1024-bit RSA is within reach of well-funded attackers",
            )
        if roca_vulnerable(key.public_numbers().n):
            raise UnsafeKeyError(
                "the RSA key was made by a ROCA-vulnerable generator (CVE-2017-15361)",
                "its private key can be computed from the public key",
            )


def _pyjwt_prepared(alg: str, key: PublicKey | bytes) -> tuple[Algorithm, Any]:
    alg_object = jwt.get_algorithm_by_name(alg)
    try:
        return alg_object, alg_object.prepare_key(key)
    except (jwt.InvalidKeyError, TypeError, ValueError) as exc:
        raise UnsafeKeyError(f"{alg} cannot use this key: {exc}") from None


@lru_cache(maxsize=1)
def _roca_subgroups() -> dict[int, frozenset[int]]:
    """For each small prime p, the residues 65537**k mod p (the fingerprint's subgroups)."""
    primes = [p for p in range(3, 168) if all(p % d for d in range(2, int(p**0.5) + 1))]
    return {p: frozenset(pow(65537, k, p) for k in range(p)) for p in primes}
