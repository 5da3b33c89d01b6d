"""Red-team regressions for labkit.jwe, the notebook 12 checks and the scan's SARIF/JUnit outputs.

Each test is one finding of a red-team pass, named for the class of bug, and fails on the code
before its fix: a crafted input or option that raised something other than a ``labkit.errors``
class, did unbounded work, was accepted though it should be refused, or leaked a credential
into a report. Insecure exercise answers found on the way are Wrong answers in
tests/test_banks_12.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import labkit_command
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import capstone, cli, jwe, keys, scan, tokens
from labkit.algorithms import sign_token
from labkit.aws import serve
from labkit.errors import ConfigurationError, JweError, LabkitError
from labkit.jwe import Work
from labkit.scan import junit, redact, sarif

RSA = keys.demo_private_key("rsa")
P256 = keys.demo_private_key("p256")
P521 = ec.generate_private_key(ec.SECP521R1())
POLICY = {"algorithms": ["RSA-OAEP-256"], "encryptions": ["A256GCM"]}
PBES2 = {"algorithms": ["PBES2-HS256+A128KW"], "encryptions": ["A128GCM"]}
FAR = 4102444800  # 2100-01-01


def honest(plaintext: bytes = b"hi", **options: Any) -> str:
    return jwe.encrypt(plaintext, RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM", **options)


# labkit.jwe: the caller's options are checked before they are used ------------------------------


@pytest.mark.parametrize(
    "algorithms",
    [[["RSA-OAEP-256"]], [{"a": 1}], [b"RSA-OAEP-256"], ["RSA-OAEP-256", 7], b"RSA-OAEP-256"],
)
def test_allow_lists_of_non_names_are_a_configuration_error(algorithms: Any) -> None:
    """Was: TypeError (unhashable list) or a bytes entry checked as a name."""
    with pytest.raises(ConfigurationError, match=r"name|list"):
        jwe.decrypt(honest(), RSA, algorithms=algorithms, encryptions=["A256GCM"])


class Shifty(list):  # type: ignore[type-arg]
    """A list whose second reading differs from its first: what is checked must be what is used."""

    def __init__(self, first: list[str], later: list[str]) -> None:
        super().__init__(first)
        self.reads, self.first, self.later = 0, first, later

    def __iter__(self) -> Iterator[str]:
        self.reads += 1
        return iter(self.first if self.reads == 1 else self.later)


def test_an_allow_list_is_read_once() -> None:
    """Was: checked on one iteration, used from a second one (RSA-OAEP got in unchecked)."""
    sha1 = jwe.encrypt(b"x", RSA.public_key(), alg="RSA-OAEP", enc="A256GCM")
    names = Shifty(["RSA-OAEP-256"], ["RSA-OAEP"])
    with pytest.raises(JweError, match="not allowed"):
        jwe.decrypt(sha1, RSA, algorithms=names, encryptions=["A256GCM"])
    assert names.reads == 1


@pytest.mark.parametrize(
    "options",
    [
        {"max_length": "9000"},
        {"max_length": 0},
        {"max_length": True},
        {"max_p2c": "5"},
        {"max_p2c": 2.5},
        {"max_inflated": -1},
        {"max_inflated": None},
        {"allow_zip": "no"},
        {"allow_zip": 1},
        {"work": {}},
    ],
)
def test_bounds_and_switches_must_be_what_they_say(options: dict[str, Any]) -> None:
    """Was: TypeError at the first comparison, or a truthy 'no' turning zip on."""
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        jwe.decrypt(honest(), RSA, **POLICY, **options)


def test_parse_checks_its_bound_too() -> None:
    with pytest.raises(ConfigurationError, match="max_length"):
        jwe.parse(honest(), max_length="16384")


def test_a_negative_inflate_cap_does_not_switch_the_cap_off() -> None:
    """Was: zlib's max_length 0 means no limit, so max_inflated=-1 inflated all 3 MB first."""
    bomb = honest(bytes(3_000_000), compress=True)
    work = Work()
    with pytest.raises(ConfigurationError, match="max_inflated"):
        jwe.decrypt(bomb, RSA, **POLICY, allow_zip=True, max_inflated=-1, work=work)
    assert work == Work()
    with pytest.raises(ConfigurationError, match="max_inflated"):
        jwe.inflate(zlib.compress(bytes(1000))[2:-4], -1)


