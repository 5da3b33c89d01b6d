"""OpenID Connect for the kit's identity provider: clients, codes, PKCE, ID and access tokens.

An OIDC provider hands a client three kinds of token, and attackers swap them:

- the **ID token** tells the *client* who logged in: ``aud`` is the client's
  ``client_id``, it carries the client's ``nonce``, ``azp`` and ``at_hash``
  (OpenID Connect Core 1.0, sections 2 and 3.1.3.6). An API must never accept it;
- the **access token** is for the *API*: ``aud`` is the API, ``client_id`` the
  client, and its header says ``typ: at+jwt`` so it cannot be mistaken for
  anything else (RFC 9068 section 2.1; RFC 8725 section 3.11);
- the **refresh token** is opaque, single-use and rotated (as ``/refresh``).

The authorization-code flow with PKCE (RFC 7636): ``authorize`` checks the
client and its exact redirect URI (RFC 9700 section 2.1: exact string matching;
stricter than RFC 8252 section 7.3, no loopback port varies here), the
demo user's password, and the ``code_challenge`` (``S256`` only unless
``allow_plain``); it returns a code that lives ``CODE_TTL`` seconds and works
once (RFC 6749 section 4.1.2). ``token`` trades the code and its
``code_verifier`` for the tokens; a second use of a code is refused and ends the
grant it produced. Every store is bounded; errors are ``OAuthError``, whose
``error`` is the RFC 6749 section 5.2 code the token endpoint sends.

The redirect carries ``iss`` (RFC 9207), so a client talking to several
providers can tell whose code it got: the defence RFC 9700 section 4.4 gives
against mix-up.

DEMO ONLY: the clients below are the kit's published demo clients.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from labkit import algorithms, tokens
from labkit.errors import InvalidClaimError, LabkitError, MissingClaimError
from labkit.verify import Key, TokenTypeError, verify

__all__ = [
    "ACCESS_TOKEN_TYP",
    "CODE_TTL",
    "DEMO_CLIENTS",
    "MAX_CODES",
    "MAX_GRANTS",
    "MAX_USED_REFRESH",
    "Client",
    "OAuthError",
    "OidcProvider",
    "at_hash",
    "code_flow",
    "login_page",
    "s256",
    "verify_access_token",
    "verify_id_token",
]

ACCESS_TOKEN_TYP = "at+jwt"
"""The ``typ`` header of a JWT access token (RFC 9068 section 2.1)."""
CODE_TTL = 60
"""Seconds an authorization code lives ("a maximum ... of 10 minutes is RECOMMENDED", RFC 6749
section 4.1.2; a minute is plenty for a client that redeems it at once)."""
MAX_CODES = 1_000
"""Unredeemed codes kept; at capacity ``authorize`` answers 429 (temporarily_unavailable)."""
MAX_GRANTS = 10_000
"""Live OIDC grants (one per redeemed code, each with one live refresh token and at most
``MAX_USED_REFRESH`` used ones); at capacity a new code is answered 429, refreshes still work."""
MAX_USED_REFRESH = 16
"""Used refresh tokens remembered per grant, so presenting one again revokes the grant. Older
ones are forgotten (then refused as unknown): a grant holds at most this many plus its live one,
and pruning never drops a used one early, so filling the store cannot erase a theft's trace."""
MAX_PARAM = 512
"""The longest parameter value accepted (a redirect URI, a nonce, a state...)."""

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 section 4.1
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")  # base64url of SHA-256, no padding
_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


class OAuthError(LabkitError):
    """A request the OAuth endpoints refuse: ``error`` (RFC 6749 5.2) and the HTTP ``status``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON error response of RFC 6749 section 5.2."""
        return {"error": self.error, "error_description": self.message}


@dataclass(frozen=True)
class Client:
    """A registered client: its id, its exact redirect URIs, and the API its access tokens are for.

    Public clients (no secret): PKCE is what proves the code's redeemer is the
    one that asked for it (RFC 7636 section 1; RFC 9700 section 2.1.1).
    """

    client_id: str
    redirect_uris: tuple[str, ...]
    audience: str
    description: str = ""


