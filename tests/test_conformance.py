"""Conformance: Wycheproof JOSE vectors and RFC examples through labkit.verify_jws.

Every sound vector must agree; the only exceptions are the 8 Wycheproof
vectors whose labels are wrong, listed with reasons in
``labkit.conformance.KNOWN_FAULTY``. They are not skipped: the test asserts
that the verifier still disagrees with their labels, so the list can never
silently cover a real failure. Nothing else is excused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit import conformance, tokens
from labkit.errors import ExpiredTokenError, UnsafeKeyError
from labkit.verify import roca_vulnerable, verify, verify_jws

# The 8 known-faulty vectors of ../shared/vectors/README.md, and nothing more.
FAULTY_IDS = {"tc346", "tc347", "tc350", "tc351", "tc367", "tc370", "tc372", "tc373"}
TOTALS = {
    "json_web_signature_test.json": 401,
    "json_web_key_test.json": 26,
    "json_web_crypto_test.json": 49,  # its 34 JWE tests are out of scope
    "rfc_vectors.json": 22,
}


@pytest.fixture(scope="module")
def results(vectors_dir: Path) -> list[conformance.Result]:
    return [conformance.run(case) for case in conformance.load(vectors_dir)]


def test_known_faulty_list_is_exactly_the_documented_eight() -> None:
    files = {file for file, _ in conformance.KNOWN_FAULTY}
    assert files == {"json_web_signature_test.json"}
    assert {tc for _, tc in conformance.KNOWN_FAULTY} == FAULTY_IDS
    assert all(len(reason) > 40 for reason in conformance.KNOWN_FAULTY.values())


@pytest.mark.parametrize("file", list(TOTALS))
def test_every_sound_vector_agrees(file: str, results: list[conformance.Result]) -> None:
    mine = [r for r in results if r.case.file == file]
    assert len(mine) == TOTALS[file]
    wrong = [f"{r.case.id} ({r.case.comment}): {r.reason}" for r in mine if not r.agrees]
    faulty = [r for r in mine if r.case.known_faulty]
    sound = len(mine) - len(faulty)
    agreed = sum(r.agrees for r in mine if not r.case.known_faulty)
    assert agreed == sound, f"{file}: {agreed}/{sound} sound vectors agree; wrong: {wrong}"
    # The known-faulty ones disagree with their (wrong) labels: if one ever agrees, the list or
    # the verifier changed, and a human must look.
    assert all(not r.agrees for r in faulty), [r.case.id for r in faulty if r.agrees]


def test_the_sound_total_is_468_plus_22(results: list[conformance.Result]) -> None:
    wycheproof = [r for r in results if r.case.file != "rfc_vectors.json"]
    assert len(wycheproof) == 476
    assert sum(r.agrees for r in wycheproof) == 468
    assert all(r.agrees for r in results if r.case.file == "rfc_vectors.json")


def test_rejections_name_their_reason(results: list[conformance.Result]) -> None:
    by_id = {(r.case.file, r.case.id): r.reason for r in results}
    key_file = "json_web_key_test.json"
    assert "mixes HMAC secrets" in by_id[(key_file, "tc1")]
    assert "ROCA" in by_id[(key_file, "tc7")]
    assert "1024 bits" in by_id[(key_file, "tc8")]
    assert "use='enc'" in by_id[(key_file, "tc6")]
    assert "secret is 31 bytes" in by_id[(key_file, "tc10")]
    sig_file = "json_web_signature_test.json"
    assert by_id[(sig_file, "tc374")].startswith("MalformedTokenError: the payload is not canon")
    assert "never trusted" in by_id[(sig_file, "tc32")]
    assert "DisallowedAlgorithmError" in by_id[(sig_file, "tc341")]


def test_wycheproof_roca_key_carries_the_fingerprint(vectors_dir: Path) -> None:
    cases = [c for c in conformance.load(vectors_dir) if "Roca" in c.comment]
    assert len(cases) == 2  # one in the JWK file, one in the crypto file
    for case in cases:
        jwk = case.key["keys"][0] if "keys" in case.key else case.key
        assert roca_vulnerable(int.from_bytes(tokens.b64url_decode(jwk["n"]), "big"))
        with pytest.raises(UnsafeKeyError, match="ROCA"):
            verify_jws(case.token, case.key, algorithms=["RS256"])


def test_rfc_7515_a1_jwt_is_expired_unless_the_clock_is_frozen(vectors_dir: Path) -> None:
    """The vector file's note: A.1's signature is valid, but its exp is in 2011."""
    case = next(c for c in conformance.load(vectors_dir) if c.id == "RFC7515-A.1-HS256")
    with pytest.raises(ExpiredTokenError, match="expired at 2011-03-22T18:43:00Z"):
        verify(case.token, case.key, algorithms=["HS256"])
    claims = verify(case.token, case.key, algorithms=["HS256"], now=1_300_819_379)
    assert claims == {"iss": "joe", "exp": 1_300_819_380, "http://example.com/is_root": True}


# JWE: Wycheproof's 34 JWE tests through labkit.jwe.decrypt ------------------------------------

JWE_TOTAL = 34


@pytest.fixture(scope="module")
def jwe_results(vectors_dir: Path) -> list[conformance.Result]:
    return [conformance.run(case) for case in conformance.load_jwe(vectors_dir)]


def test_every_jwe_vector_agrees(jwe_results: list[conformance.Result]) -> None:
    """34/34: the two valid tokens decrypt, every altered, truncated or off-curve one is refused."""
    assert len(jwe_results) == JWE_TOTAL
    wrong = [f"{r.case.id} ({r.case.comment}): {r.reason}" for r in jwe_results if not r.agrees]
    assert wrong == []
    valid = [r for r in jwe_results if r.case.expected == "valid"]
    assert [r.case.id for r in valid] == ["tc50", "tc67"]
    assert all(r.accepted and r.reason == "decrypted (3 plaintext bytes)" for r in valid)
    refused = [r for r in jwe_results if r.case.expected == "invalid"]
    assert len(refused) == 32
    assert all(r.reason.startswith("JweError: ") for r in refused), [r.reason for r in refused]


def test_jwe_rejections_name_their_reason(jwe_results: list[conformance.Result]) -> None:
    by_id = {r.case.id: r.reason for r in jwe_results}
    assert "not on P-256: refused before any ECDH" in by_id["tc83"]
    assert "compact serialization only" in by_id["tc66"]  # JSON serialization: compact only
    assert "five base64url parts" in by_id["tc53"]
    assert "does not decrypt under this key" in by_id["tc51"]
    assert "no protected header" in by_id["tc64"]


def test_jwe_vectors_are_pinned_to_their_keys_alg(vectors_dir: Path) -> None:
    cases = conformance.load_jwe(vectors_dir)
    assert {c.algorithms for c in cases} == {("A256KW",), ("ECDH-ES+A128KW",)}
    assert all("RSA1_5" not in c.algorithms for c in cases)
