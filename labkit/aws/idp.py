"""The identity provider behind the local gateway: login, keys, refresh, logout, rotation.

It plays the part Cognito or an OAuth server plays for a real API: it checks
a password, issues a short-lived access token carrying the user's role and
scopes, and a refresh token to get the next one without asking for the
password again. Its HTTP face (``/login``, ``/refresh``, ``/logout``,
``/.well-known/jwks.json``) is served by the gateway; everything is also
callable in-process for the notebooks.

The best practices of the source article, built in:

- short expiry: access tokens live ``access_ttl`` seconds (15 minutes);
- invalidate on logout: ``/logout`` puts the token's ``jti`` on a deny-list
  that the authorizer checks, and ends the refresh-token family;
- refresh tokens are opaque, single-use and rotated; presenting a used one
  again (a sign it was stolen) revokes the whole family;
- keys rotate by ``kid``: ``rotate()`` starts signing with a new key while the
  old one stays in the JWKS, so tokens already issued keep verifying until
  ``retire(kid)`` drops it.

DEMO ONLY: the keys are the kit's published demo keys and the users are
``alice`` / ``wonderland`` (role ``reader``) and ``bob`` / ``builder`` (role
``admin``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from labkit import algorithms, keys, tokens
from labkit.algorithms import PrivateKey
from labkit.aws.clock import Clock, system_clock
from labkit.errors import ConfigurationError, InvalidTokenError, LabkitError

__all__ = [
    "AUDIENCE",
    "DEMO_USERS",
    "ISSUER",
    "DemoUser",
    "IdentityProvider",
    "IdpError",
    "SigningKey",
]

ISSUER = "https://idp.labkit.local"
"""The ``iss`` of every token the lab's identity provider signs."""
AUDIENCE = "labkit-api"
"""The ``aud`` of those tokens: the demo API behind the gateway."""

_MAX_BODY = 64 * 1024
_CURVES = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}


class IdpError(LabkitError):
    """A request the identity provider refuses; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, why: str | None = None) -> None:
        super().__init__(message, why)
        self.status = status


@dataclass(frozen=True)
class DemoUser:
    """A demo account: password, role, and the scopes it may be granted."""

    username: str
    password: str
    role: str
    scopes: tuple[str, ...]


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("alice", "wonderland", "reader", ("profile",)),
    DemoUser("bob", "builder", "admin", ("profile", "predict")),
)
"""The DEMO ONLY accounts of DESIGN.md's HTTP contract."""


@dataclass
class SigningKey:
    """One of the provider's keys: its ``kid``, its algorithm, the private half (or secret)."""

    kid: str | None
    alg: str
    private: Any
    published: bool = True

    def public_jwk(self) -> dict[str, Any] | None:
        """The JWK to publish, or None for an HMAC secret (which must never be published)."""
        if isinstance(self.private, (bytes, str)):
            return None
        return keys.to_jwk(self.private.public_key(), kid=self.kid, alg=self.alg)


@dataclass
class _Refresh:
    sub: str
    scopes: tuple[str, ...]
    expires: float
    family: str
    used: bool = False


@dataclass
class _Family:
    """One login session: every access token's jti and refresh token it produced."""

    jtis: dict[str, float] = field(default_factory=dict)  # jti -> exp
    refresh_hashes: set[str] = field(default_factory=set)
    revoked: bool = False


