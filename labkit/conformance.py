"""Run public test vectors through ``labkit.verify_jws`` and say where it agrees.

The vectors (Project Wycheproof's JOSE files and RFC examples) live outside the
package, in ``../shared/vectors`` beside a checkout; this module only reads a
folder it is given. Each Wycheproof test is verified with its group's JWK or
JWK Set, the algorithm pinned to the key's ``alg`` (or, for a key without a
JWS ``alg``, to the algorithms its key type can serve), as a careful service
would configure it. ``acceptable`` counts as agreement either way.

The 34 JWE tests of the crypto file are loaded apart, by ``load_jwe``, and run
through ``labkit.jwe.decrypt`` with ``alg`` pinned to the key's own ``alg`` and
every ``enc`` the kit implements allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit import jwe, keys, tokens
from labkit.algorithms import ALGORITHMS
from labkit.errors import InvalidTokenError
from labkit.verify import verify_jws

__all__ = [
    "FILES",
    "JWE_FILE",
    "KNOWN_FAULTY",
    "Case",
    "Result",
    "load",
    "load_jwe",
    "run",
    "summary",
]

FILES = (
    "wycheproof/json_web_signature_test.json",
    "wycheproof/json_web_key_test.json",
    "wycheproof/json_web_crypto_test.json",
    "rfc/rfc_vectors.json",
)
"""The vector files, relative to the vectors folder, in report order."""
JWE_FILE = "wycheproof/json_web_crypto_test.json"
"""The file that holds Wycheproof's JWE tests (beside its JWS ones)."""

KNOWN_FAULTY: dict[tuple[str, str], str] = {
    ("json_web_signature_test.json", "tc367"): (
        "byte-identical to the valid tc357 but labelled invalid (C2SP/wycheproof issue #236)"
    ),
    ("json_web_signature_test.json", "tc370"): (
        "byte-identical to the valid tc357 but labelled invalid (C2SP/wycheproof issue #236)"
    ),
    ("json_web_signature_test.json", "tc372"): (
        "a '?' inserted into the header, MAC unchanged, yet labelled valid: strict base64url "
        "must refuse it"
    ),
    ("json_web_signature_test.json", "tc373"): (
        "a '?' inserted into the payload, MAC unchanged, yet labelled valid: strict base64url "
        "must refuse it"
    ),
    ("json_web_signature_test.json", "tc346"): (
        "RFC 7520 figure 20: the key says alg PS256 but the token is PS384, labelled valid"
    ),
    ("json_web_signature_test.json", "tc350"): (
        "RFC 7520 figure 20: the key says alg PS256 but the token is PS384, labelled valid"
    ),
    ("json_web_signature_test.json", "tc347"): (
        "RFC 7520 figure 27: the key says the non-standard alg 'ES521', token is ES512, "
        "labelled valid"
    ),
    ("json_web_signature_test.json", "tc351"): (
        "RFC 7520 figure 27: the key says the non-standard alg 'ES521', token is ES512, "
        "labelled valid"
    ),
}
"""Vectors whose label is wrong, with the reason; other public harnesses skip them too."""

# Algorithms a key can serve, for keys that name no JWS alg of their own.
_FITTING = {
    "RSA": ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    "oct": ("HS256", "HS384", "HS512"),
    "OKP": ("EdDSA",),
    ("EC", "P-256"): ("ES256",),
    ("EC", "P-384"): ("ES384",),
    ("EC", "P-521"): ("ES512",),
}


@dataclass(frozen=True)
class Case:
    """One vector: what to verify, with which key and algorithms, and the expected verdict."""

    file: str
    id: str
    comment: str
    token: Any
    key: Any
    algorithms: tuple[str, ...]
    expected: str  # "valid", "invalid" or "acceptable"; a thumbprint for thumbprint vectors
    kind: str = "jws"  # "jws", "jwk_thumbprint" or "jwe"
    detached: bytes | None = None
    encryptions: tuple[str, ...] = ()  # JWE only: the enc values allowed

    @property
    def known_faulty(self) -> str | None:
        """Why this vector's label is wrong, or None for a sound vector."""
        return KNOWN_FAULTY.get((self.file, self.id))


@dataclass(frozen=True)
class Result:
    """What the verifier did with one case, and whether that agrees with the label."""

    case: Case
    accepted: bool
    reason: str

    @property
    def agrees(self) -> bool:
        if self.case.kind == "jwk_thumbprint":
            return self.accepted
        return self.case.expected == "acceptable" or self.accepted == (
            self.case.expected == "valid"
        )


