"""Dictionary attack on HMAC-signed JWTs (HS256, HS384, HS512).

An HS* signature lets anyone test a guessed secret offline: HMAC(guess,
header.payload) either equals the signature or it does not. No server sees the
guesses and no rate limit applies, so a secret a human chose falls to a wordlist.

The cracker is built to make that point with numbers. The token is parsed once;
each guess costs one HMAC assembled from two hash-object copies with the key
pads made by ``bytes.translate`` (RFC 2104 by hand: cheaper per key than
``hmac.digest``, whose per-call key set-up dominates), and one comparison of raw
digests. Wordlists are streamed in blocks of whole lines, and the blocks are
shared among one process per core; the first process to find the secret stops
them all.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import multiprocessing
import os
import signal
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources
from itertools import chain, combinations, islice
from multiprocessing.pool import Pool
from pathlib import Path
from typing import IO, Any

from labkit import tokens
from labkit.errors import DisallowedAlgorithmError, LabkitError, MalformedTokenError

__all__ = [
    "RULES",
    "CrackError",
    "CrackResult",
    "Progress",
    "Target",
    "bundled_wordlist",
    "crack",
    "default_processes",
    "mangle",
    "measure_rate",
]

RULES: tuple[str, ...] = ("case", "leet", "digits", "years")
"""Word-mangling rules, in the order they apply: see ``mangle``."""

Progress = Callable[[int, int], None]
"""A progress callback: called with (words read, guesses tried) so far, after each block."""

Words = str | os.PathLike[str] | Iterable[str | bytes]

_HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
_IPAD = bytes(byte ^ 0x36 for byte in range(256))  # RFC 2104: key XOR 0x36.., as a table
_OPAD = bytes(byte ^ 0x5C for byte in range(256))
_BOM = b"\xef\xbb\xbf"
# Work per task: big enough that passing it between processes costs little, small enough
# that the other processes stop soon after a find. With rules a word becomes ~1000 guesses.
_BLOCK_BYTES, _RULES_BLOCK_BYTES = 1 << 18, 1 << 8
MAX_WORD_BYTES = 1 << 16
"""The longest line a word list may hold: a longer one is not a word (``/dev/zero``, binaries)."""
_BATCH_WORDS, _RULES_BATCH_WORDS = 1 << 15, 1 << 5
_LEET = {ord(a): ord(b) for a, b in zip("aeios", "@310$", strict=True)}


class CrackError(LabkitError, ValueError):
    """The cracker cannot run: unreadable wordlist, unknown rule, bad process count."""


@dataclass(frozen=True)
class Target:
    """What every guess is tested against: the token's HS* alg, signing input and signature."""

    alg: str
    signing_input: bytes
    signature: bytes

    @classmethod
    def from_token(cls, token: str | bytes) -> Target:
        """Parse an HS256/384/512 token once; anything else raises a ``labkit`` error."""
        jws = tokens.parse(token)  # a JWT: header AND payload, through the one JSON boundary
        alg = jws.header.get("alg")
        if not isinstance(alg, str) or alg not in _HASHES:
            raise _not_hmac(alg)
        size = hashlib.new(_HASHES[alg]).digest_size
        if len(jws.signature) != size:
            raise MalformedTokenError(
                f"the signature is {len(jws.signature)} bytes; an {alg} signature is {size}",
                "no secret can produce it",
            )
        return cls(alg, jws.signing_input, jws.signature)

    def matches(self, secret: str | bytes) -> bool:
        """True if ``secret`` signed the token (one plain HMAC: the obvious, slower way)."""
        mac = hmac.digest(_as_bytes(secret), self.signing_input, _HASHES[self.alg])
        return hmac.compare_digest(mac, self.signature)


@dataclass(frozen=True)
class CrackResult:
    """How a crack ended: the secret (bytes, or None), guesses tried, wall-clock seconds.

    With several processes, ``guesses`` counts the blocks that finished before
    the find, so it is a lower bound and may differ from run to run.
    """

    secret: bytes | None
    guesses: int
    seconds: float
    alg: str
    processes: int

    @property
    def found(self) -> bool:
        """True if the secret was in the wordlist."""
        return self.secret is not None

    @property
    def empty(self) -> bool:
        """True if the word list held no words (blank lines aside): nothing was tried at all.

        "Not found" would be misleading then: a wrong path or an unread file object
        looks exactly like this, so callers should say so (``labkit crack`` does).
        """
        return self.secret is None and self.guesses == 0

    @property
    def text(self) -> str | None:
        """The secret as text (UTF-8; undecodable bytes shown as escapes)."""
        return None if self.secret is None else self.secret.decode("utf-8", "backslashreplace")

    @property
    def rate(self) -> float:
        """Guesses per second over the whole run, start-up included."""
        return self.guesses / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:  # always in ms: the form notebook output sanitizers mask
        took = f"{self.guesses:,} guesses, {self.seconds * 1000:.1f} ms"
        if self.empty:
            return f"{self.alg} secret not tried: the word list is empty ({took})"
        if self.secret is None:
            return f"{self.alg} secret not found ({took})"
        return f"{self.alg} secret found: {self.text!r} ({took})"


