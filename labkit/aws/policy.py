"""IAM policies for API Gateway Lambda authorizers: build them, check them, evaluate them.

A REST API's Lambda authorizer answers with a principal and an IAM policy;
API Gateway then decides the request the way IAM does:

- a statement applies when its ``Action`` covers ``execute-api:Invoke`` and one
  of its ``Resource`` patterns matches the request's method ARN,
  ``arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/VERB/RESOURCE``;
- ``*`` matches any run of characters (``/`` included: ``.../GET/*`` covers
  ``/a/b/c``), ``?`` exactly one;
- any matching ``Deny`` wins (403 "... with an explicit deny in an
  identity-based policy"); else any matching ``Allow`` admits; else the
  request is denied by default (403).

``AuthPolicy`` builds such a policy (the awslabs blueprint's idea, written
anew); ``Policy.parse`` checks one the way API Gateway does, so a malformed
answer is an authorizer error (500) rather than a silent allow or deny.
``check_context`` enforces the REST rule that ``context`` values are strings,
numbers, booleans or null (an object or array is a 500), and
``stringify_context`` is what a REST backend then sees: every value a string,
null kept. HTTP APIs (payload 2.0) accept any JSON in ``context`` and pass it
on as JSON: ``check_json_context``.

Sources:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
(REST: "The returned values are all stringified"; no object or array);
https://github.com/DefinitelyTyped/DefinitelyTyped/pull/69823 (a real REST API in 2024: ``123`` ->
``"123"``, ``true`` -> ``"true"``, ``null`` -> ``null``);
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
(HTTP API 2.0: ``arrayKey`` and ``mapKey`` in simple and IAM responses alike).
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labkit.errors import LabkitError

__all__ = [
    "HTTP_VERBS",
    "AuthPolicy",
    "CheckedResponse",
    "Decision",
    "MethodArn",
    "Policy",
    "PolicyError",
    "Statement",
    "check_context",
    "check_json_context",
    "check_response",
    "evaluate",
    "stringify_context",
]

HTTP_VERBS = ("GET", "POST", "PUT", "PATCH", "HEAD", "DELETE", "OPTIONS")
"""The verbs a method ARN can carry; ``*`` in a policy stands for all of them."""

_VERSIONS = ("2012-10-17", "2008-10-17")
_INVOKE = "execute-api:invoke"
_RESOURCE_PATH = re.compile(r"[A-Za-z0-9/._~{}*?+-]*")
_ARN_PREFIX = "arn:"


class PolicyError(LabkitError, ValueError):
    """A method ARN, policy document or authorizer response that API Gateway would refuse."""


class Decision(enum.Enum):
    """The outcome of evaluating a policy for one request."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


# Method ARNs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodArn:
    """``arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/VERB/RESOURCE``, taken apart.

    ``resource`` is the path without its leading ``/`` (empty for the root), as
    API Gateway writes it.
    """

    region: str
    account: str
    api_id: str
    stage: str
    verb: str
    resource: str
    partition: str = "aws"

    @classmethod
    def parse(cls, arn: object) -> MethodArn:
        """Read a method ARN (a REST ``methodArn`` or an HTTP API ``routeArn``)."""
        if not isinstance(arn, str):
            raise PolicyError(f"a method ARN must be a string, got {type(arn).__name__}")
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "execute-api":
            raise PolicyError(
                f"not an execute-api method ARN: {arn!r}",
                "expected arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/VERB/RESOURCE",
            )
        _, partition, _, region, account, rest = parts
        pieces = rest.split("/", 3)
        if len(pieces) < 3 or not all(pieces[:3]):
            raise PolicyError(f"the method ARN {arn!r} lacks API_ID/STAGE/VERB")
        api_id, stage, verb = pieces[:3]
        resource = pieces[3] if len(pieces) == 4 else ""
        return cls(region, account, api_id, stage, verb, resource, partition)

    def __str__(self) -> str:
        return (
            f"arn:{self.partition}:execute-api:{self.region}:{self.account}:"
            f"{self.api_id}/{self.stage}/{self.verb}/{self.resource}"
        )

    def pattern(self, verb: str, resource: str) -> str:
        """The resource pattern for ``verb`` and ``resource`` in this ARN's API and stage."""
        return str(dataclasses.replace(self, verb=verb, resource=resource.lstrip("/")))


