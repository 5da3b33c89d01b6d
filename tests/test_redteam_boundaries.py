"""Regressions from a red-team pass over the boundaries: each test is one crash that was found.

Every test names its input class and where it broke. The long hypothesis
campaign that found most of them is ``bench/redteam.py`` (outside ``make test``);
the URL-guard and header-injection bypasses live in ``tests/test_urlguard.py``,
next to the resolver trap they need.
"""

from __future__ import annotations

import contextlib
import fractions
import io
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from clirun import labkit_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit
from labkit import claims, cli, keys, tokens
from labkit.algorithms import sign
from labkit.errors import (
    ConfigurationError,
    InvalidClaimError,
    InvalidTokenError,
    LabkitError,
)

NOW = 1_700_000_000
SECRET = keys.demo_secret()
HUGE = 10**5000  # over CPython's 4,300-digit limit: repr() and str() of it raise ValueError
B64 = tokens.b64url_encode
REAL_JWKS = {
    "RSA": keys.to_jwk(keys.demo_public_key("rsa")),
    "EC": keys.to_jwk(keys.demo_public_key("p256")),
    "OKP": keys.to_jwk(keys.demo_public_key("ed25519")),
    "oct": {"kty": "oct", "k": B64(SECRET)},
}
SMALL = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def hs256(
    payload: dict[str, Any], key: bytes = SECRET, header: dict[str, Any] | None = None
) -> str:
    head = B64(json.dumps(header or {"alg": "HS256"}).encode())
    body = B64(json.dumps(payload).encode())
    return f"{head}.{body}.{B64(sign('HS256', key, f'{head}.{body}'.encode()))}"


GENUINE = hs256({"exp": NOW + 60})
CRACKABLE = labkit.sign_token({"a": 1}, b"secret", "HS256")  # a secret in any wordlist
FORGED = hs256({"exp": NOW + 60, "role": "admin"}, key=b"another secret of thirty-two bytes!!")


# Keys: a caller's JWK is not bounded like a token, and error messages quote it ------------------


@pytest.mark.parametrize("kty", list(REAL_JWKS))
@pytest.mark.parametrize("member", ["use", "key_ops", "alg"])
@pytest.mark.parametrize("as_set", [False, True], ids=["jwk", "jwks"])
def test_huge_int_jwk_metadata_raises_a_labkit_error_not_valueerror(
    kty: str, member: str, as_set: bool
) -> None:
    """Found: ``use``/``key_ops``/``alg`` of 10**5000 made the refusal's repr() raise ValueError."""
    jwk = {**REAL_JWKS[kty], member: HUGE}
    key = {"keys": [jwk]} if as_set else jwk
    for token in (GENUINE, FORGED):
        with pytest.raises(InvalidTokenError) as caught:
            labkit.verify(token, key, algorithms=["HS256"], now=NOW)
        assert "\n" not in str(caught.value) and len(str(caught.value)) < 400
        with pytest.raises(InvalidTokenError):
            labkit.verify_jws(token, key, algorithms=["HS256"])


