"""Answer banks for notebook 15 (DPoP): insecure look-alikes refused, other right answers accepted.

15.1's wrong verifiers each leave out one check of RFC 9449 section 4.3 (or refuse too
much); 15.2's wrong thumbprints are the RFC 7638 mistakes people make; 15.3's wrong
clients each get a 401 from a real hardened local API over loopback HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from exercise_banks import Bank, Right, Wrong, bank_tests, extended

import labkit
from labkit import dpop, keys, tokens
from labkit.attacks import dpop as attacks
from labkit.exercises import get


def solved(exercise_id: str) -> Any:
    namespace: dict[str, Any] = {"labkit": labkit, "requests": requests}
    exec(get(exercise_id).solution, namespace)
    return namespace["answer"]


# 15.1 · A proof verifier -------------------------------------------------------------------------


def verifier(**change: Any) -> Any:
    """verify_proof wired right, with a fresh cache, but for the one ``change``."""
    cache = dpop.ReplayCache()

    def check(proof: str, method: str, url: str, access_token: str, jkt: str, now: float) -> Any:
        claims = tokens.parse(proof).payload
        own = tokens.parse(proof).header.get("jwk")
        options: dict[str, Any] = {
            "htm": method,
            "htu": url,
            "access_token": access_token,
            "jkt": jkt,
            "replay": cache,
            "now": now,
        }
        for name, value in change.items():
            options[name] = value(claims, own) if callable(value) else value
        return dpop.verify_proof(proof, **options).claims

    return check


def per_request_cache(proof: str, method: str, url: str, access_token: str, jkt: str, now: float):
    return dpop.verify_proof(
        proof,
        htm=method,
        htu=url,
        access_token=access_token,
        jkt=jkt,
        replay=dpop.ReplayCache(),
        now=now,
    ).claims


_HEADER_ALG_CACHE = dpop.ReplayCache()


def alg_from_header(proof: str, method: str, url: str, access_token: str, jkt: str, now: float):
    claims = attacks.verify_alg_from_header(
        proof, htm=method, htu=url, access_token=access_token, jkt=jkt, now=now
    )
    _HEADER_ALG_CACHE.remember(claims["jti"], url.split("?")[0])
    return claims


_RIGHT = verifier()


def as_value_error(proof: str, *args: Any) -> Any:
    try:
        return _RIGHT(proof, *args)
    except labkit.InvalidTokenError as exc:
        raise ValueError(str(exc)) from None


def refuses_all(*args: Any) -> Any:
    raise labkit.InvalidTokenError("no")


def raw_htu(proof: str, method: str, url: str, access_token: str, jkt: str, now: float):
    if tokens.parse(proof).payload.get("htu") != url:  # the query string makes it differ
        raise labkit.InvalidTokenError("wrong htu")
    return _RIGHT(proof, method, url, access_token, jkt, now)


_SEEN: set[str] = set()


def by_hand(proof: str, method: str, url: str, access_token: str, jkt: str, now: float):
    """Every item of RFC 9449 section 4.3 written out with the kit's primitives."""
    parsed = tokens.parse(proof)
    header, claims = parsed.header, parsed.payload
    if header.get("typ") != "dpop+jwt" or header.get("alg") not in ("ES256", "EdDSA", "RS256"):
        raise labkit.InvalidTokenError("typ or alg")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or any(m in jwk for m in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise labkit.InvalidTokenError("jwk")
    labkit.verify_jws(proof, jwk, algorithms=[header["alg"]])
    if claims.get("htm") != method or claims.get("htu") != url.split("?")[0]:
        raise labkit.InvalidTokenError("request")
    if not now - 60 <= claims.get("iat", 0) <= now + 5:
        raise labkit.InvalidTokenError("iat")
    if claims.get("ath") != dpop.access_token_hash(access_token) or keys.thumbprint(jwk) != jkt:
        raise labkit.InvalidTokenError("binding")
    if not isinstance(claims.get("jti"), str) or claims["jti"] in _SEEN:
        raise labkit.InvalidTokenError("no jti, or a replay")
    _SEEN.add(claims["jti"])
    return claims


BANK_15_1 = Bank(
    wrong=(
        Wrong("no-replay-cache", verifier(replay=None), "a replay"),
        Wrong("a-cache-per-request", per_request_cache, "a replay"),
        Wrong("ath-not-checked", verifier(access_token=None), "another access token"),
        Wrong(
            "key-compared-with-itself",
            verifier(jkt=lambda c, jwk: keys.thumbprint(jwk)),
            "another key",
        ),
        Wrong("htu-from-the-proof", verifier(htu=lambda c, jwk: c["htu"]), "another URL"),
        Wrong("htm-from-the-proof", verifier(htm=lambda c, jwk: c["htm"]), "POST"),
        Wrong("no-future-bound", verifier(leeway=math.inf), "an hour ahead"),
        Wrong("no-age-bound", verifier(max_age=math.inf), "an hour ago"),
        Wrong("alg-from-the-header", alg_from_header, "alg none"),
        Wrong("value-error", as_value_error, "raised ValueError"),
        Wrong("refuses-everything", refuses_all, "a valid proof was refused"),
        Wrong("htu-compared-with-its-query", raw_htu, "a valid proof was refused"),
    ),
    right=(
        Right("solution", solved("15.1")),
        Right("by-hand", by_hand),
        Right("es256-only", verifier(algorithms=["ES256"])),
    ),
)


# 15.2 · cnf.jkt by hand --------------------------------------------------------------------------

REQUIRED = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def canonical(jwk: dict[str, Any], **dumps: Any) -> bytes:
    members = {m: jwk[m] for m in REQUIRED[jwk["kty"]]}
    return json.dumps(members, **{"separators": (",", ":"), **dumps}).encode()


def refuse_private(jwk: dict[str, Any]) -> None:
    if "d" in jwk:
        raise ValueError("private")


def whole_jwk(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)
    text = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
    return tokens.b64url_encode(hashlib.sha256(text).digest())


def hex_digest(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)
    return hashlib.sha256(canonical(jwk)).hexdigest()


def padded(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical(jwk)).digest()).decode()


