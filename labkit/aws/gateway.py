"""A local Amazon API Gateway: routes, a Lambda authorizer or JWT authorizer, its cache.

``Gateway`` is a WSGI application (served by werkzeug in ``labkit.aws.server``)
that does what API Gateway does in front of Lambda functions, with the same
status codes and bodies. Each body below is sent byte for byte (compact JSON);
the source of each is given after the table.

================================================  ====  ======================================
what happened                                     code  body
================================================  ====  ======================================
identity source missing or empty [1]              401   ``{"message":"Unauthorized"}``
authorizer raised ``Exception("Unauthorized")``   401   ``{"message":"Unauthorized"}`` [2]
REST policy: an explicit Deny matches             403   ``{"Message":"User is not authorized
                                                        to access this resource with an
                                                        explicit deny in an identity-based
                                                        policy"}`` [3]
REST policy: no Allow matches                     403   ``{"Message":"User is not authorized
                                                        to access this resource"}`` [3]
HTTP API: ``isAuthorized`` false, or a Deny       403   ``{"message":"Forbidden"}`` [4]
REST authorizer failed or answered badly          500   ``{"message":null}`` [5]
HTTP API authorizer failed or answered badly      500   ``{"message":"Internal Server
                                                        Error"}`` [6]
REST backend raised or answered malformed         502   ``{"message":"Internal server
                                                        error"}`` [7]
HTTP API backend raised or answered malformed     500   ``{"message":"Internal Server
                                                        Error"}`` [8]
no such route (REST API)                          403   ``{"message":"Missing Authentication
                                                        Token"}`` [9]
no such route (HTTP API)                          404   ``{"message":"Not Found"}`` [10]
request line and headers over 10 KB               431   ``{"message":"Request Header Fields
                                                        Too Large"}`` [11]
body over 10 MB                                   413   ``{"message":"Request Entity Too
                                                        Large"}`` [11]
the gateway itself failed (a bug)                 500   ``{"message":"Internal server
                                                        error"}`` (the kit's own wording)
================================================  ====  ======================================

[1] TOKEN authorizers and HTTP APIs always check the identity sources; a REST
    REQUEST authorizer checks them only while caching is on (TTL > 0), and with
    TTL 0 calls the authorizer whatever is missing. See ``_identity_required``.
[2] The blueprint's documented way to send a 401 (``raise Exception('Unauthorized')``, in
    blueprints/python/api-gateway-authorizer-python.py of
    https://github.com/awslabs/aws-apigateway-lambda-authorizer-blueprints); the status:
    UNAUTHORIZED (401) in
    https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html,
    the body as reported from real APIs in [5]'s pull request.
[3] ACCESS_DENIED (403, ``x-amzn-ErrorType: AccessDeniedException``) in the gateway response
    types page above. The explicit-deny wording is what real REST APIs send since at least 2024,
    ending like IAM's own denials ("... with an explicit deny in an identity-based policy"),
    as public API clients match it; AWS's Knowledge Center article still prints the older,
    shorter text (https://aws.amazon.com/premiumsupport/knowledge-center/api-gateway-403-error-lambda-authorizer/).
    Implicit deny: unchanged, as in that article.
[4] Not printed in AWS's guide, and not found in the public reports searched: the kit's
    wording, kept from earlier versions, for a Deny from an IAM-policy answer too.
[5] AUTHORIZER_CONFIGURATION_ERROR (500, ``x-amzn-ErrorType:
    AuthorizerConfigurationException``) with a null message, as reported from real APIs:
    https://github.com/auth0-samples/jwt-rsa-aws-custom-authorizer/pull/6 .
[6] Status: "If API Gateway can't invoke your Lambda authorizer, or your Lambda authorizer
    returns a response in an invalid format, clients receive a 500 Internal Server Error"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html);
    body: the HTTP API's internal-error body of [8] (the authorizer page prints none).
[7] https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html (502; the page
    prints the body with a space after the colon, the kit sends it compact like the others).
[8] https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html
    (the body); the status 500, not 502, as HTTP API users report for a thrown error or a
    timeout: https://github.com/awslabs/aws-lambda-cpp/issues/117 ,
    https://github.com/denoland/deno_registry2/issues/87 . A payload 2.0 answer without
    ``statusCode`` is not malformed: it is a 200 whose JSON body is the answer
    (``_inferred_response``).
[9] MISSING_AUTHENTICATION_TOKEN (403) and its body ``{ "message": "Missing Authentication
    Token" }``: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
[10] Not printed in AWS's guide: the kit's wording for an HTTP API without a matching route.
[11] The limits are API Gateway's (10 MB payload, 10 KB of request line and headers); the status
    texts as bodies are the kit's own wording, not documented.

Three kinds of API:

- ``"rest"``: a REST API with a ``TOKEN`` or ``REQUEST`` Lambda authorizer that
  returns an IAM policy, evaluated against the request's method ARN; its
  ``context`` holds scalars only and reaches the backend stringified;
- ``"http"``: an HTTP API with a payload 2.0 Lambda authorizer, simple
  responses (``isAuthorized``) or IAM policies, whose ``context`` may hold any
  JSON (arrays and maps too) and reaches the backend as JSON; integrations use
  payload 2.0 (or ``payload_version="1.0"``);
- ``"jwt"``: an HTTP API's built-in JWT authorizer (``JwtAuthorizer``):
  issuer, audiences, the issuer's JWKS (RSA only, cached up to two hours) and
  per-route scopes, no code of yours, and a ``www-authenticate`` header that
  says what was wrong;
- ``"rest-jwt"``: a REST API's built-in JWT authorizer (``RestJwtAuthorizer``):
  several trusted issuers found by OIDC discovery, audiences per issuer,
  allowed algorithms, required claims, per-method scopes. The gateway is then
  a REST API (``kind`` reads ``"rest"``, ``mode`` reads ``"rest-jwt"``).
  Both JWT authorizers, and the sources of their bodies and headers, live in
  ``labkit.aws.jwt_authorizer``.

The authorizer's answers are cached per identity source values for
``cache_ttl`` seconds (``labkit.aws.cache``), on the gateway's clock. An
identity source is a header, a query string parameter, a stage variable
(``stage_variables``) or a context variable: with ``$context.routeKey`` among
them an HTTP API caches one answer per route, AWS's documented fix for simple
responses that would otherwise allow every route. ``log`` keeps the last
decisions with the authorizer's reason, as CloudWatch would.

Whatever a client sends, the gateway answers it as API Gateway would: a
token the JWT authorizer cannot parse or verify, for any reason, is a 401
with ``error="invalid_token"``, never a 500 (the 500 rows above are for a
broken authorizer, backend or configuration, not for a client's mistake). A
client that stops sending mid-body is dropped quietly by the server.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from labkit.aws.authorizer import LambdaContext
from labkit.aws.cache import DEFAULT_TTL, PolicyCache
from labkit.aws.clock import Clock, system_clock
from labkit.aws.dpop_guard import DpopGuard
from labkit.aws.jwt_authorizer import JwtAuthorizer, RestJwtAuthorizer
from labkit.aws.policy import (
    CheckedResponse,
    Decision,
    MethodArn,
    PolicyError,
    check_json_context,
    check_response,
    stringify_context,
)
from labkit.errors import ConfigurationError, shown

__all__ = [
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "MAX_HEADER_BYTES",
    "Gateway",
    "JwtAuthorizer",
    "LogEntry",
    "Route",
]

Kind = Literal["rest", "http", "jwt", "rest-jwt"]
LambdaHandler = Callable[[dict[str, Any], Any], Any]

UNAUTHORIZED = {"message": "Unauthorized"}
# The 403 bodies real REST APIs send for a Lambda authorizer's Deny (ACCESS_DENIED gateway
# response). The explicit-deny text gained "in an identity-based policy" (seen from real gateways
# since at least 2024, with x-amzn-ErrorType AccessDeniedException; the old text is gone):
# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
EXPLICIT_DENY = {
    "Message": "User is not authorized to access this resource with an explicit deny in an "
    "identity-based policy"
}
IMPLICIT_DENY = {"Message": "User is not authorized to access this resource"}
MISSING_TOKEN = {"message": "Missing Authentication Token"}
FORBIDDEN = {"message": "Forbidden"}

MAX_HEADER_BYTES = 10_240
"""API Gateway's limit on the request line and headers together."""
MAX_BODY_BYTES = 10 * 1024 * 1024
"""API Gateway's payload limit (10 MB)."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """One route: method, path, the Lambda handler behind it, and how it is protected."""

    method: str
    path: str
    handler: LambdaHandler
    authorize: bool = True
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # scopes="predict" would be read as its letters: a token with scope "e" would pass.
        scopes = self.scopes
        if (
            isinstance(scopes, str)
            or not isinstance(scopes, (tuple, list))
            or not all(isinstance(scope, str) and scope for scope in scopes)
        ):
            raise ConfigurationError(
                f"a route's scopes must be a list such as ('predict',), got {shown(scopes)}",
                "a string would be read as its characters",
            )
        object.__setattr__(self, "scopes", tuple(scopes))


@dataclass(frozen=True)
class LogEntry:
    """One authorization decision, as the gateway's execution log would show it."""

    method: str
    path: str
    status: int
    outcome: str
    cache: str  # "hit", "miss" or "-" (not consulted)
    reason: str = ""

    def __str__(self) -> str:
        tail = f": {self.reason}" if self.reason else ""
        return (
            f"{self.method} {self.path} -> {self.status} {self.outcome} (cache {self.cache}){tail}"
        )


