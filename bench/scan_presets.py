"""What a scan costs: wall time and requests of `labkit.scan` against every local preset.

    .venv/bin/python bench/scan_presets.py [ROUNDS]   (default: 5 rounds per preset)

Each round serves the preset afresh on 127.0.0.1 (``labkit.aws.serve``, or the browser demo
``labkit.browser.serve_spa``; no authorizer cache carries over), Alice logs in the way the
preset's real client does, and the scanner runs with what that tester holds
(``bench/held.py``): the header token against ``/api/profile`` for most presets, and for the
nine of ``labkit.capstone.SCAN_NEEDS`` the token cookie, the fingerprint cookie, an ID token,
another API's access token, or a DPoP-bound token and its key. Printed: what the scan was
given, whether the preset's flaw (``labkit.capstone.PRESET_FLAWS``) was found and any other
flaw reported (root causes), the requests one scan sends (a DPoP target's ``use_dpop_nonce``
retries included), and the median and slowest wall time of the scan alone (serving and login
outside the clock).

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
from held import held  # bench/ is on sys.path when this file runs as a script

from labkit import capstone, outbound
from labkit.attacks import injection
from labkit.aws import presets


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 5
    print(
        f"{'preset':<21} {'given':<40} {'flaw':<4} {'other flaws':<12} "
        f"{'requests':>8} {'median':>9} {'slowest':>9}"
    )
    found, expected_total, extra_total = 0, 0, 0
    for preset in presets.available():
        seconds, report, given = [], None, ""
        for _ in range(rounds):  # a fresh service each round: no authorizer cache hits
            with held(preset.name) as holding:
                given = holding.given
                started = time.perf_counter()
                report = holding.report()
                seconds.append(time.perf_counter() - started)
        assert report is not None
        expected = capstone.PRESET_FLAWS.get(preset.name)
        hit = "-" if expected is None else "yes" if expected in report.flaws else "no"
        extra = [f for f in report.flaws if f != expected]
        found += hit == "yes"
        expected_total += expected is not None
        extra_total += len(extra)
        median, slowest = statistics.median(seconds), max(seconds)
        print(
            f"{preset.name:<21} {given:<40} {hit:<4} {', '.join(extra) or 'none':<12} "
            f"{report.requests:>8} {median * 1e3:>7.0f} ms {slowest * 1e3:>6.0f} ms"
        )
    print(f"\n{found} of {expected_total} presets' flaws found, {extra_total} other flaws reported")
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