def standard_base64(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)
    return base64.b64encode(hashlib.sha256(canonical(jwk)).digest()).decode()


def with_spaces(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)
    text = json.dumps({m: jwk[m] for m in REQUIRED[jwk["kty"]]}).encode()
    return tokens.b64url_encode(hashlib.sha256(text).digest())


def unsorted(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)
    order = [m for m in ("kty", "n", "e", "crv", "x", "y") if m in REQUIRED[jwk["kty"]]]
    text = json.dumps({m: jwk[m] for m in order}, separators=(",", ":")).encode()
    return tokens.b64url_encode(hashlib.sha256(text).digest())


def sha1(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)
    return tokens.b64url_encode(hashlib.sha1(canonical(jwk)).digest())


def no_refusal(jwk: dict[str, Any]) -> str:
    return tokens.b64url_encode(hashlib.sha256(canonical(jwk)).digest())


def sorted_by_hand(jwk: dict[str, Any]) -> str:
    if {"d", "p", "q", "k"} & set(jwk):
        raise labkit.InvalidTokenError("a private JWK")
    needed = {"RSA": "e kty n", "EC": "crv kty x y", "OKP": "crv kty x"}[jwk["kty"]].split()
    text = "{" + ",".join(f'"{m}":"{jwk[m]}"' for m in sorted(needed)) + "}"
    return labkit.b64url_encode(hashlib.sha256(text.encode()).digest())


BANK_15_2 = Bank(
    wrong=(
        Wrong("every-member-hashed", whole_jwk, "hash only the required members"),
        Wrong("hex", hex_digest, "that is hex"),
        Wrong("padded", padded, "without padding"),
        Wrong("standard-base64", standard_base64, "without padding"),
        Wrong("json-with-spaces", with_spaces, "hash only the required members"),
        Wrong("members-unsorted", unsorted, "hash only the required members"),
        Wrong("sha1", sha1, "43 base64url characters"),
        Wrong("private-jwk-hashed", no_refusal, "holds 'd'"),
        Wrong("kits-keys-thumbprint-alone", keys.thumbprint, "holds 'd'"),
    ),
    right=(
        Right("solution", solved("15.2")),
        Right("labkit-dpop-thumbprint", dpop.thumbprint),
        Right("sorted-by-hand", sorted_by_hand),
    ),
)


# 15.3 · A DPoP client ----------------------------------------------------------------------------


def client(
    *,
    scheme: str = "DPoP",
    retry: bool = True,
    same_proof: bool = False,
    ath: bool = True,
    fresh_key: bool = False,
    iat_ms: bool = False,
    path: str = "/api/profile",
) -> Any:
    def call(base_url: str, token: str, key: Any) -> requests.Response:
        url, nonce, proof = f"{base_url}/api/profile", None, None
        for _ in range(2 if retry else 1):
            if proof is None or not same_proof:
                signer = ec.generate_private_key(ec.SECP256R1()) if fresh_key else key
                iat = int(time.time() * 1000) if iat_ms else None
                proof = dpop.make_proof(
                    signer,
                    "GET",
                    f"{base_url}{path}",
                    nonce=nonce,
                    iat=iat,
                    access_token=token if ath else None,
                )
            reply = requests.get(
                url, headers={"Authorization": f"{scheme} {token}", "DPoP": proof}, timeout=10
            )
            nonce = reply.headers.get("DPoP-Nonce")
            if reply.status_code != 401 or nonce is None:
                return reply
        return reply

    return call


