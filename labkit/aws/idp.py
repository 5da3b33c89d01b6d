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

What an attacker can send it is handled too:

- every login attempt costs exactly one scrypt of the presented password with
  the same parameters, whether the user exists, the password is wrong or
  right; nothing is memoised on a presented password, so response time says
  nothing about which passwords or users are real (CWE-208);
- every store is bounded (``MAX_SESSIONS``, ``MAX_LIVE_TOKENS``,
  ``MAX_USED_REFRESH``; bodies over ``MAX_BODY_BYTES`` are 413). Eviction never
  un-revokes a token: a deny-list entry is dropped only ``REVOCATION_GRACE``
  seconds after its token's own ``exp``, when no verifier with a sane leeway
  accepts it anyway. At capacity, new tokens are refused (429) rather than
  old revocations forgotten;
- a JSON string that is not Unicode text (a lone UTF-16 surrogate such as
  ``"\\ud800"``, whose behaviour RFC 8259 section 8.2 calls unpredictable) is a
  400, and a token that does not parse or verify is a 401, never a 5xx.

DEMO ONLY: the keys are the kit's published demo keys and the users are
``alice`` / ``wonderland`` (role ``reader``) and ``bob`` / ``builder`` (role
``admin``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from labkit import algorithms, keys, tokens
from labkit.algorithms import PrivateKey
from labkit.aws.clock import Clock, system_clock
from labkit.errors import ConfigurationError, InvalidTokenError, LabkitError
from labkit.oidc import ACCESS_TOKEN_TYP, OAuthError, OidcProvider, login_page

__all__ = [
    "AUDIENCE",
    "DEMO_USERS",
    "ISSUER",
    "MAX_BODY_BYTES",
    "MAX_LIVE_TOKENS",
    "MAX_SESSIONS",
    "MAX_USED_REFRESH",
    "REVOCATION_GRACE",
    "DemoUser",
    "IdentityProvider",
    "IdpError",
    "SigningKey",
]

ISSUER = "https://idp.labkit.local"
"""The ``iss`` of every token the lab's identity provider signs."""
AUDIENCE = "labkit-api"
"""The ``aud`` of those tokens: the demo API behind the gateway."""

MAX_BODY_BYTES = 64 * 1024
"""The largest request body the provider reads; larger ones are 413."""
MAX_SESSIONS = 10_000
"""Live login sessions (refresh-token families) kept; at capacity ``/login`` answers 429."""
MAX_LIVE_TOKENS = 100_000
"""Unexpired access tokens tracked (in sessions or on the deny-list); at capacity, 429."""
MAX_USED_REFRESH = 16
"""Used refresh tokens remembered per session for reuse detection. Older ones are forgotten:
presenting one is then refused as unknown (still a 401, only without revoking the session)."""
REVOCATION_GRACE = 300.0
"""Seconds a revoked ``jti`` stays denied after its token's ``exp``: covers verifier leeway."""

log = logging.getLogger(__name__)

_MAX_TOKEN = 8192
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


@dataclass(frozen=True)
class _Credential:
    """What a real IdP stores for a password: a random salt and the scrypt of the password."""

    salt: bytes
    digest: bytes


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
    refresh_hashes: list[str] = field(default_factory=list)  # oldest first


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
        self.jwks_uri: str | None = None  # where the keys are served (set by labkit.aws.server)
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock
        self.users = {user.username: user for user in users}
        self._credentials = {user.username: _enrolled(user) for user in users}
        private = keys.demo_key_for(alg) if key is None else key
        if kid is None and not isinstance(private, (bytes, str)):
            kid = keys.thumbprint(private)
        self._keys: list[SigningKey] = [SigningKey(kid, alg, private)]
        self._active = 0
        self._families: dict[str, _Family] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._denied: dict[str, float] = {}  # jti -> exp
        self._pruned_at = -math.inf
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

    def openid_configuration(self) -> dict[str, Any]:
        """The OIDC discovery document (OpenID Connect Discovery 1.0, section 3; RFC 8414).

        ``issuer`` equals the tokens' ``iss`` (section 4.3); ``jwks_uri`` and the
        endpoints are where the server listens once it knows its own URL (the
        issuer's name does not resolve in the lab), else under the issuer. The
        code flow with PKCE S256 only (RFC 9700 2.1.1), public clients (``none``),
        and the ``iss`` authorization response parameter (RFC 9207).
        """
        base = self.issuer.rstrip("/")
        if self.jwks_uri and self.jwks_uri.endswith("/.well-known/jwks.json"):
            base = self.jwks_uri[: -len("/.well-known/jwks.json")]  # where the server listens
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri or base + "/.well-known/jwks.json",
            "authorization_endpoint": base + "/authorize",
            "token_endpoint": base + "/token",
            "scopes_supported": [
                "openid",
                *sorted({s for u in self.users.values() for s in u.scopes}),
            ],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.alg],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": self.oidc.challenge_methods,
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "azp",
                "at_hash",
            ],
            "authorization_response_iss_parameter_supported": True,
        }

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
        """Check the password; an access token, a refresh token, and their lifetimes.

        Exactly one scrypt per attempt, of the presented password, with the
        same parameters for a known user, an unknown one, a wrong password
        and the right one (``authenticate``); the comparison is ``hmac.compare_digest``.
        """
        user = self.authenticate(username, password)
        scopes = self._granted(user, scope)
        with self._lock:
            self._prune()
            if len(self._families) >= MAX_SESSIONS:
                raise IdpError(429, f"the identity provider holds {MAX_SESSIONS} live sessions")
            family_id = secrets.token_urlsafe(12)
            self._families[family_id] = _Family()
            try:
                return self._tokens(user.username, scopes, family_id)
            except IdpError:
                del self._families[family_id]
                raise

    def refresh(self, refresh_token: object) -> dict[str, Any]:
        """Trade a refresh token for new tokens; a reused one revokes its whole family."""
        token = _text(refresh_token, "refresh_token")
        if not token or len(token) > _MAX_TOKEN:
            raise IdpError(400, "refresh_token must be a non-empty string (at most 8 KiB)")
        digest = _digest(token)
        with self._lock:
            record = self._refresh.get(digest)
            if record is None or record.family not in self._families:
                raise IdpError(401, "unknown refresh token")
            if record.used:
                self._revoke_family(record.family)
                raise IdpError(
                    401,
                    "refresh token reused: the session is revoked",
                    "a refresh token works once; a second use means it was copied",
                )
            if self.clock() >= record.expires:
                raise IdpError(401, "the refresh token has expired; log in again")
            self._prune()
            tokens_ = self._tokens(record.sub, record.scopes, record.family)
            record.used = True
            return tokens_

    def logout(self, access_token: object, refresh_token: object = None) -> list[str]:
        """Revoke the access token's ``jti`` and end its session; the revoked jtis."""
        claims = self.own_claims(access_token)
        jti = claims["jti"]
        with self._lock:
            family_id = next((i for i, f in self._families.items() if jti in f.jtis), None)
            if family_id is None:  # signed by us, but not a session we know (say, a restart)
                self._denied[jti] = _expiry(claims.get("exp"), self.clock() + self.access_ttl)
                return [jti]
            return self._revoke_family(family_id)

    def is_revoked(self, jti: str) -> bool:
        """True if ``jti`` was revoked by a logout or a refresh-token reuse."""
        with self._lock:
            return jti in self._denied

    def own_claims(self, token: object) -> dict[str, Any]:
        """The claims of a token this provider signed (its key, its alg, its issuer), or 401.

        The provider checks with its own algorithm and key, never the header's
        choice; expiry does not matter here (logging out an expired token is fine).
        """
        if not isinstance(token, str) or len(token) > _MAX_TOKEN:
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
        except Exception as exc:  # defence in depth: whatever a token trips is the token's fault
            log.warning("refused an unparsable token: %s", type(exc).__name__)
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
        return self.sign(claims, ACCESS_TOKEN_TYP)  # RFC 9068 2.1: typed, never a bare JWT

    def _tokens(self, sub: str, scopes: tuple[str, ...], family_id: str) -> dict[str, Any]:
        """Under the lock: a new access token and refresh token in ``family_id``."""
        if self._live_tokens() >= MAX_LIVE_TOKENS:
            raise IdpError(429, f"the identity provider tracks {MAX_LIVE_TOKENS} live tokens")
        family = self._families[family_id]
        user = self.users[sub]
        access = self.issue(sub, user.role, scopes, **self._dpop_binding(family_id))
        claims = tokens.parse(access).payload
        refresh = secrets.token_urlsafe(32)
        family.jtis[claims["jti"]] = claims["exp"]
        family.refresh_hashes.append(_digest(refresh))
        while len(family.refresh_hashes) > MAX_USED_REFRESH + 1:  # the newest one is unused
            self._refresh.pop(family.refresh_hashes.pop(0), None)
        expires = self.clock() + self.refresh_ttl
        self._refresh[_digest(refresh)] = _Refresh(sub, scopes, expires, family_id)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_ttl,
            "refresh_token": refresh,
            "scope": " ".join(scopes),
        }

    def _revoke_family(self, family_id: str) -> list[str]:
        """Deny every jti of the session and forget it: its refresh tokens stop working."""
        family = self._families.pop(family_id)
        self._denied.update(family.jtis)
        for digest in family.refresh_hashes:
            self._refresh.pop(digest, None)
        return sorted(family.jtis)

    def _live_tokens(self) -> int:
        return len(self._denied) + sum(len(f.jtis) for f in self._families.values())

    def _granted(self, user: DemoUser, scope: object) -> tuple[str, ...]:
        if scope is None:
            return user.scopes
        if not isinstance(scope, str):
            raise IdpError(400, "scope must be a space-separated string")
        asked = tuple(dict.fromkeys(_text(scope, "scope").split()))
        extra = [s for s in asked if s not in user.scopes]
        if extra:
            raise IdpError(400, f"{user.username} may not have scope {extra[0]!r}")
        return asked

    def _prune(self) -> None:
        """Under the lock: forget what can no longer matter (a full pass at most once a second).

        A jti (denied, or in a session) goes ``REVOCATION_GRACE`` seconds after
        its token's ``exp``; a refresh token at its own expiry; a session when
        it has neither left. Nothing that still verifies is ever un-revoked.
        """
        now = self.clock()
        if now - self._pruned_at < 1.0 and not self._full():
            return
        self._pruned_at = now
        horizon = now - REVOCATION_GRACE
        self._denied = {jti: exp for jti, exp in self._denied.items() if exp > horizon}
        self._refresh = {d: r for d, r in self._refresh.items() if r.expires > now}
        for family_id, family in list(self._families.items()):
            family.jtis = {jti: exp for jti, exp in family.jtis.items() if exp > horizon}
            family.refresh_hashes = [d for d in family.refresh_hashes if d in self._refresh]
            if not family.jtis and not family.refresh_hashes:
                del self._families[family_id]

    def _full(self) -> bool:
        return len(self._families) >= MAX_SESSIONS or self._live_tokens() >= MAX_LIVE_TOKENS

    # OpenID Connect (labkit.oidc): the code flow with PKCE, ID tokens, at+jwt access tokens ------

    @cached_property
    def oidc(self) -> OidcProvider:
        """The provider's OIDC endpoints (``/authorize``, ``/token``) and its demo clients."""
        return OidcProvider(self)

    def authenticate(self, username: object, password: object) -> DemoUser:
        """The demo user these credentials belong to, or a 401: ``login``'s check, no session.

        The same single scrypt of the presented password for every attempt (CWE-208).
        """
        name = _text(username, "username")
        presented = _text(password, "password")
        user = self.users.get(name)
        credential = self._credentials.get(name, _NO_SUCH_USER)
        supplied = _kdf(presented, credential.salt)
        if not hmac.compare_digest(credential.digest, supplied) or user is None:
            raise IdpError(401, "invalid username or password")
        return user

    def sign(self, claims: dict[str, Any], typ: str | None) -> str:
        """Sign ``claims`` with the active key: header ``alg``, ``kid`` and the given ``typ``."""
        key = self.signing_key
        headers: dict[str, Any] = {"typ": typ}
        if key.kid is not None:
            headers["kid"] = key.kid
        return algorithms.sign_token(claims, key.private, self.alg, headers=headers)

    def _oidc_route(self, method: str, path: str, event: Mapping[str, Any]) -> dict[str, Any]:
        """``GET|POST /authorize`` (a redirect with the code) and ``POST /token`` (JSON).

        Token-endpoint errors are RFC 6749 section 5.2 JSON; authorization errors
        are redirected to the client's checked redirect URI (section 4.1.2.1),
        except a bad client, redirect URI or password, answered here in one line.
        """
        try:
            if path == "/token":
                if method != "POST":
                    raise OAuthError("invalid_request", "the token endpoint takes POST", 405)
                return _json(200, self.oidc.token(_form(event)))
            params = _query(event)
            if "username" in params or "password" in params:  # CWE-598: logs, history, Referer
                raise OAuthError(
                    "invalid_request",
                    "send username and password in the POST body, never in the URL",
                )
            if method == "POST":  # the login form posts back to the URL the client sent
                params = _merged(params, _form(event))
            client, redirect_uri = self.oidc.client_for(params)
            try:
                if method == "GET":
                    self.oidc.check_request(params)  # a browser's first visit: the login form
                    page, headers = login_page(client, redirect_uri)
                    return {"statusCode": 200, "headers": headers, "body": page}
                location = self.oidc.authorize(params)
            except OAuthError as exc:
                if exc.status != 400:
                    raise
                location = self.oidc.redirect_error(redirect_uri, exc, params.get("state"))
            return {
                "statusCode": 302,
                "headers": {"Location": location, "Cache-Control": "no-store"},
                "body": "",
            }
        except OAuthError as exc:
            return _json(exc.status, exc.body())
        except IdpError as exc:
            error = "invalid_request" if exc.status == 400 else "access_denied"
            return _json(exc.status, {"error": error, "error_description": str(exc)})

    # HTTP (Lambda proxy events, served by the gateway) -------------------------------------------

    def handle(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        """One Lambda-proxy-style handler for the provider's routes."""
        method, path = _method_and_path(event)
        try:
            if (method, path) == ("GET", "/.well-known/jwks.json"):
                return _json(200, self.jwks())
            if (method, path) == ("GET", "/.well-known/openid-configuration"):
                return _json(200, self.openid_configuration())
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
            if path in ("/authorize", "/token"):  # OpenID Connect (labkit.oidc)
                return self._oidc_route(method, path, event)
        except IdpError as exc:
            return _json(exc.status, {"message": str(exc)})
        except LabkitError as exc:  # defence in depth: a labkit error is about the input
            log.info("refused %s %s: %s", method, path, exc)
            return _json(400, {"message": str(exc)})
        return _json(404, {"message": "Not Found"})

    # DPoP (RFC 9449 section 5): /login and /refresh bind tokens to the client's key ------------

    DPOP_ROUTES = (("POST", "/login"), ("POST", "/refresh"), ("POST", "/logout"))
    """The routes ``dpop_handle`` serves: the token requests a DPoP proof can come with, and
    ``/logout``, which takes an access token as a resource server does (``_dpop_logout``)."""

    def dpop_handle(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        """``handle``, plus RFC 9449 section 5 when the request carries a ``DPoP`` header.

        The proof is checked (section 4.3: ``htm`` POST, ``htu`` this route's URL,
        single-use ``jti``); the access token then carries ``cnf.jkt``, the key's
        RFC 7638 thumbprint (section 6.1), and the answer says ``token_type: DPoP``.
        A session logged in with DPoP stays bound: its refresh token works only with
        a proof from the same key (section 5), checked in ``_dpop_binding``.
        """
        from labkit import dpop  # DPoP code loads only for DPoP requests

        headers = event.get("headers") or {}
        every = event.get("multiValueHeaders") or {}  # payload 1.0 keeps each repeated header
        proofs = [v for k, v in every.items() if isinstance(k, str) and k.lower() == "dpop"]
        proofs = [p for v in proofs for p in v] or [
            p for k, v in headers.items() if str(k).lower() == "dpop" for p in str(v).split(",")
        ]
        method, path = _method_and_path(event)
        if (method, path) == ("POST", "/logout"):
            return self._dpop_logout(event, context, proofs)
        if not proofs:
            return self.handle(event, context)
        try:
            proof = dpop.verify_proof(
                dpop.proof_from_headers(proofs),
                htm=method,
                htu=self._dpop_url(headers, path),
                replay=self._dpop_replay,
                now=self.clock(),
            )
        except dpop.InvalidProofError as exc:
            # RFC 9449 section 5: "the authorization server issues an error response per
            # Section 5.2 of [RFC6749] with invalid_dpop_proof as the value of the error parameter"
            return _json(400, {"error": "invalid_dpop_proof", "error_description": exc.message})
        self._dpop_pending.jkt = proof.jkt
        try:
            answer = self.handle(event, context)
        finally:
            self._dpop_pending.jkt = None
        body = json.loads(answer["body"]) if answer["statusCode"] == 200 else {}
        if "access_token" in body and "cnf" in tokens.parse(body["access_token"]).payload:
            body["token_type"] = "DPoP"  # section 5: "A token_type of DPoP MUST be included"
            answer["body"] = json.dumps(body)
        return answer

    def _dpop_logout(
        self, event: Mapping[str, Any], context: object, proofs: list[str]
    ) -> dict[str, Any]:
        """``POST /logout``: a DPoP-bound token comes as ``Authorization: DPoP`` with a proof.

        The endpoint takes an access token as a resource server does, so RFC 9449 section 7
        applies: the proof's ``ath`` and key must match the token, and a bound token sent as
        ``Bearer`` is refused (7.2). Before, the owner's ``DPoP`` logout was a 401 while
        anyone holding the bare token logged the session out as Bearer (kit's red-team
        finding). Unbound tokens are served as before.
        """
        from labkit import dpop

        headers = dict(event.get("headers") or {})
        name = next((k for k in headers if str(k).lower() == "authorization"), None)
        scheme, _, token = str(headers.get(name, "") if name is not None else "").partition(" ")
        token = token.strip()
        try:
            cnf = tokens.parse(token).payload.get("cnf")
        except LabkitError:
            cnf = None
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if not isinstance(jkt, str):
            if scheme.lower() == "dpop":
                return _json(401, {"message": "the token is not DPoP-bound: send it as Bearer"})
            return self.handle(event, context)
        try:
            if scheme.lower() != "dpop":
                raise dpop.KeyBindingError(
                    "a DPoP-bound token was presented as a Bearer token",
                    "RFC 9449 section 7.2: it MUST be rejected",
                )
            method, path = _method_and_path(event)
            dpop.verify_proof(
                dpop.proof_from_headers(proofs),
                htm=method,
                htu=self._dpop_url(headers, path),
                access_token=token,
                jkt=jkt,
                replay=self._dpop_replay,
                now=self.clock(),
            )
        except dpop.InvalidProofError as exc:
            answer = _json(401, {"message": exc.message})
            answer["headers"]["WWW-Authenticate"] = dpop.challenge(exc)
            return answer
        headers[name] = f"Bearer {token}"  # checked: the logout itself reads it as a bearer
        return self.handle({**event, "headers": headers}, context)

    def _dpop_binding(self, family_id: str) -> dict[str, Any]:
        """Under the lock: the ``cnf`` claim for a session's next access token, if it is bound.

        A new session takes the key of the proof being served; a bound session's
        refresh must come with a proof by that same key, or it is refused.
        """
        pending = getattr(self._dpop_pending, "jkt", None)
        bound = self._dpop_sessions.get(family_id)
        if bound is None and pending is not None and not self._families[family_id].jtis:
            self._dpop_sessions[family_id] = bound = pending
        if bound is None:
            return {}
        if pending != bound:
            raise IdpError(
                401,
                "this session is DPoP-bound: refresh it with a proof signed by its key",
                "RFC 9449 section 5: the binding MUST be validated when the refresh token is used",
            )
        if len(self._dpop_sessions) > MAX_SESSIONS:  # sessions pruned since: forget their keys
            self._dpop_sessions = {
                f: k for f, k in self._dpop_sessions.items() if f in self._families
            }
        return {"cnf": {"jkt": bound}}

    def _dpop_url(self, headers: Mapping[str, Any], path: str) -> str:
        """The URL the client called: the server's own origin (from ``jwks_uri``), else Host."""
        suffix = "/.well-known/jwks.json"
        if self.jwks_uri and self.jwks_uri.endswith(suffix):
            return self.jwks_uri[: -len(suffix)] + path
        host = next((v for k, v in headers.items() if str(k).lower() == "host"), "localhost")
        return f"http://{host}{path}"

    @cached_property
    def _dpop_replay(self) -> Any:
        from labkit import dpop

        return dpop.ReplayCache(clock=self.clock)

    @cached_property
    def _dpop_pending(self) -> threading.local:
        return threading.local()  # the key of the proof this thread is serving

    @cached_property
    def _dpop_sessions(self) -> dict[str, str]:
        return {}  # session (family) id -> the jkt its tokens are bound to


ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/login"),
    ("POST", "/refresh"),
    ("POST", "/logout"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/authorize"),
    ("POST", "/authorize"),
    ("POST", "/token"),
)
"""The provider's routes (method, path), served without an authorizer."""


_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
"""scrypt's cost parameters (RFC 7914): 16 MiB and tens of milliseconds a hash, on purpose."""


def _kdf(password: str, salt: bytes) -> bytes:
    """The one password hash: scrypt of the password's UTF-8 bytes."""
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, **_SCRYPT)


@cache
def _enrolled(user: DemoUser) -> _Credential:
    """A configured account's stored credential (random salt), made once per process.

    Keyed on the configured account, never on a password someone presents:
    it holds exactly the accounts the kit is configured with, so it is
    bounded and learns nothing from login attempts.
    """
    salt = os.urandom(16)
    return _Credential(salt, _kdf(user.password, salt))


_NO_SUCH_USER = _Credential(os.urandom(16), os.urandom(32))
"""What an unknown username is checked against: the same work, and it matches nothing."""


def _text(value: object, name: str) -> str:
    """``value`` if it is a string of Unicode text; a 400 otherwise (a lone surrogate is not)."""
    if not isinstance(value, str):
        raise IdpError(400, f"{name} must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise IdpError(
            400,
            f"{name} holds a lone UTF-16 surrogate: not Unicode text",
            "RFC 8259 section 8.2: strings with unpaired surrogates behave unpredictably",
        ) from None
    return value


def _expiry(exp: object, default: float) -> float:
    """A token's ``exp`` as a float for the deny-list; ``default`` if it is not a number."""
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return default
    try:
        value = float(exp)
    except OverflowError:  # an integer beyond any float: deny for good
        return math.inf
    return default if math.isnan(value) else value


def _digest(token: str) -> str:
    """Refresh tokens are stored hashed: a leaked store does not leak live tokens."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


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
    if len(raw) > MAX_BODY_BYTES:
        raise IdpError(413, f"the body is over {MAX_BODY_BYTES} bytes")
    try:  # the kit's one JSON boundary: depth, number size, lone surrogates, duplicates
        body = tokens.load_json(raw, "body", error=LabkitError)
    except LabkitError as exc:
        raise IdpError(400, exc.message) from None
    if not isinstance(body, dict):
        raise IdpError(400, "the body must be a JSON object")
    return body


def _query(event: Mapping[str, Any]) -> dict[str, Any]:
    """The query string's parameters; a repeated one as a list (which ``labkit.oidc`` refuses)."""
    if event.get("version") == "2.0":
        return _pairs(str(event.get("rawQueryString") or ""))
    multi = event.get("multiValueQueryStringParameters") or {}
    if not isinstance(multi, Mapping):
        raise OAuthError("invalid_request", "the query string is not a list of parameters")
    values = {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in multi.items()}
    return {k: v[0] if len(v) == 1 else v for k, v in values.items()}


def _form(event: Mapping[str, Any]) -> dict[str, Any]:
    """An ``application/x-www-form-urlencoded`` body (RFC 6749 section 4.1.3); 400 otherwise."""
    headers = event.get("headers") or {}
    kind = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
    if kind and not kind.lower().startswith("application/x-www-form-urlencoded"):
        raise OAuthError("invalid_request", "send the body as application/x-www-form-urlencoded")
    raw = event.get("body")
    if raw in (None, ""):
        return {}
    if not isinstance(raw, str) or event.get("isBase64Encoded"):
        raise OAuthError("invalid_request", "the body must be URL-encoded UTF-8 text")
    if len(raw) > MAX_BODY_BYTES:
        raise OAuthError("invalid_request", f"the body is over {MAX_BODY_BYTES} bytes", 413)
    return _pairs(raw)


def _merged(query: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """Query and form parameters together; one given in both counts as repeated."""
    both = {**query, **form}
    for name in query.keys() & form.keys():
        both[name] = [query[name], form[name]]
    return both


def _pairs(text: str) -> dict[str, Any]:
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=64)
    except ValueError:
        raise OAuthError("invalid_request", "more than 64 parameters") from None
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _bearer(event: Mapping[str, Any]) -> str:
    headers = event.get("headers") or {}
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not isinstance(value, str) or not value.lower().startswith("bearer "):
        raise IdpError(401, "send the access token as 'Authorization: Bearer <token>'")
    return value[7:].strip()
