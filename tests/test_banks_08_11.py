"""Answer banks for notebooks 08 to 11: insecure look-alikes refused, other right answers accepted.

Each ``Wrong`` is an answer a learner could write that looks right and is not, with the
fragment the refusal must contain; insecure look-alikes come first. Each ``Right`` is a
correct answer written differently from the bank's solution. Exercises that talk to a
service do it for real: 10.2's functions log in at the checker's own loopback API, and
11.1/11.2's tokens go over HTTP to a fresh loopback copy of the service. Below the banks,
two tests tie the answer keys to the live gateway: 09.2's statuses and 10.1's worst case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http
import secrets
import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from exercise_banks import Bank, Right, Wrong, bank_tests, extended, reads_the_checkers_locals

import labkit
import labkit.aws
from labkit import ecdsa, examples, keys, tokens
from labkit.attacks import confusion, psychic
from labkit.aws import AuthPolicy, FrozenClock
from labkit.aws.policy import HTTP_VERBS, MethodArn
from labkit.ecdsa import N, P
from labkit.exercises import get
from labkit.exercises.authorizer import STATUS_SCENARIOS
from labkit.exercises.platform import ROTATION_STEPS

ISSUER, AUDIENCE = "https://idp.labkit.local", "labkit-api"


def solved(exercise_id: str, **names: Any) -> Any:
    """The bank solution's ``answer``, run in a namespace like the notebook's."""
    namespace: dict[str, Any] = {"labkit": labkit, "ecdsa": ecdsa, "requests": requests, **names}
    exec(get(exercise_id).solution, namespace)
    return namespace["answer"]


# 08 · Psychic signatures ---------------------------------------------------------------------

ALICE = dict(examples.LAB_CLAIMS)
MALLORY = {**ALICE, "sub": "mallory", "role": "admin"}
ES256 = {"alg": "ES256", "typ": "JWT"}
ZERO, R0_SN = bytes(64), bytes(32) + N.to_bytes(32, "big")
P256 = keys.demo_private_key("p256")


def forged_08(claims: dict[str, Any], signature: bytes = ZERO, header: Any = ES256) -> str:
    return tokens.encode(header, claims, signature)


BANK_08_1 = Bank(
    wrong=(
        Wrong(
            "signed-with-the-idp-key",
            labkit.sign_token(MALLORY, P256, "ES256"),
            "labkit.verify accepts it too",
        ),
        Wrong("exp-stretched", forged_08({**MALLORY, "exp": 4102444800}), "'exp' is 4102444800"),
        Wrong("extra-scope-claim", forged_08({**MALLORY, "scope": "predict"}), "add 'scope'"),
        Wrong("aud-dropped", forged_08({k: v for k, v in MALLORY.items() if k != "aud"}), "lost"),
        Wrong("role-casing", forged_08({**MALLORY, "role": "Admin"}), "role 'admin'"),
        Wrong("alg-hs256", forged_08(MALLORY, header={"alg": "HS256"}), "alg ES256"),
        Wrong("alg-lower-case", forged_08(MALLORY, header={"alg": "es256"}), "alg ES256"),
        Wrong("signature-32-bytes", forged_08(MALLORY, bytes(32)), "64 bytes"),
        Wrong("random-signature", forged_08(MALLORY, secrets.token_bytes(64)), "refused it"),
        Wrong("token-as-bytes", forged_08(MALLORY).encode(), "as a string"),
    ),
    right=(
        Right("r-0-s-n-no-typ", forged_08(MALLORY, R0_SN, {"alg": "ES256"})),
        Right("kit-forger-with-kid", psychic.forge(MALLORY, header={"kid": "idp-1"}).token),
        Right(
            "by-hand-base64url",
            ".".join(tokens.b64url_encode(tokens.json_bytes(part)) for part in (ES256, MALLORY))
            + "."
            + "A" * 86,
        ),
    ),
)


def _in_range(test: Any) -> Any:
    def in_range(r: int, s: int) -> bool:
        return test(r, s)

    return in_range


BANK_08_2 = Bank(
    wrong=(
        Wrong("zero-allowed", _in_range(lambda r, s: 0 <= r < N and 0 <= s < N), "psychic"),
        Wrong("bound-is-p", _in_range(lambda r, s: 0 < r < P and 0 < s < P), "not p"),
        Wrong("fits-32-bytes", _in_range(lambda r, s: 0 < r < 2**256 and 0 < s < 2**256), "2**256"),
        Wrong("nonzero-only", _in_range(lambda r, s: r != 0 and s != 0), "r = n is outside"),
        Wrong("no-upper-bound", _in_range(lambda r, s: r > 0 and s > 0), "r = n is outside"),
        Wrong("no-lower-bound", _in_range(lambda r, s: r < N and s < N), "psychic"),
        Wrong("not-0-mod-n", _in_range(lambda r, s: r % N != 0 and s % N != 0), "n + 1"),
        Wrong("r-only", _in_range(lambda r, s: 0 < r < N), "s = 0 is outside"),
        Wrong("upper-inclusive", _in_range(lambda r, s: 0 < r <= N and 0 < s <= N), "r = n is"),
        Wrong("abs-value", _in_range(lambda r, s: 0 < abs(r) < N and 0 < abs(s) < N), "negative"),
        Wrong(
            "knows-only-the-fixed-cases",
            _in_range(lambda r, s: (r, s) in {(1, 1), (N - 1, N - 1), (12345, N - 2)}),
            "both are inside 1 .. n-1",
        ),
        Wrong("bound-p-on-s", _in_range(lambda r, s: 0 < r < N and 0 < s < P), "not p"),
    ),
    right=(
        Right("inclusive-bounds", _in_range(lambda r, s: 1 <= r <= N - 1 and 1 <= s <= N - 1)),
        Right("range-membership", _in_range(lambda r, s: all(v in range(1, N) for v in (r, s)))),
        Right("min-max", _in_range(lambda r, s: min(r, s) >= 1 and max(r, s) < N)),
    ),
)

BANK_08_3 = Bank(
    wrong=(
        Wrong("the-notebooks-zeros", ZERO, "the one from the notebook"),
        Wrong("r-0-s-1", bytes(32) + (1).to_bytes(32, "big"), "w must be 0"),
        Wrong("r-n-s-n", N.to_bytes(32, "big") * 2, "r must come out as 0"),
        Wrong("s-n-little-endian", bytes(32) + N.to_bytes(32, "little"), "w must be 0"),
        Wrong("a-real-signature", ecdsa.sign(b"any message at all", P256), "r must come out"),
        Wrong("s-n-without-r", N.to_bytes(32, "big"), "64 bytes"),
        Wrong("hex-string", "00" * 32 + f"{N:064x}", "as bytes"),
        Wrong("as-integers", (0, N), "as bytes"),
    ),
    right=(
        Right("bytearray", bytearray(32) + bytearray(N.to_bytes(32, "big"))),
        Right("from-hex", bytes.fromhex("00" * 32 + f"{N:064x}")),
    ),
)


IDP_PUBLIC = keys.demo_public_key("p256")
API_08 = {"audience": AUDIENCE, "issuer": ISSUER, "now": 1767259800}  # notebook 08's clock


def _verified(token: str, **options: Any) -> dict[str, Any]:
    return labkit.verify(token, IDP_PUBLIC, algorithms=["ES256"], **{**API_08, **options})


def _pyjwt_jti(token: str) -> str:
    """PyJWT with jti required; its errors become labkit's."""
    try:
        claims = jwt.decode(
            token,
            IDP_PUBLIC,
            algorithms=["ES256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "jti"]},
            leeway=10**9,  # notebook 08's tokens are from its frozen 2026-01-01
        )
    except jwt.PyJWTError as exc:
        raise labkit.InvalidTokenError(str(exc)) from None
    return claims["jti"]


BANK_08_4 = Bank(
    wrong=(
        Wrong("the-token-string", lambda token: token, "twin got another key"),
        Wrong(
            "a-hash-of-the-token",
            lambda token: hashlib.sha256(token.encode()).hexdigest(),
            "twin got another key",
        ),
        Wrong("the-signature", lambda token: tokens.parse(token).signature, "twin got another key"),
        Wrong(
            "unverified-jti", lambda token: tokens.parse(token).payload["jti"], "verify the token"
        ),
        Wrong("jti-may-be-missing", lambda token: _verified(token).get("jti"), "without jti"),
        Wrong("jti-keyerror", lambda token: _verified(token)["jti"], "raised KeyError"),
        Wrong("the-claims-dict", lambda token: _verified(token), "hashable"),
        Wrong(
            "jti-and-signature",
            lambda token: (_verified(token)["jti"], tokens.parse(token).signature),
            "twin got another key",
        ),
        Wrong("the-subject", lambda token: _verified(token)["sub"], "another jti got the same key"),
    ),
    right=(
        Right(
            "issuer-and-jti",
            lambda token: "{iss}#{jti}".format(**_verified(token, required=("exp", "jti"))),
        ),
        Right("pyjwt-requiring-jti", _pyjwt_jti),
    ),
)


# 09 · The Lambda authorizer ------------------------------------------------------------------


def _admin(claims: dict[str, Any]) -> bool:
    return claims.get("role") == "admin"


def _policy(
    profile_verb: str = "GET",
    profile_path: str = "/api/profile",
    admin_paths: tuple[str, ...] = ("/api/admin", "/api/admin/*"),
    is_admin: Any = _admin,
    principal: Any = None,
    scoped: bool = True,
) -> Any:
    """A my_policy answer with one knob turned away from least privilege."""

    def my_policy(claims: dict, method_arn: str) -> dict:
        who = principal or claims["sub"]
        policy = AuthPolicy.for_arn(who, method_arn) if scoped else AuthPolicy(who)
        policy.allow(profile_verb, profile_path)
        if is_admin(claims):
            for path in admin_paths:
                policy.allow("*", path)
        return policy.build()

    return my_policy


def _article_policy(claims: dict, method_arn: str) -> dict:
    """The source article's answer: Allow exactly the methodArn that was asked."""
    return {
        "principalId": claims["sub"],
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn}
            ],
        },
    }