def test_trailing_bytes_after_the_deflate_stream_are_refused() -> None:
    """Was: accepted, so one plaintext had many encodings."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = deflate.compress(b"hello") + deflate.flush()
    assert jwe.inflate(data, 100) == b"hello"
    with pytest.raises(JweError, match="after the end"):
        jwe.inflate(data + b"JUNK", 100)


def test_a_password_that_is_not_utf8_is_one_line() -> None:
    """Was: UnicodeEncodeError from str.encode, on both sides."""
    token = jwe.encrypt(b"x", "pw", alg="PBES2-HS256+A128KW", enc="A128GCM", p2c=100)
    with pytest.raises(JweError, match="not UTF-8"):
        jwe.decrypt(token, "\udcff", **PBES2)
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        jwe.encrypt(b"x", "\udcff", alg="PBES2-HS256+A128KW", enc="A128GCM")


# labkit.jwe: JWK members and the ephemeral key ------------------------------------------------


def service_jwk(**members: Any) -> dict[str, Any]:
    return {**keys.to_jwk(RSA, private=True), "use": "enc", **members}


@pytest.mark.parametrize("ops", [["sign", ["x"]], "decrypt", [1], {"decrypt": True}])
def test_key_ops_must_be_a_list_of_names(ops: Any) -> None:
    """Was: TypeError for an unhashable entry; a string or an object was ignored."""
    with pytest.raises(JweError, match="key_ops"):
        jwe.decrypt(honest(), service_jwk(key_ops=ops), **POLICY)


@pytest.mark.parametrize("ops", [["encrypt"], ["wrapKey", "sign"]])
def test_key_ops_that_only_encrypt_do_not_decrypt(ops: list[str]) -> None:
    """Was: any encryption operation let a JWK decrypt, RFC 7517 section 4.3 notwithstanding."""
    with pytest.raises(JweError, match="do not let it decrypt"):
        jwe.decrypt(honest(), service_jwk(key_ops=ops), **POLICY)
    assert jwe.decrypt(honest(), service_jwk(key_ops=["unwrapKey"]), **POLICY) == b"hi"
    public = {**keys.to_jwk(RSA.public_key()), "use": "enc", "key_ops": ["decrypt"]}
    with pytest.raises(ConfigurationError, match="do not let it encrypt"):
        jwe.encrypt(b"x", public, alg="RSA-OAEP-256", enc="A256GCM")


@pytest.mark.parametrize("declared", ["RS256", "RSA-OAEP", "A128KW", None, ["RSA-OAEP-256"]])
def test_a_jwk_decrypts_only_for_the_alg_it_names(declared: Any) -> None:
    """Was: a JWK published for RS256 signatures, or for RSA-OAEP only, decrypted anything."""
    with pytest.raises(JweError, match=r"RFC 7517 section 4\.4"):
        jwe.decrypt(honest(), service_jwk(alg=declared), **POLICY)
    with pytest.raises(ConfigurationError, match=r"RFC 7517 section 4\.4"):
        jwe.encrypt(b"x", service_jwk(alg=declared), alg="RSA-OAEP-256", enc="A256GCM")
    assert jwe.decrypt(honest(), service_jwk(alg="RSA-OAEP-256"), **POLICY) == b"hi"


@pytest.mark.parametrize("name", ["x", "y"])
def test_an_epk_coordinate_at_or_above_p_is_refused_before_ecdh(name: str) -> None:
    """Was: P-521 coordinates fit 66 bytes up to 2**528; OpenSSL reduced x + p to x and agreed."""
    honest_token = jwe.encrypt(b"x", P521.public_key(), alg="ECDH-ES", enc="A256GCM")
    epk = jwe.parse(honest_token).header["epk"]
    value = int.from_bytes(tokens.b64url_decode(epk[name]), "big") + (2**521 - 1)
    odd = {"alg": "ECDH-ES", "enc": "A256GCM", "epk": {**epk, name: tokens.b64url_encode(
        value.to_bytes(66, "big"))}}  # fmt: skip
    protected = tokens.b64url_encode(json.dumps(odd).encode())
    token = ".".join([protected, *honest_token.split(".")[1:]])
    work = Work()
    with pytest.raises(JweError, match="field prime"):
        jwe.decrypt(token, P521, algorithms=["ECDH-ES"], encryptions=["A256GCM"], work=work)
    assert work.ecdh == 0


# labkit.jwe: what encrypt and the nested-JWT helpers take --------------------------------------


@pytest.mark.parametrize(
    "header",
    [{"alg": "dir"}, {"enc": "A128GCM"}, {"zip": "DEF"}, {"p2c": 1}, {"epk": {}}, {"apu": "x"}],
)
def test_encrypt_writes_its_own_members_and_refuses_a_header_that_contradicts_them(
    header: dict[str, Any],
) -> None:
    """Was: header={'alg': 'dir'} over alg='RSA-OAEP-256' made a token that lies about itself."""
    with pytest.raises(ConfigurationError, match="writes itself"):
        honest(header=header)


@pytest.mark.parametrize(
    "inner",
    [
        "\u00e9.a.b",
        tokens.encode({"alg": "none", "typ": "JWT"}, {"sub": "a"}, b""),
        tokens.encode({"alg": "ES256"}, {"sub": "a"}, b""),
        tokens.encode({"alg": "NONE"}, {"sub": "a"}, b"x"),
    ],
)
def test_encrypt_jwt_wraps_signed_jwts_only(inner: str) -> None:
    """Was: UnicodeEncodeError for non-ASCII; an unsigned JWT was wrapped as if signed."""
    with pytest.raises(ConfigurationError, match="encrypt_jwt"):
        jwe.encrypt_jwt(inner, RSA.public_key(), alg="RSA-OAEP-256", enc="A256GCM")


@pytest.mark.parametrize("option", ["allow_zip", "max_inflated", "max_p2c", "work"])
def test_decrypt_jwt_refuses_decrypt_options_before_decrypting(option: str) -> None:
    """Was: passed on to labkit.verify, a TypeError after the token was decrypted."""
    nested = jwe.encrypt_jwt(
        sign_token({"sub": "a", "exp": FAR}, P256, "ES256"),
        RSA.public_key(),
        alg="RSA-OAEP-256",
        enc="A256GCM",
    )
    value = {"allow_zip": True, "work": Work()}.get(option, 10)
    with pytest.raises(ConfigurationError, match=option):
        jwe.decrypt_jwt(
            nested,
            RSA,
            P256.public_key(),
            **POLICY,
            signing_algorithms=["ES256"],
            **{option: value},
        )


@pytest.mark.parametrize(
    ("cty", "accepted"),
    [("JWT", True), ("jwt", True), ("application/JWT", True), ("application/jwt+x", False),
     ("text/JWT", False), ("JWS", False), ("application/", False)],
)  # fmt: skip
def test_cty_is_the_jwt_media_type_in_either_spelling(cty: str, accepted: bool) -> None:
    """RFC 7515 section 4.1.10: 'JWT' is short for 'application/JWT'; was: the long form refused."""
    inner = sign_token({"sub": "a", "exp": FAR}, P256, "ES256")
    token = honest(inner.encode("ascii"), header={"cty": cty})
    read = lambda: jwe.decrypt_jwt(  # noqa: E731
        token, RSA, P256.public_key(), **POLICY, signing_algorithms=["ES256"]
    )
    if accepted:
        assert read()["sub"] == "a"
    else:
        with pytest.raises(JweError, match="cty"):
            read()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(
        [RSA, P256, P521, bytes(16), bytes(32), "pw", service_jwk(), {"kty": "oct"}, None]
    ),
    options=st.fixed_dictionaries(
        {},
        optional={
            "max_length": _json,
            "max_p2c": _json,
            "max_inflated": _json,
            "allow_zip": _json,
        },
    ),
    members=st.dictionaries(
        st.sampled_from(["epk", "p2s", "p2c", "apu", "apv", "zip", "crit", "cty"]), _json
    ),
    alg=st.sampled_from(sorted(jwe.ALGORITHMS)),
)
def test_any_header_key_or_option_is_decrypted_or_refused_in_one_line(
    key: Any, options: dict[str, Any], members: dict[str, Any], alg: str
) -> None:
    """Property: whatever the header members, key and options, a labkit error or plaintext."""
    header = {"alg": alg, "enc": "A128GCM", **members}
    protected = tokens.b64url_encode(json.dumps(header).encode())
    token = f"{protected}..AAAAAAAAAAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA"
    with contextlib.suppress(LabkitError):
        jwe.decrypt(
            token, key, algorithms=sorted(jwe.ALGORITHMS), encryptions=["A128GCM"], **options
        )


# Scan reports: credentials, bad text, paths ----------------------------------------------------


@pytest.fixture(scope="module")
def hardened() -> Iterator[tuple[str, str]]:
    with serve("hardened") as api:
        yield f"{api.url}/api/profile", capstone.login(api.url)


def test_a_token_in_the_query_string_never_reaches_a_report(hardened: tuple[str, str]) -> None:
    """Was: ?access_token=<token> was copied into SARIF's uri, fullyQualifiedName and command
    line, and into JUnit's suite name."""
    base, token = hardened
    url = f"{base}?access_token={token}&api_key=K3Y&page=2"
    report = scan.scan(url, token)
    argv = ["labkit", "scan", url, "--token", token]
    texts = {
        "sarif": sarif.dumps(sarif.to_sarif(report, url, arguments=argv)),
        "junit": junit.dumps(junit.to_junit(report, url)),
    }
    for name, text in texts.items():
        for secret in (token, token.split(".")[0], "K3Y"):
            assert secret not in text, (name, secret)
        assert "page=2" in text, name  # what is not a credential stays
    assert "access_token=***" in texts["sarif"]


