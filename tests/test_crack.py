"""The dictionary cracker: finds what is there, says so when it is not, refuses bad input.

Exit codes are checked by running ``labkit crack`` as a user would (a subprocess). No test
asserts a speed: bench/crack.py measures that.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from clirun import run_labkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import algorithms, examples, keys, tokens
from labkit.attacks import crack as cracking
from labkit.attacks.crack import CrackError, Target, crack, mangle
from labkit.errors import DisallowedAlgorithmError, LabkitError, MalformedTokenError

CLAIMS = {"sub": "alice", "role": "reader"}
WORDS = [f"word{n:05d}" for n in range(3000)]
POSITIONS = [0, len(WORDS) // 2, len(WORDS) - 1]


def token_for(secret: str | bytes, alg: str = "HS256") -> str:
    return algorithms.sign_token(CLAIMS, secret, alg)


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``labkit crack`` exactly as a user would."""
    return run_labkit("crack", *args, stdin=stdin)


def write_words(path: Path, words: list[str]) -> Path:
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return path


def big_list(secret_at_end: str, size: int = 70_000) -> list[str]:
    """More words than one block holds, so several processes really share the work."""
    return [f"candidate-{n:06d}" for n in range(size)] + [secret_at_end]


# Finding and not finding --------------------------------------------------------------------------


@pytest.mark.parametrize("position", POSITIONS, ids=["start", "middle", "end"])
def test_finds_the_secret_wherever_it_is_in_the_list(position: int) -> None:
    secret = WORDS[position]
    result = crack(token_for(secret), WORDS, processes=1)
    assert result.secret == secret.encode()
    assert result.guesses == position + 1  # one process: every guess up to the secret, no more
    assert result.found and result.text == secret


@pytest.mark.parametrize("position", POSITIONS, ids=["start", "middle", "end"])
def test_cli_prints_the_secret_and_exits_0(tmp_path: Path, position: int) -> None:
    wordlist = write_words(tmp_path / "words.txt", WORDS)
    result = run_cli(token_for(WORDS[position]), "--wordlist", str(wordlist))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{WORDS[position]}\n"
    assert "Traceback" not in result.stderr


def test_cli_not_found_exits_1(tmp_path: Path) -> None:
    wordlist = write_words(tmp_path / "words.txt", WORDS)
    result = run_cli(token_for("not-in-the-list"), "--wordlist", str(wordlist))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("labkit crack: secret not found (3,000 guesses in ")


