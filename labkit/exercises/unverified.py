"""Exercises for notebook 04: unverified signatures, alg none, empty signatures and keys."""

from __future__ import annotations

import unicodedata
from typing import Any

from labkit import examples, keys, tokens, vulnerable
from labkit.errors import InvalidTokenError, MalformedTokenError
from labkit.exercises import NOT_ATTEMPTED, Exercise
from labkit.exercises._probes import is_starter

__all__ = ["EXERCISES", "NOW", "SERVICE", "reads_as_none"]

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
    if "alg" not in forged.header:
        return "the header has no alg; this attack needs alg set to a spelling of 'none'"
    alg = forged.header["alg"]
    if not isinstance(alg, str):
        return f"alg must be a string (a spelling of 'none'), not {type(alg).__name__}"
    if alg.lower() != "none":
        if reads_as_none(alg):
            return (
                f"alg {alg!r} is not 'none' to this verifier: it only lower-cases alg, "
                "so it checks the token as signed; change the letters' case, nothing else"
            )
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
    if len(forged.signature) != 32:
        return f"an HS256 signature is 32 bytes, yours is {len(forged.signature)}"
    return _verdict(vulnerable.accept_empty_secret, answer, "")


_STRIPPED = " \t\r\n\v\f\0"


def reads_as_none(alg: str) -> bool:
    """True if ``alg`` is ``none`` to a lenient reader: any casing, NFKC look-alike, padding.

    Only ASCII letters case-map to n, o or e (checked over every code point), so
    the Unicode look-alikes are compatibility forms NFKC folds: fullwidth, circled,
    mathematical and modifier letters. Stray whitespace and NUL are what a
    ``strip()`` or a C string would drop.
    """
    return unicodedata.normalize("NFKC", alg).casefold().strip(_STRIPPED) == "none"


