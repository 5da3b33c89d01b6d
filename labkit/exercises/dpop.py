"""Exercises for notebook 15: sender-constrained tokens (DPoP, RFC 9449).

15.1 takes the learner's proof verifier and throws what an attacker sends at it
(RFC 9449 section 4.3, item by item): a replayed proof, one for another URL or
method, one dated an hour ahead or an hour ago, ``alg: none``, an HMAC proof, a
proof whose ``jwk`` carries the private key, one made for another access token,
one signed by a thief's key, one typed ``JWT``; between them, fresh valid
proofs that must pass. 15.2 checks a by-hand ``cnf.jkt`` (RFC 7638) against the
RFCs' own examples and fresh keys dressed with decoy members, and wants a
private JWK refused. 15.3 runs the learner's client against a fresh hardened
local API, which requires server nonces (sections 8 and 9).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from labkit import algorithms, dpop, keys, tokens
from labkit.errors import InvalidTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise

__all__ = ["EXERCISES"]

_URL = "https://api.labkit.local/api/profile"


# 15.1 · A proof verifier ------------------------------------------------------------------------


def _verifier(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    victim, thief = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    token = f"at-{secrets.token_urlsafe(24)}"
    jkt, now = dpop.thumbprint(victim), int(time.time())

    def made(key: Any = victim, **kw: Any) -> str:
        kw.setdefault("iat", now)
        return dpop.make_proof(
            key, kw.pop("htm", "GET"), kw.pop("htu", _URL), access_token=kw.pop("at", token), **kw
        )

    def call(proof: str, url: str = _URL, bound: str | None = jkt, at: float = now) -> tuple:
        try:
            result = answer(proof, "GET", url, token, bound, at)
        except InvalidTokenError as exc:
            return "refused", exc
        except Exception as exc:  # the learner's code may raise anything
            return "other", exc
        return "accepted", result

    first = made()
    for proof, url in ((first, _URL), (made(), _URL + "?page=2")):
        verdict, result = call(proof, url)
        if verdict != "accepted":
            return (
                f"a valid proof was refused ({type(result).__name__}: {result}); only refuse "
                "what RFC 9449 4.3 refuses"
            )
        if result is None:
            return NOT_ATTEMPTED
    header, claims = (tokens.parse(first).header, tokens.parse(first).payload)
    for label, proof, bound, why in _attacks(
        made, victim, thief, header, claims, first, jkt, token
    ):
        verdict, result = call(proof, bound=bound)
        if verdict == "accepted":
            return f"your verifier accepted {label}: {why}"
        if verdict == "other":
            return (
                f"{label} raised {type(result).__name__}: refuse with labkit.InvalidTokenError "
                "(or a subclass), so a caller can tell a bad proof from a bug"
            )
    for _ in range(30):  # an honest client's next requests, then the first proof again
        verdict, result = call(made())
        if verdict != "accepted":
            return (
                "after the attacks, a fresh valid proof was refused "
                f"({type(result).__name__}: {result}): refuse proofs, not the client"
            )
    verdict, result = call(first, at=now + 30)
    if verdict == "accepted":
        return (
            "your verifier accepted the first proof again, 30 s and 30 proofs later (still inside "
            "its iat window): remember every jti for as long as its proof could be accepted, "
            "however many come in between (section 11.1)"
        )
    return None


def _attacks(
    made: Any,
    victim: Any,
    thief: Any,
    header: dict[str, Any],
    claims: dict[str, Any],
    first: str,
    jkt: str,
    token: str,
) -> list[tuple[str, str, str | None, str]]:
    """(what it is, the proof, the jkt the token carries, why it must be refused)."""
    now, host = claims["iat"], "https://api.labkit.local"
    off_by_one = jkt[:-1] + ("A" if jkt[-1] != "A" else "B")
    htu = "compare htu with the request's URL, whole, after RFC 3986 normalisation (item 9)"
    return [
        (
            "the same proof a second time (a replay)",
            first,
            jkt,
            "remember each jti (labkit.dpop.ReplayCache) and refuse it when seen again",
        ),
        (
            "a proof for another URL",
            made(htu=f"{host}/api/admin"),
            jkt,
            "compare htu with the request's URL (section 4.3 item 9)",
        ),
        (f"a proof for {host}/api, a prefix of the URL", made(htu=f"{host}/api"), jkt, htu),
        (f"a proof for {_URL}/ (a trailing slash)", made(htu=_URL + "/"), jkt, htu),
        (
            f"a proof for {host}/API/PROFILE (paths are case-sensitive)",
            made(htu=f"{host}/API/PROFILE"),
            jkt,
            htu,
        ),
        (
            "a proof for the same path on https://evil.example",
            made(htu="https://evil.example/api/profile"),
            jkt,
            htu + ": another server's proof must not work here",
        ),
        (
            "a proof for the same URL over plain http",
            made(htu=_URL.replace("https", "http", 1)),
            jkt,
            htu,
        ),
        (
            "a proof for POST",
            made(htm="POST"),
            jkt,
            "compare htm with the request's method (item 8)",
        ),
        (
            "a proof dated an hour ahead",
            made(iat=now + 3600),
            jkt,
            "refuse an iat beyond a few seconds of clock skew (section 11.1)",
        ),
        (
            "a proof dated 2 minutes ahead",
            made(iat=now + 120),
            jkt,
            "allow seconds of clock skew, not minutes: a pre-made proof is an attacker's (11.2)",
        ),
        (
            "a proof made an hour ago",
            made(iat=now - 3600),
            jkt,
            "accept a proof only briefly after its iat (section 11.1)",
        ),
        (
            "a proof made 10 minutes ago",
            made(iat=now - 600),
            jkt,
            "accept a proof for a minute or so after its iat, not for many (section 11.1)",
        ),
        (
            "an alg none proof with the victim's public jwk",
            _none_proof(header, claims),
            jkt,
            "the alg must be an asymmetric one you allow, never none (section 11.6)",
        ),
        (
            "an HS256 proof with its secret in the jwk",
            _hmac_proof(header, claims),
            jkt,
            "HMAC proves nothing about a key pair: asymmetric algorithms only (4.2)",
        ),
        (
            "a proof whose jwk holds the private key",
            _private_jwk_proof(victim, header, claims),
            jkt,
            "the jwk must hold no private member (item 7)",
        ),
        (
            "a proof made for another access token",
            made(at=f"{token}x"),
            jkt,
            "check ath, the hash of the presented token (item 12)",
        ),
        (
            "a proof signed by another key than cnf.jkt",
            made(thief),
            jkt,
            "compare the proof key's thumbprint with the token's cnf.jkt (item 12)",
        ),
        (
            "the victim's proof, for a token whose cnf.jkt differs in its last character",
            made(),
            off_by_one,
            "compare the thumbprint with cnf.jkt whole and exactly",
        ),
        (
            "the victim's proof, for a token whose cnf.jkt is in another case",
            made(),
            jkt.swapcase(),
            "compare the thumbprint with cnf.jkt exactly: base64url is case-sensitive",
        ),
        (
            "a proof for a token without cnf.jkt (jkt None)",
            made(),
            None,
            "a token bound to no key must not pass as DPoP-bound: no jkt, no access (section 7.1)",
        ),
        *(
            (
                f"a proof without {name}",
                _without(victim, header, claims, name),
                jkt,
                f"section 4.2 requires {name}: refuse a proof without it, never skip its check",
            )
            for name in ("ath", "jti", "iat", "htu", "htm")
        ),
        (
            "a proof typed JWT, not dpop+jwt",
            _retyped(victim, header, claims),
            jkt,
            "typ must be dpop+jwt (item 4, section 11.5)",
        ),
    ]


def _without(key: Any, header: dict[str, Any], claims: dict[str, Any], name: str) -> str:
    claims = {**claims, "jti": secrets.token_urlsafe(16)}
    claims.pop(name)
    signature = algorithms.sign("ES256", key, tokens.signing_input(header, claims))
    return tokens.encode(header, claims, signature)


def _resigned(key: Any, header: dict[str, Any], claims: dict[str, Any], alg: str = "ES256") -> str:
    claims = {**claims, "jti": secrets.token_urlsafe(16)}
    signature = algorithms.sign(alg, key, tokens.signing_input(header, claims))
    return tokens.encode(header, claims, signature)


def _none_proof(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return tokens.encode({**header, "alg": "none"}, {**claims, "jti": secrets.token_urlsafe(16)})


def _hmac_proof(header: dict[str, Any], claims: dict[str, Any]) -> str:
    secret = secrets.token_bytes(32)
    jwk = {"kty": "oct", "k": tokens.b64url_encode(secret)}
    return _resigned(secret, {**header, "alg": "HS256", "jwk": jwk}, claims, "HS256")


def _private_jwk_proof(key: Any, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _resigned(key, {**header, "jwk": keys.to_jwk(key, private=True, use=None)}, claims)


def _retyped(key: Any, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _resigned(key, {**header, "typ": "JWT"}, claims)


# 15.2 · cnf.jkt by hand -------------------------------------------------------------------------

_RFC_JWKS = (
    (  # RFC 7638 section 3.1
        {
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
            "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5"
            "v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08q"
            "NLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awap"
            "JzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29",
        },
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
    ),
    (  # RFC 9449 sections 4.1 and 6.1
        {
            "kty": "EC",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
            "crv": "P-256",
        },
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
    ),
)


def _thumbprint(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    fresh = [
        ec.generate_private_key(ec.SECP256R1()),
        ed25519.Ed25519PrivateKey.generate(),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ]
    cases = [*_RFC_JWKS]
    for key in fresh:
        jwk = keys.to_jwk(key.public_key(), kid=secrets.token_hex(4), alg=None, use="sig")
        alg = {"EC": "ES256", "OKP": "EdDSA"}.get(jwk["kty"], "PS256")
        decoys = {"alg": alg, "key_ops": ["verify"], "ext": True}  # as WebCrypto exports it
        decoyed = dict(reversed(list({**jwk, **decoys}.items())))
        cases.append((decoyed, keys.thumbprint(key.public_key())))
    for jwk, expected in cases:
        got = answer(dict(jwk))
        if got is None:
            return NOT_ATTEMPTED
        if not isinstance(got, str):
            return f"return the thumbprint as a str, not {type(got).__name__}"
        if got != expected:
            return f"for the {jwk['kty']} key {_shown_jwk(jwk)} you gave {got!r}: {_hint(got)}"
    secret = {"kty": "oct", "k": tokens.b64url_encode(secrets.token_bytes(32))}
    for private in (*(keys.to_jwk(key, private=True, use=None) for key in fresh), secret):
        try:
            got = answer(private)
        except Exception:  # any refusal will do here
            continue
        if private["kty"] == "oct":
            return (
                f"you computed {got!r} for a symmetric (oct) JWK, whose 'k' is the secret "
                "itself: refuse it, a token is bound to a public key (RFC 9449 section 6.1)"
            )
        return (
            f"you computed {got!r} for an {private['kty']} JWK that holds 'd', the private key: "
            "refuse it, a token must never be bound to a key whose private half travels in "
            "the open"
        )
    return None


def _shown_jwk(jwk: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: ..." for k in jwk) + "}"


def _hint(got: str) -> str:
    if "=" in got or "+" in got or "/" in got:
        return "base64url without padding, as RFC 7515 section 2 encodes"
    if len(got) == 64 and all(c in "0123456789abcdef" for c in got):
        return "that is hex: encode the SHA-256 digest's bytes as base64url"
    if len(got) != 43:
        return "a SHA-256 thumbprint is 32 bytes, 43 base64url characters"
    return (
        "hash only the required members (RFC 7638 section 3.2: e, kty, n for RSA; crv, kty, x, "
        "y for EC; crv, kty, x for OKP), sorted, as JSON without spaces"
    )


# 15.3 · A client that answers the nonce challenge ------------------------------------------


def _client(answer: Any) -> str | None:
    import requests

    from labkit.aws import serve

    if not callable(answer):
        return "pass your function itself (no parentheses)"
    key = ec.generate_private_key(ec.SECP256R1())
    with serve("hardened") as api:
        login = dpop.Client(key).request(
            "POST", f"{api.url}/login", json={"username": "alice", "password": "wonderland"}
        )
        token = login.json()["access_token"]
        for attempt in ("first", "second"):
            reply = answer(api.url, token, key)
            if reply is None:
                return NOT_ATTEMPTED
            if not isinstance(reply, requests.Response):
                return f"return the requests.Response, not {type(reply).__name__}"
            if reply.status_code != 200:
                challenge = reply.headers.get("WWW-Authenticate", "no WWW-Authenticate")
                return f"the {attempt} call got HTTP {reply.status_code}: {challenge}"
            if reply.json().get("sub") != "alice":
                return "that is not alice's profile"
        refused = [e for e in api.gateway.log if e.outcome == "DPoP refused"]
        others = [e.reason for e in refused if "nonce" not in e.reason]
        if others:
            return f"the API refused one of your requests on the way: {others[0]}"
    return None


EXERCISES = (
    Exercise(
        id="15.1",
        title="A DPoP proof verifier that an attacker cannot fool",
        verify=_verifier,
        hints=(
            "labkit.dpop.verify_proof makes every check of RFC 9449 section 4.3, but only with "
            "what you give it: the request's method and URL, the access token (for ath), the "
            "token's cnf.jkt, and a replay cache.",
            "Create one labkit.dpop.ReplayCache() outside the function and pass it as replay=; "
            "pass access_token= and jkt= on every call, now=now, and return .claims.",
        ),
        solution="""\
