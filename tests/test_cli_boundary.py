"""The command line at its boundary: hostile tokens, keys and files, closed pipes.

Every command, whatever it is given, exits with a code its contract documents and
says why in ONE line on stderr (DESIGN.md's command line contract). Most cases
run in-process through ``labkit.cli.main`` (fast enough for hypothesis); a few
run as real processes, where the thing tested is the process (a closed pipe).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest
from clirun import labkit_command, run_labkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit
from labkit import cli, examples, keys, tokens

SECRET = keys.demo_secret().decode()
NOBODY = "http://127.0.0.1:9/api/profile"  # the discard port: nobody listens on it
CODES = {"decode": {0, 1}, "verify": {0, 1, 2}, "crack": {0, 1, 2}, "scan": {0, 1, 2}}
CLI_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


def labkit_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``labkit ARGV`` in-process: (exit code, stdout, stderr)."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str) -> None:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and err.startswith("labkit"), err


def command_line(command: str, token: str) -> list[str]:
    return {
        "decode": ["decode", token],
        "verify": ["verify", token, "--secret", SECRET, "--alg", "HS256"],
        "crack": ["crack", token, "--processes", "1"],  # the bundled list: 343 words
        "scan": ["scan", NOBODY, "--token", token, "--timeout", "2"],
    }[command]


def hostile(payload: bytes, header: bytes = b'{"alg":"HS256"}') -> str:
    return tokens.encode(header, payload, b"\x01" * 32)  # type: ignore[arg-type]


ATTACKS = {
    "deep-nesting": hostile(b'{"a":' + b"[" * 2_000 + b"]" * 2_000 + b"}"),
    "deep-nesting-header": hostile(
        b"{}", b'{"alg":"HS256","x":' + b"[" * 1_500 + b"]" * 1_500 + b"}"
    ),
    "huge-integer": hostile(b'{"exp":' + b"9" * 5_000 + b"}"),
    "lone-surrogate": hostile(b'{"sub":"\\ud800"}'),
    "invalid-utf8": hostile(b'{"sub":"\xff"}'),
    "duplicate-alg": hostile(b"{}", b'{"alg":"HS256","alg":"none"}'),
    "non-object": hostile(b"[]"),
    "padding": examples.CLASSIC_TOKEN + "=",
    "base64-not-url": examples.CLASSIC_TOKEN.replace("-", "+").replace("_", "/") + "+/",
    "non-ascii": examples.CLASSIC_TOKEN + "é",
    "bearer": "Bearer " + examples.CLASSIC_TOKEN,
    "empty": "",
}


@pytest.mark.parametrize("command", list(CODES))
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_malformed_token_regressions_get_one_line_and_the_documented_code(
    capsys: pytest.CaptureFixture[str], command: str, attack: str
) -> None:
    code, out, err = labkit_main(capsys, *command_line(command, ATTACKS[attack]))
    assert code in CODES[command] - {0}, (code, err)
    if command in ("decode", "verify"):
        assert code == 1 and ("malformed token" in err or "invalid token" in err), err
    if command == "scan":
        assert code == 2, err
    assert out == ""
    assert_one_line(err)


def test_deep_nesting_regression_as_a_real_process() -> None:
    for command in ("decode", "verify"):
        result = run_labkit(*command_line(command, ATTACKS["deep-nesting"]))
        assert result.returncode == 1
        assert result.stderr.endswith(
            "nests arrays/objects deeper than 32 levels; a bound before "
            "parsing keeps hostile JSON from exhausting the parser\n"
        )
        assert result.stderr.count("\n") == 1


TOKEN_TEXT = st.one_of(
    st.text(max_size=200),
    st.sampled_from(list(ATTACKS.values())),
    st.builds(
        lambda head, body: f"{tokens.b64url_encode(head)}.{tokens.b64url_encode(body)}.AQID",
        st.sampled_from([b'{"alg":"HS256"}', b'{"alg":"none"}', b"{}", b"[", b'{"alg":1e999}']),
        st.binary(max_size=40)
        | st.sampled_from(
            [b"[" * 40 + b"]" * 40, b'{"exp":' + b"1" * 1_200 + b"}", b"\xed\xa0\x80"]
        ),
    ),
).filter(lambda text: not text.startswith("-") and "\x00" not in text)


@CLI_FUZZ
@given(st.sampled_from(["decode", "verify", "crack"]), TOKEN_TEXT)
def test_any_token_argument_exits_with_a_documented_code(command: str, token: str) -> None:
    code, out, err = _run_captured(command_line(command, token))
    assert code in CODES[command], (code, err)
    if code != 0:
        assert out == "" and err.count("\n") == 1 and err.startswith(f"labkit {command}"), err


def _run_captured(argv: list[str]) -> tuple[int, str, str]:
    """``main`` with stdout and stderr captured (hypothesis cannot use function fixtures)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


