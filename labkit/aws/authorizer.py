"""The Lambda authorizer: validate the caller's JWT, answer with an IAM policy.

``handler(event, context)`` is the function to deploy (``deploy/aws/template.yaml``
does): it reads its configuration from environment variables, like any
Lambda, and serves the three event shapes API Gateway sends:

- REST API ``TOKEN`` events (``authorizationToken``, ``methodArn``);
- REST API ``REQUEST`` events (all headers, query string, ``methodArn``);
- HTTP API payload 2.0 events (``routeArn``, ``identitySource``), answered
  with a simple response ``{"isAuthorized": ..., "context": {...}}``.

An invalid token raises ``Exception("Unauthorized")``: that exact message is
how a REST API authorizer asks API Gateway for a 401. A valid token gets a
policy from its claims (``policy_for``): every user may read ``/api/profile``,
the ``predict`` scope opens ``POST /api/predict``, and ``/api/admin`` is
allowed to role ``admin`` and explicitly denied to everyone else.

``Authorizer`` is the same logic as an object, for the local gateway: it can
take its keys from the identity provider in-process, check a revocation
list, run on a frozen clock, and swap in one of ``labkit.vulnerable``'s
verifiers for the attack presets.

Environment variables (exactly one of ``JWT_SECRET`` and ``JWKS_URL``):

==================  =========================================================
``JWT_ISSUER``      the one issuer to trust (``iss``, exact match); required
``JWT_AUDIENCE``    this API's audience (``aud``); required
``JWT_ALGORITHMS``  comma-separated allowed algorithms; default ``RS256``
``JWKS_URL``        where the issuer publishes its keys (https, or loopback http)
``JWT_SECRET``      an HMAC secret (HS256/384/512 only; 32+ bytes)
``JWT_LEEWAY``      seconds of clock skew to allow; default 0
``REQUIRED_CLAIMS`` comma-separated claims every token must carry, IN ADDITION
                    to ``exp`` (say ``sub,scope``); naming claims never drops
                    ``exp``
``REQUIRE_EXP``     ``true`` (default) or ``false``: the one, explicit way to
                    accept tokens without ``exp`` (tokens that never expire;
                    RFC 8725 section 3.10 asks for expiry on every token)
==================  =========================================================
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit import tokens
from labkit.algorithms import ALGORITHMS
from labkit.aws.clock import Clock, system_clock
from labkit.aws.policy import AuthPolicy, Decision, Policy
from labkit.errors import ConfigurationError, InvalidTokenError, KeyNotFoundError, LabkitError
from labkit.verify import verify

if TYPE_CHECKING:
    from labkit import outbound

__all__ = [
    "Authorizer",
    "AuthorizerConfig",
    "JwksClient",
    "LambdaContext",
    "bearer_token",
    "handler",
    "policy_for",
    "scopes_of",
]

log = logging.getLogger(__name__)

Verifier = Callable[..., dict[str, Any]]
"""``labkit.verify`` or a function with its signature (the zoo in ``labkit.vulnerable``)."""
PolicyMaker = Callable[[dict[str, Any], str], dict[str, Any]]
"""Claims and the method ARN in, an authorizer response (principalId, policy, context) out."""

_JWKS_MAX_BYTES = 64 * 1024
_JWKS_TTL = 300.0
_JWKS_MIN_REFRESH = 30.0  # an unknown kid triggers at most one re-fetch per 30 s


@dataclass(frozen=True)
class LambdaContext:
    """The parts of the Lambda runtime's context object an authorizer may read."""

    function_name: str = "labkit-authorizer"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:labkit-authorizer"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