cache = labkit.dpop.ReplayCache()  # one for the service, not one per request


def check_proof(proof: str, method: str, url: str, access_token: str, jkt: str, now: float):
    checked = labkit.dpop.verify_proof(
        proof, htm=method, htu=url, access_token=access_token, jkt=jkt, replay=cache, now=now
    )
    return checked.claims


answer = check_proof""",
        starter="""\
def check_proof(proof: str, method: str, url: str, access_token: str, jkt: str, now: float):
    ...  # return the proof's claims, or raise labkit.InvalidTokenError


answer = check_proof""",
        success="Replay, another URL or method, a stale or future iat, none, HMAC, a private "
        "jwk, another token, another key: each refused, and the honest client still gets in.",
    ),
    Exercise(
        id="15.2",
        title="cnf.jkt by hand: the RFC 7638 thumbprint",
        verify=_thumbprint,
        hints=(
            "RFC 7638 section 3.2: hash only the required members of the key type, in "
            "lexicographic order, as JSON with no whitespace; then SHA-256; then base64url.",
            'json.dumps({m: jwk[m] for m in ("crv", "kty", "x", "y")}, separators=(",", ":")) '
            "for EC; and raise first if the JWK holds 'd'.",
        ),
        solution="""\
import hashlib
import json

REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def jkt(jwk: dict) -> str:
    if any(name in jwk for name in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise ValueError("this JWK holds a private key: never bind a token to it")
    canonical = json.dumps({m: jwk[m] for m in REQUIRED[jwk["kty"]]}, separators=(",", ":"))
    return labkit.b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


answer = jkt""",
        starter="""\
def jkt(jwk: dict) -> str:
    ...  # your code here: the base64url SHA-256 thumbprint of the public JWK


answer = jkt""",
        success="Same key, same jkt, whatever kid, alg or member order: that is what the "
        "token's binding relies on.",
    ),
    Exercise(
        id="15.3",
        title="A DPoP client that answers the server's nonce",
        verify=_client,
        hints=(
            "Send Authorization: DPoP <token> and a DPoP header with a fresh proof "
            "(labkit.dpop.make_proof with access_token=token). The hardened API first answers "
            "401 with a DPoP-Nonce header: retry once with nonce= that value.",
            "A retry needs a NEW proof (a new jti): the server never accepts one proof twice.",
        ),
        solution="""\
def call_profile(base_url: str, token: str, key):
    url, nonce = f"{base_url}/api/profile", None
    for _ in range(2):
        proof = labkit.dpop.make_proof(key, "GET", url, access_token=token, nonce=nonce)
        reply = requests.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
        nonce = reply.headers.get("DPoP-Nonce")
        if reply.status_code != 401 or nonce is None:
            return reply
    return reply


answer = call_profile""",
        starter="""\
def call_profile(base_url: str, token: str, key):
    ...  # GET /api/profile with the bound token; return the requests.Response


answer = call_profile""",
        success="The nonce dates every proof by the server's own clock: a proof made in "
        "advance is useless once the nonce moves on (RFC 9449 section 11.2).",
    ),
)
