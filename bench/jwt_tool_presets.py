"""What a real scanner sees: jwt_tool's all-tests mode (``-M at``) against every local preset.

    .venv/bin/python bench/jwt_tool_presets.py [--defaults] [JWT_TOOL_DIR] [PYTHON]

jwt_tool (https://github.com/ticarpi/jwt_tool, the version this was written
against is 2.2.7) is not a dependency of the kit and none of its code is in
it: put a copy of its repository in ``JWT_TOOL_DIR`` (default
``.cache/jwt_tool``) and its ``requirements.txt`` into a separate virtual
environment whose interpreter is ``PYTHON`` (default
``JWT_TOOL_DIR/venv/bin/python``). jwt_tool keeps its configuration, keys and
log in ``~/.jwt_tool``: this script points ``HOME`` at ``JWT_TOOL_DIR/home``,
so nothing is written outside ``.cache``.

For each preset the script serves the local API on 127.0.0.1
(``labkit.aws.serve``), logs Alice in and runs::

    jwt_tool.py -t URL/api/profile -rh "Authorization: Bearer TOKEN" -M at -np -cv alice
                [-pk SERVICE.pem] -ju http://127.0.0.1:PORT/.well-known/jwks.json

- ``-cv alice``: the canary. ``/api/profile`` names the caller (``"sub": "alice"``)
  only to an accepted token, so jwt_tool prints ``[+] FOUND "alice" in
  response`` above every probe the service accepted.
- ``-pk``: the service's RSA public key as PEM, built from the JWKS the
  gateway publishes at ``/.well-known/jwks.json``, which is how a tester gets
  it (jwt_tool's own advice: hunt for a JWKS, then run the playbook with
  ``-pk``). Without it the key-confusion probe signs with jwt_tool's own key.
- ``-ju``: where jwt_tool's "Spoof JWKS (-X s)" probe points ``jku``. Its
  default is an httpbin.org URL, which nothing here may reach (and
  ``follow_jku`` fetches loopback only), so the script serves, on loopback,
  the JWK Set jwt_tool computes for that probe: jwt_tool's own public key
  (``~/.jwt_tool/jwttool_custom_public_RSA.pem``) under the token's ``kid``
  (jwt_tool's ``exportJWKS`` builds it with ``kid = headDict["kid"]``).
- ``-np``: no proxy (jwt_tool's default sends everything through 127.0.0.1:8080).

``--defaults`` leaves out ``-pk`` and ``-ju``: what jwt_tool finds with no
input from the tester. Its jku probe then names httpbin.org, which
``follow_jku`` refuses before connecting, so nothing leaves the machine.

Printed per preset: whether jwt_tool found the flaw (any probe accepted beyond
the original token and its persistence checks), which probes were accepted,
and how many requests jwt_tool sent (its ``Response Code`` lines, one per
request). The hardened preset must show none accepted.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization

from labkit import capstone, keys, tokens
from labkit.attacks import injection
from labkit.aws import presets, serve

ROOT = Path(__file__).resolve().parents[1]
CANARY = "alice"
TIMEOUT = 900  # seconds for one preset's scan (it sends about 570 requests)

_LINE = re.compile(r"^(jwttool_[0-9a-f]{32}) (.*) Response Code: (\d+), (\d+) bytes$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What jwt_tool sends to learn how the service answers, not to attack it.
_BASELINE = (
    "Sending token",
    "Prescan: original token",
    "Prescan: repeat original token",
    "Persistence check",
)
_ANY_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"  # for the configuration run, never sent


@dataclass
class Result:
    preset: str
    requests: int
    accepted: list[str]  # the probes whose answer showed the canary

    @property
    def found(self) -> bool:
        return bool(self.accepted)


def main(argv: list[str]) -> int:
    defaults = "--defaults" in argv
    argv = [a for a in argv if a != "--defaults"]
    tool = (Path(argv[0]) if argv else ROOT / ".cache" / "jwt_tool").absolute()
    python = (Path(argv[1]) if len(argv) > 1 else tool / "venv" / "bin" / "python").absolute()
    if not (tool / "jwt_tool.py").is_file() or not python.is_file():
        print(f"needs jwt_tool.py in {tool} and its venv's python at {python}", file=sys.stderr)
        return 2
    home = tool / "home"
    _configure(tool, python, home)
    given = "no -pk, no -ju" if defaults else "-pk service PEM, -ju loopback JWKS"
    print(f"jwt_tool {_version(tool)}, -M at, canary {CANARY!r}, {given}\n")
    print(f"{'preset':<22} {'found':<6} {'requests':>8} {'accepted':>8}  probes accepted")
    results = [scan(p.name, tool, python, home, defaults) for p in presets.available()]
    for r in results:
        families = list(dict.fromkeys(_family(a) for a in r.accepted))
        shown = "; ".join(families[:4]) + ("; ..." if len(families) > 4 else "") or "-"
        found = "yes" if r.found else "no"
        print(f"{r.preset:<22} {found:<6} {r.requests:>8} {len(r.accepted):>8}  {shown}")
    return 0


def scan(name: str, tool: Path, python: Path, home: Path, defaults: bool = False) -> Result:
    """One preset, served afresh, scanned once by jwt_tool (``defaults``: no -pk, no -ju)."""
    with serve(name) as api, tempfile.TemporaryDirectory(prefix="labkit-jwt-tool-") as work:
        token = capstone.login(api.url)
        header = tokens.parse(token).header
        spoof = _spoof_jwks(home, header.get("kid"))
        with injection.serve_jwks(spoof) as jwks_server:
            command = [
                str(python), "jwt_tool.py",
                "-t", f"{api.url}/api/profile",
                "-rh", f"Authorization: Bearer {token}",
                "-M", "at", "-np", "-cv", CANARY,
            ]  # fmt: skip
            with requests.Session() as session:  # loopback: no proxy from the environment
                session.trust_env = False
                published = session.get(f"{api.url}/.well-known/jwks.json", timeout=10).json()
            pem = _service_pem(published, header.get("kid"), Path(work))
            if not defaults:
                command += ["-ju", jwks_server.url]
                command += [] if pem is None else ["-pk", str(pem)]
            output = _run(command, tool, home)
    return _parse(name, output)


def _parse(name: str, output: str) -> Result:
    requests, accepted, previous = 0, [], ""
    for raw in output.splitlines():
        line = _ANSI.sub("", raw).strip()
        match = _LINE.match(line)
        if match:
            requests += 1
            probe = match.group(2)
            if previous.startswith("[+] FOUND") and not probe.startswith(_BASELINE):
                accepted.append(probe)
        previous = line
    return Result(name, requests, accepted)


def _run(command: list[str], tool: Path, home: Path) -> str:
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "NO_COLOR": "1",
        "NO_PROXY": "*",
    }
    done = subprocess.run(
        command,
        cwd=tool,  # jwt_tool opens its wordlists by relative name
        env=env,
        stdin=subprocess.DEVNULL,  # a prompt must fail, never hang the benchmark
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return done.stdout + done.stderr


def _configure(tool: Path, python: Path, home: Path) -> None:
    """jwt_tool's first run writes ~/.jwt_tool (config and its own key pairs), then exits."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / ".jwt_tool" / "jwtconf.ini").is_file():
        _run([str(python), "jwt_tool.py", _ANY_TOKEN], tool, home)
    if not (home / ".jwt_tool" / "jwttool_custom_public_RSA.pem").is_file():
        raise SystemExit(f"jwt_tool did not write its configuration under {home}/.jwt_tool")


