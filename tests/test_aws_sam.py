"""deploy/aws/template.yaml: the SAM template that deploys the same handlers to real AWS.

Checked offline three ways: cfn-lint (test extra), ``sam validate --lint`` (aws-sam-cli in its
own venv, ``make sam-cli``), and against the code: the handler strings import, the runtime is
the one deploy/aws/Makefile builds wheels for, and the environment variables are exactly what
``AuthorizerConfig.from_env`` reads.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml

import labkit.aws
from labkit.algorithms import ALGORITHMS
from labkit.aws import authorizer, backend
from labkit.aws.authorizer import AuthorizerConfig

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "aws" / "template.yaml"
MAKEFILE = ROOT / "deploy" / "aws" / "Makefile"
SAM = ROOT / ".cache" / "sam-cli" / "bin" / "sam"  # `make sam-cli`


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub) read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def template() -> dict:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)


def test_cfn_lint_passes_offline() -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is in the test extra: make install-test"
    result = subprocess.run(
        [cfn_lint, str(TEMPLATE)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_deploys_the_same_handlers_as_a_token_authorizer() -> None:
    resources = template()["Resources"]
    handlers = {
        name: res["Properties"]["Handler"]
        for name, res in resources.items()
        if res["Type"] == "AWS::Serverless::Function"
    }
    assert handlers == {
        "AuthorizerFunction": "labkit.aws.authorizer.handler",
        "BackendFunction": "labkit.aws.backend.handler",
    }
    assert callable(authorizer.handler) and callable(backend.handler)
    auth = resources["Api"]["Properties"]["Auth"]
    token = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert token["Identity"]["Header"] == "Authorization"
    assert 0 <= token["Identity"]["ReauthorizeEvery"] <= 3600
    variables = resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert set(variables) == {
        "JWKS_URL",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_ALGORITHMS",
        "REQUIRED_CLAIMS",  # claims in addition to exp; REQUIRE_EXP=false is never deployed
    }


def test_template_routes_are_the_demo_apis_routes() -> None:
    events = template()["Resources"]["BackendFunction"]["Properties"]["Events"].values()
    routes = {
        (e["Properties"]["Method"].upper(), e["Properties"]["Path"], "Auth" not in e["Properties"])
        for e in events
    }
    assert routes == {(method, path, auth) for method, path, auth, _ in backend.ROUTES}


def test_sam_validate_lint_passes_offline(tmp_path: Path) -> None:
    """AWS's own CLI: the SAM transform's schema plus cfn-lint, with no AWS account."""
    if not SAM.exists():
        pytest.skip(f"aws-sam-cli is not installed: run `make sam-cli` (installs {SAM})")
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "HOME": str(tmp_path),  # sam writes ~/.aws-sam/metadata.json: keep it out of $HOME
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--template-file", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_template_handlers_import_as_lambda_resolves_them() -> None:
    """Lambda splits ``Handler`` at the last dot: module path, then a function in it."""
    for name in ("AuthorizerFunction", "BackendFunction"):
        handler = template()["Resources"][name]["Properties"]["Handler"]
        module, _, function = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), handler
    assert importlib.import_module("labkit.aws.authorizer").handler is authorizer.handler


def test_template_runtime_is_the_one_the_build_makes_wheels_for() -> None:
    runtime = template()["Globals"]["Function"]["Runtime"]
    makefile = MAKEFILE.read_text(encoding="utf-8")
    (version,) = re.findall(r"^RUNTIME_VERSION := (\S+)$", makefile, re.M)
    assert runtime == f"python{version}", (runtime, version)
    # the wheels and the bytecode are both made for that version, nothing else
    assert re.findall(r"--python-version\s+(\S+)", makefile) == ["$(RUNTIME_VERSION)"]
    assert "RUNTIME_PYTHON ?= python$(RUNTIME_VERSION)" in makefile
    architectures = template()["Globals"]["Function"]["Architectures"]
    platforms = re.findall(r"--platform\s+(\S+)", MAKEFILE.read_text(encoding="utf-8"))
    assert architectures == ["x86_64"] and platforms == ["manylinux2014_x86_64"]


class _Recording(Mapping[str, str]):
    """An environment that remembers every variable name it was asked for."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self._values[key]

    def get(self, key: str, default: object = None):  # type: ignore[override]
        self.read.add(key)
        return self._values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def deployed_environment() -> dict[str, str]:
    """The authorizer's variables as CloudFormation sets them: each !Ref'd parameter's value."""
    doc = TEMPLATE.read_text(encoding="utf-8")
    refs = dict(re.findall(r"^ {10}([A-Z_]+): !Ref (\w+)$", doc, re.M))
    parameters = template()["Parameters"]
    given = {
        "JwksUrl": "https://issuer.example/.well-known/jwks.json",
        "Issuer": "https://issuer.example/",
    }
    return {
        variable: given.get(parameter, parameters[parameter].get("Default", ""))
        for variable, parameter in refs.items()
    }


def test_template_sets_exactly_the_variables_the_authorizer_reads() -> None:
    variables = template()["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]
    deployed = deployed_environment()
    assert set(deployed) == set(variables["Variables"]), "every variable is a !Ref'd parameter"

    env = _Recording(deployed)
    config = AuthorizerConfig.from_env(env)
    # Every variable the template sets is read (no typo goes unnoticed) ...
    assert set(deployed) <= env.read, set(deployed) - env.read
    # ... and what it leaves out is exactly the optional three: HMAC (the template deploys
    # JWKS), clock skew (default 0) and the exp opt-out (never deployed).
    assert env.read - set(deployed) == {"JWT_SECRET", "JWT_LEEWAY", "REQUIRE_EXP"}
    # The handler rebuilds its authorizer when any variable it reads changes: the same names.
    assert env.read == set(authorizer._ENV_NAMES)
    assert config.jwks_url == deployed["JWKS_URL"] and config.secret is None
    assert config.algorithms == ("RS256",) and config.required == ("sub",)
    assert config.require_exp is True


def test_template_algorithm_pattern_allows_only_algorithms_labkit_knows() -> None:
    pattern = re.compile(template()["Parameters"]["Algorithms"]["AllowedPattern"])
    asymmetric = [alg for alg in ALGORITHMS if alg[:2] in ("RS", "PS", "ES")]
    assert all(pattern.fullmatch(alg) for alg in asymmetric)
    assert pattern.fullmatch(",".join(asymmetric))
    for refused in ("HS256", "none", "RS256,HS256", "EdDSA", "rs256", ""):
        assert not pattern.fullmatch(refused), refused


def test_the_package_ships_the_same_template() -> None:
    """``labkit.aws.sam_template()`` (what notebook 09 prints) is deploy/aws/template.yaml."""
    assert labkit.aws.sam_template() == TEMPLATE.read_text(encoding="utf-8"), (
        "the packaged copy is stale: cp deploy/aws/template.yaml labkit/aws/template.yaml"
    )
