"""A local Amazon API Gateway: routes, a Lambda authorizer or JWT authorizer, its cache.

``Gateway`` is a WSGI application (served by werkzeug in ``labkit.aws.server``)
that does what API Gateway does in front of Lambda functions, with the same
status codes and bodies:

=====================================  ====  ===============================================
what happened                          code  body
=====================================  ====  ===============================================
identity source missing or empty       401   ``{"message":"Unauthorized"}`` (authorizer not called)
authorizer raised "Unauthorized"       401   ``{"message":"Unauthorized"}``
policy: an explicit Deny matches       403   ``{"Message":"User is not authorized to access
                                             this resource with an explicit deny"}``
policy: no Allow matches               403   ``{"Message":"User is not authorized to access
                                             this resource"}``
authorizer failed or answered badly    500   ``{"message":null}`` (REST), ``{"message":"Internal
                                             Server Error"}`` (HTTP API)
no such route (REST API)               403   ``{"message":"Missing Authentication Token"}``
=====================================  ====  ===============================================

Three kinds of API:

- ``"rest"``: a REST API with a ``TOKEN`` or ``REQUEST`` Lambda authorizer that
  returns an IAM policy, evaluated against the request's method ARN;
- ``"http"``: an HTTP API with a payload 2.0 Lambda authorizer and simple
  responses (``isAuthorized``; 403 ``{"message":"Forbidden"}`` when false);
- ``"jwt"``: an HTTP API's built-in JWT authorizer (``JwtAuthorizer``):
  issuer, audiences, the issuer's JWKS (RSA only, cached up to two hours) and
  per-route scopes, no code of yours, and a ``www-authenticate`` header that
  says what was wrong;
- ``"rest-jwt"``: a REST API's built-in JWT authorizer (``RestJwtAuthorizer``):
  several trusted issuers found by OIDC discovery, audiences per issuer,
  allowed algorithms, required claims, per-method scopes. The gateway is then
  a REST API (``kind`` reads ``"rest"``, ``mode`` reads ``"rest-jwt"``).
  Both JWT authorizers live in ``labkit.aws.jwt_authorizer``.

The authorizer's answers are cached per identity source for ``cache_ttl``
seconds (``labkit.aws.cache``), on the gateway's clock. ``log`` keeps the
last decisions with the authorizer's reason, as CloudWatch would.

Whatever a client sends, the gateway answers it as API Gateway would: a
token the JWT authorizer cannot parse or verify, for any reason, is a 401
with ``error="invalid_token"``, never a 500 (the 500 rows above are for a
broken authorizer or configuration, not for a client's mistake). A client
that stops sending mid-body is dropped quietly by the server.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
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
from labkit.aws.jwt_authorizer import JwtAuthorizer, RestJwtAuthorizer
from labkit.aws.policy import (
    CheckedResponse,
    Decision,
    MethodArn,
    PolicyError,
    check_context,
    check_response,
)
from labkit.errors import ConfigurationError

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
EXPLICIT_DENY = {"Message": "User is not authorized to access this resource with an explicit deny"}
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
        self.kind = kind
        self.authorizer = authorizer
        self.authorizer_type = authorizer_type if kind == "rest" else "REQUEST"
        self.identity_sources = tuple(_identity_source(s) for s in identity_sources)
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
        event = self._proxy_event(request, route, decided.authorizer)
        response = self._invoke_backend(route, event)
        if route.authorize:
            response.headers["x-labkit-authorizer-cache"] = decided.cache
        return response

    def _authorize(self, request: Request, route: Route) -> _Decided:
        if self.jwt is not None:  # an HTTP API ("jwt") or REST API ("rest-jwt") JWT authorizer
            return self._authorize_jwt(request, route)
        identity = self._identity(request)
        if identity is None:
            return self._deny(request, 401, UNAUTHORIZED, "missing identity source", "-")
        validation = self.token_validation if self.authorizer_type == "TOKEN" else None
        if validation is not None and not validation.fullmatch(identity[0]):
            return self._deny(request, 401, UNAUTHORIZED, "token validation regex", "-")
        arn = self.method_arn(request.method, request.path)
        answer = self.cache.get(identity)
        cache = "hit" if answer is not None else "miss"
        if answer is None:
            outcome = self._call_authorizer(request, route, arn, identity)
            if isinstance(outcome, _Decided):
                return outcome
            answer = outcome
            self.cache.put(identity, answer)
        return self._apply(request, arn, answer, cache)

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
        try:
            if self.kind == "http" and isinstance(raw, Mapping) and "isAuthorized" in raw:
                if not isinstance(raw["isAuthorized"], bool):
                    raise PolicyError(
                        f"isAuthorized must be true or false, got {raw['isAuthorized']!r}"
                    )
                return {
                    "isAuthorized": raw["isAuthorized"],
                    "context": check_context(raw.get("context")),
                }
            return check_response(raw)
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
        context = {"principalId": answer.principal_id, **answer.context}
        if self.kind == "http":
            return _Decided(authorizer={"lambda": context}, cache=cache)
        return _Decided(authorizer=context, cache=cache)

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

    def _identity(self, request: Request) -> tuple[str, ...] | None:
        """The identity source values, or None if any is missing or empty (-> 401, no call)."""
        values = []
        for where, name in self.identity_sources:
            value = request.headers.get(name) if where == "header" else request.args.get(name)
            if value is None or not value.strip():
                return None
            values.append(value)
        return tuple(values)

    def _authorizer_event(
        self, request: Request, route: Route, arn: str, identity: tuple[str, ...]
    ) -> dict[str, Any]:
        if self.kind == "http":
            event = self._v2_event(request, route)
            event.update(type="REQUEST", routeArn=arn, identitySource=list(identity))
            return event
        if self.authorizer_type == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": arn}
        event = self._v1_event(request, route)
        event.update(type="REQUEST", methodArn=arn)
        del event["body"], event["isBase64Encoded"]
        return event

    def _proxy_event(
        self, request: Request, route: Route, authorizer: dict[str, Any] | None
    ) -> dict[str, Any]:
        event = (
            self._v2_event(request, route)
            if self.kind != "rest"
            else self._v1_event(request, route)
        )
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        return event

    def _v1_event(self, request: Request, route: Route) -> dict[str, Any]:
        headers = dict(request.headers.items())
        query = request.args
        body, encoded = _body(request)
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
            "stageVariables": None,
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
            "body": body,
            "isBase64Encoded": encoded,
        }

    def _v2_event(self, request: Request, route: Route) -> dict[str, Any]:
        body, encoded = _body(request)
        now = self.clock()
        route_key = f"{route.method} {route.path}"
        return {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": request.path,
            "rawQueryString": request.query_string.decode("latin-1"),
            "cookies": [f"{k}={v}" for k, v in request.cookies.items()] or None,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "queryStringParameters": request.args.to_dict() or None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "accountId": self.account,
                "apiId": self.api_id,
                "domainName": request.host,
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
                "timeEpoch": int(now * 1000),
            },
            "body": body,
            "isBase64Encoded": encoded,
        }

    def _invoke_backend(self, route: Route, event: dict[str, Any]) -> Response:
        """Call the integration; a malformed proxy answer is a 502, as on API Gateway."""
        try:
            result = route.handler(event, LambdaContext(function_name="labkit-backend"))
        except Exception:
            log.exception("backend failure on %s %s", route.method, route.path)
            return _json(502, {"message": "Internal server error"})
        if not isinstance(result, Mapping) or not isinstance(result.get("statusCode"), int):
            return _json(502, {"message": "Internal server error"})
        body = result.get("body") or ""
        data = (
            base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
        )
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return Response(data, status=result["statusCode"], headers=headers)


def _identity_source(source: str) -> tuple[str, str]:
    """``method.request.header.X`` / ``$request.header.X`` / ``...querystring.X`` / ``X``."""
    for prefix in ("method.request.", "$request."):
        if source.startswith(prefix):
            where, _, name = source[len(prefix) :].partition(".")
            if where in ("header", "querystring") and name:
                return where, name
            raise ConfigurationError(f"cannot read identity source {source!r}")
    if not source:
        raise ConfigurationError("an identity source must not be empty")
    return "header", source


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