def _admins_get_everything(claims: dict, method_arn: str) -> dict:
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if claims["role"] == "admin":
        policy.allow_all()
    return policy.build()


def _wildcard_account(claims: dict, method_arn: str) -> dict:
    arn = MethodArn.parse(method_arn)
    policy = AuthPolicy(claims["sub"], region=arn.region, api_id=arn.api_id, stage=arn.stage)
    policy.allow("GET", "/api/profile")
    if claims["role"] == "admin":
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    return policy.build()


def _with_explicit_deny(claims: dict, method_arn: str) -> dict:
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if claims.get("role") == "admin":
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    else:
        policy.deny("*", "/api/admin").deny("*", "/api/admin/*")
    return policy.deny("*", "/api/predict").build(context={"sub": claims["sub"]})


def _every_verb(claims: dict, method_arn: str) -> dict:
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if claims["role"] == "admin":
        for verb in HTTP_VERBS:
            policy.allow(verb, "/api/admin").allow(verb, "/api/admin/*")
    return policy.build()


def _by_hand(claims: dict, method_arn: str) -> dict:
    api = method_arn.split("/", 2)[:2]  # arn:...:API_ID and STAGE
    base = "/".join(api)
    resources = [f"{base}/GET/api/profile"]
    if claims["role"] == "admin":
        resources += [f"{base}/*/api/admin", f"{base}/*/api/admin/*"]
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resources}
    return {
        "principalId": claims["sub"],
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
    }


