"""Amazon API Gateway with a Lambda authorizer, on your own machine.

- ``authorizer``: the Lambda authorizer (``handler`` deploys to real AWS);
- ``policy``: IAM policies for authorizers: ``AuthPolicy``, ``MethodArn``, ``evaluate``;
- ``gateway``: the API Gateway emulator (a WSGI app) with the authorizer cache;
- ``idp``: the identity provider (login, JWKS, refresh, logout, key rotation);
- ``backend``: the demo API, with a toy model behind ``POST /api/predict``;
- ``presets``: the hardened service and its eight one-flaw variants;
- ``server``: ``serve()``, the context manager that runs all of it on 127.0.0.1;
- ``article``: the source article's Node.js authorizer, ported as it is.

Importing this package starts nothing. The gateway and server modules (and
werkzeug with them) load on first use, so the Lambda functions deploy with
PyJWT, cryptography and requests alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from labkit.aws import article, authorizer, backend, cache, clock, idp, policy, presets
from labkit.aws.authorizer import Authorizer, AuthorizerConfig, handler
from labkit.aws.clock import FrozenClock
from labkit.aws.policy import AuthPolicy, Decision, MethodArn, evaluate
from labkit.aws.presets import PRESETS

if TYPE_CHECKING:
    from labkit.aws import gateway, server
    from labkit.aws.server import Api, create_lab, serve

__all__ = [
    "PRESETS",
    "Api",
    "AuthPolicy",
    "Authorizer",
    "AuthorizerConfig",
    "Decision",
    "FrozenClock",
    "MethodArn",
    "article",
    "authorizer",
    "backend",
    "cache",
    "clock",
    "create_lab",
    "evaluate",
    "gateway",
    "handler",
    "idp",
    "policy",
    "presets",
    "serve",
    "server",
]

_LAZY = {
    "gateway": ("labkit.aws.gateway", None),
    "server": ("labkit.aws.server", None),
    "Api": ("labkit.aws.server", "Api"),
    "create_lab": ("labkit.aws.server", "create_lab"),
    "serve": ("labkit.aws.server", "serve"),
}


def __getattr__(name: str) -> Any:
    """Load the werkzeug-based parts on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
