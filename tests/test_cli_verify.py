"""`labkit verify`: exit 0 with the claims, 1 with a one-line reason, 2 for usage errors."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from clirun import run_labkit
from cryptography.hazmat.primitives import serialization

import labkit
from labkit import keys

SECRET = keys.demo_secret().decode()
FUTURE = 4_102_444_800  # 2100-01-01
CLAIMS = {"sub": "alice", "aud": "api", "iss": "https://idp.example", "exp": FUTURE}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``labkit verify`` exactly as a user would."""
    return run_labkit("verify", *args, stdin=stdin)


def hs256(claims: dict[str, object] = CLAIMS) -> str:
    return labkit.sign_token(claims, keys.demo_secret(), "HS256")


@pytest.fixture(scope="module")
def rsa_pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    public = keys.demo_public_key("rsa")
    path = tmp_path_factory.mktemp("keys") / "rsa-public.pem"
    path.write_bytes(
        public.public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def test_valid_token_prints_claims_exit_0() -> None:
    result = run(hs256(), "--secret", SECRET, "--alg", "HS256", "--aud", "api")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == CLAIMS
    assert result.stderr == ""


def test_token_from_stdin_and_issuer() -> None:
    args = ("-", "--secret", SECRET, "--alg", "HS256", "--aud", "api", "--iss", CLAIMS["iss"])
    result = run(*args, stdin=hs256() + "\n")
    assert result.returncode == 0, result.stderr


def test_pem_key_file(rsa_pem: Path) -> None:
    token = labkit.sign_token(CLAIMS, keys.demo_private_key("rsa"), "RS256")
    result = run(token, "--key", str(rsa_pem), "--alg", "RS256", "--aud", "api")
    assert result.returncode == 0, result.stderr


def test_jwks_file_selects_by_kid(tmp_path: Path) -> None:
    jwks = keys.to_jwks([keys.demo_public_key("p256"), keys.demo_public_key("rsa")])
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    kid = keys.thumbprint(keys.demo_public_key("p256"))
    token = labkit.sign_token(CLAIMS, keys.demo_private_key("p256"), "ES256", headers={"kid": kid})
    result = run(token, "--jwks", str(path), "--alg", "ES256", "--alg", "RS256", "--aud", "api")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((), "the token is for audience 'api' but this verifier names no audience"),
        (("--aud", "billing"), "the token is for audience 'api', not 'billing'"),
        (("--aud", "api", "--iss", "https://idp"), "the token's issuer is 'https://idp.example'"),
    ],
)
def test_invalid_claims_exit_1_with_one_line(args: tuple[str, ...], reason: str) -> None:
    result = run(hs256(), "--secret", SECRET, "--alg", "HS256", *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"labkit verify: invalid token: {reason}")
    assert result.stderr.count("\n") == 1


def test_expiry_and_leeway() -> None:
    token = hs256({**CLAIMS, "exp": int(time.time()) - 5})
    expired = run(token, "--secret", SECRET, "--alg", "HS256", "--aud", "api")
    assert expired.returncode == 1
    assert "invalid token: the token expired at" in expired.stderr
    lenient = run(token, "--secret", SECRET, "--alg", "HS256", "--aud", "api", "--leeway", "60")
    assert lenient.returncode == 0, lenient.stderr


def test_key_confusion_exit_1(rsa_pem: Path) -> None:
    """An HS256 token 'signed' with the public key must not pass, even with HS256 allowed."""
    forged = labkit.sign_token(CLAIMS, rsa_pem.read_bytes(), "HS256")
    result = run(forged, "--key", str(rsa_pem), "--alg", "RS256", "--alg", "HS256")
    assert result.returncode == 1
    assert "invalid token: HS256 needs a shared secret" in result.stderr


def test_tampered_and_malformed_tokens_exit_1() -> None:
    head, _, sig = hs256().split(".")
    body = labkit.b64url_encode(json.dumps({**CLAIMS, "sub": "admin"}))
    for token, reason in ((f"{head}.{body}.{sig}", "signature does not match"), ("x.y", "2 seg")):
        result = run(token, "--secret", SECRET, "--alg", "HS256", "--aud", "api")
        assert result.returncode == 1
        assert reason in result.stderr
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--secret", SECRET, "--alg", "none"), "invalid choice: 'none'"),
        (("--alg", "HS256"), "one of the arguments --secret --key --jwks is required"),
        (("--secret", SECRET, "--key", "k.pem", "--alg", "HS256"), "not allowed with argument"),
        (("--secret", SECRET), "the following arguments are required: --alg"),
        (("--key", "/nonexistent.pem", "--alg", "RS256"), "cannot read /nonexistent.pem: No such"),
        (("--secret", SECRET, "--alg", "HS256", "--leeway", "-1"), "--leeway: must be 0 to 86400"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run(hs256(), *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_unreadable_key_files_exit_2(tmp_path: Path) -> None:
    not_pem, not_json = tmp_path / "key.pem", tmp_path / "jwks.json"
    not_pem.write_text("hello")
    not_json.write_text("{oops")
    result = run(hs256(), "--key", str(not_pem), "--alg", "RS256")
    assert result.returncode == 2
    assert "not a PEM key" in result.stderr
    result = run(hs256(), "--jwks", str(not_json), "--alg", "RS256")
    assert result.returncode == 2
    assert f"cannot read {not_json}" in result.stderr
