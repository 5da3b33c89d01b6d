"""A scan report as SARIF 2.1.0, the format GitHub code scanning and other CI dashboards read.

``to_sarif(report, url, ...)`` returns one SARIF log with one ``run``:

- ``tool.driver.rules``: one rule per root cause the scanner can report (every
  entry of ``FLAWS``, found or not, so dashboards know them all), with the fix as
  ``help``, the probes that test it, and ``properties.security-severity`` and
  ``tags`` so GitHub ranks the alerts as security results (GitHub's "SARIF
  support for code scanning": a score over 9.0 is critical, 7.0-8.9 high,
  4.0-6.9 medium, 3.9 or less low; a ``security`` tag marks a security rule).
- ``results``: one per finding, with the rule's level, the evidence in the
  message, and one location: the scanned URL. GitHub requires at least one
  location per result and rejects an absolute ``http`` artifact URI when it
  converts URIs against the checkout ("SARIF URI scheme did not match the
  checkout URI scheme", github/codeql-action#754), so the URL's path is a
  relative ``uri`` against the base id ``TARGET``, which
  ``run.originalUriBaseIds`` defines as the scanned origin (SARIF 2.1.0
  §3.14.14); a logical location repeats the method and full URL. A stable
  ``partialFingerprints`` (rule and URL) lets GitHub match a finding across runs
  without a source file to hash.
- ``invocations``: the command line (token values hidden), exit code, start and
  end time; ``automationDetails.id`` a category per target.

Everything but the two times is deterministic for the same report and URL.

The scores are the kit's rating of what each flaw gives an attacker, not CVSS
vectors: forging any identity is 9.8, replaying an expired token 6.5, and so on.
A flaw without a rating here (a probe added later) is rated 7.5 (high).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from requests.utils import requote_uri

from labkit import __version__
from labkit.scan.findings import FLAWS, Finding, Flaw, ScanReport
from labkit.scan.probes import PROBES
from labkit.scan.redact import _TOKEN_LIKE, HIDDEN, redacted_url, scrubbed

__all__ = ["SCHEMA_URI", "VERSION", "dumps", "redacted", "redacted_url", "scrubbed", "to_sarif"]

VERSION = "2.1.0"
SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
"""The OASIS schema this output follows (kept in tests/schemas/ with its provenance)."""
INFORMATION_URI = "https://github.com/jwt-lab-kit/jwt-lab-kit"
BASE_ID = "TARGET"
DEFAULT_SEVERITY = 7.5
SECRET_OPTIONS = ("--token", "--expired-token")
"""Options whose values are credentials: never written into a report."""

# Score (GitHub's security-severity) and CWE of each root cause.
_RATINGS: dict[str, tuple[float, tuple[int, ...]]] = {
    "no-authentication": (9.8, (306,)),
    "signature-not-verified": (9.8, (347,)),
    "unsigned-token-accepted": (9.8, (347,)),
    "empty-hmac-secret": (9.8, (347, 1391)),
    "weak-hmac-secret": (9.1, (521, 347)),
    "algorithm-confusion": (9.1, (347, 327)),
    "jwk-injection": (9.8, (347,)),
    "jku-injection": (9.8, (347, 918)),
    "kid-path-traversal": (9.8, (22, 347)),
    "kid-sql-injection": (9.8, (89, 347)),
    "psychic-signature": (9.8, (347,)),
    "expiry-not-enforced": (6.5, (613,)),
    "long-lived-token": (4.3, (613,)),
    "plain-http": (7.4, (319,)),
}
# Probes that are not forgeries in PROBES: what they test.
_OTHER_PROBES = {
    "no-authentication": ("no-token",),
    "expiry-not-enforced": ("expired-replay",),
    "long-lived-token": ("token lifetime",),
    "plain-http": ("transport",),
}


def to_sarif(
    report: ScanReport,
    url: str | None = None,
    *,
    arguments: Sequence[str] = (),
    exit_code: int | None = None,
    started: datetime | None = None,
    ended: datetime | None = None,
) -> dict[str, Any]:
    """``report`` as a SARIF 2.1.0 log (a dict ready for ``json.dump``).

    ``url`` is the scanned URL (None for a verifier function: the location is
    then the verifier's name). ``arguments`` is the command line (``sys.argv``);
    the values of ``--token`` and ``--expired-token`` are replaced by ``***``.
    ``exit_code`` defaults to the report's, the times to now.
    """
    now = datetime.now(timezone.utc)
    url = None if url is None else redacted_url(url)
    code = report.exit_code if exit_code is None else exit_code
    rules = [_rule(flaw) for flaw in FLAWS.values()]
    index = {flaw: i for i, flaw in enumerate(FLAWS)}
    location, origin = _location(report, url)
    args = redacted(arguments)
    invocation: dict[str, Any] = {
        "executionSuccessful": code in (0, 1),
        "exitCode": code,
        "startTimeUtc": _utc(started or now),
        "endTimeUtc": _utc(ended or now),
    }
    if args:
        invocation["commandLine"] = shlex.join(args)
        invocation["arguments"] = list(args[1:])
    notes = [*report.baseline, *report.notes]
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": text}} for text in notes
        ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "labkit scan",
                "fullName": f"JWT Lab Kit scanner (labkit scan {__version__})",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"labkit-scan/{_category(report, url)}/"},
        "invocations": [invocation],
        "results": [
            _result(f, index[f.id], location, url or report.target) for f in report.findings
        ],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "target": _redacted_target(report.target),
            "alg": report.alg,
            "requests": report.requests,
            "probes": [a.probe for a in report.attempts],
        },
    }
    if origin:
        run["originalUriBaseIds"] = {
            BASE_ID: {"uri": origin, "description": {"text": "the scanned service's origin"}}
        }
    return scrubbed({"$schema": SCHEMA_URI, "version": VERSION, "runs": [run]})


def dumps(log: dict[str, Any]) -> str:
    """The SARIF log as indented JSON text with a final newline (stable key order)."""
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def redacted(arguments: Sequence[str]) -> list[str]:
    """``arguments`` with the values of the credential options replaced by ``***``."""
    out: list[str] = []
    hide = False
    for arg in arguments:
        arg = str(arg)
        if hide:
            out.append("***" if arg != "-" else arg)  # '-' is stdin: nothing secret in it
            hide = False
        elif arg in SECRET_OPTIONS:
            out.append(arg)
            hide = True
        elif arg.startswith(tuple(f"{o}=" for o in SECRET_OPTIONS)):
            out.append(arg.split("=", 1)[0] + "=***")
        elif arg.lower().startswith(("http://", "https://")):
            out.append(redacted_url(arg))
        else:
            out.append(_TOKEN_LIKE.sub(HIDDEN, arg))
    return out


def severity(flaw: str) -> float:
    """The flaw's security-severity score (0.1-10; the kit's rating)."""
    return _RATINGS.get(flaw, (DEFAULT_SEVERITY, ()))[0]


def level(flaw: str) -> str:
    """SARIF level for the flaw: error from 7.0 (high, critical), warning from 4.0, else note."""
    score = severity(flaw)
    return "error" if score >= 7.0 else "warning" if score >= 4.0 else "note"


def probes_of(flaw: str) -> list[str]:
    """The probes whose acceptance proves ``flaw`` (forgeries, then the other checks)."""
    forged = [p.id for p in PROBES if p.flaw == flaw]
    return forged + [p for p in _OTHER_PROBES.get(flaw, ()) if p not in forged]


# Pieces --------------------------------------------------------------------------------------


def _rule(flaw: Flaw) -> dict[str, Any]:
    score, cwes = _RATINGS.get(flaw.id, (DEFAULT_SEVERITY, ()))
    probes = probes_of(flaw.id)
    tested = f" Tested by: {', '.join(probes)}." if probes else ""
    learn = f"learner/{flaw.notebook}"
    return {
        "id": flaw.id,
        "name": "".join(word.capitalize() for word in flaw.id.split("-")),
        "shortDescription": {"text": _sentence(flaw.attack.split(":", 1)[0])},
        "fullDescription": {"text": _sentence(flaw.attack) + tested},
        "help": {
            "text": f"{flaw.fix} Learn it in JWT Lab Kit: {learn}.",
            "markdown": f"**Fix:** {flaw.fix}\n\nLearn it in JWT Lab Kit: `{learn}`.",
        },
        "helpUri": INFORMATION_URI,
        "defaultConfiguration": {"level": level(flaw.id)},
        "properties": {
            "security-severity": f"{score:.1f}",
            "precision": "high",
            "problem.severity": level(flaw.id),
            "tags": ["security", "jwt", *(f"external/cwe/cwe-{n}" for n in cwes)],
        },
    }


def _result(finding: Finding, rule_index: int, location: dict[str, Any], where: str) -> dict:
    flaw = finding.flaw
    message = f"{_sentence(flaw.attack)} Evidence: {finding.evidence}. Fix: {flaw.fix}"
    fingerprint = hashlib.sha256(f"{flaw.id}\n{where}".encode()).hexdigest()[:16]
    return {
        "ruleId": flaw.id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": level(flaw.id),
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {"primaryLocationLineHash": f"{fingerprint}:1"},
        "properties": {
            "probes": [a.probe for a in finding.attempts],
            "explains": sorted({a.probe for a in finding.explains}),
            "evidence": finding.evidence_lines,
            "notebook": f"learner/{flaw.notebook}",
        },
    }


def _location(report: ScanReport, url: str | None) -> tuple[dict[str, Any], str | None]:
    """One location for every result: the URL's path against TARGET, and its logical name."""
    method = report.target.split(" ", 1)[0] if url else ""
    if url is None:  # a verifier function: nothing but its name to point at
        name = report.target.split(" ", 1)[-1] or "verifier"
        artifact = {"uri": _uri_path(name)}
        logical = {
            "name": name,
            "fullyQualifiedName": _redacted_target(report.target),
            "kind": "function",
        }
        return _located(artifact, logical), None
    url = requote_uri(url)  # as requests sends it: a valid URI reference
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    relative = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    artifact = {"uri": relative or ".", "uriBaseId": BASE_ID}
    full = f"{method} {url}".strip()
    logical = {"name": parts.path or "/", "fullyQualifiedName": full, "kind": "resource"}
    return _located(artifact, logical), origin


def _redacted_target(target: str) -> str:
    """``METHOD URL`` (or a verifier's name) with the URL's credentials hidden."""
    method, sep, rest = target.partition(" ")
    return f"{method}{sep}{redacted_url(rest)}" if sep else redacted_url(target)


def _located(artifact: dict[str, str], logical: dict[str, str]) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": artifact}, "logicalLocations": [logical]}


def _category(report: ScanReport, url: str | None) -> str:
    if url is None:
        return _uri_path(report.target)
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]  # never userinfo, even hidden
    return f"{host}{parts.path}".rstrip("/") or host


def _uri_path(text: str) -> str:
    """``text`` as a relative URI segment: anything but unreserved characters becomes '-'."""
    keep = "".join(c if c.isascii() and (c.isalnum() or c in "-._~") else "-" for c in text)
    return keep.strip("-") or "target"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _utc(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and 'Z', as SARIF's date-time properties use."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
