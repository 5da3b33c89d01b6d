"""Load on the hardened local gateway: concurrent clients, valid and forged tokens mixed.

    .venv/bin/python bench/gateway_load.py [--requests 2000] [--clients 50]

Serves the hardened preset on 127.0.0.1, then sends the requests from a pool of
client threads (one ``requests.Session`` each): half with valid tokens of the demo
users (``GET /api/profile``, must answer 200), half with forged admin tokens from
every forger in ``labkit.attacks`` (``GET /api/admin``, must answer 401). It runs
twice, with the authorizer cache on (TTL 300 s) and off (TTL 0), and prints
requests/s for each, their ratio, the count of 5xx answers and of forged tokens
accepted. Exit status 1 if either count is not 0, or a valid token was refused.

Numbers are from one run on a shared machine: compare the two rows of the same run.
``tests/test_aws_load.py`` runs a small version of the same.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from labkit.algorithms import sign_token
from labkit.attacks import confusion, injection, none, psychic
from labkit.aws import presets, serve
from labkit.aws.server import Api

__all__ = ["LoadResult", "forged_tokens", "run"]


@dataclass(frozen=True)
class LoadResult:
    """One load run: how many, how fast, and what came back."""

    cache_ttl: float
    requests: int
    clients: int
    seconds: float
    statuses: Counter[int]
    server_errors: int
    forged_accepted: int
    valid_refused: int
    authorizer_calls: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def forged_tokens(api: Api) -> list[str]:
    """One forged admin token per trick the attack labs teach, aimed at this API."""
    now = int(time.time())
    claims = {
        "iss": api.idp.issuer,
        "sub": "mallory",
        "aud": api.idp.audience,
        "iat": now,
        "exp": now + 600,
        "jti": "forged",
        "role": "admin",
        "scope": "profile predict",
    }
    honest = api.idp.issue("alice", "reader", ("profile",))
    jwks = requests.get(f"{api.url}/.well-known/jwks.json", timeout=10).json()
    forged = [f.token for f in none.forge_none(claims)]
    forged += [
        none.forge_tampered(honest, claims).token,
        none.forge_empty_signature(claims, alg="RS256").token,
        none.forge_empty_secret(claims).token,
        injection.forge_jwk(claims).token,
        injection.forge_jku(claims, "http://127.0.0.1:9/jwks.json", kid=api.idp.kid).token,
        injection.forge_kid_traversal(claims).token,
        injection.forge_kid_sql(claims).token,
        psychic.forge(claims, header={"kid": api.idp.kid}).token,
    ]
    forged += [f.token for f in confusion.forge_confusion(jwks, claims)]
    forged.append(sign_token(claims, presets.WEAK_SECRET, "HS256"))
    return forged


def _valid_tokens(api: Api, count: int) -> list[str]:
    users = (("alice", "wonderland"), ("bob", "builder"))
    tokens = []
    for index in range(count):
        username, password = users[index % 2]
        body = {"username": username, "password": password}
        tokens.append(
            requests.post(f"{api.url}/login", json=body, timeout=10).json()["access_token"]
        )
    return tokens


def run(
    *, total: int = 2000, clients: int = 50, cache_ttl: float = 300, seed: int = 1
) -> LoadResult:
    """Serve the hardened preset and send ``total`` requests from ``clients`` threads."""
    with serve("hardened", cache_ttl=cache_ttl) as api:
        forged = forged_tokens(api)
        valid = _valid_tokens(api, 20)
        rng = random.Random(seed)
        plan = [
            (rng.choice(forged), True) if i % 2 else (rng.choice(valid), False)
            for i in range(total)
        ]
        rng.shuffle(plan)
        local = threading.local()

        def send(item: tuple[str, bool]) -> tuple[int, bool]:
            token, is_forged = item
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            path = "/api/admin" if is_forged else "/api/profile"
            response = session.get(
                f"{api.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            return response.status_code, is_forged

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            answers = list(pool.map(send, plan))
        seconds = time.perf_counter() - started
        calls = api.gateway.authorizer_calls
    statuses = Counter(status for status, _ in answers)
    return LoadResult(
        cache_ttl=cache_ttl,
        requests=total,
        clients=clients,
        seconds=seconds,
        statuses=statuses,
        server_errors=sum(n for status, n in statuses.items() if status >= 500),
        forged_accepted=sum(1 for status, f in answers if f and status < 400),
        valid_refused=sum(1 for status, f in answers if not f and status != 200),
        authorizer_calls=calls,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args(argv)
    results = [run(total=args.requests, clients=args.clients, cache_ttl=ttl) for ttl in (300, 0)]
    print(
        f"hardened preset, {args.requests} requests (half forged: "
        f"{len(set(forged_kinds()))} forgery kinds), {args.clients} concurrent clients"
    )
    head = ("cache", "requests/s", "authorizer calls", "5xx", "forged accepted")
    print(f"{head[0]:<10} {head[1]:>10} {head[2]:>17} {head[3]:>5} {head[4]:>16}")
    for r in results:
        label = f"on ({r.cache_ttl:g} s)" if r.cache_ttl else "off"
        print(
            f"{label:<10} {r.rate:>10.0f} {r.authorizer_calls:>17} {r.server_errors:>5} "
            f"{r.forged_accepted:>16}"
        )
    on, off = results
    print(f"cache on / cache off: {on.rate / off.rate:.2f}x")
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted((on.statuses + off.statuses).items()))
    print(f"statuses over both runs: {statuses}")
    bad = sum(r.server_errors + r.forged_accepted + r.valid_refused for r in results)
    return 1 if bad else 0


def forged_kinds() -> list[str]:
    """Names of the forgery kinds ``forged_tokens`` sends (for the report line)."""
    return [
        "alg none (4 casings)",
        "tampered payload",
        "empty signature",
        "empty secret",
        "jwk injection",
        "jku injection",
        "kid traversal",
        "kid SQL injection",
        "psychic signature",
        "key confusion",
        "weak secret",
    ]


if __name__ == "__main__":
    sys.exit(main())
