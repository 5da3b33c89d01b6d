"""`labkit scan` against real jwt_tool 2.2.7 (``-M at``), preset by preset, in the same run.

    .venv/bin/python bench/scanner_vs_jwt_tool.py [--counts] [JWT_TOOL_DIR] [PYTHON]

For every local preset (``labkit.aws.presets.available()``, so presets added later are
measured too), a fresh service is served on 127.0.0.1 and scanned twice, each tool given what a
tester would hold for it (``bench/held.py``):

- ``labkit.scan`` (the scanner behind ``labkit scan``): Alice's header token for most presets;
  for the nine of ``labkit.capstone.SCAN_NEEDS``, what the real client holds: the browser
  demo's cookie (``--cookie``) or fingerprint cookie (``--send-cookie``), an ID token
  (``--id-token``) or another API's access token (``--other-token``) from the IdP's code flow,
  or a DPoP-bound token and its key (``DpopTarget``, ``--dpop-key``).
- jwt_tool's all-tests playbook, run as ``bench/jwt_tool_presets.py`` runs it
  (``-M at -np -cv alice -pk SERVICE.pem -ju LOOPBACK_JWKS``: see that file for why each
  option), with the same service and token where it can take them: the token in
  ``Authorization: Bearer`` (``-rh``), or in its cookie with the client's other cookies (``-rc``,
  jwt_tool's request-cookies option, which substitutes each forged token into the cookie that
  holds a JWT); the fingerprint cookie goes beside the header token with ``-rc``. jwt_tool has
  no input for a second token, and it cannot sign DPoP proofs: on the dpop-* presets it gets the
  bound token as a Bearer token, which only a service that does not enforce DPoP accepts.

Printed per preset, for both tools: requests sent, wall time (serving the preset and the logins
that tool's inputs need included, for both), whether the preset's flaw
(``labkit.capstone.PRESET_FLAWS``) was found, and the other flaws reported; then a line naming
what each tool was given and everything it found; then totals and the ratios jwt_tool / labkit
for requests and time, measured in this run.

"Found", for labkit: the report's root causes. jwt_tool names no flaws, so each probe it printed
``[+] FOUND "alice"`` above (its baseline and persistence requests left out) is mapped to the
kit's flaw that probe tests (``_JWT_TOOL_FLAWS`` below: alg none and the stripped signature to
unsigned-token-accepted, the common-secret list to weak-hmac-secret, and so on), then reduced to
root causes with the scan's own rule (``labkit.scan.findings._EXPLAINS``: an unverified
signature explains every other forgery), so both columns count the same way.

jwt_tool is not part of the kit: ``make bench-scanner-vs-jwt-tool`` puts ticarpi/jwt_tool at
the pinned commit in ``.cache/jwt_tool`` and its requirements (termcolor, cprint,
pycryptodomex, requests, from PyPI) into a venv of its own there. Without that checkout, or
with ``--counts``, jwt_tool's side is the request count it is known to send per target (571,
measured with ``bench/jwt_tool_presets.py``), its time and verdicts are not measured, and the
output says so on its first line.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt_tool_presets as jwt_tool  # bench/ is on sys.path when this file runs as a script
import requests
from held import KIND, Held, held

from labkit import capstone, scan, tokens
from labkit.attacks import injection
from labkit.aws import presets
from labkit.scan.findings import _EXPLAINS, FLAWS

KNOWN_JWT_TOOL_REQUESTS = 571
"""Requests jwt_tool 2.2.7's ``-M at`` sends to one target (issue 16; bench/jwt_tool_presets.py)."""

_JWT_TOOL_FLAWS: tuple[tuple[str, str], ...] = (
    # (text in jwt_tool's probe name, the kit's flaw that probe tests), first match wins
    ("Prescan: no token", "no-authentication"),
    ("Broken signature", "signature-not-verified"),  # the playbook's and the prescan's
    ("Claim processing check", "signature-not-verified"),  # edited claim, original signature
    ("(-X a)", "unsigned-token-accepted"),
    ("(-X n)", "unsigned-token-accepted"),  # jwt_tool's null signature: the signature stripped
    ("(-X b)", "empty-hmac-secret"),
    ("alternative accepted HMAC signatures", "weak-hmac-secret"),
    ("RSA Key Confusion", "algorithm-confusion"),
    ("(-X i)", "jwk-injection"),  # "Exploit: Injected JWKS": before the claim injection below
    ("(-X s)", "jku-injection"),
    ('kid="[path traversal]/dev/null"', "kid-path-traversal"),
    ('kid="/dev/null"', "kid-path-traversal"),
    ("from SQLi", "kid-sql-injection"),
    ("Injected kid claim", "empty-hmac-secret"),  # the other kid probes sign with the empty key
    ("Injected ", "signature-not-verified"),  # -M er / cc claim injection, original signature
    ("(-X a)", "unsigned-token-accepted"),
    ("(-X n)", "unsigned-token-accepted"),  # jwt_tool's null signature: the signature stripped
    ("(-X b)", "empty-hmac-secret"),
    ("alternative accepted HMAC signatures", "weak-hmac-secret"),
    ("RSA Key Confusion", "algorithm-confusion"),
    ("(-X i)", "jwk-injection"),
    ("(-X s)", "jku-injection"),
)