@dataclass(frozen=True)
class AuthorizerConfig:
    """What the authorizer trusts: one issuer, one audience, fixed algorithms, and its keys."""

    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ("RS256",)
    jwks_url: str | None = None
    secret: str | None = None
    leeway: float = 0.0
    required: tuple[str, ...] = ()
    """Claims required in addition to ``exp`` (``REQUIRED_CLAIMS``)."""
    require_exp: bool = True
    """False only by explicit opt-out (``REQUIRE_EXP=false``): then ``exp`` may be missing."""

    def __post_init__(self) -> None:
        for name in ("issuer", "audience"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigurationError(f"the authorizer needs {name} (JWT_{name.upper()})")
        if not self.algorithms or any(alg not in ALGORITHMS for alg in self.algorithms):
            raise ConfigurationError(
                f"JWT_ALGORITHMS must list known algorithms, got {','.join(self.algorithms)!r}",
                f"known: {', '.join(ALGORITHMS)}",
            )
        if self.jwks_url is not None and self.secret is not None:
            raise ConfigurationError("set JWKS_URL or JWT_SECRET, not both")
        if not isinstance(self.required, tuple) or not all(map(_claim_name, self.required)):
            raise ConfigurationError(
                f"REQUIRED_CLAIMS must name claims, got {self.required!r}",
                "comma-separated claim names, say 'sub,scope'",
            )
        if not isinstance(self.require_exp, bool):
            raise ConfigurationError(f"require_exp must be True or False: {self.require_exp!r}")
        if not self.require_exp and "exp" in self.required:
            raise ConfigurationError("REQUIRED_CLAIMS names exp but REQUIRE_EXP is false")

    def verify_options(self) -> dict[str, Any]:
        """The claim options for the verifier: ``exp`` always stays required unless opted out.

        Written for ``labkit.verify``'s contract: ``required`` names claims
        needed in addition to ``exp``; ``require_exp=False`` is passed only for
        the explicit opt-out (so the default call also suits verifiers
        without that parameter).
        """
        options: dict[str, Any] = {}
        extra = tuple(name for name in self.required if name != "exp")
        if extra or not self.require_exp:
            options["required"] = extra
        if not self.require_exp:
            options["require_exp"] = False
        return options

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthorizerConfig:
        """Read ``JWT_ISSUER``, ``JWT_AUDIENCE``, ``JWT_ALGORITHMS``, ``JWKS_URL``, ... ."""
        env = os.environ if environ is None else environ
        if not env.get("JWKS_URL") and not env.get("JWT_SECRET"):
            raise ConfigurationError(
                "the authorizer has no keys: set JWKS_URL (or JWT_SECRET for HMAC)",
                "a Lambda authorizer without keys must fail loudly, never allow",
            )
        leeway = env.get("JWT_LEEWAY", "0")
        try:
            seconds = float(leeway)
        except ValueError:
            raise ConfigurationError(f"JWT_LEEWAY must be seconds, got {leeway!r}") from None
        algorithms = tuple(a.strip() for a in env.get("JWT_ALGORITHMS", "RS256").split(",") if a)
        names = (name.strip() for name in env.get("REQUIRED_CLAIMS", "").split(","))
        required = tuple(dict.fromkeys(name for name in names if name))
        return cls(
            issuer=env.get("JWT_ISSUER", ""),
            audience=env.get("JWT_AUDIENCE", ""),
            algorithms=algorithms,
            jwks_url=env.get("JWKS_URL") or None,
            secret=env.get("JWT_SECRET") or None,
            leeway=seconds,
            required=required,
            require_exp=_flag(env, "REQUIRE_EXP", default=True),
        )


def _claim_name(name: object) -> bool:
    """A plausible claim name for REQUIRED_CLAIMS: no commas, no whitespace, not empty."""
    return isinstance(name, str) and bool(name) and not any(c == "," or c.isspace() for c in name)


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """A boolean environment variable; anything but a clear true/false is refused."""
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ConfigurationError(f"{name} must be true or false, got {env[name]!r}")


class JwksClient:
    """Fetch and cache an issuer's JWKS; fetch again (rate-limited) when a kid is unknown.

    The rate limit (one re-fetch per 30 s) stops a flood of made-up kids from
    turning into a flood of requests to the issuer. It is also why an issuer
    should publish a new key a while before it signs with it.

    The URL must be https, or http to a loopback address (the local gateway):
    keys fetched over plain HTTP from the network could be swapped in transit.
    It is judged and fetched by ``labkit.outbound``, the kit's one
    outbound-URL guard, exactly as ``requests`` sends it (no userinfo,
    backslashes or disguised addresses; no proxies or redirects); an https
    name is resolved once per fetch and the certificate checks it.
    """

    def __init__(self, url: str, *, ttl: float = _JWKS_TTL, clock: Clock = system_clock) -> None:
        self._destination = _checked_url(url)
        self.url = self._destination.url
        self._ttl = ttl
        self._clock = clock
        self._jwks: dict[str, Any] | None = None
        self._fetched_at = -float("inf")
        self._lock = threading.Lock()

    def __call__(self) -> dict[str, Any]:
        with self._lock:
            if self._jwks is None or self._clock() - self._fetched_at >= self._ttl:
                self._fetch()
            assert self._jwks is not None
            return self._jwks

    def refresh(self) -> bool:
        """Fetch now, unless the last fetch was under 30 s ago; True if it fetched."""
        with self._lock:
            if self._clock() - self._fetched_at < _JWKS_MIN_REFRESH:
                return False
            self._fetch()
            return True

    def _fetch(self) -> None:
        from labkit import outbound  # requests loads with the first fetch: see _checked_url

        try:  # through the kit's one outbound-URL guard: no proxies, no redirects, bounded
            reply = outbound.fetch(self._destination, timeout=5, max_bytes=_JWKS_MAX_BYTES)
        except outbound.FetchError as exc:
            raise ConfigurationError(f"cannot fetch the JWKS at {self.url}: {exc.kind}") from None
        if reply.status != 200 or reply.truncated:
            size = f"over {_JWKS_MAX_BYTES}" if reply.truncated else str(len(reply.body))
            raise ConfigurationError(
                f"the JWKS at {self.url} answered HTTP {reply.status}, {size} bytes"
            )
        try:
            jwks = tokens.load_json(reply.body, f"JWKS at {self.url}", error=ConfigurationError)
        except ConfigurationError as exc:
            raise ConfigurationError(f"the JWKS at {self.url} is not usable JSON: {exc}") from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise ConfigurationError(f"the document at {self.url} is not a JWKS")
        self._jwks, self._fetched_at = jwks, self._clock()


def _checked_url(url: object) -> outbound.Destination:
    """``url`` judged by ``labkit.outbound``: https anywhere, http to loopback only.

    Imported here, not at the top: the guard is built on ``requests``, a third of a cold
    start without bytecode (bench/cold_start.py), which an authorizer configured with
    ``JWT_SECRET`` never needs.
    """
    from labkit import outbound

    try:
        return outbound.judge(url, outbound.JWKS)
    except outbound.UnsafeURLError as exc:
        raise ConfigurationError(
            f"JWKS_URL must be https (or http to 127.0.0.1), got {_shown(url)}: {exc.message}",
            "keys fetched over plain HTTP can be replaced by anyone on the path",
        ) from None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


# Tokens and policies -----------------------------------------------------------------------------


_SCHEMES = ("bearer", "dpop")  # RFC 6750 section 2.1; RFC 9449 section 7.1


def bearer_token(value: object) -> str:
    """The token in an ``Authorization: Bearer <token>`` value; ``InvalidTokenError`` if none.

    ``DPoP <token>`` (RFC 9449 section 7.1) gives the token too: the authorizer checks the
    token, and the gateway's DPoP step (``labkit.aws.dpop_guard``) checks its proof.
    """
    if not isinstance(value, str) or not value:
        raise InvalidTokenError("no Authorization header value")
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in _SCHEMES or not token or token != token.strip() or " " in token:
        raise InvalidTokenError(
            "the Authorization header is not 'Bearer <token>'",
            "the scheme is Bearer, then one space, then the compact token",
        )
    return token


def scopes_of(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The token's scopes: ``scope`` (space-separated, RFC 8693) or ``scp`` (a list)."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return tuple(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list) and all(isinstance(item, str) for item in scp):
        return tuple(scp)
    return ()


def policy_for(claims: dict[str, Any], method_arn: str) -> dict[str, Any]:
    """The demo API's policy for these (verified) claims, for the whole API and stage.

    Granting per API rather than per ``methodArn`` keeps a cached policy right
    for every path the same token calls next.
    """
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidTokenError("the token has no 'sub': no principal to authorize")
    role = claims.get("role") if isinstance(claims.get("role"), str) else "none"
    scopes = scopes_of(claims)
    policy = AuthPolicy.for_arn(sub, method_arn).allow("GET", "/api/profile")
    if "predict" in scopes:
        policy.allow("POST", "/api/predict")
    if role == "admin":
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    else:
        policy.deny("*", "/api/admin").deny("*", "/api/admin/*")
    context = {"sub": sub, "role": role, "scope": " ".join(scopes)}
    return policy.build(context=context)


# The authorizer ----------------------------------------------------------------------------------


class Authorizer:
    """A Lambda authorizer as an object: call it with ``(event, context)`` like the real one.

    ``key`` is what the verifier checks signatures with (a JWKS dict, a PEM, a
    secret, a key directory for ``kid_as_path``), or a zero-argument callable
    returning it (so key rotation shows at once). ``is_revoked(jti)`` adds a
    deny-list check. ``verifier`` is ``labkit.verify`` unless a lab swaps it.
    """

    def __init__(
        self,
        config: AuthorizerConfig,
        *,
        key: Any = None,
        verifier: Verifier = verify,
        is_revoked: Callable[[str], bool] | None = None,
        clock: Clock = system_clock,
        policy: PolicyMaker = policy_for,
    ) -> None:
        self.config = config
        self.verifier = verifier
        self.is_revoked = is_revoked
        self.clock = clock
        self.policy = policy
        if key is None:
            key = config.secret if config.secret else JwksClient(_url(config), clock=clock)
        self._key = key

    def __call__(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        if not isinstance(event, Mapping):
            raise ConfigurationError(
                f"an authorizer event is an object, got {type(event).__name__}"
            )
        if event.get("version") == "2.0":
            return self._simple(event)
        kind = event.get("type")
        if kind not in ("TOKEN", "REQUEST"):
            raise ConfigurationError(f"unknown authorizer event type {kind!r}")
        if kind == "TOKEN":
            raw = event.get("authorizationToken")
            return self._decide(event.get("methodArn"), lambda: self.claims(bearer_token(raw)))
        return self._decide(event.get("methodArn"), lambda: self._event_claims(event))

    def _event_claims(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The claims of a REQUEST (1.0) or payload 2.0 event's token, or ``InvalidTokenError``.

        The token is the Authorization header; for 2.0, identitySource[0] only when there is
        none (a token in a query string, say): with $context.routeKey listed first it would be
        the route key. Subclasses that read more of the request (cookies) override this.
        """
        raw = _header(event, "authorization")
        sources = event.get("identitySource")
        if raw is None and event.get("version") == "2.0" and isinstance(sources, list) and sources:
            raw = sources[0]
        return self.claims(bearer_token(raw))

    def _decide(self, arn: object, judge: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The policy for ``arn`` from the claims ``judge`` returns; a refused token is the
        ``Unauthorized`` exception, the one message API Gateway maps to 401."""
        if not isinstance(arn, str):
            raise ConfigurationError("the event has no methodArn")
        try:
            return self.policy(judge(), arn)
        except InvalidTokenError as exc:
            log.info("Unauthorized: %s", exc)
            raise Exception("Unauthorized") from exc

    def claims(self, token: str) -> dict[str, Any]:
        """Check signature, claims and revocation: the claims, or ``InvalidTokenError``."""
        try:
            claims = self._verify(token)
        except KeyNotFoundError:
            refresh = getattr(self._key, "refresh", None)
            if refresh is None or not refresh():
                raise
            claims = self._verify(token)  # the issuer may have rotated its keys since we fetched
        jti = claims.get("jti")
        if self.is_revoked is not None and isinstance(jti, str) and self.is_revoked(jti):
            raise InvalidTokenError("the token was revoked: its jti is on the deny-list (logout)")
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        key = self._key() if callable(self._key) else self._key
        try:
            return self.verifier(
                token,
                key,
                algorithms=list(self.config.algorithms),
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                now=self.clock(),
                **self.config.verify_options(),
            )
        except (InvalidTokenError, ConfigurationError):
            raise
        except LabkitError as exc:  # bad key material in the token's reach: still a bad token
            raise InvalidTokenError(str(exc)) from exc
        except Exception as exc:  # whatever the token trips (deep JSON, a zoo bug): fail closed
            raise InvalidTokenError(f"the verifier failed: {type(exc).__name__}") from exc

    def _simple(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """HTTP API payload 2.0: a simple response, decided here for this route."""
        arn = event.get("routeArn")
        if not isinstance(arn, str):
            raise ConfigurationError("the 2.0 event has no routeArn")
        try:
            response = self.policy(self._event_claims(event), arn)
        except InvalidTokenError as exc:
            log.info("not authorized: %s", exc)
            return {"isAuthorized": False}
        decision = Policy.parse(response["policyDocument"]).evaluate(arn)
        return {"isAuthorized": decision is Decision.ALLOW, "context": response.get("context", {})}


def _url(config: AuthorizerConfig) -> str:
    if config.jwks_url is None:
        raise ConfigurationError("the authorizer has neither JWKS_URL nor JWT_SECRET")
    return config.jwks_url


def _header(event: Mapping[str, Any], name: str) -> object:
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return None
    return next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == name), None)


# The Lambda entry point --------------------------------------------------------------------------

_ENV_NAMES = (
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_ALGORITHMS",
    "JWKS_URL",
    "JWT_SECRET",
    "JWT_LEEWAY",
    "REQUIRED_CLAIMS",
    "REQUIRE_EXP",
)
_from_env: tuple[tuple[str | None, ...], Authorizer] | None = None
_from_env_lock = threading.Lock()


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """The Lambda function: configured from the environment, built once per container.

    Deploy it as ``labkit.aws.authorizer.handler``. A missing setting raises
    ``ConfigurationError``, which API Gateway turns into a 500: an authorizer
    that cannot check tokens must never let them through.
    """
    global _from_env
    settings = tuple(os.environ.get(name) for name in _ENV_NAMES)
    with _from_env_lock:
        if _from_env is None or _from_env[0] != settings:
            _from_env = (settings, Authorizer(AuthorizerConfig.from_env(), clock=time.time))
        authorizer = _from_env[1]
    return authorizer(event, context)
