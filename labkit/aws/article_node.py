"""Run the source article's Node.js authorizer as it is, and the kit's Python port beside it.

``deploy/article-node`` holds the article's ``index.js`` verbatim, the real
``jsonwebtoken`` pinned by a committed ``package-lock.json`` (``make node-deps``
installs it with ``npm ci``), and ``run.js``, a driver that feeds it API Gateway
TOKEN events and records what ``jwt.verify`` threw. ``corpus`` makes the tokens
in Python, the ones a red-teamer sends first; ``parity`` runs every one through
the Node original (a subprocess) and through ``labkit.aws.article.handler``, and
``table`` shows the answers side by side with jsonwebtoken's reason.

Nothing here reaches the network: node runs on this machine, offline.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from labkit import keys, tokens
from labkit.algorithms import sign_token
from labkit.attacks import crack, injection, none, psychic
from labkit.attacks.confusion import forge_confusion
from labkit.aws import article
from labkit.aws import jsonwebtoken as jwt
from labkit.errors import ConfigurationError

__all__ = [
    "METHOD_ARN",
    "NODE_DIR",
    "Answer",
    "Case",
    "Row",
    "corpus",
    "parity",
    "run_node",
    "run_python",
    "show",
    "table",
]

NODE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "article-node"
"""The Node project in the kit's checkout (``index.js``, ``run.js``, the lockfile)."""

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/api/profile"
TIMEOUT = 60.0
"""Seconds the Node original may take for the whole corpus (it needs about one)."""

_WRONG_SECRET = "not-the-article-secret-but-just-as-long-and-unrelated"


@dataclass(frozen=True)
class Case:
    """One token of the corpus: its name, the token (None: no ``authorizationToken``), the trick."""

    name: str
    token: str | None
    tries: str

    @property
    def event(self) -> dict[str, Any]:
        """The API Gateway TOKEN authorizer event that carries the token."""
        event: dict[str, Any] = {"type": "TOKEN", "methodArn": METHOD_ARN}
        if self.token is not None:
            event["authorizationToken"] = self.token
        return event


@dataclass(frozen=True)
class Answer:
    """What one authorizer answered: Allow or Deny, the policy, and why verify refused."""

    effect: str
    policy: dict[str, Any]
    error: str | None  # "JsonWebTokenError: jwt expired", or None when verify accepted


@dataclass(frozen=True)
class Row:
    """One token's answers from the Node original and from the Python port."""

    case: Case
    node: Answer
    python: Answer

    @property
    def same(self) -> bool:
        """True if both returned the same policy and refused for the same reason.

        jsonwebtoken's own errors must match word for word; for what JavaScript
        itself throws (a ``SyntaxError`` from ``JSON.parse``, a ``TypeError``)
        the name must match, the wording is V8's.
        """
        if self.node.policy != self.python.policy or self.node.effect != self.python.effect:
            return False
        if self.node.error is None or self.python.error is None:
            return self.node.error == self.python.error
        node_name, python_name = self.node.error.split(":")[0], self.python.error.split(":")[0]
        if node_name in ("SyntaxError", "TypeError"):
            return node_name == python_name
        return self.node.error == self.python.error


