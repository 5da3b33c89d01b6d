"""Cold start of the deployed authorizer, against a PyJWT-only authorizer, in one run.

What Lambda's users wait for on a cold start: from the runtime process's start to its first
answer. Both handlers run from the same ``deploy/aws`` build (``make -C deploy/aws build``:
Linux wheels for the template's runtime plus labkit), under AWS's runtime interface client
(``awslambdaric`` in a venv of the template's Python, as tests/test_aws_runtime.py uses it),
against a Lambda Runtime API on 127.0.0.1 that already holds one TOKEN event. Reported: the
wall time and the process's CPU time (user + system; the ratio is read on CPU, which a
machine shared with other work disturbs far less than the wall clock). Each handler
fetches the JWKS of a local identity provider over loopback HTTP, as the deployed one fetches
the issuer's. Runs alternate between the two and the median of each is kept: the ratio is what
to read (the aim is at most 1.5x).

    .venv/bin/python bench/cold_start.py [--runs 15] [--labkit DIR] [--no-bytecode]

The build ships bytecode compiled by the runtime's Python (deploy/aws/Makefile: Lambda's
code folder is read-only, so Python could never cache it there); ``--no-bytecode`` strips it,
to see what a build without it costs. ``--labkit DIR`` measures another labkit source tree in
the same build (say the main branch's
``labkit/``, to compare before and after an import change). The second table is the import
alone (``python -c "import ..."`` in the same interpreter and build), for the same ratio
without the runtime client and the first request.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the Runtime API and runtime venv the tests use

from lambda_runtime import (  # noqa: E402
    RuntimeApi,
    lambda_environment,
    lambda_python,
    runtime_venv,
)

from labkit.aws import serve  # noqa: E402

TARGET = 1.5
HANDLERS = {
    "labkit.aws.authorizer": "labkit.aws.authorizer.handler",
    "PyJWT only (baseline)": "cold_start_baseline.handler",
}
IMPORTS = {
    "labkit.aws.authorizer": "import labkit.aws.authorizer",
    "PyJWT only (baseline)": "import cold_start_baseline",
}


def build(task_root: Path, labkit: Path | None, runtime_python: str, *, bytecode: bool) -> None:
    """``make -C deploy/aws build`` into ``task_root``, plus the baseline handler beside it."""
    subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT / "deploy" / "aws"),
            "build",
            f"BUILD={task_root}",
            f"PYTHON={sys.executable}",
            f"RUNTIME_PYTHON={runtime_python}",
        ],
        check=True,
        capture_output=True,
    )
    if labkit is not None:
        shutil.rmtree(task_root / "labkit")
        shutil.copytree(labkit, task_root / "labkit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(Path(__file__).with_name("cold_start_baseline.py"), task_root)
    if bytecode:  # the baseline (and a --labkit tree) get bytecode the way the build makes it
        subprocess.run(
            [
                runtime_python,
                "-m",
                "compileall",
                "-q",
                "--invalidation-mode",
                "unchecked-hash",
                str(task_root),
            ],
            check=True,
        )
    else:
        for cache in list(task_root.rglob("__pycache__")):
            shutil.rmtree(cache)


def _cpu(process: subprocess.Popen[bytes]) -> float:
    """The CPU seconds (user + system) a finished child used: robust on a busy machine."""
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped here; Popen must not wait for it again
    return usage.ru_utime + usage.ru_stime


def cold_start(
    python: Path, version: str, handler: str, task_root: Path, env: dict, event: dict
) -> tuple[float, float]:
    """Wall and CPU seconds from starting the runtime process to the handler's first answer.

    After its first answer the client blocks on the next ``/next`` (no CPU), so the CPU
    time of the killed process is the cold start's.
    """
    api = RuntimeApi()
    request_id = api.submit(event)
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(python), "-m", "awslambdaric", handler],
        cwd=task_root,
        env=lambda_environment(task_root, api.address, version, env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answer = api.result(request_id, process=process, timeout=60)
        elapsed = time.perf_counter() - start
    finally:
        process.kill()
        cpu = _cpu(process)
        api.close()
    assert answer.outcome == "response", answer.body
    assert answer.body["policyDocument"]["Statement"][0]["Effect"] == "Allow", answer.body
    return elapsed, cpu


def import_time(
    python: Path, version: str, statement: str, task_root: Path, env: dict
) -> tuple[float, float]:
    """Wall and CPU seconds of ``python -c STATEMENT`` in the function's environment."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(python), "-c", statement],
        cwd=task_root,
        env=lambda_environment(task_root, "127.0.0.1:9", version, env),
    )
    cpu = _cpu(process)
    return time.perf_counter() - start, cpu


