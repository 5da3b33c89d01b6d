"""A hypothesis campaign against the token boundary and the key boundary, outside ``make test``.

    .venv/bin/python bench/redteam.py [--examples 500] [--seed 1]

Each property runs ``--examples`` hypothesis examples (seeded with ``--seed``, so a run
can be repeated). Every entry point (``labkit.verify``, ``verify_jws``, ``tokens.parse``,
``tokens.lint`` and ``widgets.TokenInspector``) gets structured hostile input: JSON texts
with nesting at and around ``MAX_DEPTH`` (whitespace, strings holding brackets and escaped
quotes, ``\\u`` escapes of brackets), numbers at and over ``MAX_NUMBER_DIGITS`` and beyond
double range, BOMs, overlong and invalid UTF-8, split and valid surrogate pairs, duplicate
members under different escapes, non-object JSON, odd values for every header parameter and
every registered claim, and JWK/JWKS keys of odd shapes; ``outbound.judge`` gets URLs
assembled from bypass pieces (userinfo, backslashes, short and mapped IPv4, zone ids, odd
ports, dot segments, fullwidth digits). A failure is any exception that is not a
``LabkitError`` (an ``InvalidTokenError`` from the verifiers), a multi-line message, an
accepted token that was not signed with the key it was checked against, or an accepted URL
that ``requests`` sends anywhere but loopback or prepares differently a second time. Exit 1
if any property failed; each failure is printed with its shrunk example.

Measured (2 cores shared, 2026-12-01), before the fixes of the ``redteam-boundaries``
branch: the JWK property failed (a >4,300-digit int in a JWK's ``alg``/``use``/``key_ops``
raised ValueError from the refusal's message) and the URL property failed
(``http://127.0.0.1:8000/%2e`` was judged as ``/.`` and sent as ``/``). After them, seeds
1-4 with 2,000-3,000 examples per property: 28,500 token/key examples (142,500 entry-point
calls) and 2,500 URLs, 0 failures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import labkit
from labkit import keys, tokens
from labkit.algorithms import sign
from labkit.errors import InvalidTokenError, LabkitError
from labkit.verify import MAX_LENGTH
from labkit.widgets import TokenInspector

NOW = 1_700_000_000
SECRET = keys.demo_secret()
OTHER = b"another secret of thirty-two bytes!!"
HEADER_NAMES = ("alg", "kid", "crit", "b64", "jwk", "jku", "x5u", "x5c", "typ", "cty", "x5t", "zip")
CLAIM_NAMES = ("exp", "nbf", "iat", "aud", "iss", "sub", "jti")
TALLY: Counter[str] = Counter()

# JSON pieces -------------------------------------------------------------------------------------

WS = st.sampled_from(["", " ", "\t", "\n", "\r\n", "  "])
NUMBERS = st.one_of(
    st.sampled_from(["1e999999", "-0", "-0.0", "1E400", "-1E400", "1e-400", "0e0", "1E+2", "-1"]),
    st.integers(1, 1_200).map(lambda n: "9" * n),
    st.integers(990, 1_010).map(lambda n: "1" + "0" * (n - 1)),
    st.integers(990, 1_010).map(lambda n: "0." + "0" * (n - 3) + "1"),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "01", "1.", ".5", "+1", "0x10", "1e"]),
)
STRINGS = st.one_of(
    st.text(max_size=20).map(lambda s: json.dumps(s, ensure_ascii=bool(len(s) % 2))),
    st.sampled_from(
        [
            '"[[[{{{"',
            '"]]]}}}"',
            '"\\"[[["',
            '"\\\\"',
            '"\\\\\\"["',
            '"\\u005b\\u005b"',
            '"\\u007b"',
            '"\\ud800"',
            '"\\udc00"',
            '"\\ud800\\udc00"',
            '"\\ud83d\\ude00"',
            '"\\uD800\\u0061"',
            '"\\u0000"',
            '"\\/"',
            '"\\x41"',
            '"\\u00"',
            '"\ufeff"',
            '"\\"',
        ]
    ),
)
KEYS_ = st.one_of(
    STRINGS,
    st.sampled_from(
        ['"a"', '"\\u0061"', '"alg"', '"\\u0061lg"', '"exp"', '"\\u0065xp"', "1", "[]"]
    ),
)


def json_text(depth: int = 0) -> st.SearchStrategy[str]:
    leaf = st.one_of(NUMBERS, STRINGS, st.sampled_from(["true", "false", "null", "[]", "{}"]))
    if depth > 2:
        return leaf
    inner = st.deferred(lambda: json_text(depth + 1))
    array = st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]")
    obj = st.lists(st.tuples(KEYS_, inner), max_size=4).map(
        lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"
    )
    return st.one_of(leaf, array, obj)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """Nesting at, just under and just over MAX_DEPTH (or far over), with noise between."""
    depth = draw(st.sampled_from([tokens.MAX_DEPTH + d for d in (-2, -1, 0, 1, 2)] + [1_000]))
    openers = draw(st.sampled_from(["[", "{", "[{", "{["]))
    core = draw(st.one_of(NUMBERS, STRINGS, st.just("")))
    ws = draw(WS)
    text = core
    for index in range(depth):
        if openers[index % len(openers)] == "[":
            extra = draw(st.sampled_from(["", ',"]]"', ',"\\"]"', ",1"]))
            text = f"[{ws}{text}{extra}{ws}]"
        else:
            text = "{" + ws + draw(st.sampled_from(['"k"', '"[{"', '"\\"{"'])) + ":" + text + "}"
    return text


@st.composite
def hostile_document(draw: st.DrawFn) -> bytes:
    body = draw(st.one_of(json_text(), nested()))
    shape = draw(st.sampled_from(["bare", "member", "dup", "bom", "bytes", "overlong"]))
    if shape == "member":
        body = '{"alg":"HS256","exp":' + body + "}"
    elif shape == "dup":
        name = draw(st.sampled_from(['"alg"', '"exp"', '"a"']))
        body = '{"alg":"HS256","exp":1,' + name.replace('"a', '"\\u0061') + ":" + body + "}"
    data = body.encode("utf-8", "surrogatepass")
    if shape == "bom":
        data = b"\xef\xbb\xbf" + data
    elif shape == "bytes":
        data = draw(st.binary(max_size=8)) + data
    elif shape == "overlong":
        data = data.replace(b"/", b"\xc0\xaf", 1) + b"\xe0\x80\xaf"
    return data


# Tokens ------------------------------------------------------------------------------------------


def assemble(header: bytes, payload: bytes, key: bytes | None) -> str:
    head, body = tokens.b64url_encode(header), tokens.b64url_encode(payload)
    data = f"{head}.{body}".encode("ascii")
    sig = sign("HS256", key, data) if key is not None else b"\x00" * 32
    return f"{head}.{body}.{tokens.b64url_encode(sig)}"


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**999, -(10**999), 2**63, -(2**63), 1e308, -1e308, 0.5, -0.0]),
    st.text(max_size=10),
    st.sampled_from(["HS256", "none", "NONE", "b64", "exp", "api", ""]),
    st.lists(st.one_of(st.text(max_size=4), st.integers(), st.none()), max_size=3),
    st.lists(st.lists(st.sampled_from(["api", "b64", 1]), max_size=2), max_size=2),
    st.dictionaries(
        st.sampled_from(["kty", "k", "alg", "n", "e"]), st.text(max_size=4), max_size=3
    ),
)


@st.composite
def signed_odd(draw: st.DrawFn) -> tuple[str, bool]:
    """A token with odd header parameters and claims, signed with SECRET or OTHER."""
    header = {name: draw(ODD_VALUES) for name in draw(st.sets(st.sampled_from(HEADER_NAMES)))}
    if draw(st.booleans()):
        header["alg"] = "HS256"
    claims = {"exp": NOW + 60, "aud": "api", "iss": "https://idp.example"}
    claims.update({name: draw(ODD_VALUES) for name in draw(st.sets(st.sampled_from(CLAIM_NAMES)))})
    genuine = draw(st.booleans())
    head = json.dumps(header).encode()
    body = json.dumps(claims).encode()
    return assemble(head, body, SECRET if genuine else OTHER), genuine


@st.composite
def hostile_token(draw: st.DrawFn) -> str | bytes:
    header = draw(hostile_document()) if draw(st.booleans()) else b'{"alg":"HS256"}'
    payload = draw(hostile_document()) if draw(st.integers(0, 4)) else b'{"exp":1}'
    token = assemble(header, payload, draw(st.sampled_from([SECRET, None])))[:MAX_LENGTH]
    return token.encode("ascii") if draw(st.booleans()) else token


ANY_TOKEN = st.one_of(
    hostile_token(),
    st.text(max_size=300),
    st.binary(max_size=300),
    st.lists(
        st.sampled_from(["e30", "eyJhbGciOiJIUzI1NiJ9", "", "AA", "=", "é", "\x00"]), max_size=6
    ).map(".".join),
)


# Keys --------------------------------------------------------------------------------------------

B64 = tokens.b64url_encode
REAL_JWKS = {
    "RSA": keys.to_jwk(keys.demo_public_key("rsa")),
    "EC": keys.to_jwk(keys.demo_public_key("p256")),
    "OKP": keys.to_jwk(keys.demo_public_key("ed25519")),
    "oct": {"kty": "oct", "k": B64(SECRET)},
}
KEY_VALUES = st.one_of(
    ODD_VALUES,
    st.sampled_from(["AA", "AQAB", "AQ", "", "P-256", "P-999", "secp256k1", "X25519", "Ed448"]),
    st.sampled_from(
        [10**5000, -(10**5000), float("inf"), float("nan")]
    ),  # a caller's dict: unbounded
    st.sampled_from([B64(b"\x00" * 32), B64(b"\x01" * 32), B64(b"\xff" * 600), "A" * 8000]),
)


@st.composite
def odd_key(draw: st.DrawFn) -> tuple[object, bool]:
    """(key, may_verify): a real JWK with members changed, a JWKS of such, or odd material."""
    kty = draw(st.sampled_from(list(REAL_JWKS)))
    jwk: dict[str, Any] = dict(REAL_JWKS[kty])
    changed = draw(
        st.sets(
            st.sampled_from(
                [
                    "kty",
                    "n",
                    "e",
                    "d",
                    "crv",
                    "x",
                    "y",
                    "k",
                    "alg",
                    "use",
                    "key_ops",
                    "kid",
                    "x5c",
                    "keys",
                    "p",
                ]
            )
        )
    )
    for name in changed:
        jwk[name] = draw(KEY_VALUES)
    shape = draw(st.sampled_from(["jwk", "jwks", "list", "material"]))
    may_verify = kty == "oct" and not changed & {"kty", "k"}
    if shape == "jwks":
        return {"keys": [jwk, *draw(st.lists(st.just(jwk), max_size=1))]}, may_verify
    if shape == "list":
        return {"keys": draw(KEY_VALUES)}, False
    if shape == "material":
        material = st.one_of(
            st.binary(max_size=80),
            st.text(max_size=80),
            st.sampled_from(
                [
                    "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                    b"-----BEGIN CERTIFICATE-----\n\x00\xff\n-----END CERTIFICATE-----",
                    "-----BEGIN" * 300,
                    "\ud800",
                    None,
                    1,
                    1.5,
                    [],
                    bytearray(40),
                ]
            ),
        )
        value = draw(material)
        return value, isinstance(value, (bytes, bytearray)) and bytes(value) == SECRET
    return jwk, may_verify


# Checks ------------------------------------------------------------------------------------------


class Failure(AssertionError):
    """A property failed: a non-labkit error, a multi-line message, or a forgery accepted."""


def call(name: str, fn: Callable[[], object], only: type[BaseException] = LabkitError) -> bool:
    """True if ``fn`` returned; False if it raised ``only`` in one line; Failure otherwise."""
    TALLY["calls"] += 1
    try:
        fn()
    except only as exc:
        if "\n" in str(exc):
            raise Failure(f"{name}: multi-line message {str(exc)[:200]!r}") from None
        return False
    except Exception as exc:
        TALLY["crashes"] += 1
        trace = traceback.format_exc()
        raise Failure(f"{name}: {type(exc).__name__}: {str(exc)[:200]}\n{trace}") from None
    return True


def every_entry_point(token: object, key: object = SECRET) -> bool:
    """Run all five entry points; return whether ``verify`` accepted the token."""
    accepted = call(
        "verify",
        lambda: labkit.verify(
            token,
            key,
            algorithms=["HS256"],
            audience="api",  # type: ignore
            issuer="https://idp.example",
            now=NOW,
        ),
        InvalidTokenError,
    )
    call("verify_jws", lambda: labkit.verify_jws(token, key, algorithms=["HS256"]))  # type: ignore
    call("parse", lambda: tokens.parse(token))  # type: ignore[arg-type]
    call("lint", lambda: tokens.lint(token, now=NOW))  # type: ignore[arg-type]
    call("inspector", lambda: repr(TokenInspector(token, now=NOW, wordlist=None)))  # type: ignore
    return accepted


def prop_any_token(token: str | bytes) -> None:
    if every_entry_point(token):
        raise Failure(f"accepted a token no one signed: {token!r:.200}")


def prop_signed_odd(case: tuple[str, bool]) -> None:
    token, genuine = case
    if every_entry_point(token) and not genuine:
        raise Failure(f"accepted a token signed with another key: {token!r:.200}")


def prop_odd_key(case: tuple[object, bool]) -> None:
    key, may_verify = case
    token = assemble(b'{"alg":"HS256"}', b'{"exp":1700000060,"aud":"api"}', SECRET)
    for alg in ("HS256", "RS256", "ES256", "EdDSA"):
        forged = assemble(json.dumps({"alg": alg}).encode(), b'{"exp":1700000060}', OTHER)
        if call(
            "verify(forged)",
            lambda f=forged, a=alg: labkit.verify(  # type: ignore
                f, key, algorithms=[a], now=NOW
            ),
            InvalidTokenError,
        ):
            raise Failure(f"accepted a forgery under key {key!r:.200}")
    accepted = call(
        "verify",
        lambda: labkit.verify(
            token,
            key,
            algorithms=["HS256"],  # type: ignore
            now=NOW,
        ),
        InvalidTokenError,
    )
    if accepted and not may_verify:
        raise Failure(f"accepted under a key that is not the secret: {key!r:.200}")


# URLs --------------------------------------------------------------------------------------------


def _mostly(usual: str, odd: list[str]) -> st.SearchStrategy[str]:
    """``usual`` half the time, else one of ``odd``: so some URLs get past judge's first rules."""
    return st.one_of(st.just(usual), st.sampled_from(odd))


