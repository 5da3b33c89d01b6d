"""A Lambda Runtime API on 127.0.0.1, and AWS's runtime interface client to run a handler with.

Lambda runs a Python function as a process (the runtime interface client, ``awslambdaric``)
that asks the Runtime API for the next event and posts the handler's answer back. This module
serves that API over real HTTP, so a test can feed a deployed handler events and read what
the real client sent, exactly as Lambda would receive it. The API (version 2018-06-01, AWS docs
"Using the Lambda runtime API for custom runtimes",
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):

- ``GET /2018-06-01/runtime/invocation/next``: the event as the body, and the headers
  ``Lambda-Runtime-Aws-Request-Id``, ``-Deadline-Ms``, ``-Invoked-Function-Arn``, ``-Trace-Id``;
- ``POST /2018-06-01/runtime/invocation/{id}/response``: the handler's answer -> 202;
- ``POST /2018-06-01/runtime/invocation/{id}/error``: an error document
  (``errorMessage``, ``errorType``, ``stackTrace``) -> 202;
- ``POST /2018-06-01/runtime/init/error``: the handler could not even be loaded -> 202.

``lambda_python(version)`` finds an interpreter for the template's runtime (the exact version
if installed, else the closest) and ``runtime_venv(python)`` gives it a throwaway venv under
``.cache/`` holding only awslambdaric, never the kit's own packages: the function's code then
comes from its build folder alone, as on Lambda.
"""

from __future__ import annotations

import glob
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
AWSLAMBDARIC = "awslambdaric==4.2.2"  # AWS's runtime interface client for Python, from PyPI
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:labkit-authorizer"
_PREFIX = "/2018-06-01/runtime"


@dataclass(frozen=True)
class Invocation:
    """What the runtime client posted for one event: its answer, or its error document."""

    request_id: str
    outcome: str  # "response" or "error"
    body: Any  # the JSON the client posted
    error_type: str | None = None  # the Lambda-Runtime-Function-Error-Type header, on errors


class LambdaRuntimeFailure(Exception):
    """The runtime client died, failed to load the handler, or never answered."""