class IdentityProvider:
    """Issue, refresh and revoke tokens for the demo users; publish the keys that verify them."""

    def __init__(
        self,
        *,
        alg: str = "RS256",
        key: Any = None,
        kid: str | None = None,
        clock: Clock = system_clock,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        access_ttl: int = 900,
        refresh_ttl: int = 8 * 3600,
        users: tuple[DemoUser, ...] = DEMO_USERS,
    ) -> None:
        algorithms.family(alg)
        self.alg = alg
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock
        self.users = {user.username: user for user in users}
        self._hashes = {user.username: _password_hash(user.password) for user in users}
        private = keys.demo_key_for(alg) if key is None else key
        if kid is None and not isinstance(private, (bytes, str)):
            kid = keys.thumbprint(private)
        self._keys: list[SigningKey] = [SigningKey(kid, alg, private)]
        self._active = 0
        self._families: dict[str, _Family] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._denied: dict[str, float] = {}  # jti -> exp
        self._lock = threading.RLock()

    # Keys ----------------------------------------------------------------------------------------

    @property
    def signing_key(self) -> SigningKey:
        """The key new tokens are signed with."""
        return self._keys[self._active]

    @property
    def kid(self) -> str | None:
        """The ``kid`` of the signing key."""
        return self.signing_key.kid

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys that verify this provider's tokens (empty for an HMAC provider)."""
        with self._lock:
            published = [k.public_jwk() for k in self._keys if k.published]
        return {"keys": [jwk for jwk in published if jwk is not None]}

    def public_key(self) -> Any:
        """The signing key's public half (or, for HMAC, the shared secret itself)."""
        private = self.signing_key.private
        return private if isinstance(private, (bytes, str)) else private.public_key()

    def rotate(self, key: PrivateKey | None = None, kid: str | None = None) -> str:
        """Sign from now on with a new key (default: a freshly generated one); its kid.

        The old key stays published, so tokens it signed keep verifying until
        ``retire``: rotation without a logout storm.
        """
        with self._lock:
            if key is None:
                key = self._fresh_key()
            kid = keys.thumbprint(key) if kid is None else kid
            if any(k.kid == kid for k in self._keys):
                raise ConfigurationError(f"a key with kid {kid!r} is already in use")
            algorithms.check_key(self.alg, key, signing=True)
            self._keys.append(SigningKey(kid, self.alg, key))
            self._active = len(self._keys) - 1
            return kid

    def retire(self, kid: str) -> None:
        """Stop publishing key ``kid``: tokens it signed stop verifying once verifiers refetch."""
        with self._lock:
            index = next((i for i, k in enumerate(self._keys) if k.kid == kid), None)
            if index is None:
                raise ConfigurationError(f"no key with kid {kid!r}")
            if index == self._active:
                raise ConfigurationError(
                    f"{kid!r} is the signing key", "rotate() to a new key before retiring this one"
                )
            active = self.signing_key
            del self._keys[index]
            self._active = self._keys.index(active)

    def _fresh_key(self) -> PrivateKey:
        """A new random key for this provider's algorithm, as a real rotation would make."""
        family = algorithms.family(self.alg)
        if family in ("RS", "PS"):
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if family == "ES":
            return ec.generate_private_key(_CURVES[self.alg])
        raise ConfigurationError(
            f"rotate() without a key works for RSA and EC providers; this one signs {self.alg}",
            "pass the new key: rotate(key)",
        )

    # Tokens --------------------------------------------------------------------------------------

    def login(self, username: object, password: object, scope: object = None) -> dict[str, Any]:
        """Check the password; an access token, a refresh token, and their lifetimes."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise IdpError(400, "username and password must be strings")
        user = self.users.get(username)
        expected = self._hashes.get(username, _password_hash("\0no such user"))
        supplied = _password_hash(password)
        if not hmac.compare_digest(expected, supplied) or user is None:
            raise IdpError(401, "invalid username or password")
        scopes = self._granted(user, scope)
        with self._lock:
            family_id = secrets.token_urlsafe(12)
            self._families[family_id] = _Family()
            return self._tokens(user.username, scopes, family_id)

    def refresh(self, refresh_token: object) -> dict[str, Any]:
        """Trade a refresh token for new tokens; a reused one revokes its whole family."""
        if not isinstance(refresh_token, str) or not refresh_token:
            raise IdpError(400, "refresh_token must be a non-empty string")
        digest = _digest(refresh_token)
        with self._lock:
            record = self._refresh.get(digest)
            if record is None:
                raise IdpError(401, "unknown refresh token")
            family = self._families[record.family]
            if family.revoked:
                raise IdpError(401, "this session was logged out")
            if record.used:
                self._revoke_family(family)
                raise IdpError(
                    401,
                    "refresh token reused: the session is revoked",
                    "a refresh token works once; a second use means it was copied",
                )
            if self.clock() >= record.expires:
                raise IdpError(401, "the refresh token has expired; log in again")
            record.used = True
            return self._tokens(record.sub, record.scopes, record.family)

    def logout(self, access_token: object, refresh_token: object = None) -> list[str]:
        """Revoke the access token's ``jti`` and end its session; the revoked jtis."""
        claims = self.own_claims(access_token)
        with self._lock:
            family = next((f for f in self._families.values() if claims["jti"] in f.jtis), None)
            if family is None:  # signed by us, but not a session we know (say, a restart)
                self._denied[claims["jti"]] = float(claims.get("exp", self.clock()))
                return [claims["jti"]]
            return self._revoke_family(family)

    def is_revoked(self, jti: str) -> bool:
        """True if ``jti`` was revoked by a logout or a refresh-token reuse."""
        with self._lock:
            return jti in self._denied

    def own_claims(self, token: object) -> dict[str, Any]:
        """The claims of a token this provider signed (its key, its alg, its issuer), or 401.

        The provider checks with its own algorithm and key, never the header's
        choice; expiry does not matter here (logging out an expired token is fine).
        """
        if not isinstance(token, str) or len(token) > 8192:
            raise IdpError(401, "no valid access token")
        try:
            parsed = tokens.parse(token)
            kid = parsed.header.get("kid")
            key = next((k for k in self._keys if k.kid == kid), None)
            if parsed.header.get("alg") != self.alg or key is None:
                raise InvalidTokenError("not signed by this identity provider")
            if not algorithms.verify(self.alg, key.private, parsed.signing_input, parsed.signature):
                raise InvalidTokenError("bad signature")
        except LabkitError:
            raise IdpError(401, "no valid access token") from None
        claims = parsed.payload
        if claims.get("iss") != self.issuer or not isinstance(claims.get("jti"), str):
            raise IdpError(401, "no valid access token")
        return claims

    def issue(self, sub: str, role: str, scopes: tuple[str, ...], **extra: Any) -> str:
        """Sign an access token directly (no password): for labs that need a given token."""
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": sub,
            "aud": self.audience,
            "iat": now,
            "exp": now + self.access_ttl,
            "jti": secrets.token_urlsafe(12),
            "role": role,
            "scope": " ".join(scopes),
            **extra,
        }
        key = self.signing_key
        headers = {"kid": key.kid} if key.kid is not None else None
        return algorithms.sign_token(claims, key.private, self.alg, headers=headers)

    def _tokens(self, sub: str, scopes: tuple[str, ...], family_id: str) -> dict[str, Any]:
        """Under the lock: a new access token and refresh token in ``family_id``."""
        user = self.users[sub]
        access = self.issue(sub, user.role, scopes)
        claims = tokens.parse(access).payload
        refresh = secrets.token_urlsafe(32)
        family = self._families[family_id]
        family.jtis[claims["jti"]] = claims["exp"]
        family.refresh_hashes.add(_digest(refresh))
        expires = self.clock() + self.refresh_ttl
        self._refresh[_digest(refresh)] = _Refresh(sub, scopes, expires, family_id)
        self._purge()
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_ttl,
            "refresh_token": refresh,
            "scope": " ".join(scopes),
        }

    def _revoke_family(self, family: _Family) -> list[str]:
        family.revoked = True
        self._denied.update(family.jtis)
        for digest in family.refresh_hashes:
            self._refresh.pop(digest, None)
        return sorted(family.jtis)

    def _granted(self, user: DemoUser, scope: object) -> tuple[str, ...]:
        if scope is None:
            return user.scopes
        if not isinstance(scope, str):
            raise IdpError(400, "scope must be a space-separated string")
        asked = tuple(dict.fromkeys(scope.split()))
        extra = [s for s in asked if s not in user.scopes]
        if extra:
            raise IdpError(400, f"{user.username} may not have scope {extra[0]!r}")
        return asked

    def _purge(self) -> None:
        """Drop deny-list entries and refresh tokens that have expired anyway."""
        now = self.clock()
        if len(self._denied) > 1000:
            self._denied = {jti: exp for jti, exp in self._denied.items() if exp > now}
        if len(self._refresh) > 1000:
            self._refresh = {d: r for d, r in self._refresh.items() if r.expires > now}

    # HTTP (Lambda proxy events, served by the gateway) -------------------------------------------

    def handle(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        """One Lambda-proxy-style handler for the provider's routes."""
        method, path = _method_and_path(event)
        try:
            if (method, path) == ("GET", "/.well-known/jwks.json"):
                return _json(200, self.jwks())
            if (method, path) == ("POST", "/login"):
                body = _json_body(event)
                return _json(
                    200, self.login(body.get("username"), body.get("password"), body.get("scope"))
                )
            if (method, path) == ("POST", "/refresh"):
                return _json(200, self.refresh(_json_body(event).get("refresh_token")))
            if (method, path) == ("POST", "/logout"):
                token = _bearer(event)
                body = _json_body(event, optional=True)
                revoked = self.logout(token, body.get("refresh_token"))
                return _json(200, {"message": "logged out", "revoked": revoked})
        except IdpError as exc:
            return _json(exc.status, {"message": str(exc)})
        return _json(404, {"message": "Not Found"})


ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/login"),
    ("POST", "/refresh"),
    ("POST", "/logout"),
    ("GET", "/.well-known/jwks.json"),
)
"""The provider's routes (method, path), served without an authorizer."""


