"""Notebook 11's parts: the mystery services, the capstone exercises, the scan summary figure."""

from __future__ import annotations

import time
from collections.abc import Iterator

import matplotlib.pyplot as plt
import pytest
import requests

import labkit
from labkit import capstone, keys, plots, scan, vulnerable
from labkit.attacks import confusion, psychic
from labkit.errors import ConfigurationError
from labkit.exercises import evaluate

API = {"algorithms": ["RS256"], "audience": "labkit-api", "issuer": "https://idp.labkit.local"}


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, labkit.aws.Api]]:
    with capstone.mystery_services() as running:
        yield running


@pytest.fixture(scope="module")
def alice(services: dict[str, labkit.aws.Api]) -> dict[str, str]:
    return {name: capstone.login(api.url) for name, api in services.items()}


def test_three_services_each_with_the_flaw_reveal_names(
    services: dict[str, labkit.aws.Api], alice: dict[str, str]
) -> None:
    assert list(services) == list(capstone.SERVICES)
    for name, api in services.items():
        report = scan.scan(f"{api.url}/api/profile", alice[name])
        assert report.flaws == [capstone.PRESET_FLAWS[capstone.preset_of(name)]]
        assert report.flaws[0] in capstone.reveal(name)


def test_services_stop_at_the_end_of_the_block() -> None:
    with capstone.mystery_services(hardened=True) as fixed:
        url = fixed["A"].url
        token = capstone.login(url)
        assert labkit.parse(token).header["alg"] == "RS256"  # hardened: A no longer signs HS256
        assert scan.scan(f"{url}/api/profile", token).clean
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/health", timeout=1)


def test_unknown_service_and_bad_login_are_clear_errors(services: dict) -> None:
    with pytest.raises(ConfigurationError, match="the services are A, B, C"):
        capstone.preset_of("D")
    with pytest.raises(labkit.LabkitError, match=r"login refused .* HTTP 401"):
        capstone.login(services["A"].url, "alice", "not her password")


# The exercises -----------------------------------------------------------------------------------


def promoted(token: str) -> dict:
    return {**labkit.parse(token).payload, "role": "admin"}


def test_11_1_and_11_2_accept_real_break_ins(alice: dict[str, str]) -> None:
    jwks = keys.to_jwks([keys.demo_public_key("rsa")])
    header_b = labkit.parse(alice["B"]).header
    forged_b = confusion.forge_confusion(jwks, promoted(alice["B"]), header=header_b)
    verdicts = [evaluate("11.1", f.token).status for f in forged_b]
    assert "correct" in verdicts
    c_token = psychic.forge(promoted(alice["C"]), header=labkit.parse(alice["C"]).header).token
    assert evaluate("11.2", c_token).status == "correct"
    assert evaluate("11.1", c_token).status == "wrong"  # B does not fall for C's flaw


def test_11_1_refuses_bob_an_untouched_token_and_expired_forgeries(
    services: dict[str, labkit.aws.Api], alice: dict[str, str]
) -> None:
    bob = capstone.login(services["B"].url, "bob", "builder")
    assert "promote Alice, not Bob" in evaluate("11.1", bob).message
    assert "role 'admin'" in evaluate("11.1", alice["B"]).message
    old = {**promoted(alice["C"]), "exp": int(time.time()) - 10}
    expired = psychic.forge(old, header=labkit.parse(alice["C"]).header).token
    assert "expired" in evaluate("11.2", expired).message
    assert "not a well-formed token" in evaluate("11.2", "a.b").message


def test_11_3_names_the_flaws() -> None:
    right = {"A": "weak-hmac-secret", "B": "algorithm-confusion", "C": "psychic-signature"}
    assert evaluate("11.3", right).status == "correct"
    presets = {name: capstone.preset_of(name) for name in capstone.SERVICES}
    assert evaluate("11.3", presets).status == "correct"
    assert "service C too" in evaluate("11.3", {"A": "x", "B": "y"}).message
    assert "not a flaw id" in evaluate("11.3", {**right, "B": "banana"}).message
    assert (
        "does not have 'jwk-injection'" in evaluate("11.3", {**right, "B": "jwk-injection"}).message
    )


def test_11_4_wants_a_verifier_the_scanner_finds_clean() -> None:
    jwks = keys.to_jwks([keys.demo_public_key("rsa")])
    pem = keys.demo_public_key("rsa")

    def good(token: str) -> dict:
        return labkit.verify(token, jwks, **API)

    def confused(token: str) -> dict:
        return vulnerable.alg_from_header(token, pem, **API)

    def blind(token: str) -> dict:
        return labkit.parse(token).payload

    assert evaluate("11.4", good).status == "correct"
    assert "(B signs RS256 only)" in evaluate("11.4", confused).message  # the header chose
    assert "accepted a token of another issuer" in evaluate("11.4", blind).message
    assert (
        "refused a valid token"
        in evaluate("11.4", lambda t: labkit.verify(t, b"x" * 32, **API)).message
    )


# The figure --------------------------------------------------------------------------------------


def test_scan_summary_has_one_row_per_report(alice: dict[str, str], services: dict) -> None:
    plt.switch_backend("agg")
    reports = {n: scan.scan(f"{services[n].url}/api/profile", alice[n]) for n in ("A", "C")}
    fig = plots.plot_scan_summary(reports)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "C"]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(scan.PROBE_IDS)
    assert repr(fig) == "<Figure size 1000x500 with 1 Axes>"
    with pytest.raises(ValueError, match="at least one report"):
        plots.plot_scan_summary({})