BANK_09_1 = Bank(
    wrong=(
        Wrong("any-method-on-profile", _policy(profile_verb="*"), "allows POST /api/profile"),
        Wrong("wildcard-api-and-stage", _policy(scoped=False), "in account 999999999999"),
        Wrong("wildcard-account", _wildcard_account, "in account 999999999999"),
        Wrong(
            "substring-role-test",
            _policy(is_admin=lambda c: "admin" in c["role"]),
            "exactly equal to 'admin'",
        ),
        Wrong(
            "case-insensitive-role",
            _policy(is_admin=lambda c: c["role"].lower() == "admin"),
            "exactly equal to 'admin'",
        ),
        Wrong(
            "stripped-role",
            _policy(is_admin=lambda c: c["role"].strip() == "admin"),
            "exactly equal to 'admin'",
        ),
        Wrong("admin-prefix-glob", _policy(admin_paths=("/api/admin*",)), "/api/administrator"),
        Wrong("profile-subpaths", _policy(profile_path="/api/profile*"), "GET /api/profile/export"),
        Wrong("admins-get-everything", _admins_get_everything, "POST /api/predict"),
        Wrong("only-the-method-arn", _article_policy, "and cached, denies"),
        Wrong("principal-user", _policy(principal="user"), "principalId is 'user'"),
        Wrong("profile-one-char-glob", _policy(profile_path="/api/profil?"), "/api/profilx"),
        Wrong("admin-one-char-glob", _policy(admin_paths=("/api/admi?", "/api/admin/*")), "admix"),
        Wrong("admin-root-only", _policy(admin_paths=("/api/admin",)), "DELETE /api/admin/users"),
    ),
    right=(
        Right("explicit-denies", _with_explicit_deny),
        Right("every-verb-listed", _every_verb),
        Right("resources-by-hand", _by_hand),
    ),
)

STATUSES = solved("09.2")
BANK_09_2 = Bank(
    wrong=(
        Wrong("article-deny-for-bad-token", {**STATUSES, "bad-signature": 403}, "'bad-signature'"),
        Wrong("deny-as-401", {**STATUSES, "alice-admin": 401}, "'alice-admin'"),
        Wrong("crash-as-401", {**STATUSES, "authorizer-crash": 401}, "'authorizer-crash'"),
        Wrong("bad-answer-as-502", {**STATUSES, "context-list": 502}, "'context-list'"),
        Wrong("no-header-as-403", {**STATUSES, "no-header": 403}, "'no-header'"),
        Wrong("missing-scope-as-401", {**STATUSES, "alice-predict": 401}, "'alice-predict'"),
        Wrong("codes-as-strings", {k: str(v) for k, v in STATUSES.items()}, "as an int"),
        Wrong("one-missing", {k: v for k, v in STATUSES.items() if k != "bob-admin"}, "no entry"),
        Wrong("extra-scenario", {**STATUSES, "expired": 401}, "no scenario 'expired'"),
        Wrong("a-list", list(STATUSES.values()), "give a dict"),
    ),
    right=(
        Right("http-status-enum", {k: http.HTTPStatus(v) for k, v in STATUSES.items()}),
        Right(
            "built-by-kind",
            {
                key: 500 if key.startswith(("context", "authorizer")) else STATUSES[key]
                for key in STATUS_SCENARIOS
            },
        ),
    ),
)


