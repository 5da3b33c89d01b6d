"""A scan report as JUnit XML, the test-report format Jenkins, GitLab and GitHub reporters read.

One ``<testsuite>`` per scan (inside ``<testsuites>``), one ``<testcase>`` per
probe, in the order the scan ran them, then every probe of ``PROBE_IDS`` that
did not run (so a probe added to ``labkit.scan.probes`` shows up here with no
change), then the two checks made without sending anything (token lifetime,
transport):

- accepted: ``<failure type="FLAW-ID" message="...">`` with the evidence and
  the fix; a probe accepted only because of a broader root cause names it;
- skipped (not applicable, or the budget ran out): ``<skipped message="why">``;
- refused: a passing test case; a probe the target answered with a 5xx keeps
  passing (it is not an acceptance) and says so in ``<system-out>``.

The output is valid against the JUnit schema Jenkins's xunit plugin publishes
(``junit-10.xsd``, kept in tests/schemas/ with its provenance; the tests
validate every report against it) and carries what GitLab's unit test reports
read: ``name``, ``tests``, ``failures``, ``errors`` on the suite, ``name`` and
``classname`` on every case, a ``type`` and ``message`` on ``<failure>``.
Written with ``xml.etree``; everything but ``time`` and ``timestamp`` is
deterministic.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import urlsplit

from labkit.scan.findings import Attempt, Finding, ScanReport
from labkit.scan.probes import PROBE_IDS
from labkit.scan.redact import redacted_url, scrubbed

__all__ = ["STATIC_CHECKS", "dumps", "to_junit"]

STATIC_CHECKS = {"token lifetime": "long-lived-token", "transport": "plain-http"}
"""Checks read from the token and the URL, not sent: the probe name and the flaw it reports."""


def to_junit(
    report: ScanReport, url: str | None = None, *, timestamp: datetime | None = None
) -> ET.Element:
    """``report`` as a ``<testsuites>`` element with one ``<testsuite>``.

    The URL's credentials (userinfo, secret-looking query values) and anything
    shaped like a token are written as ``***``, as in the SARIF report.
    """
    url = None if url is None else redacted_url(url)
    where = url or report.target
    classname = _clean(_classname(url) if url else f"labkit.scan.{report.target.split(' ')[-1]}")
    owner = _owners(report.findings)
    cases: list[ET.Element] = []
    seen: set[str] = set()
    sent = {id(a) for a in report.attempts}
    static = [a for f in report.findings for a in f.attempts if id(a) not in sent]
    for attempt in (*report.attempts, *static):  # static: read from the token or the URL
        if attempt.probe in seen:  # never two cases of one name: reporters merge them
            continue
        seen.add(attempt.probe)
        cases.append(_case(attempt, owner.get(id(attempt)), classname))
    stopped = _stopped_reason(report)
    for probe in PROBE_IDS:
        if probe not in seen:
            seen.add(probe)
            case = ET.Element("testcase", name=probe, classname=classname)
            ET.SubElement(case, "skipped", message=stopped)
            cases.append(case)
    for check in STATIC_CHECKS:
        if check not in seen:  # checked, nothing found: a pass
            cases.append(ET.Element("testcase", name=check, classname=classname))
    failures = sum(1 for c in cases if c.find("failure") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    moment = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
    suite = ET.Element(
        "testsuite",
        name=_clean(f"labkit scan {where}"),
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{report.seconds:.3f}",
        timestamp=moment.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    properties = ET.SubElement(suite, "properties")
    facts = {
        "target": redacted_url(report.target),
        "alg": report.alg,
        "requests": str(report.requests),
        "findings": ", ".join(report.flaws) or "none",
    }
    for name, value in facts.items():
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    suite.extend(cases)
    said = [*report.baseline, *(f"note: {n}" for n in report.notes)]
    if said:
        ET.SubElement(suite, "system-out").text = _clean("\n".join(said))
    root = ET.Element(
        "testsuites",
        name="labkit scan",
        tests=suite.get("tests", "0"),
        failures=str(failures),
        errors="0",
        time=suite.get("time", "0"),
    )  # junit-10.xsd has no skipped count on <testsuites>, only on <testsuite>
    root.append(suite)
    return root


def dumps(element: ET.Element) -> str:
    """The XML document as text: declaration, two-space indents, a final newline."""
    ET.indent(element, space="  ")
    body = ET.tostring(element, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _case(attempt: Attempt, finding: Finding | None, classname: str) -> ET.Element:
    case = ET.Element("testcase", name=_clean(attempt.probe), classname=classname)
    if attempt.verdict == "accepted":
        root = finding.flaw if finding is not None else None
        flaw = root.id if root is not None else attempt.flaw
        message = f"accepted: {attempt.variant}" if attempt.variant else "accepted"
        failure = ET.SubElement(case, "failure", type=flaw, message=_clean(message))
        lines = [f"{attempt.probe} ({attempt.variant}): {attempt.evidence}"]
        if root is not None and root.id != attempt.flaw:
            lines.append(f"root cause: {root.id} ({root.attack}); it lets {attempt.flaw} through")
        elif root is not None:
            lines.append(root.attack)
        if root is not None:
            lines += [f"fix: {root.fix}", f"learn: learner/{root.notebook}"]
        failure.text = _clean("\n".join(lines))
    elif attempt.verdict == "skipped":
        ET.SubElement(case, "skipped", message=_clean(attempt.detail or "not applicable"))
    else:
        text = f"{attempt.verdict}: {attempt.variant}: {attempt.evidence}".rstrip(": ")
        if attempt.verdict == "error":
            text += " (the target failed on this probe; a verifier should refuse, not fall over)"
        ET.SubElement(case, "system-out").text = _clean(text)
    return case


def _owners(findings: tuple[Finding, ...]) -> dict[int, Finding]:
    """Each accepted attempt (by identity) -> the finding that proves or explains it."""
    owner: dict[int, Finding] = {}
    for finding in findings:
        for attempt in (*finding.attempts, *finding.explains):
            owner.setdefault(id(attempt), finding)
    return owner


def _stopped_reason(report: ScanReport) -> str:
    if "no-authentication" in report.flaws:
        return "not run: the endpoint answers without any token, so no forgery can tell more"
    return "not run"


def _classname(url: str) -> str:
    """``labkit.scan.127_0_0_1_8000_api_profile``: reporters group cases by it.

    Jenkins splits a classname at its last dot into package and class, so the
    host and path keep no dots.
    """
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]  # never userinfo
    slug = "".join(c if c.isascii() and c.isalnum() else "_" for c in host + parts.path)
    return f"labkit.scan.{slug.strip('_') or 'target'}"


def _clean(text: str) -> str:
    """Text XML 1.0 can carry: control characters (from a target's answer) become U+FFFD.

    Anything shaped like a token becomes ``***`` first (``redact.scrubbed``).
    """
    text = scrubbed(text)
    return "".join(
        c
        if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or c > "\uffff"
        else "\ufffd"
        for c in text
    )
