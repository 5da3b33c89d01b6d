"""DPoP proofs verified per second, as a ratio of plain labkit.verify in the same run; the replay
cache's memory at its bound and its lookups per second at capacity.

For each algorithm, ``labkit.dpop.verify_proof`` checks a proof (every RFC 9449 section 4.3
item: parse, typ, alg, the jwk loaded and checked, the signature, htm/htu normalised, iat, ath
and the key binding; no replay cache, so the same proof can be timed again) and
``labkit.verify`` checks an access token of the same algorithm with a cached key. Rounds
alternate and the best of each is kept, so a busy machine slows both alike: read the ratio.
A proof costs more than a token: its key arrives inside it and is loaded on every call.

The replay cache is filled to ``--entries`` jti values and measured with tracemalloc
(bytes per entry), then timed at capacity: lookups of jti values it holds (each a refusal)
and, after the window passes, inserts that expire the oldest entry first.

    .venv/bin/python bench/dpop.py [--rounds 5] [--number 200] [--entries 100000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import labkit
from labkit import dpop, keys

NOW = 1_767_258_000
URL = "https://api.example.com/api/profile"
CLAIMS = {"sub": "alice", "aud": "api", "iss": "https://idp.example", "iat": NOW, "exp": NOW + 900}
ALGS = ("ES256", "EdDSA", "RS256")


def per_call(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def proofs(rounds: int, number: int) -> list[tuple[str, float, float]]:
    rows = []
    for alg in ALGS:
        key = keys.demo_key_for(alg)
        public = keys.demo_key_for(alg, private=False)
        token = labkit.sign_token(CLAIMS, key, alg)
        proof = dpop.make_proof(key, "GET", URL, access_token=token, iat=NOW)
        jkt = dpop.thumbprint(key)

        def check_proof(proof: str = proof, token: str = token, jkt: str = jkt) -> object:
            return dpop.verify_proof(
                proof, htm="GET", htu=URL, access_token=token, jkt=jkt, now=NOW
            )

        def check_token(token: str = token, public: object = public, alg: str = alg) -> object:
            return labkit.verify(
                token,
                public,
                algorithms=[alg],
                audience="api",
                issuer="https://idp.example",
                now=NOW,
            )

        check_proof(), check_token()  # warm caches, and fail loudly if either refuses
        best_proof = best_token = float("inf")
        for _ in range(rounds):
            best_proof = min(best_proof, per_call(check_proof, number))
            best_token = min(best_token, per_call(check_token, number))
        rows.append((alg, 1 / best_proof, 1 / best_token))
    return rows


def replay_cache(entries: int, number: int) -> tuple[float, float, float]:
    clock = [float(NOW)]
    cache = dpop.ReplayCache(max_entries=entries, window=65, clock=lambda: clock[0])
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(entries):
        cache.remember(f"jti-{i:012d}-0123456789abcdef", URL)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()

    def lookup(i: list[int] = [0]) -> None:  # noqa: B006 - a counter across calls
        i[0] = (i[0] + 7919) % entries
        try:
            cache.remember(f"jti-{i[0]:012d}-0123456789abcdef", URL)
        except dpop.ReplayedProofError:
            return
        raise AssertionError("a jti in the cache was not refused")

    lookups = 1 / min(per_call(lookup, number * 50) for _ in range(3))
    clock[0] += 66  # every entry has expired: each insert now evicts from the front
    counter = [0]

    def insert() -> None:
        counter[0] += 1
        cache.remember(f"new-{counter[0]}", URL)

    inserts = 1 / per_call(insert, number * 50)
    return used / entries, lookups, inserts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{'alg':<7} {'proofs/s':>10} {'tokens/s':>10} {'proof/token time':>17}")
    for alg, proof_rate, token_rate in proofs(args.rounds, args.number):
        print(
            f"{alg:<7} {proof_rate:>10,.0f} {token_rate:>10,.0f} {token_rate / proof_rate:>16.2f}x"
        )
    per_entry, lookups, inserts = replay_cache(args.entries, args.number)
    total = per_entry * args.entries
    print(
        f"replay cache at its bound: {args.entries:,} entries, {total / 2**20:.1f} MiB "
        f"({per_entry:.0f} B/entry, tracemalloc); {lookups:,.0f} lookups/s at capacity, "
        f"{inserts:,.0f} inserts/s while expiring"
    )


if __name__ == "__main__":
    main()
