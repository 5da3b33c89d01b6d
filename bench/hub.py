"""Spawn, clone and first-cell times, and memory per learner, on the kit's local JupyterHub.

    .venv/bin/python bench/hub.py [--users 10] [--workload learner/02-signing-algorithms.ipynb]

Starts deploy/jupyterhub/jupyterhub_config.py exactly as tests/test_jupyterhub.py does (loopback,
pinned configurable-http-proxy, a git daemon serving this checkout's HEAD) and has learners
follow the instructor guide's nbgitpuller link over HTTP: log in, wait for the server, clone,
run notebook 00's environment check through the kernel websocket. One learner goes alone first:
the baseline. Then --users learners go at once, and each step's median and maximum is printed
with its ratio to the lone learner's time (compare ratios, not seconds, across machines).

Memory: after the check cell, and again after every code cell of --workload has run in the same
kernel (a notebook with figures and key generation, a heavier session than 00), the resident
set size (RSS) of each learner's single-user server and of its kernel is read, then the hub's
and the proxy's. RSS counts shared library pages once per process, as a container's memory
limit does, so it is the figure to size a single-user pod by.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the hub helpers the test uses

import hubrun  # noqa: E402

MB = 1024 * 1024
STEPS = ("login", "spawn", "clone", "first cell")


def learner_run(hub: hubrun.Hub, link: str, name: str, workload: str) -> dict[str, float]:
    """One learner through the link; its step times (s) and memory (MB)."""
    learner = hubrun.Learner(hub, name)
    learner.follow_link(link)
    start_path = learner.pull().removeprefix("lab/tree/")
    check = hubrun.env_check_source(learner.notebook(start_path))
    cells = [
        cell["source"]
        for cell in learner.notebook(f"{hubrun.CLONE_NAME}/{workload}")["cells"]
        if cell["cell_type"] == "code"
    ]
    start = time.monotonic()
    with learner.kernel(start_path) as kernel:
        cell = kernel.run(check)
        learner.times["first cell"] = time.monotonic() - start
        assert cell.status == "ok" and hubrun.ENV_READY in cell.text, f"{name}: {cell}"
        server, kernel_check = hub.memory(name)
        with Peak(hub, name) as peak:
            errors = [result.error for result in map(kernel.run, cells) if result.error]
        server_work, kernel_work = hub.memory(name)
        cpu = hub.cpu_seconds(name)
    if errors:
        print(f"  {name}: {len(errors)} workload cells raised, first: {errors[0]}", file=sys.stderr)
    return {
        **learner.times,
        "server MB": max(server, server_work) / MB,
        "kernel MB (after 00's check)": kernel_check / MB,
        "kernel MB (after workload)": kernel_work / MB,
        "server + kernel MB": (server_work + kernel_work) / MB,
        "server + kernel MB (peak during workload)": peak.bytes / MB,
        "CPU s": cpu,
    }


class Peak:
    """The highest RSS of a learner's server and everything under it, sampled 4 times a second.

    Catches what the workload starts and stops again (notebook 05's crack starts one process
    per core). RSS counts pages forked processes still share once per process: an upper bound.
    """

    def __init__(self, hub: hubrun.Hub, name: str) -> None:
        self.hub, self.name, self.bytes = hub, name, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.25):
            with contextlib.suppress(psutil.Error, KeyError):
                self.bytes = max(self.bytes, sum(self.hub.memory(self.name)))

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def run(users: int, workload: str) -> None:
    hubrun.ensure_proxy()
    with tempfile.TemporaryDirectory(prefix="labkit-hub-bench-") as folder:
        tmp = Path(folder)
        started = time.monotonic()
        with hubrun.git_daemon(tmp) as git, hubrun.jupyterhub(tmp) as hub:
            hub_start = time.monotonic() - started
            link = hubrun.local_link(hubrun.guide_link(), hub.url, git)
            alone = learner_run(hub, link, "alone", workload)
            with ThreadPoolExecutor(max_workers=users) as pool:
                names = [f"learner-{n:02d}" for n in range(1, users + 1)]
                crowd = list(pool.map(lambda name: learner_run(hub, link, name, workload), names))
            proxy = hub.proxy()
            hub_mb = _rss(hub.proc.pid) / MB
            proxy_mb = _rss(proxy.pid) / MB if proxy else float("nan")
    report(users, workload, hub_start, alone, crowd, hub_mb, proxy_mb)


def _rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


def report(
    users: int,
    workload: str,
    hub_start: float,
    alone: dict[str, float],
    crowd: list[dict[str, float]],
    hub_mb: float,
    proxy_mb: float,
) -> None:
    print(
        f"\nJupyterHub on 127.0.0.1: 1 learner alone, then {users} at once; hub up in "
        f"{hub_start:.1f} s; workload {workload}\n"
    )
    print(f"| step (s) | alone | {users} at once: median | max | median / alone |")
    print("|---|---:|---:|---:|---:|")
    for step in STEPS:
        values = [result[step] for result in crowd]
        median = statistics.median(values)
        print(
            f"| {step} | {alone[step]:.1f} | {median:.1f} | {max(values):.1f} | "
            f"{median / alone[step]:.1f} |"
        )
    print(f"\n| per learner (memory: RSS, MB) | alone | {users} at once: median | max |")
    print("|---|---:|---:|---:|")
    for key in alone:
        if "MB" in key:
            values = [result[key] for result in crowd]
            print(
                f"| {key.replace(' MB', '')} | {alone[key]:.0f} | "
                f"{statistics.median(values):.0f} | {max(values):.0f} |"
            )
    cpu = [result["CPU s"] for result in crowd]
    print(
        f"| CPU s, server + kernel, spawn to end of workload | {alone['CPU s']:.1f} | "
        f"{statistics.median(cpu):.1f} | {max(cpu):.1f} |"
    )
    total = sum(result["server + kernel MB"] for result in crowd) + alone["server + kernel MB"]
    print(
        f"\nhub {hub_mb:.0f} MB, proxy {proxy_mb:.0f} MB; all {users + 1} learners' servers "
        f"and kernels together {total:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="learners at once (default 10)")
    parser.add_argument(
        "--workload",
        default="learner/02-signing-algorithms.ipynb",
        help="notebook whose code cells each learner runs after the check (default: %(default)s)",
    )
    args = parser.parse_args()
    if args.users < 1:
        parser.error("--users must be 1 or more")
    missing = hubrun.missing_node()
    if missing:
        sys.exit(f"bench/hub.py: {missing}")
    run(args.users, args.workload)


if __name__ == "__main__":
    main()
