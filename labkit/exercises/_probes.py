"""Helpers the checks of notebooks 04-07 share: untouched starters and rigged randomness.

Not an exercise bank (``labkit.exercises`` loads only the modules it lists).

``is_starter`` tells the untouched starter function apart from a learner's own
function that happens to return None: only the first is "not attempted".

``rigged`` runs a learner's secret maker with the operating system's CSPRNG
replaced by a deterministic stream the check controls, and the clock and the
``random`` module pinned. That is how 05.4 proves where a secret's randomness
comes from: the output must change with the CSPRNG bytes, and with at least
32 of them (256 bits), rather than merely look random.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

__all__ = ["Stream", "is_starter", "rigged"]


@cache
def _starter_code(starter: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(starter, namespace)  # the kit's own starter text, never the learner's
    return namespace["answer"].__code__


def is_starter(answer: Any, starter: str) -> bool:
    """True if ``answer`` is the function ``starter`` defines, unedited (same bytecode)."""
    code = getattr(answer, "__code__", None)
    if code is None:
        return False
    reference = _starter_code(starter)
    fields = ("co_code", "co_consts", "co_names", "co_varnames", "co_name")
    return all(getattr(code, name) == getattr(reference, name) for name in fields)


class Stream:
    """A deterministic stand-in for the OS CSPRNG: SHAKE-256 output, optionally one bit flipped.

    ``flip_bit`` (bit ``i % 8`` of byte ``i // 8``) is how a check asks "does this one bit
    of randomness reach the secret?": a byte's worth of flips would hide a function that
    keeps only some bits of each byte (``b % 2``, ``b & 0x7f``).
    ``drawn`` counts the bytes handed out, across every call, in order.
    """

    def __init__(self, seed: bytes, flip_bit: int | None = None) -> None:
        self._seed = seed
        self._flip = flip_bit
        self._buffer = bytearray()
        self.drawn = 0

    def read(self, size: int) -> bytes:
        """The next ``size`` bytes of the stream (what ``os.urandom(size)`` returns here)."""
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"negative or non-integer size {size!r}")
        end = self.drawn + size
        if end > len(self._buffer):
            more = max(end, 2 * len(self._buffer), 1024)
            self._buffer = bytearray(hashlib.shake_256(self._seed).digest(more))
            if self._flip is not None and self._flip // 8 < more:
                self._buffer[self._flip // 8] ^= 1 << (self._flip % 8)
        chunk = bytes(self._buffer[self.drawn : end])
        self.drawn = end
        return chunk


_FROZEN_SECONDS = 1767259800.0  # the notebooks' frozen clock, 2026-01-01T09:30:00Z
_CLOCKS: dict[str, Callable[[], Any]] = {
    "time": lambda: _FROZEN_SECONDS,
    "time_ns": lambda: int(_FROZEN_SECONDS) * 10**9,
    "monotonic": lambda: 1000.0,
    "monotonic_ns": lambda: 1000 * 10**9,
    "perf_counter": lambda: 1000.0,
    "perf_counter_ns": lambda: 1000 * 10**9,
    "process_time": lambda: 1.0,
    "process_time_ns": lambda: 10**9,
    "thread_time": lambda: 1.0,
    "thread_time_ns": lambda: 10**9,
}


@contextmanager
def rigged(stream: Stream | None, namespace: dict[str, Any] | None = None) -> Iterator[None]:
    """Within: OS randomness comes from ``stream``, clocks stand still, ``random`` is seeded.

    ``os.urandom``, ``os.getrandom`` and the ``random`` module's own reference to
    urandom (which ``random.SystemRandom`` and so ``secrets`` read) all draw from
    ``stream``. Names in ``namespace`` (the learner's globals) bound to any of the
    originals, as after ``from os import urandom``, are rebound too. With ``stream``
    None the OS CSPRNG stays as it is and only the clocks and ``random`` are pinned:
    a function that notices a watched ``os.urandom`` and falls back to ``random`` or a
    clock when it is not watched gives itself away there.
    """
    originals: dict[Any, Any] = {}
    patches: list[tuple[Any, str, Any]] = []
    if stream is not None:
        read = stream.read

        def urandom(size: int) -> bytes:
            return read(size)

        def getrandom(size: int, flags: int = 0) -> bytes:
            return read(size)

        for fake, real in ((urandom, os.urandom), (getrandom, getattr(os, "getrandom", None))):
            fake.__module__ = getattr(real, "__module__", fake.__module__)  # look like the OS's
        originals = {os.urandom: urandom, random._urandom: urandom}  # type: ignore[attr-defined]
        patches = [(os, "urandom", urandom), (random, "_urandom", urandom)]
        if hasattr(os, "getrandom"):
            originals[os.getrandom] = getrandom
            patches.append((os, "getrandom", getrandom))
    for name, frozen in _CLOCKS.items():
        if hasattr(time, name):
            originals[getattr(time, name)] = frozen
            patches.append((time, name, frozen))
    if namespace is not None:
        for name, value in list(namespace.items()):
            try:
                replacement = originals.get(value)
            except TypeError:  # unhashable values cannot be one of the originals
                continue
            if replacement is not None:
                patches.append((namespace, name, replacement))
    saved = [(target, name, _get(target, name)) for target, name, _ in patches]
    state = random.getstate()
    try:
        for target, name, value in patches:
            _set(target, name, value)
        random.seed(20260101)  # the Mersenne Twister, pinned: it must not be the source
        yield
    finally:
        for target, name, value in reversed(saved):
            _set(target, name, value)
        random.setstate(state)


def _get(target: Any, name: str) -> Any:
    return target[name] if isinstance(target, dict) else getattr(target, name)


def _set(target: Any, name: str, value: Any) -> None:
    if isinstance(target, dict):
        target[name] = value
    else:
        setattr(target, name, value)
