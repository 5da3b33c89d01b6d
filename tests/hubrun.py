"""A real JupyterHub on loopback for tests/test_jupyterhub.py and bench/hub.py.

The hub runs deploy/jupyterhub/jupyterhub_config.py (the file instructors start) with
configurable-http-proxy from deploy/jupyterhub/node_modules (`npm ci`, pinned by the committed
lockfile). A `git daemon` serves a bare clone of this checkout's HEAD as branch `main`, so the
instructor guide's nbgitpuller link can be followed with only its hosts changed. A `Learner` is
one person's browser session over plain HTTP: it logs in, waits for its server, lets nbgitpuller
clone the kit, reads notebooks through the Jupyter server's REST API and runs code through the
kernel websocket, timing each step. Not a test module: pytest collects nothing here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import psutil
import requests
import websocket
from labserver import ROOT, free_port

DEPLOY = ROOT / "deploy" / "jupyterhub"
CONFIG = DEPLOY / "jupyterhub_config.py"
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
PROXY_STAMP = DEPLOY / "node_modules" / ".labkit-installed"  # the Makefile's hub-deps stamp
GUIDE = ROOT / "docs" / "instructor-guide.md"
CLONE_NAME = "jwt-lab-kit"  # the repository's name in the guide's link: the clone's folder
START_TIMEOUT = 180.0  # the hub itself (migrations, proxy start-up) on a busy machine
STEP_TIMEOUT = 300.0  # one learner's spawn, clone or cell while ten others start too
ENV_CHECK = "check_environment()"  # notebook 00's environment-check cell calls this
ENV_READY = "✅ Environment ready"  # ... and prints this line when all is well


def missing_node() -> str | None:
    """Why configurable-http-proxy cannot run here (None: node and npm are on PATH)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (Debian: apt-get install nodejs npm)"
    return None


def ensure_proxy() -> None:
    """Install the pinned proxy as `make hub-deps` does, unless its stamp says it is there."""
    if PROXY_STAMP.is_file() and PROXY.exists():
        return
    env = {**os.environ, "npm_config_cache": str(ROOT / ".cache" / "npm")}
    command = ["npm", "ci", "--prefix", str(DEPLOY), "--ignore-scripts", "--no-audit", "--no-fund"]
    subprocess.run(command, check=True, env=env, stdin=subprocess.DEVNULL, timeout=600)
    PROXY_STAMP.touch()


def guide_link() -> str:
    """The nbgitpuller link the instructor guide hands out (the first one in it)."""
    for url in re.findall(
        r"\]\((https?://[^)\s]+/hub/user-redirect/git-pull\?[^)\s]+)\)",
        GUIDE.read_text(encoding="utf-8"),
    ):
        return url
    raise AssertionError(f"{GUIDE.relative_to(ROOT)} has no nbgitpuller link")


def local_link(link: str, hub_url: str, repo_url: str) -> str:
    """The same link for this hub and this git daemon: hosts replaced, every other field kept."""
    parts = urlsplit(link)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    name = query["repo"].rstrip("/").rsplit("/", 1)[-1]
    query["repo"] = f"{repo_url.rstrip('/')}/{name}"
    return f"{hub_url}{parts.path}?{urlencode(query)}"


def link_fields(link: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}


# --- processes -------------------------------------------------------------------------------


def _descendants(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).children(recursive=True)
    return []


