"""``labkit scan`` and DPoP: each DPoP preset's flaw is its root cause, nothing on hardened."""

from __future__ import annotations

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from labkit import dpop, scan
from labkit.aws import FrozenClock, serve
from labkit.scan.probes import DpopTarget

KEY = ec.generate_private_key(ec.SECP256R1())
FOUND = {
    "dpop-optional": "dpop-not-enforced",
    "dpop-no-replay-check": "dpop-proof-replay",
    "dpop-no-ath": "dpop-proof-not-bound",
    "dpop-no-htu": "dpop-proof-not-bound",
}
DPOP_PROBES = {"dpop-enforcement", "dpop-replay", "dpop-binding"}


def bound_token(url: str, clock: FrozenClock) -> str:
    answer = dpop.Client(KEY, clock=clock).request(
        "POST", f"{url}/login", json={"username": "alice", "password": "wonderland"}
    )
    assert answer.json()["token_type"] == "DPoP"
    return answer.json()["access_token"]


def scan_bound(preset: str, clock: FrozenClock) -> scan.ScanReport:
    with serve(preset, clock=clock) as api:
        target = DpopTarget(f"{api.url}/api/profile", KEY, clock=clock)
        try:
            return scan.scan(target, bound_token(api.url, clock))
        finally:
            target.close()


@pytest.mark.parametrize("preset", sorted(FOUND))
def test_each_dpop_preset_reports_its_root_cause(preset: str, clock: FrozenClock) -> None:
    report = scan_bound(preset, clock)
    assert report.flaws == [FOUND[preset]], report.text()
    assert report.findings[0].flaw.notebook == "15-sender-constrained-tokens.ipynb"
    others = [a for a in report.attempts if a.verdict == "accepted"]
    assert {a.probe for a in others} <= DPOP_PROBES  # no forgery of the token itself passes


def test_the_variant_names_the_hole(clock: FrozenClock) -> None:
    report = scan_bound("dpop-no-htu", clock)
    assert report.findings[0].attempts[0].variant == "proof for another URL"
    report = scan_bound("dpop-no-ath", clock)
    assert report.findings[0].attempts[0].variant == "proof made for another token (ath)"


def test_hardened_is_clean_with_a_bound_token(clock: FrozenClock) -> None:
    report = scan_bound("hardened", clock)
    assert report.clean, report.text()
    dpop_attempts = {a.probe: a for a in report.attempts if a.probe in DPOP_PROBES}
    assert {a.verdict for a in dpop_attempts.values()} == {"refused"}
    assert report.baseline[0] == "valid token accepted (returned the claims)"


def test_a_plain_url_scan_finds_a_bound_token_accepted_as_bearer(clock: FrozenClock) -> None:
    with serve("dpop-optional", clock=clock) as api:
        report = scan.scan(f"{api.url}/api/profile", bound_token(api.url, clock))
    assert report.flaws == ["dpop-not-enforced"], report.text()
    skipped = {a.probe: a.detail for a in report.attempts if a.verdict == "skipped"}
    assert "DpopTarget" in skipped["dpop-replay"]


def test_an_unbound_token_skips_the_dpop_probes(clock: FrozenClock) -> None:
    with serve("hardened", clock=clock) as api:
        login = {"username": "bob", "password": "builder"}  # no DPoP header: a Bearer token
        token = requests.post(f"{api.url}/login", json=login, timeout=10).json()["access_token"]
        report = scan.scan(f"{api.url}/api/profile", token)
    assert report.clean
    details = {a.probe: a.detail for a in report.attempts if a.probe in DPOP_PROBES}
    assert set(details.values()) == {"the token is not DPoP-bound (no cnf.jkt)"}


def test_dpop_target_refuses_a_remote_host() -> None:
    with pytest.raises(scan.TargetRefusedError):
        DpopTarget("https://example.com/api", KEY)