def load(vectors_dir: Path) -> list[Case]:
    """Every JWS and JWK case of the vector files (JWE tests are left out)."""
    cases: list[Case] = []
    for name in FILES:
        data = json.loads((Path(vectors_dir) / name).read_text(encoding="utf-8"))
        reader = _rfc_cases if name.startswith("rfc/") else _wycheproof_cases
        cases.extend(reader(Path(name).name, data))
    return cases


def run(case: Case) -> Result:
    """Verify one case. Only ``InvalidTokenError`` counts as a rejection: anything else is a bug."""
    if case.kind == "jwk_thumbprint":
        got = keys.thumbprint(case.key)
        return Result(case, got == case.expected, got)
    if case.kind == "jwe":
        return _run_jwe(case)
    try:
        payload = verify_jws(
            case.token, case.key, algorithms=case.algorithms, detached_payload=case.detached
        )
    except InvalidTokenError as exc:
        return Result(case, False, f"{type(exc).__name__}: {exc}")
    return Result(case, True, f"accepted ({len(payload)} payload bytes)")


def load_jwe(vectors_dir: Path) -> list[Case]:
    """The JWE tests of Wycheproof's crypto file, each pinned to its key's ``alg``."""
    data = json.loads((Path(vectors_dir) / JWE_FILE).read_text(encoding="utf-8"))
    cases: list[Case] = []
    for group in data["testGroups"]:
        key = group["private"]  # decrypting needs the private half
        for test in group["tests"]:
            if "jwe" not in test:
                continue
            cases.append(
                Case(
                    file=Path(JWE_FILE).name,
                    id=f"tc{test['tcId']}",
                    comment=test["comment"],
                    token=test["jwe"],
                    key=key,
                    algorithms=(key["alg"],),
                    expected=test["result"],
                    kind="jwe",
                    encryptions=tuple(jwe.ENCRYPTIONS),
                )
            )
    return cases


def _run_jwe(case: Case) -> Result:
    try:
        plaintext = jwe.decrypt(
            case.token, case.key, algorithms=case.algorithms, encryptions=case.encryptions
        )
    except InvalidTokenError as exc:
        return Result(case, False, f"{type(exc).__name__}: {exc}")
    return Result(case, True, f"decrypted ({len(plaintext)} plaintext bytes)")


def summary(results: list[Result]) -> dict[str, tuple[int, int]]:
    """Agreed and total per file, in ``FILES`` order."""
    out: dict[str, tuple[int, int]] = {}
    for result in results:
        agreed, total = out.get(result.case.file, (0, 0))
        out[result.case.file] = (agreed + result.agrees, total + 1)
    return out


def _wycheproof_cases(file: str, data: dict[str, Any]) -> Iterator[Case]:
    for group in data["testGroups"]:
        key = group.get("public") or group["private"]
        pinned = _pinned(key)
        for test in group["tests"]:
            if "jws" not in test:  # a JWE test
                continue
            yield Case(
                file=file,
                id=f"tc{test['tcId']}",
                comment=test["comment"],
                token=test["jws"],
                key=key,
                algorithms=pinned,
                expected=test["result"],
            )


def _rfc_cases(file: str, data: dict[str, Any]) -> Iterator[Case]:
    for vector in data["vectors"]:
        kind = vector["kind"]
        detached = None
        if kind == "jws_detached":
            detached = tokens.b64url_decode(vector["detached_payload_b64"], "detached payload")
        elif kind == "jws_unencoded":
            detached = vector["payload"].encode("utf-8")
        alg = vector["alg"]
        yield Case(
            file=file,
            id=vector["name"],
            comment=vector.get("why") or vector.get("notes", ""),
            token=vector["token"],
            key=vector["jwk"],
            algorithms=(alg,) if alg in ALGORITHMS else ALGORITHMS,
            expected=vector["expected"],
            kind="jwk_thumbprint" if kind == "jwk_thumbprint" else "jws",
            detached=detached,
        )


def _pinned(key: dict[str, Any]) -> tuple[str, ...]:
    """The algorithms a careful service would allow for this key or key set."""
    members = key["keys"] if isinstance(key.get("keys"), list) else [key]
    pinned: list[str] = []
    for jwk in members:
        alg = jwk.get("alg")
        fits = (alg,) if alg in ALGORITHMS else _fitting(jwk)
        pinned.extend(a for a in fits if a not in pinned)
    return tuple(pinned)


def _fitting(jwk: dict[str, Any]) -> tuple[str, ...]:
    kty = jwk.get("kty")
    return _FITTING.get((kty, jwk.get("crv")), _FITTING.get(kty, ())) if kty else ()
