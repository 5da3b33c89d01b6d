"""Answer banks for notebook 13: insecure look-alikes refused, other right answers accepted.

Each ``Wrong`` is a validator a learner could write that looks right and is not
(most are the vulnerable verifiers of ``labkit.attacks.tokentypes`` or their
hand-written cousins); each ``Right`` is a correct one written differently from
the bank's solution. The keys are the lab provider's DEMO ONLY keys, as the
notebook's running IdP publishes them.
"""

from __future__ import annotations

import hmac
from typing import Any

import pytest
from exercise_banks import Bank, Right, Wrong, bank_tests, extended

import labkit
from labkit import oidc
from labkit.attacks import tokentypes
from labkit.aws.idp import IdentityProvider
from labkit.exercises import evaluate, get
from labkit.verify import IssuerKeys

ISSUER, API, CLIENT = "https://idp.labkit.local", "labkit-api", "labkit-notebook"
JWKS = IdentityProvider().jwks()
PARTNER = tokentypes.partner()
BOTH = {ISSUER: JWKS, PARTNER.issuer: PARTNER.jwks()}


def verified(token: str, **options: Any) -> dict[str, Any]:
    return labkit.verify(token, JWKS, algorithms=["RS256"], **options)


# 13.1 · An access-token validator ----------------------------------------------------------------


def typ_of(token: str) -> object:
    return labkit.parse(token).header.get("typ")


BANK_13_1 = Bank(
    wrong=(
        Wrong(
            "audience-and-issuer-only",
            lambda t: verified(t, audience=API, issuer=ISSUER),
            "only typ tells",
        ),
        Wrong(
            "any-token-type",
            lambda t: tokentypes.any_token_type(t, JWKS, algorithms=["RS256"], issuer=ISSUER),
            "check typ at+jwt and aud",
        ),
        Wrong(
            "typ-jwt-or-at-jwt",
            lambda t: verified(t, audience=API, issuer=ISSUER, typ=["at+jwt", "JWT"]),
            "only typ tells",
        ),
        Wrong(
            "ignore-audience",
            lambda t: tokentypes.ignore_audience(t, JWKS, algorithms=["RS256"], issuer=ISSUER),
            "check aud",
        ),
        Wrong(
            "typ-substring",
            lambda t: (
                verified(t, audience=API, issuer=ISSUER)
                if "at+jwt" in str(typ_of(t)).lower()
                else labkit.verify(t, b"", algorithms=["HS256"])
            ),
            "not a substring",
        ),
        Wrong(
            "typ-case-sensitive",
            lambda t: (
                verified(t, audience=API, issuer=ISSUER)
                if typ_of(t) == "at+jwt"
                else labkit.verify(t, b"", algorithms=["HS256"])
            ),
            "case-insensitively",
        ),
        Wrong(
            "no-issuer",
            lambda t: verified(t, audience=API, typ="at+jwt"),
            "check iss",
        ),
        Wrong(
            "audience-list-with-the-client",
            lambda t: verified(t, audience=[API, CLIENT], issuer=ISSUER),
            "check typ at+jwt",
        ),
        Wrong(
            "value-error-instead-of-invalid-token",
            lambda t: (
                verified(t, audience=API, issuer=ISSUER, typ="at+jwt")
                if typ_of(t) and str(typ_of(t)).lower().endswith("at+jwt")
                else (_ for _ in ()).throw(ValueError("not an access token"))
            ),
            "labkit.InvalidTokenError",
        ),
    ),
    right=(
        Right(
            "oidc-verify-access-token",
            lambda t: oidc.verify_access_token(
                t, JWKS, algorithms=["RS256"], audience=API, issuer=ISSUER
            ),
        ),
        Right(
            "typ-with-application-prefix",
            lambda t: verified(t, audience=[API], issuer=[ISSUER], typ="application/at+jwt"),
        ),
        Right(
            "issuer-keys",
            lambda t: labkit.verify(
                t, IssuerKeys({ISSUER: JWKS}), algorithms=["RS256"], audience=API, typ="at+jwt"
            ),
        ),
    ),
)


# 13.2 · Two issuers, each with its own keys ------------------------------------------------------


def try_each(token: str) -> dict[str, Any]:
    """Try the lab provider's keys, then the partner's; accept iss from either."""
    for jwks in BOTH.values():
        try:
            return labkit.verify(
                token, jwks, algorithms=["RS256"], audience=API, issuer=list(BOTH), typ="at+jwt"
            )
        except labkit.InvalidTokenError:
            continue
    raise labkit.InvalidTokenError("no key verifies it")


def by_kid(token: str) -> dict[str, Any]:
    """Pick the issuer's key set by kid, then check iss against both issuers."""
    kid = labkit.parse(token).header.get("kid")
    jwks = next((j for j in BOTH.values() if any(k["kid"] == kid for k in j["keys"])), JWKS)
    return labkit.verify(
        token, jwks, algorithms=["RS256"], audience=API, issuer=list(BOTH), typ="at+jwt"
    )


