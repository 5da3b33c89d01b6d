"""Amazon API Gateway with a Lambda authorizer, on your own machine.

- ``authorizer``: the Lambda authorizer (``handler`` deploys to real AWS);
- ``policy``: IAM policies for authorizers: ``AuthPolicy``, ``MethodArn``, ``evaluate``;
- ``gateway``: the API Gateway emulator (a WSGI app) with the authorizer cache;
- ``jwt_authorizer``: API Gateway's built-in JWT authorizers (HTTP API and REST API);
- ``idp``: the identity provider (login, JWKS, refresh, logout, key rotation);
- ``backend``: the demo API, with a toy model behind ``POST /api/predict``;
- ``presets``: the hardened service and its eight one-flaw variants;
- ``server``: ``serve()``, the context manager that runs all of it on 127.0.0.1;
- ``article``: the source article's Node.js authorizer, ported as it is;
- ``jsonwebtoken``: the port of ``jsonwebtoken`` 9.0.3's ``verify`` it calls;
- ``article_node``: runs the Node.js original beside the port, token for token.

Importing this package starts and loads nothing: every module and name below
loads on first use. The Lambda functions import their own module directly
(``labkit.aws.authorizer.handler``), so a cold start pays for the authorizer's
imports alone (PyJWT, cryptography, requests), never for werkzeug, the identity
provider or the presets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.aws import (
        article,
        article_node,
        authorizer,
        backend,
        cache,
        clock,
        gateway,
        idp,
        jsonwebtoken,
        jwt_authorizer,
        policy,
        presets,
        server,
    )
    from labkit.aws.authorizer import Authorizer, AuthorizerConfig, handler
    from labkit.aws.clock import FrozenClock
    from labkit.aws.jwt_authorizer import JwtAuthorizer, RestJwtAuthorizer, TrustedIssuer
    from labkit.aws.policy import AuthPolicy, Decision, MethodArn, evaluate
    from labkit.aws.presets import PRESETS
    from labkit.aws.server import Api, create_lab, serve

__all__ = [
    "PRESETS",
    "Api",
    "AuthPolicy",
    "Authorizer",
    "AuthorizerConfig",
    "Decision",
    "FrozenClock",
    "JwtAuthorizer",
    "MethodArn",
    "RestJwtAuthorizer",
    "TrustedIssuer",
    "article",
    "article_node",
    "authorizer",
    "backend",
    "cache",
    "clock",
    "create_lab",
    "evaluate",
    "gateway",
    "handler",
    "idp",
    "jsonwebtoken",
    "jwt_authorizer",
    "policy",
    "presets",
    "sam_template",
    "serve",
    "server",
]

_MODULES = (
    "article",
    "article_node",
    "authorizer",
    "backend",
    "cache",
    "clock",
    "gateway",
    "idp",
    "jsonwebtoken",
    "jwt_authorizer",
    "policy",
    "presets",
    "server",
)
_NAMES = {
    "Authorizer": "authorizer",
    "AuthorizerConfig": "authorizer",
    "handler": "authorizer",
    "FrozenClock": "clock",
    "JwtAuthorizer": "jwt_authorizer",
    "RestJwtAuthorizer": "jwt_authorizer",
    "TrustedIssuer": "jwt_authorizer",
    "AuthPolicy": "policy",
    "Decision": "policy",
    "MethodArn": "policy",
    "evaluate": "policy",
    "PRESETS": "presets",
    "Api": "server",
    "create_lab": "server",
    "serve": "server",
}


def sam_template() -> str:
    """The SAM template that deploys the authorizer and the demo API, as text.

    Read from the installed package (``labkit/aws/template.yaml``, package data), so it
    works from a wheel as well as from a checkout. It is a byte-for-byte copy of
    ``deploy/aws/template.yaml``, the one ``sam deploy`` uses beside its ``build/``
    folder; tests/test_aws_sam.py keeps the two equal.
    """
    from importlib import resources

    return resources.files(__name__).joinpath("template.yaml").read_text(encoding="utf-8")


def __getattr__(name: str) -> Any:
    """Load a module, or the module a name lives in, on first use."""
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