def test_huge_int_jwk_kid_never_crashes_key_selection() -> None:
    for key in ({**REAL_JWKS["oct"], "kid": HUGE}, {"keys": [{**REAL_JWKS["oct"], "kid": HUGE}]}):
        token = hs256({"exp": NOW + 60}, header={"alg": "HS256", "kid": "a"})
        with pytest.raises(LabkitError):
            labkit.verify(token, key, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize(
    "options",
    [
        {"algorithms": [HUGE]},
        {"algorithms": HUGE},
        {"algorithms": ["HS256"], "required": [HUGE]},
        {"algorithms": ["HS256"], "required": HUGE},
        {"algorithms": ["HS256"], "require_exp": HUGE},
        {"algorithms": ["HS256"], "max_length": -HUGE},
    ],
    ids=["alg-entry", "algorithms", "required-entry", "required", "require_exp", "max_length"],
)
def test_huge_int_options_are_configuration_errors_in_one_line(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        labkit.verify(GENUINE, SECRET, now=NOW, **options)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


ODD_MEMBER = st.one_of(
    st.sampled_from([HUGE, -HUGE, float("inf"), float("nan"), None, True, [], {}, [["sig"]]]),
    st.integers(),
    st.text(max_size=8),
    st.lists(st.one_of(st.text(max_size=6), st.integers(), st.none()), max_size=3),
)


@SMALL
@given(
    kty=st.sampled_from(list(REAL_JWKS)),
    changes=st.dictionaries(
        st.sampled_from(
            ["kty", "n", "e", "crv", "x", "y", "k", "d", "alg", "use", "key_ops", "kid"]
        ),
        ODD_MEMBER,
        max_size=4,
    ),
    as_set=st.booleans(),
)
def test_property_odd_jwk_members_raise_only_labkit_errors_and_accept_no_forgery(
    kty: str, changes: dict[str, Any], as_set: bool
) -> None:
    jwk = {**REAL_JWKS[kty], **changes}
    key = {"keys": [jwk]} if as_set else jwk
    for alg in ("HS256", "RS256", "ES256", "EdDSA"):
        forged = tokens.encode({"alg": alg}, {"exp": NOW + 60}, b"\x00" * 64)
        with pytest.raises(InvalidTokenError):
            labkit.verify(forged, key, algorithms=[alg], now=NOW)
    with pytest.raises(InvalidTokenError):
        labkit.verify(FORGED, key, algorithms=["HS256"], now=NOW)


# Claims helpers -------------------------------------------------------------------------------


def test_fraction_as_datetime_beyond_any_float_is_an_invalid_claim_error() -> None:
    """Found: ``as_datetime(Fraction(10**400))`` raised OverflowError converting it to float."""
    for value in (fractions.Fraction(10**400), fractions.Fraction(-(10**400))):
        with pytest.raises(InvalidClaimError, match=r"outside the years|not a NumericDate"):
            claims.as_datetime(value)
    assert claims.as_datetime(fractions.Fraction(3, 2)).year == 1970


# CLI: closed streams --------------------------------------------------------------------------


def run_closed(tmp_path: Path, stream: str, *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``labkit ARGS`` with ``stream`` closed."""
    out, err, rc = tmp_path / "out", tmp_path / "err", tmp_path / "rc"
    redirect = {"stdout": '>&- 2>"$ERR"', "stderr": '2>&- >"$OUT"'}[stream]
    subprocess.run(
        ["bash", "-c", f'"$@" {redirect}; echo $? > "$RC"', "bash", *labkit_command(*args)],
        timeout=60,
        check=True,
        env={**os.environ, "ERR": str(err), "OUT": str(out), "RC": str(rc)},
    )
    read = lambda path: path.read_text() if path.exists() else ""  # noqa: E731
    return int(rc.read_text()), read(out), read(err)


@pytest.mark.parametrize(
    "args",
    [
        ("decode", GENUINE),
        ("serve", "--list"),
        (
            "verify",
            hs256({"exp": 4_102_444_800}),
            "--secret",
            SECRET.decode(),
            "--alg",
            "HS256",
            "--no-require-exp",
        ),
    ],
    ids=["decode", "serve-list", "verify"],
)
def test_closed_stdout_is_a_broken_pipe_exit_141_not_a_bug(tmp_path: Path, args: tuple) -> None:
    """Found: with ``>&-`` Python has no sys.stdout, and every print was AttributeError (70)."""
    code, _, err = run_closed(tmp_path, "stdout", *args)
    assert (code, err) == (cli.EXIT_BROKEN_PIPE, "")


def test_closed_stdout_keeps_an_error_verdict_and_its_one_line(tmp_path: Path) -> None:
    code, _, err = run_closed(tmp_path, "stdout", "decode", "not-a-token")
    assert code == cli.EXIT_FAIL
    assert err.count("\n") == 1 and err.startswith("labkit decode: malformed token")


@pytest.mark.parametrize(
    ("args", "expected"),
    [(("decode", "not-a-token"), cli.EXIT_FAIL), (("decode", GENUINE), cli.EXIT_OK)],
    ids=["malformed", "valid"],
)
def test_closed_stderr_keeps_the_exit_code_and_writes_no_message_to_stdout(
    tmp_path: Path, args: tuple[str, ...], expected: int
) -> None:
    code, out, _ = run_closed(tmp_path, "stderr", *args)
    assert code == expected
    assert "labkit decode:" not in out


def test_unwritable_stderr_never_turns_a_verdict_into_exit_70(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: a stale stderr descriptor (EBADF) made ``crack``'s own prints exit 70."""

    class Broken:
        def write(self, text: str) -> int:
            raise OSError(9, "Bad file descriptor")

        def flush(self) -> None:
            raise OSError(9, "Bad file descriptor")

    words = tmp_path / "words.txt"
    words.write_bytes(b"nope\nsecret\n")
    monkeypatch.setattr("sys.stderr", Broken())
    assert cli.main(["crack", CRACKABLE, "--wordlist", str(words)]) == cli.EXIT_OK
    assert cli.main(["crack", "not-a-token"]) == cli.EXIT_USAGE
    assert cli.main(["decode", "not-a-token"]) == cli.EXIT_FAIL
    assert capsys.readouterr().out == "secret\n"


# CLI: wordlists that are not regular files ------------------------------------------------------


def test_crack_wordlist_dev_zero_is_refused_in_one_line_not_read_forever(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found: ``--wordlist /dev/zero`` counted lines forever (one endless line, no newline)."""
    assert cli.main(["crack", CRACKABLE, "--wordlist", "/dev/zero"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line over" in err and "Traceback" not in err


def test_crack_wordlist_from_a_fifo_is_read_not_refused_as_unseekable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found: ``--wordlist <(...)`` (a pipe) failed: 'File or stream is not seekable'."""
    fifo = tmp_path / "words"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(b"x\r\nletmein\r\nsecret\r\n"))
    writer.start()
    try:
        code = cli.main(["crack", CRACKABLE, "--wordlist", str(fifo), "--processes", "1"])
    finally:
        writer.join(timeout=30)
    captured = capsys.readouterr()
    assert code == cli.EXIT_OK, captured.err
    assert captured.out == "secret\n"


def test_crack_wordlist_from_stdin_device_as_a_real_process() -> None:
    result = subprocess.run(
        labkit_command("crack", CRACKABLE, "--wordlist", "/dev/stdin"),
        input=b"nope\nsecret\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (cli.EXIT_OK, b"secret\n")
    assert result.stderr.count(b"\n") == 1


def test_crack_wordlist_pipe_with_an_endless_line_after_words_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "words"
    os.mkfifo(fifo)
    data = b"".join(b"%d\n" % n for n in range(50_000)) + b"z" * (cli.MAX_WORD_BYTES + 10)
    writer = threading.Thread(target=lambda: _write_ignoring_epipe(fifo, data))
    writer.start()
    try:
        code = cli.main(["crack", CRACKABLE, "--wordlist", str(fifo), "--processes", "1"])
    finally:
        writer.join(timeout=30)
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and "line over" in err and err.count("\n") == 1


def _write_ignoring_epipe(path: Path, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError):  # the reader stops at the endless line
        path.write_bytes(data)


# Any token, every entry point (a short run of the campaign's first property) -------------------


@SMALL
@given(
    st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200),
        st.builds(
            lambda h, p: f"{B64(h)}.{B64(p)}.{B64(b'x' * 32)}",
            st.sampled_from(
                [
                    b'{"alg":"HS256"}',
                    b'{"alg":["HS256"]}',
                    b'{"alg":"HS256","crit":{}}',
                    b'{"alg":"HS256","kid":{"a":1}}',
                    b'{"alg":"HS256","b64":"no"}',
                    b'\xef\xbb\xbf{"alg":"HS256"}',
                ]
            ),
            st.sampled_from(
                [
                    b'{"exp":1e999999}',
                    b'{"exp":-0}',
                    b'{"exp":1E400}',
                    b'{"a":1,"\\u0061":2}',
                    b'{"a":"\\ud800\\udc00"}',
                    b'{"a":"\\ud800"}',
                    b"[" * 33 + b"]" * 33,
                    b'{"aud":[["api"]]}',
                    b'{"exp":true}',
                ]
            ),
        ),
    )
)
def test_property_any_token_reaches_every_entry_point_as_a_labkit_error(
    token: str | bytes,
) -> None:
    from labkit.widgets import TokenInspector

    with pytest.raises(InvalidTokenError):
        labkit.verify(token, SECRET, algorithms=["HS256"], now=NOW, audience="api")
    for call in (
        lambda: labkit.verify_jws(token, SECRET, algorithms=["HS256"]),
        lambda: tokens.parse(token),
        lambda: tokens.lint(token, now=NOW),
    ):
        try:
            call()
        except LabkitError as exc:
            assert "\n" not in str(exc)
    repr(TokenInspector(token, now=NOW, wordlist=None))


def test_huge_int_jwk_key_material_members_are_refused_in_one_line() -> None:
    for member in ("n", "e", "k", "x", "crv"):
        kty = {"n": "RSA", "e": "RSA", "k": "oct", "x": "OKP", "crv": "EC"}[member]
        with pytest.raises(InvalidTokenError) as caught:
            labkit.verify(GENUINE, {**REAL_JWKS[kty], member: HUGE}, algorithms=["HS256"], now=NOW)
        assert "\n" not in str(caught.value)


# CLI: stdin for a token argument "-" -------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("decode", "-"), ("crack", "-"), ("scan", "http://127.0.0.1:9/api", "--token", "-")],
    ids=["decode", "crack", "scan"],
)
def test_closed_stdin_for_a_dash_token_is_a_usage_error_not_a_bug(args: tuple[str, ...]) -> None:
    """Found: with ``<&-`` sys.stdin is None, and reading the token was AttributeError (70)."""
    result = subprocess.run(
        ["bash", "-c", '"$@" <&-', "bash", *labkit_command(*args)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == cli.EXIT_USAGE
    assert result.stderr.count(b"\n") == 1 and b"stdin is closed" in result.stderr


def test_unreadable_stdin_for_a_dash_token_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unreadable:
        def read(self, size: int = -1) -> bytes:
            raise IsADirectoryError(21, "Is a directory")

    class Stdin:
        buffer = Unreadable()

    monkeypatch.setattr("sys.stdin", Stdin())
    assert cli.main(["decode", "-"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stdin cannot be read: Is a directory" in err


def test_crack_reads_a_dash_token_from_stdin_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found: stdin holding '-' made crack read stdin a second time (an empty token)."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"-\n")))
    assert cli.main(["crack", "-"]) == cli.EXIT_USAGE
    assert "1 segment" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(CRACKABLE.encode() + b"\n")))
    assert cli.main(["crack", "-", "--processes", "1"]) == cli.EXIT_OK
    assert capsys.readouterr().out == "secret\n"


# lint: a wordlist path that is not a regular file -----------------------------------------------


@pytest.mark.parametrize("path", ["/dev/zero", "/tmp"])
def test_lint_wordlist_that_is_not_a_regular_file_is_refused_not_read_forever(path: str) -> None:
    """Found: ``tokens.lint(t, wordlist="/dev/zero")`` (and the inspector) never returned."""
    with pytest.raises(ConfigurationError, match="not a regular file"):
        tokens.lint(CRACKABLE, wordlist=path)
