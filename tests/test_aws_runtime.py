"""The deployable handlers, run by AWS's own Lambda runtime interface client.

``deploy/aws`` is built exactly as ``sam deploy`` ships it (``make -C deploy/aws build``: Linux
wheels for the template's runtime plus the labkit package, nothing else). AWS's runtime
interface client (``awslambdaric`` from PyPI, in a venv of the template's Python holding only
that client) then runs ``labkit.aws.authorizer.handler`` and ``labkit.aws.backend.handler`` from
that folder, against a Lambda Runtime API served on 127.0.0.1 (tests/lambda_runtime.py).

The events are the ones the local gateway really sends (captured from ``labkit.aws.serve``
runs in REST TOKEN, REST REQUEST and HTTP API modes), with the authorizer configured the way the
SAM template configures it: ``JWKS_URL`` (the local identity provider, over loopback HTTP),
``JWT_ISSUER``, ``JWT_AUDIENCE``, ``JWT_ALGORITHMS``, ``REQUIRED_CLAIMS``. Every answer the
runtime posts must equal the in-process handler's answer to the same event; an invalid token
must reach the runtime's error endpoint as ``errorMessage: "Unauthorized"``, which is how a REST
API authorizer asks API Gateway for a 401 (AWS docs, "Use API Gateway Lambda authorizers":
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html).
"""

from __future__ import annotations

import copy
import json
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from lambda_runtime import (
    AWSLAMBDARIC,
    Invocation,
    lambda_environment,
    lambda_python,
    run_function,
    runtime_venv,
)

from labkit.aws import authorizer, backend, serve

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "aws"

pytestmark = pytest.mark.skipif(
    platform.machine() != "x86_64",
    reason="deploy/aws builds manylinux x86_64 wheels (the template's architecture)",
)