def kit_client(base_url: str, token: str, key: Any) -> requests.Response:
    return dpop.Client(key).request("GET", f"{base_url}/api/profile", access_token=token)


BANK_15_3 = Bank(
    wrong=(
        Wrong("bound-token-as-bearer", client(scheme="Bearer"), "HTTP 401"),
        Wrong("no-retry-on-the-nonce", client(retry=False), "use_dpop_nonce"),
        Wrong("same-proof-resent", client(same_proof=True), "HTTP 401"),
        Wrong("proof-without-ath", client(ath=False), "HTTP 401"),
        Wrong("a-new-key-per-request", client(fresh_key=True), "HTTP 401"),
        Wrong("iat-in-milliseconds", client(iat_ms=True), "in the future"),
        Wrong("htu-of-the-base-url", client(path=""), "HTTP 401"),
    ),
    right=(
        Right("solution", solved("15.3")),
        Right("kit-client", kit_client),
    ),
)


# A walk-through's finds: look-alikes the first banks let through -------------------------------


def _stripped(url: str) -> str:
    return url.split("#", 1)[0].split("?", 1)[0]


def htu_compared(compare: Any) -> Any:
    """verify_proof wired right, but htu judged by ``compare(proof_htu, request_url)``."""
    cache = dpop.ReplayCache()

    def check(proof: str, method: str, url: str, access_token: str, jkt: str, now: float) -> Any:
        htu = tokens.parse(proof).payload.get("htu")
        if not isinstance(htu, str) or not compare(htu, _stripped(url)):
            raise labkit.InvalidTokenError("wrong htu")
        return dpop.verify_proof(
            proof, htm=method, htu=htu, access_token=access_token, jkt=jkt, replay=cache, now=now
        ).claims

    return check


def claim_optional(name: str) -> Any:
    """Every item of section 4.3 by hand, but ``name`` checked only when the proof carries it."""
    seen: set[str] = set()

    def check(proof: str, method: str, url: str, access_token: str, jkt: str, now: float) -> Any:
        parsed = tokens.parse(proof)
        header, claims = parsed.header, parsed.payload
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
            raise labkit.InvalidTokenError("typ or alg")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or "d" in jwk:
            raise labkit.InvalidTokenError("jwk")
        labkit.verify_jws(proof, jwk, algorithms=["ES256"])
        present = {n: n in claims or n != name for n in ("ath", "jti")}
        if claims.get("htm") != method or claims.get("htu") != _stripped(url):
            raise labkit.InvalidTokenError("request")
        if not now - 60 <= claims.get("iat", 0) <= now + 5:
            raise labkit.InvalidTokenError("iat")
        if present["ath"] and claims.get("ath") != dpop.access_token_hash(access_token):
            raise labkit.InvalidTokenError("ath")
        if keys.thumbprint(jwk) != jkt:
            raise labkit.InvalidTokenError("key")
        if present["jti"]:
            if not isinstance(claims.get("jti"), str) or claims["jti"] in seen:
                raise labkit.InvalidTokenError("no jti, or a replay")
            seen.add(claims["jti"])
        return claims

    return check


class Forgetful:
    """A jti cache that keeps only the last ``size`` proofs (evicting the oldest)."""

    def __init__(self, size: int) -> None:
        self.size, self.seen = size, []  # type: ignore[var-annotated]

    def __call__(self, proof: str, method: str, url: str, access_token: str, jkt: str, now: float):
        claims = dpop.verify_proof(
            proof, htm=method, htu=url, access_token=access_token, jkt=jkt, now=now
        ).claims
        if claims["jti"] in self.seen:
            raise labkit.InvalidTokenError("replay")
        self.seen = [*self.seen, claims["jti"]][-self.size :]
        return claims


def jkt_compared(compare: Any) -> Any:
    cache = dpop.ReplayCache()

    def check(proof: str, method: str, url: str, access_token: str, jkt: str, now: float) -> Any:
        checked = dpop.verify_proof(
            proof,
            htm=method,
            htu=url,
            access_token=access_token,
            replay=cache,
            now=now,
            jkt=dpop.thumbprint(tokens.parse(proof).header["jwk"]),
        )
        if not compare(checked.jkt, jkt):
            raise labkit.InvalidTokenError("another key")
        return checked.claims

    return check


