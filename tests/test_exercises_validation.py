"""Notebook 02-03's exercises: the solutions pass, typical mistakes get a pointed message."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest

import labkit
from labkit.exercises import evaluate, get

NOW = dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.timezone.utc)  # notebook 03's frozen clock


def solved(exercise_id: str) -> Any:
    namespace: dict[str, Any] = {"NOW": NOW, "labkit": labkit}
    exec(get(exercise_id).solution, namespace)
    return namespace["answer"]


@pytest.mark.parametrize("exercise_id", ["03.1", "03.2", "03.3"])
def test_solutions_are_correct(exercise_id: str) -> None:
    assert evaluate(exercise_id, solved(exercise_id)).status == "correct"


def test_time_window_mistakes() -> None:
    def inclusive_exp(claims: dict, now: float, leeway: float = 0) -> bool:
        return not ("exp" in claims and now - leeway > claims["exp"])

    verdict = evaluate("03.1", inclusive_exp)
    assert verdict.status == "wrong"
    assert "at now=T0+300 with leeway 0 should be not live" in verdict.message


def test_the_cve_2024_53861_shape_is_caught() -> None:
    verdict = evaluate("03.2", lambda iss, trusted: iss in trusted)
    assert verdict.status == "wrong"
    assert "issuer_ok('', 'https://idp.labkit.local') should be False" in verdict.message


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("now", "pass now=NOW"),
        ("leeway", "expired 20 s before the clock was refused"),
        ("audience", "audience 'labkit-api' but this verifier names no audience"),
        ("issuer", "issuer 'https://idp.labkit' was accepted"),
        ("required", "without 'sub' was accepted"),
    ],
)
def test_options_mistakes(drop: str, message: str) -> None:
    options = {k: v for k, v in solved("03.3").items() if k != drop}
    verdict = evaluate("03.3", options)
    assert verdict.status == "wrong"
    assert message in verdict.message


# Issue 11: look-alikes these checks once approved, each a named regression.


def test_issuer_prefix_and_element_in_iss_are_refused() -> None:
    def prefix(iss: object, trusted: Any) -> bool:
        allowed = [trusted] if isinstance(trusted, str) else trusted
        return isinstance(iss, str) and any(iss.startswith(t) for t in allowed)

    def element_in_iss(iss: object, trusted: Any) -> bool:
        allowed = [trusted] if isinstance(trusted, str) else trusted
        return isinstance(iss, str) and any(t in iss for t in allowed)

    for look_alike in (prefix, element_in_iss):
        verdict = evaluate("03.2", look_alike)
        assert verdict.status == "wrong"
        assert "https://idp.labkit.local.evil.example" in verdict.message
        assert "prefix match; compare whole strings with ==" in verdict.message


def test_options_that_drop_exp_or_add_algorithms_are_refused() -> None:
    options = solved("03.3")
    verdict = evaluate("03.3", {**options, "require_exp": False})
    assert "require_exp=False drops exp" in verdict.message
    verdict = evaluate("03.3", {**options, "algorithms": ["HS256", "HS384", "RS256"]})
    assert "algorithms allows HS384, RS256 besides HS256" in verdict.message


def test_required_sub_alone_is_right_now_that_exp_is_always_required() -> None:
    options = {**solved("03.3"), "required": ("sub",)}
    assert evaluate("03.3", options).status == "correct"
    verdict = evaluate("03.3", {**options, "required": "sub"})
    assert "a string would be read as its characters" in verdict.message


def test_thumbprint_that_echoes_kid_is_refused() -> None:
    verdict = evaluate("02.3", lambda jwk: jwk["kid"])
    assert verdict.status == "wrong"
    assert "you returned its kid" in verdict.message


def test_hs256_with_sort_keys_says_so() -> None:
    def sorted_claims(claims: dict, secret: bytes) -> str:
        def segment(part: dict) -> str:
            return labkit.b64url_encode(json.dumps(part, sort_keys=True, separators=(",", ":")))

        data = segment({"alg": "HS256", "typ": "JWT"}) + "." + segment(claims)
        mac = hmac.new(secret, data.encode(), hashlib.sha256).digest()
        return data + "." + labkit.b64url_encode(mac)

    verdict = evaluate("02.1", sorted_claims)
    assert "sort_keys=True reorders the claims" in verdict.message
