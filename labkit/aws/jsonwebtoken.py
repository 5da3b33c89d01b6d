"""npm jsonwebtoken 9.0.3's ``jwt.verify(token, secret)``, rule for rule, as the article calls it.

The source article's authorizer calls ``jwt.verify(token, secret)`` with a string
secret and no options. ``labkit.aws.article`` ports that handler; this module
ports the one call it makes, so that the port answers exactly as the Node
original does (``labkit.aws.article_node`` runs both on the same tokens).
PyJWT cannot stand in for it: on the kit's corpus it refused tokens
jsonwebtoken accepts (HS384 and HS512 when told HS256, a ``sub`` that is a
number, an ``iat`` in the future, an unknown ``crit``, a payload that is not
JSON) and accepted some it refuses (``=``-padded segments, ``exp`` as a string).

The rules, read from jsonwebtoken 9.0.3's ``verify.js`` and ``decode.js`` and from
its dependencies ``jws`` 4.0.1 (``lib/verify-stream.js``) and ``jwa`` 2.0.1
(``index.js``), as ``npm ci`` installs them from ``deploy/article-node/package-lock.json``
(line numbers are those files'; github.com/auth0/node-jsonwebtoken holds the same
``verify.js`` since 9.0.0):

1. The token must be a non-empty string of exactly three dot-separated parts
   (verify.js lines 59-71).
2. It must match ``^[a-zA-Z0-9\\-_]+?\\.[a-zA-Z0-9\\-_]+?\\.([a-zA-Z0-9\\-_]+)?$``
   (jws verify-stream.js line 8): unpadded base64url, signature optional. No
   space (``Bearer ...``), no ``=``, no trailing newline (a JavaScript ``$``
   never matches before a final newline, unlike Python's).
3. The header segment is decoded by Node's lenient base64 (a lone last
   character is dropped, stray low bits ignored), read as Latin-1 and parsed as
   JSON; a falsy or unparsable header makes the token "invalid token"
   (verify-stream.js lines 14-24, 40-42; verify.js lines 81-83).
4. The payload is read as UTF-8. With ``typ: "JWT"`` in the header it must be
   JSON (verify-stream.js lines 69-71: a ``SyntaxError`` otherwise); without it,
   a payload that is not a JSON object or array stays a string
   (decode.js lines 10-17) and is accepted with no claim checks at all.
5. An empty signature with a secret is "jwt signature is required": ``alg:
   none`` in any casing is refused (verify.js lines 106-118).
6. A string that is not PEM key material becomes an HMAC secret, its UTF-8 bytes
   (verify.js lines 120-130). With no ``algorithms`` option the allowed list is
   then ``HS256``, ``HS384``, ``HS512`` (verify.js lines 14 and 132-134; the
   README's ``algorithms`` option: "If not specified a defaults will be used
   based on the type of key provided: secret - ['HS256', 'HS384', 'HS512']").
   The header's ``alg`` must be in it, case and all (line 144). So a token
   signed with HS384 or HS512 under the same secret is accepted.
   A PEM public key (or private key, or certificate) would instead become an
   asymmetric key with the defaults RS*/PS* or ES* (lines 135-141), and HS*
   with it is refused (lines 148-149): jsonwebtoken 9 is closed to key
   confusion. This port covers the article's string secret only and refuses PEM
   key material with a ``ConfigurationError`` rather than mis-model it.
7. The signature segment must equal, character for character, the unpadded
   base64url HMAC of ``header.payload`` (jwa index.js lines 89-94, 127-156): no
   other encoding of the same bytes passes.
8. Then, and only if present: ``nbf`` must be a number not after now, ``exp``
   a number after now, in whole seconds (verify.js lines 57, 176-192). Nothing
   else: no ``iat``, ``aud``, ``iss``, ``sub``, ``jti`` or ``crit`` check
   without options. A token with no ``exp`` never expires.

``JSON.parse`` is ported too (``_json``), iteratively, so JSON nested to any
depth parses as V8 parses it. Python's ``json`` stops near its recursion limit
(about 1000 levels), and a token nested that deep once got another verdict
from the port than from Node: a header refused that Node took, and, worse, an
expired token allowed (its payload left an unparsed string, so ``exp`` went
unchecked); the kit's red-team pass found it with such tokens under the
article's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import time
from typing import Any

from labkit.errors import ConfigurationError, ExpiredTokenError, InvalidTokenError, NotYetValidError

__all__ = [
    "HS_ALGS",
    "JavaScriptError",
    "JsonWebTokenError",
    "NotBeforeError",
    "TokenExpiredError",
    "verify",
]

HS_ALGS: tuple[str, ...] = ("HS256", "HS384", "HS512")
"""jsonwebtoken's default ``algorithms`` for a secret key (verify.js lines 14, 132-134)."""