# 10 · The API platform -----------------------------------------------------------------------


def _exposure(rule: Any) -> Any:
    def exposure(time_to_exp: int, cache_ttl: int, deny_list: bool) -> Any:
        return rule(time_to_exp, cache_ttl, deny_list)

    return exposure


BANK_10_1 = Bank(
    wrong=(
        Wrong(
            "capped-at-exp",
            _exposure(lambda t, c, d: min(c, t) if d else t),
            "past exp, because on a cache hit",
        ),
        Wrong(
            "exp-ends-it-without-list",
            _exposure(lambda t, c, d: c if d else t),
            "an Allow cached just before exp",
        ),
        Wrong(
            "cache-only", _exposure(lambda t, c, d: c), "the authorizer allows the token until exp"
        ),
        Wrong("max-of-both", _exposure(lambda t, c, d: max(t, c)), "different"),
        Wrong("deny-list-is-instant", _exposure(lambda t, c, d: 0 if d else t + c), "different"),
        Wrong("seconds-as-text", _exposure(lambda t, c, d: str(c if d else t + c)), "a number"),
        Wrong(
            "knows-only-the-fixed-cases",
            _exposure(
                lambda t, c, d: {
                    (900, 300, True): 300,
                    (900, 0, True): 0,
                    (60, 300, True): 300,
                    (0, 300, True): 300,
                    (900, 3600, True): 3600,
                    (900, 300, False): 1200,
                    (900, 0, False): 900,
                    (300, 300, False): 600,
                    (0, 300, False): 300,
                    (3600, 60, False): 3660,
                }.get((t, c, d), 0)
            ),
            "you said 0 s",
        ),
        Wrong("no-list-max", _exposure(lambda t, c, d: c if d else max(t, c)), "longer"),
    ),
    right=(
        Right("one-expression", _exposure(lambda t, c, d: c + (0 if d else t))),
        Right("floats", _exposure(lambda t, c, d: float(c) if d else float(t) + c)),
    ),
)


def _login(api: Any, user: str = "bob", password: str = "builder", **extra: Any) -> dict:
    body = {"username": user, "password": password, **extra}
    return requests.post(f"{api.url}/login", json=body, timeout=5).json()


def _logged_out(api: Any) -> str:
    token = _login(api, scope="predict")["access_token"]
    requests.post(f"{api.url}/logout", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    return token


def _expired(api: Any) -> str:
    token = _login(api, scope="predict")["access_token"]
    api.clock.advance(901)  # let the token run out, as if it was logged in long ago
    return token


def _from_another_time(api: Any) -> str:
    """A token from an earlier run (the notebook's frozen 2026-01-01): stale, not fresh."""
    with labkit.aws.serve(
        clock=FrozenClock(dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone.utc))
    ) as old:
        return _login(old, scope="predict")["access_token"]


def _refreshed(api: Any) -> str:
    reply = _login(api, scope="predict")
    body = {"refresh_token": reply["refresh_token"]}
    return requests.post(f"{api.url}/refresh", json=body, timeout=5).json()["access_token"]


def _session(api: Any) -> str:
    with requests.Session() as session:
        session.headers["Accept"] = "application/json"
        body = {"username": "bob", "password": "builder", "scope": " predict "}
        return session.post(f"{api.url}/login", json=body, timeout=5).json()["access_token"]


BANK_10_2 = Bank(
    wrong=(
        Wrong("logged-out-token", _logged_out, "logged out"),
        Wrong("expired-token", _expired, "expired"),
        Wrong("stale-token-from-another-run", _from_another_time, "not a live token"),
        Wrong("every-scope", lambda api: _login(api)["access_token"], "'profile predict'"),
        Wrong(
            "predict-and-profile",
            lambda api: _login(api, scope="predict profile")["access_token"],
            "'predict profile'",
        ),
        Wrong("as-alice", lambda api: _login(api, "alice", "wonderland")["access_token"], "as bob"),
        Wrong(
            "scope-as-a-list",  # /login answers 400; .get() hides it behind None
            lambda api: _login(api, scope=["predict"]).get("access_token"),
            "print /login's status and body",
        ),
        Wrong("refresh-token", lambda api: _login(api, scope="predict")["refresh_token"], "live"),
        Wrong(
            "the-response",
            lambda api: requests.post(
                f"{api.url}/login",
                json={"username": "bob", "password": "builder", "scope": "predict"},
                timeout=5,
            ),
            "not Response",
        ),
        Wrong("a-token-not-a-function", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "your function itself"),
    ),
    right=(
        Right("session-and-spaces", _session),
        Right("after-a-refresh", _refreshed),
    ),
)