def _spoof_jwks(home: Path, kid: object) -> dict:
    """jwt_tool's public key as the JWK Set its jku probe expects, under the token's kid."""
    pem = (home / ".jwt_tool" / "jwttool_custom_public_RSA.pem").read_bytes()
    public = serialization.load_pem_public_key(pem)
    jwk = keys.to_jwk(public, kid=kid if isinstance(kid, str) else "jwt_tool")  # type: ignore[arg-type]
    return keys.to_jwks([jwk])


def _service_pem(jwks: dict, kid: object, folder: Path) -> Path | None:
    """The published RSA/EC key named by ``kid`` as a SubjectPublicKeyInfo PEM file, if any."""
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") in ("RSA", "EC") and jwk.get("kid") == kid:
            public = keys.from_jwk(jwk)
            path = folder / "service_public.pem"
            path.write_bytes(
                public.public_bytes(  # type: ignore[union-attr]
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
            return path
    return None


def _version(tool: Path) -> str:
    match = re.search(r'^jwttoolvers = "([^"]+)"', (tool / "jwt_tool.py").read_text(), re.M)
    return match.group(1) if match else "(unknown version)"


def _family(probe: str) -> str:
    """A probe's name without the part that varies between its many requests."""
    if probe.startswith("Checking for alternative accepted HMAC signatures"):
        return "common HMAC secret " + repr(probe.rsplit("Testing: ", 1)[-1])
    if probe.startswith("Injected ") and " Claim: " in probe:
        return "claim injection (-M er, cc)"
    if probe.startswith("Claim processing check"):
        return "claim processing check"
    return probe


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