# (header, allowed, expected, why): accepted spellings first, then exact matching, then none.
_ALG_CASES: tuple[tuple[dict[str, Any], list[str], bool, str], ...] = (
    ({"alg": "HS256", "typ": "JWT"}, ["HS256"], True, "HS256 is in the list"),
    ({"alg": "RS256"}, ["RS256", "PS256"], True, "RS256 is in the list"),
    ({"alg": "PS256"}, ["RS256", "PS256"], True, "PS256 is in the list"),
    ({"alg": "EdDSA"}, ["EdDSA"], True, "EdDSA is in the list"),
    ({"alg": "HS256"}, ["RS256"], False, "HS256 is not in the list (a denylist is not enough)"),
    ({"alg": "HS256"}, [], False, "nothing is allowed"),
    ({"alg": "hs256"}, ["HS256"], False, "compare exactly: 'hs256' is not 'HS256'"),
    ({"alg": "Hs256"}, ["HS256"], False, "compare exactly, case included"),
    ({"alg": "HS256 "}, ["HS256"], False, "stray whitespace: compare exactly, no strip()"),
    ({"alg": " HS256"}, ["HS256"], False, "stray whitespace: compare exactly, no strip()"),
    ({"alg": "HS256\n"}, ["HS256"], False, "a newline: compare exactly, no strip()"),
    ({"alg": "HS256\0"}, ["HS256"], False, "a NUL byte: a C library would stop reading there"),
    ({"alg": "HS"}, ["HS256"], False, "a prefix of an allowed name is not that name"),
    ({"alg": "S256"}, ["HS256"], False, "a substring of an allowed name is not that name"),
    ({"alg": "HS2560"}, ["HS256"], False, "a longer name that starts with an allowed one"),
    ({"alg": "XHS256"}, ["HS256"], False, "a longer name that ends with an allowed one"),
    ({"alg": "HS256,RS256"}, ["HS256", "RS256"], False, "the joined list is not a name"),
    ({"alg": "['HS256']"}, ["HS256"], False, "the list's text is not a name"),
    ({"alg": ["HS256"]}, ["HS256"], False, "alg is a list, not a string"),
    ({"alg": ("HS256",)}, ["HS256"], False, "alg is a tuple, not a string"),
    ({"alg": None}, ["HS256"], False, "alg is null"),
    ({"alg": 256}, ["HS256"], False, "alg is a number"),
    ({"alg": True}, ["HS256"], False, "alg is a boolean"),
    ({"alg": ""}, ["HS256"], False, "alg is empty"),
    ({"typ": "JWT"}, ["HS256"], False, "there is no alg at all"),
    ({"alg": "none"}, ["HS256"], False, "'none' is not in the list"),
    ({"alg": "None"}, ["HS256"], False, "'None' is not in the list"),
    ({"alg": "ｎｏｎｅ"}, ["HS256"], False, "fullwidth 'none' is not in the list"),
    ({"alg": "nоne"}, ["HS256"], False, "'nоne' has a Cyrillic о: not in the list"),
    ({"alg": "none"}, ["none", "HS256"], False, "'none' means unsigned"),
    ({"alg": "None"}, ["None", "HS256"], False, "'None' is none in another case"),
    ({"alg": "NONE"}, ["HS256", "NONE"], False, "'NONE' is none in another case"),
    ({"alg": "nOnE"}, ["nOnE"], False, "'nOnE' is none in another case"),
    ({"alg": "none "}, ["none ", "HS256"], False, "'none ' is none with a trailing space"),
    ({"alg": "\tNone"}, ["\tNone"], False, "'\\tNone' is none behind a tab"),
    ({"alg": "none\0"}, ["none\0"], False, "'none\\0' is none to anything that stops at NUL"),
    ({"alg": "ｎｏｎｅ"}, ["ｎｏｎｅ"], False, "fullwidth 'ｎｏｎｅ' is 'none' after NFKC"),
    ({"alg": "ⓃⓄⓃⒺ"}, ["ⓃⓄⓃⒺ"], False, "circled 'ⓃⓄⓃⒺ' is 'NONE' after NFKC"),
    ({"alg": "𝐧𝐨𝐧𝐞"}, ["HS256", "𝐧𝐨𝐧𝐞"], False, "bold '𝐧𝐨𝐧𝐞' is 'none' after NFKC"),
)


def _alg_check(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    for header, allowed, expected, why in _ALG_CASES:
        got = answer(dict(header), list(allowed))
        if got is None:
            if is_starter(answer, _ALG_STARTER):
                return NOT_ATTEMPTED
            return f"your function returned None for header {header}: return True or False"
        if not isinstance(got, bool):
            return f"return True or False, not {type(got).__name__}"
        if got == expected:
            continue
        if expected:
            return f"for header {header} and allowed {allowed} it should accept ({why}), got False"
        if (
            isinstance(header.get("alg"), str)
            and reads_as_none(header["alg"])
            and (header["alg"] in allowed)
        ):
            return (
                f"alg {header['alg']!r} was accepted because allowed lists it, but {why}: "
                "refuse every spelling of none, even when the list names it"
            )
        return f"for header {header} and allowed {allowed} it should refuse: {why}"
    return None


_ALG_STARTER = """\
def alg_ok(header: dict, allowed: list[str]) -> bool:
    ...  # your code here


answer = alg_ok"""


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
            "Compare the header's alg with the allowed names exactly: no lower(), no strip(), "
            "no substring or prefix tests.",
            "Check it is a str and in allowed; then refuse it if, NFKC-normalized "
            "(unicodedata), case-folded and stripped of whitespace and NUL, it reads 'none'.",
        ),
        solution="""\
import unicodedata


def alg_ok(header: dict, allowed: list[str]) -> bool:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        return False
    plain = unicodedata.normalize("NFKC", alg).casefold().strip(" \\t\\r\\n\\v\\f\\0")
    return plain != "none"


answer = alg_ok""",
        starter=_ALG_STARTER,
        success="Exact match against the verifier's own list, and never 'none' in any spelling, "
        "whoever allows it.",
    ),
)
