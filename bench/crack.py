"""labkit crack against the usual ways of guessing an HS256 secret, in one run.

Every method searches the same wordlist for a secret that is not in it (the worst case: every
word is tried) on the same token, whose signing input is 137 bytes like the issue's. Rounds
alternate between the methods and the best round of each is kept, so a busy shared machine slows
all alike; the ratios are what to read. A pure-Python CPU job run on 1 and on N processes shows
how much parallel headroom the machine really gave during the run.

A CRLF copy of the list and the list passed as an open binary file are timed too: both should
run at about the speed of the plain path (line ends are stripped in C, per block).

    .venv/bin/python bench/crack.py [--words 600000] [--rounds 5] [--decode-sample 4000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import multiprocessing
import platform
import random
import ssl
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import jwt
from jwt.warnings import InsecureKeyLengthWarning

import labkit
from labkit import algorithms
from labkit.attacks import crack as cracking

CLAIMS = {"sub": "1234567890", "name": "Johnathan Doe", "role": "admin", "iat": 1516239022}
SECRET = "bench-secret-that-is-in-no-wordlist-0123456789"  # 32+ bytes: never guessed
HASHCAT_RATE = 0.70e6  # hashcat 6.2.6 -m 16500, pocl, both cores of the machine
TARGETS = {"hmac": 1.5, "scaling": 1.4, "jwt_tool": 3.0}


def make_wordlist(path: Path, count: int) -> list[bytes]:
    """Random lowercase+digit words of 6-12 characters, like a leaked-password list."""
    rng = random.Random(2104)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    words = ["".join(rng.choices(alphabet, k=rng.randint(6, 12))) for _ in range(count)]
    path.write_text("\n".join(words) + "\n", encoding="ascii")
    return [word.encode() for word in words]


def hmac_digest_loop(words: list[bytes], message: bytes, signature: bytes) -> int:
    """The obvious stdlib loop: one hmac.digest per word, raw compare (words already in memory)."""
    digest = hmac.digest
    for word in words:
        if digest(word, message, "sha256") == signature:
            break
    return len(words)


def jwt_tool_loop(path: Path, message: bytes, signature_b64: str, header: dict) -> int:
    """jwt_tool's per-guess work, re-implemented from its published crackSig/testKey.

    Read a line, strip and encode it, pick the hash from the header, hmac.new(...).digest(),
    base64url-encode, decode, strip the padding, compare strings; count the words.
    """

    def test_key(key: bytes) -> bool:
        if header["alg"] == "HS256":
            mac = hmac.new(key, message, hashlib.sha256).digest()
        elif header["alg"] == "HS384":
            mac = hmac.new(key, message, hashlib.sha384).digest()
        else:
            mac = hmac.new(key, message, hashlib.sha512).digest()
        return base64.urlsafe_b64encode(mac).decode("UTF-8").strip("=") == signature_b64

    tried = 0
    with open(path, encoding="utf-8", errors="ignore") as keys:
        line = keys.readline()
        while line:
            tried += 1
            try:
                cracked = test_key(line.strip().encode("UTF-8"))
            except Exception:
                cracked = False
            if cracked:
                break
            if tried % 1_000_000 == 0:
                print(f"[*] Tested {tried // 1_000_000} million passwords so far")
            line = keys.readline()
    return tried


def jwt_decode_loop(words: list[bytes], token: str) -> int:
    """PyJWT's full decode per guess: what a script built on jwt.decode does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)  # short guesses are the point
        for word in words:
            try:
                jwt.decode(token, word, algorithms=["HS256"])
                break
            except jwt.InvalidSignatureError:
                continue
    return len(words)


def burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def parallel_headroom(processes: int, n: int = 3_000_000) -> float:
    """Speed-up of a pure CPU job on ``processes`` processes: the ceiling for any cracker here."""
    start = time.perf_counter()
    for _ in range(processes):
        burn(n)
    serial = time.perf_counter() - start
    with multiprocessing.get_context().Pool(processes) as pool:
        start = time.perf_counter()
        pool.map(burn, [n] * processes)
        parallel = time.perf_counter() - start
    return serial / parallel