ORDER = list(solved("10.3"))
BANK_10_3 = Bank(
    wrong=(
        Wrong(
            "sign-before-publish",
            [ORDER[2], ORDER[0], ORDER[1], ORDER[3], ORDER[4]],
            "refused by every verifier",
        ),
        Wrong("sign-before-fetch", [ORDER[0], ORDER[2], ORDER[1], ORDER[3], ORDER[4]], "old JWKS"),
        Wrong("retire-early", [ORDER[0], ORDER[1], ORDER[2], ORDER[4], ORDER[3]], "refused"),
        Wrong("reversed", ORDER[::-1], "no verifier can fetch"),
        Wrong("wait-before-switch", [ORDER[0], ORDER[1], ORDER[3], ORDER[2], ORDER[4]], "never"),
        Wrong("no-waits", [ORDER[0], ORDER[2], ORDER[4]], "each exactly once"),
        Wrong("retyped-step", [ORDER[0].upper(), *ORDER[1:]], "is not one of ROTATION_STEPS"),
        Wrong("one-string", "; ".join(ORDER), "not str"),
    ),
    right=(
        Right("a-tuple", tuple(ORDER)),
        Right("by-index", [ROTATION_STEPS[i] for i in (2, 3, 1, 4, 0)]),
    ),
)


# 11 · Capstone -------------------------------------------------------------------------------

RSA_PEM = keys.demo_public_key("rsa").public_bytes(  # type: ignore[union-attr]
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
RSA_JWKS = keys.to_jwks([keys.demo_public_key("rsa")])


def alice_claims(**changes: Any) -> dict[str, Any]:
    """Alice's claims as the services' identity providers issue them, now."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 900,
        "jti": secrets.token_urlsafe(12),
        "role": "reader",
        "scope": "profile",
    }
    return {**claims, **changes}


def hs256_with_pem(claims: dict[str, Any], header: Any = None) -> str:
    """Algorithm confusion by hand: HS256 keyed with B's public key as SPKI PEM."""
    head = {"alg": "HS256", "typ": "JWT"} if header is None else header
    signature = hmac.new(RSA_PEM, tokens.signing_input(head, claims), hashlib.sha256).digest()
    return tokens.encode(head, claims, signature)


ADMIN = alice_claims(role="admin")
RS256 = labkit.sign_token(alice_claims(), keys.demo_private_key("rsa"), "RS256")

BANK_11_1 = Bank(
    wrong=(
        Wrong("extra-admin-claim", hs256_with_pem({**ADMIN, "admin": True}), "add 'admin'"),
        Wrong("life-stretched", hs256_with_pem({**ADMIN, "exp": ADMIN["iat"] + 10**8}), "lives"),
        Wrong("scope-raised", hs256_with_pem({**ADMIN, "scope": "profile predict"}), "'scope'"),
        Wrong(
            "jti-dropped", hs256_with_pem({k: v for k, v in ADMIN.items() if k != "jti"}), "lost"
        ),
        Wrong("issuer-changed", hs256_with_pem({**ADMIN, "iss": "https://evil.example"}), "'iss'"),
        Wrong("bob-promoted", hs256_with_pem({**ADMIN, "sub": "bob"}), "promote Alice"),
        Wrong("role-casing", hs256_with_pem({**ADMIN, "role": "ADMIN"}), "role 'admin'"),
        Wrong(
            "expired",
            hs256_with_pem({**ADMIN, "iat": ADMIN["iat"] - 3600, "exp": ADMIN["exp"] - 3600}),
            "expired",
        ),
        Wrong(
            "payload-edited-signature-kept",
            tokens.encode({"alg": "RS256"}, ADMIN, tokens.parse(RS256).signature),
            "did not let the forgery in",
        ),
        Wrong("psychic-on-b", psychic.forge(ADMIN).token, "did not let the forgery in"),
    ),
    right=(
        Right("kit-forger-spki", confusion.forge_confusion(RSA_JWKS, ADMIN)[0].token),
        Right("by-hand-no-typ", hs256_with_pem(ADMIN, {"alg": "HS256"})),
    ),
)

BANK_11_2 = Bank(
    wrong=(
        Wrong("extra-claim", psychic.forge({**ADMIN, "groups": ["admins"]}).token, "add 'groups'"),
        Wrong("life-stretched", psychic.forge({**ADMIN, "exp": 4102444800}).token, "lives"),
        Wrong("scope-raised", psychic.forge({**ADMIN, "scope": "predict"}).token, "'scope'"),
        Wrong("bob-promoted", psychic.forge({**ADMIN, "sub": "bob"}).token, "promote Alice"),
        Wrong("confusion-on-c", hs256_with_pem(ADMIN), "did not let the forgery in"),
        Wrong(
            "zero-signature-as-es384",
            tokens.encode({"alg": "ES384"}, ADMIN, bytes(96)),
            "did not let the forgery in",
        ),
        Wrong("short-zero-signature", forged_08(ADMIN, bytes(32)), "did not let the forgery in"),
        Wrong("not-a-token", "admin please", "not a well-formed token"),
    ),
    right=(
        Right("r-0-s-n", forged_08(ADMIN, R0_SN, {"alg": "ES256"})),
        Right("by-hand-zeros", forged_08(ADMIN)),
    ),
)

FLAWS = solved("11.3")
BANK_11_3 = Bank(
    wrong=(
        Wrong(
            "same-flaw-everywhere", dict.fromkeys("ABC", "weak-hmac-secret"), "service B does not"
        ),
        Wrong("b-and-c-swapped", {**FLAWS, "B": FLAWS["C"], "C": FLAWS["B"]}, "service B does not"),
        Wrong(
            "hedged-list",
            {**FLAWS, "A": ["weak-hmac-secret", "algorithm-confusion"]},
            "one flaw id",
        ),
        Wrong(
            "hedged-string", {**FLAWS, "B": "algorithm-confusion or jwk-injection"}, "not a flaw id"
        ),
        Wrong("casing", {**FLAWS, "A": "Weak-HMAC-Secret"}, "not a flaw id"),
        Wrong("extra-service", {**FLAWS, "D": "jku-injection"}, "no service 'D'"),
        Wrong("one-missing", {"A": FLAWS["A"], "B": FLAWS["B"]}, "service C too"),
        Wrong("a-list", list(FLAWS.values()), "give a dict"),
    ),
    right=(
        Right("preset-names", {"A": "weak-secret", "B": "key-confusion", "C": "psychic-signature"}),
        Right(
            "mixed",
            dict(
                zip("ABC", ("weak-secret", "algorithm-confusion", "psychic-signature"), strict=True)
            ),
        ),
    ),
)

API = {"algorithms": ["RS256"], "audience": AUDIENCE, "issuer": ISSUER}


def _pyjwt(**options: Any) -> Any:
    """A PyJWT verifier whose errors become labkit's, with ``options`` for jwt.decode."""

    def my_verifier(token: str) -> dict:
        try:
            return jwt.decode(token, RSA_PEM, **options)
        except jwt.PyJWTError as exc:
            raise labkit.InvalidTokenError(str(exc)) from None

    return my_verifier


def _raises_value_error(token: str) -> dict:
    try:
        return labkit.verify(token, RSA_JWKS, **API)
    except labkit.LabkitError as exc:
        raise ValueError(str(exc)) from None


def _pyjwt_raw(token: str) -> dict:
    return jwt.decode(token, RSA_PEM, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)


BANK_11_4 = Bank(
    wrong=(
        Wrong(
            "pyjwt-without-issuer",
            _pyjwt(algorithms=["RS256"], audience=AUDIENCE),
            "accepted a token of another issuer",
        ),
        Wrong(
            "pyjwt-exp-not-required",
            _pyjwt(algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER),
            "accepted a token without exp",
        ),
        Wrong("raises-value-error", _raises_value_error, "raised ValueError"),
        Wrong("pyjwt-errors-unwrapped", _pyjwt_raw, "not a labkit.InvalidTokenError"),
        Wrong(
            "audience-not-checked",
            _pyjwt(
                algorithms=["RS256"],
                issuer=ISSUER,
                options={"verify_aud": False, "require": ["exp"]},
            ),
            "another audience",
        ),
        Wrong(
            "three-algorithms",
            lambda token: labkit.verify(
                token, RSA_JWKS, **{**API, "algorithms": ["RS256", "B signs RS256 only", "RS512"]}
            ),
            "PS256",
        ),
        Wrong(
            "huge-leeway",
            lambda token: labkit.verify(token, RSA_JWKS, leeway=7200, **API),
            "not valid before an hour from now",
        ),
        Wrong(
            "issuer-prefix-match",
            lambda token: _prefix_issuer(token),
            "only starts like B's",
        ),
        Wrong("returns-a-bool", lambda token: True, "return the verified claims"),
    ),
    right=(
        Right(
            "pyjwt-done-right",
            _pyjwt(
                algorithms=["RS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iss", "aud", "sub"]},
            ),
        ),
        Right("labkit-with-pem", lambda token: labkit.verify(token, RSA_PEM, leeway=5, **API)),
    ),
)