URL_PIECES = st.tuples(
    _mostly("http://", ["HTTP://", "https://", "http:/", "http:\\\\", "http;//", ""]),
    _mostly("", ["user@", "127.0.0.1@", "evil.invalid\\@", "a:b@", "%40"]),
    _mostly(
        "127.0.0.1",
        [
            "127.1",
            "2130706433",
            "0x7f.1",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "[::127.0.0.1]",
            "[fe80::1%25eth0]",
            "[64:ff9b::7f00:1]",
            "localhost",
            "LOCALHOST",
            "localhost.",
            "evil.invalid",
            "xn--e1afmkfd.xn--p1ai",
            "127.0.0.1.nip.io",
            "\uff11\uff12\uff17.0.0.1",
            "127\u30020\u30020\u30021",
            "0.0.0.0",
            "[::]",
            "10.0.0.1",
        ],
    ),
    _mostly(":8000", ["", ":80", ":0", ":65536", ":+80", ": 80", ":080", ":"]),
    st.lists(
        st.sampled_from(
            [
                "/",
                "/",
                "/",
                ".",
                "..",
                "%2e",
                "%2E%2E",
                "//",
                "%2f",
                "\\",
                "@evil.invalid",
                "#",
                "?",
                "%0d%0a",
                "\r\n",
                " ",
                "evil.invalid",
                "a",
                "\u00e9",
                "%25",
                ";",
            ]
        ),
        max_size=8,
    ),
).map(lambda p: "".join(p[:4]) + "".join(p[4]))


