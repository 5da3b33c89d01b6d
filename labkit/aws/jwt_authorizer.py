"""API Gateway's built-in JWT authorizers: the HTTP API one and the REST API one.

Neither runs code of yours: the gateway itself checks the token against the
issuer's published keys, then hands the claims to the integration. Both are
emulated here step by step, in the documented order, on the gateway's clock
(``labkit.aws.clock``), so a ``FrozenClock`` can show a key cache expiring.

HTTP API (``JwtAuthorizer``; ``Gateway(kind="jwt")``), per
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html :

1. the identity source holds the token, alone or prefixed with ``Bearer``;
2. the token is decoded;
3. its algorithm and signature are checked with a key from the issuer's
   ``jwks_uri``; only RSA-based algorithms are supported, and "API Gateway can
   cache the public keys for two hours" (``HTTP_JWKS_MAX_AGE``);
4. claims: ``kid`` must match a key of the JWKS, ``iss`` the configured
   issuer, ``aud`` (or ``client_id`` when there is no ``aud``) one of the
   audiences, ``exp`` after now, ``nbf`` and ``iat`` before now, and
   ``scope``/``scp`` must hold at least one of the route's scopes.

The claims reach the backend in ``requestContext.authorizer.jwt.claims`` as
strings: numbers and booleans stringified, arrays as ``[a b c]`` (bracketed,
space-separated), objects as JSON text, null claims left out; ``jwt.scopes``
is the token's scopes on a route that requires scopes and null otherwise.
Sources: measured events in https://github.com/floci-io/floci/pull/2011 and
https://github.com/aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock/issues/802,
and a real event with ``"scopes": null`` in
https://github.com/DefinitelyTyped/DefinitelyTyped/pull/75458 .

REST API (``RestJwtAuthorizer``; ``Gateway(kind="rest-jwt")``), per
https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-jwt-authorizer.html
and the Compute Blog post announcing it,
https://aws.amazon.com/blogs/compute/securing-rest-apis-with-jwt-authorizers-in-amazon-api-gateway/
:
several trusted issuers, the audiences accepted from each, the allowed
signing algorithms (RS256 to ES512,
https://docs.aws.amazon.com/apigateway/latest/api/API_JwtConfiguration.html),
claims a token must carry, and per-method scopes. Each issuer's OIDC
discovery document ``ISSUER/.well-known/openid-configuration`` names its
``jwks_uri`` (read when the authorizer is set up); the keys are cached "for up
to 1 hour on a best-effort basis", and a token signed with a key not seen
before makes the gateway retrieve the key set again
(https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-jwt-authorizer-keys.html).
A valid token without any of the method's scopes gets 403 Forbidden
(https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-jwt-authorizer-methods.html);
a Lambda proxy integration receives each claim with its JSON type in
``requestContext.authorizer.claims``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-jwt-authorizer-claims.html).
The discovery document and keys are fetched over real HTTP through the kit's
one outbound guard (``labkit.outbound``, loopback only here).

Token types: neither authorizer reads the header's ``typ``. "There is no
standard mechanism to differentiate JWT access tokens from other types of
JWTs, such as OpenID Connect ID tokens"; AWS recommends requiring scopes on
routes, or issuers and audiences used only for access tokens (HTTP_DOCS, the
note at the top). So an ``at+jwt`` access token passes, an ID token issued to
another client fails the audience check, and an ID token whose ``aud`` is a
configured audience passes wherever the route requires no scope (an ID token
has none). Both authorizers read the same discovery document as an OIDC
client (``JwtAuthorizer.from_discovery``; the REST one always does).

Where AWS publishes no wording, the kit writes its own and says so
(``KIT_WORDING`` marks those strings below); where AWS publishes no detail,
the kit's choice is stated where it is made.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labkit import outbound, tokens
from labkit.aws.authorizer import scopes_of
from labkit.aws.clock import Clock
from labkit.errors import ConfigurationError, LabkitError
from labkit.verify import verify_jws

__all__ = [
    "HTTP_JWKS_MAX_AGE",
    "REST_ALGORITHMS",
    "REST_JWKS_MAX_AGE",
    "RSA_ALGORITHMS",
    "JwtAuthorizer",
    "KeySetCache",
    "RestJwtAuthorizer",
    "TrustedIssuer",
    "Verdict",
    "claim_string",
]

HTTP_DOCS = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html"
)
HTTP_TROUBLESHOOTING = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html"
)
KIT_WORDING = "kit's own wording"

HTTP_JWKS_MAX_AGE = 7200.0
"""Seconds an HTTP API JWT authorizer may keep the issuer's keys ("two hours", HTTP_DOCS)."""
REST_JWKS_MAX_AGE = 3600.0
"""Seconds a REST API JWT authorizer keeps an issuer's keys ("up to 1 hour", the keys page)."""
REFETCH_INTERVAL = 60.0
"""Kit's choice: an unknown ``kid`` refetches a key set at most once a minute, so a flood of
made-up kids cannot turn the gateway into a load generator against the issuer."""

RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
"""HTTP API: "Currently, only RSA-based algorithms are supported" (HTTP_DOCS)."""
REST_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
"""REST API: the valid ``defaultAlgorithms`` values (API_JwtConfiguration reference)."""

_MAX_TOKEN = 8192  # the kit's bound on what it parses (labkit.verify.MAX_LENGTH)
_MAX_DOCUMENT = 64 * 1024


@dataclass(frozen=True)
class Verdict:
    """One authorization decision: the response to send, or what the backend receives."""

    status: int  # 200 means allowed
    outcome: str  # for the gateway's log: "authorized", "invalid_token", ...
    reason: str = ""
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    error_type: str | None = None  # x-amzn-ErrorType (REST APIs)
    context: dict[str, Any] | None = None  # requestContext.authorizer when allowed

    @property
    def ok(self) -> bool:
        return self.status == 200


class _Refused(Exception):
    """A token failed a step: the description the client sees (and the log keeps)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


# The key cache ------------------------------------------------------------------------------------


class KeySetCache:
    """An issuer's JWKS, fetched on first use and kept up to ``max_age`` seconds of ``clock``.

    ``refetch_unknown_kid``: whether a ``kid`` missing from the cached set
    triggers a fresh fetch (at most once per ``REFETCH_INTERVAL``). The REST
    docs say it does; the HTTP API docs say only that keys may be cached for
    two hours, so the HTTP authorizer does not (the kit's choice: the safe
    assumption to plan a rotation on). ``fetches`` counts the fetches.

    A fetch that fails (the discovery document or the JWKS: unreachable,
    refused by the outbound guard, malformed) is remembered for
    ``REFETCH_INTERVAL`` too, and not tried again before (the kit's choice):
    otherwise every request to a gateway whose issuer is down or broken is one
    more fetch, each holding the lock up to the fetch timeout. Meanwhile a
    request that needs the keys (none cached, or stale) gets the remembered
    error (the authorizer's 500); an unknown ``kid`` with a still-fresh set is
    only a kid no key matches (401), never a 500 an attacker can trigger.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        max_age: float,
        refetch_unknown_kid: bool,
    ) -> None:
        self._fetch = fetch
        self.max_age = max_age
        self.refetch_unknown_kid = refetch_unknown_kid
        self.fetches = 0
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = -math.inf
        self._failed: tuple[float, str] | None = None  # when the last fetch failed, and why
        self._lock = threading.Lock()

    def key(self, kid: str, now: float) -> dict[str, Any] | None:
        """The JWK with this ``kid``, refreshing the set when it is stale (or unknown kid)."""
        with self._lock:
            age = now - self._fetched_at
            stale = age >= self.max_age or age < 0
            unknown = kid not in self._keys and self.refetch_unknown_kid
            if stale or (unknown and age >= REFETCH_INTERVAL):
                self._refresh(now, needed=stale)
            return self._keys.get(kid)

    def clear(self) -> None:
        """Forget the cached keys (as updating the authorizer would)."""
        with self._lock:
            self._keys, self._fetched_at, self._failed = {}, -math.inf, None

    def _refresh(self, now: float, *, needed: bool) -> None:
        """Fetch the set again; ``needed``: no usable set without it (else an unknown kid)."""
        if self._failed is not None and 0 <= now - self._failed[0] < REFETCH_INTERVAL:
            if needed:
                raise ConfigurationError(
                    f"{self._failed[1]} (not fetched again before {REFETCH_INTERVAL:g} s)"
                )
            return
        self.fetches += 1
        try:
            document = self._fetch()
            keys = document.get("keys") if isinstance(document, Mapping) else None
            if not isinstance(keys, list):
                raise ConfigurationError("the issuer's JWKS has no 'keys' list")
        except LabkitError as exc:  # ConfigurationError, outbound.FetchError: the issuer's fault
            self._failed = (now, str(exc))
            if needed:
                raise
            return
        self._keys = {
            jwk["kid"]: dict(jwk)
            for jwk in keys
            if isinstance(jwk, Mapping) and isinstance(jwk.get("kid"), str)
        }
        self._fetched_at, self._failed = now, None


# The validation steps, shared by both authorizers ---------------------------------------------


def _token_from(value: str | None) -> str:
    """Step 1: the identity source holds the token, alone or after ``Bearer `` (HTTP_DOCS)."""
    if value is None or not value.strip():
        raise _Refused("")  # no token: the caller answers without a description
    text = value.strip()
    return text[7:].strip() if text[:7].lower() == "bearer " else text


def _decode(token: str) -> tokens.Token:
    """Step 2: decode (the kit's one parsing boundary); any failure is the token's fault."""
    if len(token) > _MAX_TOKEN:
        raise _Refused(f"the token is longer than {_MAX_TOKEN} characters")  # KIT_WORDING
    try:
        return tokens.parse(token)
    except LabkitError as exc:
        raise _Refused(f"the token could not be decoded: {exc.message}") from None  # KIT_WORDING


def _check_signature(
    token: str, parsed: tokens.Token, allowed: Sequence[str], keys: KeySetCache, now: float
) -> None:
    """Step 3 (and the ``kid`` claim of step 4): allowed alg, a kid in the JWKS, the signature."""
    alg = parsed.header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        raise _Refused(f"the token's signing algorithm is not allowed: {alg}")  # KIT_WORDING
    kid = parsed.header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _Refused("the token has no kid header")  # KIT_WORDING
    jwk = keys.key(kid, now)
    if jwk is None:
        raise _Refused("no key in the issuer's JWKS matches the token's kid")  # KIT_WORDING
    try:
        verify_jws(token, {"keys": [jwk]}, algorithms=[alg])
    except LabkitError:
        raise _Refused("the token's signature is invalid") from None  # KIT_WORDING


def _audiences(value: object, who: str) -> tuple[str, ...]:
    """Configured audiences as a tuple of non-empty strings; a lone string is refused.

    ``audience="billing-api"`` was kept as the string, and ``aud in audiences``
    then matched by substring: tokens for ``bill`` or ``api`` passed (kit's
    red-team finding; ``labkit.verify`` refuses the same mistake).
    """
    if (
        isinstance(value, str)
        or not isinstance(value, (tuple, list))
        or not value
        or not all(isinstance(a, str) and a for a in value)
    ):
        raise ConfigurationError(
            f"{who} needs at least one audience, as a list such as ('my-api',), got {value!r}",
            "a string would be searched by substring",
        )
    return tuple(value)


def _audience_ok(claims: Mapping[str, Any], audiences: Sequence[str]) -> bool:
    """``aud`` must match an audience; ``client_id`` is checked only when ``aud`` is absent."""
    if "aud" in claims:  # "When both aud and client_id are present, API Gateway evaluates aud."
        aud = claims["aud"]
        values = aud if isinstance(aud, list) else [aud]
    else:
        values = [claims.get("client_id")]
    return any(isinstance(v, str) and v in audiences for v in values)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    """``exp`` after now; ``nbf`` and ``iat`` before now (HTTP_DOCS), with no leeway.

    Kit's choices where the docs are silent: ``exp`` is required (a token
    without it would never expire); ``nbf`` and ``iat`` are checked when
    present; a time claim that is not a finite number refuses the token.
    """
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is None and name != "exp":
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            # 1e999 is valid JSON text for infinity: such an exp would never expire
            # (labkit.verify refuses it as no NumericDate too).
            raise _Refused(f"the token's {name} claim is missing or not a number")  # KIT_WORDING
        if name == "exp" and not now < value:
            raise _Refused("the token has expired")  # KIT_WORDING
        if name == "nbf" and not value <= now:
            raise _Refused("the token is not valid yet (nbf)")  # KIT_WORDING
        if name == "iat" and not value <= now:
            raise _Refused("the token was issued in the future (iat)")  # KIT_WORDING


def claim_string(value: Any) -> str | None:
    """A claim as an HTTP API JWT authorizer hands it to the backend (None: left out).

    Strings as they are, numbers and booleans stringified, arrays as
    ``[a b c]``, objects as JSON text (floci-io/floci#2011's measured events).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(claim_string(v) or "" for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value)  # int and float: their JSON text


def _strings(claims: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for name, value in claims.items():
        text = claim_string(value)
        if text is not None:
            out[name] = text
    return out


def _quoted(text: str) -> str:
    """Text safe inside a quoted header parameter: printable ASCII, no quotes or backslashes."""
    return "".join(c for c in text if 32 <= ord(c) < 127 and c not in '"\\')[:200]


# The HTTP API JWT authorizer ------------------------------------------------------------------

_UNAUTHORIZED = {"message": "Unauthorized"}  # HTTP_TROUBLESHOOTING shows this 401 body
_FORBIDDEN = {"message": "Forbidden"}  # KIT_WORDING for the body (the 403 status is documented)
_HTTP_INTERNAL_ERROR = {"message": "Internal Server Error"}  # the HTTP API's 500 body


@dataclass(frozen=True)
class JwtAuthorizer:
    """An HTTP API JWT authorizer: one issuer, its audiences, its keys (``jwks()``), RSA only.

    ``jwks`` returns the issuer's JWKS document (the local IdP's ``jwks``
    method: fetched from the issuer in process). The keys are cached for
    ``jwks_max_age`` seconds (two hours, as AWS may) on the gateway's clock.
    """

    issuer: str
    audience: tuple[str, ...]
    jwks: Callable[[], Mapping[str, Any]]
    algorithms: tuple[str, ...] = ("RS256",)
    jwks_max_age: float = HTTP_JWKS_MAX_AGE
    header: str = "Authorization"
    keys: KeySetCache = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            # A missing setting (None) would have matched every token without an iss claim.
            raise ConfigurationError(f"a JWT authorizer needs its issuer URL, got {self.issuer!r}")
        object.__setattr__(self, "audience", _audiences(self.audience, "a JWT authorizer"))
        bad = [a for a in self.algorithms if a not in RSA_ALGORITHMS]
        if bad or not self.algorithms:
            raise ConfigurationError(
                f"an HTTP API JWT authorizer supports only RSA-based algorithms, got {bad or '()'}",
                f"choose from {', '.join(RSA_ALGORITHMS)} ({HTTP_DOCS})",
            )
        cache = KeySetCache(self.jwks, max_age=self.jwks_max_age, refetch_unknown_kid=False)
        object.__setattr__(self, "keys", cache)

    @classmethod
    def from_discovery(
        cls, base_url: str, audience: tuple[str, ...], **options: Any
    ) -> JwtAuthorizer:
        """The authorizer AWS would set up from an issuer's OIDC discovery document.

        ``base_url`` serves ``/.well-known/openid-configuration`` (the issuer's
        own URL, or the lab's local server): its ``issuer`` becomes the
        authorizer's issuer, its ``jwks_uri`` is where the keys are fetched, over
        HTTP through the kit's outbound guard, as the REST authorizer does.
        """
        url = base_url.rstrip("/") + "/.well-known/openid-configuration"
        document = fetch_json(url, "OIDC discovery document")
        issuer, jwks_uri = document.get("issuer"), document.get("jwks_uri")
        if not isinstance(issuer, str) or not isinstance(jwks_uri, str):
            raise ConfigurationError(f"{url} names no issuer or no jwks_uri")
        return cls(issuer, audience, lambda: fetch_json(jwks_uri, "JWKS"), **options)

    def check(self, value: str | None, scopes: Sequence[str], clock: Clock) -> Verdict:
        """Authorize one request: the identity source's value and the route's scopes."""
        now = clock()
        try:
            token = _token_from(value)
            parsed = _decode(token)
            _check_signature(token, parsed, self.algorithms, self.keys, now)
            claims = parsed.payload
            if claims.get("iss") != self.issuer:
                raise _Refused("the token does not have a valid issuer")  # KIT_WORDING
            if not _audience_ok(claims, self.audience):
                # AWS's wording, from HTTP_TROUBLESHOOTING:
                raise _Refused("the token does not have a valid audience")
            _check_times(claims, now)
        except _Refused as refused:
            return self._refused(refused.description)
        except (ConfigurationError, outbound.FetchError) as exc:  # the issuer, not the client
            # Kit's choice (AWS documents no body for it): the HTTP API's own 500, as for a
            # Lambda authorizer that cannot be invoked (labkit.aws.gateway's table, [6]).
            return Verdict(500, "authorizer error", str(exc), _HTTP_INTERNAL_ERROR)
        held = scopes_of(claims)
        if scopes and not set(scopes) & set(held):
            wanted = " ".join(scopes)
            challenge = (  # KIT_WORDING (RFC 6750 section 3.1 names the error code)
                f'Bearer scope="{_quoted(wanted)}" error="insufficient_scope" '
                f'error_description="expected scopes: [{_quoted(wanted)}]"'
            )
            return Verdict(
                403,
                "insufficient_scope",
                f"token scopes {list(held)}",
                _FORBIDDEN,
                (("www-authenticate", challenge),),
            )
        context = {"jwt": {"claims": _strings(claims), "scopes": list(held) if scopes else None}}
        return Verdict(200, "authorized", context=context)

    def _refused(self, description: str) -> Verdict:
        if not description:  # no token at all: a bare challenge (KIT_WORDING: AWS shows none)
            return Verdict(
                401, "missing identity source", "", _UNAUTHORIZED, (("www-authenticate", "Bearer"),)
            )
        challenge = (  # the format of HTTP_TROUBLESHOOTING's example
            f'Bearer scope="" error="invalid_token" error_description="{_quoted(description)}"'
        )
        return Verdict(
            401, "invalid_token", description, _UNAUTHORIZED, (("www-authenticate", challenge),)
        )


# The REST API JWT authorizer ------------------------------------------------------------------

_REST_UNAUTHORIZED = {"message": "Unauthorized"}  # REST's UNAUTHORIZED gateway response body
_REST_FORBIDDEN = {"message": "Forbidden"}  # KIT_WORDING for the body (403 status: methods page)


@dataclass(frozen=True)
class TrustedIssuer:
    """One issuer a REST API JWT authorizer trusts, and the audiences accepted from it.

    ``issuer`` must equal the tokens' ``iss`` exactly, trailing slash included
    (the create page). ``discovery`` is where the kit reads the issuer's
    ``/.well-known/openid-configuration``: the issuer itself by default; in the
    lab the issuer's name does not resolve, so it names the local server (the
    lab's stand-in for DNS). The document's ``issuer`` must still equal
    ``issuer`` (OpenID Connect Discovery 1.0, section 4.3).
    """

    issuer: str
    audiences: tuple[str, ...]
    discovery: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise ConfigurationError("a trusted issuer needs its issuer URL")
        object.__setattr__(self, "audiences", _audiences(self.audiences, f"issuer {self.issuer!r}"))

    def discovery_url(self, located: str | None = None) -> str:
        """``ISSUER/.well-known/openid-configuration`` (or at ``located``/``discovery``)."""
        base = located or self.discovery or self.issuer
        return base.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class RestJwtAuthorizer:
    """A REST API JWT authorizer: trusted issuers, allowed algorithms, required claims.

    ``required_claims`` maps a claim name to the value it must have, or to
    ``None`` when the claim must only be present (the kit's reading of "any
    additional claims that a token must carry"). Per-method scopes are the
    routes' ``scopes``. ``fetch`` reads a URL's JSON document; by default
    through ``labkit.outbound`` with its loopback-only policy.
    """

    issuers: tuple[TrustedIssuer, ...]
    algorithms: tuple[str, ...] = ("RS256",)
    required_claims: Mapping[str, str | None] = field(default_factory=dict)
    header: str = "Authorization"
    jwks_max_age: float = REST_JWKS_MAX_AGE
    fetch: Callable[[str], Mapping[str, Any]] | None = None
    _keys: dict[str, KeySetCache] = field(init=False, repr=False, compare=False)
    _discovered: dict[str, str] = field(init=False, repr=False, compare=False)
    _located: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (
            not isinstance(self.issuers, (tuple, list))
            or not self.issuers
            or not all(isinstance(i, TrustedIssuer) for i in self.issuers)
        ):
            raise ConfigurationError(
                "a REST API JWT authorizer needs at least one trusted issuer, as a list of "
                f"TrustedIssuer, got {self.issuers!r}"
            )
        if not isinstance(self.required_claims, Mapping) or not all(
            isinstance(name, str) and (wanted is None or isinstance(wanted, str))
            for name, wanted in self.required_claims.items()
        ):
            # A non-string value compares loosely in Python: True == 1 == 1.0.
            raise ConfigurationError(
                "required_claims must map claim names to a string or None, "
                f"got {self.required_claims!r}"
            )
        names = [i.issuer for i in self.issuers]
        if len(set(names)) != len(names):
            raise ConfigurationError("each trusted issuer must be listed once")
        bad = [a for a in self.algorithms if a not in REST_ALGORITHMS]
        if bad or not self.algorithms:
            raise ConfigurationError(
                f"allowed algorithms must be among {', '.join(REST_ALGORITHMS)}, got {bad or '()'}"
            )
        caches = {
            i.issuer: KeySetCache(
                self._jwks_of(i), max_age=self.jwks_max_age, refetch_unknown_kid=True
            )
            for i in self.issuers
        }
        object.__setattr__(self, "_keys", caches)
        object.__setattr__(self, "_discovered", {})
        object.__setattr__(self, "_located", {})

    def keys(self, issuer: str) -> KeySetCache:
        """The key cache of one trusted issuer."""
        return self._keys[issuer]

    def locate(self, issuer: str, base_url: str) -> None:
        """Serve ``issuer``'s discovery document from ``base_url`` (the lab's stand-in for DNS:
        the local IdP's issuer name does not resolve). Forgets what was discovered."""
        if issuer not in self._keys:
            raise ConfigurationError(f"{issuer!r} is not a trusted issuer")
        self._located[issuer] = base_url
        self._discovered.pop(issuer, None)
        self._keys[issuer].clear()

    def discover(self) -> dict[str, str]:
        """Read every issuer's discovery document now (AWS does so when the authorizer is
        created); each issuer's ``jwks_uri``."""
        return {i.issuer: self._jwks_uri(i) for i in self.issuers}

    def check(self, value: str | None, scopes: Sequence[str], clock: Clock) -> Verdict:
        """Authorize one request: the identity header's value and the method's scopes."""
        now = clock()
        try:
            token = _token_from(value)
            parsed = _decode(token)
            trusted = self._issuer_of(parsed.payload)
            _check_signature(token, parsed, self.algorithms, self._keys[trusted.issuer], now)
            claims = parsed.payload
            if not _audience_ok(claims, trusted.audiences):
                raise _Refused("the token does not have a valid audience")  # KIT_WORDING
            _check_times(claims, now)
            for name, wanted in self.required_claims.items():
                if name not in claims or (wanted is not None and claims[name] != wanted):
                    raise _Refused(f"the token lacks the required claim {name}")  # KIT_WORDING
        except _Refused as refused:
            return Verdict(
                401,
                "invalid_token" if refused.description else "missing identity source",
                refused.description,
                _REST_UNAUTHORIZED,
                error_type="UnauthorizedException",
            )
        except (ConfigurationError, outbound.FetchError) as exc:  # the issuer, not the client
            return Verdict(
                500,
                "authorizer error",
                str(exc),
                {"message": None},
                error_type="AuthorizerConfigurationException",
            )
        held = scopes_of(claims)
        if scopes and not set(scopes) & set(held):
            return Verdict(
                403,
                "insufficient_scope",
                f"token scopes {list(held)}",
                _REST_FORBIDDEN,
                error_type="AccessDeniedException",
            )
        return Verdict(200, "authorized", context={"claims": dict(claims)})

    def _issuer_of(self, claims: Mapping[str, Any]) -> TrustedIssuer:
        iss = claims.get("iss")
        for trusted in self.issuers:
            if iss == trusted.issuer:
                return trusted
        raise _Refused("the token's issuer is not trusted")  # KIT_WORDING

    def _jwks_of(self, trusted: TrustedIssuer) -> Callable[[], Mapping[str, Any]]:
        return lambda: self._document(self._jwks_uri(trusted), "JWKS")

    def _jwks_uri(self, trusted: TrustedIssuer) -> str:
        found = self._discovered
        if trusted.issuer not in found:
            url = trusted.discovery_url(self._located.get(trusted.issuer))
            document = self._document(url, "OIDC discovery document")
            if document.get("issuer") != trusted.issuer:
                raise ConfigurationError(
                    f"the discovery document at {url} names issuer "
                    f"{document.get('issuer')!r}, not {trusted.issuer!r}"
                )
            uri = document.get("jwks_uri")
            if not isinstance(uri, str):
                raise ConfigurationError(f"{url} names no jwks_uri")
            found[trusted.issuer] = uri
        return found[trusted.issuer]

    def _document(self, url: str, what: str) -> Mapping[str, Any]:
        """The JSON object at ``url``; a caller's ``fetch`` answering anything else is the
        configuration's fault (500), not an exception the gateway logs as its own bug."""
        if self.fetch is None:
            return fetch_json(url, what)
        document = self.fetch(url)
        if not isinstance(document, Mapping):
            raise ConfigurationError(f"the {what} fetched from {url} is not a JSON object")
        return document


def fetch_json(url: str, what: str = "document") -> dict[str, Any]:
    """GET a JSON object through the outbound guard (loopback only); one error line if not."""
    destination = outbound.judge(url, outbound.LOOPBACK)
    reply = outbound.fetch(destination, timeout=5.0, max_bytes=_MAX_DOCUMENT)
    if reply.truncated:  # a 200 cut short is not "answered 200": say what was wrong
        raise ConfigurationError(f"the {what} at {url} is larger than {_MAX_DOCUMENT // 1024} KiB")
    if reply.status != 200:
        raise ConfigurationError(f"{url} answered {reply.status} for the {what}")
    document = tokens.load_json(reply.body, what, error=ConfigurationError)
    if not isinstance(document, dict):
        raise ConfigurationError(f"the {what} at {url} is not a JSON object")
    return document