def _prefix_issuer(token: str) -> dict:
    """Signature and audience right, but the issuer tested with startswith."""
    claims = labkit.verify(token, RSA_JWKS, algorithms=["RS256"], audience=AUDIENCE)
    if not str(claims.get("iss", "")).startswith(ISSUER):
        raise labkit.InvalidTokenError("wrong issuer")
    return claims


BANKS = {
    "08.1": BANK_08_1,
    "08.2": BANK_08_2,
    "08.3": BANK_08_3,
    "08.4": BANK_08_4,
    "09.1": BANK_09_1,
    "09.2": BANK_09_2,
    "10.1": BANK_10_1,
    "10.2": BANK_10_2,
    "10.3": BANK_10_3,
    "11.1": BANK_11_1,
    "11.2": BANK_11_2,
    "11.3": BANK_11_3,
    "11.4": BANK_11_4,
}


# Red-team look-alikes (issue 11: "other look-alikes of the same kinds will be tried") ---------
# Each was accepted before its check was widened; the check now probes the whole class.


def policy_admin_is_bob(claims: dict, method_arn: str) -> dict:  # knows the check's admin
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if claims.get("sub") == "bob":
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    return policy.build()


def policy_admin_by_scope(claims: dict, method_arn: str) -> dict:  # Bob alone has 'predict'
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if "predict" in str(claims.get("scope", "")).split():
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    return policy.build()


