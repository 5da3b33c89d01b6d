"""`labkit scan`'s machine outputs for pipelines: SARIF 2.1.0, JUnit XML, exit codes.

Every SARIF file the scanner writes is validated against the OASIS schema kept in
tests/schemas/ (with its provenance), for every preset over real HTTP on loopback; the JUnit
report has one test case per probe; the exit codes are the documented ones (0 clean, 1
findings, 2 usage/refused/unreachable, always one line and never a traceback); and the
commands of docs/scanning-in-ci.md are real.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clirun import run_labkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labserver import free_port, group_alive, stop

import labkit
from labkit import capstone, cli, examples, keys, scan, vulnerable
from labkit.aws import presets, serve
from labkit.scan import junit, sarif
from labkit.scan.findings import FLAWS
from labkit.scan.probes import PROBE_IDS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
JUNIT_XSD = ROOT / "tests" / "schemas" / "junit-10.xsd"
JUNIT_XSD_SHA256 = "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"
DOC = ROOT / "docs" / "scanning-in-ci.md"
REHEARSAL = "<!-- ci-rehearsal: tests/test_scan_outputs.py runs the next block as a script -->"
PRESETS = [p.name for p in presets.available()]


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=jsonschema.FormatChecker())


def sarif_errors(validator: Any, log: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


@functools.cache
def junit_xsd() -> Any:
    """Jenkins's junit-10.xsd (tests/schemas/, with its provenance), as an XML Schema validator."""
    xmlschema = pytest.importorskip("xmlschema", reason="xmlschema validates the JUnit reports")
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def expected_flaws(preset: str) -> list[str]:
    """What a default scan (the header token alone) finds: nothing where SCAN_NEEDS more."""
    if preset == "hardened" or preset in capstone.SCAN_NEEDS:
        return []
    return [capstone.PRESET_FLAWS[preset]]