def stop_tree(proc: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    """Stop a process, everything it started (in any session) and their process groups.

    The hub starts each learner's server in a new session, and each server its kernels: a
    signal to the hub's group alone would leave them running. So the whole tree is listed
    first, the hub asked to stop (it stops the servers it spawned), then whatever is left killed.
    """
    tree = [*_descendants(proc.pid)]
    groups = {proc.pid}
    for child in tree:
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            groups.add(os.getpgid(child.pid))
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
        for child in tree:
            with contextlib.suppress(psutil.Error):
                child.send_signal(sig)
        _, alive = psutil.wait_procs(tree, timeout=10)
        if not alive and proc.poll() is not None:
            break
    proc.wait(timeout=10)
    left = [child for child in tree if child.is_running() and child.status() != "zombie"]
    assert not left, f"processes left running: {left}"


@contextlib.contextmanager
def git_daemon(tmp: Path) -> Iterator[str]:
    """`git daemon` on loopback serving this checkout's HEAD as `jwt-lab-kit`, branch main.

    HEAD, not the work tree: what the hub clones is what is committed (on CI, main itself).
    Yields the URL to put before the repository's name: git://127.0.0.1:PORT
    """
    base = tmp / "git"
    bare = base / f"{CLONE_NAME}.git"  # git daemon finds NAME.git for a request for NAME
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "--quiet", "--bare", str(bare)], check=True)
    subprocess.run(
        [
            *git,
            "-C",
            str(bare),
            "fetch",
            "--quiet",
            "--no-tags",
            str(ROOT),
            "+HEAD:refs/heads/main",
        ],
        check=True,
    )
    subprocess.run([*git, "-C", str(bare), "symbolic-ref", "HEAD", "refs/heads/main"], check=True)
    port = free_port()
    log = (tmp / "git-daemon.log").open("wb")
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            f"--base-path={base}",
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--informative-errors",
            str(base),
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"git://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while (
            subprocess.run(
                ["git", "ls-remote", f"{url}/{CLONE_NAME}"], capture_output=True, timeout=30
            ).returncode
            != 0
        ):
            assert proc.poll() is None, (tmp / "git-daemon.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "git daemon did not answer"
            time.sleep(0.2)
        yield url
    finally:
        stop_tree(proc, grace=5)
        log.close()


@dataclass
class Hub:
    """A running JupyterHub: its public URL, the shared password, where things are."""

    url: str
    password: str
    state: Path
    homes: Path
    progress: Path
    log: Path
    proc: subprocess.Popen[bytes] = field(repr=False)

    def logs(self, tail: int = 120) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-tail:])

    def servers(self) -> dict[str, psutil.Process]:
        """Each user's single-user server process (the hub's children running singleuser)."""
        found = {}
        for child in _descendants(self.proc.pid):
            with contextlib.suppress(psutil.Error):
                if "jupyterhub.singleuser" in child.cmdline():
                    found[child.environ().get("JUPYTERHUB_USER", "?")] = child
        return found

    def memory(self, name: str) -> tuple[int, int]:
        """Resident memory (bytes) of a user's server, and of everything it started (kernels)."""
        server = self.servers()[name]
        children = 0
        for child in server.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                children += child.memory_info().rss
        return server.memory_info().rss, children

    def cpu_seconds(self, name: str) -> float:
        """CPU time (user + system) a user's server and what it started have used so far."""
        total = 0.0
        server = self.servers()[name]
        for process in (server, *server.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
        return total

    def proxy(self) -> psutil.Process | None:
        for child in _descendants(self.proc.pid):
            with contextlib.suppress(psutil.Error):
                if any("configurable-http-proxy" in part for part in child.cmdline()):
                    return child
        return None


@contextlib.contextmanager
def jupyterhub(tmp: Path) -> Iterator[Hub]:
    """The committed config on three free loopback ports, state and homes under tmp."""
    port, api_port, proxy_port = free_port(), free_port(), free_port()
    hub = Hub(
        url=f"http://127.0.0.1:{port}",
        password=secrets.token_urlsafe(12),
        state=tmp / "hub",
        homes=tmp / "homes",
        progress=tmp / "progress",
        log=tmp / "hub.log",
        proc=None,  # type: ignore[arg-type]  # set below, once started
    )
    env = {
        **os.environ,
        "LABKIT_HUB_PASSWORD": hub.password,
        "LABKIT_HUB_PORT": str(port),
        "LABKIT_HUB_API_PORT": str(api_port),
        "LABKIT_HUB_PROXY_API_PORT": str(proxy_port),
        "LABKIT_HUB_STATE": str(hub.state),
        "LABKIT_HUB_HOMES": str(hub.homes),
        "LABKIT_PROGRESS_DIR": str(hub.progress),
        "LABKIT_HUB_PYTHON": sys.executable,
        "npm_config_cache": str(ROOT / ".cache" / "npm"),
    }
    env.pop("LABKIT_STRICT_EXERCISES", None)  # learners get the kit as make lab gives it
    command = [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)]
    with hub.log.open("wb") as log:
        hub.proc = subprocess.Popen(
            command,
            cwd=tmp,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for_hub(hub)
            yield hub
        finally:
            stop_tree(hub.proc)


def _wait_for_hub(hub: Hub) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert hub.proc.poll() is None, f"jupyterhub exited ({hub.proc.returncode}):\n{hub.logs()}"
        assert time.monotonic() < deadline, f"jupyterhub did not answer:\n{hub.logs()}"
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{hub.url}/hub/api/", timeout=5).status_code == 200:
                return
        time.sleep(0.3)


# --- one learner -----------------------------------------------------------------------------


@dataclass
class Cell:
    """What running one cell gave: the execute_reply status, the text it showed, any error."""

    status: str
    text: str
    error: str


class Learner:
    """One learner's session with the hub, over HTTP as a browser would, with step timings."""

    def __init__(self, hub: Hub, name: str) -> None:
        self.hub, self.name = hub, name
        self.http = requests.Session()
        self.times: dict[str, float] = {}
        self.base = f"{hub.url}/user/{name}/"

    def _timed(self, step: str, start: float) -> None:
        self.times[step] = time.monotonic() - start

    def follow_link(self, link: str) -> str:
        """Open the link, log in, wait for the server; return nbgitpuller's page URL."""
        start = time.monotonic()
        page = self.http.get(link, timeout=STEP_TIMEOUT)
        assert "/hub/login" in page.url, f"{self.name}: the link did not ask to log in: {page.url}"
        form = re.search(r'<form[^>]*action="([^"]+)"', page.text)
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        assert form and xsrf, f"{self.name}: no login form at {page.url}"
        page = self.http.post(
            urljoin(page.url, unescape(form[1])),
            data={"username": self.name, "password": self.hub.password, "_xsrf": xsrf[1]},
            timeout=STEP_TIMEOUT,
        )
        assert page.status_code == 200, f"{self.name}: login gave {page.status_code}"
        self._timed("login", start)
        if "/hub/spawn-pending/" in page.url:
            self._wait_for_spawn()
            nxt = parse_qs(urlsplit(page.url).query)["next"][0]
            page = self.http.get(urljoin(self.hub.url, nxt), timeout=STEP_TIMEOUT)
        self._timed("spawn", start)
        assert page.status_code == 200, f"{self.name}: {page.url} gave {page.status_code}"
        assert urlsplit(page.url).path == f"/user/{self.name}/git-pull", page.url
        self.puller_page = page.text
        return page.url

    def follow_link_again(self, link: str) -> None:
        """Click the link again, logged in and with the server running: straight to nbgitpuller."""
        page = self.http.get(link, timeout=STEP_TIMEOUT)
        assert page.status_code == 200, f"{self.name}: {page.url} gave {page.status_code}"
        assert urlsplit(page.url).path == f"/user/{self.name}/git-pull", page.url
        self.puller_page = page.text

    def save_notebook(self, path: str, notebook: dict) -> None:
        """Save a notebook as JupyterLab does (the contents API's PUT)."""
        xsrf = self.http.cookies.get("_xsrf", path=f"/user/{self.name}/")
        response = self.http.put(
            f"{self.base}api/contents/{path}",
            json={"type": "notebook", "format": "json", "content": notebook},
            headers={"X-XSRFToken": xsrf},
            timeout=STEP_TIMEOUT,
        )
        assert response.status_code == 200, f"{self.name}: save {path}: {response.status_code}"

    def _wait_for_spawn(self) -> None:
        """Read the hub's progress event stream (what the spawn-pending page shows) to ready."""
        xsrf = self.http.cookies.get("_xsrf", path="/hub/")
        url = f"{self.hub.url}/hub/api/users/{self.name}/server/progress"
        with self.http.get(url, params={"_xsrf": xsrf}, stream=True, timeout=STEP_TIMEOUT) as r:
            assert r.status_code == 200, f"{self.name}: progress gave {r.status_code}"
            for event in _events(r):
                if event.get("failed"):
                    raise AssertionError(f"{self.name}: spawn failed: {event}\n{self.hub.logs()}")
                if event.get("ready"):
                    return
        raise AssertionError(f"{self.name}: the progress stream ended before the server was up")

    def pull(self) -> str:
        """Do what nbgitpuller's page does: stream its API until the clone is finished.

        Returns the page's redirect target (what the browser opens next), relative to the
        user's server.
        """
        start = time.monotonic()
        data = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', self.puller_page))
        fields = {
            name: requests.utils.unquote(data[name])
            for name in ("repo", "targetpath", "branch", "depth")
            if name in data
        }
        query = {"_xsrf": requests.utils.unquote(data["xsrf"]), **fields}
        with self.http.get(
            f"{self.base}git-pull/api", params=query, stream=True, timeout=STEP_TIMEOUT
        ) as response:
            assert response.status_code == 200, f"{self.name}: git-pull/api: {response.status_code}"
            events = list(_events(response))
        assert events and events[-1].get("phase") == "finished", f"{self.name}: {events[-3:]}"
        self._timed("clone", start)
        return requests.utils.unquote(data["path"])

    def get(self, path: str) -> requests.Response:
        return self.http.get(f"{self.base}{path}", timeout=STEP_TIMEOUT)

    def notebook(self, path: str) -> dict:
        """A notebook in the learner's home, as the Jupyter server's contents API gives it."""
        response = self.get(f"api/contents/{path}?content=1&type=notebook")
        assert response.status_code == 200, f"{self.name}: {path}: {response.status_code}"
        return response.json()["content"]

    def run_cell(self, notebook_path: str, code: str) -> Cell:
        """Open the notebook's kernel (as opening the notebook does) and run one cell in it."""
        start = time.monotonic()
        with self.kernel(notebook_path) as kernel:
            cell = kernel.run(code)
        self._timed("first cell", start)
        return cell

    @contextlib.contextmanager
    def kernel(self, notebook_path: str) -> Iterator[Kernel]:
        """A session and kernel for the notebook, connected over the websocket; both closed."""
        xsrf = self.http.cookies.get("_xsrf", path=f"/user/{self.name}/")
        headers = {"X-XSRFToken": xsrf}  # cookie-authenticated API calls need the xsrf token
        response = self.http.post(
            f"{self.base}api/sessions",
            json={
                "path": notebook_path,
                "type": "notebook",
                "name": "",
                "kernel": {"name": "python3"},
            },
            headers=headers,
            timeout=STEP_TIMEOUT,
        )
        assert response.status_code == 201, f"{self.name}: sessions: {response.status_code}"
        session = response.json()
        try:
            http_url = f"{self.base}api/kernels/{session['kernel']['id']}/channels"
            request = self.http.prepare_request(requests.Request("GET", http_url))
            ws_url = http_url.replace("http://", "ws://", 1) + f"?session_id={uuid.uuid4().hex}"
            ws = websocket.create_connection(
                ws_url, header=[f"Cookie: {request.headers['Cookie']}"], timeout=STEP_TIMEOUT
            )
            try:
                yield Kernel(ws, self.name)
            finally:
                ws.close()
        finally:
            self.http.delete(
                f"{self.base}api/sessions/{session['id']}", headers=headers, timeout=STEP_TIMEOUT
            )


@dataclass
class Kernel:
    """A kernel's websocket (the default JSON protocol, one message per frame)."""

    ws: websocket.WebSocket
    user: str

    def run(self, code: str) -> Cell:
        """Send an execute_request; collect its outputs until the reply and the idle status."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps(_execute_request(msg_id, self.user, code)))
        status, text, error, idle = "", [], "", False
        deadline = time.monotonic() + STEP_TIMEOUT
        while not (status and idle):
            assert time.monotonic() < deadline, f"{self.user}: no reply to the cell"
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "execute_reply":
                status = content["status"]
            elif kind == "status":
                idle = content["execution_state"] == "idle"
            elif kind == "stream":
                text.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                text.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
        return Cell(status, "".join(text), error)


def _execute_request(msg_id: str, user: str, code: str) -> dict:
    """A Jupyter messaging protocol 5.3 execute_request, as JupyterLab sends it."""
    return {
        "header": {
            "msg_id": msg_id,
            "username": user,
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        "channel": "shell",
        "buffers": [],
    }


def _events(response: requests.Response) -> Iterator[dict]:
    """The JSON data of each server-sent event in a streamed response."""
    for line in response.iter_lines(decode_unicode=True):
        if line and line.startswith("data:"):
            yield json.loads(line[len("data:") :])


def env_check_source(notebook: dict) -> str:
    """Notebook 00's environment-check cell: the code cell that calls check_environment()."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and ENV_CHECK in cell["source"]:
            return cell["source"]
    raise AssertionError("notebook 00 has no environment-check cell")