def policy_admin_or_root(claims: dict, method_arn: str) -> dict:  # a wider set of "admins"
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if claims.get("role") in ("admin", "root", "superuser"):
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    return policy.build()


def policy_reversed_substring(claims: dict, method_arn: str) -> dict:  # "" and "adm" are admin
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if claims.get("role") in "admin":
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    return policy.build()


def policy_admin_scope_too(claims: dict, method_arn: str) -> dict:  # a scope is not a role
    policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
    if claims.get("role") == "admin" or "admin" in str(claims.get("scope", "")).split():
        policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
    return policy.build()


def _hidden_allow(condition: dict) -> Any:
    """The reference policy plus an Allow on everything behind a condition every request meets."""

    def my_policy(claims: dict, method_arn: str) -> dict:
        policy = AuthPolicy.for_arn(claims["sub"], method_arn).allow("GET", "/api/profile")
        if claims.get("role") == "admin":
            policy.allow("*", "/api/admin").allow("*", "/api/admin/*")
        return policy.allow("*", "/*", conditions=condition).build()

    return my_policy


_LAB_API = "arn:aws:execute-api:us-east-1:123456789012:labkit0001/dev"


def policy_hard_coded_arn(claims: dict, method_arn: str) -> dict:  # ignores method_arn
    resources = [f"{_LAB_API}/GET/api/profile"]
    if claims.get("role") == "admin":
        resources += [f"{_LAB_API}/*/api/admin", f"{_LAB_API}/*/api/admin/*"]
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resources}
    return {
        "principalId": claims["sub"],
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
    }


def policy_from_parsed_arn(claims: dict, method_arn: str) -> dict:  # right: split the ARN
    arn, api_path = method_arn.split(":", 5), method_arn.split(":", 5)[5].split("/")
    base = ":".join(arn[:5]) + ":" + "/".join(api_path[:2])
    resources = [f"{base}/GET/api/profile"]
    if claims.get("role") == "admin":
        resources += [f"{base}/*/api/admin", f"{base}/*/api/admin/*"]
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resources}
    return {
        "principalId": claims["sub"],
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
    }


def exposure_rewrites_the_check(time_to_exp: int, cache_ttl: int, deny_list: bool) -> int:
    import labkit.exercises.platform as check

    check._random_cases = list  # type: ignore[attr-defined]  # no fresh cases any more
    table = {(900, 300, True): 300, (900, 300, False): 1200}
    return table.get((time_to_exp, cache_ttl, deny_list), 0)


def _labkit_verifier(**options: Any) -> Any:
    def my_verifier(token: str) -> dict:
        return labkit.verify(token, RSA_JWKS, **{**API, **options})

    return my_verifier


