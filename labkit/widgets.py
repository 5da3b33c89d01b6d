"""ipywidgets for the notebooks: a token inspector and a tamper playground.

Both are thin on purpose: the inspector shows what ``tokens.parse`` and
``tokens.lint`` say, and the playground sends tokens to ``labkit.verify``, to
the verifiers of ``labkit.vulnerable`` (whatever that module holds when it
runs) or to a local gateway over real HTTP. A widget decides nothing itself, so
what a learner sees in one is exactly what the notebooks' code does. Bad input
is shown inline as one line, never as a traceback.
"""

from __future__ import annotations

import html
import importlib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import ipywidgets as w
from cryptography.hazmat.primitives import serialization

from labkit import algorithms, claims, examples, keys, outbound, tokens
from labkit.attacks import confusion, crack, injection, none, psychic
from labkit.display import PALETTE, ColouredToken, pretty_json
from labkit.errors import ConfigurationError, InvalidTokenError, LabkitError
from labkit.verify import verify

__all__ = [
    "ATTACKS",
    "SERVICES",
    "Result",
    "Service",
    "TamperPlayground",
    "TokenInspector",
    "verifiers",
]

Verifier = Callable[..., Any]

_ACCEPTED, _REJECTED = PALETTE["signature"], PALETTE["header"]  # Okabe-Ito green, vermillion
_TIME_CLAIMS = ("iat", "nbf", "exp")
_LAB_CLOCK = examples.LAB_CLAIMS["iat"] + 30 * 60  # 09:30 on the lab's day, as in notebook 03
_HTTP_TIMEOUT = 5.0  # seconds: a loopback gateway answers in milliseconds
_GATEWAY = "gateway URL (HTTP GET, Authorization: Bearer)"


# The token inspector -----------------------------------------------------------------------------


class TokenInspector(w.VBox):
    """Paste a token: its three parts in colour, header and payload decoded, and findings.

    The findings are ``labkit.tokens.lint``'s, with the time checks on ``now``
    (the real clock by default) and the guessable-secret check on ``wordlist``
    (the kit's bundled list by default). Nothing here verifies the signature.
    """

    def __init__(
        self,
        token: str | None = "",
        *,
        now: claims.Now = None,
        wordlist: tokens.Wordlist = True,
    ) -> None:
        if token is None:
            token = ""
        elif isinstance(token, bytes):
            token = token.decode("ascii", "replace")  # split() names the non-token characters
        if not isinstance(token, str):
            raise ConfigurationError(
                f"TokenInspector takes the token as text, got {type(token).__name__}",
                "pass the compact token: TokenInspector('eyJ...')",
            )
        if now is not None:
            claims.clock(now)  # a bad clock is the caller's mistake, not the token's: say so now
        self.now = now
        self.wordlist = wordlist
        self.notes: list[str] = []
        self.problem: str | None = None
        self.decoded: tokens.Token | None = None
        self.token = _classed(
            w.Textarea(
                value=token,
                placeholder="Paste a JWT here: header.payload.signature",
                layout=w.Layout(width="100%", height="5em"),
            ),
            "labkit-inspector-token",
        )
        self.message = _classed(w.HTML(), "labkit-inspector-message")
        self.parts = _classed(w.HTML(), "labkit-inspector-parts")
        self.header = _classed(w.HTML(), "labkit-inspector-header")
        self.payload = _classed(w.HTML(), "labkit-inspector-payload")
        self.findings = _classed(w.HTML(), "labkit-inspector-findings")
        decoded = w.HBox(
            [_titled("Header", self.header), _titled("Payload", self.payload)],
            layout=w.Layout(width="100%", grid_gap="2em"),
        )
        super().__init__(
            [self.token, self.message, self.parts, decoded, self.findings], layout=_full()
        )
        self.add_class("labkit-inspector")
        self.token.observe(lambda _change: self.inspect(), names="value")
        self.inspect()

    def inspect(self) -> None:
        """Decode and lint what is in the box now (runs on every edit)."""
        text = self.token.value.strip()
        self.notes, self.problem, self.decoded = [], None, None
        for view in (self.message, self.parts, self.header, self.payload, self.findings):
            view.value = ""
        if not text:
            self.message.value = _line("Paste a token above to take it apart.", "#000")
            return
        try:
            self.decoded = tokens.parse(text)
            self.notes = tokens.lint(
                self.decoded, now=claims.clock(self.now), wordlist=self.wordlist
            )
        except Exception as exc:  # whatever the input, one line, never a traceback
            self.problem = _one_line(exc)
            self.message.value = _line(f"⚠ Not a token I can decode: {self.problem}", _REJECTED)
            return
        self.parts.value = ColouredToken(text)._repr_html_()
        self.header.value = _pre(pretty_json(self.decoded.header))
        self.payload.value = _pre(pretty_json(self.decoded.payload)) + _dates(self.decoded.payload)
        self.findings.value = _findings(self.notes, len(self.decoded.signature))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)  # in full: ipywidgets would cut it at 110 characters
        return bundle

    def __repr__(self) -> str:
        if self.decoded is None:
            return f"TokenInspector: {self.problem or 'empty'}"
        lines = [
            "TokenInspector (decoded, NOT verified)",
            f"   header: {json.dumps(self.decoded.header)}",
            f"  payload: {json.dumps(self.decoded.payload)}",
            *(f"  finding: {note}" for note in self.notes),
        ]
        return "\n".join(lines)