class _Loader(yaml.SafeLoader):
    """CloudFormation's short tags (!Ref, !GetAtt, !Sub) read as nothing."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def template_runtime() -> str:
    """``python3.12`` in the template -> ``3.12``."""
    doc = yaml.load((DEPLOY / "template.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    runtime = doc["Globals"]["Function"]["Runtime"]
    assert runtime.startswith("python"), runtime
    return runtime.removeprefix("python")


@dataclass(frozen=True)
class Runtime:
    python: Path  # the venv's interpreter, awslambdaric its only package
    base: str  # the interpreter the venv was made from (compiles the build's bytecode)
    version: str  # X.Y it runs
    wanted: str  # X.Y the template declares


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    wanted = template_runtime()
    base, version = lambda_python(wanted)
    try:
        python = runtime_venv(base, version)
    except OSError as exc:
        pytest.skip(f"AWS's runtime interface client ({AWSLAMBDARIC}) cannot be installed: {exc}")
    if version != wanted:  # the closest Python this machine has; said in the test output
        print(f"the template declares python{wanted}; this machine runs python{version}")
    return Runtime(python, base, version, wanted)


@pytest.fixture(scope="module")
def task_root(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make -C deploy/aws build`` into a temp folder: the code folder SAM would upload."""
    build = tmp_path_factory.mktemp("sam") / "task"
    result = subprocess.run(
        [
            "make",
            "-C",
            str(DEPLOY),
            "build",
            f"BUILD={build}",
            f"PYTHON={sys.executable}",
            *([f"RUNTIME_PYTHON={runtime.base}"] if runtime.version == runtime.wanted else []),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return build


@dataclass
class Captured:
    """Events the local gateway sent, and the variables the authorizer was configured with."""

    variables: dict[str, str]
    authorizer_events: list[dict[str, Any]] = field(default_factory=list)
    backend_events: list[dict[str, Any]] = field(default_factory=list)


def _tampered(token: str) -> str:
    """The same token with one signature character changed: a bad signature."""
    head, _, signature = token.rpartition(".")
    return f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.fixture(scope="module")
def captured() -> Iterator[Captured]:
    """Run three local gateways on the in-process handlers and record every event they send.

    The identity provider of the first one stays up for the module: the runtime's authorizer
    fetches its JWKS over loopback HTTP, as the deployed one fetches the issuer's.
    """
    with pytest.MonkeyPatch.context() as mp, ExitStack() as stack:
        seen = Captured(variables={})
        real_backend = backend.handler

        def record_backend(event: dict[str, Any], context: object = None) -> dict[str, Any]:
            seen.backend_events.append(copy.deepcopy(event))
            return real_backend(event, context)

        def record_authorizer(event: dict[str, Any], context: object = None) -> dict[str, Any]:
            seen.authorizer_events.append(copy.deepcopy(event))
            return authorizer.handler(event, context)  # configured from os.environ, as on Lambda

        recording = stack.enter_context(pytest.MonkeyPatch.context())
        recording.setattr(backend, "handler", record_backend)  # create_lab routes to it
        labs = [
            stack.enter_context(
                serve(mode=mode, authorizer_type=kind, authorizer=record_authorizer, cache_ttl=0)
            )
            for mode, kind in (("rest", "TOKEN"), ("rest", "REQUEST"), ("http", "REQUEST"))
        ]
        idp = labs[0]
        seen.variables = {
            "JWKS_URL": f"{idp.url}/.well-known/jwks.json",
            "JWT_ISSUER": idp.idp.issuer,
            "JWT_AUDIENCE": idp.idp.audience,
            "JWT_ALGORITHMS": "RS256",
            "REQUIRED_CLAIMS": "sub",  # the template's default
        }
        for name, value in seen.variables.items():
            mp.setenv(name, value)
        for name in ("JWT_SECRET", "JWT_LEEWAY", "REQUIRE_EXP"):
            mp.delenv(name, raising=False)

        tokens = {
            user: requests.post(
                f"{idp.url}/login", json={"username": user, "password": pw}, timeout=10
            ).json()["access_token"]
            for user, pw in (("alice", "wonderland"), ("bob", "builder"))
        }
        bearer = {user: f"Bearer {token}" for user, token in tokens.items()}
        bearer["forged"] = f"Bearer {_tampered(tokens['bob'])}"
        calls = [
            ("GET", "/api/profile", "alice", None),
            ("GET", "/api/admin", "alice", None),  # explicit deny for role reader
            ("GET", "/api/admin", "bob", None),
            ("POST", "/api/predict", "bob", {"text": "hello from the runtime test"}),
            ("GET", "/api/profile?verbose=1", "forged", None),
            ("GET", "/api/health", None, None),
        ]
        for lab in labs:
            for method, path, who, body in calls:
                headers = {"Authorization": bearer[who]} if who else {}
                requests.request(method, lab.url + path, headers=headers, json=body, timeout=10)
        recording.undo()  # the tests call backend.handler in-process: not recorded again
        assert backend.handler is real_backend
        yield seen


def in_process(handler: Any, event: dict[str, Any]) -> tuple[str, Any]:
    """The in-process answer, shaped as the runtime reports it (JSON in, JSON out)."""
    try:
        return "response", json.loads(json.dumps(handler(copy.deepcopy(event))))
    except Exception as exc:
        return "error", {"errorMessage": str(exc), "errorType": type(exc).__name__}


def through_runtime(invocation: Invocation) -> tuple[str, Any]:
    if invocation.outcome == "error":
        body = invocation.body
        return "error", {"errorMessage": body["errorMessage"], "errorType": body["errorType"]}
    return "response", invocation.body


def event_kind(event: dict[str, Any]) -> str:
    if event.get("version") == "2.0":
        return "HTTP API 2.0"
    return f"REST {event['type']}"


def test_the_build_alone_provides_labkit_and_its_libraries(
    runtime: Runtime, task_root: Path
) -> None:
    """No PyJWT, cryptography or labkit from this machine: only the build folder's copies."""
    probe = (
        "import json, sys, labkit, jwt, cryptography, requests, awslambdaric;"
        "import labkit.aws.authorizer;"
        "print(json.dumps({m: sys.modules[m].__file__ for m in"
        " ('labkit', 'jwt', 'cryptography', 'requests', 'awslambdaric')} | "
        "{'python': '%d.%d' % sys.version_info[:2]}))"
    )
    env = lambda_environment(task_root, "127.0.0.1:9", runtime.version, {})
    result = subprocess.run(
        [str(runtime.python), "-c", probe],
        cwd=task_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    where = json.loads(result.stdout)
    assert where.pop("python") == runtime.version
    assert Path(where.pop("awslambdaric")).is_relative_to(runtime.python.parents[1])
    for module, path in where.items():
        assert Path(path).is_relative_to(task_root), f"{module} came from {path}"
    if runtime.version == runtime.wanted:  # the build ships bytecode for the runtime
        tag = f"cpython-{runtime.version.replace('.', '')}"
        assert (task_root / "labkit" / "aws" / "__pycache__" / f"authorizer.{tag}.pyc").is_file()


def test_authorizer_answers_under_the_runtime_equal_the_in_process_ones(
    runtime: Runtime, task_root: Path, captured: Captured
) -> None:
    events = captured.authorizer_events
    kinds = {event_kind(e) for e in events}
    assert kinds == {"REST TOKEN", "REST REQUEST", "HTTP API 2.0"}, kinds
    assert len(events) == 15, "5 authorized calls in each of the 3 modes (health has no auth)"

    compared: dict[str, list[str]] = {}
    start = time.perf_counter()
    with run_function(
        runtime.python,
        runtime.version,
        "labkit.aws.authorizer.handler",
        task_root,
        captured.variables,
    ) as (api, process):
        for event in events:
            answer = through_runtime(api.invoke(event, process=process))
            expected = in_process(authorizer.handler, event)
            assert answer == expected, (event_kind(event), event)
            compared.setdefault(event_kind(event), []).append(answer[0])
    print(f"15 authorizer events through awslambdaric in {time.perf_counter() - start:.2f} s")
    # Each mode saw both outcomes: REST says no with an error, HTTP API with isAuthorized.
    assert compared["REST TOKEN"].count("error") == 1 == compared["REST REQUEST"].count("error")
    assert compared["HTTP API 2.0"] == ["response"] * 5


def test_an_invalid_token_reaches_the_runtime_error_endpoint_as_unauthorized(
    runtime: Runtime, task_root: Path, captured: Captured
) -> None:
    token_events = [e for e in captured.authorizer_events if e.get("type") == "TOKEN"]
    with run_function(
        runtime.python,
        runtime.version,
        "labkit.aws.authorizer.handler",
        task_root,
        captured.variables,
    ) as (api, process):
        answers = [api.invoke(event, process=process) for event in token_events]
    errors = [a for a in answers if a.outcome == "error"]
    assert len(errors) == 1, [a.body for a in answers]
    assert errors[0].body["errorMessage"] == "Unauthorized"
    assert errors[0].body["errorType"] == "Exception"
    allowed = [a.body for a in answers if a.outcome == "response"]
    assert {a["principalId"] for a in allowed} == {"alice", "bob"}


def test_backend_answers_under_the_runtime_equal_the_in_process_ones(
    runtime: Runtime, task_root: Path, captured: Captured
) -> None:
    events = captured.backend_events
    versions = {e.get("version", "1.0") for e in events}
    assert versions == {"1.0", "2.0"}, versions
    with run_function(
        runtime.python, runtime.version, "labkit.aws.backend.handler", task_root, {}
    ) as (api, process):
        answers = [through_runtime(api.invoke(event, process=process)) for event in events]
    assert answers == [in_process(backend.handler, event) for event in events]
    paths = sorted({(e.get("path") or e.get("rawPath")) for e in events})
    assert paths == ["/api/admin", "/api/health", "/api/predict", "/api/profile"], paths
