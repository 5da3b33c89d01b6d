"""RSA public-key recovery from two RS256 tokens: what it costs at 1024 and 2048 bits.

``labkit.attacks.confusion.recover_rsa_key`` computes gcd(s1**e - m1, s2**e - m2) with gmpy2.
This bench signs two tokens with each DEMO ONLY RSA key (the 1024-bit lab key ``rsa-1024`` and
the 2048-bit ``rsa``), recovers the modulus, checks it, and prints the seconds spent on the two
powers and on the gcd. It then times CPython's own ``math.gcd`` on random numbers of a few million
bits and scales that to the real sizes with its quadratic cost (an estimate, printed as such):
the reason the kit needs gmpy2. Notebook 06 quotes the 2048-bit figure.

    .venv/bin/python bench/recover_rsa.py [--skip-2048] [--cpython-bits 1000000]

Figures only, never assertions; on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import time

import gmpy2

import labkit
from labkit import keys
from labkit.attacks.confusion import recover_rsa_key

E = 65537


def recover(name: str) -> tuple[int, float, float]:
    """Sign two tokens with the demo key ``name``, recover its modulus: (bits, powers s, gcd s)."""
    private = keys.demo_private_key(name)
    claims = dict(labkit.examples.LAB_CLAIMS)
    first = labkit.sign_token(claims, private, "RS256")
    second = labkit.sign_token({**claims, "sub": "bob"}, private, "RS256")
    recovered = recover_rsa_key(first, second, e=E)
    expected = private.public_key().public_numbers().n
    assert recovered.n == expected, f"{name}: recovered a different modulus"
    return private.key_size, recovered.powers_seconds, recovered.gcd_seconds


def cpython_gcd_seconds(bits: int) -> float:
    """Seconds CPython's math.gcd takes on two random ``bits``-bit numbers."""
    rng = random.Random(bits)
    a, b = rng.getrandbits(bits), rng.getrandbits(bits)
    started = time.perf_counter()
    math.gcd(a, b)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-2048", action="store_true", help="only the 1024-bit lab key")
    parser.add_argument("--cpython-bits", type=int, default=1_000_000, help="math.gcd sample size")
    args = parser.parse_args()

    print(f"Python {platform.python_version()}, gmpy2 {gmpy2.version()} ({gmpy2.mp_version()})")
    print(f"{'key':>9}  {'operand bits':>12}  {'powers':>8}  {'gcd':>8}  {'total':>8}")
    names = ["rsa-1024"] if args.skip_2048 else ["rsa-1024", "rsa"]
    sizes = []
    for name in names:
        bits, powers, gcd = recover(name)
        sizes.append(bits)
        print(
            f"{bits:>5} bit  {E * bits:>12,}  {powers:>7.1f}s  {gcd:>7.1f}s  {powers + gcd:>7.1f}s"
        )

    sample = cpython_gcd_seconds(args.cpython_bits)
    print(f"\nCPython math.gcd on two {args.cpython_bits:,}-bit numbers: {sample:.2f} s")
    for bits in sizes:
        scale = (E * bits / args.cpython_bits) ** 2  # Lehmer's gcd: quadratic in the size
        print(f"  scaled to a {bits}-bit key's operands: about {sample * scale / 3600:.1f} h")


if __name__ == "__main__":
    main()