def rsa_from_the_rfc(jwk: dict[str, Any]) -> str:
    """RFC 7638's example answer for any RSA key: right on the vector, wrong on every other."""
    if jwk.get("kty") == "RSA":
        return "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    return sorted_by_hand(jwk)


def d_refused_for_ec_only(jwk: dict[str, Any]) -> str:
    if jwk.get("kty") == "EC" and "d" in jwk:
        raise ValueError("private")
    return no_refusal(jwk)


def known_decoys_dropped(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)
    kept = {k: v for k, v in jwk.items() if k not in ("kid", "alg", "use", "key_ops")}
    text = json.dumps(kept, sort_keys=True, separators=(",", ":")).encode()
    return tokens.b64url_encode(hashlib.sha256(text).digest())


def oct_thumbprinted(jwk: dict[str, Any]) -> str:
    refuse_private(jwk)  # 'd' only: an oct key's 'k' goes through
    needed = {**REQUIRED, "oct": ("k", "kty")}[jwk["kty"]]
    text = json.dumps({m: jwk[m] for m in needed}, separators=(",", ":")).encode()
    return tokens.b64url_encode(hashlib.sha256(text).digest())


def sort_keys_and_public_only(jwk: dict[str, Any]) -> str:
    if jwk.get("kty") not in REQUIRED or {"d", "p", "q", "dp", "dq", "qi", "k"} & set(jwk):
        raise labkit.InvalidTokenError("not a public RSA, EC or OKP key")
    return tokens.b64url_encode(hashlib.sha256(canonical(jwk, sort_keys=True)).digest())


BANKS = extended(
    {"15.1": BANK_15_1, "15.2": BANK_15_2, "15.3": BANK_15_3},
    wrong={
        "15.1": (
            Wrong("htu-prefix", htu_compared(lambda htu, url: url.startswith(htu)), "a prefix"),
            Wrong("htu-lower-cased", htu_compared(lambda h, u: h.lower() == u.lower()), "/API/"),
            Wrong(
                "htu-path-only",
                htu_compared(lambda h, u: urlsplit(h).path == urlsplit(u).path),
                "https://evil.example",
            ),
            Wrong(
                "htu-trailing-slash-trimmed",
                htu_compared(lambda h, u: h.rstrip("/") == u.rstrip("/")),
                "a trailing slash",
            ),
            Wrong(
                "htu-without-scheme",
                htu_compared(lambda h, u: h.split("://")[-1] == u.split("://")[-1]),
                "plain http",
            ),
            Wrong("ten-minutes-back", verifier(max_age=600), "10 minutes ago"),
            Wrong("two-minutes-ahead", verifier(leeway=300), "2 minutes ahead"),
            Wrong("ath-only-if-present", claim_optional("ath"), "without ath"),
            Wrong("jti-only-if-present", claim_optional("jti"), "without jti"),
            Wrong("cache-of-ten", Forgetful(10), "30 proofs later"),
            Wrong("jkt-prefix", jkt_compared(lambda a, b: a[:20] == str(b)[:20]), "last char"),
            Wrong(
                "jkt-case-folded", jkt_compared(lambda a, b: a.lower() == str(b).lower()), "case"
            ),
            Wrong("jkt-skipped-when-absent", jkt_compared(lambda a, b: not b or a == b), "None"),
        ),
        "15.2": (
            Wrong("rfc-answer-for-any-rsa", rsa_from_the_rfc, "for the RSA key"),
            Wrong("d-refused-for-ec-only", d_refused_for_ec_only, "holds 'd'"),
            Wrong("known-decoys-dropped", known_decoys_dropped, "hash only the required members"),
            Wrong("oct-key-thumbprinted", oct_thumbprinted, "symmetric (oct)"),
        ),
    },
    right={
        "15.1": (
            Right("wider-but-sane-window", verifier(max_age=120, leeway=10)),
            Right(
                "htu-normalised-by-hand",
                htu_compared(lambda h, u: dpop.normalize_htu(h) == dpop.normalize_htu(u)),
            ),
        ),
        "15.2": (Right("sort-keys-public-only", sort_keys_and_public_only),),
    },
)
test_wrong_answer_is_refused, test_right_answer_is_accepted = bank_tests(BANKS)


def test_every_exercise_has_a_bank_of_look_alikes() -> None:
    from labkit.exercises import dpop as bank

    assert {e.id for e in bank.EXERCISES} == set(BANKS)
    for eid, b in BANKS.items():
        assert len(b.wrong) >= 5 and len(b.right) >= 2, eid
