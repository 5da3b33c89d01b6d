"""``labkit scan`` from the command line against notebooks 14-15's APIs, over real loopback HTTP.

``--send-cookie NAME=VALUE`` sends the client's other cookies (the sidejacking fingerprint)
beside the token, so the fingerprint probe can leave one out; ``--dpop-key PEM`` makes every
request carry a DPoP proof from the key a bound token is tied to. Each finds its preset's flaw
and nothing on hardened; bad values are one line and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from clirun import run_labkit
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from labkit import browser, dpop
from labkit.aws import serve

ALICE = {"username": "alice", "password": "wonderland"}


def flaws(stdout: str) -> list[str]:
    return [f["id"] for f in json.loads(stdout)["findings"]]


@pytest.mark.parametrize(("preset", "found"), [("fingerprint-ignored", 1), ("hardened", 0)])
def test_send_cookie_lets_the_fingerprint_probe_run(preset: str, found: int) -> None:
    with browser.serve_spa(preset) as spa:
        reply = requests.post(
            f"{spa.url}/spa/login", json={**ALICE, "mode": "fingerprint"}, timeout=10
        )
        token = reply.json()["access_token"]
        sent = [f"--send-cookie={c.name}={c.value}" for c in reply.cookies]
        run = run_labkit("scan", f"{spa.url}/api/me", "--token", token, *sent, "--json")
    assert run.returncode == found, run.stderr
    assert flaws(run.stdout) == (["fingerprint-not-checked"] if found else [])


@pytest.mark.parametrize(("preset", "found"), [("dpop-optional", 1), ("hardened", 0)])
def test_dpop_key_scans_a_bound_token(preset: str, found: int, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "dpop-key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with serve(preset) as api:
        answer = dpop.Client(key).request("POST", f"{api.url}/login", json=ALICE)
        token = answer.json()["access_token"]
        run = run_labkit(
            "scan", f"{api.url}/api/profile", "--token", token, "--dpop-key", str(pem), "--json"
        )
    assert run.returncode == found, run.stderr
    assert flaws(run.stdout) == (["dpop-not-enforced"] if found else [])


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("--send-cookie=novalue", "--send-cookie takes NAME=VALUE"),
        ("--send-cookie==v", "--send-cookie takes NAME=VALUE"),
        ("--dpop-key=/nonexistent/key.pem", "cannot read --dpop-key"),
    ],
)
def test_bad_scan_target_options_are_one_line(option: str, said: str) -> None:
    with serve("hardened") as api:
        token = requests.post(f"{api.url}/login", json=ALICE, timeout=10).json()["access_token"]
        run = run_labkit("scan", f"{api.url}/api/profile", "--token", token, option)
    assert run.returncode == 2
    assert said in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "Traceback" not in run.stderr


def test_a_dpop_key_that_is_not_a_key_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("hello\n")
    with serve("hardened") as api:
        token = requests.post(f"{api.url}/login", json=ALICE, timeout=10).json()["access_token"]
        run = run_labkit("scan", f"{api.url}/api/profile", "--token", token, "--dpop-key", str(bad))
    assert run.returncode == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


@pytest.mark.parametrize("userinfo", ["", "u:hunter2@"])
@pytest.mark.parametrize("output", [(), ("--json",)])
def test_the_text_and_json_reports_never_print_a_token_from_the_url(
    output: tuple[str, ...], userinfo: str
) -> None:
    """A token in the URL (RFC 6750 section 5.3 says it should not be there) stays out of logs:
    in the report of a scan that ran, and in the one line of a URL the guard refused."""
    with serve("alg-none") as api:
        token = requests.post(f"{api.url}/login", json=ALICE, timeout=10).json()["access_token"]
        host = api.url.split("//")[1]
        url = f"http://{userinfo}{host}/api/profile?access_token={token}"
        run = run_labkit("scan", url, "--token", token, *output)
    assert run.returncode == (2 if userinfo else 1), run.stderr
    assert token not in run.stdout + run.stderr and "hunter2" not in run.stdout + run.stderr