def corpus(now: float | None = None) -> list[Case]:
    """The tokens to try, made in Python at ``now`` (epoch seconds, default the clock).

    Claims that expire or start are an hour away from ``now``, so the answers
    do not depend on how long the run takes.
    """
    t = int(time.time() if now is None else now)
    secret = article.SECRET
    claims = {"sub": "alice", "role": "reader", "iat": t, "exp": t + 3600}
    valid = sign_token(claims, secret, "HS256")
    head, body, signature = tokens.split(valid)
    forged = {"sub": "attacker", "role": "admin"}
    cracked = crack.crack(valid, processes=1).text  # the bundled wordlist: a few guesses
    if cracked is None:  # pragma: no cover - the article's secret is in the bundled list
        raise ConfigurationError("the bundled wordlist no longer holds the article's secret")
    pem = keys.demo_public_key("rsa").public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    cases = [
        Case("valid HS256", valid, "the article's secret, exp in an hour"),
        *_none_cases(claims, signature),
        Case(
            "expired", sign_token({**claims, "exp": t - 3600}, secret, "HS256"), "exp an hour ago"
        ),
        Case(
            "not yet valid",
            sign_token({**claims, "nbf": t + 3600, "exp": t + 7200}, secret, "HS256"),
            "nbf in an hour",
        ),
        Case("wrong secret", sign_token(claims, _WRONG_SECRET, "HS256"), "another service's key"),
        Case(
            "cracked secret, forged, no exp",
            sign_token(forged, cracked, "HS256"),
            f"secret {cracked!r} cracked from the valid token; role admin, never expires",
        ),
        Case("Bearer prefix", f"Bearer {valid}", "the header as RFC 6750 clients send it"),
        Case("HS384, same secret", sign_token(claims, secret, "HS384"), "another HMAC size"),
        Case("HS512, same secret", sign_token(claims, secret, "HS512"), "another HMAC size"),
        Case("alg hs256 (lower case)", _hmac({"alg": "hs256"}, claims, secret), "alg case games"),
        Case("no alg", _hmac({"typ": "JWT"}, claims, secret, alg="HS256"), "alg left out"),
        Case(
            "RS256 header, HMAC with the RSA public PEM",
            _hmac({"alg": "RS256", "typ": "JWT"}, forged, pem.decode()),
            "key confusion with the header left RS256",
        ),
        Case(
            "HS256, HMAC with the RSA public PEM",
            forge_confusion(pem, forged)[0].token,
            "key confusion (labkit.attacks.confusion)",
        ),
        Case(
            "kid ../../dev/null, empty key",
            injection.forge_kid_traversal(forged).token,
            "kid traversal (labkit.attacks.injection)",
        ),
        Case(
            "jwk injection, RS256",
            injection.forge_jwk(forged).token,
            "the attacker's key in the header",
        ),
        Case(
            "psychic signature, ES256 r = s = 0",
            psychic.forge(forged).token,
            "CVE-2022-21449",
        ),
        Case("empty string", "", "nothing at all"),
        Case("no authorizationToken", None, "an event without the token"),
        Case("garbage", "not-a-token", "no dots"),
        Case("five segments (JWE shape)", f"{valid}.{body}.{signature}", "a JWE-shaped string"),
        Case("trailing newline", f"{valid}\n", "a token pasted from a file"),
        Case("base64 padding", _padded(claims, secret), "'=' padded segments, signed as sent"),
        Case(
            "stray bits in the signature",
            f"{head}.{body}.{_twin_encoding(signature)}",
            "the same signature bytes, another last character",
        ),
        Case(
            "crit names an unknown extension",
            sign_token(claims, secret, "HS256", headers={"crit": ["x-labkit"], "x-labkit": 1}),
            "RFC 7515 section 4.1.11: must be refused",
        ),
        Case(
            "b64 false (RFC 7797), unencoded payload",
            _raw(tokens.b64url_encode(b'{"alg":"HS256","b64":false,"crit":["b64"]}'), "admin"),
            "payload 'admin' signed as is",
        ),
        Case(
            "payload not JSON, no typ",
            _hmac({"alg": "HS256"}, b"role=admin", secret),
            "a signed string, no claims",
        ),
        Case(
            "payload not JSON, typ JWT",
            _hmac({"alg": "HS256", "typ": "JWT"}, b"role=admin", secret),
            "the same with typ JWT",
        ),
        Case(
            "payload null, typ JWT",
            _hmac({"alg": "HS256", "typ": "JWT"}, b"null", secret),
            "a JSON null for claims",
        ),
        Case(
            "exp a string",
            sign_token({**claims, "exp": str(t + 3600)}, secret, "HS256"),
            "exp as text",
        ),
        Case(
            "exp 1e400 (Infinity)",
            _hmac({"alg": "HS256", "typ": "JWT"}, b'{"sub":"alice","exp":1e400}', secret),
            "a number too big for a double",
        ),
        Case(
            "duplicate exp, the last in an hour",
            _hmac(
                {"alg": "HS256", "typ": "JWT"},
                f'{{"sub":"alice","exp":{t - 3600},"exp":{t + 3600}}}'.encode(),
                secret,
            ),
            "two exp members: parsers differ on which wins",
        ),
        Case(
            "iat in the future",
            sign_token({**claims, "iat": t + 86400}, secret, "HS256"),
            "issued tomorrow",
        ),
        Case(
            "aud of another service",
            sign_token({**claims, "aud": "billing"}, secret, "HS256"),
            "a token minted for another API",
        ),
        Case(
            "sub a number",
            sign_token({**claims, "sub": 1234567890}, secret, "HS256"),
            "sub not a string (RFC 7519 section 4.1.2)",
        ),
        Case(
            "header with a lone extra character",
            _raw(tokens.b64url_encode(b'{"alg":"HS256","typ":"JWT"}') + "A", body, secret),
            "base64url that holds fewer than 8 bits in its last character",
        ),
    ]
    return cases