def crack(
    token: str | bytes | Target,
    words: Words | None = None,
    *,
    processes: int | None = None,
    rules: bool | str | Iterable[str] = False,
    progress: bool | Progress = False,
) -> CrackResult:
    """Try every word (and, with ``rules``, its variants) as the token's HMAC secret.

    ``words`` is a wordlist file (one candidate per line, read as bytes so any
    encoding works; blank lines skipped), an iterable of str/bytes, or None for
    the kit's bundled list. ``processes`` defaults to every core; an input that
    fits in one block runs in this process, as starting workers would cost more.
    ``progress=True`` shows a tqdm bar (stderr in a terminal, a widget in Jupyter).
    """
    target = token if isinstance(token, Target) else Target.from_token(token)
    names = _rule_names(rules)
    count = _process_count(processes)
    if not (isinstance(progress, bool) or progress is None or callable(progress)):
        raise CrackError("progress must be True, False or a callable(words, guesses)")
    start = time.perf_counter()
    with ExitStack() as stack:
        source = _open_source(words, names, stack)
        if source.single:
            count = 1
        pool = None if count == 1 else stack.enter_context(_pool(count, target, names))
        tally = _Tally(_reporter(progress, source.total, target.alg, names, stack))
        if pool is None:
            secret = _search(map(_Scanner(target, names).run, source.tasks), tally)
        else:
            secret = _search(pool.imap_unordered(_work, source.tasks), tally)
        tally.done(found=secret is not None)
    return CrackResult(secret, tally.guesses, time.perf_counter() - start, target.alg, count)


def mangle(word: str | bytes, rules: bool | str | Iterable[str] = True) -> Iterator[bytes]:
    """Yield ``word`` and its variants under the named ``RULES``, lazily, each once.

    - ``case``: as given, lower, Capitalized, UPPER
    - ``leet``: every combination of a->@, e->3, i->1, o->0, s->$ (either case)
    - ``digits``: append 0-9, 00-99, 123, 1234, 12345, 123456
    - ``years``: append 1980-2030

    These are the habits that turn "password" into "P@ssw0rd2024": a rule
    adds guesses, never entropy.
    """
    names = _rule_names(rules)
    suffixes = _suffixes(names)
    for form in _variants(_as_bytes(word), names):
        for suffix in suffixes:
            yield form + suffix


def bundled_wordlist() -> Path:
    """The kit's small wordlist of weak JWT secrets (see data/wordlists/README.md)."""
    return Path(str(resources.files("labkit").joinpath("data", "wordlists", "jwt-secrets.txt")))


def measure_rate(seconds: float = 0.25, alg: str = "HS256") -> float:
    """Guesses per second one process manages on this machine (for time-to-crack estimates)."""
    size = hashlib.new(_HASHES.get(alg, "sha256")).digest_size
    scanner = _Scanner(Target(alg, b"h" * 36 + b"." + b"p" * 100, b"\0" * size), ())
    words = [b"%012d" % n for n in range(20_000)]
    tried, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        tried += scanner.run(words)[1]
    return tried / elapsed


# The search --------------------------------------------------------------------------------------