def best_rate(results: dict[str, float], name: str, guesses: int, run: Callable[[], int]) -> None:
    start = time.perf_counter()
    tried = run()
    rate = tried / (time.perf_counter() - start)
    assert tried == guesses, f"{name}: tried {tried} of {guesses}"
    results[name] = max(results.get(name, 0.0), rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=600_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--decode-sample", type=int, default=4_000)
    args = parser.parse_args()

    token = algorithms.sign_token(CLAIMS, SECRET, "HS256")
    target = cracking.Target.from_token(token)
    cores = cracking.default_processes()
    signature_b64 = token.rsplit(".", 1)[1]
    header = labkit.parse(token).header
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "words.txt"
        words = make_wordlist(path, args.words)
        crlf = Path(tmp) / "words-crlf.txt"
        crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # the same list, Windows ends
        counts = {1, 2, cores}
        print(
            f"labkit crack benchmark: HS256, {len(target.signing_input)}-byte signing input, "
            f"{args.words:,} words (secret not in the list), best of {args.rounds} rounds\n"
            f"Python {platform.python_version()}, {ssl.OPENSSL_VERSION}, "
            f"{cores} cores available (labkit's default: {cores} processes)\n"
        )
        results: dict[str, float] = {}
        headroom = 0.0
        for _ in range(args.rounds):
            for n in sorted(counts):
                best_rate(
                    results,
                    f"labkit crack, {n} process{'es' if n > 1 else ''}",
                    args.words,
                    lambda n=n: crack_all(token, path, n),
                )
            best_rate(
                results,
                "labkit crack, 1 process, CRLF list",
                args.words,
                lambda: crack_all(token, crlf, 1),
            )
            best_rate(
                results,
                "labkit crack, 1 process, file object",
                args.words,
                lambda: crack_file_object(token, path),
            )
            best_rate(
                results,
                "hmac.digest loop",
                args.words,
                lambda: hmac_digest_loop(words, target.signing_input, target.signature),
            )
            best_rate(
                results,
                "jwt_tool-style loop",
                args.words,
                lambda: jwt_tool_loop(path, target.signing_input, signature_b64, header),
            )
            headroom = max(headroom, parallel_headroom(2))
        sample = words[: args.decode_sample]
        best_rate(results, "jwt.decode loop", len(sample), lambda: jwt_decode_loop(sample, token))
    report(results, cores, headroom, args.decode_sample)


def crack_all(token: str, path: Path, processes: int) -> int:
    result = cracking.crack(token, path, processes=processes)
    assert not result.found
    return result.guesses


def crack_file_object(token: str, path: Path) -> int:
    with open(path, "rb") as handle:  # read in blocks, as a path is
        result = cracking.crack(token, handle, processes=1)
    assert not result.found
    return result.guesses


def report(results: dict[str, float], cores: int, headroom: float, sample: int) -> None:
    width = max(map(len, results)) + 2
    print(f"{'method':<{width}}{'guesses/s':>12}")
    for name, rate in results.items():
        note = f"  (one process; sample of {sample:,} words)" if "decode" in name else ""
        note = note or ("  (one process)" if "loop" in name else "")
        print(f"{name:<{width}}{rate / 1e6:>10.3f} M{note}")
    one = results["labkit crack, 1 process"]
    two = results["labkit crack, 2 processes"]
    default = results[f"labkit crack, {cores} process{'es' if cores > 1 else ''}"]
    rows = [
        ("labkit 1 process / hmac.digest loop", one / results["hmac.digest loop"], "hmac"),
        ("labkit 2 processes / labkit 1 process", two / one, "scaling"),
        (
            "labkit default / jwt_tool-style loop",
            default / results["jwt_tool-style loop"],
            "jwt_tool",
        ),
        ("labkit default / jwt.decode loop", default / results["jwt.decode loop"], None),
        (
            "labkit 1 process: CRLF list / LF list",
            results["labkit crack, 1 process, CRLF list"] / one,
            None,
        ),
        (
            "labkit 1 process: file object / path",
            results["labkit crack, 1 process, file object"] / one,
            None,
        ),
    ]
    print(f"\n{'ratio':<42}{'measured':>9}{'target':>10}")
    for label, ratio, key in rows:
        goal = TARGETS.get(key or "")
        verdict = "" if goal is None else ("  met" if ratio >= goal else "  MISSED")
        goal_text = "-" if goal is None else f">= {goal}x"
        print(f"{label:<42}{ratio:>8.2f}x{goal_text:>10}{verdict}")
    print(
        f"\nparallel headroom in this run (pure-Python CPU job, 2 processes vs 1): {headroom:.2f}x"
        "\n  (below ~1.9x means other work shared the cores; the 1->2 ratio cannot beat it)"
    )
    print(
        f"\nabsolute: labkit default {default / 1e6:.2f} M guesses/s on {cores} cores here;"
        f"\n  hashcat 6.2.6 -m 16500 (pocl, both cores of the issue's CPU): "
        f"~{HASHCAT_RATE / 1e6:.2f} M/s -> labkit is {default / HASHCAT_RATE:.2f}x that figure"
    )


if __name__ == "__main__":
    main()
