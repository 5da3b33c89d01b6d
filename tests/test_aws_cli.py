"""``labkit serve`` and ``labkit serve --list``, run as a user runs them.

A server started by a test is always stopped in ``finally`` (killed if a signal
did not stop it), so no test leaks a process.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess

import pytest
import requests
from clirun import labkit_command, run_labkit

from labkit.aws import presets
from labkit.cli import _parser, _serve_settings, main


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
        try:
            _, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:  # never leak a server
                process.kill()
                process.communicate()
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


def _serve_process(*args: str, ignore_sigint: bool = False) -> subprocess.Popen[str]:
    """``labkit serve`` as a child; with ``ignore_sigint`` it inherits SIGINT ignored."""

    def ignore() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited across exec, as from nohup

    return subprocess.Popen(
        labkit_command("serve", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignore if ignore_sigint else None,
    )


@pytest.mark.parametrize(
    ("stop", "ignore_sigint"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["sigint-while-ignored-by-parent", "sigterm", "sigterm-while-sigint-ignored"],
)
def test_serve_stops_cleanly_on_a_signal(stop: signal.Signals, ignore_sigint: bool) -> None:
    process = _serve_process(ignore_sigint=ignore_sigint)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().removeprefix("Serving on ")
        assert requests.get(f"{url}/.well-known/jwks.json", timeout=10).status_code == 200
        process.send_signal(stop)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # never leak a server, whatever failed above
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert err.endswith("labkit serve: stopped\n")
    assert "Traceback" not in err
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/.well-known/jwks.json", timeout=5)  # the port is closed


def test_serve_on_a_busy_port_says_so_and_suggests_port_0() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_labkit("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"labkit serve: port {port} on 127.0.0.1 is already in use; "
        "stop what uses it, or pass --port 0 to let the OS pick a free port\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--list", "--port", "8000"), "--list takes no other options, got --port"),
        (("--list", "--preset", "alg-none", "--mode", "http"), "got --preset, --mode"),
        (("--mode", "http", "--authorizer-type", "TOKEN"), "--authorizer-type is for --mode rest"),
        (("--mode", "jwt", "--authorizer-type", "REQUEST"), "not --mode jwt"),
        (("--mode", "jwt", "--cache-ttl", "60"), "--cache-ttl is for Lambda authorizers"),
        (("--mode", "jwt", "--preset", "alg-none"), "--mode jwt works with --preset hardened only"),
        (("--mode", "rest-jwt", "--authorizer-type", "TOKEN"), "--mode rest-jwt have no Lambda"),
        (("--mode", "rest-jwt", "--cache-ttl", "60"), "--mode rest-jwt (a JWT authorizer)"),
        (
            ("--mode", "rest-jwt", "--preset", "kid-traversal"),
            "--mode rest-jwt works with --preset hardened only",
        ),
        (
            (
                "--cache-ttl",
                "3601",
            ),
            "argument --cache-ttl: must be 0 to 3600 seconds",
        ),
        (("--cache-ttl", "-1"), "argument --cache-ttl: must be 0 to 3600 seconds"),
        (("--cache-ttl", "nan"), "argument --cache-ttl: must be 0 to 3600 seconds, got 'nan'"),
        (("--port", "65536"), "argument --port: must be 0 to 65535"),
        (("--port", "http"), "argument --port: must be 0 to 65535"),
        (("--mode", "grpc"), "argument --mode: invalid choice: 'grpc'"),
        (("--preset", "nope"), "no preset 'nope'; the presets are: hardened"),
        (("--host", "0.0.0.0"), "refusing to listen on '0.0.0.0'"),
    ],
)
def test_serve_refuses_bad_and_contradictory_options_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    try:
        code = main(["serve", *args])
    except SystemExit as exit_:  # argparse's own refusals
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert err.startswith("labkit serve: ") and err.count("\n") == 1, err
    assert message in err


def test_serve_accepts_the_options_that_fit_together() -> None:
    args = _parser().parse_args(["serve", "--mode", "http", "--cache-ttl", "0"])
    assert _serve_settings(args) == {
        "preset": "hardened",
        "host": "127.0.0.1",
        "port": 0,
        "mode": "http",
        "authorizer_type": "TOKEN",  # the gateway gives HTTP APIs' authorizers the request
        "cache_ttl": 0.0,
    }
    rest = _serve_settings(_parser().parse_args(["serve", "--authorizer-type", "REQUEST"]))
    assert (rest["mode"], rest["authorizer_type"], rest["cache_ttl"]) == ("rest", "REQUEST", 300)


def test_serve_mode_rest_jwt_discovers_the_idp_over_http_and_authorizes() -> None:
    # The REST API JWT authorizer reads ISSUER/.well-known/openid-configuration, then the
    # jwks_uri it names (https://docs.aws.amazon.com/apigateway/latest/developerguide/
    # rest-api-jwt-authorizer-keys.html); here both come from the running server itself.
    process = subprocess.Popen(
        labkit_command("serve", "--mode", "rest-jwt", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().removeprefix("Serving on ")
        login = {"username": "alice", "password": "wonderland"}
        token = requests.post(f"{url}/login", json=login, timeout=10).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        profile = requests.get(f"{url}/api/profile", headers=auth, timeout=10)
        assert (profile.status_code, profile.json()["sub"]) == (200, "alice")
        missing = requests.get(f"{url}/api/profile", timeout=10)
        assert (missing.status_code, missing.headers["x-amzn-ErrorType"]) == (
            401,
            "UnauthorizedException",
        )
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "rest-jwt API" in err and "Traceback" not in err