def by_iss_by_hand(token: str) -> dict[str, Any]:
    iss = labkit.parse(token).payload.get("iss")
    if iss not in BOTH:
        raise labkit.InvalidTokenError(f"untrusted issuer {iss!r}")
    return labkit.verify(
        token, BOTH[iss], algorithms=["RS256"], audience=API, issuer=iss, typ="at+jwt"
    )


BANK_13_2 = Bank(
    wrong=(
        Wrong(
            "merged-issuers",
            lambda t: tokentypes.merged_issuers(
                t, BOTH, algorithms=["RS256"], audience=API, typ="at+jwt"
            ),
            "mix-up",
        ),
        Wrong("try-each-key-set", try_each, "mix-up"),
        Wrong("key-set-by-kid", by_kid, "mix-up"),
        Wrong(
            "lab-provider-only",
            lambda t: verified(t, audience=API, issuer=ISSUER, typ="at+jwt"),
            "use partner.jwks()",
        ),
        Wrong(
            "issuer-keys-untyped",
            lambda t: labkit.verify(t, IssuerKeys(BOTH), algorithms=["RS256"], audience=API),
            "still require typ",
        ),
        Wrong(
            "issuer-keys-any-audience",
            lambda t: tokentypes.ignore_audience(t, IssuerKeys(BOTH), algorithms=["RS256"]),
            "still check aud",
        ),
    ),
    right=(
        Right("by-iss-by-hand", by_iss_by_hand),
        Right(
            "issuer-keys-with-issuers",
            lambda t: oidc.verify_access_token(
                t, IssuerKeys(BOTH), algorithms=["RS256"], audience=API, issuer=list(BOTH)
            ),
        ),
    ),
)


# 13.3 · The nonce ----------------------------------------------------------------------------


def id_claims(t: str) -> dict[str, Any]:
    return labkit.verify(t, JWKS, algorithms=["RS256"], audience=CLIENT, issuer=ISSUER)


def nonce_if_present(t: str, nonce: str) -> dict[str, Any]:
    claims = id_claims(t)
    if "nonce" in claims and claims["nonce"] != nonce:
        raise labkit.InvalidTokenError("nonce mismatch")
    return claims


def nonce_substring(t: str, nonce: str) -> dict[str, Any]:
    claims = id_claims(t)
    if str(claims.get("nonce")) not in nonce:
        raise labkit.InvalidTokenError("nonce mismatch")
    return claims


def nonce_but_untyped(t: str, nonce: str) -> dict[str, Any]:
    claims = id_claims(t)
    if claims.get("nonce") != nonce:
        raise labkit.InvalidTokenError("nonce mismatch")
    return claims


def nonce_in_list(t: str, nonce: str) -> dict[str, Any]:
    claims = id_claims(t)
    got = claims.get("nonce")
    if nonce not in (got if isinstance(got, list) else [got]):
        raise labkit.InvalidTokenError("nonce mismatch")
    return claims


def by_hand_without_azp(t: str, nonce: str) -> dict[str, Any]:
    claims = labkit.verify(
        t, JWKS, algorithms=["RS256"], audience=CLIENT, issuer=ISSUER, typ=["JWT"]
    )
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got, nonce):
        raise labkit.InvalidTokenError("not this login's nonce")
    return claims


def by_hand(t: str, nonce: str) -> dict[str, Any]:
    claims = by_hand_without_azp(t, nonce)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != CLIENT:
        raise labkit.InvalidTokenError("issued to another client (azp)")
    return claims


BANK_13_3 = Bank(
    wrong=(
        Wrong(
            "login-without-nonce",
            lambda t, n: tokentypes.login_without_nonce(t, JWKS, client_id=CLIENT, issuer=ISSUER),
            "compare the nonce",
        ),
        Wrong("nonce-only-if-present", nonce_if_present, "must carry it"),
        Wrong("nonce-substring", nonce_substring, "not a prefix or substring"),
        Wrong("nonce-in-a-list", nonce_in_list, "a list containing it"),
        Wrong("nonce-but-at-jwt-accepted", nonce_but_untyped, "never an ID token"),
        Wrong(
            "nonce-but-any-client",
            lambda t, n: oidc.verify_id_token(
                t, JWKS, client_id=labkit.parse(t).payload.get("aud"), issuer=ISSUER, nonce=n
            ),
            "labkit-notebook",
        ),
    ),
    right=(
        Right("by-hand-typed-jwt", by_hand),
        Right(
            "verify-id-token-keyword-order",
            lambda t, n: oidc.verify_id_token(
                t, IssuerKeys({ISSUER: JWKS}), nonce=n, issuer=ISSUER, client_id=CLIENT
            ),
        ),
    ),
)


# A walk-through's finds: look-alikes the first banks let through -------------------------------


def aud_contains(t: str) -> dict[str, Any]:
    """aud tested with `in`: on a string that is a substring test."""
    claims = verified(t, issuer=ISSUER, typ="at+jwt", audience=labkit.parse(t).payload.get("aud"))
    if API not in claims["aud"]:
        raise labkit.InvalidTokenError("not for this API")
    return claims


def iss_prefix(t: str) -> dict[str, Any]:
    iss = labkit.parse(t).payload.get("iss")
    if not str(iss).startswith(ISSUER):
        raise labkit.InvalidTokenError("untrusted issuer")
    return verified(t, issuer=iss, audience=API, typ="at+jwt")


