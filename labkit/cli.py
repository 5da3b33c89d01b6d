"""The ``labkit`` command line.

Each command is one small function; every error the kit raises on purpose is
printed as one line on stderr with a non-zero exit code, never a traceback.

Exit codes: 0 ok, 1 a verdict (malformed or invalid token, secret not found,
findings), 2 usage (bad options, unreadable files, a key that cannot work),
130 interrupted, 141 stdout closed early (``labkit decode ... | head``: the
shell's own code for a writer stopped by SIGPIPE, 128 + 13, without its noise),
70 an unexpected error (a bug in the kit: one line saying so, please report it).
A token argument ``-`` is read from stdin (at most 1 MiB) before the command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import json
import math
import os
import re
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, NoReturn

from labkit import __version__, tokens
from labkit.algorithms import ALGORITHMS
from labkit.attacks import crack as cracking
from labkit.errors import (
    ConfigurationError,
    InvalidTokenError,
    KeyFormatError,
    LabkitError,
    MalformedTokenError,
    UnsafeKeyError,
)
from labkit.keys import load_pem
from labkit.verify import verify as verify_token
from labkit.verify import verify_jws

__all__ = ["main"]

# Exit codes shared by every command.
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_BUG, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 70, 130, 141
MAX_INPUT_BYTES = 1 << 20
"""Most bytes read from stdin or from a key file: tokens and keys are far smaller."""

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    with _closed_streams_stood_in():
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command = args.run
    try:
        _read_stdin_token(args)
        code = command(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except MalformedTokenError as exc:
        _error(args.command, f"malformed token: {exc}")
        return EXIT_FAIL
    except LabkitError as exc:
        _error(args.command, _flags_named(str(exc)))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error(args.command, "interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line, and a way to report it
        _error(
            args.command,
            f"unexpected {type(exc).__name__} (a bug in the kit, please report it): {exc}",
        )
        return EXIT_BUG


class _ClosedStdout(io.TextIOBase):
    """Stands in for a stdout the shell closed (``labkit decode T >&-``): writing is EPIPE.

    Python leaves ``sys.stdout`` None then, and every print would be an
    AttributeError (exit 70); as a broken pipe, it is exit 141 like ``| head``.
    Flushing nothing is fine, so the interpreter's final flush stays quiet.
    """

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "stdout is closed")

    @property
    def buffer(self) -> _ClosedStdout:  # crack writes the secret's bytes to stdout.buffer
        return self


class _SafeStderr:
    """stderr for the length of ``main``: a message that cannot be written is dropped.

    Closed (``2>&-``: None in ``sys``, where ``print(file=None)`` would write the
    message to stdout) or unusable (a stale descriptor: ``EBADF``), stderr must
    never turn a verdict into exit 70. Everything else is the real stream's.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if self._stream is not None:
            with contextlib.suppress(OSError, ValueError):
                return int(self._stream.write(text))
        return len(text)

    def flush(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(OSError, ValueError):
                self._stream.flush()

    def isatty(self) -> bool:
        try:
            return bool(self._stream.isatty())
        except (AttributeError, OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


@contextlib.contextmanager
def _closed_streams_stood_in() -> Iterator[None]:
    """While ``main`` runs: a closed stdout is a broken pipe, stderr never fails."""
    saved = sys.stdout, sys.stderr
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    sys.stderr = _SafeStderr(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        if isinstance(sys.stdout, _ClosedStdout):
            sys.stdout = saved[0]
        if isinstance(sys.stderr, _SafeStderr):
            sys.stderr = saved[1]


def _error(command: str, message: str) -> None:
    """One line on stderr (stderr escapes what it cannot encode, so this never fails)."""
    line = " ".join(message.splitlines())
    with contextlib.suppress(OSError, ValueError):  # stderr closed too: nothing left to tell
        print(f"labkit {command}: {line}", file=sys.stderr, flush=True)


def _stdout_closed() -> int:
    """Quiet exit when the reader of stdout went away (Python docs' SIGPIPE recipe)."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush is silent
        os.close(devnull)
    return EXIT_BROKEN_PIPE


def _read_stdin_token(args: argparse.Namespace) -> None:
    """Replace a token argument ``-`` by what stdin holds, read as bytes, bounded, stripped."""
    if getattr(args, "token", None) != "-":
        return
    if sys.stdin is None:  # started with stdin closed (<&-)
        raise ConfigurationError("the token is '-', but stdin is closed: nothing to read")
    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = stream.read(MAX_INPUT_BYTES + 1) if stream is not None else sys.stdin.read()
    except (OSError, ValueError) as exc:  # a directory, a closed or unreadable descriptor
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigurationError(f"the token is '-', but stdin cannot be read: {reason}") from None
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")  # non-ASCII is refused by the parser, by position
    if len(data) > MAX_INPUT_BYTES:
        raise MalformedTokenError(f"stdin holds over {MAX_INPUT_BYTES} bytes: not a token")
    args.token = data.strip()


_FLAGS = {
    "audience": "--aud",
    "issuer": "--iss",
    "leeway": "--leeway",
    "algorithms": "--alg",
    "required": "--require",
    "require_exp": "--no-require-exp",
    "port": "--port",
    "cache_ttl": "--cache-ttl",
    "the authorizer cache TTL": "--cache-ttl",
    "timeout": "--timeout",
    "header": "--header",
    "cookie": "--cookie",
}
_OPTION_WORD = re.compile(rf"^({'|'.join(re.escape(name) for name in _FLAGS)})(?=[=]| must )")


def _flags_named(message: str) -> str:
    """Name the flag where a library message names its Python option (``leeway must ...``)."""
    return _OPTION_WORD.sub(lambda match: _FLAGS[match.group(1)], message, count=1)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in one line like every other error (exit 2)."""

    def error(self, message: str) -> NoReturn:
        line = " ".join(f"{self.prog}: {message} (see {self.prog} --help)".splitlines())
        self.exit(EXIT_USAGE, line + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="labkit", description="JWT Lab Kit: inspect, sign, attack and defend JSON Web Tokens."
    )
    parser.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_decode(sub)
    _add_verify(sub)
    _add_crack(sub)
    _add_serve(sub)
    _add_workshop(sub)
    _add_scan(sub)
    return parser


def _add_decode(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("decode", help="show a token's header and payload (no verification)")
    p.add_argument("token", help="a compact JWT, or - to read it from stdin")
    p.set_defaults(run=_decode)


def _decode(args: argparse.Namespace) -> int:
    """Exit 0 with the header, payload and warnings; 1 (one line) for a malformed token."""
    token = tokens.parse(args.token)
    out = {
        "header": token.header,
        "payload": token.payload,
        "signature_bytes": len(token.signature),
        "warnings": tokens.lint(token),
        "verified": False,
    }
    print(json.dumps(out, indent=2))
    return EXIT_OK


def _add_verify(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "verify",
        help="verify a token with the hardened verifier; claims as JSON",
        epilog="exit 0 valid (claims on stdout), 1 invalid (one-line reason), "
        "2 usage: bad flags, an unreadable key file, or a key that cannot verify --alg",
    )
    p.add_argument("token", help="a compact JWT, or - to read it from stdin")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--secret", metavar="S", help="the HMAC secret (text)")
    source.add_argument("--key", metavar="PEM", help="a PEM file: public key or certificate")
    source.add_argument("--jwks", metavar="FILE", help="a JWK Set file; the token's kid picks")
    p.add_argument(
        "--alg",
        action="append",
        required=True,
        choices=ALGORITHMS,
        metavar="ALG",
        help=f"an allowed algorithm, repeat for more: {', '.join(ALGORITHMS)}",
    )
    p.add_argument("--aud", metavar="A", help="the audience this service answers to")
    p.add_argument("--iss", metavar="I", help="the one issuer to trust (exact match)")
    p.add_argument(
        "--leeway", type=_seconds(0, 86_400), default=0.0, metavar="S", help="clock skew, seconds"
    )
    p.add_argument(
        "--require",
        action="append",
        metavar="CLAIM",
        help="a claim that must be present, repeat for more; exp is always required as well",
    )
    p.add_argument(
        "--no-require-exp",
        action="store_true",
        help="accept tokens without exp (tokens that never expire: think twice)",
    )
    p.set_defaults(run=_verify)


def _verify(args: argparse.Namespace) -> int:
    """Exit 0 with the claims, 1 with the one-line reason the token is refused, 2 on bad input."""
    try:
        key = _verify_key(args)
    except (OSError, KeyFormatError) as exc:
        problem = (exc.strerror or exc) if isinstance(exc, OSError) else exc
        source = args.key or args.jwks or "--secret"
        _error("verify", f"cannot read {source}: {problem}")
        return EXIT_USAGE
    problem = _key_problem(key, args.alg)
    if problem is not None:  # the key cannot verify any --alg: fix the key, whatever the token
        _error("verify", f"key problem: {problem}")
        return EXIT_USAGE
    try:
        claims = verify_token(
            args.token,
            key,
            algorithms=args.alg,
            audience=args.aud,
            issuer=args.iss,
            leeway=args.leeway,
            **verify_options(args),
        )
    except InvalidTokenError as exc:  # an unknown kid too: the token names a key not given
        _error("verify", f"invalid token: {exc}")
        return EXIT_FAIL
    print(json.dumps(claims, indent=2))
    return EXIT_OK


def _key_problem(key: object, algs: Sequence[str]) -> UnsafeKeyError | None:
    """Why ``key`` can verify none of ``algs``, or None if it can verify one of them.

    Asked of the verifier itself with a probe token per algorithm, so the CLI
    never re-implements its key rules. A token whose alg the key does not fit
    (key confusion) stays an invalid token: the key is fine for another --alg.
    """
    first: UnsafeKeyError | None = None
    for alg in algs:
        probe = tokens.encode({"alg": alg}, b"", b"\0" * 64)
        try:
            verify_jws(probe, key, algorithms=[alg])  # type: ignore[arg-type]
        except UnsafeKeyError as exc:
            first = first or exc
            continue
        except InvalidTokenError:  # bad signature, no kid to pick a key: the key itself is usable
            return None
        return None  # pragma: no cover - a zero signature never verifies
    return first


def verify_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--require``/``--no-require-exp`` as ``labkit.verify`` options, passed only when given.

    ``required`` names claims required in addition to ``exp``; only
    ``require_exp=False`` drops ``exp``, and only ``--no-require-exp`` asks for it.
    """
    options: dict[str, Any] = {}
    if args.require:
        options["required"] = tuple(args.require)
    if args.no_require_exp:
        options["require_exp"] = False
    return options


def _verify_key(args: argparse.Namespace) -> object:
    """The key as the command line names it; reading it is the CLI's job, judging it verify's."""
    if args.secret is not None:  # the exact bytes typed, also when they are not UTF-8
        try:
            return os.fsencode(args.secret)
        except UnicodeEncodeError:  # only from a caller of main(), never from a real argv
            raise KeyFormatError("--secret holds a lone UTF-16 surrogate: not text") from None
    if args.key is not None:
        return load_pem(_read_bytes(args.key))  # KeyFormatError for anything but a PEM key
    return tokens.load_json(_read_bytes(args.jwks), "JWKS file", error=KeyFormatError)


def _read_bytes(path: str) -> bytes:
    """A small input file's bytes; OSError if it cannot be read, KeyFormatError if too big."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise KeyFormatError(f"the file is over {MAX_INPUT_BYTES} bytes: not a key")
    return data


def _seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds from ``low`` to ``high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:  # also refuses nan and inf
            raise argparse.ArgumentTypeError(f"must be {low:g} to {high:g} seconds, got {text!r}")
        return value

    return parse


def _port(text: str) -> int:
    """An argparse type: a TCP port, 0 for one the OS picks."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535 (0: the OS picks), got {text!r}")
    return value


def _add_crack(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("crack", help="dictionary attack on an HS256/HS384/HS512 token's secret")
    p.add_argument("token", help="a compact JWT, or - to read it from stdin")
    p.add_argument(
        "--wordlist",
        metavar="FILE",
        help="candidate secrets, one per line (default: the kit's bundled list of weak secrets)",
    )
    p.add_argument(
        "--processes", type=int, metavar="N", help="worker processes (default: all cores)"
    )
    p.add_argument(
        "--rules",
        action="store_true",
        help="also try case, leetspeak, appended digits and years variants of every word",
    )
    p.set_defaults(run=_crack)


def _crack(args: argparse.Namespace) -> int:
    """Exit 0 printing the secret, 1 if no candidate matches, 2 on bad input.

    Every ``labkit`` error about the token (malformed, unparsable, not HMAC) is bad
    input, not a verdict: one line and exit 2. An empty word list is said as such.
    """
    raw = args.token  # a "-" was replaced by stdin's content before the command ran
    try:
        target = cracking.Target.from_token(raw)
    except MalformedTokenError as exc:  # bad input here, not a verdict on the token
        print(f"labkit crack: malformed token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LabkitError as exc:
        print(f"labkit crack: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with _word_source(args.wordlist) as words:
        result = cracking.crack(
            target, words, processes=args.processes, rules=args.rules, progress=True
        )
    took = f"{result.guesses:,} guesses in {result.seconds:.2f} s"
    if result.empty:
        where = args.wordlist or "the bundled list"
        print(f"labkit crack: warning: {where} has no words: nothing was tried", file=sys.stderr)
        return EXIT_FAIL
    if result.secret is None:
        print(f"labkit crack: secret not found ({took})", file=sys.stderr)
        return EXIT_FAIL
    print(f"labkit crack: secret found ({took})", file=sys.stderr)
    sys.stdout.flush()
    sys.stdout.buffer.write(result.secret + b"\n")  # the exact bytes, whatever their encoding
    sys.stdout.flush()
    return EXIT_OK


MAX_WORD_BYTES = 1 << 16
"""Longest line read from a wordlist that is not a regular file (a pipe, a device)."""


@contextlib.contextmanager
def _word_source(path: str | None) -> Iterator[Any]:
    """``--wordlist`` as ``crack`` takes it: a regular file (or None) as its path, fast.

    Anything else that opens (a pipe such as ``--wordlist <(...)``, ``/dev/stdin``,
    a device) cannot be counted and rewound like a file, and may never end a line
    (``/dev/zero``): it is read line by line, each line bounded by MAX_WORD_BYTES.
    """
    if path is None or _regular_or_missing(path):
        yield path  # missing or unreadable: crack names the path and the reason
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the wordlist {path}: {exc.strerror or exc}"
        ) from None
    with stream:
        yield _bounded_lines(stream, path)


def _regular_or_missing(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode) or stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):  # missing, unreadable, a NUL in the name: crack says so
        return True


def _bounded_lines(stream: io.BufferedReader, path: str) -> Iterator[bytes]:
    while line := stream.readline(MAX_WORD_BYTES + 1):
        if len(line) > MAX_WORD_BYTES and not line.endswith(b"\n"):
            raise ConfigurationError(
                f"the wordlist {path} has a line over {MAX_WORD_BYTES} bytes: not a list of words"
            )
        yield line


def _add_workshop(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "workshop",
        help="the learner edition: build, check, reset a notebook; the room's progress",
        epilog="exit 0 ok, 1 problems found (check), 2 bad input (one line on stderr)",
    )
    tasks = p.add_subparsers(dest="task", required=True, metavar="TASK")
    build = tasks.add_parser("build", help="write learner copies: solutions out, outputs cleared")
    build.add_argument("outdir", help="the folder to write them to (outside the notebooks folder)")
    build.add_argument(
        "--force",
        action="store_true",
        help="overwrite learner notebooks in OUTDIR even if they were edited since the last build",
    )
    check = tasks.add_parser("check", help="every exercise has a task, a solution, a check, hints")
    reset = tasks.add_parser(
        "reset",
        help="restore one learner notebook as built; the learner's copy is kept as a backup",
    )
    reset.add_argument("notebook", metavar="NN", help="its number (05) or file name")
    reset.add_argument(
        "--dir",
        default="learner",
        metavar="DIR",
        help="the folder of learner notebooks (default: learner/)",
    )
    for task, run in ((build, _workshop_build), (check, _workshop_check), (reset, _workshop_reset)):
        task.add_argument(
            "--source", metavar="DIR", help="the instructor notebooks (default: ./notebooks)"
        )
        task.set_defaults(run=run)
    progress = tasks.add_parser(
        "progress",
        help="who passed which exercise, and where the room is stuck (LABKIT_PROGRESS_DIR)",
    )
    progress.add_argument("folder", metavar="DIR", help="the folder LABKIT_PROGRESS_DIR names")
    progress.add_argument("--json", action="store_true", help="print the report as JSON")
    progress.set_defaults(run=_workshop_progress)


def _workshop_build(args: argparse.Namespace) -> int:
    """Exit 0 listing what was written; 2 if the notebooks cannot be turned into an edition."""
    from labkit import workshop  # imported on use: nbformat is not needed by other commands

    written = workshop.build(args.outdir, args.source, force=args.force)
    print(f"labkit workshop: wrote {len(written)} learner notebooks to {args.outdir}")
    for path in written:
        print(f"  {path.name}")
    if written and (written[0].parent / ".gitignore").is_file():
        print("  .gitignore (*: git and ruff leave this generated folder alone)")
    return EXIT_OK


def _workshop_check(args: argparse.Namespace) -> int:
    """Exit 0 when every notebook has the workshop shape, 1 listing each problem on stderr."""
    from labkit import workshop

    paths = workshop.notebooks(args.source)
    problems = workshop.check(args.source)
    for problem in problems:
        print(f"labkit workshop check: {problem}", file=sys.stderr)
    if problems:
        return EXIT_FAIL
    count = sum(len(workshop.exercise_cells(workshop.read(path))) for path in paths)
    print(
        f"labkit workshop check: {len(paths)} notebooks, {count} exercises: objectives, minutes, "
        "key points, and for every exercise a task with hints, the bank's solution and a check"
    )
    return EXIT_OK


def _workshop_reset(args: argparse.Namespace) -> int:
    """Exit 0 saying what was restored and where the learner's copy is; 2 for bad input."""
    from labkit import workshop

    done = workshop.reset(args.notebook, args.dir, args.source)
    shown = os.path.join(args.dir, done.notebook.name)
    if not done.written:
        print(f"labkit workshop reset: {shown} is as built already (nothing to back up)")
        return EXIT_OK
    if done.backup is None:
        print(f"labkit workshop reset: restored {shown} (it was missing)")
        return EXIT_OK
    print(
        f"labkit workshop reset: restored {shown}; your copy is "
        f"{os.path.join(args.dir, done.backup.name)} (in JupyterLab: File > Reload Notebook "
        "from Disk)"
    )
    return EXIT_OK


def _workshop_progress(args: argparse.Namespace) -> int:
    """Exit 0 with the report (also when some lines were not records); 2 for a bad DIR."""
    from labkit import progress

    report = progress.read(args.folder)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return EXIT_OK
    text, encoding = report.text(), getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):  # a terminal without ✓: ASCII marks, names escaped
        text = report.text(plain=True).encode("ascii", "backslashreplace").decode("ascii")
    print(text)
    return EXIT_OK


def _add_serve(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve",
        help="run the local API Gateway, Lambda authorizer and IdP on 127.0.0.1",
        epilog="runs until Ctrl-C or SIGTERM (exit 0); 2 for contradictory options or a busy port",
    )
    # Defaults are applied in _serve_settings, so that options given explicitly can be told
    # from defaults: --list takes none, and some options only fit some modes.
    p.add_argument("--preset", metavar="NAME", help="default: hardened")
    p.add_argument("--list", action="store_true", help="list the presets, one per line, and exit")
    p.add_argument("--host", help="a loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=_port, help="default 0: the OS picks a free port")
    p.add_argument(
        "--mode",
        choices=("rest", "http", "jwt", "rest-jwt"),
        help="REST API + Lambda authorizer (default), HTTP API + Lambda, HTTP API + JWT "
        "authorizer, REST API + JWT authorizer",
    )
    p.add_argument(
        "--authorizer-type",
        choices=("TOKEN", "REQUEST"),
        help="the REST API's Lambda authorizer type (default TOKEN; --mode rest only)",
    )
    p.add_argument(
        "--cache-ttl",
        type=_seconds(0, 3600),
        metavar="S",
        help="Lambda authorizer result cache, 0 (off) to 3600 s (default 300; not the JWT modes)",
    )
    p.set_defaults(run=_serve)


_SERVE_OPTIONS = ("preset", "host", "port", "mode", "authorizer_type", "cache_ttl")


def _serve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The options with their defaults, or ConfigurationError naming the contradiction."""
    given = [name for name in _SERVE_OPTIONS if getattr(args, name) is not None]
    flags = ", ".join(f"--{name.replace('_', '-')}" for name in given)
    if args.list and given:
        raise ConfigurationError(f"--list takes no other options, got {flags}")
    mode = args.mode or "rest"
    preset = args.preset or "hardened"
    if args.authorizer_type is not None and mode != "rest":
        raise ConfigurationError(
            f"--authorizer-type is for --mode rest only, not --mode {mode}",
            "an HTTP API's Lambda authorizer always gets the whole request (payload 2.0), "
            "and --mode jwt and --mode rest-jwt have no Lambda authorizer",
        )
    if args.cache_ttl is not None and mode in ("jwt", "rest-jwt"):
        raise ConfigurationError(
            f"--cache-ttl is for Lambda authorizers; --mode {mode} (a JWT authorizer) caches "
            "no decisions"
        )
    if mode in ("jwt", "rest-jwt") and preset != "hardened":
        raise ConfigurationError(
            f"--mode {mode} works with --preset hardened only, not {preset!r}",
            "the vulnerable presets need a Lambda authorizer: use --mode rest or --mode http",
        )
    return {
        "preset": preset,
        "host": args.host or "127.0.0.1",
        "port": 0 if args.port is None else args.port,
        "mode": mode,
        "authorizer_type": args.authorizer_type or "TOKEN",
        "cache_ttl": 300.0 if args.cache_ttl is None else args.cache_ttl,
    }


def _serve(args: argparse.Namespace) -> int:
    """Print ``Serving on URL`` first, then serve until Ctrl-C or SIGTERM (exit 0)."""
    import logging

    from labkit.aws import presets, server  # werkzeug is imported only for this command

    settings = _serve_settings(args)
    if args.list:
        for preset in presets.available():
            print(f"{preset.name:<21} {preset.summary}")
        return EXIT_OK
    host, port = settings["host"], settings["port"]
    lab = server.create_lab(
        settings["preset"],
        mode=settings["mode"],
        authorizer_type=settings["authorizer_type"],
        cache_ttl=settings["cache_ttl"],
    )
    try:
        httpd = _listen(server, lab.gateway, host, port)
        with _stop_on_signals(httpd):
            try:
                url = server.url_of(host, httpd.server_port)
                server.publish(lab, url, discover=False)  # a REST JWT authorizer discovers lazily
                print(f"Serving on {url}", flush=True)
                logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
                print(
                    f"preset {settings['preset']}, {settings['mode']} API; DEMO ONLY users "
                    "alice/wonderland (reader), bob/builder (admin); Ctrl-C stops",
                    file=sys.stderr,
                    flush=True,
                )
                httpd.serve_forever()  # returns once a signal asked the server to shut down
            except KeyboardInterrupt:  # Ctrl-C where no handler could be set (not the main thread)
                pass
            finally:
                httpd.server_close()
        print("labkit serve: stopped", file=sys.stderr)
    finally:
        lab.close()
    return EXIT_OK


def _listen(server: Any, app: Any, host: str, port: int) -> Any:
    """``server.listen``; a busy port is one line that suggests ``--port 0``."""
    try:
        return server.listen(app, host, port, quiet=False)
    except ConfigurationError as exc:
        if "in use" not in exc.message:
            raise
        raise ConfigurationError(
            exc.message, "stop what uses it, or pass --port 0 to let the OS pick a free port"
        ) from None


@contextlib.contextmanager
def _stop_on_signals(httpd: Any) -> Iterator[None]:
    """SIGINT and SIGTERM stop the server, even where the parent left SIGINT ignored.

    A process started with SIGINT ignored (``nohup``, ``&`` in some shells, a test
    runner) inherits SIG_IGN, and Python then installs no KeyboardInterrupt
    handler: the server would never stop on Ctrl-C. So both are set explicitly,
    and the previous handlers restored afterwards. The handler asks the server to
    shut down from another thread (``shutdown`` waits for ``serve_forever`` to
    return) instead of raising in the main thread: an exception raised wherever the
    main thread happens to be (handing a connection to its thread, say) could be
    caught on the way and leave the server running.
    """

    def stop(signum: int, _frame: object) -> None:
        threading.Thread(target=httpd.shutdown, name="labkit-serve-stop", daemon=True).start()

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; a caller's thread keeps its own
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _add_scan(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "scan",
        help="run every attack of the kit against a JWT-protected URL (loopback by default)",
        epilog=SCAN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("url", help="the endpoint to test, e.g. http://127.0.0.1:8000/api/profile")
    p.add_argument("--token", required=True, help="a valid token for it, or - to read from stdin")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--header",
        default="Authorization",
        metavar="NAME",
        help="send the token in this header (default Authorization, as 'Bearer <token>')",
    )
    where.add_argument("--cookie", metavar="NAME", help="send the token in this cookie instead")
    p.add_argument(
        "--send-cookie",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a cookie the client sends beside the token (e.g. its fingerprint); repeatable",
    )
    p.add_argument(
        "--dpop-key",
        metavar="PEM",
        help="the private key a DPoP-bound token is bound to: every request carries a proof",
    )
    p.add_argument("--canary", metavar="TEXT", help="text only an authenticated answer contains")
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="scan this non-loopback host too (only with the owner's permission); repeatable",
    )
    p.add_argument(
        "--public-key", metavar="PEM", help="the RSA/EC public key for the confusion probe"
    )
    p.add_argument(
        "--expired-token", metavar="TOKEN", help="an expired token of the same service to replay"
    )
    p.add_argument(
        "--wordlist", metavar="FILE", help="secrets to try on HS tokens (default: bundled)"
    )
    p.add_argument(
        "--id-token", metavar="TOKEN", help="an ID token of the same issuer (token-type probes)"
    )
    p.add_argument(
        "--other-token",
        metavar="TOKEN",
        help="an access token of the same issuer for another API (cross-audience probe)",
    )
    p.add_argument(
        "--timeout",
        default="5",
        metavar="S",
        help="seconds per request, more than 0 and at most 60 (default 5)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--sarif",
        metavar="FILE",
        help="also write the report as SARIF 2.1.0 (GitHub code scanning); - for stdout",
    )
    p.add_argument(
        "--junit", metavar="FILE", help="also write one JUnit XML test case per probe; - for stdout"
    )
    p.set_defaults(run=_scan)


def _scan(args: argparse.Namespace) -> int:
    """Exit 0 when nothing got through, 1 with findings, 2 for bad input or a refused target."""
    from labkit import scan  # imported on use: requests is not needed by other commands
    from labkit.scan.redact import redacted_text, redacted_url

    try:
        timeout = float(args.timeout)
    except ValueError:
        timeout = float("nan")
    if not 0 < timeout <= scan.MAX_TIMEOUT:  # also refuses nan and inf
        print(
            f"labkit scan: --timeout must be more than 0 and at most {scan.MAX_TIMEOUT:g} "
            f"seconds, got {args.timeout!r}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    outputs = _scan_outputs(args)
    if outputs is None:
        return EXIT_USAGE
    raw = args.token  # a "-" was replaced by stdin's content before the command ran
    try:
        public_key = _read_bytes(args.public_key) if args.public_key else None
    except OSError as exc:
        print(f"labkit scan: cannot read {args.public_key}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    cookies = _send_cookies(args.send_cookie)
    if cookies is None:
        return EXIT_USAGE
    try:
        reminder = scan.check_target(args.url, args.allow_host)
        if reminder:
            print(f"labkit scan: {reminder}", file=sys.stderr)
        target = _scan_target(args, timeout)
        started = datetime.now(timezone.utc)
        report = scan.scan(
            target,
            raw,
            header=args.header,
            cookie=args.cookie,
            cookies=cookies,
            canary=args.canary,
            allow_hosts=args.allow_host,
            public_key=public_key,
            expired_token=args.expired_token,
            wordlist=args.wordlist,
            timeout=timeout,
            id_token=args.id_token,
            other_token=args.other_token,
        )
    except MalformedTokenError as exc:  # bad input here, not a verdict on the target
        print(f"labkit scan: malformed token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LabkitError as exc:  # the URL's credentials stay out of CI logs here too
        _error("scan", _flags_named(redacted_text(str(exc))))
        return EXIT_USAGE
    ended = datetime.now(timezone.utc)
    texts = _scan_reports(args, report, started, ended)
    written: list[str] = []
    for name, path in outputs.items():  # the files first: a full disk is exit 2, one line
        if path != "-":
            try:
                with _open_report(path) as handle:
                    handle.write(texts[name])
                written.append(path)
            except OSError as exc:
                reason = exc.strerror or exc
                _error("scan", f"cannot write --{name} {_shown_path(path)}: {reason}")
                _remove_reports([*written, path])  # exit 2 leaves no report file behind
                return EXIT_USAGE
    stdout = [name for name, path in outputs.items() if path == "-"]
    if stdout:  # stdout carries one thing: that report; the verdict goes to stderr
        sys.stdout.write(texts[stdout[0]])
        print(f"labkit scan: {report.summary()}", file=sys.stderr)
    elif args.json:
        print(json.dumps({"url": redacted_url(args.url), **report.to_dict()}, indent=2))
    else:
        print(f"labkit scan {redacted_url(args.url)}")
        print(report.text())
    return report.exit_code


def _send_cookies(pairs: list[str]) -> dict[str, str] | None:
    """``--send-cookie NAME=VALUE`` options as a dict; None (after one line) for a bad one."""
    cookies: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            _error("scan", f"--send-cookie takes NAME=VALUE, got {pair!r}")
            return None
        cookies[name.strip()] = value
    return cookies


def _scan_target(args: argparse.Namespace, timeout: float) -> Any:
    """The URL itself, or with ``--dpop-key`` a client that sends a DPoP proof with each token."""
    if not args.dpop_key:
        return args.url
    from labkit.scan import DpopTarget

    try:
        data = _read_bytes(args.dpop_key)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read --dpop-key {args.dpop_key}: {exc.strerror or exc}"
        ) from None
    return DpopTarget(args.url, load_pem(data), allow_hosts=args.allow_host, timeout=timeout)


SCAN_EPILOG = """\
exit codes:
  0  the scan ran and nothing got through
  1  findings (the report and every --json/--sarif/--junit output are still written)
  2  usage or refused: bad options or token, a target not allowed (--allow-host), an output
     file that cannot be written, or a target that cannot be scanned (down, timing out, not
     HTTP, refusing the valid token); one line on stderr, and no report file is written

--json, --sarif FILE and --junit FILE combine; at most one of them may use stdout (- as FILE).
"""


def _scan_outputs(args: argparse.Namespace) -> dict[str, str] | None:
    """The report files asked for ({"sarif": path, ...}), checked before anything is sent.

    Checked now, so that a typo costs no scan: a directory, a folder that does
    not exist or cannot be written, two outputs on one path or on stdout.
    """
    wanted = {
        name: path for name in ("sarif", "junit") if (path := getattr(args, name)) is not None
    }
    typed = dict(wanted)
    for name, path in wanted.items():  # /dev/stdout, /dev/fd/1, or the file stdout goes to
        if path not in ("-", os.devnull) and _same_stream(path, sys.stdout):
            wanted[name] = "-"
    stdout = [f"--{name} {_shown_path(typed[name])}" for name, p in wanted.items() if p == "-"]
    stdout += ["--json"] if args.json else []
    problem = ""
    if len(stdout) > 1:
        problem = f"only one output can go to stdout, got {' and '.join(stdout)}"
    elif len(wanted) == 2 and "-" not in wanted.values() and _same_file(*wanted.values()):
        problem = f"--sarif and --junit name the same file {_shown_path(wanted['sarif'])}"
    inputs = {"--public-key": args.public_key, "--wordlist": args.wordlist}
    for name, path in wanted.items():
        if problem or path == "-":
            continue
        clobbered = [flag for flag, read in inputs.items() if read and _same_file(path, read)]
        folder = os.path.dirname(os.path.abspath(path))
        if clobbered:
            problem = (
                f"--{name} {_shown_path(path)} is the {clobbered[0]} file: the report would "
                "overwrite it"
            )
            continue
        if _same_stream(path, sys.stderr):
            problem = f"--{name} {_shown_path(path)} is stderr, where errors go: use - or a file"
            continue
        if not path or "\x00" in path or path.endswith(os.sep) or os.path.isdir(path):
            problem = f"--{name} {path!r} is not a file name"  # repr: '' and 'dir/' show
        elif not os.path.isdir(folder):
            problem = f"cannot write --{name} {_shown_path(path)}: no folder {_shown_path(folder)}"
        elif not os.access(folder, os.W_OK) or (
            os.path.exists(path) and not os.access(path, os.W_OK)
        ):
            problem = f"cannot write --{name} {_shown_path(path)}: permission denied"
    if problem:
        _error("scan", problem)
        return None
    return wanted


def _shown_path(path: str) -> str:
    """A file name as typed, or its repr when it holds a newline or another control character."""
    return path if path.isprintable() else repr(path)


def _same_file(first: str, second: str) -> bool:
    """Do two names reach one file (``a`` and ``./a``, a symlink and its target, a hard link)?"""
    try:
        if first == second or os.path.realpath(first) == os.path.realpath(second):
            return True
        return os.path.samestat(os.stat(first), os.stat(second))
    except (OSError, ValueError):  # missing (so not the same existing file), or a NUL in a name
        return False


def _same_stream(path: str, stream: Any) -> bool:
    """Is ``path`` the file, pipe or terminal ``stream`` writes to (``/dev/stdout``, a redirect)?"""
    try:
        return os.path.samestat(os.stat(path), os.fstat(stream.fileno()))
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False  # no such file yet, or a stream without a descriptor (a test's capture)


def _remove_reports(paths: list[str]) -> None:
    """Remove the regular files this run wrote (or truncated); devices and FIFOs stay."""
    for path in paths:
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.stat(path).st_mode):
                os.unlink(path)


def _open_report(path: str) -> Any:
    """Open a report file for writing without ever blocking: a FIFO nobody reads is an error.

    ``open(path, "w")`` on a FIFO waits for a reader forever, after the whole
    scan. Opened with ``O_NONBLOCK``, it fails at once with ENXIO instead; the
    flag is then cleared so that writes to a slow reader wait as usual.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OSError(exc.errno, "nothing is reading that FIFO") from None
        raise
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "w", encoding="utf-8")


def _scan_reports(
    args: argparse.Namespace, report: Any, started: datetime, ended: datetime
) -> dict[str, str]:
    """``{"sarif": text, "junit": text}`` for the outputs asked for."""
    from labkit.scan import junit, sarif

    texts: dict[str, str] = {}
    if args.sarif is not None:
        log = sarif.to_sarif(
            report,
            args.url,
            arguments=_scan_argv(args),
            exit_code=report.exit_code,
            started=started,
            ended=ended,
        )
        texts["sarif"] = sarif.dumps(log)
    if args.junit is not None:
        texts["junit"] = junit.dumps(junit.to_junit(report, args.url, timestamp=started))
    return texts


def _scan_argv(args: argparse.Namespace) -> list[str]:
    """The scan's command line rebuilt from its options, credentials as ``***``.

    Rebuilt (not ``sys.argv``) so it is the same however ``main`` was called, and
    so a token never lands in a report that CI uploads.
    """
    argv = ["labkit", "scan", args.url]
    for name, value in vars(args).items():
        if name in ("command", "run", "url") or value in (None, False, [], ""):
            continue
        if (name, value) in (("header", "Authorization"), ("timeout", "5")):
            continue  # the defaults
        flag = f"--{name.replace('_', '-')}"
        secret = any(word in name for word in ("token", "secret", "password"))
        for item in value if isinstance(value, list) else [value]:
            argv += [flag] if item is True else [flag, "***" if secret else str(item)]
    return argv


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