@dataclass
class Side:
    """One tool's run against one preset."""

    requests: int
    seconds: float | None  # None: not measured (jwt_tool's known count only)
    flaws: list[str] | None  # root causes; None: not measured
    given: str
    notes: list[str] = field(default_factory=list)

    def verdict(self, expected: str | None) -> tuple[str, list[str]]:
        """Whether ``expected`` was found (``-`` for hardened), and the other flaws reported."""
        if self.flaws is None:
            return "-", []
        found = "-" if expected is None else "yes" if expected in self.flaws else "no"
        return found, [f for f in self.flaws if f != expected]


def main(argv: list[str]) -> int:
    counts_only = "--counts" in argv
    argv = [a for a in argv if a != "--counts"]
    tool = (Path(argv[0]) if argv else jwt_tool.ROOT / ".cache" / "jwt_tool").absolute()
    python = (Path(argv[1]) if len(argv) > 1 else tool / "venv" / "bin" / "python").absolute()
    real = not counts_only and (tool / "jwt_tool.py").is_file() and python.is_file()
    home = tool / "home"
    if real:
        jwt_tool._configure(tool, python, home)
        print(f"jwt_tool {jwt_tool._version(tool)} from {tool}, -M at, run for real\n")
    else:
        why = "--counts" if counts_only else f"no jwt_tool.py in {tool} or no python at {python}"
        print(
            f"jwt_tool NOT run ({why}): its side is the {KNOWN_JWT_TOOL_REQUESTS} requests "
            "it is known to send per target; its time and verdicts are not measured\n"
        )
    print(
        f"{'':<21} {'---------------- labkit ----------------':<42}"
        f"{'---------------- jwt_tool --------------':<42} {'jwt_tool/labkit':>15}"
    )
    print(f"{'preset':<21} {_head()}{_head()} {'req x':>7} {'time x':>7}")
    runs = []
    for preset in presets.available():
        expected = capstone.PRESET_FLAWS.get(preset.name)
        ours = _labkit(preset.name)
        theirs = (
            _jwt_tool(preset.name, tool, python, home)
            if real
            else Side(KNOWN_JWT_TOOL_REQUESTS, None, None, "not run (known count)")
        )
        runs.append((preset.name, expected, ours, theirs))
        print(_row(preset.name, expected, ours, theirs))
    print("\nwhat each tool was given, and every flaw it reported (root causes):")
    for name, _, ours, theirs in runs:
        print(f"{name}")
        for label, side in (("labkit", ours), ("jwt_tool", theirs)):
            shown = "-" if side.flaws is None else ", ".join(side.flaws) or "none"
            notes = "".join(f"; {n}" for n in side.notes)
            print(f"  {label:<9} given {side.given}\n  {'':<9} found {shown}{notes}")
    print(_totals(runs, real))
    return 0


def _labkit(name: str) -> Side:
    """One scan with what the tester holds, against a fresh service (no authorizer cache).

    Timed like jwt_tool's side: serving the preset and the logins are inside the clock.
    """
    started = time.perf_counter()
    with held(name) as holding:
        given = f"labkit scan {holding.given}"
        try:
            report = holding.report()
        except scan.ScanError as exc:  # a target the scan cannot baseline
            return Side(0, time.perf_counter() - started, [], given, [f"error: {exc.message}"])
        seconds = time.perf_counter() - started
    return Side(report.requests, seconds, report.flaws, given)


def _jwt_tool(name: str, tool: Path, python: Path, home: Path) -> Side:
    """jwt_tool -M at with the same service and token; its probes mapped to the kit's flaws."""
    started = time.perf_counter()
    with held(name, extras=False) as holding, tempfile.TemporaryDirectory() as work:
        kid = tokens.parse(holding.token).header.get("kid")
        with injection.serve_jwks(jwt_tool._spoof_jwks(home, kid)) as jwks_server:
            with requests.Session() as session:  # loopback: no proxy from the environment
                session.trust_env = False
                published = session.get(f"{holding.base}/.well-known/jwks.json", timeout=10)
            pem = jwt_tool._service_pem(published.json(), kid, Path(work))
            where, given = _carry(name, holding)
            command = [str(python), "jwt_tool.py", "-t", holding.url, *where]
            command += ["-M", "at", "-np", "-cv", jwt_tool.CANARY, "-ju", jwks_server.url]
            command += [] if pem is None else ["-pk", str(pem)]
            output = jwt_tool._run(command, tool, home)
    seconds = time.perf_counter() - started  # includes serving the preset and the login
    sent, accepted, baseline = _parse(output)
    flaws = _root_causes({_jwt_tool_flaw(probe) for probe in accepted})
    notes = [f"{len(accepted)} probes accepted"]
    notes += [] if baseline else ["its own baseline (the token as given) was refused"]
    return Side(sent, seconds, flaws, given, notes)


