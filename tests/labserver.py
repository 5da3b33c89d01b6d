"""Helpers for tests that run a real JupyterLab: ports, process groups, a server on loopback.

Shared by test_make_lab.py (JupyterLab started by `make lab`) and test_browser.py (started
directly from the venv running the tests). Not a test module: pytest collects nothing here.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"  # the Makefile's state folders live here
STARTUP_TIMEOUT = 60.0
# JupyterLab asks whether to fetch news from the internet; the kit runs offline, so: no.
NO_NEWS = {"fetchNews": "false", "checkForUpdates": False}


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_alive(pgid: int) -> bool:
    """Is any process of the group still running? Zombies do not count."""
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[2] == str(pgid) and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the process's whole group (it was started in a new session), and wait for it."""
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not group_alive(proc.pid):
                return
            time.sleep(0.1)
    proc.wait(timeout=5)


def jupyter_env(tmp: Path) -> dict[str, str]:
    """The Makefile's state folders (inside the checkout), a fresh HOME, and per-run lab state."""
    home, settings = tmp / "home", tmp / "lab-settings"
    plugin = settings / "@jupyterlab" / "apputils-extension"
    notification = plugin / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps(NO_NEWS), encoding="utf-8")
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(CACHE / "jupyter" / "config"),
        "JUPYTER_DATA_DIR": str(CACHE / "jupyter" / "data"),
        "JUPYTER_RUNTIME_DIR": str(CACHE / "jupyter" / "runtime"),
        "IPYTHONDIR": str(CACHE / "ipython"),
        "MPLCONFIGDIR": str(CACHE / "matplotlib"),
        "npm_config_cache": str(CACHE / "npm"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
    }
    for name in ("JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    return env


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it answers, its token, and its logs so far."""

    url: str
    token: str
    log_dir: Path

    def logs(self) -> str:
        out = (self.log_dir / "lab.out").read_text(errors="replace")
        err = (self.log_dir / "lab.err").read_text(errors="replace")
        return f"stdout:\n{out}\nstderr:\n{err}"


@contextlib.contextmanager
def jupyter_lab(tmp: Path, *, root: Path = ROOT) -> Iterator[Lab]:
    """JupyterLab from the venv running the tests, on 127.0.0.1 and a free port; stopped after."""
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to wait for the kernel
        f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:  # containers and CI machines often run as root
        command.append("--allow-root")
    lab = Lab(f"http://127.0.0.1:{port}", token, tmp)
    with (tmp / "lab.out").open("wb") as out, (tmp / "lab.err").open("wb") as err:
        proc = subprocess.Popen(
            command,
            cwd=root,
            env=jupyter_env(tmp),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            wait_until_up(proc, lab)
            yield lab
        finally:
            stop(proc)


def wait_until_up(proc: subprocess.Popen[bytes], lab: Lab) -> None:
    """Poll /api/status until the server answers 200 (or fail with its logs)."""
    start = time.monotonic()
    with requests.Session() as http:
        while True:
            assert proc.poll() is None, f"jupyter lab exited with {proc.returncode}\n{lab.logs()}"
            assert time.monotonic() - start < STARTUP_TIMEOUT, f"no answer\n{lab.logs()}"
            try:
                status = http.get(f"{lab.url}/api/status", params={"token": lab.token}, timeout=2)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.25)
                continue
            assert status.status_code == 200, lab.logs()
            return
