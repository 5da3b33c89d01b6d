"""A small run of bench/gateway_load.py: concurrent clients, no 5xx, no forged token accepted.

The bench itself (2,000 requests, 50 clients) prints the rates; this asserts behaviour only.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "gateway_load.py"


def load_bench(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[path.stem]
    return module


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    return load_bench(BENCH)


@pytest.mark.parametrize("ttl", [300, 0])
def test_mixed_load_has_no_5xx_and_accepts_no_forgery(bench, ttl: int) -> None:  # type: ignore[no-untyped-def]
    result = bench.run(total=200, clients=10, cache_ttl=ttl)
    assert result.server_errors == 0
    assert result.forged_accepted == 0
    assert result.valid_refused == 0
    assert sum(result.statuses.values()) == 200
    assert set(result.statuses) == {200, 401}
    if ttl:
        assert result.authorizer_calls < 200  # valid tokens hit the cache after their first call
    else:
        assert result.authorizer_calls == 200


def test_the_forgeries_cover_every_attack_kind(bench) -> None:  # type: ignore[no-untyped-def]
    from labkit.aws import serve

    with serve() as api:
        forged = bench.forged_tokens(api)
    assert len(forged) >= len(bench.forged_kinds())
    assert len(set(forged)) == len(forged)


def test_slow_clients_bench_runs_and_normal_clients_are_served() -> None:
    slow = load_bench(BENCH.with_name("slow_clients.py"))
    result = slow.run(total=40, clients=4, slow=3, interval=0.2, rounds=1, read_timeout=0.5)
    assert result.statuses == {200: 80}  # both phases: every normal request answered
    assert result.ratio > 0


def test_login_timing_bench_runs_every_kind_with_its_status() -> None:
    timing = load_bench(BENCH.with_name("login_timing.py"))
    result = timing.run(samples=2)  # raises SystemExit if any attempt got the wrong status
    assert {kind: len(values) for kind, values in result.samples.items()} == dict.fromkeys(
        timing.KINDS, 2
    )
