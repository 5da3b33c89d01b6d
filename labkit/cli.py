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
    _add_serve(sub)
    _add_workshop(sub)
    _add_scan(sub)
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
    """Exit 0 printing the secret, 1 if no candidate matches, 2 on bad input.

    Every ``labkit`` error about the token (malformed, unparsable, not HMAC) is bad
    input, not a verdict: one line and exit 2. An empty word list is said as such.
    """
    raw = sys.stdin.read().strip() if args.token == "-" else args.token
    try:
        target = cracking.Target.from_token(raw)
    except MalformedTokenError as exc:  # bad input here, not a verdict on the token
        print(f"labkit crack: malformed token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LabkitError as exc:
        print(f"labkit crack: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = cracking.crack(
        target, args.wordlist, processes=args.processes, rules=args.rules, progress=True
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


def _add_workshop(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("workshop", help="build the learner edition; check the instructor notebooks")
    tasks = p.add_subparsers(dest="task", required=True, metavar="TASK")
    build = tasks.add_parser("build", help="write learner copies: solutions out, outputs cleared")
    build.add_argument("outdir", help="the folder to write them to (outside the notebooks folder)")
    check = tasks.add_parser("check", help="every exercise has a task, a solution, a check, hints")
    for task, run in ((build, _workshop_build), (check, _workshop_check)):
        task.add_argument(
            "--source", metavar="DIR", help="the instructor notebooks (default: ./notebooks)"
        )
        task.set_defaults(run=run)


def _workshop_build(args: argparse.Namespace) -> int:
    """Exit 0 listing what was written; 2 if the notebooks cannot be turned into an edition."""
    from labkit import workshop  # imported on use: nbformat is not needed by other commands

    written = workshop.build(args.outdir, args.source)
    print(f"labkit workshop: wrote {len(written)} learner notebooks to {args.outdir}")
    for path in written:
        print(f"  {path.name}")
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


def _add_serve(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve", help="run the local API Gateway, Lambda authorizer and IdP on 127.0.0.1"
    )
    p.add_argument("--preset", default="hardened", metavar="NAME", help="default: hardened")
    p.add_argument("--list", action="store_true", help="list the presets, one per line, and exit")
    p.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="default 0: the OS picks a free port")
    p.add_argument(
        "--mode",
        choices=("rest", "http", "jwt"),
        default="rest",
        help="REST API + Lambda authorizer (default), HTTP API + Lambda, HTTP API + JWT authorizer",
    )
    p.add_argument("--authorizer-type", choices=("TOKEN", "REQUEST"), default="TOKEN")
    p.add_argument(
        "--cache-ttl", type=float, default=300, metavar="S", help="authorizer cache, 0 to 3600 s"
    )
    p.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    """Print ``Serving on URL`` first, then serve until Ctrl-C (exit 0)."""
    import logging

    from labkit.aws import presets, server  # werkzeug is imported only for this command

    if args.list:
        for preset in presets.available():
            print(f"{preset.name:<21} {preset.summary}")
        return EXIT_OK
    lab = server.create_lab(
        args.preset, mode=args.mode, authorizer_type=args.authorizer_type, cache_ttl=args.cache_ttl
    )
    try:
        httpd = server.listen(lab.gateway, args.host, args.port, quiet=False)
        print(f"Serving on {server.url_of(args.host, httpd.server_port)}", flush=True)
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        print(
            f"preset {args.preset}, {args.mode} API; DEMO ONLY users alice/wonderland (reader), "
            "bob/builder (admin); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            print("labkit serve: stopped", file=sys.stderr)
        finally:
            httpd.server_close()
    finally:
        lab.close()
    return EXIT_OK


def _add_scan(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "scan", help="run every attack of the kit against a JWT-protected URL (loopback by default)"
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
        "--timeout", type=float, default=5.0, metavar="S", help="per request (default 5)"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_scan)


def _scan(args: argparse.Namespace) -> int:
    """Exit 0 when nothing got through, 1 with findings, 2 for bad input or a refused target."""
    from labkit import scan  # imported on use: requests is not needed by other commands

    raw = sys.stdin.read().strip() if args.token == "-" else args.token
    try:
        public_key = _read_bytes(args.public_key) if args.public_key else None
    except OSError as exc:
        print(f"labkit scan: cannot read {args.public_key}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        reminder = scan.check_target(args.url, args.allow_host)
        if reminder:
            print(f"labkit scan: {reminder}", file=sys.stderr)
        report = scan.scan(
            args.url,
            raw,
            header=args.header,
            cookie=args.cookie,
            canary=args.canary,
            allow_hosts=args.allow_host,
            public_key=public_key,
            expired_token=args.expired_token,
            wordlist=args.wordlist,
            timeout=args.timeout,
        )
    except MalformedTokenError as exc:  # bad input here, not a verdict on the target
        print(f"labkit scan: malformed token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"url": args.url, **report.to_dict()}, indent=2))
    else:
        print(f"labkit scan {args.url}")
        print(report.text())
    return report.exit_code


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
