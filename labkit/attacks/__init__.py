"""Forgers: each module attacks one way a verifier can be fooled into trusting a token.

- ``crack``: dictionary attack on HS256/HS384/HS512 secrets. A guessable shared
  secret lets anyone sign any claims, so finding it is the whole attack.

Every attack is proven twice in the notebooks and tests: the forged token passes
its vulnerable verifier and fails the hardened one.
"""

from __future__ import annotations

__all__: list[str] = []
