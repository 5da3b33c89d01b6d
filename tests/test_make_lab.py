"""`make lab` starts a real JupyterLab on the start notebook, with its state inside the checkout.

It serves the whole checkout (so learner/, notebooks/ and docs/ can all be opened); the URL it
prints with `--no-browser`, and the page it opens in a browser without it, are the learner
edition's start notebook (`make lab EDITION=instructor`: the instructor copy's). It runs as root
(containers, cloud VMs) because the Makefile adds `--allow-root` there, and only there. Its
install is the runtime dependencies only, with JupyterLab's news pop-up switched off in the venv;
`make test` adds the test tools. Each install happens once, in either order.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests
from labserver import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
START_PAGES = {  # make lab's EDITION -> the page it opens (None: the default, no EDITION=)
    None: "learner/00-start-here.ipynb",
    "instructor": "notebooks/00-start-here.ipynb",
}
# The Makefile's install stamps: the runtime (`make lab`) and the test tools (`make test`).
STAMP, TEST_STAMP = ".venv/.installed", ".venv/.installed-test"
NO_NEWS_FILE = ROOT / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
NOTIFICATION = "@jupyterlab/apputils-extension:notification"
NO_NEWS = {"fetchNews": "false", "checkForUpdates": False}
RUNTIME_DIR = ROOT / ".cache" / "jupyter" / "runtime"  # the Makefile's JUPYTER_RUNTIME_DIR
STARTUP_TIMEOUT = 60.0
PRINTED_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/\S*)\?token=([0-9a-f]+)")
NEEDS_MAKE = pytest.mark.skipif(shutil.which("make") is None, reason="`make` is not on PATH")


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


def refresh_target(open_html: Path) -> str:
    """The URL a browser-open page (jpserver-<pid>-open.html) sends the browser to."""
    match = re.search(r'http-equiv="refresh" content="1;url=([^"]+)"', open_html.read_text())
    assert match, open_html.read_text()
    return html.unescape(match.group(1))


def lab_env(home: Path, browser: Path | None = None) -> dict[str, str]:
    """The caller's environment with a fresh HOME, no preset token, and the browser to open."""
    env = {k: v for k, v in os.environ.items() if k not in {"JUPYTER_TOKEN", "BROWSER"}}
    env["HOME"] = str(home)
    if browser:
        env["BROWSER"] = str(browser)  # Python's webbrowser module runs it with the URL
    return env


@NEEDS_MAKE
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


@NEEDS_MAKE
@pytest.mark.parametrize("edition", list(START_PAGES), ids=lambda e: e or "default-learner")
def test_make_lab_prints_the_start_notebook_url(tmp_path: Path, edition: str | None) -> None:
    """With --no-browser, the URL make lab prints opens the start notebook, token included."""
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv/bin/jupyter: run `make install` first")
    start_page = START_PAGES[edition]
    assert (ROOT / start_page).is_file(), f"{start_page} is missing: `make lab` opens it"

    port = free_port()
    # No --allow-root and no token here: the Makefile must cope with root, and the token is
    # read from the URL make lab prints, as a person would.
    lab_args = "--no-browser --ServerApp.port_retries=0"
    # A fresh, empty HOME catches anything that escapes the Makefile's .cache/ exports.
    home = tmp_path / "home"
    home.mkdir()
    # `-o STAMP`: never reinstall from here (offline); the venv is what the tests run in.
    command = ["make", "-o", STAMP, "lab", f"PORT={port}", f"LAB_ARGS={lab_args}"]
    if edition:
        command.append(f"EDITION={edition}")
    stdout_path, stderr_path = tmp_path / "lab.out", tmp_path / "lab.err"

    def logs() -> str:
        return f"stdout:\n{stdout_path.read_text()}\nstderr:\n{stderr_path.read_text()}"

    with (
        stdout_path.open("wb") as out,
        stderr_path.open("wb") as err,
        requests.Session() as http,
    ):
        start = time.monotonic()
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=lab_env(home),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            while not (printed := PRINTED_URL.search(stderr_path.read_text())):
                assert proc.poll() is None, f"make lab exited with {proc.returncode}\n{logs()}"
                assert time.monotonic() - start < STARTUP_TIMEOUT, f"no URL printed\n{logs()}"
                time.sleep(0.25)
            url = printed.group(0)
            assert int(printed.group(1)) == port, url
            assert printed.group(2) == f"/lab/tree/{start_page}", f"not the start notebook: {url}"
            token = printed.group(3)

            page = http.get(url, timeout=10)  # what a person pasting the printed URL gets
            elapsed = time.monotonic() - start
            assert page.status_code == 200, logs()
            assert "text/html" in page.headers["Content-Type"]
            assert "<title>JupyterLab</title>" in page.text
            config = re.search(
                r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                page.text,
                re.S,
            )
            assert config, page.text[:2000]
            assert json.loads(config.group(1))["treePath"] == start_page, "Lab opens the notebook"
            base = f"http://127.0.0.1:{port}"
            bare = http.get(f"{base}/", allow_redirects=False, timeout=10)  # http://HOST:PORT/
            assert bare.status_code == 302
            assert urlsplit(bare.headers["Location"]).path == f"/lab/tree/{start_page}"
            opened = http.get(f"{base}/api/contents/{start_page}", params={"token": token})
            assert opened.status_code == 200 and opened.json()["type"] == "notebook"

            # Root works without a flag from the user: the Makefile adds it for uid 0 only.
            info = server_info(port)
            assert info is not None, f"no jpserver-*.json for port {port} in {RUNTIME_DIR}"
            assert info["token"] == token
            assert os.getpgid(info["pid"]) == proc.pid, "jupyter runs in make's process group"
            argv = Path(f"/proc/{info['pid']}/cmdline").read_bytes().split(b"\0")
            assert (b"--allow-root" in argv) == (os.geteuid() == 0), argv
            # The page a browser would have been sent to is the same notebook.
            open_page = RUNTIME_DIR / f"jpserver-{info['pid']}-open.html"
            assert refresh_target(open_page) == url
            assert Path(info["root_dir"]).resolve() == ROOT, "Lab serves the whole checkout"
            contents = http.get(f"{base}/api/contents/", params={"token": token}, timeout=10)
            names = {item["name"] for item in contents.json()["content"]}
            assert {"learner", "notebooks", "docs"} <= names, names

            # No news pop-up: the venv's overrides.json is there and the server applies it.
            overrides = json.loads(NO_NEWS_FILE.read_text(encoding="utf-8"))
            assert overrides[NOTIFICATION] == NO_NEWS, overrides
            settings = http.get(
                f"{base}/lab/api/settings/{NOTIFICATION}", params={"token": token}, timeout=10
            ).json()
            defaults = {k: v["default"] for k, v in settings["schema"]["properties"].items()}
            assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
            print(f"make lab: the printed URL answered after {elapsed:.1f} s: {url}")
        finally:
            stop(proc)

    assert not any(home.iterdir()), f"written into $HOME: {sorted(home.rglob('*'))}"