def test_userinfo_and_token_shaped_text_are_hidden_anywhere() -> None:
    assert redact.redacted_url("http://u:pw@h:1/p?sig=S&v=1") == "http://***@h:1/p?sig=***&v=1"
    assert redact.redacted_url("http://h/api/eyJhbGciOi.eyJzdWIi.c2ln") == "http://h/api/***"
    assert redact.redacted_url("http://h/cb#access_token=opaque&state=s") == (
        "http://h/cb#access_token=***&state=s"
    )
    assert sarif.redacted(["labkit", "scan", "HTTP://h/?api_key=K"])[-1] == "http://h/?api_key=***"
    assert redact.scrubbed({"a": ["note: got eyJhbGciOi.eyJzdWIi.c2ln back"]}) == {
        "a": ["note: got *** back"]
    }
    assert junit._clean("x eyJhbGciOi.eyJ y") == "x *** y"


def test_a_lone_surrogate_never_breaks_a_report() -> None:
    """Was: a command line that is not UTF-8 (here a --wordlist name) reached the SARIF text,
    and writing it raised UnicodeEncodeError ('a bug in the kit', exit 70)."""
    log = redact.scrubbed({"text": "w\udcff.txt"})
    assert log == {"text": "w\ufffd.txt"}
    assert sarif.dumps(log).encode("utf-8")


