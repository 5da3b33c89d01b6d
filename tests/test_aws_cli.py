"""``labkit serve`` and ``labkit serve --list``, run as a user runs them."""

from __future__ import annotations

import re
import signal
import subprocess

import requests
from clirun import labkit_command, run_labkit

from labkit.aws import presets


def test_serve_list_prints_one_preset_per_line() -> None:
    result = run_labkit("serve", "--list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [p.name for p in presets.available()]
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_serve_prints_its_url_first_serves_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        labkit_command("serve", "--preset", "alg-none", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        match = re.fullmatch(r"Serving on (http://127\.0\.0\.1:(\d+))", first)
        assert match, first
        url = match.group(1)
        login = requests.post(
            f"{url}/login", json={"username": "bob", "password": "builder"}, timeout=10
        )
        token = login.json()["access_token"]
        admin = requests.get(
            f"{url}/api/admin", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert admin.status_code == 200
        assert requests.get(f"{url}/api/admin", timeout=10).json() == {"message": "Unauthorized"}
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in err
    assert "GET /api/admin" in err  # the request log goes to stderr


def test_serve_refuses_a_public_host_in_one_line() -> None:
    result = subprocess.run(
        labkit_command("serve", "--host", "0.0.0.0"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("labkit serve: refusing to listen on '0.0.0.0'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_unknown_preset_names_the_presets() -> None:
    result = subprocess.run(
        labkit_command("serve", "--preset", "nope"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "the presets are: hardened" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