@CLI_FUZZ
@given(TOKEN_TEXT.filter(lambda text: not _parses(text)))
def test_scan_with_a_malformed_token_refuses_before_any_request(token: str) -> None:
    code, out, err = _run_captured(command_line("scan", token))
    assert code == 2 and out == "", (code, err)
    assert err.count("\n") == 1 and err.startswith("labkit scan: malformed token: "), err


def _parses(text: str) -> bool:
    try:
        tokens.parse(text)
    except labkit.LabkitError:
        return False
    return True


# Keys and key files ------------------------------------------------------------------------------

KEY_FILES = {
    "not-pem": b"hello",
    "empty": b"",
    "binary": b"\x00\xff" * 100,
    "jwks-not-json": b"{oops",
    "jwks-deep": b"[" * 5_000 + b"]" * 5_000,
    "jwks-huge-number": b'{"keys":[{"kty":"oct","k":' + b"1" * 5_000 + b"}]}",
    "jwks-surrogate": b'{"keys":[{"kty":"oct","k":"\\udc00"}]}',
    "jwks-not-a-set": b"[1, 2]",
    "jwks-empty-set": b'{"keys": []}',
    "jwks-bad-member": b'{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}',
}


@pytest.mark.parametrize("name", list(KEY_FILES))
@pytest.mark.parametrize("flag", ["--key", "--jwks"])
def test_bad_key_files_are_key_problems_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, flag: str
) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY_FILES[name])
    token = labkit.sign_token({"exp": 4_102_444_800}, keys.demo_secret(), "HS256")
    code, out, err = labkit_main(capsys, "verify", token, flag, str(path), "--alg", "RS256")
    assert code == 2, err
    assert out == ""
    assert_one_line(err)
    assert "invalid token" not in err
    assert f"cannot read {path}" in err or "key problem" in err


def test_missing_and_directory_key_files_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for path in (tmp_path / "missing.pem", tmp_path):
        code, _, err = labkit_main(capsys, "verify", "a.b.c", "--key", str(path), "--alg", "RS256")
        assert code == 2
        assert_one_line(err)
        assert f"cannot read {path}: " in err


def test_a_key_problem_is_reported_as_a_key_problem(capsys: pytest.CaptureFixture[str]) -> None:
    token = labkit.sign_token({"exp": 4_102_444_800}, keys.demo_secret(), "HS256")
    code, out, err = labkit_main(capsys, "verify", token, "--secret", "short", "--alg", "HS256")
    assert (code, out) == (2, "")
    assert err.startswith("labkit verify: key problem: the HS256 secret is 5 bytes; at least 32")
    # a secret that fits no allowed RSA algorithm: the key, not the token, is wrong
    code, _, err = labkit_main(capsys, "verify", "x", "--secret", SECRET, "--alg", "RS256")
    assert code == 2 and err.startswith("labkit verify: key problem: "), err


def test_an_unknown_kid_is_an_invalid_token_naming_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.to_jwks([keys.demo_public_key("rsa")])))
    token = labkit.sign_token(
        {"exp": 4_102_444_800}, keys.demo_private_key("rsa"), "RS256", headers={"kid": "other"}
    )
    code, _, err = labkit_main(capsys, "verify", token, "--jwks", str(path), "--alg", "RS256")
    assert code == 1
    assert err.startswith("labkit verify: invalid token: the token's kid 'other' is not the key's")


# Flags are named as flags ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--leeway", "-1"), "labkit verify: argument --leeway: must be 0 to 86400 seconds"),
        (("--leeway", "nan"), "argument --leeway: must be 0 to 86400 seconds, got 'nan'"),
        (("--alg", "none"), "argument --alg: invalid choice: 'none'"),
    ],
)
def test_bad_flags_are_named_as_flags_in_one_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = labkit_main(
        capsys, "verify", "a.b.c", "--secret", SECRET, "--alg", "HS256", *args
    )
    assert (code, out) == (2, "")
    assert_one_line(err)
    assert err.startswith(f"labkit verify: {message.removeprefix('labkit verify: ')}"), err


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("audience must be a string or a collection of strings, got 1", "--aud must be"),
        ("leeway must be a number of seconds >= 0, got -1", "--leeway must be"),
        ("the authorizer cache TTL must be 0 to 3600 seconds", "--cache-ttl must be"),
        ("port 8000 on 127.0.0.1 is already in use", "port 8000 on"),  # not an option name here
    ],
)
def test_library_option_names_become_flags(message: str, named: str) -> None:
    assert cli._flags_named(message).startswith(named)


# --require and --no-require-exp (the verify contract: required adds to exp) ---------------------