class _Scanner:
    """Tests guesses against one target: built once per process, then fed tasks."""

    def __init__(self, target: Target, rules: tuple[str, ...]) -> None:
        name = _HASHES[target.alg]
        self._new = hashlib.new(name).copy  # copying an empty hash beats constructing one
        self._hash = partial(hashlib.new, name)
        self._block = hashlib.new(name).block_size
        self._message = target.signing_input
        self._signature = target.signature
        self._rules = rules

    def run(self, task: bytes | list[bytes]) -> tuple[int, int, bytes | None]:
        """Try one task (a block of lines, or a list of words): (lines, guesses, secret)."""
        lines = _lines(task) if isinstance(task, bytes) else task
        if not self._rules:
            tried, secret = self._try(list(filter(None, lines)))  # blank lines are not guesses
            read = len(lines) if secret is None else _lines_up_to(lines, tried)
            return read, tried, secret
        guesses = 0
        for number, word in enumerate(lines, start=1):
            if not word:
                continue
            tried, secret = self._try(_expand(word, self._rules))
            guesses += tried
            if secret is not None:
                return number, guesses, secret  # lines read so far: the bar stops where it found
        return len(lines), guesses, None

    def _try(self, guesses: list[bytes]) -> tuple[int, bytes | None]:
        keys = guesses
        if guesses and max(map(len, guesses)) > self._block:  # RFC 2104: long keys are hashed
            keys = [self._hash(g).digest() if len(g) > self._block else g for g in guesses]
        key = self._first_match(keys)
        if key is None:
            return len(guesses), None
        index = keys.index(key)
        return index + 1, guesses[index]

    def _first_match(self, keys: list[bytes]) -> bytes | None:
        # The hot loop: HMAC = H((K^opad) || H((K^ipad) || message)), K zero-padded to a block.
        # Padding after the XOR fills with 0x36 ("6") and 0x5c ("\\"), i.e. 0x00 XOR the pad.
        new, block, message, signature = self._new, self._block, self._message, self._signature
        for key in keys:
            inner = new()
            inner.update(key.translate(_IPAD).ljust(block, b"6"))
            inner.update(message)
            outer = new()
            outer.update(key.translate(_OPAD).ljust(block, b"\\"))
            outer.update(inner.digest())
            if outer.digest() == signature:
                return key
        return None


def _lines_up_to(lines: list[bytes], words: int) -> int:
    """How many lines it takes to reach the ``words``-th non-blank one (after a find only)."""
    seen = 0
    for number, line in enumerate(lines, start=1):
        seen += bool(line)
        if seen == words:
            return number
    return len(lines)


def _lines(block: bytes) -> list[bytes]:
    if b"\r" in block:  # Windows (or old Mac) line ends, a block's last one included
        return block.splitlines()
    return block.split(b"\n")  # the common case: the same lines, a little faster


_WORKER: _Scanner | None = None


def _start_worker(target: Target, rules: tuple[str, ...]) -> None:
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _WORKER = _Scanner(target, rules)


def _work(task: bytes | list[bytes]) -> tuple[int, int, bytes | None]:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.run(task)


@contextmanager
def _pool(count: int, target: Target, rules: tuple[str, ...]) -> Iterator[Pool]:
    pool = multiprocessing.get_context().Pool(count, _start_worker, (target, rules))
    try:
        yield pool
    finally:  # found, exhausted, failed or interrupted: no worker outlives the search
        pool.terminate()
        pool.join()


def _search(results: Iterable[tuple[int, int, bytes | None]], tally: _Tally) -> bytes | None:
    for lines, guesses, secret in results:
        tally.add(lines, guesses)
        if secret is not None:
            return secret
    return None


class _Tally:
    """Counts lines and guesses as tasks finish, and passes them to the progress report."""

    def __init__(self, report: _Report | None) -> None:
        self.words = self.guesses = 0
        self._report = report

    def add(self, words: int, guesses: int) -> None:
        self.words += words
        self.guesses += guesses
        if self._report is not None:
            self._report(self.words, self.guesses)

    def done(self, found: bool) -> None:
        if isinstance(self._report, _Bar):
            self._report.finish(found)


# Word sources ------------------------------------------------------------------------------------


@dataclass
class _Source:
    tasks: Iterator[bytes | list[bytes]]
    total: int | None  # lines, when known
    single: bool  # the whole input is one task: nothing to share among processes


def _open_source(words: Words | None, rules: tuple[str, ...], stack: ExitStack) -> _Source:
    if words is None:
        words = bundled_wordlist()
    if isinstance(words, (str, os.PathLike)):
        return _file_source(words, rules, stack)
    if isinstance(words, (bytes, bytearray)):
        raise CrackError("words must be a wordlist path or an iterable of words, not bytes")
    if not isinstance(words, io.TextIOBase) and callable(getattr(words, "read", None)):
        return _stream_source(words, rules)  # a binary file object: read in blocks, like a path
    return _iterable_source(words, rules)  # text files, lists, generators: one word per item