DEMO_CLIENTS: tuple[Client, ...] = (
    Client(
        "labkit-notebook",
        ("http://127.0.0.1/callback",),
        "labkit-api",
        "the notebook's app: its access tokens are for the kit's API",
    ),
    Client(
        "partner-dashboard",
        ("http://127.0.0.1/partner/callback",),
        "partner-api",
        "another team's app: its access tokens are for another API (partner-api)",
    ),
    Client(
        "labkit-api",
        ("http://127.0.0.1/console/callback",),
        "labkit-api",
        "the API's own web console, registered under the API's identifier: its ID tokens "
        "carry aud labkit-api, so only typ tells them from access tokens",
    ),
)
"""The DEMO ONLY clients of the kit's provider."""


class _Idp(Protocol):
    """What ``OidcProvider`` needs of ``labkit.aws.idp.IdentityProvider``."""

    issuer: str
    alg: str
    access_ttl: int
    refresh_ttl: int

    def clock(self) -> float: ...

    def authenticate(self, username: object, password: object) -> Any: ...

    def sign(self, claims: dict[str, Any], typ: str | None) -> str: ...


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    sub: str
    scopes: tuple[str, ...]
    nonce: str | None
    challenge: str
    method: str
    auth_time: int
    expires: float


@dataclass(frozen=True)
class _Asked:
    """An authorization request, checked: who asks, where the answer goes, for what."""

    client: Client
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    challenge: str
    method: str
    nonce: str | None


@dataclass
class _Grant:
    sub: str
    client_id: str
    scopes: tuple[str, ...]
    expires: float
    family: str
    used: bool = False


