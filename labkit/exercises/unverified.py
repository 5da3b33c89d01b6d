"""Exercises for notebook 04: unverified signatures, alg none, empty signatures and keys."""

from __future__ import annotations

from typing import Any

from labkit import examples, keys, tokens, vulnerable
from labkit.errors import InvalidTokenError, MalformedTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise

__all__ = ["EXERCISES", "NOW", "SERVICE"]

NOW = examples.LAB_CLAIMS["iat"] + 1800
"""The notebooks' frozen clock: 2026-01-01T09:30:00Z, half-way through Alice's token's life."""

SERVICE: dict[str, Any] = {
    "algorithms": ["HS256"],
    "audience": "labkit-api",
    "issuer": "https://idp.labkit.local",
    "now": NOW,
}
"""How the notebook's API verifies tokens: the options every verifier of the lab is called with."""


def _admin_token(answer: Any) -> tuple[tokens.Token | None, str | None]:
    """Parse the learner's token and check it is Alice's claims with role admin."""
    if not isinstance(answer, str):
        return None, f"give the forged token as a string, not {type(answer).__name__}"
    try:
        forged = tokens.parse(answer)
    except MalformedTokenError as exc:
        return None, f"that is not a well-formed token: {exc}"
    if forged.payload.get("role") != "admin":
        return None, "the payload's role should be 'admin'"
    if {**forged.payload, "role": "reader"} != examples.LAB_CLAIMS:
        return None, "keep Alice's other claims exactly as they were"
    return forged, None


def _verdict(verifier: Any, token: str, key: Any) -> str | None:
    try:
        verifier(token, key, **SERVICE)
    except InvalidTokenError as exc:
        return f"the service rejects it: {type(exc).__name__}: {exc.message}"
    return None


def _past_denylist(answer: Any) -> str | None:
    forged, problem = _admin_token(answer)
    if forged is None:
        return problem
    alg = forged.header.get("alg")
    if not isinstance(alg, str) or alg.lower() != "none":
        return f"the header says alg {alg!r}; this attack needs an unsigned token"
    if alg == "none":
        return "the quick fix blocks exactly 'none': spell it another way"
    if forged.signature:
        return "an unsigned token has an empty signature segment (keep the last dot)"
    return _verdict(vulnerable.accept_alg_none, answer, keys.demo_secret())


def _empty_secret(answer: Any) -> str | None:
    forged, problem = _admin_token(answer)
    if forged is None:
        return problem
    if forged.header.get("alg") != "HS256":
        return f"sign it with HS256, not {forged.header.get('alg')!r}"
    if not forged.signature:
        return "this service does check signatures: compute HMAC-SHA256 with the empty key"
    return _verdict(vulnerable.accept_empty_secret, answer, "")


_ALG_CASES: tuple[tuple[dict[str, Any], list[str], bool], ...] = (
    ({"alg": "HS256", "typ": "JWT"}, ["HS256"], True),
    ({"alg": "RS256"}, ["RS256", "PS256"], True),
    ({"alg": "HS256"}, ["RS256"], False),
    ({"alg": "none"}, ["HS256"], False),
    ({"alg": "None"}, ["HS256"], False),
    ({"alg": "NONE"}, ["HS256"], False),
    ({"alg": "nOnE"}, ["HS256"], False),
    ({"alg": "none"}, ["none", "HS256"], False),
    ({"alg": "hs256"}, ["HS256"], False),
    ({"alg": "HS256 "}, ["HS256"], False),
    ({"alg": "HS"}, ["HS256"], False),
    ({"alg": ""}, ["HS256"], False),
    ({"alg": None}, ["HS256"], False),
    ({"alg": ["HS256"]}, ["HS256"], False),
    ({"typ": "JWT"}, ["HS256"], False),
)


def _alg_check(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for header, allowed, expected in _ALG_CASES:
        got = answer(dict(header), list(allowed))
        if got is None:
            return NOT_ATTEMPTED
        if not isinstance(got, bool):
            return f"return True or False, not {type(got).__name__}"
        if got != expected:
            verdict = "accept" if expected else "refuse"
            return f"for header {header} and allowed {allowed} it should {verdict}, got {got}"
    return None


EXERCISES = (
    Exercise(
        id="04.1",
        title="Past a denylist",
        verify=_past_denylist,
        hints=(
            "The quick fix compares alg with 'none' exactly; the buggy verifier lower-cases it.",
            "labkit.encode({'alg': 'nOnE', 'typ': 'JWT'}, claims) builds an unsigned token.",
        ),
        solution="""\
claims = {**labkit.parse(alice_token).payload, "role": "admin"}
answer = labkit.encode({"alg": "nOnE", "typ": "JWT"}, claims)  # signature: b"" by default""",
        starter="answer = ...",
        success="A denylist has to foresee every spelling; an allowlist only has to name one.",
    ),
    Exercise(
        id="04.2",
        title="Sign with nothing",
        verify=_empty_secret,
        hints=(
            "The secret is the empty string, so HMAC-SHA256 with key b'' is the signature.",
            "hmac.new(b'', labkit.tokens.signing_input(header, claims), hashlib.sha256).digest()",
        ),
        solution="""\
import hashlib
import hmac

header = {"alg": "HS256", "typ": "JWT"}
claims = {**labkit.parse(alice_token).payload, "role": "admin"}
mac = hmac.new(b"", labkit.tokens.signing_input(header, claims), hashlib.sha256).digest()
answer = labkit.encode(header, claims, mac)""",
        starter="answer = ...",
        success="A real HS256 signature, under a key everyone knows: the empty one.",
    ),
    Exercise(
        id="04.3",
        title="An algorithm check nobody gets past",
        verify=_alg_check,
        hints=(
            "Compare the header's alg with the allowed names exactly: no lower(), no strip().",
            "Check it is a str, that it is in allowed, and refuse any casing of 'none' regardless.",
        ),
        solution="""\
def alg_ok(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    return isinstance(alg, str) and alg.lower() != "none" and alg in allowed


answer = alg_ok""",
        starter="""\
def alg_ok(header: dict, allowed: list[str]) -> bool:
    ...  # your code here


answer = alg_ok""",
        success="Exact match against the verifier's own list, and never 'none', whoever allows it.",
    ),
)
