"""What a scan can report: the flaws, each probe's attempt, the findings, the report.

``FLAWS`` lists every root cause a scan can name, with its fix and the notebook
that teaches it. A ``ScanReport`` shows itself as a table: text in a terminal
(``str``), JSON-ready data (``to_dict``), an HTML table in Jupyter.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["accepted", "refused", "error", "skipped"]


# What can be wrong, and what each probe tests ----------------------------------------------------


@dataclass(frozen=True)
class Flaw:
    """One root cause a scan can report: its name, the fix, and the notebook that teaches it."""

    id: str
    attack: str
    fix: str
    notebook: str


FLAWS: dict[str, Flaw] = {
    f.id: f
    for f in (
        Flaw(
            "no-authentication",
            "No authentication: the endpoint answers without a token",
            "Put the authorizer in front of every route that is not public; deny by default.",
            "09-lambda-authorizer.ipynb",
        ),
        Flaw(
            "signature-not-verified",
            "Signature never verified: the claims are decoded and believed",
            "Verify the signature with your own keys before reading any claim (labkit.verify, "
            "jwt.decode with algorithms=[...]); never decode() where verify() is meant.",
            "04-unverified-and-none.ipynb",
        ),
        Flaw(
            "unsigned-token-accepted",
            "Unsigned token accepted: alg none, or an empty signature",
            "Pin the algorithms you accept (never none, in any casing) and refuse a token "
            "whose signature is empty.",
            "04-unverified-and-none.ipynb",
        ),
        Flaw(
            "empty-hmac-secret",
            "Empty HMAC secret: anyone can sign with the empty key",
            "Refuse to start without a secret of 32+ random bytes; never default it to ''.",
            "04-unverified-and-none.ipynb",
        ),
        Flaw(
            "weak-hmac-secret",
            "Guessable HMAC secret: cracked offline from one token",
            "Use 32+ random bytes (secrets.token_bytes(32)) and rotate it; better, sign with "
            "RS256/ES256 so services hold only public keys.",
            "05-weak-secrets.ipynb",
        ),
        Flaw(
            "algorithm-confusion",
            "Algorithm confusion: the RSA public key accepted as an HS256 secret",
            "Fix the algorithm per key in your configuration; never let the token's header "
            "choose it, and keep HMAC secrets and public keys apart.",
            "06-algorithm-confusion.ipynb",
        ),
        Flaw(
            "jwk-injection",
            "jwk injection: the key embedded in the token verifies it (CVE-2018-0114)",
            "Take keys only from your configuration (a pinned key or your IdP's JWKS); ignore jwk.",
            "07-header-injection.ipynb",
        ),
        Flaw(
            "jku-injection",
            "jku injection: keys fetched from the URL the token names",
            "Fetch keys only from the JWKS URL you configured; never follow jku (it is also SSRF).",
            "07-header-injection.ipynb",
        ),
        Flaw(
            "kid-path-traversal",
            "kid path traversal: ../../dev/null makes an empty HMAC key",
            "Use kid only to pick a key from a fixed set loaded at start-up, never as a path.",
            "07-header-injection.ipynb",
        ),
        Flaw(
            "kid-sql-injection",
            "kid SQL injection: UNION SELECT returns the attacker's secret",
            "Look kid up in a fixed key set (or with a parameterised query), never in SQL text.",
            "07-header-injection.ipynb",
        ),
        Flaw(
            "psychic-signature",
            "Psychic signature: ES256 r = s = 0 verifies (CVE-2022-21449)",
            "Patch the runtime (Java 17.0.3 / 18.0.1 or later); use a library that checks "
            "0 < r, s < n.",
            "08-psychic-signatures.ipynb",
        ),
        Flaw(
            "expiry-not-enforced",
            "Expired token accepted: exp is not checked",
            "Check exp on every request with a small leeway (30-60 s), and require it.",
            "03-claims-and-validation.ipynb",
        ),
        Flaw(
            "long-lived-token",
            "Long-lived token: no exp, or a lifetime over an hour",
            "Issue access tokens that live minutes, with refresh tokens; revoke on logout.",
            "10-api-platform.ipynb",
        ),
        Flaw(
            "plain-http",
            "Token sent over plain HTTP to a non-local host",
            "Always use HTTPS: anyone on the path can copy a bearer token.",
            "10-api-platform.ipynb",
        ),
        # Browser flaws (notebook 14; labkit.scan.probes.BROWSER_PROBES)
        Flaw(
            "cookie-csrf",
            "Cookie-carried token accepted on a cross-site state-changing request (CSRF)",
            "On POST/PUT/PATCH/DELETE with a cookie-carried token, require an allowed Origin and "
            "a CSRF token the page sends in a header; set SameSite=Strict or Lax too.",
            "14-tokens-in-the-browser.ipynb",
        ),
        Flaw(
            "fingerprint-not-checked",
            "Sidejacked token accepted: its fingerprint cookie is not checked",
            "When a token carries fgp (the SHA-256 of a random fingerprint), refuse it unless the "
            "HttpOnly fingerprint cookie hashes to it (OWASP JWT cheat sheet, token sidejacking).",
            "14-tokens-in-the-browser.ipynb",
        ),
    )
}
"""Every flaw a scan can report, by id."""

# A verifier that never checks signatures accepts every forgery: each of these flaws
# is then a symptom of that one root cause, not a finding of its own.
_SIGNATURE_FLAWS = frozenset(
    {
        "unsigned-token-accepted",
        "empty-hmac-secret",
        "weak-hmac-secret",
        "algorithm-confusion",
        "jwk-injection",
        "jku-injection",
        "kid-path-traversal",
        "kid-sql-injection",
        "psychic-signature",
    }
)
# Narrower root causes: a flaw (key) that makes another (values) pass as well.
_EXPLAINS = {
    "signature-not-verified": _SIGNATURE_FLAWS,
    "empty-hmac-secret": frozenset({"kid-path-traversal"}),  # /dev/null reads as the empty key
}

# Token types (notebook 13): genuine tokens of the same issuer, the wrong kind or audience.
FLAWS.update(
    (f.id, f)
    for f in (
        Flaw(
            "id-token-accepted",
            "ID token accepted as an access token: neither typ nor aud is checked",
            "Require typ at+jwt (RFC 9068 section 4) and your API's aud on every token; an ID "
            "token is for the client that logged in, never for an API.",
            "13-token-types-oidc.ipynb",
        ),
        Flaw(
            "typ-not-checked",
            "Token type not checked: a JWT that is no access token (typ not at+jwt) accepted",
            "Require the header typ at+jwt (labkit.verify(..., typ='at+jwt'); RFC 8725 section "
            "3.11), so the issuer's ID tokens and other JWTs cannot pass for access tokens.",
            "13-token-types-oidc.ipynb",
        ),
        Flaw(
            "audience-not-checked",
            "Audience not checked: an access token minted for another API replayed here",
            "Compare aud exactly with your API's identifier on every request (RFC 9068 section 4; "
            "RFC 7519 section 4.1.3).",
            "13-token-types-oidc.ipynb",
        ),
    )
)
# An API that checks neither typ nor aud lets both narrower probes through as well.
_EXPLAINS["id-token-accepted"] = frozenset({"typ-not-checked", "audience-not-checked"})


# DPoP (RFC 9449, notebook 15): the probes dpop-enforcement, dpop-replay, dpop-binding
FLAWS.update(
    (f.id, f)
    for f in (
        Flaw(
            "dpop-not-enforced",
            "DPoP not enforced: the DPoP-bound token works without a proof",
            "For a token with cnf.jkt, require a DPoP proof on every request and refuse it as "
            "Bearer (RFC 9449 sections 7.1 and 7.2): a stolen bound token is otherwise a bearer "
            "token again.",
            "15-sender-constrained-tokens.ipynb",
        ),
        Flaw(
            "dpop-proof-replay",
            "DPoP proof replay: the same proof is accepted twice",
            "Remember each proof's jti (hashed, with its URL) for as long as the proof could be "
            "accepted, and refuse a jti seen before (RFC 9449 section 11.1).",
            "15-sender-constrained-tokens.ipynb",
        ),
        Flaw(
            "dpop-proof-not-bound",
            "DPoP proof not bound to the request: htm, htu, ath, iat or the key go unchecked",
            "Check every item of RFC 9449 section 4.3: htm and htu against the request, ath "
            "against the token, iat within a short window, alg asymmetric, and the proof's key "
            "against cnf.jkt (labkit.dpop.verify_proof).",
            "15-sender-constrained-tokens.ipynb",
        ),
    )
)
_EXPLAINS["dpop-not-enforced"] = frozenset({"dpop-proof-replay", "dpop-proof-not-bound"})


@dataclass(frozen=True)
class Attempt:
    """One probe's outcome: what was sent, what came back, and the verdict on it."""

    probe: str
    flaw: str
    variant: str
    verdict: Verdict
    status: int | None = None
    detail: str = ""

    @property
    def evidence(self) -> str:
        """The status (or the verifier's answer) and what else was seen, in one phrase."""
        parts = [f"HTTP {self.status}" if self.status is not None else "", self.detail]
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class Finding:
    """One root-cause flaw, the attempts that prove it and the probes it explains."""

    flaw: Flaw
    attempts: tuple[Attempt, ...]
    explains: tuple[Attempt, ...] = ()

    @property
    def id(self) -> str:
        return self.flaw.id

    @property
    def evidence_lines(self) -> list[str]:
        """The proof: each accepted probe, then what the same flaw also let through."""
        lines = [f"{a.probe} ({a.variant}): {a.evidence}" for a in self.attempts]
        if self.explains:
            names = sorted({a.probe for a in self.explains})
            lines.append(f"also accepted because of it: {', '.join(names)}")
        return lines

    @property
    def evidence(self) -> str:
        """The proof in one line."""
        return "; ".join(self.evidence_lines)