# The tamper playground ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """What a service verifies with (its one algorithm and key) and the key it issues tokens with.

    ``verifying_key`` is what every verifier is given: a secret for HS*, a public
    key as PEM text otherwise (the form that key-confusion bugs misuse).
    """

    name: str
    alg: str
    verifying_key: Any
    signing_key: Any

    @classmethod
    def demo(cls, alg: str) -> Service:
        """A service on the kit's DEMO ONLY key for ``alg``."""
        private = keys.demo_key_for(alg)
        if isinstance(private, bytes):
            return cls(f"{alg}, demo secret", alg, private, private)
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(f"{alg}, demo key pair", alg, public.decode("ascii"), private)

    def issue(self, claims_: Mapping[str, Any]) -> str:
        """A genuine token from this service."""
        return algorithms.sign_token(dict(claims_), self.signing_key, self.alg)


SERVICES: tuple[str, ...] = ("HS256", "RS256", "ES256")
"""The playground's ready-made services: the algorithm of a DEMO ONLY key each."""


@dataclass(frozen=True)
class Result:
    """What happened to the last token sent: accepted, rejected, or could not be sent."""

    verdict: Literal["accepted", "rejected", "error"]
    target: str
    reason: str
    token: str | None = None

    def __str__(self) -> str:
        if self.verdict == "error":
            return f"⚠ not sent to {self.target}: {self.reason}"
        icon = "✅" if self.verdict == "accepted" else "❌"
        return f"{icon} {self.verdict} by {self.target}: {self.reason}"


@dataclass(frozen=True)
class _Draft:
    """What an attack starts from: the edited header and payload, the genuine token, the service."""

    header: dict[str, Any]
    payload: dict[str, Any]
    original: str
    service: Service
    key: Any  # the key chosen for "re-sign", if any


def _tamper(d: _Draft) -> str:
    return tokens.encode(d.header, d.payload, tokens.parse(d.original).signature)


def _resign(d: _Draft) -> str:
    signature = algorithms.sign(
        d.header.get("alg"), d.key, tokens.signing_input(d.header, d.payload)
    )
    return tokens.encode(d.header, d.payload, signature)


def _alg_none(d: _Draft) -> str:
    return none.forge_none(d.payload, header=d.header)[0].token


def _empty_secret(d: _Draft) -> str:
    return none.forge_empty_secret(d.payload, header=d.header).token


def _key_confusion(d: _Draft) -> str:
    # The first candidate is the public key's PEM exactly as the service holds it.
    return confusion.forge_confusion(d.service.verifying_key, d.payload, header=d.header)[0].token


def _jwk_injection(d: _Draft) -> str:
    return injection.forge_jwk(d.payload).token


def _kid_traversal(d: _Draft) -> str:
    return injection.forge_kid_traversal(d.payload).token


def _kid_sql(d: _Draft) -> str:
    return injection.forge_kid_sql(d.payload).token


def _psychic(d: _Draft) -> str:
    return psychic.forge(d.payload, header=d.header).token