def run_node(
    events: Sequence[dict[str, Any]], *, directory: Path | str = NODE_DIR, timeout: float = TIMEOUT
) -> list[Answer]:
    """Each event's answer from the article's ``index.js`` under Node.js (``run.js`` drives it).

    Raises ``ConfigurationError`` with one line saying what to install when node,
    the project or its ``node_modules`` are missing, or when node fails.
    """
    folder = Path(directory)
    node = _node(folder)
    try:
        done = subprocess.run(
            [node, "run.js"],
            cwd=folder,
            input=json.dumps(list(events)),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "NODE_OPTIONS": ""},
        )
    except subprocess.TimeoutExpired:
        raise ConfigurationError(f"the Node original did not answer within {timeout:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigurationError(f"node run.js failed (exit {done.returncode}): {last}")
    try:
        results = json.loads(done.stdout)
    except ValueError:
        raise ConfigurationError("node run.js did not print a JSON list of answers") from None
    if not isinstance(results, list) or len(results) != len(events):
        raise ConfigurationError("node run.js answered other than once per event")
    return [_answer(result["answer"], result["error"]) for result in results]


def run_python(events: Iterable[dict[str, Any]]) -> list[Answer]:
    """Each event's answer from ``labkit.aws.article.handler``, with the port's reason."""
    answers = []
    for event in events:
        policy = article.handler(event)
        try:
            jwt.verify(event.get("authorizationToken"), article.SECRET)
            error = None
        except (jwt.JsonWebTokenError, jwt.JavaScriptError) as exc:
            error = f"{exc.name}: {exc.message}"
        answers.append(_answer(policy, error))
    return answers


def parity(cases: Sequence[Case] | None = None, *, directory: Path | str = NODE_DIR) -> list[Row]:
    """Every case through the Node original and the Python port, one ``Row`` each."""
    cases = corpus() if cases is None else list(cases)
    events = [case.event for case in cases]
    node_answers = run_node(events, directory=directory)
    python_answers = run_python(events)
    return [Row(*row) for row in zip(cases, node_answers, python_answers, strict=True)]


def table(rows: Sequence[Row]) -> str:
    """The parity table as text: token, Node, Python, and the reason jsonwebtoken gave."""
    width = max((len(row.case.name) for row in rows), default=5)
    lines = [f"{'token':<{width}}  Node   Python  jsonwebtoken's reason", "-" * (width + 50)]
    for row in rows:
        mark = "" if row.same else "   <-- differs: " + (row.python.error or "accepted")
        verdicts = f"{row.node.effect:<5}  {row.python.effect:<6}"
        lines.append(f"{row.case.name:<{width}}  {verdicts}  {_reason(row.node.error)}{mark}")
    agree = sum(row.same for row in rows)
    lines.append(f"{agree} of {len(rows)} tokens: the same policy and the same reason")
    return "\n".join(lines)


def show(*, directory: Path | str = NODE_DIR) -> None:
    """Print the parity table; without node, print why and the Python port's answers alone."""
    cases = corpus()
    try:
        rows = parity(cases, directory=directory)
    except ConfigurationError as exc:
        print(f"The Node original cannot run here: {exc}")
        for case, answer in zip(cases, run_python(case.event for case in cases), strict=True):
            print(f"{case.name}: {answer.effect} ({answer.error or 'accepted'})")
        return
    print(table(rows))


# Tokens by hand ---------------------------------------------------------------------------------


def _none_cases(claims: dict[str, Any], signature: str) -> list[Case]:
    """``alg: none`` in four casings: empty signature, no signature segment, a real signature."""
    cases = []
    for forgery in none.forge_none(claims):
        alg = tokens.parse(forgery.token).header["alg"]
        unsigned = forgery.token[:-1]
        cases += [
            Case(f"alg {alg}, empty signature", forgery.token, "header.payload."),
            Case(f"alg {alg}, no signature segment", unsigned, "header.payload"),
            Case(
                f"alg {alg}, HS256 signature kept",
                f"{forgery.token}{signature}",
                "header.payload.sig",
            ),
        ]
    return cases


def _hmac(
    header: dict[str, Any], payload: dict[str, Any] | bytes, secret: str, *, alg: str = "HS256"
) -> str:
    """HMAC-SHA2 over ``header`` and ``payload`` as given, whatever the header's ``alg`` says."""
    return _raw(
        tokens.b64url_encode(tokens.json_bytes(header)),
        tokens.b64url_encode(tokens.json_bytes(payload)),
        secret,
        alg=alg,
    )


def _raw(head: str, body: str, secret: str = article.SECRET, *, alg: str = "HS256") -> str:
    """``head.body`` as given (any characters), signed with HMAC under ``secret``."""
    digest = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}[alg]
    mac = hmac.digest(secret.encode(), f"{head}.{body}".encode(), digest)
    return f"{head}.{body}.{tokens.b64url_encode(mac)}"