# Parsed policies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One checked statement: effect, resource patterns (compiled) and conditions."""

    effect: str
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    def matches(self, arn: str, request: Mapping[str, Any]) -> bool:
        """True if this statement applies to ``arn`` for a request with these condition keys."""
        if not any(pattern.fullmatch(arn) for pattern in self._compiled):
            return False
        return all(
            _condition(operator, entries, request) for operator, entries in self.conditions.items()
        )


@dataclass(frozen=True)
class Policy:
    """A policy document, checked once so each request costs only pattern matches."""

    statements: tuple[Statement, ...]

    @classmethod
    def parse(cls, document: object) -> Policy:
        """Check a ``policyDocument`` the way API Gateway does; ``PolicyError`` if malformed."""
        if not isinstance(document, Mapping):
            raise PolicyError(f"policyDocument must be an object, got {_kind(document)}")
        version = document.get("Version")
        if version not in _VERSIONS:
            raise PolicyError(f"policyDocument Version must be '2012-10-17', got {version!r}")
        raw = document.get("Statement")
        if isinstance(raw, Mapping):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise PolicyError("policyDocument Statement must be a non-empty list of statements")
        statements = [_statement(item, index) for index, item in enumerate(raw)]
        return cls(tuple(s for s in statements if s is not None))

    def evaluate(self, arn: str | MethodArn, request: Mapping[str, Any] | None = None) -> Decision:
        """Explicit Deny wins, then Allow, else the default deny."""
        target, context = str(arn), request or {}
        applying = [s.effect for s in self.statements if s.matches(target, context)]
        if "Deny" in applying:
            return Decision.EXPLICIT_DENY
        if "Allow" in applying:
            return Decision.ALLOW
        return Decision.IMPLICIT_DENY


def evaluate(
    document: object, arn: str | MethodArn, request: Mapping[str, Any] | None = None
) -> Decision:
    """Evaluate a ``policyDocument`` for one method ARN (see ``Policy.evaluate``)."""
    return Policy.parse(document).evaluate(arn, request)


def _statement(item: object, index: int) -> Statement | None:
    """One statement, checked; None if its Action does not concern execute-api:Invoke."""
    where = f"Statement {index}"
    if not isinstance(item, Mapping):
        raise PolicyError(f"{where} must be an object, got {_kind(item)}")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(
            f"{where}: Effect must be 'Allow' or 'Deny' (case matters), got {effect!r}"
        )
    actions = _strings(item.get("Action"), f"{where}: Action")
    resources = _strings(item.get("Resource"), f"{where}: Resource")
    conditions = item.get("Condition", {})
    if not isinstance(conditions, Mapping) or not all(
        isinstance(entries, Mapping) for entries in conditions.values()
    ):
        raise PolicyError(f"{where}: Condition must map operators to {{key: value}} objects")
    for operator in conditions:
        if operator not in _OPERATORS:
            raise PolicyError(f"{where}: unsupported condition operator {operator!r}")
    if not any(_glob(action.lower()).fullmatch(_INVOKE) for action in actions):
        return None
    compiled = tuple(_glob(resource) for resource in resources)
    return Statement(effect, tuple(resources), dict(conditions), compiled)