_JWS = re.compile(r"[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)?")  # verify-stream.js:8
_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
_UNDEFINED = object()  # JavaScript's ``undefined``: a property the object does not have


class JsonWebTokenError(InvalidTokenError):
    """jsonwebtoken's ``JsonWebTokenError``: the message is jsonwebtoken's own."""

    name = "JsonWebTokenError"


class TokenExpiredError(JsonWebTokenError, ExpiredTokenError):
    """jsonwebtoken's ``TokenExpiredError``: ``exp`` is not after now."""

    name = "TokenExpiredError"


class NotBeforeError(JsonWebTokenError, NotYetValidError):
    """jsonwebtoken's ``NotBeforeError``: ``nbf`` is after now."""

    name = "NotBeforeError"


class JavaScriptError(InvalidTokenError):
    """What JavaScript itself throws inside ``verify`` (``SyntaxError``, ``TypeError``).

    ``name`` is the JavaScript error's name; the message is the kit's wording.
    """

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


def verify(token: object, secret: str, *, now: float | None = None) -> Any:
    """The payload of ``token`` if jsonwebtoken 9.0.3's ``jwt.verify(token, secret)`` accepts it.

    Raises the error jsonwebtoken would throw, with its message (see the module
    docstring for the rules and where each is in jsonwebtoken's source). ``now``
    is epoch seconds (default: the clock, floored as ``Math.floor(Date.now() / 1000)``).
    The payload is what jsonwebtoken returns: usually a dict, or a list or a
    string when the signed payload is not a JSON object.
    """
    clock = math.floor(time.time() if now is None else now)  # verify.js line 57
    if _falsy(token):
        raise JsonWebTokenError("jwt must be provided")  # lines 59-61
    if not isinstance(token, str):
        raise JsonWebTokenError("jwt must be a string")  # lines 63-65
    parts = token.split(".")
    if len(parts) != 3:
        raise JsonWebTokenError("jwt malformed")  # lines 67-71
    header, payload = _decode(token)  # lines 73-83: decode.js and jws's decode
    has_signature = parts[2].strip() != ""  # line 106
    if not has_signature and not _falsy(secret):
        raise JsonWebTokenError("jwt signature is required")  # lines 108-110
    if has_signature and _falsy(secret):
        raise JsonWebTokenError("secret or public key must be provided")  # lines 112-114
    if not has_signature:
        raise JsonWebTokenError('please specify "none" in "algorithms" to verify unsigned tokens')
    key = _secret_key(secret)  # lines 120-130
    alg = _property(header, "alg")
    if alg not in HS_ALGS:  # lines 132-134 (the default list for a secret), 144-146
        raise JsonWebTokenError("invalid algorithm")
    if not _hmac_matches(alg, key, token):  # jws verify-stream.js lines 44-55; jwa lines 127-156
        raise JsonWebTokenError("invalid signature")  # verify.js lines 170-172
    nbf = _property(payload, "nbf")  # lines 176-183
    if nbf is not _UNDEFINED:
        if not _is_number(nbf):
            raise JsonWebTokenError("invalid nbf value")
        if nbf > clock:
            raise NotBeforeError("jwt not active")
    exp = _property(payload, "exp")  # lines 185-192
    if exp is not _UNDEFINED:
        if not _is_number(exp):
            raise JsonWebTokenError("invalid exp value")
        if clock >= exp:
            raise TokenExpiredError("jwt expired")
    return payload  # line 261: no audience, issuer, subject, jwtid, nonce or maxAge asked for


