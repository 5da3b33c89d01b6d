"""deploy/aws/template.yaml: the SAM template that deploys the same handlers to real AWS."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from labkit.aws import authorizer, backend

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "aws" / "template.yaml"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub) read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def template() -> dict:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)


def test_cfn_lint_passes_offline() -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is in the test extra: make install"
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