def _cracked(d: _Draft) -> str:
    found = crack.crack(d.original)  # the bundled wordlist; raises for non-HS tokens
    if found.secret is None:
        raise LabkitError(f"the service's secret is not in the bundled wordlist ({found})")
    header = {**d.header, "alg": tokens.parse(d.original).header["alg"]}
    return _resign(_Draft(header, d.payload, d.original, d.service, found.secret))


ATTACKS: dict[str, Callable[[_Draft], str]] = {
    "keep the original signature (tamper)": _tamper,
    "re-sign with a key": _resign,
    "alg none: no signature": _alg_none,
    "empty secret: HS256 with an empty key": _empty_secret,
    "weak secret: crack it, then re-sign": _cracked,
    "key confusion: HS256 with the service's public key": _key_confusion,
    "jwk injection: embed my own public key": _jwk_injection,
    "kid traversal: kid=../dev/null, empty HS256 key": _kid_traversal,
    "kid SQL injection: kid selects my own secret": _kid_sql,
    "psychic signature: ES256 with r = s = 0": _psychic,
}
"""How the playground makes the token it sends, by the label it shows.

The attacks call the forgers of ``labkit.attacks``; those that imitate a header
keep the edited one (with their own ``alg``), the others write their own.
"""


def verifiers() -> dict[str, Verifier]:
    """``labkit.verify``, then every verifier in ``labkit.vulnerable`` as that module is now.

    Looked up on each call, so verifiers added to the zoo appear without a list
    here to update. A verifier is a public function of that module that takes
    ``(token, key, *, algorithms, ...)`` like ``labkit.verify``.
    """
    found: dict[str, Verifier] = {"labkit.verify": verify}
    try:
        zoo = importlib.import_module("labkit.vulnerable")
    except ModuleNotFoundError as exc:
        if exc.name != "labkit.vulnerable":
            raise
        return found
    functions = [
        fn
        for name, fn in vars(zoo).items()
        if not name.startswith("_")
        and inspect.isfunction(fn)
        and fn.__module__ == zoo.__name__
        and _verifier_shaped(fn)
    ]
    for fn in sorted(functions, key=lambda fn: fn.__code__.co_firstlineno):  # the file's order
        found[f"vulnerable.{fn.__name__}"] = fn
    return found