# jws's decode and jsonwebtoken's decode.js ------------------------------------------------------


def _decode(token: str) -> tuple[Any, Any]:
    """Header and payload as ``jwt.decode(token, {complete: true})`` returns them."""
    if not _JWS.fullmatch(token):
        raise JsonWebTokenError("invalid token")  # verify-stream.js lines 40-42, 61-62
    head, body, _ = token.split(".")
    header = _json(_node_base64(head).decode("latin-1"))  # lines 14-24: 'binary' is Latin-1
    if header is _UNDEFINED or _falsy(header):
        raise JsonWebTokenError("invalid token")  # lines 64-67; verify.js lines 81-83
    text = _node_base64(body).decode("utf-8", "replace")  # verify-stream.js lines 34-38
    payload: Any = text
    if _property(header, "typ") == "JWT":  # verify-stream.js lines 69-71: must be JSON
        payload = _json(text)
        if payload is _UNDEFINED:
            raise JavaScriptError("SyntaxError", "the payload of a typ JWT token is not JSON")
    if isinstance(payload, str):  # decode.js lines 10-17: a JSON object or array, or the string
        parsed = _json(payload)
        if isinstance(parsed, (dict, list)):
            payload = parsed
    return header, payload


def _node_base64(segment: str) -> bytes:
    """``Buffer.from(segment, 'base64')`` for a segment of base64url characters.

    Node drops a lone last character (it holds fewer than 8 bits) and ignores
    stray low bits in the last one, where a strict decoder (``labkit.tokens``)
    refuses both. The regex has let only ``[A-Za-z0-9_-]`` through.
    """
    if len(segment) % 4 == 1:
        segment = segment[:-1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json(text: str) -> Any:
    """``JSON.parse(text)``, or ``_UNDEFINED`` where it throws, to any depth.

    Containers are parsed with an explicit stack, not recursion, so depth is
    bounded by memory as in V8; strings go through ``json``'s own scanner
    (JSON's escapes, control characters refused) and numbers through
    ``_number``. JavaScript numbers are doubles: NaN and Infinity are not JSON,
    and a long integer is a (possibly infinite) double.
    """
    try:
        value, end = _parse(text, _skip(text, 0))
    except (ValueError, IndexError):
        return _UNDEFINED
    return value if _skip(text, end) == len(text) else _UNDEFINED


_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's four, not Unicode's
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}


def _skip(text: str, at: int) -> int:
    """Past the JSON whitespace at ``at`` (the pattern matches the empty string too)."""
    return _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]


def _parse(text: str, at: int) -> tuple[Any, int]:
    """One JSON value from ``text[at:]`` and where it ends; ``ValueError`` if there is none."""
    stack: list[tuple[Any, str | None]] = []  # open containers, and an object's pending key
    while True:
        char = text[at : at + 1]
        if char in ("[", "{"):
            at = _skip(text, at + 1)
            if text[at : at + 1] == ("]" if char == "[" else "}"):
                value, at = ([] if char == "[" else {}), at + 1
            elif char == "[":
                stack.append(([], None))
                continue
            else:
                key, at = _key(text, at)
                stack.append(({}, key))
                continue
        elif char == '"':
            value, at = json.decoder.scanstring(text, at + 1, True)
        elif (word := next((w for w in _LITERALS if text.startswith(w, at)), None)) is not None:
            value, at = _LITERALS[word], at + len(word)
        else:
            value, at = _number(text, at)
        while True:  # hand the value to its container; close every container that ends here
            if not stack:
                return value, at
            container, key = stack[-1]
            if key is None:
                container.append(value)
            else:
                container[key] = value  # a repeated name: the last value wins, as in V8
            at = _skip(text, at)
            sep = text[at : at + 1]
            if sep == ",":
                at = _skip(text, at + 1)
                if key is not None:
                    key, at = _key(text, at)
                    stack[-1] = (container, key)
                break
            if sep != ("]" if key is None else "}"):
                raise ValueError(f"expected ',' or a closing bracket at {at}")
            stack.pop()
            value, at = container, at + 1