def typ_by_hand(t: str) -> dict[str, Any]:
    typ = labkit.parse(t).header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != "at+jwt":
        raise labkit.InvalidTokenError("not an access token")
    return verified(t, audience=API, issuer=ISSUER)


def iss_normalised(t: str) -> dict[str, Any]:
    """Key set chosen by a lower-cased, trimmed iss; iss itself never compared."""
    iss = str(labkit.parse(t).payload.get("iss")).lower().rstrip("/")
    jwks = {name.lower(): keys for name, keys in BOTH.items()}.get(iss)
    if jwks is None:
        raise labkit.InvalidTokenError("untrusted issuer")
    return labkit.verify(t, jwks, algorithms=["RS256"], audience=API, typ="at+jwt")


def id_claims_typed(t: str) -> dict[str, Any]:
    """An ID token's claims: typ JWT, aud this client (azp checked), iss the lab's provider."""
    claims = labkit.verify(
        t, JWKS, algorithms=["RS256"], audience=CLIENT, issuer=ISSUER, typ=["JWT"]
    )
    if claims.get("azp", CLIENT) != CLIENT:
        raise labkit.InvalidTokenError("issued to another client (azp)")
    return claims


def nonce_loosely(fold: Any) -> Any:
    def finish_login(t: str, nonce: str) -> dict[str, Any]:
        claims = id_claims_typed(t)
        if "nonce" not in claims or fold(str(claims["nonce"])) != fold(nonce):
            raise labkit.InvalidTokenError("nonce mismatch")
        return claims

    return finish_login


def nonce_truthy(t: str, nonce: str) -> dict[str, Any]:
    claims = id_claims_typed(t)
    got = claims.get("nonce")
    if got is None or (got and got != nonce):
        raise labkit.InvalidTokenError("nonce mismatch")
    return claims


def nonce_by_hand(t: str, nonce: str) -> dict[str, Any]:
    claims = id_claims_typed(t)
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
        raise labkit.InvalidTokenError("not this login's nonce")
    return claims


def client_contained(t: str, nonce: str) -> dict[str, Any]:
    aud = labkit.parse(t).payload.get("aud")
    if CLIENT not in str(aud):
        raise labkit.InvalidTokenError("not for this client")
    return oidc.verify_id_token(t, JWKS, client_id=aud, issuer=ISSUER, nonce=nonce)


def at_jwt_case_sensitive(t: str, nonce: str) -> dict[str, Any]:
    if labkit.parse(t).header.get("typ") == "at+jwt":
        raise labkit.InvalidTokenError("an access token")
    claims = id_claims(t)
    if claims.get("nonce") != nonce or claims.get("azp", CLIENT) != CLIENT:
        raise labkit.InvalidTokenError("nonce mismatch")
    return claims


BANKS = extended(
    {"13.1": BANK_13_1, "13.2": BANK_13_2, "13.3": BANK_13_3},
    wrong={
        "13.1": (
            Wrong("aud-in-string", aud_contains, "another API's name only contains it"),
            Wrong("iss-prefix", iss_prefix, "compare iss exactly"),
        ),
        "13.2": (Wrong("iss-lowered-and-trimmed", iss_normalised, "compare iss exactly"),),
        "13.3": (
            Wrong("nonce-case-insensitive", nonce_loosely(str.lower), "case and all"),
            Wrong("nonce-trimmed", nonce_loosely(str.strip), "no trimming"),
            Wrong("nonce-empty-is-absent", nonce_truthy, "an empty nonce"),
            Wrong("client-id-contained", client_contained, "a client whose id contains yours"),
            Wrong("aud-list-membership-no-azp", by_hand_without_azp, "azp must be your client_id"),
            Wrong("at-jwt-case-sensitive", at_jwt_case_sensitive, "with or without application/"),
        ),
    },
    right={
        "13.1": (Right("typ-compared-by-hand", typ_by_hand),),
        "13.3": (Right("typed-id-token-nonce-compared-by-hand", nonce_by_hand),),
    },
)

test_wrong_answer_is_refused, test_right_answer_is_accepted = bank_tests(BANKS)


def test_every_exercise_of_13_has_a_bank() -> None:
    from labkit.exercises import all_exercises

    assert {eid for eid in all_exercises() if eid.startswith("13.")} == set(BANKS)
    for eid, bank in BANKS.items():
        assert len(bank.wrong) >= 5 and len(bank.right) >= 2, eid


@pytest.mark.parametrize("exercise_id", sorted(BANKS))
def test_the_solution_is_right_and_the_starter_not_attempted(exercise_id: str) -> None:
    namespace: dict[str, Any] = {"labkit": labkit, "jwks": JWKS, "partner": PARTNER}
    exec(get(exercise_id).solution, namespace)
    assert evaluate(exercise_id, namespace["answer"]).status == "correct"
    starter: dict[str, Any] = {}
    exec(get(exercise_id).starter, starter)
    assert evaluate(exercise_id, starter["answer"]).status == "not attempted"