class TamperPlayground(w.VBox):
    """Edit a genuine token, forge it (or re-sign it) and send it to a verifier or a gateway.

    ``service`` is who issued the token and what every verifier is configured
    with: ``"HS256"``, ``"RS256"``, ``"ES256"`` (DEMO ONLY keys) or a ``Service``.
    ``now`` is the verifiers' clock: by default 09:30 on the lab's day when the
    playground issues Alice's lab token itself, the real clock for a ``token``
    you pass. ``verifier_keys`` gives a verifier another key by name, for those
    that look keys up elsewhere (a key folder, a database); ``gateway_url`` fills
    in the URL of a running local gateway.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        service: str | Service = "HS256",
        now: claims.Now = None,
        audience: str | None = examples.LAB_CLAIMS["aud"],
        issuer: str | None = examples.LAB_CLAIMS["iss"],
        verifier_keys: Mapping[str, Any] | None = None,
        gateway_url: str = "",
    ) -> None:
        self.now = _LAB_CLOCK if now is None and token is None else now
        self.audience, self.issuer = audience, issuer
        self.verifier_keys = dict(verifier_keys or {})
        self.result: Result | None = None
        self._given_token = token
        self._verifiers = verifiers()
        if isinstance(service, Service):
            services: dict[str, str | Service] = {service.name: service}
        elif service in SERVICES:
            services = {Service.demo(name).name: name for name in SERVICES}
        else:
            raise ConfigurationError(
                f"no service {service!r}; give one of {', '.join(SERVICES)} or a Service"
            )
        self.service = w.Dropdown(options=services, value=service, description="Service")
        self.reset = w.Button(description="Reset", tooltip="back to the genuine token")
        self.header = _editor("labkit-playground-header")
        self.payload = _editor("labkit-playground-payload")
        self.attack = w.Dropdown(options=list(ATTACKS), description="Sign", layout=_full())
        self.key = w.Dropdown(options=[*keys.DEMO_KEYS, "my own secret"], description="Key")
        self.secret = w.Text(placeholder="the secret to sign with", description="Secret")
        self.target = w.Dropdown(options=[*self._verifiers, _GATEWAY], description="Send to")
        self.url = w.Text(value=gateway_url, placeholder="http://127.0.0.1:PORT/api/profile")
        self.send = w.Button(description="Send", button_style="primary", icon="paper-plane")
        self.sent = _classed(w.HTML(), "labkit-playground-sent")
        self.verdict = _classed(w.HTML(), "labkit-playground-verdict")
        super().__init__(self._layout(), layout=_full())
        self.add_class("labkit-playground")
        self.service.observe(lambda _change: self.load(), names="value")
        for control in (self.attack, self.key, self.target):
            control.observe(lambda _change: self._show_options(), names="value")
        self.reset.on_click(lambda _button: self.load())
        self.send.on_click(lambda _button: self.run())
        self.load()

    @property
    def current_service(self) -> Service:
        """The service picked in the dropdown."""
        value = self.service.value
        return value if isinstance(value, Service) else Service.demo(value)

    def load(self) -> None:
        """Fill the editors with the genuine token: the one passed in, or one the service issues."""
        service = self.current_service
        self.original = self._given_token or service.issue(examples.LAB_CLAIMS)
        own = [n for n in keys.DEMO_KEYS if keys.demo_private_key(n) is service.signing_key]
        self.key.value = own[0] if own else self.key.value  # "re-sign" starts with its own key
        parsed = tokens.parse(self.original)
        self.header.value = pretty_json(parsed.header)
        self.payload.value = pretty_json(parsed.payload)
        self.sent.value = self.verdict.value = ""
        self.result = None
        self._show_options()

    def run(self) -> Result:
        """Make the token as the controls say, send it, and show (and return) what happened."""
        target = self.target.value
        try:
            token = self.forge()
        except Exception as exc:  # bad JSON, a key that does not fit, an attack that cannot apply
            self.sent.value = ""
            return self._show(Result("error", target, f"cannot make the token: {_one_line(exc)}"))
        self.sent.value = ColouredToken(token)._repr_html_()
        if target == _GATEWAY:
            return self._show(_send_http(self.url.value.strip(), token))
        return self._show(self._call(target, token))

    def forge(self) -> str:
        """The token the controls describe (raises a one-line error if they cannot make one)."""
        header = _json_object(self.header.value, "header")
        payload = _json_object(self.payload.value, "payload")
        draft = _Draft(header, payload, self.original, self.current_service, self._signing_key())
        return ATTACKS[self.attack.value](draft)

    def _call(self, name: str, token: str) -> Result:
        service = self.current_service
        key = self.verifier_keys.get(name.rpartition(".")[2], service.verifying_key)
        options = {"algorithms": [service.alg], "audience": self.audience, "issuer": self.issuer}
        try:
            claims_ = self._verifiers[name](token, key, now=self.now, **options)
        except InvalidTokenError as exc:
            return Result("rejected", name, f"{type(exc).__name__}: {exc}", token)
        except ConfigurationError as exc:  # e.g. a verifier that wants a key folder, not a key
            short = name.rpartition(".")[2]
            why = f"{exc} (give it one with verifier_keys={{{short!r}: ...}})"
            return Result("error", name, why, token)
        except Exception as exc:  # a crash is a refusal too (a real service answers 500)
            return Result("rejected", name, f"it crashed with {_one_line(exc)}", token)
        return Result("accepted", name, f"it returned the claims {json.dumps(claims_)}", token)

    def _signing_key(self) -> Any:
        if self.attack.value != "re-sign with a key":
            return None
        if self.key.value == "my own secret":
            return self.secret.value
        return keys.demo_private_key(self.key.value)

    def _show(self, result: Result) -> Result:
        self.result = result
        colour = {"accepted": _ACCEPTED, "rejected": _REJECTED}.get(result.verdict, "#000")
        self.verdict.value = _line(str(result), colour)
        return result

    def _show_options(self) -> None:
        resign = self.attack.value == "re-sign with a key"
        _visible(self.key, resign)
        _visible(self.secret, resign and self.key.value == "my own secret")
        _visible(self.url, self.target.value == _GATEWAY)

    def _layout(self) -> list[w.Widget]:
        editors = w.HBox(
            [_titled("Header (JSON)", self.header), _titled("Payload (JSON)", self.payload)],
            layout=w.Layout(width="100%", grid_gap="1em"),
        )
        return [
            w.HBox([self.service, self.reset]),
            editors,
            self.attack,
            w.HBox([self.key, self.secret]),
            w.HBox([self.target, self.url]),
            self.send,
            self.sent,
            self.verdict,
        ]

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:  # stable: stored notebook outputs must not change as the zoo grows
        return "TamperPlayground: edit the token, pick how to sign it and where to send it, Send"


# Helpers -----------------------------------------------------------------------------------------


def _send_http(url: str, token: str) -> Result:
    """GET ``url`` with the token as a Bearer credential; loopback only, like the whole kit.

    The URL passes ``labkit.outbound``, the kit's one outbound-URL guard, which
    judges it exactly as ``requests`` sends it: a ``user@host`` or backslash
    URL, ``127.1`` or a name other than ``localhost`` is refused before any
    packet, so the token never reaches another machine.
    """
    try:
        destination = outbound.judge(url, outbound.LOOPBACK)
    except outbound.HostNotAllowedError as exc:
        why = "the playground only talks to this machine (127.0.0.1, localhost, ::1)"
        return Result("error", url, f"refused to send a token to {exc.host}: {why}")
    except outbound.UnsafeURLError as exc:
        hint = "give a URL like http://127.0.0.1:PORT/path"
        return Result("error", url or "the gateway", f"{hint} ({exc.message})")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        reply = outbound.fetch(destination, headers=headers, timeout=_HTTP_TIMEOUT)
    except outbound.FetchError as exc:
        return Result("error", url, f"cannot reach it ({exc.kind})")
    except outbound.UnsafeRequestError as exc:  # a token that is not one line of ASCII
        return Result("error", url, f"cannot send this token in a header ({exc.message})")
    body = reply.text.strip()
    body = body if len(body) <= 200 else body[:200] + "…"
    verdict = "accepted" if 200 <= reply.status < 300 else "rejected"
    return Result(verdict, url, f"HTTP {reply.status} {body}", token)


def _verifier_shaped(fn: Callable[..., Any]) -> bool:
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 and any(p.name == "algorithms" for p in params)


def _json_object(text: str, part: str) -> dict[str, Any]:
    value = tokens.load_json(text, part, error=LabkitError)  # one line for any bad JSON
    if not isinstance(value, dict):
        raise LabkitError(f"the {part} must be a JSON object {{...}}")
    return value


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    if isinstance(exc, LabkitError):
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _findings(notes: list[str], signature_bytes: int) -> str:
    items = "".join(f"<li>⚠ {html.escape(note)}</li>" for note in notes)
    found = f"<ul style='margin:0.2em 0'>{items}</ul>" if notes else "<div>No findings.</div>"
    return (
        f"<div><b>Findings</b> ({len(notes)})</div>{found}"
        f"<div style='font-size:90%'>Signature: {signature_bytes} bytes, <b>not checked</b>: "
        "decoding is not verifying.</div>"
    )


def _dates(payload: dict[str, Any]) -> str:
    rows = []
    for name in _TIME_CLAIMS:
        value = payload.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                rows.append(f"{name}: {claims.as_datetime(value).isoformat()}")
            except LabkitError:  # beyond the years 1 to 9999
                rows.append(f"{name}: out of range")
    return f"<div style='font-size:90%'>{html.escape('; '.join(rows))}</div>" if rows else ""


def _pre(text: str) -> str:
    return f"<pre style='margin:0;white-space:pre-wrap'>{html.escape(text)}</pre>"


def _line(text: str, colour: str) -> str:
    return f"<div style='color:{colour}'>{html.escape(text)}</div>"


def _titled(title: str, body: w.Widget) -> w.VBox:
    return w.VBox([w.HTML(f"<b>{html.escape(title)}</b>"), body], layout=w.Layout(flex="1 1 0"))


def _editor(css_class: str) -> w.Textarea:
    return _classed(w.Textarea(layout=w.Layout(width="100%", height="12em")), css_class)


def _full() -> w.Layout:
    # A fresh Layout each time: a module-level one would create a widget model on import.
    return w.Layout(width="100%")


def _classed(widget: Any, css_class: str) -> Any:
    widget.add_class(css_class)
    return widget


def _visible(widget: w.Widget, shown: bool) -> None:
    widget.layout.display = "" if shown else "none"