def _strings(value: object, what: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise PolicyError(f"{what} must be a string or a non-empty list of strings, got {value!r}")
    return values


_GLOB_CACHE: dict[str, re.Pattern[str]] = {}


def _glob(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: ``*`` any run of characters (``/`` included), ``?`` one character."""
    compiled = _GLOB_CACHE.get(pattern)
    if compiled is None:
        body = "".join(
            ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
        )
        compiled = re.compile(body, re.DOTALL)
        if len(_GLOB_CACHE) < 4096:
            _GLOB_CACHE[pattern] = compiled
    return compiled


# Conditions --------------------------------------------------------------------------------------


_NEGATED = frozenset(("StringNotEquals", "StringNotLike", "NotIpAddress"))


def _condition(operator: str, entries: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """All keys of one operator must hold.

    A key the request lacks makes the condition false, except for a negated
    operator, where it makes it true: "If the policy condition requires that
    the key is not matched, such as StringNotLike or ArnNotLike, and the right
    key is not present, the condition is true"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
    Reading it as false let a Deny "unless aws:SourceVpce is mine" deny
    nothing here (kit's red-team finding). Key names are compared without
    case: "Context key names are not case-sensitive. For example, including the
    aws:SourceIP context key is equivalent to testing for AWS:SourceIp"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html);
    an exact match made a Deny on ``aws:SourceIP`` deny nothing.
    """
    test = _OPERATORS[operator]
    context = {str(name).lower(): value for name, value in request.items()}
    for key, expected in entries.items():
        name = str(key).lower()
        if name not in context:
            if operator in _NEGATED:
                continue
            return False
        options = expected if isinstance(expected, list) else [expected]
        if not test(context[name], options):
            return False
    return True


def _string_like(value: object, options: list[Any]) -> bool:
    return any(_glob(str(option)).fullmatch(str(value)) for option in options)


def _in_network(value: object, options: list[Any]) -> bool:
    try:
        address = ipaddress.ip_address(str(value))
        return any(address in ipaddress.ip_network(str(net), strict=False) for net in options)
    except ValueError:
        return False


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _numeric(compare: Any) -> Any:
    def test(value: object, options: list[Any]) -> bool:
        left = _number(value)
        rights = [_number(option) for option in options]
        return left is not None and any(r is not None and compare(left, r) for r in rights)

    return test


_OPERATORS: dict[str, Any] = {
    "StringEquals": lambda value, options: str(value) in [str(o) for o in options],
    "StringNotEquals": lambda value, options: str(value) not in [str(o) for o in options],
    "StringLike": _string_like,
    "StringNotLike": lambda value, options: not _string_like(value, options),
    "IpAddress": _in_network,
    "NotIpAddress": lambda value, options: not _in_network(value, options),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
}


# Authorizer responses ----------------------------------------------------------------------------


Scalar = str | int | float | bool | None


def check_context(context: object) -> dict[str, Scalar]:
    """A REST ``context``: names to strings, numbers, booleans or null; objects and arrays fail.

    API Gateway refuses (500) a REST authorizer response that nests an object
    or array in ``context``; null is kept and reaches the backend as null.
    """
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise PolicyError(f"context must be an object, got {_kind(context)}")
    checked: dict[str, Scalar] = {}
    for key, value in context.items():
        if not isinstance(key, str):
            raise PolicyError(f"context keys must be strings, got {key!r}")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise PolicyError(
                f"context value {key!r} is {_kind(value)}",
                "only strings, numbers, booleans and null are allowed; API Gateway answers 500",
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise PolicyError(f"context value {key!r} is {value!r}, which is not JSON")
        checked[key] = value
    return checked


def stringify_context(context: Mapping[str, Scalar]) -> dict[str, str | None]:
    """What a REST backend sees: ``True`` -> ``"true"``, ``123`` -> ``"123"``, null stays null."""
    return {
        key: value if value is None or isinstance(value, str) else json.dumps(value)
        for key, value in context.items()
    }


def check_json_context(context: object) -> dict[str, Any]:
    """An HTTP API (payload 2.0) ``context``: any JSON object, arrays and maps included.

    The answer crosses the wire as JSON, so what cannot be JSON (a set, NaN, a
    non-string key) is an authorizer error (500), and the backend gets a copy
    made of JSON types only, exactly as they were sent.
    """
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise PolicyError(f"context must be an object, got {_kind(context)}")
    if not all(isinstance(key, str) for key in context):
        raise PolicyError("context keys must be strings")
    try:
        copied = json.loads(json.dumps(context, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        raise PolicyError(f"context is not JSON: {exc}") from None
    return copied  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CheckedResponse:
    """An authorizer's IAM-policy response that passed ``check_response``."""

    principal_id: str
    policy: Policy
    context: dict[str, Any]
    usage_identifier_key: str | None = None


def check_response(response: object, *, json_context: bool = False) -> CheckedResponse:
    """Check an authorizer's IAM-policy answer (principalId, policyDocument, context).

    ``json_context=True`` applies the HTTP API (payload 2.0) rule to
    ``context`` (any JSON), the default the REST rule (scalars only).
    """
    if not isinstance(response, Mapping):
        raise PolicyError(f"the authorizer must return an object, got {_kind(response)}")
    principal = response.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise PolicyError(f"principalId must be a non-empty string, got {principal!r}")
    policy = Policy.parse(response.get("policyDocument"))
    raw = response.get("context")
    context: dict[str, Any] = check_json_context(raw) if json_context else check_context(raw)
    usage = response.get("usageIdentifierKey")
    if usage is not None and not isinstance(usage, str):
        raise PolicyError(f"usageIdentifierKey must be a string, got {usage!r}")
    return CheckedResponse(principal, policy, context, usage)


# The builder -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    effect: str
    resource: str
    conditions: Mapping[str, Mapping[str, Any]] | None


class AuthPolicy:
    """Build an authorizer response: allow or deny verbs on resources of one API and stage.

    >>> arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/api/profile"
    >>> policy = AuthPolicy.for_arn("alice", arn).allow("GET", "/api/profile")
    >>> policy.build()["policyDocument"]["Statement"][0]["Resource"]
    ['arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/api/profile']

    Resources are paths of the API (``/api/admin/*``); region, account, API id
    and stage come from the request's method ARN, so a cached policy covers
    the whole API rather than the one path that happened to be asked first.
    """

    def __init__(
        self,
        principal_id: str,
        *,
        region: str = "*",
        account: str = "*",
        api_id: str = "*",
        stage: str = "*",
    ) -> None:
        if not isinstance(principal_id, str) or not principal_id:
            raise PolicyError(f"principal_id must be a non-empty string, got {principal_id!r}")
        self.principal_id = principal_id
        self._base = MethodArn(region, account, api_id, stage, "*", "*")
        self._entries: list[_Entry] = []

    @classmethod
    def for_arn(cls, principal_id: str, method_arn: str | MethodArn) -> AuthPolicy:
        """A policy for the API and stage of ``method_arn`` (the request being authorized)."""
        arn = method_arn if isinstance(method_arn, MethodArn) else MethodArn.parse(method_arn)
        return cls(
            principal_id,
            region=arn.region,
            account=arn.account,
            api_id=arn.api_id,
            stage=arn.stage,
        )

    def allow(
        self, verb: str, resource: str, conditions: Mapping[str, Mapping[str, Any]] | None = None
    ) -> AuthPolicy:
        """Allow ``verb`` (or ``*``) on ``resource`` (a path, wildcards allowed)."""
        return self._add("Allow", verb, resource, conditions)

    def deny(
        self, verb: str, resource: str, conditions: Mapping[str, Mapping[str, Any]] | None = None
    ) -> AuthPolicy:
        """Deny ``verb`` (or ``*``) on ``resource``: an explicit deny beats every allow."""
        return self._add("Deny", verb, resource, conditions)

    def allow_all(self) -> AuthPolicy:
        """Allow every verb on every resource of the API and stage."""
        return self.allow("*", "*")

    def deny_all(self) -> AuthPolicy:
        """Deny every verb on every resource of the API and stage."""
        return self.deny("*", "*")

    def build(
        self,
        context: Mapping[str, Any] | None = None,
        usage_identifier_key: str | None = None,
    ) -> dict[str, Any]:
        """The authorizer response: principalId, policyDocument and (checked) context."""
        if not self._entries:
            raise PolicyError(
                "the policy has no statements", "call allow(...) or deny_all() before build()"
            )
        statements = []
        for effect in ("Allow", "Deny"):
            plain = [e.resource for e in self._entries if e.effect == effect and not e.conditions]
            if plain:
                statements.append(_statement_dict(effect, plain))
            statements += [
                _statement_dict(effect, [e.resource], e.conditions)
                for e in self._entries
                if e.effect == effect and e.conditions
            ]
        response: dict[str, Any] = {
            "principalId": self.principal_id,
            "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        }
        if context:
            response["context"] = check_context(context)
        if usage_identifier_key is not None:
            response["usageIdentifierKey"] = usage_identifier_key
        return response

    def _add(
        self,
        effect: str,
        verb: str,
        resource: str,
        conditions: Mapping[str, Mapping[str, Any]] | None,
    ) -> AuthPolicy:
        if verb != "*" and verb not in HTTP_VERBS:
            raise PolicyError(f"unknown verb {verb!r}; use one of {', '.join(HTTP_VERBS)} or '*'")
        if not isinstance(resource, str) or not _RESOURCE_PATH.fullmatch(resource):
            raise PolicyError(f"resource {resource!r} is not a path such as /api/profile or /*")
        if conditions is not None:
            for operator in conditions:
                if operator not in _OPERATORS:
                    raise PolicyError(f"unsupported condition operator {operator!r}")
        self._entries.append(_Entry(effect, self._base.pattern(verb, resource), conditions))
        return self


def _statement_dict(
    effect: str, resources: Iterable[str], conditions: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Action": "execute-api:Invoke",
        "Effect": effect,
        "Resource": list(resources),
    }
    if conditions:
        statement["Condition"] = {op: dict(entries) for op, entries in conditions.items()}
    return statement


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__}"