def _padded(claims: dict[str, Any], secret: str) -> str:
    """A token whose segments keep base64's '=' padding, signed over the padded text."""
    head = _padded_b64(b'{"alg":"HS256","typ":"JWT"}')
    return _raw(head, _padded_b64(tokens.json_bytes(claims)), secret)


def _padded_b64(data: bytes) -> str:
    """Base64url with its padding, the JSON grown by spaces until there is some to keep."""
    while len(data) % 3 == 0:
        data += b" "
    return base64.urlsafe_b64encode(data).decode("ascii")


def _twin_encoding(signature: str) -> str:
    """The same bytes under another last character: flip a bit the decoder ignores.

    A 32-byte HMAC-SHA256 is 43 base64url characters: 258 bits for 256, so the
    last character's two low bits are stray.
    """
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    return signature[:-1] + alphabet[last ^ 1]


def _reason(error: str | None) -> str:
    """jsonwebtoken's reason for the table; V8's ``JSON.parse`` wording changes between versions."""
    if error is None:
        return "-"
    return "SyntaxError (thrown by JSON.parse)" if error.startswith("SyntaxError:") else error


def _answer(policy: dict[str, Any], error: dict[str, str] | str | None) -> Answer:
    effect = policy["policyDocument"]["Statement"][0]["Effect"]
    if isinstance(error, dict):
        error = f"{error['name']}: {error['message']}"
    return Answer(effect, policy, error)


def _node(folder: Path) -> str:
    """The node executable, once the project and its pinned ``jsonwebtoken`` are in place."""
    node = shutil.which("node")
    if node is None:
        raise ConfigurationError(
            "node is not on PATH: install Node.js (Debian: apt-get install nodejs npm)"
        )
    if not (folder / "run.js").is_file():
        raise ConfigurationError(
            f"{folder} has no run.js: the Node original ships in the kit's checkout, not the wheel"
        )
    pinned = json.loads((folder / "package.json").read_text())["dependencies"]["jsonwebtoken"]
    installed = folder / "node_modules" / "jsonwebtoken" / "package.json"
    if not installed.is_file():
        raise ConfigurationError(
            f"jsonwebtoken is not installed in {folder}: run `make node-deps` (npm ci)"
        )
    version = json.loads(installed.read_text())["version"]
    if version != pinned:
        raise ConfigurationError(
            f"{folder} has jsonwebtoken {version}, the lockfile pins {pinned}: run `make node-deps`"
        )
    return node