def test_cli_defaults_to_the_bundled_list_and_reads_stdin() -> None:
    result = run_cli("-", stdin=examples.CLASSIC_TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{examples.CLASSIC_SECRET}\n"


def test_bundled_list_cracks_the_classic_token_and_not_the_demo_secret() -> None:
    assert crack(examples.CLASSIC_TOKEN).text == examples.CLASSIC_SECRET
    assert not crack(examples.lab_token()).found  # 64 characters of DEMO ONLY secret
    lines = cracking.bundled_wordlist().read_bytes().splitlines()
    assert len(lines) == len(set(lines)) >= 300
    assert all(line and line == line.strip() for line in lines)


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algorithms(alg: str) -> None:
    assert crack(token_for("word01234", alg), WORDS, processes=1).text == "word01234"


@pytest.mark.parametrize(("alg", "length"), [("HS256", 65), ("HS256", 100), ("HS512", 129)])
def test_secrets_longer_than_a_block_are_hashed_first(alg: str, length: int) -> None:
    secret = "k" * length  # RFC 2104: a key longer than the hash block is replaced by its hash
    found = crack(token_for(secret, alg), [*WORDS[:10], secret, "x" * 200], processes=1)
    assert found.text == secret


# Processes --------------------------------------------------------------------------------------


def test_one_and_several_processes_give_the_same_answer(tmp_path: Path) -> None:
    words = big_list("the-real-secret")
    token = token_for("the-real-secret")
    wordlist = write_words(tmp_path / "big.txt", words)
    one = crack(token, wordlist, processes=1)
    two = crack(token, wordlist, processes=2)
    from_list = crack(token, words, processes=2)
    assert (one.processes, two.processes, from_list.processes) == (1, 2, 2)
    assert one.secret == two.secret == from_list.secret == b"the-real-secret"
    assert one.guesses == len(words)
    assert 0 < two.guesses <= len(words)  # blocks still in flight at the find are not counted


def test_workers_are_gone_after_a_find_and_after_a_miss() -> None:
    words = big_list("found-me")
    assert crack(token_for("found-me"), words, processes=2).found
    assert multiprocessing.active_children() == []
    assert not crack(token_for("not-there"), words, processes=2).found
    assert multiprocessing.active_children() == []


def test_input_of_one_block_runs_in_this_process() -> None:
    result = crack(token_for(WORDS[-1]), WORDS)  # default processes, but one block of work
    assert result.processes == 1


def group_members(pgid: int) -> list[int]:
    """Live processes in a process group, read from /proc (Linux)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
def test_ctrl_c_stops_every_process_cleanly(tmp_path: Path) -> None:
    wordlist = write_words(tmp_path / "words.txt", big_list("never"))
    args = ["crack", token_for("zz"), "--wordlist", str(wordlist), "--rules", "--processes", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "labkit.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 30
    while len(group_members(proc.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)  # wait for the parent and its two workers
    time.sleep(0.3)  # workers initialised and busy
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group gets SIGINT
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "labkit crack: interrupted"
    assert "Traceback" not in err
    assert out == ""
    assert group_members(proc.pid) == []  # no worker left behind


# Word sources and rules ----------------------------------------------------------------------


def test_file_with_mixed_encodings_crlf_bom_and_blank_lines(tmp_path: Path) -> None:
    raw = (
        b"\xef\xbb\xbfalpha\r\n"  # UTF-8 byte order mark, Windows line end
        b"\n\n"
        b"caf\xc3\xa9\n"  # UTF-8
        b"latin\xe9\r\n"  # Latin-1
        b"  \n"  # spaces are a (bad) secret, not a blank line
        b"\xff\xfe\x00\n"  # not text at all
        b"last"  # no final newline
    )
    wordlist = tmp_path / "mixed.txt"
    wordlist.write_bytes(raw)
    for secret in (b"alpha", "café".encode(), "latiné".encode("latin-1"), b"  ", b"\xff\xfe\x00"):
        assert crack(token_for(secret), wordlist, processes=1).secret == secret
    assert crack(token_for(b"last"), wordlist).secret == b"last"
    missed = crack(token_for("absent"), wordlist, processes=1)
    assert missed.guesses == 6  # six non-empty lines, the blank ones skipped


def test_iterables_of_str_and_bytes_and_generators() -> None:
    token = token_for("beta")
    assert crack(token, ["alpha", b"beta"]).secret == b"beta"
    assert crack(token, (w for w in ["", "alpha", "beta"])).guesses == 2
    assert crack(token, iter(big_list("beta", 40_000)), processes=2).found


def test_progress_callback_counts_up_to_the_whole_list(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    wordlist = write_words(tmp_path / "words.txt", big_list("nope", 60_000))
    crack(token_for("absent"), wordlist, processes=1, progress=lambda w, g: seen.append((w, g)))
    assert len(seen) > 1
    assert seen == sorted(seen)
    assert seen[-1] == (60_001, 60_001)  # lines read, guesses tried


def test_progress_bar_stays_quiet_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = crack(token_for(WORDS[10]), WORDS, processes=1, progress=True)
    assert result.text == WORDS[10]
    assert capsys.readouterr() == ("", "")  # tqdm shows a bar on terminals and in Jupyter only


def test_rules_generate_the_named_variants() -> None:
    assert list(mangle("Secret", "case")) == [b"Secret", b"secret", b"SECRET"]
    assert list(mangle("pass", "leet")) == [b"pass", b"p@ss", b"pa$$", b"p@$$"]
    digits = list(mangle("jwt", ["digits"]))
    assert digits[:3] == [b"jwt", b"jwt0", b"jwt1"]
    assert {b"jwt7", b"jwt07", b"jwt99", b"jwt123", b"jwt123456"} <= set(digits)
    years = list(mangle("jwt", ["years"]))
    assert years == [b"jwt"] + [b"jwt%d" % year for year in range(1980, 2031)]
    everything = list(mangle("password"))
    assert b"P@ssw0rd2024" in everything and b"PASSWORD123" in everything
    assert len(everything) == len(set(everything))


def test_rules_are_lazy_and_crack_finds_mangled_secrets() -> None:
    variants = mangle("password")
    assert next(variants) == b"password"  # a generator: nothing computed up front
    token = token_for("P@ssw0rd2024")
    assert crack(token, ["hello", "password"], rules=True, processes=1).text == "P@ssw0rd2024"
    assert not crack(token, ["hello", "password"], rules=["case", "digits"]).found


def test_matches_is_the_plain_hmac_check() -> None:
    target = Target.from_token(examples.CLASSIC_TOKEN)
    assert target.matches(examples.CLASSIC_SECRET)
    assert not target.matches("secret")


# Bad input ------------------------------------------------------------------------------------


def rs256_token() -> str:
    return algorithms.sign_token(CLAIMS, keys.demo_private_key("rsa"), "RS256")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda p: [rs256_token()], "the token is RS256, signed with a private key"),
        (lambda p: ["eyJhbGciOiJub25lIn0.eyJhIjoxfQ."], "it is unsigned, so there is no secret"),
        (lambda p: ["not.a-token"], "malformed token: the token has 2 segments"),
        (lambda p: [examples.CLASSIC_TOKEN[:-3]], "malformed token: the signature is 30 bytes"),
        (
            lambda p: [examples.CLASSIC_TOKEN, "--wordlist", str(p / "missing.txt")],
            "cannot read the wordlist",
        ),
        (lambda p: [examples.CLASSIC_TOKEN, "--wordlist", str(p)], "Is a directory"),
        (lambda p: [examples.CLASSIC_TOKEN, "--processes", "0"], "processes must be a whole"),
    ],
    ids=["rs256", "alg-none", "malformed", "short-signature", "missing", "directory", "processes"],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path, args, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(*args(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("labkit crack: ")
    assert message in result.stderr


def test_api_bad_input_raises_labkit_errors() -> None:
    with pytest.raises(DisallowedAlgorithmError):
        crack(rs256_token(), WORDS)
    with pytest.raises(MalformedTokenError):
        crack("a.b", WORDS)
    with pytest.raises(CrackError, match="unknown rule 'reverse'"):
        crack(examples.CLASSIC_TOKEN, WORDS, rules=["reverse"])
    with pytest.raises(CrackError, match="a word must be str or bytes, got int"):
        crack(examples.CLASSIC_TOKEN, [1, 2, 3])
    with pytest.raises(CrackError, match="not bytes"):
        crack(examples.CLASSIC_TOKEN, b"secret")
    with pytest.raises(CrackError, match="processes"):
        crack(examples.CLASSIC_TOKEN, WORDS, processes=True)  # type: ignore[arg-type]
    with pytest.raises(CrackError, match="progress must be"):
        crack(examples.CLASSIC_TOKEN, WORDS, progress="yes")  # type: ignore[arg-type]


# Regressions: every word source strips its line ends; empty lists and unparsable tokens ------


SECRET = "crlf-secret-in-the-middle"
LIST = ["alpha", "beta", SECRET, "omega"]


def crlf_bytes(words: list[str], bom: bool = False) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + "".join(f"{w}\r\n" for w in words).encode()


@pytest.mark.parametrize("processes", [1, 2])
def test_crlf_wordlist_path_finds_the_secret_at_every_block_end(
    tmp_path: Path, processes: int
) -> None:
    # A block is cut at its last \n, so a CRLF block used to end in "word\r": the secret there,
    # in the middle of a big list, was missed.
    words = big_list("filler", 120_000)
    for position in (0, 37_449, 60_000, len(words) - 1):
        secret = words[position]
        path = tmp_path / "crlf.txt"
        path.write_bytes(crlf_bytes(words))
        assert crack(token_for(secret), path, processes=processes).text == secret, position


def test_crlf_wordlist_block_end_word_is_found(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(crlf_bytes(big_list("filler", 120_000)))
    with open(path, "rb") as handle:
        first_block = next(cracking._blocks(handle, cracking._BLOCK_BYTES))
    last = cracking._lines(first_block)[-1]  # the word right before the first cut
    assert not last.endswith(b"\r")
    assert crack(token_for(last), path, processes=1).secret == last


def test_lone_cr_line_ends_and_a_final_cr_are_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "mac.txt"
    path.write_bytes(b"alpha\rbeta\r" + SECRET.encode() + b"\r")
    assert crack(token_for(SECRET), path, processes=1).text == SECRET
    assert crack(token_for("beta"), path, processes=1).text == "beta"


@pytest.mark.parametrize("bom", [False, True], ids=["plain", "bom"])
def test_file_object_binary_crlf_finds_the_secret(tmp_path: Path, bom: bool) -> None:
    path = tmp_path / "words.txt"
    path.write_bytes(crlf_bytes([SECRET, *LIST], bom=bom))
    with open(path, "rb") as handle:
        assert crack(token_for(SECRET), handle, processes=1).text == SECRET
    with open(path, "rb") as handle:
        assert crack(token_for("omega"), handle).text == "omega"


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_file_object_text_finds_the_secret(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "words.txt"
    path.write_bytes(("\ufeff" + newline.join([SECRET, *LIST]) + newline).encode())
    with open(path, encoding="utf-8", newline="") as handle:  # newline="": \r\n kept in lines
        assert crack(token_for(SECRET), handle, processes=1).text == SECRET
    with open(path, encoding="utf-8") as handle:  # the default: universal newlines
        assert crack(token_for("omega"), handle).text == "omega"


def test_file_object_big_binary_is_shared_among_processes(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(crlf_bytes(big_list(SECRET, 90_000)))
    with open(path, "rb") as handle:
        result = crack(token_for(SECRET), handle, processes=2)
    assert result.text == SECRET and result.processes == 2


def test_iterable_of_lines_keeps_spaces_but_not_line_ends() -> None:
    lines = ["\ufeffalpha\n", b"beta\r\n", f"{SECRET}\r", " spaced \n"]
    assert crack(token_for(SECRET), lines).text == SECRET
    assert crack(token_for("alpha"), lines).text == "alpha"
    assert crack(token_for(" spaced "), lines).text == " spaced "  # a space may be a secret
    assert crack(token_for("beta"), iter(lines)).text == "beta"


def test_iterable_of_lines_from_io_streams() -> None:
    text = io.StringIO(f"alpha\n{SECRET}\n")
    assert crack(token_for(SECRET), text).text == SECRET
    binary = io.BytesIO(crlf_bytes(LIST))
    assert crack(token_for(SECRET), binary).text == SECRET


@pytest.mark.parametrize(
    "words",
    [[], [""], ["", "\n", "\r\n"], "file", "blank-file", "bytesio"],
    ids=["list", "one-blank", "blank-lines", "empty-file", "blank-file", "empty-bytesio"],
)
def test_empty_wordlist_is_reported_not_just_not_found(tmp_path: Path, words: Any) -> None:
    if words == "file":
        words = tmp_path / "empty.txt"
        words.write_bytes(b"")
    elif words == "blank-file":
        words = tmp_path / "blank.txt"
        words.write_bytes(b"\r\n\n\r\n")
    elif words == "bytesio":
        words = io.BytesIO(b"")
    result = crack(token_for("anything"), words, processes=1)
    assert result.empty and not result.found and result.guesses == 0
    assert "the word list is empty" in str(result)
    assert not crack(token_for("x"), ["y"]).empty  # a miss is not an empty list


def test_empty_wordlist_cli_warns_in_one_line_and_exits_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"\n\n")
    result = run_cli(examples.CLASSIC_TOKEN, "--wordlist", str(empty))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("labkit crack: warning: ")
    assert "has no words: nothing was tried" in result.stderr


def test_crlf_wordlist_cli_prints_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(crlf_bytes(["nope", examples.CLASSIC_SECRET, "later"], bom=True))
    result = run_cli(examples.CLASSIC_TOKEN, "--wordlist", str(path))
    assert result.returncode == 0
    assert result.stdout == examples.CLASSIC_SECRET + "\n"


def _deep_token(depth: int) -> str:
    header = tokens.b64url_encode(b'{"alg":"HS256","x":' + b"[" * depth + b"]" * depth + b"}")
    payload = tokens.b64url_encode(b'{"sub":"a"}')
    return f"{header}.{payload}.{tokens.b64url_encode(bytes(32))}"


def _huge_number_token(digits: int) -> str:
    header = tokens.b64url_encode(b'{"alg":"HS256","n":' + b"9" * digits + b"}")
    payload = tokens.b64url_encode(b'{"sub":"a"}')
    return f"{header}.{payload}.{tokens.b64url_encode(bytes(32))}"


@pytest.mark.parametrize(
    "token",
    [_deep_token(2000), _huge_number_token(5000), "e30.e30.", "!!!.e30.AAAA", "a.b.c.d"],
    ids=["deep-nesting", "huge-number", "no-alg", "bad-base64url", "four-segments"],
)
def test_malformed_token_exits_2_with_one_line(token: str) -> None:
    result = run_cli(token)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("labkit crack: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("token", [_deep_token(2000), _huge_number_token(5000)])
def test_malformed_token_parser_limits_raise_labkit_errors(token: str) -> None:
    with pytest.raises(MalformedTokenError):
        Target.from_token(token)


def test_progress_stops_at_the_real_count_at_a_find() -> None:
    seen: list[tuple[int, int]] = []
    words = ["", *WORDS[:100], "", *WORDS[100:]]  # blank lines count as lines read
    result = crack(
        token_for(WORDS[200]), words, processes=1, progress=lambda w, g: seen.append((w, g))
    )
    assert result.text == WORDS[200]
    assert seen[-1] == (203, 201)  # lines up to and including the secret; guesses tried
    ruled: list[tuple[int, int]] = []
    crack(
        token_for("Word00042!"[:-1]),
        WORDS,
        rules=True,
        processes=1,
        progress=lambda w, g: ruled.append((w, g)),
    )
    assert ruled[-1][0] == 43  # with rules too: the bar stops at the word that matched


def test_progress_bar_saved_in_notebook_05_stops_at_the_real_count() -> None:
    # nbval masks the bar (it sees only the first display); the saved notebook must not show
    # the empty bar beside the found secret, but where the search stopped.
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "05-weak-secrets.ipynb"
    bars = [
        "".join(output["data"]["text/plain"])
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for output in cell.get("outputs", [])
        if "crack HS256:" in "".join(output.get("data", {}).get("text/plain", ""))
    ]
    assert bars, "notebook 05 shows a progress bar"
    line = cracking.bundled_wordlist().read_bytes().splitlines().index(b"summer") + 1
    total = len(cracking.bundled_wordlist().read_bytes().splitlines())
    for bar in bars:
        assert f"| {line}/{total} [" in bar and bar.rstrip().endswith("found]"), bar
        assert " 0%" not in bar


# Property: whatever text arrives as a token, the cracker raises only labkit errors ------------

_SEGMENT = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/", max_size=40
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)


def _b64_json(value: Any) -> str:
    return tokens.b64url_encode(json.dumps(value).encode())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=120),
        st.builds(lambda a, b, c: f"{a}.{b}.{c}", _SEGMENT, _SEGMENT, _SEGMENT),
        st.builds(
            lambda h, sig: f"{_b64_json(h)}.e30.{tokens.b64url_encode(sig)}",
            st.one_of(_JSON, st.fixed_dictionaries({"alg": _JSON})),
            st.binary(max_size=70),
        ),
    )
)
def test_malformed_token_property_only_labkit_errors(token: str) -> None:
    try:
        target = Target.from_token(token)
    except LabkitError:
        return
    assert target.alg in ("HS256", "HS384", "HS512")


@pytest.mark.parametrize("payload", [b"[" * 2000 + b"]" * 2000, b'{"n": ' + b"9" * 5000 + b"}"])
def test_deep_nesting_or_huge_number_payload_is_malformed_not_not_found(payload: bytes) -> None:
    """A payload that would exhaust the JSON parser is refused (exit 2), not 'not found'."""
    token = ".".join(
        tokens.b64url_encode(part) for part in (b'{"alg":"HS256"}', payload, b"x" * 32)
    )
    with pytest.raises(MalformedTokenError):
        Target.from_token(token)
    result = run_labkit("crack", token)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("labkit crack: malformed")


def test_device_wordlist_is_refused_not_read_forever() -> None:
    """/dev/zero has no line end: the library stops at MAX_WORD_BYTES with one line."""
    token = algorithms.sign_token({"sub": "a"}, b"s" * 32, "HS256")
    with pytest.raises(CrackError, match="over 65536 bytes"):
        crack(token, "/dev/zero", processes=1)


def test_pipe_wordlist_is_read_as_a_stream(tmp_path: Path) -> None:
    secret = b"pipe-secret-" + b"x" * 20
    token = algorithms.sign_token({"sub": "a"}, secret, "HS256")
    fifo = tmp_path / "words"
    os.mkfifo(fifo)
    writer = subprocess.Popen(
        [sys.executable, "-c", f"open({str(fifo)!r}, 'wb').write(b'a\\r\\nb\\n' + {secret!r})"]
    )
    try:
        assert crack(token, fifo, processes=1).secret == secret
    finally:
        writer.wait(timeout=10)