def test_the_schema_is_the_one_its_provenance_names() -> None:
    data = SCHEMA.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256
    provenance = (SCHEMA.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert SCHEMA_SHA256 in provenance and "oasis-tcs/sarif-spec" in provenance
    assert json.loads(data)["id"] == sarif.SCHEMA_URI


def test_the_junit_schema_is_the_one_its_provenance_names() -> None:
    assert hashlib.sha256(JUNIT_XSD.read_bytes()).hexdigest() == JUNIT_XSD_SHA256
    provenance = (SCHEMA.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert JUNIT_XSD_SHA256 in provenance and "jenkinsci/xunit-plugin" in provenance


def test_the_junit_schema_refuses_what_reporters_refuse() -> None:
    """The XSD check can fail: a suite without its counts, a case without a name."""
    xsd = junit_xsd()
    assert xsd.is_valid('<testsuite name="s" tests="0" failures="0" errors="0"/>')
    assert not xsd.is_valid('<testsuite name="s" tests="1"><testcase name="c"/></testsuite>')
    assert not xsd.is_valid(
        '<testsuite name="s" tests="1" failures="0" errors="0"><testcase/></testsuite>'
    )


def test_the_validator_checks_formats_and_refuses_a_broken_log(validator: Any) -> None:
    """The schema test can fail: a bad URI, a wrong level, a missing message are all caught."""
    assert not validator.format_checker.conforms("http://exa mple.com/", "uri")
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}
    assert sarif_errors(validator, good) == []
    bad_level = {**good, "runs": [{**good["runs"][0], "results": [{"level": "fatal"}]}]}
    assert sarif_errors(validator, bad_level)  # no message, and no such level
    bad_uri = {**good, "runs": [{**good["runs"][0], "originalUriBaseIds": {"T": {"uri": "a b:"}}}]}
    assert sarif_errors(validator, bad_uri)


# Every preset, over real HTTP: SARIF valid, JUnit complete, exit code, combined outputs ----------


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_writes_valid_sarif_junit_and_json_at_once(
    preset: str, validator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_sarif, out_junit = tmp_path / "scan.sarif", tmp_path / "scan.xml"
    with serve(preset) as api:
        url, token = f"{api.url}/api/profile", capstone.login(api.url)
        code = cli.main(
            [
                "scan",
                url,
                "--token",
                token,
                "--json",
                "--sarif",
                str(out_sarif),
                "--junit",
                str(out_junit),
            ]
        )
    flaws = expected_flaws(preset)
    assert code == (1 if flaws else 0)
    report = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in report["findings"]] == flaws

    text = out_sarif.read_text(encoding="utf-8")
    assert token not in text, "the token must never be written into a report CI uploads"
    log = json.loads(text)
    assert sarif_errors(validator, log) == []
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == flaws
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(FLAWS)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error"  # every preset's flaw forges a token: high or critical
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact == {"uri": "api/profile", "uriBaseId": "TARGET"}
        assert location["logicalLocations"][0]["fullyQualifiedName"] == f"GET {url}"
        assert "HTTP 200" in result["message"]["text"]
    assert run["originalUriBaseIds"]["TARGET"]["uri"] == f"{api.url}/"
    (invocation,) = run["invocations"]
    assert invocation["exitCode"] == code and invocation["executionSuccessful"] is True
    assert "--token '***'" in invocation["commandLine"]
    assert invocation["startTimeUtc"] <= invocation["endTimeUtc"]

    suites = ET.parse(out_junit).getroot()
    assert token not in out_junit.read_text(encoding="utf-8")
    check_junit_shape(suites)
    cases = {c.get("name"): c for c in suites.iter("testcase")}
    assert set(PROBE_IDS) <= set(cases), "every probe has its test case"
    failed = {
        c.find("failure").get("type") for c in cases.values() if c.find("failure") is not None
    }
    assert failed == set(flaws)
    assert cases["weak-secret"].find("skipped") is not None or preset in (
        "weak-secret",
        "kid-traversal",
    )  # an HS probe on an RS/ES token does not apply, and says why
    for case in cases.values():
        skipped = case.find("skipped")
        if skipped is not None:
            assert skipped.get("message"), f"{case.get('name')} skipped without a reason"


def check_junit_shape(suites: ET.Element) -> None:
    """What Jenkins's junit-10.xsd and GitLab's reader need: names, counts that add up."""
    assert suites.tag == "testsuites"
    (suite,) = suites.findall("testsuite")
    assert suite.get("name", "").startswith("labkit scan http")
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    junit_xsd().validate(suites)  # Jenkins's junit-10.xsd: raises on anything it refuses
    assert suite.get("tests") == suites.get("tests") == str(len(cases))
    assert suite.get("failures") == str(len(failures)) and suite.get("errors") == "0"
    assert suite.get("skipped") == str(len(skipped))
    float(suite.get("time", "x"))
    datetime.fromisoformat(suite.get("timestamp", "x"))
    assert [c.tag for c in suite] == ["properties", *["testcase"] * len(cases)] + (
        ["system-out"] if suite.find("system-out") is not None else []
    )
    names = [c.get("name") for c in cases]
    assert len(names) == len(set(names)), "one case per probe"
    for case in cases:
        assert case.get("name") and case.get("classname", "").startswith("labkit.scan.")
        assert "." not in case.get("classname", "").removeprefix("labkit.scan.")
        children = [child.tag for child in case]
        assert set(children) <= {"failure", "skipped", "system-out"}
        assert children.count("skipped") <= 1
        assert not ("failure" in children and "skipped" in children)
        for failure in case.findall("failure"):
            assert failure.get("type") in FLAWS and failure.get("message") and failure.text


def test_the_hardened_sarif_rates_every_rule_for_code_scanning(validator: Any) -> None:
    with serve("hardened") as api:
        report = scan.scan(f"{api.url}/api/profile", capstone.login(api.url))
    log = sarif.to_sarif(report, f"{api.url}/api/profile", exit_code=0)
    assert sarif_errors(validator, log) == []
    run = log["runs"][0]
    assert run["results"] == []
    for rule in run["tool"]["driver"]["rules"]:
        score = float(rule["properties"]["security-severity"])
        assert 0.1 <= score <= 10.0, rule["id"]
        assert "security" in rule["properties"]["tags"]
        assert rule["help"]["text"].startswith(FLAWS[rule["id"]].fix)
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
    assert run["automationDetails"]["id"].startswith("labkit-scan/")


def test_sarif_is_deterministic_apart_from_the_times(validator: Any) -> None:
    """Two scans of one service with one token: the same file once the two times are set."""
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    logs = []
    with serve("alg-none") as api:
        url, token = f"{api.url}/api/profile", capstone.login(api.url)
        for _ in range(2):
            report = scan.scan(url, token)
            logs.append(sarif.dumps(sarif.to_sarif(report, url, started=moment, ended=moment)))
    assert logs[0] == logs[1]
    assert sarif_errors(validator, json.loads(logs[0])) == []
    assert '"startTimeUtc": "2026-01-01T00:00:00.000Z"' in logs[0]


def test_no_authentication_lists_every_probe_as_not_run(validator: Any) -> None:
    """A target that answers without a token stops the scan; the JUnit report still names all."""
    with open_server() as url:
        report = scan.scan(url, capstone_token())
    assert report.flaws[0] == "no-authentication"
    suites = junit.to_junit(report, url)
    check_junit_shape(suites)
    cases = {c.get("name"): c for c in suites.iter("testcase")}
    assert cases["no-token"].find("failure").get("type") == "no-authentication"
    assert set(PROBE_IDS) <= set(cases)
    assert "without any token" in cases["alg-none"].find("skipped").get("message")
    log = sarif.to_sarif(report, url)
    assert sarif_errors(validator, log) == []
    assert log["runs"][0]["results"][0]["ruleId"] == "no-authentication"


def test_a_verifier_target_has_a_logical_location(validator: Any) -> None:
    """The Python API scans a verifier function too: SARIF and JUnit still hold."""

    def target(token: str) -> Any:
        return vulnerable.decode_without_verification(
            token, keys.demo_secret(), algorithms=["HS256"], now=FAR - 600, **API
        )

    report = scan.scan(target, capstone_token())
    log = sarif.to_sarif(report)
    assert sarif_errors(validator, log) == []
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "signature-not-verified"
    assert result["locations"][0]["logicalLocations"][0]["kind"] == "function"
    check_junit_shape_verifier(junit.to_junit(report))


def check_junit_shape_verifier(suites: ET.Element) -> None:
    junit_xsd().validate(suites)
    (suite,) = suites.findall("testsuite")
    cases = {c.get("name") for c in suite.findall("testcase")}
    assert set(PROBE_IDS) <= cases
    assert suite.get("failures") != "0"


def test_junit_carries_only_characters_xml_allows() -> None:
    """A target's answer can hold control characters; the XML report must still parse."""
    from labkit.scan.findings import Attempt, ScanReport

    odd = Attempt("alg-none", "unsigned-token-accepted", "x\x00\x1b[31m", "refused", 401, "\x07")
    report = ScanReport("GET /", "RS256", (), (odd,), 1, 0.01, ("ok\x01",), ("note\x02",))
    text = junit.dumps(junit.to_junit(report, "http://127.0.0.1:1/"))
    junit_xsd().validate(ET.fromstring(text.encode()))  # parses, and is valid
    assert "\x00" not in text and "\x1b" not in text


def test_redacted_hides_credentials_in_any_spelling() -> None:
    argv = ["labkit", "scan", "U", "--token", "SECRET", "--expired-token=OLD", "--canary", "c"]
    assert sarif.redacted(argv) == [
        "labkit", "scan", "U", "--token", "***", "--expired-token=***", "--canary", "c",
    ]  # fmt: skip
    assert sarif.redacted(["labkit", "scan", "U", "--token", "-"])[-1] == "-"


# Exit codes: clean, findings, refused, unreachable; files; stdout ------------------------------


def test_exit_codes_and_help_say_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["scan", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for line in ("0  the scan ran and nothing got through", "1  findings", "2  usage or refused"):
        assert line in out
    assert "--sarif FILE" in out and "--junit FILE" in out
    doc = DOC.read_text(encoding="utf-8")
    assert "| 0 | the scan ran and nothing got through |" in doc
    assert "| 1 | findings" in doc and "| 2 | usage or refused" in doc


def test_refused_host_is_exit_2_one_line_and_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scan.sarif"
    url = "http://staging.example.com/api/profile"
    code = cli.main(["scan", url, "--token", capstone_token(), "--sarif", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-host staging.example.com" in err
    assert not out.exists()


def test_unreachable_target_is_exit_2_one_line_and_no_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_sarif, out_junit = tmp_path / "scan.sarif", tmp_path / "scan.xml"
    url = f"http://127.0.0.1:{free_port()}/api/profile"
    argv = ["scan", url, "--token", capstone_token(), "--sarif", str(out_sarif)]
    assert cli.main([*argv, "--junit", str(out_junit)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "connection refused" in err
    assert not out_sarif.exists() and not out_junit.exists()  # no empty SARIF closing alerts


def test_a_target_answering_errors_is_exit_2_one_line_and_no_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A staging service that is up but broken (500 to the valid token) cannot pass the gate."""
    out = tmp_path / "scan.sarif"
    with open_server(500) as url:
        assert cli.main(["scan", url, "--token", capstone_token(), "--sarif", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused the valid token (HTTP 500)" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/scan.sarif", "no folder"),
        (".", "is not a file name"),
        ("", "is not a file name"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_the_scan(
    where: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checked before any request: an unreachable target is not even tried."""
    path = str(tmp_path / where) if where not in ("", ".") else where
    url = f"http://127.0.0.1:{free_port()}/api/profile"
    for flag in ("--sarif", "--junit"):
        assert cli.main(["scan", url, "--token", capstone_token(), flag, path]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and flag in err, err
        assert "connection refused" not in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a full disk)")
def test_a_write_that_fails_after_the_scan_is_one_line_exit_2() -> None:
    with serve("alg-none") as api:
        done = run_labkit(
            "scan", f"{api.url}/api/profile", "--token", capstone.login(api.url),
            "--sarif", "/dev/full",
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "cannot write --sarif /dev/full" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "extra",
    [
        ["--sarif", "-", "--json"],
        ["--sarif", "-", "--junit", "-"],
        ["--junit", "-", "--json"],
        ["--sarif", "same.out", "--junit", "same.out"],
    ],
)
def test_two_outputs_on_one_place_are_refused(
    extra: list[str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/profile"
    monkeypatch.chdir(tmp_path)  # a relative file name lands here, if the check let it through
    assert cli.main(["scan", url, "--token", capstone_token(), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("stdout" in err or "same file" in err), err
    assert list(tmp_path.iterdir()) == []


def test_sarif_on_stdout_with_the_verdict_on_stderr(
    validator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve("jwk-injection") as api:
        url, token = f"{api.url}/api/profile", capstone.login(api.url)
        code = cli.main(
            ["scan", url, "--token", token, "--sarif", "-", "--junit", str(tmp_path / "j.xml")]
        )
    assert code == 1
    captured = capsys.readouterr()
    log = json.loads(captured.out)  # stdout holds the SARIF and nothing else
    assert sarif_errors(validator, log) == []
    assert "1 finding: jwk-injection" in captured.err
    check_junit_shape(ET.parse(tmp_path / "j.xml").getroot())


# Bad input to the new options: one line, exit 2, never a traceback (property) -----------------

_name = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), max_size=30
)
_path = st.one_of(
    st.just("-"),
    _name,
    _name.map(lambda n: f"missing/{n}"),
    _name.map(lambda n: f"./{n}"),
    st.sampled_from(["", ".", "..", "./", "a\x00b", "\n", " "]),
)


@pytest.fixture(scope="module")
def hardened() -> Iterator[tuple[str, str]]:
    with serve("hardened") as api:
        yield f"{api.url}/api/profile", capstone.login(api.url)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sarif_path=st.one_of(st.none(), _path), junit_path=st.one_of(st.none(), _path))
def test_any_output_path_is_written_or_refused_in_one_line(
    sarif_path: str | None,
    junit_path: str | None,
    hardened: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, token = hardened
    work = tmp_path_factory.mktemp("outputs")
    argv = ["scan", url, "--token", token]
    argv += [] if sarif_path is None else ["--sarif", sarif_path]
    argv += [] if junit_path is None else ["--junit", junit_path]
    here = os.getcwd()
    os.chdir(work)  # every relative name lands in this fresh folder
    try:
        code = cli.main(argv)
    finally:
        os.chdir(here)
    captured = capsys.readouterr()
    assert code in (0, 2), captured.err
    assert "Traceback" not in captured.err and "unexpected" not in captured.err
    if code == 2:
        assert captured.err.count("\n") == 1 and captured.err.startswith("labkit scan: ")
        assert re.search(r"--sarif|--junit|stdout|same file", captured.err), captured.err
        return
    for path in (sarif_path, junit_path):
        if path is not None and path != "-":
            written = (work / path).read_text(encoding="utf-8")
            assert written.startswith("{" if path == sarif_path else "<?xml")


# docs/scanning-in-ci.md: its commands are real -------------------------------------------------


def doc_commands() -> list[list[str]]:
    """Every `labkit scan ...` command in the page's code blocks, as argv (continuations joined)."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    commands = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip().lstrip("- ").strip()
            if line.startswith("sh '"):  # Jenkins: sh '...'
                line = line[4:].rstrip("'")
            if "labkit scan" not in line:
                continue
            words = shlex.split(line.split("labkit scan", 1)[1].split("||")[0])
            commands.append(["scan", *words])
    return commands


def test_the_docs_commands_are_real_cli_flags() -> None:
    commands = doc_commands()
    assert len(commands) >= 5, commands  # the command, Actions, GitLab, Jenkins, the rehearsal
    parser = cli._parser()
    for argv in commands:
        args = parser.parse_args(argv)  # argparse exits 2 on an unknown flag
        assert args.command == "scan" and args.token == "-", argv  # from stdin, never argv
        assert args.sarif or args.junit, argv
    remote = [c for c in commands if "staging.example.com" in " ".join(c)]
    assert remote and all("--allow-host" in c for c in remote)
    text = DOC.read_text(encoding="utf-8")
    assert "github/codeql-action/upload-sarif@v4" in text and "security-events: write" in text
    assert "reports:\n      junit: labkit-scan.xml" in text


@pytest.mark.skipif(shutil.which("curl") is None, reason="the rehearsal block uses curl")
def test_the_docs_rehearsal_runs_as_written(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count(REHEARSAL) == 1
    match = re.match(r"\n```bash\n(.*?)\n```\n", text.split(REHEARSAL, 1)[1], re.S)
    assert match, "the marker must be followed by a ```bash block"
    script = tmp_path / "rehearsal.sh"
    script.write_text(match.group(1) + "\n", encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    bin_dir = str(Path(sys.executable).parent)  # where the venv's labkit and python3 are
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TMPDIR": str(temp),
        "LANG": "C.UTF-8",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", str(script)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
        left = group_alive(proc.pid)
    finally:
        stop(proc)
    assert proc.returncode == 0, f"{out}\n{err}"
    assert not left, "the block left its server running"
    assert "exit 1\n" in out, out
    assert int(out.strip().splitlines()[-1]) >= len(PROBE_IDS)
    assert "Traceback" not in err
    assert list(temp.iterdir()) == []


# Helpers ---------------------------------------------------------------------------------------


API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local"}
FAR = 4_102_444_800  # 2100-01-01: tokens the in-process verifiers accept today


def capstone_token() -> str:
    """A signed HS256 token of the lab's claims, valid until 2100 (as tests/test_scan.py's)."""
    claims = {**examples.LAB_CLAIMS, "iat": FAR - 900, "exp": FAR}
    return labkit.sign_token(claims, keys.demo_secret(), "HS256")


class open_server:  # a context manager, named like serve()
    """A loopback HTTP server that answers ``status`` to everything (200: no authentication)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status

    def __enter__(self) -> str:
        status = self.status
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Open(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b'{"sub": "anyone"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Open)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_port}/api/profile"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
