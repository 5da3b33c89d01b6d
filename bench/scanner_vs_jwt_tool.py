"""`labkit scan` against real jwt_tool 2.2.7 (``-M at``), preset by preset, in the same run.

    .venv/bin/python bench/scanner_vs_jwt_tool.py [--counts] [JWT_TOOL_DIR] [PYTHON]

For every local preset (``labkit.aws.presets.available()``, so presets added
later are measured too), a fresh service is served on 127.0.0.1 and scanned
twice: once by ``labkit.scan`` (the scanner behind ``labkit scan``) and once
by jwt_tool's all-tests playbook, run exactly as ``bench/jwt_tool_presets.py``
runs it (``-M at -np -cv alice -pk SERVICE.pem -ju LOOPBACK_JWKS``: see that
file for why each option). Printed per preset, for both tools: requests sent,
wall time (serving the preset and the login included, for both),
whether the preset's flaw was found; then the ratios jwt_tool /
labkit for requests and time, measured in this run.

"Found" means: labkit reports at least one finding (the hardened preset must
report none); jwt_tool prints ``[+] FOUND "alice"`` above at least one attack
probe (its baseline and persistence requests left out). Both are printed so a
reader can see which tool missed what.

jwt_tool is not part of the kit: ``make bench-scanner-vs-jwt-tool`` puts
ticarpi/jwt_tool at the pinned commit in ``.cache/jwt_tool`` and its
requirements (termcolor, cprint, pycryptodomex, requests, from PyPI) into a venv
of its own there. Without that checkout, or with ``--counts``, jwt_tool's side
is the request count it is known to send per target (571, measured with
``bench/jwt_tool_presets.py``), its time and verdicts are not measured, and the
output says so on its first line.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jwt_tool_presets as jwt_tool  # bench/ is on sys.path when this file runs as a script

from labkit import capstone, scan
from labkit.aws import presets, serve

KNOWN_JWT_TOOL_REQUESTS = 571
"""Requests jwt_tool 2.2.7's ``-M at`` sends to one target (issue 16; bench/jwt_tool_presets.py)."""


@dataclass
class Side:
    """One tool's run against one preset."""

    requests: int
    seconds: float | None  # None: not measured (jwt_tool's known count only)
    found: bool | None
    detail: str


def main(argv: list[str]) -> int:
    counts_only = "--counts" in argv
    argv = [a for a in argv if a != "--counts"]
    tool = (Path(argv[0]) if argv else jwt_tool.ROOT / ".cache" / "jwt_tool").absolute()
    python = (Path(argv[1]) if len(argv) > 1 else tool / "venv" / "bin" / "python").absolute()
    real = not counts_only and (tool / "jwt_tool.py").is_file() and python.is_file()
    if real:
        home = tool / "home"
        jwt_tool._configure(tool, python, home)
        print(f"jwt_tool {jwt_tool._version(tool)} from {tool}, -M at, run for real\n")
    else:
        why = "--counts" if counts_only else f"no jwt_tool.py in {tool} or no python at {python}"
        print(
            f"jwt_tool NOT run ({why}): its side is the {KNOWN_JWT_TOOL_REQUESTS} requests "
            "it is known to send per target; its time and verdicts are not measured\n"
        )
    print(
        f"{'preset':<22} {'labkit req':>10} {'time':>8} {'found':<28} "
        f"{'jwt_tool req':>12} {'time':>8} {'found':<5} {'req x':>6} {'time x':>7}"
    )
    totals = [0, 0.0, 0, 0.0]
    for preset in presets.available():
        ours = _labkit(preset.name)
        theirs = (
            _jwt_tool(preset.name, tool, python, home)
            if real
            else Side(KNOWN_JWT_TOOL_REQUESTS, None, None, "known count")
        )
        totals[0] += ours.requests
        totals[1] += ours.seconds or 0.0
        totals[2] += theirs.requests
        totals[3] += theirs.seconds or 0.0
        print(_row(preset.name, ours, theirs))
    req_x = totals[2] / totals[0] if totals[0] else float("nan")
    line = f"\nall presets: labkit {totals[0]} requests in {totals[1]:.1f} s"
    line += f", jwt_tool {totals[2]} requests"
    if real:
        line += f" in {totals[3]:.1f} s: {req_x:.1f}x the requests, "
        line += f"{totals[3] / totals[1]:.1f}x the time"
    else:
        line += f": {req_x:.1f}x the requests"
    print(line)
    return 0


def _labkit(name: str) -> Side:
    """One scan with the kit's defaults, against a fresh service (no authorizer cache).

    Timed like jwt_tool's side: serving the preset and the login are inside the clock.
    """
    started = time.perf_counter()
    with serve(name) as api:
        token = capstone.login(api.url)
        try:
            report = scan.scan(f"{api.url}/api/profile", token)
        except scan.ScanError as exc:  # a preset the default scan cannot baseline
            return Side(0, time.perf_counter() - started, None, f"error: {exc.message}")
        seconds = time.perf_counter() - started
    return Side(report.requests, seconds, not report.clean, ", ".join(report.flaws) or "none")


def _jwt_tool(name: str, tool: Path, python: Path, home: Path) -> Side:
    started = time.perf_counter()
    result = jwt_tool.scan(name, tool, python, home)
    seconds = time.perf_counter() - started  # includes serving the preset and one login
    return Side(result.requests, seconds, result.found, f"{len(result.accepted)} accepted")


def _row(name: str, ours: Side, theirs: Side) -> str:
    def took(side: Side) -> str:
        return "-" if side.seconds is None else f"{side.seconds:.2f}s"

    def found(side: Side) -> str:
        return "-" if side.found is None else "yes" if side.found else "no"

    req_x = f"{theirs.requests / ours.requests:.1f}" if ours.requests else "-"
    time_x = (
        f"{theirs.seconds / ours.seconds:.1f}"
        if theirs.seconds is not None and ours.seconds
        else "-"
    )
    ours_found = f"{found(ours)} ({ours.detail})"[:28]
    return (
        f"{name:<22} {ours.requests:>10} {took(ours):>8} {ours_found:<28} "
        f"{theirs.requests:>12} {took(theirs):>8} {found(theirs):<5} {req_x:>6} {time_x:>7}"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
