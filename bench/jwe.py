"""labkit.jwe.decrypt against jwcrypto's, per alg and enc, in one run; and the work attacks cost.

Table 1: seconds per decryption of the same token with the same prepared key, for
``labkit.jwe.decrypt`` and jwcrypto 1.6.1 (the test-only peer), as the ratio
labkit / jwcrypto, and as a multiple of a bare AES-256-GCM open of the same
plaintext (the floor any JWE decryption stands on). Every ``alg`` is run with
A256GCM, and every ``enc`` with A256KW. Rounds alternate between the two and
the best round of each is kept, so a busy shared machine slows both alike.

Table 2: a malicious token against its vulnerable decryptor and against
``labkit.jwe.decrypt``: the counted work (PBKDF2 iterations, bytes inflated)
and the time, as ratios vulnerable / hardened.

    .venv/bin/python bench/jwe.py [--rounds 5] [--number 50]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwcrypto import jwe as jwcrypto_jwe
from jwcrypto import jwk as jwcrypto_jwk

from labkit import jwe, keys, tokens
from labkit.attacks import jwe as attacks
from labkit.errors import JweError

PLAINTEXT = json.dumps({"sub": "alice", "role": "reader", "email": "alice@example.com"}).encode()
RSA, P256 = keys.demo_private_key("rsa"), keys.demo_private_key("p256")
SECRET = bytes(range(32))
PASSWORD = b"correct horse battery staple"
KEYS = {
    "RSA-OAEP": RSA,
    "RSA-OAEP-256": RSA,
    "ECDH-ES": P256,
    "ECDH-ES+A128KW": P256,
    "ECDH-ES+A256KW": P256,
    "A128KW": SECRET[:16],
    "A256KW": SECRET,
    "PBES2-HS256+A128KW": PASSWORD,
}


def per_call(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def best_pair(a: Callable[[], object], b: Callable[[], object], rounds: int, number: int):
    times_a, times_b = [], []
    for index in range(rounds):
        pair = [(a, times_a), (b, times_b)]
        for fn, times in pair if index % 2 == 0 else reversed(pair):
            times.append(per_call(fn, number))
    return min(times_a), min(times_b)


def jwk_for(key: Any) -> jwcrypto_jwk.JWK:
    if isinstance(key, bytes):
        return jwcrypto_jwk.JWK(kty="oct", k=tokens.b64url_encode(key))
    return jwcrypto_jwk.JWK(**keys.to_jwk(key, use="enc", private=True))


def throughput(rounds: int, number: int) -> None:
    gcm_key, iv = AESGCM(os.urandom(32)), os.urandom(12)
    sealed = gcm_key.encrypt(iv, PLAINTEXT, b"header")
    floor = min(per_call(lambda: gcm_key.decrypt(iv, sealed, b"header"), number * 20)
                for _ in range(rounds))  # fmt: skip
    pairs = [(alg, "A256GCM") for alg in KEYS] + [
        ("A256KW", enc) for enc in jwe.ENCRYPTIONS if enc != "A256GCM"
    ]
    print(f"bare AES-256-GCM open of {len(PLAINTEXT)} bytes: {floor * 1e6:.1f} µs\n")
    print(f"{'alg':<20} {'enc':<14} {'labkit µs':>10} {'jwcrypto µs':>12} "
          f"{'labkit/jwcrypto':>16} {'labkit/AES-GCM':>15}")  # fmt: skip
    for alg, enc in pairs:
        key = KEYS[alg]
        public = key if isinstance(key, bytes) else key.public_key()
        token = jwe.encrypt(PLAINTEXT, public, alg=alg, enc=enc)
        their_key = jwk_for(key)
        options = {"algorithms": [alg], "encryptions": [enc]}

        def ours(token: str = token, key: Any = key, options: dict = options) -> bytes:
            return jwe.decrypt(token, key, **options)

        def theirs(token: str = token, their_key: Any = their_key) -> bytes:
            received = jwcrypto_jwe.JWE()
            received.deserialize(token, key=their_key)
            return received.payload

        assert ours() == theirs() == PLAINTEXT, f"{alg}/{enc}: the decryptors disagree"
        slow = alg.startswith("PBES2") or alg.startswith("RSA")
        n = max(number // 10, 3) if slow else number
        mine, peer = best_pair(ours, theirs, rounds, n)
        print(f"{alg:<20} {enc:<14} {mine * 1e6:>10.1f} {peer * 1e6:>12.1f} "
              f"{mine / peer:>16.2f} {mine / floor:>15.0f}")  # fmt: skip


def attack_work(rounds: int) -> None:
    cases = [
        (
            "PBES2 p2c = 1,000,000 (CVE-2022-36083)",
            attacks.huge_p2c(1_000_000),
            PASSWORD,
            {"algorithms": ["PBES2-HS256+A128KW"], "encryptions": ["A128GCM"]},
            attacks.pbes2_without_p2c_limit,
            "pbkdf2_iterations",
            {},
        ),
        (
            "zip bomb, 10 MB (CVE-2024-28102)",
            attacks.zip_bomb(RSA.public_key(), size=10_000_000),
            RSA,
            {"algorithms": ["RSA-OAEP-256"], "encryptions": ["A256GCM"]},
            attacks.inflate_without_limit,
            "inflated",
            {},
        ),
        (
            "zip bomb, 10 MB, zip allowed (capped)",
            attacks.zip_bomb(RSA.public_key(), size=10_000_000),
            RSA,
            {"algorithms": ["RSA-OAEP-256"], "encryptions": ["A256GCM"]},
            attacks.inflate_without_limit,
            "inflated",
            {"allow_zip": True},
        ),
    ]
    print(f"\n{'malicious token':<40} {'counter':<18} {'vulnerable':>12} {'hardened':>10} "
          f"{'vuln ms':>9} {'hard ms':>9} {'time ratio':>11}")  # fmt: skip
    for what, token, key, options, vulnerable, counter, extra in cases:
        counts, times = {}, {}
        for name, decrypt, more in (("vuln", vulnerable, {}), ("hard", jwe.decrypt, extra)):
            best = float("inf")
            for _ in range(rounds):
                work = jwe.Work()
                start = time.perf_counter()
                with contextlib.suppress(JweError):  # both refuse in the end; the work differs
                    decrypt(token, key, **options, **more, work=work)
                best = min(best, time.perf_counter() - start)
            counts[name], times[name] = getattr(work, counter), best
        print(f"{what:<40} {counter:<18} {counts['vuln']:>12,} {counts['hard']:>10,} "
              f"{times['vuln'] * 1e3:>9.2f} {times['hard'] * 1e3:>9.3f} "
              f"{times['vuln'] / times['hard']:>10.0f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=50)
    args = parser.parse_args()
    throughput(args.rounds, args.number)
    attack_work(max(args.rounds // 2, 2))


if __name__ == "__main__":
    main()