class _Request(Request):
    max_content_length = MAX_BODY_BYTES


@dataclass
class _Decided:
    """What an authorizer step hands on: the response to send, or the context for the backend."""

    response: Response | None = None
    authorizer: dict[str, Any] | None = None
    cache: str = "-"


class Gateway:
    """A WSGI app emulating API Gateway in front of Lambda proxy integrations."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        kind: Kind = "rest",
        authorizer: LambdaHandler | None = None,
        authorizer_type: Literal["TOKEN", "REQUEST"] = "TOKEN",
        identity_sources: Sequence[str] = ("Authorization",),
        token_validation: str | None = None,
        cache_ttl: float = DEFAULT_TTL,
        clock: Clock = system_clock,
        jwt: JwtAuthorizer | RestJwtAuthorizer | None = None,
        api_id: str = "labkit0001",
        stage: str | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        stage_variables: Mapping[str, str] | None = None,
        payload_version: Literal["1.0", "2.0"] = "2.0",
    ) -> None:
        if kind not in ("rest", "http", "jwt", "rest-jwt"):
            raise ConfigurationError(
                f"kind must be 'rest', 'http', 'jwt' or 'rest-jwt', got {kind!r}"
            )
        wanted = {"jwt": JwtAuthorizer, "rest-jwt": RestJwtAuthorizer}.get(kind)
        if wanted is not None and not isinstance(jwt, wanted):
            raise ConfigurationError(f"a {kind!r} gateway needs a {wanted.__name__}")
        if wanted is None and authorizer is None:
            raise ConfigurationError(f"a {kind!r} gateway needs a Lambda authorizer")
        self.mode = kind  # "rest-jwt" is a REST API (kind "rest") whose authorizer is AWS's JWT one
        kind = "rest" if kind == "rest-jwt" else kind
        if authorizer_type not in ("TOKEN", "REQUEST"):
            raise ConfigurationError(
                f"authorizer_type must be TOKEN or REQUEST, not {authorizer_type!r}"
            )
        if payload_version not in ("1.0", "2.0"):
            raise ConfigurationError(
                f"payload_version must be '1.0' or '2.0', not {payload_version!r}"
            )
        self.kind = kind
        self.authorizer = authorizer
        self.authorizer_type = authorizer_type if kind == "rest" else "REQUEST"
        self.payload_version = "1.0" if kind == "rest" else payload_version
        self.stage_variables = _stage_variables(stage_variables)
        if isinstance(identity_sources, str) or not isinstance(identity_sources, Sequence):
            raise ConfigurationError(
                f"identity_sources must be a list of strings, got {identity_sources!r}"
            )
        self.identity_sources = tuple(_identity_source(s, kind) for s in identity_sources)
        if self.authorizer_type == "TOKEN" and (
            len(self.identity_sources) != 1 or self.identity_sources[0][0] != "header"
        ):
            raise ConfigurationError(
                "a TOKEN authorizer takes exactly one header as identity source"
            )
        self.token_validation = re.compile(token_validation) if token_validation else None
        self.jwt = jwt if wanted is not None else None
        self.clock = clock
        self.cache: PolicyCache[Any] = PolicyCache(cache_ttl, clock=clock)
        if kind != "jwt" and self.cache.enabled and not self.identity_sources:
            raise ConfigurationError(  # REST API_Authorizer.identitySource; HTTP "Caching ..."
                "authorizer caching needs at least one identity source (the cache key)",
                "name one (e.g. $request.header.Authorization), or set cache_ttl=0",
            )
        self.api_id, self.region, self.account = api_id, region, account
        self.stage = stage or ("dev" if kind == "rest" else "$default")
        self.routes = tuple(routes)
        self._map = Map(
            [Rule(r.path, methods=[r.method], endpoint=r) for r in self.routes],
            strict_slashes=False,
            merge_slashes=False,
        )
        self.log: deque[LogEntry] = deque(maxlen=500)
        self.authorizer_calls = 0
        self._calls_lock = threading.Lock()

    # WSGI ----------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = _Request(environ)
        try:
            response = self._dispatch(request)
        except (TimeoutError, ConnectionError):  # the client stalled or left: the server drops it
            raise
        except HTTPException as exc:  # body too large, and friends: still JSON
            response = _json(exc.code or 400, {"message": exc.name})
        except Exception:  # the gateway itself must never show a traceback
            log.exception("gateway failure on %s %s", request.method, request.path)
            response = _json(500, {"message": "Internal server error"})
        response.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        return response(environ, start_response)

    def method_arn(self, method: str, path: str) -> str:
        """The ARN API Gateway would put in ``methodArn`` / ``routeArn`` for this request."""
        arn = MethodArn(self.region, self.account, self.api_id, self.stage, method, "")
        return arn.pattern(method, path)

    # The request's journey -----------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        size = len(request.full_path) + sum(len(k) + len(v) + 4 for k, v in request.headers.items())
        if size > MAX_HEADER_BYTES:
            return _json(431, {"message": "Request Header Fields Too Large"})
        try:
            route, _ = self._map.bind_to_environ(request.environ).match()
        except (NotFound, MethodNotAllowed):
            if self.kind == "rest":
                return _json(403, MISSING_TOKEN, error_type="MissingAuthenticationTokenException")
            return _json(404, {"message": "Not Found"})
        assert isinstance(route, Route)
        decided = self._authorize(request, route) if route.authorize else _Decided()
        if decided.response is not None:
            decided.response.headers["x-labkit-authorizer-cache"] = decided.cache
            return decided.response
        denied = self._dpop_step(request) if route.authorize else None  # RFC 9449, see below
        if denied is not None:
            denied.headers["x-labkit-authorizer-cache"] = decided.cache
            return denied
        event = self._proxy_event(request, route, decided.authorizer)
        response = self._invoke_backend(route, event)
        if route.authorize:
            response.headers["x-labkit-authorizer-cache"] = decided.cache
            self._dpop_nonce(request, response)
        return response

    # DPoP (RFC 9449): labkit.aws.dpop_guard, after the authorizer and outside its cache ---------

    dpop: DpopGuard | None = None
    """The DPoP step, when set (``labkit.aws.server`` sets the preset's): see ``dpop_guard``."""

    def _dpop_step(self, request: Request) -> Response | None:
        """A bound token needs a valid proof from its key; None lets the request through.

        Refusals are the usual 401 body plus RFC 9449 section 7.1's ``WWW-Authenticate: DPoP``
        (and ``DPoP-Nonce`` for ``use_dpop_nonce``, section 9); a full replay cache is a 429.
        """
        if self.dpop is None:
            return None
        authorization = request.headers.getlist("Authorization")
        denial = self.dpop.check(
            request.method,
            request.base_url,
            authorization[0] if authorization else None,
            request.headers.getlist("DPoP"),
            self._dpop_elsewhere(request, authorization[1:]),
        )
        if denial is None:
            return None
        self._record(request, denial.status, "DPoP refused", "-", denial.reason)
        body = UNAUTHORIZED if denial.status == 401 else {"message": "Too Many Requests"}
        error_type = (
            "UnauthorizedException" if self.kind == "rest" and denial.status == 401 else None
        )
        response = _json(denial.status, body, error_type=error_type)
        for name, value in denial.headers:
            response.headers[name] = value
        response.headers["Cache-Control"] = "no-store"
        return response

    def _dpop_elsewhere(self, request: Request, more: list[str]) -> list[str]:
        """Every value besides the first ``Authorization`` an authorizer could take a token from.

        The identity sources (headers, query string), further ``Authorization`` values and
        every cookie (``labkit.aws.cookies`` reads the token from one): the DPoP step must see
        a bound token wherever it travels, not only where it expects it.
        """
        values = list(more)
        for where, name in self.identity_sources:
            if where == "header" and name.lower() != "authorization":
                values += request.headers.getlist(name)
            elif where == "querystring":
                values += request.args.getlist(name)
        for jar in request.headers.getlist("Cookie"):
            values += [pair.partition("=")[2].strip().strip('"') for pair in jar.split(";")]
        return values

    def _dpop_nonce(self, request: Request, response: Response) -> None:
        """The next nonce on every DPoP answer (RFC 9449 section 8.2: saves the client a retry)."""
        nonce = self.dpop.fresh_nonce() if self.dpop is not None else None
        if nonce is not None and request.headers.get("DPoP"):
            response.headers["DPoP-Nonce"] = nonce
            response.headers["Cache-Control"] = "no-store"

    def _authorize(self, request: Request, route: Route) -> _Decided:
        if self.jwt is not None:  # an HTTP API ("jwt") or REST API ("rest-jwt") JWT authorizer
            return self._authorize_jwt(request, route)
        identity, key = self._identity(request, route)
        if identity is None and self._identity_required:
            return self._deny(request, 401, UNAUTHORIZED, "missing identity source", "-")
        validation = self.token_validation if self.authorizer_type == "TOKEN" else None
        if validation is not None and identity and not validation.fullmatch(identity[0]):
            return self._deny(request, 401, UNAUTHORIZED, "token validation regex", "-")
        arn = self.method_arn(request.method, request.path)
        answer = self.cache.get(key) if key is not None else None
        cache = "hit" if answer is not None else "miss"
        if answer is None:
            outcome = self._call_authorizer(request, route, arn, identity or ())
            if isinstance(outcome, _Decided):
                return outcome
            answer = outcome
            if key is not None:
                self.cache.put(key, answer)
        return self._apply(request, arn, answer, cache)

    @property
    def _identity_required(self) -> bool:
        """Must every identity source be present (else 401, no call)?

        Always for TOKEN authorizers and HTTP APIs; for a REST REQUEST
        authorizer only while caching is on: "When caching is disabled ... API
        Gateway does not perform any validation before invoking the
        authorizer's Lambda function" (REST console guide, source
        https://github.com/awsdocs/amazon-api-gateway-developer-guide/blob/main/doc_source/configure-api-gateway-lambda-authorization-with-console.md;
        identitySource "is required when authorization caching is enabled",
        https://docs.aws.amazon.com/apigateway/latest/api/API_Authorizer.html). HTTP APIs: "If
        the client's request doesn't include the identity sources, API Gateway
        doesn't invoke your Lambda authorizer, and the client receives a 401",
        with no exception for TTL 0:
        https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
        """
        return self.authorizer_type == "TOKEN" or self.kind != "rest" or self.cache.enabled

    def _call_authorizer(
        self, request: Request, route: Route, arn: str, identity: tuple[str, ...]
    ) -> CheckedResponse | dict[str, Any] | _Decided:
        """Invoke the Lambda authorizer; its checked answer, or the error response."""
        event = self._authorizer_event(request, route, arn, identity)
        with self._calls_lock:
            self.authorizer_calls += 1
        assert self.authorizer is not None
        try:
            raw = self.authorizer(event, LambdaContext())
        except Exception as exc:
            if str(exc) == "Unauthorized":
                reason = str(exc.__cause__) if exc.__cause__ else ""
                return self._deny(request, 401, UNAUTHORIZED, "Unauthorized", "miss", reason)
            return self._failed(request, f"the authorizer raised {type(exc).__name__}: {exc}")
        try:  # HTTP API payload 2.0: any JSON in context; REST: scalars only (labkit.aws.policy)
            if self.kind == "http" and isinstance(raw, Mapping) and "isAuthorized" in raw:
                if not isinstance(raw["isAuthorized"], bool):
                    raise PolicyError(
                        f"isAuthorized must be true or false, got {raw['isAuthorized']!r}"
                    )
                return {
                    "isAuthorized": raw["isAuthorized"],
                    "context": check_json_context(raw.get("context")),
                }
            return check_response(raw, json_context=self.kind == "http")
        except PolicyError as exc:
            return self._failed(request, f"the authorizer's answer is invalid: {exc}")

    def _apply(self, request: Request, arn: str, answer: Any, cache: str) -> _Decided:
        """Decide with the (possibly cached) answer for THIS request's ARN."""
        if isinstance(answer, dict):  # an HTTP API simple response: one verdict for every route
            if not answer["isAuthorized"]:
                return self._deny(request, 403, FORBIDDEN, "isAuthorized false", cache)
            self._record(request, 200, "authorized", cache)
            return _Decided(authorizer={"lambda": answer["context"]}, cache=cache)
        conditions = {"aws:SourceIp": request.remote_addr or "", "aws:EpochTime": int(self.clock())}
        decision = answer.policy.evaluate(arn, conditions)
        if self.kind == "http" and decision is not Decision.ALLOW:
            return self._deny(request, 403, FORBIDDEN, decision.value, cache)
        if decision is Decision.EXPLICIT_DENY:
            return self._deny(
                request, 403, EXPLICIT_DENY, "explicit deny", cache, error="AccessDenied"
            )
        if decision is Decision.IMPLICIT_DENY:
            return self._deny(
                request, 403, IMPLICIT_DENY, "implicit deny", cache, error="AccessDenied"
            )
        self._record(request, 200, "allow", cache)
        if self.kind == "http":  # payload 2.0: the context's JSON types, arrays and maps too
            context = {"principalId": answer.principal_id, **answer.context}
            return _Decided(authorizer={"lambda": context}, cache=cache)
        # REST: every context value reaches the backend as a string (null stays null)
        return _Decided(
            authorizer={"principalId": answer.principal_id, **stringify_context(answer.context)},
            cache=cache,
        )

    def _authorize_jwt(self, request: Request, route: Route) -> _Decided:
        """AWS's built-in JWT authorizers (``labkit.aws.jwt_authorizer``): no Lambda, no policy."""
        assert self.jwt is not None
        verdict = self.jwt.check(request.headers.get(self.jwt.header), route.scopes, self.clock)
        self._record(request, verdict.status, verdict.outcome, "-", verdict.reason)
        if verdict.status == 200:
            return _Decided(authorizer=verdict.context)
        response = _json(verdict.status, verdict.body, error_type=verdict.error_type)
        for name, value in verdict.headers:
            response.headers[name] = value
        return _Decided(response=response)

    # Responses and the log -----------------------------------------------------------------------

    def _deny(
        self,
        request: Request,
        status: int,
        body: dict[str, Any],
        outcome: str,
        cache: str,
        reason: str = "",
        *,
        error: str = "Unauthorized",
    ) -> _Decided:
        self._record(request, status, outcome, cache, reason)
        error_type = f"{error}Exception" if self.kind == "rest" else None
        return _Decided(response=_json(status, body, error_type=error_type), cache=cache)

    def _failed(self, request: Request, reason: str) -> _Decided:
        self._record(request, 500, "authorizer error", "miss", reason)
        if self.kind == "rest":
            body: dict[str, Any] = {"message": None}
            response = _json(500, body, error_type="AuthorizerConfigurationException")
        else:
            response = _json(500, {"message": "Internal Server Error"})
        return _Decided(response=response, cache="miss")

    def _record(
        self, request: Request, status: int, outcome: str, cache: str, reason: str = ""
    ) -> None:
        self.log.append(LogEntry(request.method, request.path, status, outcome, cache, reason))

    # Events --------------------------------------------------------------------------------------

    def _identity(
        self, request: Request, route: Route
    ) -> tuple[tuple[str, ...] | None, tuple[tuple[str, ...], ...] | None]:
        """The identity source values and the cache key, or ``(None, None)`` if any is missing.

        A value is the source's first (the one checked for presence and shown as
        ``identitySource`` / ``authorizationToken``). The cache key holds EVERY value of
        each source, in order: the event shows the authorizer all of them
        (``multiValueQueryStringParameters``, 2.0's comma-joined ``queryStringParameters``),
        so a key made of the first alone let ``?tenant=acme&tenant=mine`` cache an answer
        about ``mine`` under ``acme`` for the next request (kit's red-team finding). Two
        requests now share a cached answer only if the authorizer would have been shown the
        same identity data.
        """
        context: dict[str, str] | None = None
        values, key = [], []
        for where, name in self.identity_sources:
            if where == "header":
                every = request.headers.getlist(name)
            elif where == "querystring":
                every = request.args.getlist(name)
            elif where == "stageVariables":
                every = [self.stage_variables[name]] if name in self.stage_variables else []
            else:
                context = context if context is not None else self._context(request, route)
                every = [context[name]] if name in context else []
            if not every or not every[0].strip():
                return None, None
            values.append(every[0])
            key.append(tuple(every))
        return tuple(values), tuple(key)

    def _context(self, request: Request, route: Route) -> dict[str, str]:
        """The ``$context`` variables an identity source can name, for this request."""
        values = {
            "accountId": self.account,
            "apiId": self.api_id,
            "domainName": request.host,
            "httpMethod": request.method,
            "identity.sourceIp": request.remote_addr or "",
            "identity.userAgent": request.headers.get("User-Agent", ""),
            "path": request.path if self.kind != "rest" else f"/{self.stage}{request.path}",
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": self.stage,
        }
        if self.kind == "rest":
            values["resourcePath"] = route.path
        else:
            values["routeKey"] = _route_key(route)
        return values

    def _authorizer_event(
        self, request: Request, route: Route, arn: str, identity: tuple[str, ...]
    ) -> dict[str, Any]:
        if self.kind == "http":  # the documented 2.0 authorizer event: no body, no isBase64Encoded
            event = self._v2_event(request, route)
            return {
                "version": "2.0",
                "type": "REQUEST",
                "routeArn": arn,
                "identitySource": list(identity),
                **{k: v for k, v in event.items() if k != "version"},
            }
        if self.authorizer_type == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": arn}
        event = self._v1_event(request, route)
        event.update(type="REQUEST", methodArn=arn)
        return event

    def _proxy_event(
        self, request: Request, route: Route, authorizer: dict[str, Any] | None
    ) -> dict[str, Any]:
        if self.payload_version == "2.0":
            event = self._v2_event(request, route)
        else:
            event = self._v1_event(request, route)
            if self.kind != "rest":
                event = {"version": "1.0", **event}
        body, encoded = _body(request)
        event.update(body=body, isBase64Encoded=encoded)
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        return event

    def _v1_event(self, request: Request, route: Route) -> dict[str, Any]:
        """The request as payload 1.0 sees it (without body: authorizers get none)."""
        headers = dict(request.headers.items())
        query = request.args
        now = self.clock()
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": {k: request.headers.getlist(k) for k in headers},
            "queryStringParameters": query.to_dict() or None,
            "multiValueQueryStringParameters": {k: query.getlist(k) for k in query} or None,
            "pathParameters": None,
            "stageVariables": dict(self.stage_variables) or None,
            "requestContext": {
                "accountId": self.account,
                "apiId": self.api_id,
                "stage": self.stage,
                "resourcePath": route.path,
                "httpMethod": request.method,
                "path": f"/{self.stage}{request.path}",
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(now * 1000),
                "identity": {
                    "sourceIp": request.remote_addr,
                    "userAgent": request.headers.get("User-Agent"),
                },
            },
        }

    def _v2_event(self, request: Request, route: Route) -> dict[str, Any]:
        """The request as payload 2.0 sees it (without body: authorizers get none).

        Duplicate headers are combined with commas, as the 2.0 format does:
        https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
        """
        now = self.clock()
        route_key = _route_key(route)
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        return {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": request.path,
            "rawQueryString": request.query_string.decode("latin-1"),
            "cookies": [f"{k}={v}" for k, v in request.cookies.items()] or None,
            "headers": headers,
            "queryStringParameters": {k: ",".join(request.args.getlist(k)) for k in request.args}
            or None,
            "pathParameters": None,
            "stageVariables": dict(self.stage_variables) or None,
            "requestContext": {
                "accountId": self.account,
                "apiId": self.api_id,
                "domainName": request.host,
                "domainPrefix": request.host.split(".", 1)[0],
                "http": {
                    "method": request.method,
                    "path": request.path,
                    "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                    "sourceIp": request.remote_addr,
                    "userAgent": request.headers.get("User-Agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": route_key,
                "stage": self.stage,
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
        }

    def _invoke_backend(self, route: Route, event: dict[str, Any]) -> Response:
        """Call the Lambda proxy integration and turn its answer into the HTTP response.

        A function that raises, or answers in a shape API Gateway cannot read:
        REST APIs send 502 ``{"message":"Internal server error"}`` ("If the
        function runs but returns an error, or returns a response in the wrong
        format, API Gateway returns a 502",
        https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html);
        HTTP APIs send 500 ``{"message":"Internal Server Error"}``
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html),
        with either payload version. Payload 2.0 also reads an answer without
        ``statusCode`` as a 200 JSON body
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
        """
        if self.kind == "rest":
            failure = (502, {"message": "Internal server error"})
        else:
            failure = (500, {"message": "Internal Server Error"})
        try:
            result = route.handler(event, LambdaContext(function_name="labkit-backend"))
        except Exception:
            log.exception("backend failure on %s %s", route.method, route.path)
            return _json(*failure)
        try:
            if self.payload_version == "2.0" and not (
                isinstance(result, Mapping) and "statusCode" in result
            ):
                return _inferred_response(result)
            response = _proxy_response(
                result, cookies=self.payload_version == "2.0", strict=self.kind == "rest"
            )
        except PolicyError as exc:  # the function's answer, not the client, is at fault
            log.warning("malformed Lambda proxy response on %s: %s", route.path, exc)
            return _json(*failure)
        if self.kind == "rest" and "Content-Type" not in response.headers:
            # REST's default, as checked against AWS by LocalStack's tests:
            # https://github.com/localstack/localstack/pull/6170
            response.headers["Content-Type"] = "application/json"
        return response


_COMMON_CONTEXT = (
    "accountId",
    "apiId",
    "domainName",
    "httpMethod",
    "identity.sourceIp",
    "identity.userAgent",
    "path",
    "protocol",
    "stage",
)
_CONTEXT_NAMES = {
    "rest": frozenset((*_COMMON_CONTEXT, "resourcePath")),
    "http": frozenset((*_COMMON_CONTEXT, "routeKey")),
}
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def _identity_source(source: object, kind: str = "rest") -> tuple[str, str]:
    """One identity source, as ``(where, name)``.

    REST: ``method.request.header.X``, ``method.request.querystring.X``,
    ``stageVariables.X``, ``context.X``; HTTP API: the same with ``$request.``,
    ``$stageVariables.``, ``$context.``
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
    "Identity sources"). A bare ``X`` is a header.
    """
    if not isinstance(source, str) or not source.strip():
        raise ConfigurationError(
            f"an identity source must be a non-empty string, got {shown(source)}"
        )
    text = source.strip()
    for prefix in ("method.request.", "$request."):
        if text.startswith(prefix):
            where, _, name = text[len(prefix) :].partition(".")
            if where in ("header", "querystring") and _NAME.fullmatch(name):
                return where, name
            raise ConfigurationError(
                f"cannot read identity source {shown(source)}",
                "use $request.header.NAME or $request.querystring.NAME",
            )
    for prefix, where in (
        ("$stageVariables.", "stageVariables"),
        ("stageVariables.", "stageVariables"),
        ("$context.", "context"),
        ("context.", "context"),
    ):
        if text.startswith(prefix):
            name = text[len(prefix) :]
            if where == "stageVariables" and _NAME.fullmatch(name):
                return where, name
            names = _CONTEXT_NAMES["rest" if kind == "rest" else "http"]
            if where == "context" and name in names:
                return where, name
            mark = "" if kind == "rest" else "$"
            supported = ", ".join(f"{mark}context.{n}" for n in sorted(names))
            raise ConfigurationError(
                f"cannot read identity source {shown(source)}",
                f"stage variables are {mark}stageVariables.NAME; context variables: {supported}",
            )
    if not _NAME.fullmatch(text):
        raise ConfigurationError(
            f"{shown(source)} is not a header name an identity source can read"
        )
    return "header", text


def _stage_variables(values: Mapping[str, str] | None) -> dict[str, str]:
    if values is None:
        return {}
    if not isinstance(values, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in values.items()
    ):
        raise ConfigurationError("stage_variables must map names to strings")
    return dict(values)


def _route_key(route: Route) -> str:
    return f"{route.method} {route.path}"


_REST_FIELDS = frozenset(("statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"))


def _proxy_response(result: object, *, cookies: bool, strict: bool) -> Response:
    """The response a Lambda proxy integration asked for; ``PolicyError`` if it is malformed.

    The format: ``statusCode``, ``headers``, ``multiValueHeaders``, ``body`` (a
    string), ``isBase64Encoded``, and in payload 2.0 ``cookies``:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    A status code may be a numeric string (LocalStack checked it against AWS:
    https://github.com/localstack/localstack/pull/11199); a body that is not a
    string is malformed (https://github.com/vincentsarago/lambda-proxy/issues/59),
    and so is, on REST APIs (``strict``), a field the format does not name
    (``statusDescription``: https://github.com/micronaut-projects/micronaut-aws/issues/12).
    """
    if not isinstance(result, Mapping):
        raise PolicyError(f"the answer must be an object, got {type(result).__name__}")
    extra = sorted(str(k) for k in result if k not in _REST_FIELDS)
    if strict and extra:
        raise PolicyError(f"the answer has fields a REST API does not read: {', '.join(extra)}")
    status = _status(result.get("statusCode"))
    body, encoded = result.get("body"), result.get("isBase64Encoded", False)
    if body is not None and not isinstance(body, str):
        raise PolicyError(f"body must be a string, got {type(body).__name__}")
    if not isinstance(encoded, bool):
        raise PolicyError(f"isBase64Encoded must be true or false, got {encoded!r}")
    response = Response(status=status)
    response.headers.remove("Content-Type")
    for name, value in _mapping(result.get("headers"), "headers").items():
        response.headers[name] = _header_value(value)
    for name, values in _mapping(result.get("multiValueHeaders"), "multiValueHeaders").items():
        if not isinstance(values, list):
            raise PolicyError(f"multiValueHeaders {name!r} must be a list")
        for value in values:
            response.headers.add(name, _header_value(value))
    if cookies:
        jar = result.get("cookies") or []
        if not isinstance(jar, list) or not all(isinstance(c, str) for c in jar):
            raise PolicyError("cookies must be a list of strings")
        for cookie in jar:
            response.headers.add("Set-Cookie", _header_value(cookie))
    if encoded:
        try:
            response.set_data(base64.b64decode(body or "", validate=True))
        except ValueError:
            raise PolicyError("isBase64Encoded is true but body is not base64") from None
    else:
        response.set_data((body or "").encode("utf-8", "surrogatepass"))
    return response


def _status(value: object) -> int:
    """``statusCode``: a number (or numeric string) from 100 to 599."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise PolicyError(f"statusCode must be an HTTP status number, got {value!r}")
    return value


def _inferred_response(result: object) -> Response:
    """Payload 2.0 without ``statusCode``: a 200 whose JSON body is the function's answer."""
    try:
        text = result if isinstance(result, str) else json.dumps(result, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:  # Lambda could not serialize it either
        raise PolicyError(f"the answer is not JSON: {exc}") from None
    return Response(text, status=200, content_type="application/json")


_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP field name: an RFC 9110 section 5.6.2 ``token``."""
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
"""An HTTP field value: RFC 9110 section 5.5's field-vchar, obs-text, SP and HTAB (no CTLs)."""


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    """Header names to values; a name that is not an HTTP token is malformed.

    A name with CR/LF, ``:``, a space or a NUL was written to the wire as it
    was: a function echoing client input into a header name split the response
    (kit's red-team finding).
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise PolicyError(f"{what} must map header names to values")
    for name in value:
        if not _FIELD_NAME.fullmatch(name):
            raise PolicyError(f"{what} has a name that is not an HTTP field name: {shown(name)}")
    return value


def _header_value(value: object) -> str:
    """One header value as sent: visible characters, spaces, tabs and Latin-1 text only.

    Control characters (CR, LF, NUL, DEL, ...) are malformed, and so is text
    beyond Latin-1, which HTTP/1.1 cannot carry (the server dropped the
    connection with a traceback on ``€``; kit's red-team finding).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, (str, int, float)):
        raise PolicyError(f"a header value must be a string or number, got {type(value).__name__}")
    text = str(value)
    if not _FIELD_VALUE.fullmatch(text):
        raise PolicyError(
            f"a header value must be one line of Latin-1 text without control characters, "
            f"got {shown(text)}"
        )
    return text


def _body(request: Request) -> tuple[str | None, bool]:
    data = request.get_data(cache=True)
    if not data:
        return None, False
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), True


def _json(status: int, body: Any, *, error_type: str | None = None) -> Response:
    response = Response(
        json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json"
    )
    if error_type:
        response.headers["x-amzn-ErrorType"] = error_type
    return response
