"""What a scan costs: wall time and requests of `labkit.scan` against every local preset.

    .venv/bin/python bench/scan_presets.py [ROUNDS]   (default: 5 rounds per preset)

Each round serves the preset afresh on 127.0.0.1 (``labkit.aws.serve``, so no
authorizer cache carries over), Alice logs in, and the scanner runs against
``/api/profile``. Printed: the flaws found
(the preset's one root cause, or none), the requests one scan sends, and the
median and slowest wall time.
"""

from __future__ import annotations

import statistics
import sys
import time

from labkit import capstone, scan
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