def _file_source(path: str | os.PathLike[str], rules: tuple[str, ...], stack: ExitStack) -> _Source:
    try:
        file = stack.enter_context(open(path, "rb"))  # noqa: SIM115 - closed by the stack
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return _stream_source(file, rules)  # a pipe or device: no counting, no seeking
        total, size = _count_lines(file)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CrackError(f"cannot read the wordlist {os.fsdecode(path)!r}: {reason}") from None
    block = _RULES_BLOCK_BYTES if rules else _BLOCK_BYTES
    return _Source(_blocks(file, block), total, size <= block)


def _stream_source(file: Any, rules: tuple[str, ...]) -> _Source:
    """An open binary file (or pipe): blocks of whole lines, with no length known up front."""
    try:
        sample = file.read(0)
    except (OSError, ValueError) as exc:  # closed, or opened for writing only
        raise CrackError(f"cannot read the word list file object: {exc}") from None
    if not isinstance(sample, bytes):
        return _iterable_source(file, rules)  # a text file object that is not a TextIOBase
    blocks = _blocks(file, _RULES_BLOCK_BYTES if rules else _BLOCK_BYTES)
    first = next(blocks, b"")
    second = next(blocks, None)
    if second is None:
        return _Source(iter([first]), None, True)
    return _Source(chain([first, second], blocks), None, False)


def _count_lines(file: IO[bytes]) -> tuple[int, int]:
    newlines = size = 0
    last = b""
    for block in iter(partial(file.read, 1 << 20), b""):
        newlines += block.count(b"\n")
        size += len(block)
        last = block[-1:]
    file.seek(0)
    return newlines + (size > 0 and last != b"\n"), size


def _blocks(file: IO[bytes], size: int) -> Iterator[bytes]:
    """The file as blocks of whole lines, each without its final newline."""
    pending = b""
    first = True
    while more := file.read(size):
        if first:  # a UTF-8 byte order mark is not part of the first word
            more, first = more.removeprefix(_BOM), False
        pending += more
        cut = pending.rfind(b"\n")
        if cut >= 0:
            yield pending[:cut]
            pending = pending[cut + 1 :]
        if len(pending) > MAX_WORD_BYTES:  # /dev/zero, a binary file: no line end in sight
            raise CrackError(f"a line of the word list is over {MAX_WORD_BYTES} bytes: not a word")
    if pending:
        yield pending


def _iterable_source(words: Iterable[str | bytes], rules: tuple[str, ...]) -> _Source:
    try:
        iterator = iter(words)
    except TypeError:
        kind = type(words).__name__
        message = f"words must be a wordlist path or an iterable of words, not {kind}"
        raise CrackError(message) from None
    batches = _batches(iterator, _RULES_BATCH_WORDS if rules else _BATCH_WORDS)
    first = next(batches, [])
    second = next(batches, None)
    if second is None:
        return _Source(iter([first]), len(first), True)
    total = len(words) if isinstance(words, Sized) else None
    return _Source(chain([first, second], batches), total, False)


def _batches(words: Iterator[Any], size: int) -> Iterator[list[bytes]]:
    """Lists of words as bytes, each without its line end (and the first without a BOM).

    Lines read from a file object keep their ``\\n`` or ``\\r\\n``; a word never does.
    """
    first = True
    while batch := [_word(word) for word in islice(words, size)]:
        if first:
            batch[0], first = batch[0].removeprefix(_BOM), False
        yield batch


def _word(word: Any) -> bytes:
    raw = _as_bytes(word)
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    return raw[:-1] if raw.endswith(b"\r") else raw


def _as_bytes(word: Any) -> bytes:
    if isinstance(word, str):
        return word.encode("utf-8", "surrogateescape")
    if isinstance(word, (bytes, bytearray, memoryview)):
        return bytes(word)
    raise CrackError(f"a word must be str or bytes, got {type(word).__name__}")


# Rules -------------------------------------------------------------------------------------------


def _rule_names(rules: bool | str | Iterable[str] | None) -> tuple[str, ...]:
    if rules is True:
        return RULES
    if rules is False or rules is None:
        return ()
    names = (rules,) if isinstance(rules, str) else tuple(rules)
    for name in names:
        if name not in RULES:
            raise CrackError(f"unknown rule {name!r}; the rules are {', '.join(RULES)}")
    return tuple(name for name in RULES if name in names)


def _expand(word: bytes, rules: tuple[str, ...]) -> list[bytes]:
    suffixes = _suffixes(rules)
    return [form + suffix for form in _variants(word, rules) for suffix in suffixes]


def _variants(word: bytes, rules: tuple[str, ...]) -> list[bytes]:
    forms = [word]
    if "case" in rules:
        forms += [word.lower(), word.capitalize(), word.upper()]
    if "leet" in rules:
        forms += [leet for form in forms for leet in _leets(form)]
    return list(dict.fromkeys(forms))