def prop_url(url: str) -> None:
    """Refused in one line, or prepared to a loopback host, the same when prepared again."""
    import ipaddress

    import requests
    import urllib3

    from labkit import outbound

    TALLY["calls"] += 1
    try:
        destination = outbound.judge(url, outbound.LOOPBACK)
    except outbound.UnsafeURLError as exc:
        if "\n" in str(exc):
            raise Failure(f"judge: multi-line message for {url!r}") from None
        return
    except Exception as exc:
        TALLY["crashes"] += 1
        raise Failure(f"judge: {type(exc).__name__} for {url!r}: {exc}") from None
    sent = urllib3.util.parse_url(requests.Request("GET", url).prepare().url)
    host = (sent.host or "").strip("[]")
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise Failure(f"judge accepted {url!r}, which requests sends to {host}")
    with requests.Session() as session:
        again = session.prepare_request(requests.Request("GET", destination.url)).url
    if again != destination.url or (sent.path or "").startswith("//"):
        raise Failure(f"judge accepted {url!r}; sent as {again!r}, judged as {destination.url!r}")


PROPERTIES: dict[str, tuple[Callable[[Any], None], st.SearchStrategy[Any]]] = {
    "any token text/bytes": (prop_any_token, ANY_TOKEN),
    "odd header params and claims": (prop_signed_odd, signed_odd()),
    "odd JWK/JWKS/key material": (prop_odd_key, odd_key()),
    "URLs for the outbound guard": (prop_url, URL_PIECES),
}


def run(name: str, examples: int, run_seed: int) -> str | None:
    prop, strategy = PROPERTIES[name]
    before = TALLY["calls"]
    test = seed(run_seed)(
        settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )(given(strategy)(prop))
    )
    try:
        test()
    except Failure as exc:
        return str(exc)
    finally:
        TALLY[f"{name} calls"] = TALLY["calls"] - before
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="examples per property")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    failures = {}
    start = time.perf_counter()
    for name in PROPERTIES:
        problem = run(name, args.examples, args.seed)
        print(
            f"{name:<32} {args.examples} examples, {TALLY[f'{name} calls']} calls: "
            f"{'FAILED' if problem else 'ok'}",
            flush=True,
        )
        if problem:
            failures[name] = problem
    seconds = time.perf_counter() - start
    print(
        f"{len(PROPERTIES) * args.examples} examples, {TALLY['calls']} entry-point calls, "
        f"seed {args.seed}, {seconds:.0f} s; failing properties: {len(failures)}"
    )
    for name, problem in failures.items():
        print(f"--- {name}\n{problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
