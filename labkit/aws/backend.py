"""The demo API behind the gateway: a Lambda proxy handler, and a toy model to serve.

Routes (the gateway's authorizer runs before each, except ``/api/health``):

- ``GET /api/health``: no token needed;
- ``GET /api/profile``: any authenticated user, answers ``sub`` and ``role``;
- ``GET /api/admin``: role ``admin`` only;
- ``POST /api/predict``: the source article's AI use case, a model behind an
  API, gated by the ``predict`` scope. The model is a toy: a fixed word list
  with weights and a logistic function, deterministic and download-free, so
  the lesson is about who may call it, not about machine learning.

The handler trusts what the authorizer put in ``requestContext.authorizer``
(REST: principalId and context; HTTP API: ``lambda`` context or ``jwt``
claims), as a real backend behind API Gateway does. It checks role and scope
again anyway: defence in depth costs two lines.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labkit import tokens
from labkit.errors import LabkitError

__all__ = ["MODEL", "ROUTES", "Prediction", "handler", "predict", "principal"]

ROUTES: tuple[tuple[str, str, bool, tuple[str, ...]], ...] = (
    ("GET", "/api/health", False, ()),
    ("GET", "/api/profile", True, ()),
    ("GET", "/api/admin", True, ()),
    ("POST", "/api/predict", True, ("predict",)),
)
"""(method, path, needs the authorizer, scopes an HTTP API JWT authorizer requires)."""

MODEL = "toy-sentiment-1"
"""The toy model's name, returned with every prediction."""

_WEIGHTS = {
    "love": 2.0,
    "great": 1.5,
    "excellent": 2.0,
    "good": 1.0,
    "secure": 1.0,
    "fast": 0.75,
    "easy": 0.75,
    "thanks": 0.5,
    "bad": -1.0,
    "slow": -0.75,
    "hate": -2.0,
    "broken": -1.5,
    "leak": -1.5,
    "leaked": -1.5,
    "insecure": -1.5,
    "vulnerable": -1.0,
    "expired": -0.5,
}
_BIAS = -0.1
_WORD = re.compile(r"[a-z]+")
_MAX_TEXT = 2000


@dataclass(frozen=True)
class Prediction:
    """The toy model's answer: a label, a probability, and the words that decided it."""

    label: str
    score: float
    evidence: dict[str, float]


def predict(text: str) -> Prediction:
    """Sentiment of ``text``: a weighted sum of known words through a logistic function."""
    words = _WORD.findall(text.lower())
    evidence = {w: _WEIGHTS[w] for w in words if w in _WEIGHTS}
    z = _BIAS + sum(_WEIGHTS[w] for w in words if w in _WEIGHTS)
    score = 1 / (1 + math.exp(-z))
    return Prediction("positive" if score >= 0.5 else "negative", round(score, 4), evidence)


def principal(event: Mapping[str, Any]) -> dict[str, Any]:
    """Who the authorizer says is calling (``sub``, ``role``, ``scopes``), for any API type."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    if "jwt" in authorizer or "claims" in authorizer:
        # HTTP API JWT authorizer: jwt.claims as strings (arrays as "[a b]"), jwt.scopes or null;
        # REST API JWT authorizer: claims with their JSON types (labkit.aws.jwt_authorizer).
        jwt = authorizer.get("jwt", authorizer)
        claims = jwt.get("claims") or {}
        scopes = jwt.get("scopes") or _token_scopes(claims)
        return {"sub": claims.get("sub"), "role": claims.get("role"), "scopes": list(scopes)}
    context = authorizer.get("lambda", authorizer)  # HTTP API Lambda, or REST
    return {
        "sub": context.get("sub", context.get("principalId")),
        "role": context.get("role"),
        "scopes": str(context.get("scope", "")).split(),
    }


def _token_scopes(claims: Mapping[str, Any]) -> list[str]:
    """``scope`` (space-separated) or ``scp`` (a list, or an HTTP API's "[a b]" string)."""
    scope, scp = claims.get("scope"), claims.get("scp")
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scp, list):
        return [str(s) for s in scp]
    if isinstance(scp, str):
        return scp.strip("[]").split()
    return []


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """The Lambda proxy handler for every route of the demo API."""
    method, path = _method_and_path(event)
    if (method, path) == ("GET", "/api/health"):
        return _json(200, {"status": "ok"})
    who = principal(event)
    if not who["sub"]:
        return _json(401, {"message": "no authenticated principal"})
    if (method, path) == ("GET", "/api/profile"):
        return _json(200, {"sub": who["sub"], "role": who["role"], "scopes": who["scopes"]})
    if (method, path) == ("GET", "/api/admin"):
        if who["role"] != "admin":
            return _json(403, {"message": "role admin required"})
        return _json(200, {"sub": who["sub"], "role": who["role"], "secret": "the admin panel"})
    if (method, path) == ("POST", "/api/predict"):
        return _predict(event, who)
    return _json(404, {"message": "Not Found"})


def _predict(event: Mapping[str, Any], who: dict[str, Any]) -> dict[str, Any]:
    if "predict" not in who["scopes"]:
        return _json(403, {"message": "scope predict required"})
    try:  # the kit's one JSON boundary: depth, number size and lone surrogates are refused
        body = tokens.load_json(event.get("body") or "", "body", error=LabkitError)
    except LabkitError as exc:
        return _json(400, {"message": f'send JSON {{"text": "..."}}: {exc.message}'})
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return _json(400, {"message": '"text" must be a non-empty string'})
    if len(text) > _MAX_TEXT:
        return _json(413, {"message": f'"text" is over {_MAX_TEXT} characters'})
    result = predict(text)
    return _json(
        200,
        {
            "model": MODEL,
            "label": result.label,
            "score": result.score,
            "evidence": result.evidence,
            "sub": who["sub"],
        },
    )


def _method_and_path(event: Mapping[str, Any]) -> tuple[str, str]:
    if event.get("version") == "2.0":
        http = (event.get("requestContext") or {}).get("http") or {}
        return str(http.get("method", "")), str(http.get("path", ""))
    return str(event.get("httpMethod", "")), str(event.get("path", ""))


def _json(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
