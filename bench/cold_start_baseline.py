"""The baseline for bench/cold_start.py: the smallest honest Lambda TOKEN authorizer, PyJWT only.

Configured like labkit's (``JWKS_URL``, ``JWT_ISSUER``, ``JWT_AUDIENCE``, ``JWT_ALGORITHMS``),
it fetches the JWKS with PyJWT's ``PyJWKClient`` (urllib), verifies signature, ``exp``,
``iss``, ``aud`` and ``sub`` with ``jwt.decode``, and answers an IAM policy allowing the one
method, or raises ``Exception("Unauthorized")``. No revocation list, no scopes, no roles, no
outbound-URL guard: the floor a cold start cannot go under with PyJWT and cryptography.
"""

from __future__ import annotations

import os

import jwt

_client: jwt.PyJWKClient | None = None


def handler(event: dict, context: object = None) -> dict:
    global _client
    if _client is None:
        _client = jwt.PyJWKClient(os.environ["JWKS_URL"])
    token = str(event.get("authorizationToken", "")).removeprefix("Bearer ")
    try:
        key = _client.get_signing_key_from_jwt(token).key
        claims = jwt.decode(
            token,
            key,
            algorithms=os.environ.get("JWT_ALGORITHMS", "RS256").split(","),
            audience=os.environ["JWT_AUDIENCE"],
            issuer=os.environ["JWT_ISSUER"],
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWTError:
        raise Exception("Unauthorized") from None
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
    return {
        "principalId": claims["sub"],
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
    }