def test_a_wordlist_name_that_is_not_utf8_is_written_as_valid_sarif(
    hardened: tuple[str, str], tmp_path: Path
) -> None:
    url, token = hardened
    name = os.fsdecode(b"w\xff.txt")  # a file name that is not UTF-8
    (tmp_path / name).write_text("secret\n")
    done = subprocess.run(
        labkit_command("scan", url, "--token", token, "--sarif", "s.json", "--wordlist", name),
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    log = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert "w\ufffd.txt" in log["runs"][0]["invocations"][0]["commandLine"]


def test_dev_stdout_counts_as_stdout(hardened: tuple[str, str], tmp_path: Path) -> None:
    """Was: --sarif /dev/stdout with --json (or --junit -) put two documents on stdout."""
    url, token = hardened
    for extra in (["--json"], ["--junit", "-"]):
        done = subprocess.run(
            labkit_command("scan", url, "--token", token, "--sarif", "/dev/stdout", *extra),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2 and done.stdout == "", done.stdout[:200]
        assert "only one output can go to stdout" in done.stderr
        assert "--sarif /dev/stdout" in done.stderr and done.stderr.count("\n") == 1
    alone = subprocess.run(
        labkit_command("scan", url, "--token", token, "--sarif", "/dev/stdout"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout)["version"] == "2.1.0"  # SARIF alone; the verdict on stderr
    assert "no findings" in alone.stderr


def test_dev_null_stays_a_file_when_stdout_is_dev_null(hardened: tuple[str, str]) -> None:
    """Discarding a report while stdout is discarded too is not two outputs on stdout."""
    url, token = hardened
    with open(os.devnull, "w") as null:
        done = subprocess.run(
            labkit_command("scan", url, "--token", token, "--sarif", os.devnull, "--json"),
            stdout=null,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr


def test_dev_stderr_is_refused_before_the_scan(hardened: tuple[str, str]) -> None:
    url, token = hardened
    done = subprocess.run(
        labkit_command("scan", url, "--token", token, "--junit", "/dev/stderr"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "is stderr" in done.stderr and done.stderr.count("\n") == 1


def test_a_fifo_nobody_reads_is_an_error_not_a_hang(
    hardened: tuple[str, str], tmp_path: Path
) -> None:
    """Was: open() waited for a reader forever, after the whole scan."""
    url, token = hardened
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    done = subprocess.run(
        labkit_command("scan", url, "--token", token, "--sarif", str(fifo)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "nothing is reading that FIFO" in done.stderr, done.stderr


def test_a_fifo_with_a_reader_gets_the_report(hardened: tuple[str, str], tmp_path: Path) -> None:
    url, token = hardened
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR)  # a reader that is there before the report (never blocks)
    received: list[bytes] = []

    def read() -> None:
        while b"</testsuites>" not in b"".join(received):
            received.append(os.read(fd, 65536))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert cli.main(["scan", url, "--token", token, "--junit", str(fifo)]) == 0
        reader.join(30)
    finally:
        os.close(fd)
    ET.fromstring(b"".join(received))


@pytest.mark.parametrize("which", ["--wordlist", "--public-key"])
def test_a_report_never_overwrites_an_input_file(
    which: str,
    hardened: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Was: --sarif words.txt --wordlist words.txt replaced the wordlist with the report."""
    url, token = hardened
    source = tmp_path / "input.txt"
    source.write_text("secret\n")
    alias = tmp_path / "alias.txt"
    os.link(source, alias)  # another spelling: a hard link
    for path in (source, alias):
        code = cli.main(["scan", url, "--token", token, which, str(source), "--sarif", str(path)])
        err = capsys.readouterr().err
        assert code == 2 and f"is the {which} file" in err, err
    assert source.read_text() == "secret\n"


def test_two_outputs_through_a_hard_link_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: realpath differs for a hard link, so JUnit silently replaced the SARIF file."""
    first = tmp_path / "report.out"
    first.write_text("")
    os.link(first, tmp_path / "link.out")
    url = "http://127.0.0.1:9/api/profile"  # never reached: refused before the scan
    code = cli.main(
        [
            "scan",
            url,
            "--token",
            "x.y.z",
            "--sarif",
            str(first),
            "--junit",
            str(tmp_path / "link.out"),
        ]
    )
    assert code == 2 and "same file" in capsys.readouterr().err


def test_a_verifier_crash_message_is_scrubbed_in_both_reports(tmp_path: Path) -> None:
    """Server-controlled text (here a verifier's exception): no token, valid UTF-8 and XML."""
    token = capstone_token()

    def crashes(sent: str) -> Any:
        if sent == token:
            return {"sub": "alice"}
        raise RuntimeError(f"\x00]]><x/>\ud800 {token}")

    report = scan.scan(crashes, token)
    text = sarif.dumps(sarif.to_sarif(report))
    head = token.split(".")[0]  # the crash message is cut to 60 characters: the header shows
    assert text.encode("utf-8") and head not in text and "\ud800" not in text
    xml = junit.dumps(junit.to_junit(report))
    root = ET.fromstring(xml.encode("utf-8"))  # parses: ]]> and <x/> escaped, \x00 replaced
    assert head not in xml and "]]><x/>" in "".join(root.itertext())
    xmlschema = pytest.importorskip("xmlschema")
    xsd = Path(__file__).resolve().parent / "schemas" / "junit-10.xsd"
    xmlschema.XMLSchema(str(xsd)).validate(root)


def capstone_token() -> str:
    claims = {"sub": "alice", "iat": FAR - 900, "exp": FAR}
    return sign_token(claims, keys.demo_secret(), "HS256")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a full disk)")
def test_a_failed_write_leaves_no_report_behind(hardened: tuple[str, str], tmp_path: Path) -> None:
    """Was: exit 2 ('no report file is written') with the SARIF file of the same run in place."""
    url, token = hardened
    done = subprocess.run(
        labkit_command("scan", url, "--token", token, "--sarif", "s.json", "--junit", "/dev/full"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "cannot write --junit /dev/full" in done.stderr
    assert list(tmp_path.iterdir()) == [] and os.path.exists("/dev/full")