def _carry(name: str, holding: Held) -> tuple[list[str], str]:
    """jwt_tool's options carrying the token the way the client sends it, and a description."""
    given = "jwt_tool -M at -pk SERVICE.pem -ju LOOPBACK_JWKS"
    if holding.cookie is not None:
        jar = {holding.cookie: holding.token, **holding.cookies}
        cookies = "; ".join(f"{k}={v}" for k, v in jar.items())
        return ["-rc", cookies], f"{given} -rc '{holding.cookie}=TOKEN' (its cookie option)"
    where = ["-rh", f"Authorization: Bearer {holding.token}"]
    given += " -rh 'Authorization: Bearer TOKEN'"
    if holding.cookies:
        where += ["-rc", "; ".join(f"{k}={v}" for k, v in holding.cookies.items())]
        given += f" -rc '{','.join(holding.cookies)}=...' (the fingerprint cookie)"
    if name.startswith("dpop-"):
        given += " (the DPoP-bound token as Bearer: jwt_tool cannot sign DPoP proofs)"
    elif KIND.get(name) in ("id-token", "api-id-token", "other-token"):
        given += " (the code-flow access token: jwt_tool takes no second token)"
    return where, given


def _parse(output: str) -> tuple[int, list[str], bool]:
    """Requests jwt_tool sent, the attack probes it flagged, whether its baseline was accepted."""
    sent, accepted, baseline, previous = 0, [], False, ""
    for raw in output.splitlines():
        line = jwt_tool._ANSI.sub("", raw).strip()
        match = jwt_tool._LINE.match(line)
        if match:
            sent += 1
            probe, found = match.group(2), previous.startswith("[+] FOUND")
            if probe.startswith("Prescan: original token"):
                baseline = found
            elif found and not probe.startswith(jwt_tool._BASELINE):
                accepted.append(probe)
        previous = line
    return sent, accepted, baseline


def _jwt_tool_flaw(probe: str) -> str:
    for text, flaw in _JWT_TOOL_FLAWS:
        if text in probe:
            return flaw
    return f"unmapped jwt_tool probe {probe!r}"


def _root_causes(flaws: set[str]) -> list[str]:
    """The scan's own reduction: a flaw another flaw explains is not reported on its own."""
    hidden = set().union(*(_EXPLAINS.get(f, frozenset()) & flaws for f in flaws))
    known = [f for f in FLAWS if f in flaws and f not in hidden]
    return known + sorted(f for f in flaws if f not in FLAWS)


def _head() -> str:
    return f"{'req':>5} {'time':>7} {'flaw':<5} {'extra flaws':<21} "


def _cells(side: Side, expected: str | None) -> str:
    took = "-" if side.seconds is None else f"{side.seconds:.2f}s"
    found, extra = side.verdict(expected)
    shown = "-" if side.flaws is None else ", ".join(extra) or "none"
    shown = shown if len(shown) <= 21 else shown[:18] + "..."
    return f"{side.requests:>5} {took:>7} {found:<5} {shown:<21} "


def _row(name: str, expected: str | None, ours: Side, theirs: Side) -> str:
    req_x = f"{theirs.requests / ours.requests:.1f}" if ours.requests else "-"
    time_x = (
        f"{theirs.seconds / ours.seconds:.1f}"
        if theirs.seconds is not None and ours.seconds
        else "-"
    )
    return f"{name:<21} {_cells(ours, expected)}{_cells(theirs, expected)} {req_x:>7} {time_x:>7}"


def _totals(runs: list[tuple[str, str | None, Side, Side]], real: bool) -> str:
    flawed = [r for r in runs if r[1] is not None]
    lines = ["\nall presets:"]
    for label, index in (("labkit", 2), ("jwt_tool", 3)):
        sides = [r[index] for r in runs]
        sent = sum(s.requests for s in sides)
        line = f"  {label:<9} {sent} requests"
        if label == "labkit" or real:
            seconds = sum(s.seconds or 0.0 for s in sides)
            found = sum(r[index].verdict(r[1])[0] == "yes" for r in flawed)
            extra = sum(len(r[index].verdict(r[1])[1]) for r in runs)
            line += f" in {seconds:.1f} s, {found} of {len(flawed)} presets' flaws found"
            line += f", {extra} other flaws reported"
        lines.append(line)
    ours = sum(r[2].requests for r in runs)
    theirs = sum(r[3].requests for r in runs)
    ratio = f"  jwt_tool / labkit: {theirs / ours:.1f}x the requests" if ours else ""
    if real and ours:
        seconds = sum(r[2].seconds or 0.0 for r in runs)
        ratio += f", {sum(r[3].seconds or 0.0 for r in runs) / seconds:.1f}x the time"
    return "\n".join([*lines, ratio])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