@cache
def _password_hash(password: str) -> bytes:
    """scrypt with a fixed per-kit salt: slow to guess, cached so a lab logs in quickly."""
    return hashlib.scrypt(
        password.encode("utf-8"), salt=b"labkit-demo-idp", n=2**14, r=8, p=1, dklen=32
    )


def _digest(token: str) -> str:
    """Refresh tokens are stored hashed: a leaked store does not leak live tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _method_and_path(event: Mapping[str, Any]) -> tuple[str, str]:
    if event.get("version") == "2.0":
        http = event.get("requestContext", {}).get("http", {})
        return str(http.get("method", "")), str(http.get("path", ""))
    return str(event.get("httpMethod", "")), str(event.get("path", ""))


def _json(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }


def _json_body(event: Mapping[str, Any], *, optional: bool = False) -> dict[str, Any]:
    raw = event.get("body")
    if raw in (None, "") and optional:
        return {}
    if not isinstance(raw, str) or event.get("isBase64Encoded"):
        raise IdpError(400, "the body must be a JSON object")
    if len(raw) > _MAX_BODY:
        raise IdpError(413, f"the body is over {_MAX_BODY} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise IdpError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise IdpError(400, "the body must be a JSON object")
    return body


def _bearer(event: Mapping[str, Any]) -> str:
    headers = event.get("headers") or {}
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not isinstance(value, str) or not value.lower().startswith("bearer "):
        raise IdpError(401, "send the access token as 'Authorization: Bearer <token>'")
    return value[7:].strip()
