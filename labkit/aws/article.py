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
- ``jwt.verify`` is given no ``algorithms``, no ``audience``, no ``issuer``:
  it accepts HS256, HS384 and HS512 alike, a token with no ``exp`` forever, and
  a token minted for any other service that shares the secret;
- every failure becomes a Deny policy: the client gets 403 "explicit deny"
  where API Gateway's contract is 401 (``raise Exception("Unauthorized")``);
- the principal is always ``'user'`` and no context is passed: the backend
  never learns who called or with which role;
- the policy names exactly ``event.methodArn``, so when API Gateway caches it
  (for 300 s by default) the same token is denied on every other path.

Parity with the original: ``jwt`` here is ``labkit.aws.jsonwebtoken``, a port
of jsonwebtoken 9.0.3's ``verify`` as the article calls it (a string secret, no
options), not PyJWT, whose defaults answered differently on a quarter of the
corpus (it refused HS384 and HS512 when told HS256, an ``iat`` in the future, a
numeric ``sub``; it accepted ``=``-padded segments and an ``exp`` written as text).
``labkit.aws.article_node`` runs the article's own ``index.js`` under Node.js
with the real ``jsonwebtoken`` (``deploy/article-node``, pinned by its
``package-lock.json``) and this port on the same corpus of tokens, and
``tests/test_aws_article_node.py`` asserts that both give the same Allow or
Deny, and the same reason, for every token.
"""

from __future__ import annotations

from typing import Any

from labkit.aws import jsonwebtoken as jwt

__all__ = ["SECRET", "generate_policy", "handler"]

SECRET = "your-256-bit-secret"  # the article's secret: hard-coded, short, and in every wordlist


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """The article's authorizer: Allow on a token jsonwebtoken accepts, Deny on anything else."""
    token = event.get("authorizationToken")  # get the token from the event ("Bearer ..." and all)
    secret = SECRET
    try:
        jwt.verify(token, secret)  # verify token: jsonwebtoken 9.0.3's rules, with no options
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
