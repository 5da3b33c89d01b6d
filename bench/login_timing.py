"""Login timing: does ``/login`` answer faster for a real user or a real password?

    .venv/bin/python bench/login_timing.py [--samples 40]

Serves the hardened preset on 127.0.0.1 and times ``POST /login`` over HTTP
for four kinds of attempt, interleaved in a shuffled order so machine noise
hits all four alike:

- ``right password``: alice / wonderland (200);
- ``known user, wrong password``: alice / a random guess (401);
- ``unknown user``: a random username and guess (401);
- ``real password, wrong user``: a random username with wonderland (401).

It prints each kind's median, 10th and 90th percentile in milliseconds and
the largest gap between medians, next to the noise (the interquartile range
of all samples). Every attempt costs one scrypt of the presented password, so
the medians should sit within the noise; a memoised hash answers a real
password in a few milliseconds instead of tens. Exit 1 if the largest gap
between medians exceeds the interquartile range.

Numbers are from one run on a shared machine: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import time
from dataclasses import dataclass

import requests

from labkit.aws import serve

__all__ = ["KINDS", "TimingResult", "run"]

KINDS = (
    "right password",
    "known user, wrong password",
    "unknown user",
    "real password, wrong user",
)


def _attempt(kind: str) -> tuple[dict[str, str], int]:
    guess, stranger = secrets.token_urlsafe(9), f"user-{secrets.token_hex(4)}"
    body = {
        "right password": {"username": "alice", "password": "wonderland"},
        "known user, wrong password": {"username": "alice", "password": guess},
        "unknown user": {"username": stranger, "password": guess},
        "real password, wrong user": {"username": stranger, "password": "wonderland"},
    }[kind]
    return body, 200 if kind == "right password" else 401


@dataclass(frozen=True)
class TimingResult:
    """Milliseconds per attempt, by kind."""

    samples: dict[str, list[float]]

    def median(self, kind: str) -> float:
        return statistics.median(self.samples[kind])

    @property
    def gap(self) -> float:
        medians = [self.median(kind) for kind in KINDS]
        return max(medians) - min(medians)

    @property
    def noise(self) -> float:
        pooled = sorted(ms for values in self.samples.values() for ms in values)
        quartiles = statistics.quantiles(pooled, n=4)
        return quartiles[2] - quartiles[0]


def run(*, samples: int = 40, seed: int = 12) -> TimingResult:
    """Time ``samples`` logins of each kind, interleaved at random."""
    plan = [kind for kind in KINDS for _ in range(samples)]
    random.Random(seed).shuffle(plan)
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with serve("hardened") as api, requests.Session() as http:
        for kind in KINDS:  # warm up every path once
            http.post(f"{api.url}/login", json=_attempt(kind)[0], timeout=30)
        for kind in plan:
            body, status = _attempt(kind)
            started = time.perf_counter()
            response = http.post(f"{api.url}/login", json=body, timeout=30)
            timings[kind].append((time.perf_counter() - started) * 1000)
            if response.status_code != status:
                raise SystemExit(f"{kind}: expected {status}, got {response.status_code}")
    return TimingResult(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40, help="logins of each kind")
    args = parser.parse_args(argv)
    result = run(samples=args.samples)
    print(f"POST /login over HTTP, {args.samples} attempts of each kind, shuffled")
    print(f"{'attempt':<28} {'median ms':>10} {'p10':>7} {'p90':>7}")
    for kind in KINDS:
        deciles = statistics.quantiles(result.samples[kind], n=10)
        print(f"{kind:<28} {result.median(kind):>10.1f} {deciles[0]:>7.1f} {deciles[-1]:>7.1f}")
    print(
        f"largest gap between medians: {result.gap:.1f} ms; "
        f"noise (interquartile range of all attempts): {result.noise:.1f} ms"
    )
    return 0 if result.gap <= result.noise else 1


if __name__ == "__main__":
    sys.exit(main())