def table(title: str, runs: dict[str, list[tuple[float, float]]]) -> float:
    """Median wall and CPU milliseconds per handler, and labkit's ratio to the baseline (CPU)."""
    wall = {name: statistics.median(w for w, _ in times) for name, times in runs.items()}
    cpu = {name: statistics.median(c for _, c in times) for name, times in runs.items()}
    print(f"\n{title}")
    print(f"  {'':<24} {'wall':>9} {'CPU':>9}")
    for name in runs:
        print(f"  {name:<24} {wall[name] * 1000:6.0f} ms {cpu[name] * 1000:6.0f} ms")
    (ours, base), (ours_wall, base_wall) = cpu.values(), wall.values()
    ratio = ours / base
    print(f"  ratio {ratio:.2f}x CPU, {ours_wall / base_wall:.2f}x wall (aim: at most {TARGET}x)")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="cold starts per handler")
    parser.add_argument("--labkit", type=Path, help="another labkit/ source tree to measure")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="strip the build's .pyc files: every cold start compiles every module, as a build "
        "made without the runtime's Python (Lambda's code folder is read-only)",
    )
    args = parser.parse_args()

    base, version = lambda_python("3.12")  # deploy/aws/template.yaml: Runtime python3.12
    python = runtime_venv(base, version)
    print(f"runtime: python{version} + awslambdaric ({python})")
    with tempfile.TemporaryDirectory() as tmp, serve(cache_ttl=0) as lab:
        task_root = Path(tmp) / "task"
        build(task_root, args.labkit, base, bytecode=not args.no_bytecode)
        token = requests.post(
            f"{lab.url}/login", json={"username": "alice", "password": "wonderland"}, timeout=10
        ).json()["access_token"]
        env = {
            "JWKS_URL": f"{lab.url}/.well-known/jwks.json",
            "JWT_ISSUER": lab.idp.issuer,
            "JWT_AUDIENCE": lab.idp.audience,
            "JWT_ALGORITHMS": "RS256",
            "REQUIRED_CLAIMS": "sub",
        }
        event = {
            "type": "TOKEN",
            "authorizationToken": f"Bearer {token}",
            "methodArn": lab.gateway.method_arn("GET", "/api/profile"),
        }
        starts: dict[str, list[tuple[float, float]]] = {name: [] for name in HANDLERS}
        imports: dict[str, list[tuple[float, float]]] = {name: [] for name in IMPORTS}
        for _ in range(args.runs):  # interleaved: both see the same machine load
            for name, handler in HANDLERS.items():
                starts[name].append(cold_start(python, version, handler, task_root, env, event))
            for name, statement in IMPORTS.items():
                imports[name].append(import_time(python, version, statement, task_root, env))
    bytecode = "none (compiled at every start)" if args.no_bytecode else "shipped in the build"
    print(f"{args.runs} runs each, medians; labkit from {args.labkit or 'this checkout'}")
    print(f"bytecode: {bytecode}")
    ratio = table("cold start: process start to first answer (awslambdaric, JWKS fetched)", starts)
    table("import only: python -c 'import ...' (same build)", imports)
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
