"""Slow clients against the local gateway: normal request rate with and without tricklers.

    .venv/bin/python bench/slow_clients.py [--requests 300] [--clients 8] [--slow 10]

Serves the hardened preset on 127.0.0.1. Normal clients (``--clients`` threads)
send ``GET /api/profile`` with a valid token as fast as they can; the rate is
measured without, then with ``--slow`` trickling connections open
(slowloris-style: each sends a request line, then one header byte every
``--interval`` seconds and never finishes; when the server cuts it off at its
read deadline it reconnects at once). The two phases alternate for
``--rounds`` rounds, in ABBA order so drift in the machine's load hits both
alike; each round gives a ratio "with / without", and their median should be
within a few percent of 1. It also prints how many trickling
connections the server cut off, and the count of 5xx answers (exit 1 if any,
or if a normal request failed).

Numbers are from one run on a shared machine: compare the two rates of the
same run, never across machines.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from labkit.aws import serve
from labkit.aws.server import READ_TIMEOUT, Api

__all__ = ["Tricklers", "measure", "run"]


@dataclass
class Tricklers:
    """``count`` connections that each send a header byte every ``interval`` seconds."""

    address: tuple[str, int]
    count: int
    interval: float
    cut_off: int = 0  # connections the server closed before the client finished
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Tricklers:
        for index in range(self.count):
            thread = threading.Thread(target=self._trickle, name=f"trickler-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.interval + 5)

    def _trickle(self) -> None:
        while not self._stop.is_set():
            try:
                with socket.create_connection(self.address, timeout=5) as conn:
                    conn.sendall(b"GET /api/profile HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                    while not self._stop.wait(self.interval):
                        conn.sendall(b"a")
                    return
            except OSError:  # the server hung up on us: count it, come straight back
                with self._lock:
                    self.cut_off += 1


def measure(api: Api, token: str, total: int, clients: int) -> tuple[float, Counter[int]]:
    """Requests per second for ``total`` authorized requests from ``clients`` threads."""
    local = threading.local()

    def one(_: int) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        try:
            response = session.get(
                f"{api.url}/api/profile", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
        except requests.RequestException:
            return 0
        return response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        statuses = Counter(pool.map(one, range(total)))
    return total / (time.perf_counter() - started), statuses


@dataclass(frozen=True)
class SlowResult:
    """Medians of the alternating rounds, and what came back."""

    without: list[float]
    with_slow: list[float]
    statuses: Counter[int]
    cut_off: int

    @property
    def ratio(self) -> float:
        """The median over rounds of (rate with tricklers) / (rate without, same round)."""
        return statistics.median(w / wo for w, wo in zip(self.with_slow, self.without, strict=True))


def run(
    *,
    total: int = 300,
    clients: int = 8,
    slow: int = 10,
    interval: float = 1.0,
    rounds: int = 8,
    read_timeout: float = READ_TIMEOUT,
) -> SlowResult:
    """Alternate rounds without and with ``slow`` trickling connections; the rates of each."""
    with serve("hardened", read_timeout=read_timeout) as api:
        host, port = api.url.removeprefix("http://").rsplit(":", 1)
        token = api.idp.issue("alice", "reader", ("profile",))
        measure(api, token, clients * 5, clients)  # warm up: imports, the authorizer cache
        without, with_slow, statuses, cut_off = [], [], Counter[int](), 0
        for index in range(rounds):
            for phase in ("without", "with") if index % 2 == 0 else ("with", "without"):
                if phase == "without":
                    rate, seen = measure(api, token, total, clients)
                    without.append(rate)
                else:
                    with Tricklers((host, int(port)), slow, interval) as tricklers:
                        time.sleep(min(1.5, interval * 1.5))  # every trickler is mid-request
                        rate, seen = measure(api, token, total, clients)
                    with_slow.append(rate)
                    cut_off += tricklers.cut_off
                statuses += seen
    return SlowResult(without, with_slow, statuses, cut_off)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per phase and round")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--slow", type=int, default=10, help="trickling connections")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between bytes")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--read-timeout", type=float, default=READ_TIMEOUT)
    args = parser.parse_args(argv)
    result = run(
        total=args.requests,
        clients=args.clients,
        slow=args.slow,
        interval=args.interval,
        rounds=args.rounds,
        read_timeout=args.read_timeout,
    )
    print(
        f"hardened preset, {args.clients} normal clients, {args.requests} requests per phase, "
        f"{args.rounds} rounds; {args.slow} tricklers at one byte per {args.interval:g} s; "
        f"server read timeout {args.read_timeout:g} s"
    )
    rounds = ", ".join(f"{r:.0f}" for r in result.without)
    print(f"without tricklers: median {statistics.median(result.without):.0f} req/s ({rounds})")
    rounds = ", ".join(f"{r:.0f}" for r in result.with_slow)
    print(f"with tricklers:    median {statistics.median(result.with_slow):.0f} req/s ({rounds})")
    print(f"with / without, median of the rounds' ratios: {result.ratio:.3f}")
    print(f"trickling connections cut off by the read deadline: {result.cut_off}")
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses.items()))
    print(f"normal clients' statuses: {statuses}")
    bad = sum(n for s, n in result.statuses.items() if s != 200)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