@dataclass(frozen=True)
class ScanReport:
    """What a scan found: findings (root causes), every attempt, and what it cost.

    Shown as a table: ``str(report)`` in a terminal, an HTML table in Jupyter.
    ``exit_code`` is the CLI's: 0 clean, 1 findings.
    """

    target: str
    alg: str
    findings: tuple[Finding, ...]
    attempts: tuple[Attempt, ...]
    requests: int
    seconds: float
    baseline: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0

    @property
    def flaws(self) -> list[str]:
        """The ids of the flaws found, in the order of ``FLAWS``."""
        return [f.id for f in self.findings]

    def summary(self) -> str:
        """One line: verdict, token algorithm, requests and time (in ms: notebooks mask it)."""
        verdict = (
            "no findings"
            if self.clean
            else f"{len(self.findings)} finding{'s' if len(self.findings) > 1 else ''}: "
            + ", ".join(self.flaws)
        )
        took = f"{self.seconds * 1e3:.1f} ms"
        return f"{self.target}: {verdict} ({self.alg} token, {self.requests} requests, {took})"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``labkit scan --json``)."""
        return {
            "target": self.target,
            "alg": self.alg,
            "clean": self.clean,
            "requests": self.requests,
            "seconds": round(self.seconds, 4),
            "baseline": list(self.baseline),
            "findings": [
                {
                    "id": f.id,
                    "attack": f.flaw.attack,
                    "evidence": f.evidence,
                    "fix": f.flaw.fix,
                    "notebook": f"learner/{f.flaw.notebook}",
                    "probes": [a.probe for a in f.attempts],
                    "explains": sorted({a.probe for a in f.explains}),
                }
                for f in self.findings
            ],
            "attempts": [
                {
                    "probe": a.probe,
                    "flaw": a.flaw,
                    "variant": a.variant,
                    "verdict": a.verdict,
                    "status": a.status,
                    "detail": a.detail,
                }
                for a in self.attempts
            ],
            "notes": list(self.notes),
        }

    def text(self) -> str:
        """The terminal table: the findings, then every probe's verdict."""
        lines = [self.summary()]
        if self.baseline:
            lines.append(f"baseline: {'; '.join(self.baseline)}")
        for number, finding in enumerate(self.findings, 1):
            lines += [
                "",
                f"{number}. {finding.flaw.attack} [{finding.id}]",
                f"   evidence: {finding.evidence}",
                f"   fix:      {finding.flaw.fix}",
                f"   learn:    learner/{finding.flaw.notebook}",
            ]
        lines += ["", f"{'probe':<19} {'verdict':<9} {'variant':<30} evidence"]
        for a in self.attempts:
            lines.append(f"{a.probe:<19} {a.verdict:<9} {_cut(a.variant, 30):<30} {a.evidence}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return _html(self)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# HTML --------------------------------------------------------------------------------------------

_VERDICT_COLOURS = {
    "accepted": "#D55E00",
    "refused": "#009E73",
    "error": "#000000",
    "skipped": "#999999",
}


def _html(report: ScanReport) -> str:
    e = html.escape
    colour = "#009E73" if report.clean else "#D55E00"
    parts = [f'<p style="font-weight:bold;color:{colour}">{e(report.summary())}</p>']
    if report.baseline:
        parts.append(f"<p>baseline: {e('; '.join(report.baseline))}</p>")
    if report.findings:
        rows = "".join(
            f"<tr><td><b>{e(f.flaw.attack)}</b><br><code>{e(f.id)}</code></td>"
            f"<td>{'<br>'.join(e(line) for line in f.evidence_lines)}</td>"
            f"<td>{e(f.flaw.fix)}</td>"
            f'<td><a href="{e(f.flaw.notebook)}">{e(f.flaw.notebook[:2])}</a></td></tr>'
            for f in report.findings
        )
        parts.append(
            "<table><thead><tr><th>Finding</th><th>Evidence</th><th>Fix</th><th>Learn</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    cells = "".join(
        f"<tr><td><code>{e(a.probe)}</code></td>"
        f'<td style="color:{_VERDICT_COLOURS[a.verdict]};font-weight:bold">{e(a.verdict)}</td>'
        f"<td>{e(a.variant)}</td><td>{e(a.evidence)}</td></tr>"
        for a in report.attempts
    )
    parts.append(
        f"<details><summary>All {len(report.attempts)} probes</summary><table><thead><tr>"
        "<th>Probe</th><th>Verdict</th><th>Variant</th><th>Evidence</th></tr></thead>"
        f"<tbody>{cells}</tbody></table></details>"
    )
    parts += [f"<p><i>note: {e(note)}</i></p>" for note in report.notes]
    return "".join(parts)
