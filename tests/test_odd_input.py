"""Every public helper of tokens, claims, keys, display, errors and the inspector, odd input.

A learner's natural mistake (a dict where bytes go, a string NumericDate, one key
where a list goes, None) must get one ``LabkitError`` line, never a traceback.
Each call starts from arguments that work and swaps one for each odd value.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

import labkit
from labkit import claims, display, examples, keys, tokens
from labkit.errors import LabkitError, shown
from labkit.widgets import TokenInspector

ODD: list[Any] = [
    None,
    123,
    -1,
    1.5,
    float("nan"),
    float("inf"),
    1e20,
    True,
    "x",
    "",
    "\ud800",
    b"x",
    b"\xff",
    bytearray(b"x"),
    [],
    [None],
    {},
    {"a": 1},
    {"exp": "x"},
    object(),
    ("exp",),
    10**5000,  # its repr alone raises ValueError in CPython
    "a" * 5000,
]
TOKEN = examples.CLASSIC_TOKEN
RSA = keys.demo_public_key("rsa")
PEM = RSA.public_bytes(  # type: ignore[union-attr]
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)

# name -> (function, positional arguments that work, keyword arguments that work)
CALLS: dict[str, tuple[Callable[..., Any], list[Any], dict[str, Any]]] = {
    "tokens.b64url_decode": (tokens.b64url_decode, ["AA"], {"part": "x"}),
    "tokens.b64url_encode": (tokens.b64url_encode, [b"x"], {}),
    "tokens.encode": (tokens.encode, [{"alg": "HS256"}, {"a": 1}, b"s"], {}),
    "tokens.json_bytes": (tokens.json_bytes, [{"a": 1}], {}),
    "tokens.lint": (tokens.lint, [tokens.parse(TOKEN)], {"now": 0}),
    "tokens.lint(text)": (tokens.lint, [TOKEN], {"wordlist": False}),
    "tokens.load_json": (tokens.load_json, ["{}", "body"], {}),
    "tokens.parse": (tokens.parse, [TOKEN], {}),
    "tokens.parse_jws": (tokens.parse_jws, [TOKEN], {}),
    "tokens.signing_input": (tokens.signing_input, [{"alg": "HS256"}, {"a": 1}], {}),
    "tokens.split": (tokens.split, [TOKEN], {}),
    "claims.as_datetime": (claims.as_datetime, [0], {}),
    "claims.check": (
        claims.check,
        [{"exp": 10}],
        {"now": 0, "leeway": 0, "audience": None, "issuer": None, "required": ("exp",)},
    ),
    "claims.check_audience": (claims.check_audience, [{"aud": "a"}, "a"], {}),
    "claims.check_issuer": (claims.check_issuer, [{"iss": "a"}, "a"], {}),
    "claims.check_required": (claims.check_required, [{"exp": 1}, ("exp",)], {}),
    "claims.check_times": (claims.check_times, [{"exp": 10}], {"now": 0, "leeway": 0}),
    "claims.clock": (claims.clock, [0], {}),
    "claims.is_numeric_date": (claims.is_numeric_date, [0], {}),
    "claims.kind": (claims.kind, ["sub"], {}),
    "keys.demo_secret": (keys.demo_secret, [], {}),
    "keys.demo_key_for": (keys.demo_key_for, ["RS256"], {"private": True}),
    "keys.demo_private_key": (keys.demo_private_key, ["rsa"], {}),
    "keys.demo_public_key": (keys.demo_public_key, ["rsa"], {}),
    "keys.from_jwk": (keys.from_jwk, [keys.to_jwk(RSA)], {}),
    "keys.from_jwks": (keys.from_jwks, [keys.to_jwks([RSA])], {}),
    "keys.load_pem": (keys.load_pem, [PEM], {}),
    "keys.thumbprint": (keys.thumbprint, [RSA], {}),
    "keys.to_jwk": (keys.to_jwk, [RSA], {"kid": None, "alg": None, "use": "sig"}),
    "keys.to_jwks": (keys.to_jwks, [[RSA]], {"private": False}),
    "display.colour_token": (display.colour_token, [TOKEN], {}),
    "display.pretty_json": (display.pretty_json, [{}], {}),
    "display.ColouredToken": (lambda t: repr(display.ColouredToken(t)), [TOKEN], {}),
    "errors.LabkitError": (lambda m, w: str(labkit.LabkitError(m, w)), ["m", "w"], {}),
    "TokenInspector": (
        lambda t, now: repr(TokenInspector(t, now=now, wordlist=False)),
        [TOKEN, 0],
        {},
    ),
}


def variants(name: str) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """The working call, then each argument swapped for each odd value."""
    _, args, kwargs = CALLS[name]
    out = [("as given", args, kwargs)]
    for index in range(len(args)):
        for value in ODD:
            swapped = [value if i == index else arg for i, arg in enumerate(args)]
            out.append((f"argument {index} = {shown(value, 30)}", swapped, kwargs))
    for option in kwargs:
        for value in ODD:
            out.append((f"{option}={shown(value, 30)}", args, {**kwargs, option: value}))
    return out


@pytest.mark.parametrize("name", list(CALLS))
def test_odd_arguments_get_one_labkit_line(name: str) -> None:
    function = CALLS[name][0]
    for where, args, kwargs in variants(name):
        try:
            function(*args, **kwargs)
        except LabkitError as exc:
            assert where != "as given", f"{name} refused its working arguments: {exc}"
            assert "\n" not in str(exc), f"{name} with {where}: a multi-line message"
        except Exception as exc:  # the failure this test exists to find
            pytest.fail(f"{name} with {where} raised {type(exc).__name__}: {shown(exc, 120)}")


def test_every_public_helper_is_swept() -> None:
    swept = {name.split("(")[0] for name in CALLS}
    for module in (tokens, claims, keys, display):
        for public in module.__all__:
            value = getattr(module, public)
            if callable(value) and not isinstance(value, (type, types.GenericAlias)):
                assert f"{module.__name__.split('.')[-1]}.{public}" in swept, public
