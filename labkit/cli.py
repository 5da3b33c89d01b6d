"""The ``labkit`` command line.

Each command is one small function; every error the kit raises on purpose is
printed as one line on stderr with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from labkit import __version__, tokens
from labkit.errors import LabkitError, MalformedTokenError

__all__ = ["main"]

# Exit codes shared by every command.
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command = args.run
    try:
        return command(args)
    except MalformedTokenError as exc:
        print(f"labkit {args.command}: malformed token: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except LabkitError as exc:
        print(f"labkit {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"labkit {args.command}: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labkit", description="JWT Lab Kit: inspect, sign, attack and defend JSON Web Tokens."
    )
    parser.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_decode(sub)
    return parser


def _add_decode(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("decode", help="show a token's header and payload (no verification)")
    p.add_argument("token", help="a compact JWT, or - to read it from stdin")
    p.set_defaults(run=_decode)


def _decode(args: argparse.Namespace) -> int:
    raw = sys.stdin.read().strip() if args.token == "-" else args.token
    token = tokens.parse(raw)
    out = {
        "header": token.header,
        "payload": token.payload,
        "signature_bytes": len(token.signature),
        "warnings": tokens.lint(token),
        "verified": False,
    }
    print(json.dumps(out, indent=2))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
