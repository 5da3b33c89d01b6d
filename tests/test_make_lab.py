"""`make lab` starts a real JupyterLab on the start page, with its state inside the checkout.

It serves the whole checkout (so learner/, notebooks/ and docs/ can all be opened) and opens the
learner edition's start page; `make lab EDITION=instructor` opens the instructor copy instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from labserver import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
START_PAGES = {  # make lab's EDITION -> the page it opens (None: the default, no EDITION=)
    None: "learner/00-start-here.ipynb",
    "instructor": "notebooks/00-start-here.ipynb",
}
STAMP = ".venv/.installed"  # the Makefile's install stamp
RUNTIME_DIR = ROOT / ".cache" / "jupyter" / "runtime"  # the Makefile's JUPYTER_RUNTIME_DIR
STARTUP_TIMEOUT = 60.0


def server_info(port: int) -> dict | None:
    """The jpserver-<pid>.json that the server on `port` wrote into the runtime dir."""
    for path in RUNTIME_DIR.glob("jpserver-*.json"):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if info.get("port") == port:
            return info
    return None


@pytest.mark.skipif(shutil.which("make") is None, reason="`make` is not on PATH")
def test_make_lab_refuses_an_unknown_edition() -> None:
    result = subprocess.run(
        ["make", "-o", STAMP, "lab", "EDITION=solutions"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "EDITION=solutions? use learner or instructor" in result.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="`make` is not on PATH")
@pytest.mark.parametrize("edition", list(START_PAGES), ids=lambda e: e or "default-learner")
def test_make_lab_serves_jupyterlab_on_the_start_page(tmp_path: Path, edition: str | None) -> None:
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv/bin/jupyter: run `make install` first")
    start_page = START_PAGES[edition]
    assert (ROOT / start_page).is_file(), (
        f"{start_page} is missing: `make lab` opens it, and jupyter lab refuses to start without it"
    )

    port = free_port()
    token = secrets.token_hex(16)
    lab_args = f"--no-browser --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    if os.geteuid() == 0:  # containers and CI machines often run as root
        lab_args += " --allow-root"
    # A fresh, empty HOME catches anything that escapes the Makefile's .cache/ exports.
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    # `-o STAMP`: never reinstall from here (offline); the venv is what the tests run in.
    command = ["make", "-o", STAMP, "lab", f"PORT={port}", f"LAB_ARGS={lab_args}"]
    if edition:
        command.append(f"EDITION={edition}")
    stdout_path, stderr_path = tmp_path / "lab.out", tmp_path / "lab.err"

    def logs() -> str:
        return f"stdout:\n{stdout_path.read_text()}\nstderr:\n{stderr_path.read_text()}"

    base = f"http://127.0.0.1:{port}"
    with (
        stdout_path.open("wb") as out,
        stderr_path.open("wb") as err,
        requests.Session() as http,
    ):
        start = time.monotonic()
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            while True:
                assert proc.poll() is None, f"make lab exited with {proc.returncode}\n{logs()}"
                assert time.monotonic() - start < STARTUP_TIMEOUT, f"no answer\n{logs()}"
                try:
                    status = http.get(f"{base}/api/status", params={"token": token}, timeout=2)
                except (requests.ConnectionError, requests.Timeout):
                    time.sleep(0.25)
                    continue
                break
            assert status.status_code == 200, logs()

            lab = http.get(f"{base}/lab", params={"token": token}, timeout=10)
            elapsed = time.monotonic() - start
            assert lab.status_code == 200, logs()
            assert "text/html" in lab.headers["Content-Type"]
            assert "<title>JupyterLab</title>" in lab.text
            assert "jupyter-config-data" in lab.text

            # The server's runtime files are in the checkout's .cache/, and it opens the start page.
            info = server_info(port)
            assert info is not None, f"no jpserver-*.json for port {port} in {RUNTIME_DIR}"
            assert info["token"] == token
            assert os.getpgid(info["pid"]) == proc.pid, "jupyter runs in make's process group"
            cmdline = Path(f"/proc/{info['pid']}/cmdline")
            if cmdline.exists():
                assert cmdline.read_bytes().split(b"\0")[-2] == start_page.encode()
            open_page = RUNTIME_DIR / f"jpserver-file-to-run-{info['pid']}-open.html"
            assert f"lab/tree/{start_page}" in open_page.read_text(encoding="utf-8")
            assert Path(info["root_dir"]).resolve() == ROOT, "Lab serves the whole checkout"
            contents = http.get(f"{base}/api/contents/", params={"token": token}, timeout=10)
            names = {item["name"] for item in contents.json()["content"]}
            assert {"learner", "notebooks", "docs"} <= names, names
            print(f"make lab: /lab answered after {elapsed:.1f} s")
        finally:
            stop(proc)

    assert not any(home.iterdir()), f"written into $HOME: {sorted(home.rglob('*'))}"