@NEEDS_MAKE
def test_make_lab_opens_the_start_notebook_in_the_browser(tmp_path: Path) -> None:
    """Without --no-browser, make lab hands the browser a page that goes to the start notebook."""
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv/bin/jupyter: run `make install` first")
    home = tmp_path / "home"
    home.mkdir()
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"  # a "browser" that writes down what it was asked to open
    browser.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    port = free_port()
    command = ["make", "-o", STAMP, "lab", f"PORT={port}", "LAB_ARGS=--ServerApp.port_retries=0"]
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=lab_env(home, browser),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            start = time.monotonic()
            while not opened.exists():
                assert proc.poll() is None, f"make lab exited: {log.read_text()}"
                assert time.monotonic() - start < STARTUP_TIMEOUT, f"no browser: {log.read_text()}"
                time.sleep(0.25)
            target = opened.read_text().split()[0]
            assert target.startswith("file://"), target  # Jupyter's redirect file, token inside
            url = refresh_target(Path(unquote(urlsplit(target).path)))
            printed = PRINTED_URL.search(log.read_text())
            assert printed and url == printed.group(0), (url, log.read_text())
            assert urlsplit(url).path == "/lab/tree/learner/00-start-here.ipynb", url
            assert requests.get(url, timeout=10).status_code == 200
        finally:
            stop(proc)


def dry_run(target: str, venv: Path) -> str:
    """What `make -n TARGET` would run with VENV=venv (nothing is run)."""
    result = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@NEEDS_MAKE
def test_make_lab_installs_the_runtime_only_and_make_test_adds_the_test_extra(
    tmp_path: Path,
) -> None:
    venv = tmp_path / "venv"
    runtime = f"{venv}/bin/python -m pip install --quiet -e '.[browser]'\n"
    test_extra = f"{venv}/bin/python -m pip install --quiet -e '.[test]'"

    fresh = dry_run("lab", venv)  # a fresh checkout: make lab installs the runtime only
    assert f"-m venv {venv}" in fresh and runtime in fresh, fresh
    assert test_extra not in fresh and "[test]" not in fresh, fresh
    assert f"binder/no_news.py {venv}/share/jupyter/lab/settings/overrides.json" in fresh
    both = dry_run("lint", venv)  # make test on a fresh checkout: the runtime, then the extra
    assert both.index(runtime) < both.index(test_extra), both

    venv.mkdir()  # after `make lab`: make test adds only the test extra
    (venv / Path(STAMP).name).touch()
    overrides = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    overrides.parent.mkdir(parents=True)
    overrides.touch()
    after_lab = dry_run("lint", venv)
    assert test_extra in after_lab and runtime not in after_lab, after_lab
    assert "-m venv" not in after_lab and "no_news" not in after_lab, after_lab

    (venv / Path(TEST_STAMP).name).touch()  # after `make test`: make lab installs nothing
    now = time.time()
    os.utime(venv / Path(TEST_STAMP).name, (now + 1, now + 1))  # newer than the runtime stamp
    after_test = dry_run("lab", venv)
    assert "pip install" not in after_test and "-m venv" not in after_test, after_test
    assert "jupyter lab" in after_test, after_test
    assert "pip install" not in dry_run("lint", venv), "make test after make test: no install"


def test_no_news_merges_into_existing_overrides(tmp_path: Path) -> None:
    path = tmp_path / "settings" / "overrides.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "x"}}))
    script = ROOT / "binder" / "no_news.py"
    subprocess.run([sys.executable, str(script), str(path)], check=True, timeout=60)
    overrides = json.loads(path.read_text(encoding="utf-8"))
    assert overrides == {
        "@jupyterlab/apputils-extension:themes": {"theme": "x"},
        NOTIFICATION: NO_NEWS,
    }

    path.write_text("{not json")  # a broken file: one line saying so, nothing overwritten
    broken = subprocess.run(
        [sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=60
    )
    assert broken.returncode == 1
    assert broken.stderr.count("\n") == 1 and "not valid JSON" in broken.stderr, broken.stderr
    assert path.read_text() == "{not json"
