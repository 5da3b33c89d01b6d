"""What the deployed Lambda functions import: only what answering needs (issue 13, cold start).

A Lambda cold start pays for every module the handler's import pulls in (bench/cold_start.py
measures it). These tests pin the behaviour, not the time: in a fresh interpreter, importing
``labkit.aws.authorizer`` (the template's handler module) loads no web server, no HTTP client,
no notebook-side module, and an HMAC-configured authorizer answers without loading them; the
public names stay reachable through the packages' lazy ``__getattr__``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import labkit
import labkit.aws

ROOT = Path(__file__).resolve().parents[1]

# Never needed to answer an authorizer or backend event.
HEAVY = (
    "werkzeug",
    "matplotlib",
    "ipywidgets",
    "tqdm",
    "gmpy2",
    "nbformat",
    "labkit.aws.gateway",
    "labkit.aws.server",
    "labkit.aws.idp",
    "labkit.aws.presets",
    "labkit.aws.article",
    "labkit.vulnerable",
    "labkit.examples",
    "labkit.exercises",
    "labkit.widgets",
)
# Needed only to fetch a JWKS (labkit.outbound, the one outbound-URL guard, is built on them).
HTTP_CLIENT = ("labkit.outbound", "requests", "urllib3", "charset_normalizer")


def loaded_after(code: str, **env: str) -> set[str]:
    """The modules in sys.modules after running ``code`` in a fresh interpreter."""
    program = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_importing_the_authorizer_loads_no_server_client_or_notebook_module() -> None:
    loaded = loaded_after("import labkit.aws.authorizer")
    assert {"jwt", "cryptography", "labkit.verify", "labkit.aws.policy"} <= loaded
    assert not loaded & {*HEAVY, *HTTP_CLIENT}, sorted(loaded & {*HEAVY, *HTTP_CLIENT})


def test_an_hmac_authorizer_answers_without_an_http_client() -> None:
    """JWT_SECRET: nothing to fetch, so the first answer needs no requests either."""
    secret = "a-32-byte-demo-secret-for-tests!"
    code = (
        "import os, labkit, labkit.aws.authorizer as a\n"
        "token = labkit.sign_token({'sub': 'alice', 'iss': 'https://idp.test', 'aud': 'api',"
        " 'exp': 4102444800, 'role': 'reader'}, os.environ['JWT_SECRET'].encode(), 'HS256')\n"
        "answer = a.handler({'type': 'TOKEN', 'authorizationToken': 'Bearer ' + token,"
        " 'methodArn': 'arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/api/profile'})\n"
        "assert answer['principalId'] == 'alice', answer"
    )
    loaded = loaded_after(
        code,
        JWT_SECRET=secret,
        JWT_ALGORITHMS="HS256",
        JWT_ISSUER="https://idp.test",
        JWT_AUDIENCE="api",
    )
    assert not loaded & {*HEAVY, *HTTP_CLIENT}, sorted(loaded & {*HEAVY, *HTTP_CLIENT})


def test_the_backend_handler_loads_no_server_or_client() -> None:
    loaded = loaded_after("import labkit.aws.backend")
    assert not loaded & {*HEAVY, *HTTP_CLIENT}, sorted(loaded & {*HEAVY, *HTTP_CLIENT})


def test_importing_labkit_loads_no_notebook_side_module() -> None:
    loaded = loaded_after("import labkit")
    assert not loaded & {*HEAVY, *HTTP_CLIENT}, sorted(loaded & {*HEAVY, *HTTP_CLIENT})


def test_the_public_names_still_resolve_lazily() -> None:
    """Every name in ``__all__`` resolves, in a fresh interpreter, in any order."""
    code = (
        "import labkit.aws.authorizer, labkit, labkit.aws\n"
        "assert callable(labkit.verify) and not isinstance(labkit.verify, type(labkit)),"
        " labkit.verify\n"
        "for package in (labkit, labkit.aws):\n"
        "    for name in package.__all__:\n"
        "        assert getattr(package, name) is not None, name\n"
        "from labkit.aws import PRESETS, FrozenClock, serve, Api\n"
        "from labkit import examples, exercises\n"
        "assert labkit.aws.handler is labkit.aws.authorizer.handler\n"
    )
    loaded_after(code)


@pytest.mark.parametrize("package", [labkit, labkit.aws], ids=["labkit", "labkit.aws"])
def test_unknown_names_are_attribute_errors(package: object) -> None:
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        package.no_such_name  # noqa: B018
    assert not hasattr(package, "no_such_name")