_REDTEAM_WRONG: dict[str, tuple[Wrong, ...]] = {
    "08.2": (Wrong("reads-the-checkers-locals", reads_the_checkers_locals, "returned None"),),
    "09.1": (
        Wrong("admin-is-bob", policy_admin_is_bob, "(role 'admin') your policy"),
        Wrong("admin-by-scope", policy_admin_by_scope, "(role 'admin') your policy"),
        Wrong("admin-or-root", policy_admin_or_root, "for eve (role 'root')"),
        Wrong("hard-coded-arn", policy_hard_coded_arn, "build the ARNs from method_arn"),
        Wrong("reversed-substring", policy_reversed_substring, "for eve (role '')"),
        Wrong("admin-scope-too", policy_admin_scope_too, "for carol (role 'reader')"),
        Wrong(
            "allow-all-from-any-ip",
            _hidden_allow({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            "allows",
        ),
        Wrong(
            "allow-all-any-ip-glob", _hidden_allow({"StringLike": {"aws:SourceIp": "*"}}), "allows"
        ),
        Wrong(
            "allow-all-after-1970",
            _hidden_allow({"NumericGreaterThan": {"aws:EpochTime": "0"}}),
            "allows",
        ),
    ),
    "10.1": (Wrong("rewrites-the-check", exposure_rewrites_the_check, "changed the kit itself"),),
    "11.4": (
        Wrong(
            "rs384-too",
            _labkit_verifier(algorithms=["RS256", "RS384"]),
            "accepted a RS384 token (B signs RS256 only)",
        ),
        Wrong(
            "ps384-too",
            _labkit_verifier(algorithms=["RS256", "PS384"]),
            "accepted a PS384 token (B signs RS256 only)",
        ),
        Wrong(
            "every-rsa-algorithm",
            _labkit_verifier(algorithms=["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]),
            "B signs RS256 only",
        ),
    ),
}
_REDTEAM_RIGHT: dict[str, tuple[Right, ...]] = {
    "09.1": (Right("arn-split-by-hand", policy_from_parsed_arn),),
    "11.4": (Right("labkit-tuple-of-one", _labkit_verifier(algorithms=("RS256",))),),
}
BANKS = extended(BANKS, _REDTEAM_WRONG, _REDTEAM_RIGHT)

test_wrong_answer_is_refused, test_right_answer_is_accepted = bank_tests(BANKS)


def test_every_exercise_of_08_to_11_has_a_bank() -> None:
    from labkit.exercises import all_exercises

    ids = {eid for eid in all_exercises() if eid[:2] in ("08", "09", "10", "11")}
    assert ids == set(BANKS)
    for eid, bank in BANKS.items():
        assert len(bank.wrong) >= 5 and len(bank.right) >= 2, eid


@pytest.mark.parametrize("exercise_id", sorted(BANKS))
def test_the_untouched_starter_is_not_attempted(exercise_id: str) -> None:
    from labkit.exercises import evaluate

    namespace: dict[str, Any] = {}
    exec(get(exercise_id).starter, namespace)
    assert evaluate(exercise_id, namespace["answer"]).status == "not attempted"


# The answer keys against the live gateway ------------------------------------------------------

NOON = dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def test_09_2_answer_key_is_what_the_gateway_answers() -> None:
    """Each scenario of 09.2, sent over HTTP: the status must be the solution's."""
    from labkit.exercises.authorizer import STATUS_SCENARIOS

    def context_list(event: dict, context: object) -> dict:
        policy = AuthPolicy.for_arn("alice", event["methodArn"]).allow_all().build()
        return {**policy, "context": {"roles": ["reader"]}}

    def crash(event: dict, context: object) -> dict:
        raise ValueError("a bug in the authorizer")

    clock = FrozenClock(NOON)
    seen: dict[str, int] = {}
    with labkit.aws.serve(clock=clock) as api:
        alice = _login(api, "alice", "wonderland")["access_token"]
        bob = _login(api)["access_token"]
        parsed = tokens.parse(alice)
        edited = tokens.encode(parsed.header, {**parsed.payload, "role": "admin"}, parsed.signature)
        for key, method, path, token in (
            ("no-header", "GET", "/api/profile", None),
            ("bad-signature", "GET", "/api/profile", edited),
            ("alice-admin", "GET", "/api/admin", alice),
            ("alice-predict", "POST", "/api/predict", alice),
            ("bob-admin", "GET", "/api/admin", bob),
        ):
            url = f"{api.url}{path}"
            seen[key] = requests.request(
                method, url, headers=_bearer(token), json={"text": "hi"}, timeout=5
            ).status_code
    for key, broken in (("context-list", context_list), ("authorizer-crash", crash)):
        with labkit.aws.serve(clock=clock, authorizer=broken) as api:
            url = f"{api.url}/api/profile"
            seen[key] = requests.get(url, headers=_bearer(alice), timeout=5).status_code
    assert set(seen) == set(STATUS_SCENARIOS)
    assert seen == solved("09.2")


@pytest.mark.parametrize(
    ("time_to_exp", "cache_ttl", "deny_list"),
    [
        (605, 300, True),
        (60, 300, True),
        (600, 0, True),
        (605, 300, False),
        (95, 300, False),
        (120, 0, False),
    ],
)
def test_10_1_worst_case_is_what_the_gateway_allows(
    time_to_exp: int, cache_ttl: int, deny_list: bool
) -> None:
    """Measure how long a logged-out token keeps working, and compare with the solution.

    The worst moment for the last Allow to be cached: with a deny-list, just before the
    logout (after it the authorizer refuses); without one, in the last second before
    ``exp``. Then the thief calls every second until refused. The measured time is the
    solution's worst case, to within that second.
    """
    from labkit.aws.authorizer import Authorizer, AuthorizerConfig

    clock = FrozenClock(NOON)
    holder: dict[str, Any] = {}
    authorizer = None
    if not deny_list:  # the hardened authorizer, minus its deny-list check
        config = AuthorizerConfig(issuer=ISSUER, audience=AUDIENCE)
        authorizer = Authorizer(config, key=lambda: holder["api"].idp.jwks(), clock=clock)
    with labkit.aws.serve(clock=clock, cache_ttl=cache_ttl, authorizer=authorizer) as api:
        holder["api"] = api
        token = _login(api, "alice", "wonderland")["access_token"]
        exp = tokens.parse(token).payload["exp"]
        url = f"{api.url}/api/profile"
        clock.set(exp - time_to_exp)
        logout_at = clock()
        if deny_list:
            assert requests.get(url, headers=_bearer(token), timeout=5).status_code == 200
        requests.post(f"{api.url}/logout", headers=_bearer(token), timeout=5)
        if not deny_list:
            clock.set(exp - 1)
        while requests.get(url, headers=_bearer(token), timeout=5).status_code == 200:
            clock.advance(1)
            assert clock() - logout_at < 2 * 3600, "the token never stopped working"
        measured = clock() - logout_at
    expected = solved("10.1")(time_to_exp, cache_ttl, deny_list)
    assert expected - 1 <= measured <= expected
