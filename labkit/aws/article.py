"""The source article's Node.js Lambda authorizer, ported line for line to Python.

The original (``jsonwebtoken``, a hard-coded secret)::

    exports.handler = async (event) => {
      const token = event.authorizationToken;
      const secret = 'your-256-bit-secret';
      try {
        const decoded = jwt.verify(token, secret);
        return generatePolicy('user', 'Allow', event.methodArn);
      } catch (err) {
        return generatePolicy('user', 'Deny', event.methodArn);
      }
    };

It runs, and it teaches by its flaws, each fixed in ``labkit.aws.authorizer``:

- the secret is in the code, and it is the first guess of every wordlist;
- ``authorizationToken`` is the whole header, ``Bearer `` included, and is
  passed to ``verify`` as it is, so a client following RFC 6750 is refused;
- every failure becomes a Deny policy: the client gets 403 "explicit deny"
  where API Gateway's contract is 401 (``raise Exception("Unauthorized")``);
- the principal is always ``'user'`` and no context is passed: the backend
  never learns who called or with which role;
- the policy names exactly ``event.methodArn``, so when API Gateway caches it
  (for 300 s by default) the same token is denied on every other path.
"""

from __future__ import annotations

import warnings
from typing import Any

import jwt

__all__ = ["SECRET", "generate_policy", "handler"]

SECRET = "your-256-bit-secret"  # the article's secret: hard-coded, short, and in every wordlist


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """The article's authorizer: Allow on a valid token, Deny on anything else."""
    token = event["authorizationToken"]  # get the token from the event ("Bearer ..." and all)
    secret = SECRET
    try:
        with warnings.catch_warnings():
            # jsonwebtoken never warns about a 19-byte secret; PyJWT does (notebook 05's lesson)
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            # jsonwebtoken checks aud only when asked to; PyJWT must be told not to
            jwt.decode(token, secret, algorithms=["HS256"], options={"verify_aud": False})
        return generate_policy("user", "Allow", event["methodArn"])  # return a policy
    except Exception:
        return generate_policy("user", "Deny", event["methodArn"])  # deny if verification fails


def generate_policy(principal_id: str, effect: str, resource: str) -> dict[str, Any]:
    """The article's ``generatePolicy``: one statement, one effect, one resource."""
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
