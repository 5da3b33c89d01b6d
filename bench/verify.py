"""labkit.verify against PyJWT's jwt.decode, per algorithm, in one run; the JSON boundary's cost.

Both verify the same token with the same cached key object (the public key, or
the secret for HS*) and the same audience and issuer checks. Rounds alternate
between the two and the best round of each is kept, so a busy shared machine
slows both alike; the ratio is what to read.

    .venv/bin/python bench/verify.py [--rounds 7] [--number 400]

The last table times ``tokens.load_json`` (depth and number-length checks,
duplicate members, lone surrogates) against a plain ``json.loads`` of the same
text, for a real payload and for 6 KiB cases that stress each check (what fits
in an 8 KiB token): the ratios stay small constants, with no blow-up.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import jwt

import labkit
from labkit import keys, tokens
from labkit.algorithms import ALGORITHMS

CLAIMS = {"sub": "alice", "aud": "api", "iss": "https://idp.example", "iat": 1_700_000_000}
EXP = 4_102_444_800  # 2100-01-01: far enough that the bench never ages
TARGET = 1.1


def cases() -> list[tuple[str, str, object]]:
    """(alg, token, verification key) for every algorithm, signed with the demo keys."""
    out = []
    for alg in ALGORITHMS:
        token = labkit.sign_token({**CLAIMS, "exp": EXP}, keys.demo_key_for(alg), alg)
        out.append((alg, token, keys.demo_key_for(alg, private=False)))
    return out


def best_per_call(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def measure(alg: str, token: str, key: object, rounds: int, number: int) -> tuple[float, float]:
    """Best seconds per call for labkit.verify and jwt.decode, rounds interleaved."""
    options = {"audience": "api", "issuer": "https://idp.example"}

    def ours() -> object:
        return labkit.verify(token, key, algorithms=[alg], **options)

    def pyjwt() -> object:
        return jwt.decode(token, key, algorithms=[alg], **options)

    assert ours() == pyjwt(), f"{alg}: the two verifiers disagree"
    labkit_times, pyjwt_times = [], []
    for index in range(rounds):
        pair = [(ours, labkit_times), (pyjwt, pyjwt_times)]
        for fn, times in pair if index % 2 == 0 else reversed(pair):
            times.append(best_per_call(fn, number))
    return min(labkit_times), min(pyjwt_times)


BOUNDARY_CASES = {
    "a real payload": json.dumps({**CLAIMS, "exp": EXP, "scope": "read write"}).encode(),
    "6 KiB of brackets in a string": b'{"a":"' + b"[{" * 3_000 + b'"}',
    "6 KiB of short strings": b"[" + b",".join([b'"ab"'] * 1_500) + b"]",
    "6 KiB array of numbers": b"[" + b",".join([b"1767258000"] * 560) + b"]",
    "6 KiB of chains 30 deep": b"[" + b",".join([b"[" * 29 + b"1" + b"]" * 29] * 100) + b"]",
    "6 KiB of \\u escapes": b'{"a":"' + b"\\u00e9" * 1_000 + b'"}',
}
"""Valid JSON only, so both parsers do the whole job; each stresses one check."""


def measure_boundary(data: bytes, rounds: int, number: int) -> tuple[float, float]:
    """Best seconds per call for tokens.load_json and a plain json.loads, rounds interleaved."""

    def ours() -> object:
        return tokens.load_json(data, "payload")

    def plain() -> object:
        return json.loads(data)

    assert ours() == plain()
    our_times, plain_times = [], []
    for index in range(rounds):
        pair = [(ours, our_times), (plain, plain_times)]
        for fn, times in pair if index % 2 == 0 else reversed(pair):
            times.append(best_per_call(fn, number))
    return min(our_times), min(plain_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per algorithm")
    parser.add_argument("--number", type=int, default=400, help="calls per round")
    args = parser.parse_args()
    print(f"labkit.verify vs PyJWT {jwt.__version__} jwt.decode, cached key objects")
    print(f"{args.rounds} rounds x {args.number} calls, best round each")
    print(f"{'alg':<6} {'labkit':>10} {'PyJWT':>10} {'ratio':>6}")
    ratios = []
    for alg, token, key in cases():
        ours, theirs = measure(alg, token, key, args.rounds, args.number)
        ratios.append(ours / theirs)
        print(f"{alg:<6} {ours * 1e6:>7.1f} µs {theirs * 1e6:>7.1f} µs {ours / theirs:>5.2f}x")
    worst = max(ratios)
    verdict = "meets" if worst <= TARGET else "MISSES"
    print(f"worst ratio {worst:.2f}x: {verdict} the target of <= {TARGET}x")
    print()
    print("tokens.load_json (the parsing boundary) vs plain json.loads")
    print(f"{'input':<30} {'load_json':>10} {'json.loads':>11} {'ratio':>6}")
    for name, data in BOUNDARY_CASES.items():
        ours, plain = measure_boundary(data, args.rounds, max(10, args.number // 4))
        print(f"{name:<30} {ours * 1e6:>7.1f} µs {plain * 1e6:>8.1f} µs {ours / plain:>5.2f}x")


if __name__ == "__main__":
    main()
