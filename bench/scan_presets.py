"""What a scan costs: wall time and requests of `labkit.scan` against every local preset.

    .venv/bin/python bench/scan_presets.py [ROUNDS]   (default: 5 rounds per preset)

Each round serves the preset afresh on 127.0.0.1 (``labkit.aws.serve``, so no
authorizer cache carries over), Alice logs in, and the scanner runs against
``/api/profile``. Printed: the flaws found
(the preset's one root cause, or none), the requests one scan sends, and the
median and slowest wall time.

Then what the outbound-URL guard (``labkit.outbound``) costs, as ratios
against a baseline measured in the same run: ``judge()`` of one URL against
``requests`` preparing it alone, and a guarded GET (judge, pinned session,
bounded read) against a plain ``requests.Session().get`` of the same loopback
URL.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import requests

from labkit import capstone, outbound, scan
from labkit.attacks import injection
from labkit.aws import presets, serve


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 5
    print(f"{'preset':<22} {'flaws found':<26} {'requests':>8} {'median':>9} {'slowest':>9}")
    for preset in presets.available():
        seconds, report = [], None
        for _ in range(rounds):  # a fresh service each round: no authorizer cache hits
            with serve(preset.name) as api:
                token = capstone.login(api.url)
                started = time.perf_counter()
                report = scan.scan(f"{api.url}/api/profile", token)
                seconds.append(time.perf_counter() - started)
        assert report is not None
        found = ", ".join(report.flaws) or "none"
        median, slowest = statistics.median(seconds), max(seconds)
        print(
            f"{preset.name:<22} {found:<26} {report.requests:>8} "
            f"{median * 1e3:>7.0f} ms {slowest * 1e3:>6.0f} ms"
        )
    guard_cost()
    return 0


def guard_cost(repeat: int = 2000, gets: int = 200) -> None:
    """The guard's overhead, as ratios against what requests does anyway."""
    url = "http://127.0.0.1:8000/api/profile?x=1"
    prepare = _per_call(lambda: requests.Request("GET", url).prepare(), repeat)
    judge = _per_call(lambda: outbound.judge(url), repeat)
    print(
        f"\njudge() {judge * 1e6:.0f} us per URL, requests' prepare() alone {prepare * 1e6:.0f} us:"
        f" {judge / prepare:.2f}x"
    )
    with injection.serve_jwks({"keys": []}) as server:
        with requests.Session() as session:
            session.trust_env = False
            plain = _per_call(lambda: session.get(server.url, timeout=5).content, gets)
        guarded = _per_call(lambda: outbound.fetch(outbound.judge(server.url)), gets)
    print(
        f"guarded GET {guarded * 1e3:.2f} ms, plain Session.get {plain * 1e3:.2f} ms "
        f"(kept-alive): {guarded / plain:.2f}x"
    )


def _per_call(call: Callable[[], object], times: int) -> float:
    call()  # warm up
    started = time.perf_counter()
    for _ in range(times):
        call()
    return (time.perf_counter() - started) / times


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