def _key(text: str, at: int) -> tuple[str, int]:
    """An object member's name and the ``:`` after it; where its value starts."""
    if text[at : at + 1] != '"':
        raise ValueError(f"expected a property name at {at}")
    key, at = json.decoder.scanstring(text, at + 1, True)
    at = _skip(text, at)
    if text[at : at + 1] != ":":
        raise ValueError(f"expected ':' at {at}")
    return key, _skip(text, at + 1)


def _number(text: str, at: int) -> tuple[int | float, int]:
    match = _NUMBER.match(text, at)
    if match is None:
        raise ValueError(f"no JSON value at {at}")
    if match.group(2) is None and match.group(3) is None:
        return _js_int(match.group(1)), match.end()
    return float(match.group(0)), match.end()


def _js_int(digits: str) -> int | float:
    return int(digits) if len(digits) <= 300 else float(digits)


# JavaScript semantics --------------------------------------------------------------------------


def _falsy(value: object) -> bool:
    """JavaScript's ``!value``: undefined, null, false, 0 and "" (not [] or {}, as in Python)."""
    if value is None or value is _UNDEFINED or value is False:
        return True
    if isinstance(value, str):
        return value == ""
    return _is_number(value) and value == 0


def _is_number(value: object) -> bool:
    """``typeof value === 'number'``: a JSON number, never a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _property(value: Any, name: str) -> Any:
    """``value[name]`` as JavaScript reads it: only JSON objects have claims.

    Reading a property of ``null`` throws a ``TypeError`` (a ``typ: "JWT"`` token
    whose payload is ``null``); of a string, number, boolean or array it is undefined.
    """
    if value is None:
        raise JavaScriptError("TypeError", f"Cannot read properties of null (reading '{name}')")
    if isinstance(value, dict):
        return value.get(name, _UNDEFINED)
    return _UNDEFINED


# The key and the HMAC --------------------------------------------------------------------------


def _secret_key(secret: str) -> bytes:
    """The HMAC key jsonwebtoken makes of ``secret``: its UTF-8 bytes (verify.js lines 120-130).

    ``createPublicKey`` is tried first: PEM key material becomes an asymmetric
    key there, which this port does not model (see rule 6 of the module docstring).
    """
    if not isinstance(secret, str):
        raise ConfigurationError(
            f"the secret must be a str, got {type(secret).__name__}",
            "this port covers jwt.verify(token, secret) as the source article calls it",
        )
    data = secret.encode("utf-8", "surrogatepass")
    if _is_pem_key(data):
        raise ConfigurationError(
            "the secret is PEM key material: jsonwebtoken would make it an asymmetric key",
            "this port covers the article's string secret; see labkit.verify for keys",
        )
    return data


def _is_pem_key(data: bytes) -> bool:
    """True if Node's ``createPublicKey`` would take ``data``: a PEM key or certificate."""
    if b"-----BEGIN" not in data:
        return False
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    loaders = (
        serialization.load_pem_public_key,
        lambda pem: serialization.load_pem_private_key(pem, None),
        x509.load_pem_x509_certificate,
    )
    for load in loaders:
        try:
            load(data)
        except (ValueError, TypeError):  # not this kind of PEM (or an encrypted private key)
            continue
        except Exception:  # a key type cryptography does not support is key material still
            return True
        return True
    return False


def _hmac_matches(alg: str, key: bytes, token: str) -> bool:
    """jwa's HMAC verifier: the received segment against the computed one, as strings.

    jws signs ``token.split('.', 2).join('.')`` (verify-stream.js lines 26-28);
    jwa compares base64url text, so only the canonical encoding matches.
    """
    head, body, signature = token.split(".")
    mac = hmac.new(key, f"{head}.{body}".encode(), _HASHES[alg]).digest()
    expected = base64.urlsafe_b64encode(mac).rstrip(b"=")
    return hmac.compare_digest(signature.encode("utf-8", "surrogatepass"), expected)
