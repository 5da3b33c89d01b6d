"""The labkit command line: exit codes and one-line errors, run as users run it."""

from __future__ import annotations

import json
import subprocess

import pytest
from clirun import run_labkit

from labkit import examples
from labkit.cli import main


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``labkit ARGS`` exactly as a user would."""
    return run_labkit(*args, stdin=stdin)


def test_decode_prints_header_payload_and_warnings() -> None:
    result = run("decode", examples.ARTICLE_TOKEN)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["header"] == {"alg": "HS256", "typ": "JWT"}
    assert out["payload"]["role"] == "adm"
    assert out["verified"] is False
    assert any("no 'exp' claim" in w for w in out["warnings"])


def test_decode_reads_stdin() -> None:
    result = run("decode", "-", stdin=examples.CLASSIC_TOKEN + "\n")
    assert json.loads(result.stdout)["payload"]["name"] == "John Doe"


def test_decode_malformed_token_is_one_line_exit_1() -> None:
    result = run("decode", "not-a-token")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "labkit decode: malformed token: the token has 1 segment; "
        "a compact JWS has exactly 3: header.payload.signature\n"
    )


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["decode"])
    assert info.value.code == 2
    assert "the following arguments are required: token" in capsys.readouterr().err
