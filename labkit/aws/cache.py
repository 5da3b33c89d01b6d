"""API Gateway's authorizer cache: one answer per identity source, kept for a TTL.

API Gateway caches what the Lambda authorizer returned, keyed by the identity
source values (the ``Authorization`` header, say), for ``ttl`` seconds:
300 by default, 0 to disable, 3600 at most. While an answer is cached the
authorizer is not called, which is what makes caching both cheap and
treacherous:

- a token revoked at logout keeps working until its cached policy expires;
- a policy that allowed only the ``methodArn`` it was asked about is reused
  for the next path the same token calls, and denies it;
- an HTTP API simple response (``isAuthorized``) is one verdict for every
  route, unless ``$context.routeKey`` is among the identity sources, which
  puts the route in the key: AWS's documented fix ("To cache responses per
  route, add $context.routeKey to your authorizer's identity sources",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).

Only answers are cached (policies, simple responses): a 401 ("Unauthorized")
or an authorizer failure is not, so the next request asks again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from labkit.aws.clock import Clock, system_clock
from labkit.errors import ConfigurationError

__all__ = ["DEFAULT_TTL", "MAX_TTL", "CacheStats", "PolicyCache"]

DEFAULT_TTL = 300
"""API Gateway's default authorizer result TTL, in seconds."""
MAX_TTL = 3600
"""The longest TTL API Gateway allows."""

T = TypeVar("T")


@dataclass(frozen=True)
class CacheStats:
    """How the cache has served so far."""

    hits: int
    misses: int
    size: int


class PolicyCache(Generic[T]):
    """A thread-safe TTL cache of authorizer answers, on an injectable clock."""

    def __init__(
        self, ttl: float = DEFAULT_TTL, *, clock: Clock = system_clock, size: int = 10_000
    ):
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 <= ttl <= MAX_TTL:
            raise ConfigurationError(
                f"the authorizer cache TTL must be 0 to {MAX_TTL} seconds, got {ttl!r}",
                "0 disables caching, as in API Gateway",
            )
        self.ttl = float(ttl)
        self._clock = clock
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: Hashable) -> T | None:
        """The cached answer for ``key`` if it has not expired; None (a miss) otherwise."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._clock() < entry[0]:
                self._hits += 1
                return entry[1]
            if entry is not None:
                del self._entries[key]
            self._misses += 1
            return None

    def put(self, key: Hashable, value: T) -> None:
        """Keep ``value`` for ``key`` until now + TTL (nothing happens with TTL 0)."""
        if not self.enabled:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer (API Gateway's "flush authorizer cache")."""
        with self._lock:
            self._entries.clear()

    @property
    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._entries))

    def __repr__(self) -> str:
        stats = self.stats
        return (
            f"PolicyCache(ttl={self.ttl:g}s, hits={stats.hits}, misses={stats.misses}, "
            f"entries={stats.size})"
        )