def _leets(word: bytes) -> Iterator[bytes]:
    lower = word.lower()
    present = tuple(letter for letter in _LEET if letter in lower)
    for size in range(1, len(present) + 1):
        for letters in combinations(present, size):
            yield word.translate(_leet_table(letters))


@cache
def _leet_table(letters: tuple[int, ...]) -> bytes:
    plain = bytes(letters)
    swaps = bytes(_LEET[letter] for letter in letters)
    return bytes.maketrans(plain + plain.upper(), swaps + swaps)


@cache
def _suffixes(rules: tuple[str, ...]) -> tuple[bytes, ...]:
    out = [b""]
    if "digits" in rules:
        out += [b"%d" % n for n in range(10)] + [b"%02d" % n for n in range(100)]
        out += [b"123", b"1234", b"12345", b"123456"]
    if "years" in rules:
        out += [b"%d" % year for year in range(1980, 2031)]
    return tuple(dict.fromkeys(out))


# Progress and checks -----------------------------------------------------------------------------


class _Bar:
    """A tqdm.auto bar: text on stderr in a terminal, an ipywidgets bar in Jupyter.

    At a find the bar stops at the real count (words read up to the secret, out of
    the list's total), marked found: never 0%, never a pretend 100%. In Jupyter the
    bar is shown through a display handle and updated at the end, so the text a
    saved notebook keeps is the final state, not the empty bar it started as.
    """

    def __init__(self, total: int | None, alg: str, rules: bool) -> None:
        from tqdm.auto import tqdm  # imported on use: the cracker runs without a bar too

        big = total is None or total >= 100_000  # show 1.2M words, not 1234567 words
        notebook = _notebook_tqdm(tqdm)
        self._bar = tqdm(
            total=total,
            desc=f"crack {alg}",
            unit="word",
            unit_scale=big,
            disable=None,
            **({"display": False} if notebook else {}),
        )
        self._rules = rules
        self._found = False
        self._handle: Any = None
        if notebook and not self._bar.disable:
            from IPython.display import display

            self._handle = display(self._bar.container, display_id=True)
            self._bar.displayed = True

    def __call__(self, words: int, guesses: int) -> None:
        if self._rules:
            self._bar.set_postfix(guesses=f"{guesses:,}", refresh=False)
        self._bar.update(words - self._bar.n)

    def finish(self, found: bool) -> None:
        """Mark the outcome; the count stays where the search stopped."""
        self._found = found
        if found and not self._bar.disable:
            postfix = getattr(self._bar, "postfix", None)
            self._bar.set_postfix_str(f"{postfix}, found" if postfix else "found", refresh=False)

    def close(self) -> None:
        self._bar.close()
        if self._handle is None:
            return
        if self._found:  # tqdm paints a bar that stopped short red; a find is a success
            self._bar.container.children[1].bar_style = "success"
        self._handle.update(self._bar.container)


def _notebook_tqdm(tqdm_class: type) -> bool:
    try:
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:  # pragma: no cover - tqdm always ships it
        return False
    return issubclass(tqdm_class, notebook_tqdm)


_Report = Progress | _Bar


def _reporter(
    progress: bool | Progress, total: int | None, alg: str, rules: tuple[str, ...], stack: ExitStack
) -> _Report | None:
    if progress is True:
        bar = _Bar(total, alg, bool(rules))
        stack.callback(bar.close)
        return bar
    return progress if callable(progress) else None


def _process_count(processes: int | None) -> int:
    if processes is None:
        return default_processes()
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise CrackError(f"processes must be a whole number of at least 1, got {processes!r}")
    return processes


def default_processes() -> int:
    """How many processes ``crack`` starts by default: the cores this process may use."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+: honours affinity and limits
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _not_hmac(alg: object) -> LabkitError:
    if isinstance(alg, str) and alg.lower() == "none":
        return DisallowedAlgorithmError(
            f"the token's alg is {alg!r}: it is unsigned, so there is no secret to crack"
        )
    families = ("RS", "PS", "ES", "Ed")
    if isinstance(alg, str) and alg.startswith(families):
        return DisallowedAlgorithmError(
            f"the token is {alg}, signed with a private key; only HS256/HS384/HS512 use a secret",
            "no wordlist can guess a private key",
        )
    return DisallowedAlgorithmError(
        f"the token's alg is {alg!r}; only HS256, HS384 and HS512 tokens can be cracked"
    )