@dataclass
class _Stores:
    codes: dict[str, _Code] = field(default_factory=dict)  # hash of the code -> the code
    redeemed: dict[str, tuple[float, str]] = field(default_factory=dict)  # hash -> (exp, family)
    grants: dict[str, _Grant] = field(default_factory=dict)  # hash of a refresh token -> grant
    families: dict[str, list[str]] = field(default_factory=dict)  # family -> hashes, oldest 1st


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: labkit IdP (DEMO ONLY)</title></head>
<body><h1>Sign in to {client}</h1>
<p>DEMO ONLY: alice / wonderland, bob / builder.</p>
<form method="post" action="">
<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="sign-in" type="submit">Sign in</button>
</form></body></html>
"""


def login_page(client: Client, redirect_uri: str) -> tuple[str, dict[str, str]]:
    """The provider's login form for a checked client, and the headers to send it with.

    It posts the credentials back to the same ``/authorize`` URL (its query
    carries the request). It may not be framed (clickjacking, RFC 9700 section
    4.16), and may post to itself and redirect only to the client's URI.
    """
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            f"default-src 'none'; form-action 'self' {redirect_uri}; frame-ancestors 'none'"
        ),
    }
    return _LOGIN_PAGE.format(client=html.escape(client.client_id)), headers


def s256(verifier: str) -> str:
    """The PKCE ``S256`` code challenge: BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 4.2)."""
    return tokens.b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core 3.1.3.6: base64url of the left half of the hash of the access token's ASCII.

    The hash is the one of the ID token's ``alg`` (SHA-256 for RS256, ES256, PS256, HS256).
    """
    digest = _HASHES.get(alg[-3:])
    if digest is None or algorithms.family(alg) == "EdDSA":
        raise OAuthError("server_error", f"no at_hash is defined here for alg {alg}", 500)
    if not isinstance(access_token, str) or not access_token.isascii():  # was UnicodeEncodeError
        raise InvalidClaimError("an access token is ASCII text: no at_hash can match this one")
    full = digest(access_token.encode("ascii")).digest()
    return tokens.b64url_encode(full[: len(full) // 2])


def code_flow(
    base_url: str,
    *,
    client_id: str = "labkit-notebook",
    username: str = "alice",
    password: str = "wonderland",
    scope: str = "openid profile",
    nonce: str | None = None,
) -> dict[str, Any]:
    """Run the authorization-code flow with PKCE against the kit's IdP over loopback HTTP.

    What a client does, without a browser: read discovery, make a
    ``code_verifier`` and its S256 challenge, post the login form to
    ``/authorize``, take the ``code`` from the redirect (checking ``state`` and
    ``iss``), redeem it at ``/token``. The token response, plus the ``nonce``
    this login sent. DEMO ONLY credentials by default.
    """
    discovery, session = _discover(base_url)
    client = next((c for c in DEMO_CLIENTS if c.client_id == client_id), None)
    if client is None:
        known = ", ".join(c.client_id for c in DEMO_CLIENTS)
        raise OAuthError("invalid_client", f"no demo client {client_id!r}; they are: {known}")
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    nonce = secrets.token_urlsafe(12) if nonce is None else nonce
    form = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": client.redirect_uris[0],
        "scope": scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        "username": username,
        "password": password,
    }
    answer = session.post(
        discovery["authorization_endpoint"], data=form, allow_redirects=False, timeout=5
    )
    if answer.status_code != 302:
        raise OAuthError(
            "access_denied", f"/authorize answered {answer.status_code}: {answer.text}"
        )
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    if query.get("state") != [state] or query.get("iss") != [discovery["issuer"]]:
        raise OAuthError("invalid_request", "the redirect's state or iss is not this login's")
    if "code" not in query:
        raise OAuthError(query.get("error", ["?"])[0], query.get("error_description", [""])[0])
    reply = session.post(
        discovery["token_endpoint"],
        allow_redirects=False,
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": client.redirect_uris[0],
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=5,
    )
    body = reply.json()
    if reply.status_code != 200:
        raise OAuthError(body.get("error", "?"), body.get("error_description", ""))
    return {**body, "nonce": nonce}


def _discover(base_url: str) -> tuple[dict[str, Any], Any]:
    """The provider's discovery document, and a session that sends only where it may.

    The user's password is posted to the ``authorization_endpoint`` the document names:
    so every endpoint must be on ``base_url``'s own origin, which ``labkit.outbound``
    must judge to be this machine, and the session takes no proxy from the environment.
    Before, a document naming any host got the password (kit's red-team finding).
    """
    import requests  # imported on use, as labkit.scan does

    from labkit import outbound

    where = outbound.judge(f"{str(base_url).rstrip('/')}/.well-known/openid-configuration")
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc from the environment
    answer = session.get(where.url, allow_redirects=False, timeout=5)
    try:
        discovery = answer.json()
    except ValueError:
        discovery = None
    if answer.status_code != 200 or not isinstance(discovery, dict):
        raise OAuthError("invalid_request", f"no discovery document at {where.url}")
    for name in ("authorization_endpoint", "token_endpoint"):
        endpoint = discovery.get(name)
        if not isinstance(endpoint, str) or outbound.judge(endpoint).origin != where.origin:
            raise OAuthError(
                "invalid_request",
                f"discovery's {name} {str(endpoint)[:80]!r} is not on {where.origin} "
                "(the login form's password goes there)",
            )
    return discovery, session


def verify_access_token(token: str | bytes, key: Key, **options: Any) -> dict[str, Any]:
    """``labkit.verify`` for an API: the token must be typed ``at+jwt`` (RFC 9068 section 4).

    Takes ``verify``'s options; pass ``audience`` (the API) and ``issuer`` as always.
    """
    return verify(token, key, typ=ACCESS_TOKEN_TYP, **options)


def verify_id_token(
    token: str,
    key: Key,
    *,
    client_id: str,
    issuer: str,
    nonce: str | None,
    access_token: str | None = None,
    algorithms: tuple[str, ...] = ("RS256",),
    now: Any = None,
    leeway: float = 0,
) -> dict[str, Any]:
    """A client's ID token validation (OIDC Core 3.1.3.7): the claims, or ``InvalidTokenError``.

    Signature, ``iss``, ``aud`` = ``client_id``, ``exp``, ``iat`` and ``sub``
    by ``labkit.verify``; then ``azp`` (items 4-5), the ``nonce`` this login
    sent (item 11; ``None`` only for a client that sent none), ``at_hash``
    against the access token when given (3.1.3.8), and the token must not be
    typed ``at+jwt``: an access token is never an ID token (RFC 9068 section 2.1).
    """
    claims = verify(
        token,
        key,
        algorithms=list(algorithms),
        audience=client_id,
        issuer=issuer,
        required=("sub", "iat"),
        now=now,
        leeway=leeway,
    )
    header = tokens.parse(token).header
    if isinstance(header.get("typ"), str) and header["typ"].lower().endswith("at+jwt"):
        raise TokenTypeError("the token is typed at+jwt: an access token, not an ID token")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise InvalidClaimError(f"azp {claims.get('azp')!r} is not this client ({client_id!r})")
    if nonce is not None or "nonce" in claims:
        if "nonce" not in claims:
            raise MissingClaimError("the ID token has no nonce, and this login sent one")
        if not isinstance(claims["nonce"], str) or not hmac.compare_digest(
            claims["nonce"].encode(), (nonce or "").encode()
        ):
            raise InvalidClaimError(
                "the ID token's nonce is not the one this login sent",
                "OIDC Core 15.5.2: a replayed ID token carries an old login's nonce",
            )
    expected = None if access_token is None else at_hash(access_token, str(header.get("alg")))
    if expected is not None and "at_hash" in claims and claims["at_hash"] != expected:
        raise InvalidClaimError("at_hash does not match the access token (OIDC Core 3.1.3.8)")
    return claims


class OidcProvider:
    """The OIDC half of the kit's IdP: ``authorize`` makes codes, ``token`` redeems them."""

    def __init__(
        self,
        idp: _Idp,
        *,
        clients: tuple[Client, ...] = DEMO_CLIENTS,
        allow_plain: bool = False,
    ) -> None:
        self.idp = idp
        self.clients = {c.client_id: c for c in clients}
        self.allow_plain = allow_plain
        self._stores = _Stores()
        self._lock = threading.Lock()

    @property
    def challenge_methods(self) -> list[str]:
        """``code_challenge_methods_supported`` for discovery (RFC 8414 section 2)."""
        return ["S256", "plain"] if self.allow_plain else ["S256"]

    # The authorization endpoint --------------------------------------------------------------

    def client_for(self, params: Mapping[str, object]) -> tuple[Client, str]:
        """The client and its redirect URI, matched exactly; errors here are never redirected.

        RFC 6749 section 4.1.2.1: with an unknown client or a redirect URI not
        registered, the provider must not redirect (it would be an open redirector).
        """
        client_id = _param(params, "client_id")
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError("invalid_client", f"unknown client_id {client_id[:60]!r}", 400)
        redirect_uri = _param(params, "redirect_uri")
        if redirect_uri not in client.redirect_uris:
            raise OAuthError(
                "invalid_request",
                "redirect_uri is not registered for this client (matched exactly, RFC 9700 2.1)",
            )
        return client, redirect_uri

    def authorize(self, params: Mapping[str, object]) -> str:
        """Log the demo user in and answer with the redirect URL that carries a fresh code.

        ``params``: ``response_type=code``, ``client_id``, ``redirect_uri``,
        ``scope`` (with ``openid``), ``code_challenge`` and its method, optional
        ``state`` and ``nonce``, and the user's ``username`` and ``password`` (the
        login form's fields). Client and redirect errors raise ``OAuthError``;
        see ``redirect_error`` for the rest.
        """
        asked = self.check_request(params)
        user = self.idp.authenticate(params.get("username"), params.get("password"))
        allowed = ("openid", *user.scopes)
        extra = [s for s in asked.scopes if s not in allowed]
        if extra:
            raise OAuthError("invalid_scope", f"{user.username} may not have scope {extra[0]!r}")
        now = self.idp.clock()
        code = secrets.token_urlsafe(32)
        record = _Code(
            asked.client.client_id,
            asked.redirect_uri,
            user.username,
            asked.scopes,
            asked.nonce,
            asked.challenge,
            asked.method,
            int(now),
            now + CODE_TTL,
        )
        with self._lock:
            self._prune(now)
            if len(self._stores.codes) >= MAX_CODES:
                raise OAuthError(
                    "temporarily_unavailable", f"{MAX_CODES} codes are waiting to be redeemed", 429
                )
            self._stores.codes[_digest(code)] = record
        answer = {"code": code, "iss": self.idp.issuer}
        if asked.state is not None:
            answer["state"] = asked.state
        return f"{asked.redirect_uri}?{urlencode(answer)}"

    def check_request(self, params: Mapping[str, object]) -> _Asked:
        """Everything of an authorization request but the user's credentials, checked."""
        client, redirect_uri = self.client_for(params)
        state = _param(params, "state", required=False)
        if _param(params, "response_type") != "code":
            raise OAuthError("unsupported_response_type", "only response_type=code is served")
        scopes = tuple(dict.fromkeys(_param(params, "scope").split()))
        if "openid" not in scopes:
            raise OAuthError("invalid_scope", "scope must include openid for an ID token")
        challenge, method = self._challenge(params)
        nonce = _param(params, "nonce", required=False)
        return _Asked(client, redirect_uri, state, scopes, challenge, method, nonce)

    def redirect_error(self, redirect_uri: str, error: OAuthError, state: object) -> str:
        """RFC 6749 section 4.1.2.1: the error sent back to the (already checked) redirect URI."""
        answer = {"error": error.error, "error_description": error.message, "iss": self.idp.issuer}
        if isinstance(state, str) and len(state) <= MAX_PARAM:
            answer["state"] = state
        return f"{redirect_uri}?{urlencode(answer)}"

    def _challenge(self, params: Mapping[str, object]) -> tuple[str, str]:
        challenge = _param(params, "code_challenge")
        method = _param(params, "code_challenge_method", required=False) or "plain"
        if method == "plain" and not self.allow_plain:
            raise OAuthError(
                "invalid_request",
                "code_challenge_method must be S256 (plain is refused: RFC 9700 2.1.1)",
            )
        if method not in ("S256", "plain"):
            raise OAuthError("invalid_request", f"unknown code_challenge_method {method[:20]!r}")
        if method == "S256" and not _CHALLENGE.fullmatch(challenge):
            raise OAuthError("invalid_request", "an S256 code_challenge is 43 base64url characters")
        if method == "plain" and not _VERIFIER.fullmatch(challenge):
            raise OAuthError("invalid_request", "a plain code_challenge is a 43-128 char verifier")
        return challenge, method

    # The token endpoint ----------------------------------------------------------------------

    def token(self, form: Mapping[str, object]) -> dict[str, Any]:
        """The token endpoint: ``authorization_code`` (with ``code_verifier``) or
        ``refresh_token``; the token response of RFC 6749 section 5.1 (and OIDC Core 3.1.3.3)."""
        grant_type = _param(form, "grant_type")
        if grant_type == "authorization_code":
            return self._redeem(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type[:40]!r} is not served")

    def _redeem(self, form: Mapping[str, object]) -> dict[str, Any]:
        client, redirect_uri = self.client_for(form)
        code = _param(form, "code")
        verifier = _param(form, "code_verifier")
        if not _VERIFIER.fullmatch(verifier):
            raise OAuthError(
                "invalid_request", "code_verifier must be 43-128 unreserved characters"
            )
        digest = _digest(code)
        now = self.idp.clock()
        with self._lock:
            self._prune(now)
            if len(self._stores.families) >= MAX_GRANTS:  # before the code is spent: it may retry
                raise OAuthError("temporarily_unavailable", f"{MAX_GRANTS} grants are live", 429)
            record = self._stores.codes.pop(digest, None)
            if record is None:
                spent = self._stores.redeemed.get(digest)
                if spent is not None:  # RFC 6749 4.1.2: a code used twice ends what it granted
                    self._end_family(spent[1])
                    raise OAuthError("invalid_grant", "the code was already used: grant revoked")
                raise OAuthError("invalid_grant", "unknown or expired code")
            if record.client_id != client.client_id or record.redirect_uri != redirect_uri:
                raise OAuthError("invalid_grant", "the code was issued to another client or URI")
            if now >= record.expires:
                raise OAuthError("invalid_grant", "the code has expired")
            expected = s256(verifier) if record.method == "S256" else verifier
            if not hmac.compare_digest(expected, record.challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
            family = secrets.token_urlsafe(12)
            self._stores.redeemed[digest] = (record.expires, family)
            return self._issue(
                record.sub, client, record.scopes, family, record.nonce, record.auth_time
            )

    def _refresh(self, form: Mapping[str, object]) -> dict[str, Any]:
        client_id = _param(form, "client_id")
        token = _param(form, "refresh_token", limit=256)
        now = self.idp.clock()
        with self._lock:
            grant = self._stores.grants.get(_digest(token))
            if grant is None or grant.client_id != client_id:
                raise OAuthError("invalid_grant", "unknown refresh token for this client")
            if grant.used:
                self._end_family(grant.family)
                raise OAuthError("invalid_grant", "refresh token reused: the grant is revoked")
            if now >= grant.expires:
                raise OAuthError("invalid_grant", "the refresh token has expired")
            self._prune(now)
            client = self.clients[grant.client_id]
            answer = self._issue(grant.sub, client, grant.scopes, grant.family, None, None)
            grant.used = True  # only once the next token exists: a 429 must not burn this one
            return answer

    def _issue(
        self,
        sub: str,
        client: Client,
        scopes: tuple[str, ...],
        family: str,
        nonce: str | None,
        auth_time: int | None,
    ) -> dict[str, Any]:
        """Under the lock: an at+jwt access token, a refresh token and (with a code) an ID token."""
        if family not in self._stores.families and len(self._stores.families) >= MAX_GRANTS:
            raise OAuthError("temporarily_unavailable", f"{MAX_GRANTS} grants are live", 429)
        idp, now = self.idp, int(self.idp.clock())
        user = idp.users[sub]  # type: ignore[attr-defined]
        access = idp.sign(
            {
                "iss": idp.issuer,
                "sub": sub,
                "aud": client.audience,
                "client_id": client.client_id,
                "iat": now,
                "exp": now + idp.access_ttl,
                "jti": secrets.token_urlsafe(12),
                "role": user.role,
                "scope": " ".join(scopes),
            },
            ACCESS_TOKEN_TYP,
        )
        refresh = secrets.token_urlsafe(32)
        self._stores.grants[_digest(refresh)] = _Grant(
            sub, client.client_id, scopes, idp.clock() + idp.refresh_ttl, family
        )
        chain = self._stores.families.setdefault(family, [])
        chain.append(_digest(refresh))
        while len(chain) > MAX_USED_REFRESH + 1:  # the newest one is the live one
            self._stores.grants.pop(chain.pop(0), None)
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": idp.access_ttl,
            "refresh_token": refresh,
            "scope": " ".join(scopes),
        }
        if auth_time is not None:  # OIDC Core 12.2: a refresh need not return a new ID token
            claims: dict[str, Any] = {
                "iss": idp.issuer,
                "sub": sub,
                "aud": client.client_id,
                "azp": client.client_id,
                "iat": now,
                "exp": now + idp.access_ttl,
                "auth_time": auth_time,
                "at_hash": at_hash(access, idp.alg),
            }
            if nonce is not None:
                claims["nonce"] = nonce
            answer["id_token"] = idp.sign(claims, "JWT")
        return answer

    def _end_family(self, family: str) -> None:
        """Under the lock: every refresh token of the grant stops working."""
        for digest in self._stores.families.pop(family, []):
            self._stores.grants.pop(digest, None)

    def _prune(self, now: float) -> None:
        """Under the lock: drop expired codes, spent-code records and refresh tokens."""
        stores = self._stores
        if len(stores.codes) >= MAX_CODES // 2:
            stores.codes = {d: c for d, c in stores.codes.items() if c.expires > now}
        if len(stores.redeemed) >= MAX_CODES:
            horizon = now - CODE_TTL
            stores.redeemed = {d: r for d, r in stores.redeemed.items() if r[0] > horizon}
            while len(stores.redeemed) >= MAX_CODES:  # still full: forget the oldest
                stores.redeemed.pop(next(iter(stores.redeemed)))
        if len(stores.families) >= MAX_GRANTS // 2:  # used ones stay until expiry: reuse detection
            stores.grants = {d: g for d, g in stores.grants.items() if g.expires > now}
            stores.families = {
                family: kept
                for family, chain in stores.families.items()
                if (kept := [d for d in chain if d in stores.grants])
            }


def _param(
    params: Mapping[str, object], name: str, *, required: bool = True, limit: int = MAX_PARAM
) -> Any:
    """A parameter as a string of at most ``limit`` printable characters; one-line errors."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise OAuthError("invalid_request", f"the request has no {name}")
        return None
    if not isinstance(value, str):
        raise OAuthError("invalid_request", f"{name} must be given once, as a string")
    if len(value) > limit:
        raise OAuthError("invalid_request", f"{name} is longer than {limit} characters")
    if not value.isprintable():
        raise OAuthError("invalid_request", f"{name} holds control or unprintable characters")
    return value


def _digest(value: str) -> str:
    """Codes and refresh tokens are stored hashed: a leaked store leaks no live secret."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
