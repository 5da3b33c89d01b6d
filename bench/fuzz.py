"""A long fuzz of the token boundary: the families of tests/test_fuzz.py, plain random, seeded.

    .venv/bin/python bench/fuzz.py [--cases 100000] [--seed 1]

Every case goes to ``labkit.verify``; the hostile-JSON families (deep nesting,
huge numbers, lone surrogates, invalid UTF-8, odd base64url, duplicate members,
non-object JSON) also go to ``verify_jws``, ``tokens.parse`` and ``tokens.lint``.
A failure is any exception that is not a labkit error (an ``InvalidTokenError``
from the verifiers), a multi-line message, or an accepted token whose bytes
differ from the valid token it was mutated from. Exit status 1 if there was any.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import labkit
from labkit import keys, tokens
from labkit.algorithms import sign
from labkit.errors import InvalidTokenError, LabkitError
from labkit.verify import MAX_LENGTH

NOW = 1_700_000_000
CLAIMS = {"sub": "alice", "aud": "api", "iss": "https://idp.example", "iat": NOW, "exp": NOW + 60}
ALGS = ("HS256", "RS256", "PS256", "ES256", "EdDSA")


def _valid(alg: str) -> tuple[str, object]:
    """A valid token for ``alg`` and the public key that verifies it."""
    token = labkit.sign_token(CLAIMS, keys.demo_key_for(alg), alg)
    return token, keys.demo_key_for(alg, private=False)


VALID = {alg: _valid(alg) for alg in ALGS}
SECRET = keys.demo_secret()
NOISE = string.ascii_letters + string.digits + "-_.=+/ \t\n\x00?é€\U0001f600"

Case = tuple[object, object, str, str | None]  # token, key, alg, the valid original if a mutant


def mutant(rng: random.Random) -> Case:
    alg = rng.choice(ALGS)
    original, key = VALID[alg]
    data = list(original)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data)) if data else 0
        op = rng.choice(("replace", "insert", "delete", "flip", "cut", "swap"))
        if op == "replace" and data:
            data[at] = rng.choice(NOISE)
        elif op == "insert":
            data.insert(at, rng.choice(NOISE))
        elif op == "delete" and data:
            del data[at]
        elif op == "flip" and data:
            data[at] = chr(ord(data[at]) ^ (1 << rng.randrange(7)))
        elif op == "cut":
            del data[at:]
        elif op == "swap" and data:
            other = rng.randrange(len(data))
            data[at], data[other] = data[other], data[at]
    return "".join(data), key, alg, original


def noise(rng: random.Random) -> Case:
    text = "".join(rng.choice(NOISE) for _ in range(rng.randrange(300)))
    return (text.encode("utf-8", "replace") if rng.random() < 0.3 else text), SECRET, "HS256", None


def assembly(rng: random.Random) -> Case:
    parts = ["e30", "eyJhbGciOiJIUzI1NiJ9", "", "x", "AA", "=", "é", *VALID["HS256"][0].split(".")]
    return ".".join(rng.choice(parts) for _ in range(rng.randrange(7))), SECRET, "HS256", None


def json_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 2 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, NOW, NOW + 60, NOW - 60, 2**63, 10**400, -(10**30)])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e308, NOW + 0.5])
    if kind in (4, 5):
        return rng.choice(["", "api", "https://idp.example", "HS256", "b64", "exp", "__api__"])
    if kind == 6:
        return [json_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice("abc"): json_value(rng, depth + 1) for _ in range(rng.randrange(3))}


HEADER_NAMES = ("kid", "crit", "b64", "typ", "jku", "jwk")


def header_value(rng: random.Random) -> Any:
    """Mostly meaningful header values (crit lists, b64 booleans), sometimes anything."""
    choices = [["b64"], ["exp"], ["b64", "kid"], [], True, False, "b64"]
    return rng.choice(choices) if rng.random() < 0.6 else json_value(rng)


def signed(rng: random.Random) -> Case:
    names = ("exp", "nbf", "iat", "aud", "iss", "sub", "jti", "role")
    claims = {**CLAIMS, **{rng.choice(names): json_value(rng) for _ in range(rng.randrange(4))}}
    header = {rng.choice(HEADER_NAMES): header_value(rng) for _ in range(rng.randrange(4))}
    header = {**header, "alg": "HS256"} if rng.random() < 0.8 else {"alg": "HS256", **header}
    payload = json.dumps(claims).encode()
    signature = sign("HS256", SECRET, tokens.signing_input(header, payload))
    return tokens.encode(header, payload, signature), SECRET, "HS256", None


def jwk(rng: random.Random) -> Case:
    members = ("kty", "crv", "x", "y", "n", "e", "k", "d", "alg", "use", "key_ops", "kid", "keys")
    values = ["RSA", "EC", "oct", "OKP", "P-256", "Ed25519", "AQAB", "sig", "HS256", "AA", ""]
    key = {
        rng.choice(members): rng.choice(values) if rng.random() < 0.6 else json_value(rng)
        for _ in range(rng.randrange(6))
    }
    return VALID["HS256"][0], key, "HS256", None


def _sized(rng: random.Random, edges: tuple[int, ...], top: int) -> int:
    """A size at a bound (or just beside it) half the time, any size up to ``top`` otherwise."""
    return rng.choice(edges) if rng.random() < 0.5 else rng.randrange(top)


def _nesting(rng: random.Random) -> str:
    depth = _sized(rng, (31, 32, 33, 999, 1_000, 2_000, 3_000), 3_000)
    openers = rng.choice(["[", "{", "[{"])
    text = rng.choice(["1", '"x"', "[]", '"[[{"'])
    for index in range(depth):
        text = f"[{text}]" if openers[index % len(openers)] == "[" else '{"k":' + text + "}"
    return text


def _number(rng: random.Random) -> str:
    digits = "9" * max(1, _sized(rng, (64, 1_000, 1_001, 4_300, 4_301, 5_000), 5_500))
    built = [digits, f"-{digits}", f"1.{digits}", f"1e{digits[:4_000]}", f"-0.5E-{digits[:4_000]}"]
    return rng.choice([*built, "1e999", "-1e999", "1e-999", "NaN", "-Infinity"])


def _surrogates(rng: random.Random) -> str:
    pieces = [f"\\u{rng.randrange(0xD800, 0xE000):04x}", "\\ud83d\\ude00", "a", "\\u0000", "é"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))


def _hostile_json(rng: random.Random) -> bytes:
    value = rng.choice([_nesting, _number, lambda r: f'"{_surrogates(r)}"'])(rng)
    shape = rng.choice(["member", "name", "duplicate", "bare", "bytes"])
    if shape == "member":
        text = '{"alg":"HS256","exp":' + value + "}"
    elif shape == "name":
        text = '{"' + _surrogates(rng) + '":' + value + "}"
    elif shape == "duplicate":
        text = '{"alg":"HS256","alg":' + value + "}"
    elif shape == "bare":
        text = value
    else:
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(16)))
        return noise + value.encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")


def hostile(rng: random.Random) -> Case:
    """A token whose header and/or payload is hostile JSON, with odd base64url sometimes."""
    header = _hostile_json(rng) if rng.random() < 0.4 else b'{"alg":"HS256"}'
    payload = _hostile_json(rng) if rng.random() < 0.8 else b'{"exp":1}'
    head, body = tokens.b64url_encode(header), tokens.b64url_encode(payload)
    sig = rng.choice([tokens.b64url_encode(b"\x01" * 32), "AB", "A", "e30=", "ab+/", ""])
    if rng.random() < 0.2:
        head = rng.choice([head + "=", head[:-1] + "+", head + "A", head.upper()])
    token = f"{head}.{body}.{sig}"[:MAX_LENGTH]
    return (token.encode("ascii") if rng.random() < 0.3 else token), SECRET, "HS256", None


FAMILIES: dict[str, Callable[[random.Random], Case]] = {
    "mutated valid tokens": mutant,
    "random text and bytes": noise,
    "segment assemblies": assembly,
    "signed, arbitrary JSON": signed,
    "arbitrary JWK/JWKS": jwk,
    "hostile JSON": hostile,
}
BOUNDARY_FAMILIES = ("hostile JSON", "random text and bytes", "segment assemblies")
"""Families whose tokens also go to verify_jws, tokens.parse and tokens.lint."""


def run_one(case: Case, *, everywhere: bool = False) -> str:
    """'accepted', 'refused', or a failure description."""
    token, key, alg, original = case
    try:
        labkit.verify(
            token,  # type: ignore[arg-type]
            key,  # type: ignore[arg-type]
            algorithms=[alg],
            audience="api",
            issuer="https://idp.example",
            required=(),
            require_exp=False,  # fuzz every later check, also on tokens without exp
            now=NOW,
        )
    except InvalidTokenError as exc:
        verdict = "refused" if "\n" not in str(exc) else "FAILURE: multi-line message"
    except Exception as exc:
        return f"FAILURE: verify: {type(exc).__name__}: {exc}"
    else:
        if original is not None and token != original:
            return "FAILURE: accepted a mutated token"
        verdict = "accepted"
    if everywhere:
        failure = _other_entry_points(token, key, alg)
        if failure:
            return failure
    return verdict


def _other_entry_points(token: object, key: object, alg: str) -> str | None:
    calls: dict[str, Callable[[], object]] = {
        "verify_jws": lambda: labkit.verify_jws(token, key, algorithms=[alg]),  # type: ignore[arg-type]
        "parse": lambda: tokens.parse(token),  # type: ignore[arg-type]
        "lint": lambda: tokens.lint(token, now=NOW),  # type: ignore[arg-type]
    }
    for name, call in calls.items():
        try:
            call()
        except LabkitError as exc:
            if "\n" in str(exc):
                return f"FAILURE: {name}: multi-line message"
        except Exception as exc:
            return f"FAILURE: {name}: {type(exc).__name__}: {exc}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally: dict[str, Counter[str]] = {name: Counter() for name in FAMILIES}
    failures: list[tuple[str, Case, str]] = []
    start = time.perf_counter()
    for index in range(args.cases):
        name = list(FAMILIES)[index % len(FAMILIES)]
        case = FAMILIES[name](rng)
        verdict = run_one(case, everywhere=name in BOUNDARY_FAMILIES)
        tally[name]["failure" if verdict.startswith("FAILURE") else verdict] += 1
        if verdict.startswith("FAILURE") and len(failures) < 10:
            failures.append((name, case, verdict))
    seconds = time.perf_counter() - start
    print(f"{args.cases} cases, seed {args.seed}, {seconds:.1f} s ({args.cases / seconds:.0f}/s)")
    for name, counts in tally.items():
        print(
            f"  {name:<24} {sum(counts.values()):>7} cases: {counts['refused']:>7} refused, "
            f"{counts['accepted']:>6} accepted, {counts['failure']} failures"
        )
    total = sum(counts["failure"] for counts in tally.values())
    labkit_calls = sum(
        sum(counts.values()) * (4 if name in BOUNDARY_FAMILIES else 1)
        for name, counts in tally.items()
    )
    print(f"entry-point calls: {labkit_calls}; non-labkit errors and other failures: {total}")
    print(f"failures: {total}")
    for name, case, verdict in failures:
        print(f"  {name}: {verdict}\n    token={case[0]!r:.200} key={case[1]!r:.200}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
