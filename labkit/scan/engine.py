"""The scan engine: baseline, every probe in turn, the claim probes, then the root causes."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from labkit import tokens
from labkit.attacks import crack as cracking
from labkit.attacks import injection
from labkit.errors import LabkitError
from labkit.scan.findings import _EXPLAINS, FLAWS, Attempt, Finding, Verdict
from labkit.scan.probes import (
    PROBE_IDS,
    PROBES,
    _expired,
    _number,
    _Probe,
    _Skip,
    escalate,
    run_browser_probes,
)
from labkit.scan.transport import ScanError, _Answer, _Budget, _Transport

MAX_LIFETIME = 3600
"""Access tokens living longer than this many seconds are reported (the article: short expiry)."""


class _Scan:
    """One scan's state: the token, the lazily made resources, and the attempts so far."""

    def __init__(
        self,
        transport: _Transport,
        token: str,
        parsed: tokens.Token,
        public_key: Any,
        expired_token: str | None,
        wordlist: Any,
        stack: ExitStack,
        id_token: str | None = None,
        other_token: str | None = None,
    ) -> None:
        self.id_token = id_token  # the token-type probes' inputs (labkit.scan.probes)
        self.other_token = other_token
        self.transport = transport
        self.token = token
        self.parsed = parsed
        self.header = dict(parsed.header)
        self.claims = dict(parsed.payload)
        self.alg = str(parsed.header.get("alg"))
        self.expired_token = expired_token
        self.wordlist = wordlist
        self.stack = stack
        self._public_key = public_key
        self._server: injection.KeyServer | None = None
        self.attempts: list[Attempt] = []
        self.baseline: list[str] = []
        self.notes: list[str] = []
        self.working: _Probe | None = None  # the first probe whose forgery was accepted
        self.working_variant = ""

    def run(self) -> tuple[tuple[Finding, ...], tuple[Attempt, ...], tuple[str, ...]]:
        self._baseline()
        static = self._static_findings()
        if self._unprotected():
            found = (self._finding("no-authentication", self.attempts), *static)
            return found, tuple(self.attempts), ()
        try:
            for probe in PROBES:
                self._run(probe, self.claims)
            self._expired()
            self._escalation()
            self.attempts += run_browser_probes(self, getattr(self.transport, "cookies", {}))
        except _Budget:
            self.notes.append(
                f"the request budget ({self.transport.max_requests}) ran out; later probes skipped"
            )
            done = {a.probe for a in self.attempts}
            self.attempts += [
                Attempt(p, "", "", "skipped", detail="request budget spent")
                for p in PROBE_IDS
                if p not in done
            ]
        errors = [a.probe for a in self.attempts if a.verdict == "error"]
        if errors:
            self.notes.append(
                "the target failed (5xx or a crash) on: "
                + ", ".join(errors)
                + "; a verifier should refuse bad tokens, not fall over"
            )
        findings = (*self._root_causes(), *static)
        return findings, tuple(self.attempts), tuple(self.notes)

    # Baseline -------------------------------------------------------------------------------------

    def _baseline(self) -> None:
        answer = self._send(self.token)
        if _no_such_route(answer):
            raise ScanError(
                f"the target answered {_answer_text(answer)} to the valid token "
                f"({self.transport.label}): the path may be wrong, no route seems to exist there",
                "check the URL's path; API Gateway REST APIs answer 403 "
                "'Missing Authentication Token' to a path that has no route",
            )
        if not answer.accepted:
            raise ScanError(
                f"the target refused the valid token ({_answer_text(answer)})",
                "check the token (not expired? for this API?), --header/--cookie and --canary",
            )
        self.baseline.append(f"valid token accepted ({_answer_text(answer)})")

    def _unprotected(self) -> bool:
        """True (and recorded) when a request without any token is accepted too."""
        answer = self._send(None)
        if not answer.accepted:
            self.baseline.append(f"no token refused ({_answer_text(answer)})")
            return False
        self.attempts.append(
            Attempt(
                "no-token",
                "no-authentication",
                "no token at all",
                "accepted",
                answer.status,
                _join(answer.detail, "if that answer is a login page, pass --canary"),
            )
        )
        return True

    def _static_findings(self) -> tuple[Finding, ...]:
        """What the token and the URL show without sending anything: lifetime, plain HTTP."""
        found = []
        exp, iat = self.claims.get("exp"), self.claims.get("iat")
        if not _number(exp):
            detail = "the token has no exp: it never expires"
        elif _number(iat) and exp - iat > MAX_LIFETIME:
            detail = f"the token lives {_duration(exp - iat)} (exp - iat)"
        else:
            detail = ""
        if detail:
            found.append(("long-lived-token", "token lifetime", detail))
        origin = self.transport.origin or ""
        if origin.startswith("http://") and not self.transport.local:
            found.append(("plain-http", "transport", "the URL is http://, not https://"))
        return tuple(
            self._finding(flaw, [Attempt(probe, flaw, "read, not sent", "accepted", None, detail)])
            for flaw, probe, detail in found
        )

    # Probes ---------------------------------------------------------------------------------------

    def _run(self, probe: _Probe, claims: dict[str, Any], name: str | None = None) -> Attempt:
        """Send the probe's forgeries in turn until one is accepted; record the outcome.

        Under another ``name`` (a claim probe reusing the technique that worked),
        only the variant that worked is sent.
        """
        name = name or probe.id
        try:
            variants = probe.forge(self, claims)
            if name != probe.id:
                variants = [v for v in variants if v[0] == self.working_variant] or variants
        except _Skip as skip:
            return self._record(Attempt(name, probe.flaw, "", "skipped", detail=str(skip)))
        except LabkitError as exc:  # a forger that cannot work on this token
            return self._record(
                Attempt(name, probe.flaw, "", "skipped", detail=f"not applicable: {exc.message}")
            )
        attempt = Attempt(name, probe.flaw, "", "skipped", detail="nothing to send")
        sent = 0
        fetched_before = len(self._server.requests) if self._server is not None else 0
        for variant, token in variants:
            answer = self._send(token)
            sent += 1
            verdict: Verdict = (
                "accepted" if answer.accepted else "error" if _failed(answer) else "refused"
            )
            attempt = Attempt(name, probe.flaw, variant, verdict, answer.status, answer.detail)
            if answer.accepted:
                attempt = replace(attempt, detail=_join(attempt.detail, self._echo(answer, claims)))
                break
        if sent > 1 and attempt.verdict != "accepted":
            attempt = replace(attempt, variant=f"all {sent} variants")
        fetches = len(self._server.requests) - fetched_before if self._server is not None else 0
        if name == "jku" and fetches:
            fetched = f"the target fetched the scanner's key set ({fetches}x)"
            attempt = replace(attempt, detail=_join(attempt.detail, fetched))
            if attempt.verdict != "accepted":  # refused, but it still fetched: SSRF
                attempt = replace(attempt, verdict="accepted")
        if attempt.verdict == "accepted" and self.working is None and name == probe.id:
            self.working, self.working_variant = probe, attempt.variant
        return self._record(attempt)

    def _expired(self) -> None:
        """Replay an expired token: the one given, or one forged with the technique that worked."""
        if self.expired_token is not None:
            answer = self._send(self.expired_token)
            verdict: Verdict = "accepted" if answer.accepted else "refused"
            self._record(
                Attempt(
                    "expired-replay",
                    "expiry-not-enforced",
                    "the expired token given",
                    verdict,
                    answer.status,
                    answer.detail,
                )
            )
            return
        if self.working is None:
            self._record(
                Attempt(
                    "expired-replay",
                    "expiry-not-enforced",
                    "",
                    "skipped",
                    detail="needs an expired token of this service (--expired-token)",
                )
            )
            return
        probe = replace(self.working, flaw="expiry-not-enforced")
        attempt = self._run(probe, _expired(self.claims), name="expired-replay")
        self.attempts[-1] = replace(attempt, variant=f"via {self.working.id}: {attempt.variant}")

    def _escalation(self) -> None:
        """Claims tampering: role admin, forged by the technique that worked (or signature kept)."""
        probe = self.working or PROBES[1]
        attempt = self._run(probe, escalate(self.claims), name="role-escalation")
        self.attempts[-1] = replace(attempt, variant=f"via {probe.id}: role admin")

    def _send(self, token: str | None) -> _Answer:
        return self.transport.send(token)

    def _record(self, attempt: Attempt) -> Attempt:
        self.attempts.append(attempt)
        return attempt

    def _echo(self, answer: _Answer, claims: dict[str, Any]) -> str:
        """'answer shows role admin' when the target echoes an escalated claim back."""
        try:
            body = tokens.load_json(answer.body, "answer")
        except LabkitError:  # not JSON, or hostile JSON from the target
            return ""
        if not isinstance(body, dict):
            return ""
        shown = [
            f"{name} {value}"
            for name, value in claims.items()
            if value != self.claims.get(name) and body.get(name) == value
        ]
        return f"answer shows {', '.join(shown)}" if shown else ""

    # Resources ------------------------------------------------------------------------------------

    def cracked(self) -> bytes:
        if self.alg not in ("HS256", "HS384", "HS512"):
            raise _Skip(f"the token is {self.alg}, not HMAC-signed")
        if not hasattr(self, "_secret"):
            result = cracking.crack(self.token, self.wordlist, processes=1)
            self._secret, self._guesses = result.secret, result.guesses
        if self._secret is None:
            raise _Skip(f"the secret is not in the wordlist ({self._guesses} guesses, offline)")
        return self._secret

    def public_key(self) -> Any:
        if self._public_key is None:
            jwks = self.transport.get_json("/.well-known/jwks.json")
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
                raise _Skip("no public key: pass public_key (--public-key PEM)")
            self._public_key = jwks
        return self._public_key

    def key_server(self) -> injection.KeyServer:
        if self._server is None:
            jwks = injection.attacker_jwks(kid=self.header.get("kid"))
            self._server = self.stack.enter_context(injection.serve_jwks(jwks))
        return self._server

    # Root causes ----------------------------------------------------------------------------------

    def _root_causes(self) -> list[Finding]:
        accepted = [a for a in self.attempts if a.verdict == "accepted"]
        flaws = {a.flaw for a in accepted}
        explained = {flaw: _EXPLAINS.get(flaw, frozenset()) & flaws for flaw in flaws}
        hidden = set().union(*explained.values()) if explained else set()
        findings = []
        for flaw in FLAWS:
            if flaw not in flaws or flaw in hidden:
                continue
            proof = [a for a in accepted if a.flaw == flaw]
            also = [a for a in accepted if a.flaw in explained[flaw]]
            findings.append(self._finding(flaw, proof, also))
        return findings

    @staticmethod
    def _finding(flaw: str, proof: Sequence[Attempt], also: Sequence[Attempt] = ()) -> Finding:
        return Finding(FLAWS[flaw], tuple(proof), tuple(also))


def _no_such_route(answer: _Answer) -> bool:
    """404, or API Gateway's 403 for a path without a route (as ``labkit.aws.gateway`` cites)."""
    missing = answer.status == 403 and "Missing Authentication Token" in answer.body
    return answer.status == 404 or missing


def _failed(answer: _Answer) -> bool:
    return (answer.status is not None and answer.status >= 500) or answer.detail.startswith(
        "crashed"
    )


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def _answer_text(answer: _Answer) -> str:
    return _join(f"HTTP {answer.status}" if answer.status is not None else "", answer.detail)