def options(*argv: str) -> dict[str, object]:
    parser = cli._parser()
    args = parser.parse_args(["verify", "a.b.c", "--secret", SECRET, "--alg", "HS256", *argv])
    assert isinstance(args, argparse.Namespace)
    return cli.verify_options(args)


def test_require_flags_map_to_verify_options_only_when_given() -> None:
    assert options() == {}  # verify's own default: exp required
    assert options("--require", "sub") == {"required": ("sub",)}
    assert options("--require", "sub", "--require", "jti") == {"required": ("sub", "jti")}
    assert options("--no-require-exp") == {"require_exp": False}
    assert options("--require", "sub", "--no-require-exp") == {
        "required": ("sub",),
        "require_exp": False,
    }


def test_require_names_claims_that_must_be_present(capsys: pytest.CaptureFixture[str]) -> None:
    token = labkit.sign_token({"exp": 4_102_444_800}, keys.demo_secret(), "HS256")
    argv = ("verify", token, "--secret", SECRET, "--alg", "HS256")
    code, _, err = labkit_main(capsys, *argv, "--require", "sub")
    assert code == 1 and "invalid token: the token has no 'sub' claim" in err
    code, out, _ = labkit_main(capsys, *argv, "--require", "exp")
    assert code == 0 and json.loads(out) == {"exp": 4_102_444_800}


def test_require_keeps_exp_and_only_no_require_exp_drops_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = labkit.sign_token({"sub": "alice"}, keys.demo_secret(), "HS256")  # no exp
    argv = ("verify", token, "--secret", SECRET, "--alg", "HS256")
    code, _, err = labkit_main(capsys, *argv, "--require", "sub")
    assert code == 1 and "the token has no 'exp' claim" in err
    code, out, _ = labkit_main(capsys, *argv, "--require", "sub", "--no-require-exp")
    assert code == 0 and json.loads(out) == {"sub": "alice"}


# A closed stdout ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_token(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A token whose decoded output (~300 KB) overflows any pipe buffer (64 KiB on Linux)."""
    token = labkit.sign_token({"exp": 1, "pad": "x" * 300_000}, keys.demo_secret(), "HS256")
    path = tmp_path_factory.mktemp("pipe") / "token.txt"
    path.write_text(token)
    return path


def test_a_closed_pipe_is_quiet_exit_141(big_token: Path) -> None:
    """The reader leaves after one byte, as ``head -c 1`` does: no BrokenPipeError noise."""
    with big_token.open("rb") as stdin:
        process = subprocess.Popen(
            labkit_command("decode", "-"),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    try:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(1) == b"{"
        process.stdout.close()
        err = process.stderr.read().decode()
        process.stderr.close()
        assert process.wait(timeout=60) == cli.EXIT_BROKEN_PIPE
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert err == ""


def test_a_closed_pipe_through_a_real_shell_pipeline(big_token: Path) -> None:
    command = " ".join(f"'{part}'" for part in labkit_command("decode", "-"))
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} < '{big_token}' | head -c 1; echo \" $?\""],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout == "{ 141\n"
    assert result.stderr == ""


# Any option value, as a real argv can carry it (bytes that are not UTF-8 arrive as \udcXX) ------

ARGV_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("\udc80\udcff"),
    max_size=40,
).filter(lambda text: not text.startswith("-") and "\x00" not in text)


@CLI_FUZZ
@given(
    secret=ARGV_TEXT,
    aud=ARGV_TEXT,
    iss=ARGV_TEXT,
    require=st.lists(ARGV_TEXT, max_size=2),
    leeway=ARGV_TEXT | st.sampled_from(["0", "60", "1e999", "-0", "86400.5"]),
)
def test_any_verify_option_values_exit_with_a_documented_code(
    secret: str, aud: str, iss: str, require: list[str], leeway: str
) -> None:
    token = labkit.sign_token({"exp": 4_102_444_800, "aud": "api"}, keys.demo_secret(), "HS256")
    argv = ["verify", token, "--secret", secret, "--alg", "HS256", "--aud", aud, "--iss", iss]
    argv += ["--leeway", leeway, *(part for name in require for part in ("--require", name))]
    code, out, err = _run_captured(argv)
    assert code in CODES["verify"] - {0}, (code, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("labkit verify: "), err


def test_a_secret_that_is_not_utf8_is_its_exact_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    raw = b"\xff" * 40  # what `labkit verify ... --secret $'\xff...'` passes
    token = labkit.sign_token({"exp": 4_102_444_800}, raw, "HS256")
    code, out, err = labkit_main(
        capsys,
        "verify",
        token,
        "--secret",
        raw.decode("utf-8", "surrogateescape"),
        "--alg",
        "HS256",
    )
    assert code == 0, err
    assert json.loads(out) == {"exp": 4_102_444_800}