class RuntimeApi:
    """The Runtime API: queue events with ``invoke``, the client collects them with ``next``."""

    def __init__(self, function_arn: str = FUNCTION_ARN, timeout_ms: int = 5000) -> None:
        self.function_arn = function_arn
        self.timeout_ms = timeout_ms
        self._pending: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._done: dict[str, Invocation] = {}
        self._changed = threading.Condition()
        self.init_error: dict[str, Any] | None = None
        self.next_calls = 0
        self._server = _Server(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a client long-polling /next must not block close
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """The value for ``AWS_LAMBDA_RUNTIME_API``: host:port, no scheme."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def invoke(
        self, event: Any, *, process: subprocess.Popen[bytes] | None = None, timeout: float = 60
    ) -> Invocation:
        """Hand ``event`` to the next ``/next`` call and wait for its response or error."""
        return self.result(self.submit(event), process=process, timeout=timeout)

    def submit(self, event: Any) -> str:
        """Queue ``event`` for the next ``/next`` call; its request id."""
        request_id = str(uuid.uuid4())  # URL-safe: the client puts it in the path it posts to
        self._pending.put((request_id, json.dumps(event).encode("utf-8")))
        return request_id

    def result(
        self,
        request_id: str,
        *,
        process: subprocess.Popen[bytes] | None = None,
        timeout: float = 60,
    ) -> Invocation:
        """Wait for what the client posts for ``request_id``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while request_id not in self._done:
                if self.init_error is not None:
                    raise LambdaRuntimeFailure(f"the handler did not load: {self.init_error}")
                if process is not None and process.poll() is not None:
                    code = process.returncode
                    raise LambdaRuntimeFailure(f"the runtime client exited with {code}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LambdaRuntimeFailure(f"no answer to {request_id} within {timeout} s")
                self._changed.wait(min(left, 0.2))
            return self._done.pop(request_id)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # Called from the server's threads ----------------------------------------------------------

    def _next(self) -> tuple[str, bytes]:
        self.next_calls += 1
        return self._pending.get()  # blocks like Lambda's /next until there is an event

    def _finish(self, invocation: Invocation) -> None:
        with self._changed:
            self._done[invocation.request_id] = invocation
            self._changed.notify_all()

    def _failed_init(self, document: dict[str, Any]) -> None:
        with self._changed:
            self.init_error = document
            self._changed.notify_all()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client reset when its process is stopped is the end of a test, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _trace_id() -> str:
    """An X-Ray trace header in AWS's format (Root=1-<8 hex time>-<24 hex id>)."""
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"


def _handler_class(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    answer = re.compile(rf"^{_PREFIX}/invocation/([A-Za-z0-9-]+)/(response|error)$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the client keeps its connection open between calls

        def log_message(self, *args: Any) -> None:  # quiet: the test reads results, not logs
            pass

        def _reply(
            self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != f"{_PREFIX}/invocation/next":
                self._reply(404)
                return
            request_id, event = api._next()
            deadline = int(time.time() * 1000) + api.timeout_ms
            self._reply(
                200,
                event,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": api.function_arn,
                    "Lambda-Runtime-Trace-Id": _trace_id(),
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            if self.path == f"{_PREFIX}/init/error":
                api._failed_init(body)
            elif match := answer.match(self.path):
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                api._finish(Invocation(match[1], match[2], body, error_type))
            else:
                self._reply(404)
                return
            self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

    return Handler


# The runtime client and its interpreter ----------------------------------------------------------


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = out.split()
    return int(major), int(minor)


def lambda_python(wanted: str) -> tuple[str, str]:
    """An interpreter for Lambda's ``pythonX.Y`` runtime: the exact version if this machine
    has it (on PATH or from pyenv), else the closest one found. Returns (path, X.Y)."""
    want = tuple(int(part) for part in wanted.split("."))
    candidates = [shutil.which(f"python{wanted}")]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.*/bin/python3"))
    candidates += [shutil.which(f"python3.{minor}") for minor in range(8, 20)]
    candidates += [getattr(sys, "_base_executable", sys.executable)]
    found: dict[tuple[int, int], str] = {}
    for candidate in candidates:
        if candidate and (version := _version_of(candidate)) and version >= (3, 10):
            found.setdefault(version, candidate)
    best = min(found, key=lambda v: (abs(v[1] - want[1]) if v[0] == want[0] else 99, -v[1]))
    return found[best], f"{best[0]}.{best[1]}"


def runtime_venv(python: str, version: str) -> Path:
    """A venv with only awslambdaric in it (cached under .cache/), its python's path.

    Raises ``OSError`` when it cannot be made (no network for pip, say): the caller skips.
    """
    venv = CACHE / f"lambda-runtime-py{version}"
    exe = venv / "bin" / "python"
    stamp = venv / f".installed-{AWSLAMBDARIC}"
    if stamp.exists() and exe.exists():
        return exe
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [python, "-m", "venv", str(venv)],
        [str(exe), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", AWSLAMBDARIC],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            raise OSError(f"{' '.join(step[-2:])} failed: {result.stderr.strip()[-400:]}")
    stamp.touch()
    return exe


def lambda_environment(
    task_root: Path, runtime_api: str, version: str, variables: Mapping[str, str]
) -> dict[str, str]:
    """The process environment Lambda gives a function: its variables, its code folder on
    PYTHONPATH and nothing of this machine's Python set-up (no PYTHONPATH from the tests).
    Bytecode is read from the folder (the build ships it) but never written, as on Lambda."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": str(task_root),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's code folder is read-only: no .pyc appear
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_ARN.rsplit(":", 1)[1],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        **variables,
    }


@contextmanager
def run_function(
    python: Path, version: str, handler: str, task_root: Path, variables: Mapping[str, str]
) -> Iterator[tuple[RuntimeApi, subprocess.Popen[bytes]]]:
    """Run ``python -m awslambdaric HANDLER`` in ``task_root`` against a fresh Runtime API."""
    api = RuntimeApi()
    env = lambda_environment(task_root, api.address, version, variables)
    log = task_root.parent / f"{handler}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(python), "-m", "awslambdaric", handler],
            cwd=task_root,  # Lambda's working directory is the code folder (/var/task)
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield api, process
    except LambdaRuntimeFailure as exc:
        output = log.read_text(errors="replace")[-3000:]
        raise LambdaRuntimeFailure(f"{exc}\n--- runtime output ---\n{output}") from exc
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        api.close()
