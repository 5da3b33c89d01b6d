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
from labkit.algorithms import ALGORITHMS
from labkit.attacks import crack as cracking
from labkit.errors import InvalidTokenError, LabkitError, MalformedTokenError
from labkit.keys import load_pem
from labkit.verify import verify as verify_token

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
    _add_verify(sub)
    _add_crack(sub)
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


def _add_verify(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("verify", help="verify a token with the hardened verifier; claims as JSON")
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
    p.add_argument("--leeway", type=float, default=0.0, metavar="S", help="clock skew, seconds")
    p.set_defaults(run=_verify)


def _verify(args: argparse.Namespace) -> int:
    """Exit 0 with the claims, 1 with the one-line reason the token is refused, 2 on bad input."""
    raw = sys.stdin.read().strip() if args.token == "-" else args.token
    try:
        key = _verify_key(args)
    except (OSError, ValueError) as exc:
        problem = (exc.strerror or exc) if isinstance(exc, OSError) else exc
        print(f"labkit verify: cannot read {args.key or args.jwks}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        claims = verify_token(
            raw, key, algorithms=args.alg, audience=args.aud, issuer=args.iss, leeway=args.leeway
        )
    except InvalidTokenError as exc:
        print(f"labkit verify: invalid token: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(json.dumps(claims, indent=2))
    return EXIT_OK


def _verify_key(args: argparse.Namespace) -> object:
    """The key as the command line names it; reading it is the CLI's job, judging it verify's."""
    if args.secret is not None:
        return args.secret
    if args.key is not None:
        with open(args.key, "rb") as handle:
            return load_pem(handle.read())  # KeyFormatError is a ValueError
    with open(args.jwks, encoding="utf-8") as handle:
        return json.load(handle)


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
    """Exit 0 printing the secret, 1 if no candidate matches, 2 on bad input."""
    raw = sys.stdin.read().strip() if args.token == "-" else args.token
    try:
        target = cracking.Target.from_token(raw)
    except MalformedTokenError as exc:  # bad input here, not a verdict on the token
        print(f"labkit crack: malformed token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = cracking.crack(
        target, args.wordlist, processes=args.processes, rules=args.rules, progress=True
    )
    took = f"{result.guesses:,} guesses in {result.seconds:.2f} s"
    if result.secret is None:
        print(f"labkit crack: secret not found ({took})", file=sys.stderr)
        return EXIT_FAIL
    print(f"labkit crack: secret found ({took})", file=sys.stderr)
    sys.stdout.flush()
    sys.stdout.buffer.write(result.secret + b"\n")  # the exact bytes, whatever their encoding
    sys.stdout.flush()
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
