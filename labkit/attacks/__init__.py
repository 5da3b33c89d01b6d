"""Forgers: each module attacks one way a verifier can be fooled into trusting a token.

- ``crack``: dictionary attack on HS256/HS384/HS512 secrets. A guessable shared
  secret lets anyone sign any claims, so finding it is the whole attack.
- ``none``: tokens with no valid signature: claims edited under the old
  signature, ``alg: none`` in every casing, an empty signature, an HMAC under
  the empty secret.
- ``confusion``: HS256 signed with the RSA public key as the HMAC secret, from
  a PEM, a JWK or a JWKS, or from a key recovered out of two RS256 tokens.
- ``injection``: a key the attacker chose, through the header: their public key
  in ``jwk``, their key set behind ``jku`` (served on loopback by
  ``serve_jwks``), ``kid`` as a path to /dev/null, ``kid`` as SQL that returns
  their secret.
- ``psychic``: ES256 with r = s = 0 (CVE-2022-21449): any claims, no key.
- ``malleability``: the (r, n - s) twin of an ES256 signature: the same claims
  under another token string, so a deny-list must key on ``jti``, not the token.
- ``forgery``: ``Forgery``, what a forger returns: the token and one line on
  the trick it plays.

Every attack is proven twice in the notebooks and tests: the forged token passes
its vulnerable verifier and fails the hardened one.
"""

from __future__ import annotations

__all__: list[str] = []
