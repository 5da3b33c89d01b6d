"""The README's command-line block runs as pasted: as a bash script, from the checkout.

The block after the `readme-cli` marker comment is extracted verbatim and run with
`bash -euo pipefail` from the checkout's root, as a person would after `make lab`: it activates
.venv itself, starts `labkit serve` in the background, waits for it, and stops it at the end.
The test checks it succeeds, says what the README says it says, leaves no server running, and
writes nothing into the checkout (its files go to a temporary folder, which it removes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from labserver import free_port, group_alive, stop

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = "<!-- readme-cli: tests/test_readme.py runs the next block as a script -->"
TIMEOUT = 180


def cli_block() -> str:
    """The fenced bash block right after the marker comment, exactly as the README has it."""
    text = README.read_text(encoding="utf-8")
    assert text.count(MARKER) == 1, f"README.md needs exactly one {MARKER}"
    match = re.match(r"\n```bash\n(.*?)\n```\n", text.split(MARKER, 1)[1], re.S)
    assert match, "the marker must be followed by a ```bash fenced block"
    return match.group(1) + "\n"


def checkout_status() -> str:
    """What git sees as changed or new in the checkout (ignored files left out)."""
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


def test_block_activates_the_venv_and_keeps_files_out_of_the_checkout() -> None:
    block = cli_block()
    assert block.startswith("source .venv/bin/activate"), "labkit is only on PATH after this"
    assert '-o "$WORK/jwks.json"' in block and "mktemp -d" in block
    assert "--retry-connrefused" in block, "wait for the server before the first request"
    assert 'kill "$SERVER"' in block, "stop the server at the end"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's block uses curl")
@pytest.mark.skipif(shutil.which("git") is None, reason="git tells what the block wrote")
def test_readme_command_line_block_runs_as_pasted(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "activate").exists():
        pytest.skip("no .venv/bin/activate: run `make install` first, as the README says")
    script = tmp_path / "readme-cli.sh"
    script.write_text(cli_block(), encoding="utf-8")
    temp, home = tmp_path / "tmp", tmp_path / "home"
    temp.mkdir()
    home.mkdir()
    env = {
        # Nothing of the venv on PATH beforehand: the block must activate it itself.
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(temp),  # where the block's mktemp -d goes
        "PORT": str(free_port()),  # the README's 8765 may be taken on a test machine
        "LANG": "C.UTF-8",
    }
    if os.environ.get("PYTHONPATH"):  # a worktree testing its own labkit with a shared venv
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    before = checkout_status()
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            ["bash", "-euo", "pipefail", str(script)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # the block's background server is in this group
        )
        try:
            code = proc.wait(timeout=TIMEOUT)
            left_running = group_alive(proc.pid)
        finally:
            stop(proc)
    logs = f"stdout:\n{out.read_text()}\nstderr:\n{err.read_text()}"
    assert code == 0, logs
    assert not left_running, f"the block left its server running\n{logs}"
    # What the README's comments promise.
    printed = out.read_text()
    assert "alg-none" in printed and "hardened" in printed, logs  # serve --list
    assert re.search(r"^\S+\s+accepted\s", printed, re.M), f"scan found nothing\n{logs}"
    assert '"sub": "alice"' in printed and '"verified": false' in printed, logs  # decode, verify
    assert "the token is RS256" in err.read_text(), logs  # crack: exit 2, said in one line
    # Nothing written into the checkout; the temporary folder is removed again.
    assert checkout_status() == before, "the block wrote into the checkout"
    assert not (ROOT / "jwks.json").exists()
    assert list(temp.iterdir()) == [], f"left behind: {sorted(temp.rglob('*'))}"
    assert list(home.iterdir()) == [], f"written into $HOME: {sorted(home.rglob('*'))}"
