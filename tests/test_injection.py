"""Header injection (jwk, jku, kid): forgeries pass their vulnerable verifier, fail labkit.verify.

The vulnerable verifiers are otherwise the hardened one, so honest mistakes are
still refused; ``follow_jku`` never leaves 127.0.0.1; the key server stops.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

import labkit
from labkit import algorithms, examples, keys, tokens, vulnerable
from labkit.attacks import injection
from labkit.errors import (
    BadSignatureError,
    ConfigurationError,
    DisallowedAlgorithmError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidTokenError,
    KeyNotFoundError,
    MalformedTokenError,
    UnsafeKeyError,
)
from labkit.exercises import evaluate, get

NOW = 1767259800  # 2026-01-01T09:30:00Z, inside Alice's token's hour
LATER = NOW + 7200  # after exp
API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local"}
ALICE = dict(examples.LAB_CLAIMS)
ADMIN = {**ALICE, "role": "admin"}
SERVICE_KEY = keys.demo_private_key("rsa")
SERVICE_PUBLIC = keys.demo_public_key("rsa")
SERVICE_JWKS = keys.to_jwks([SERVICE_PUBLIC])
SERVICE_KID = SERVICE_JWKS["keys"][0]["kid"]


@pytest.fixture
def store(tmp_path: Path) -> vulnerable.LabKeyStore:
    return vulnerable.make_key_store(tmp_path)


@pytest.fixture
def jwks_server() -> Iterator[injection.KeyServer]:
    """The attacker's key server, serving their key under the service's kid."""
    with injection.serve_jwks(injection.attacker_jwks(kid=SERVICE_KID)) as server:
        yield server


def accept(verifier: Callable[..., dict[str, Any]], token: str, key: Any, alg: str, **options: Any):  # type: ignore[no-untyped-def]
    return verifier(token, key, algorithms=[alg], **{**API, "now": NOW, **options})


def refuse(token: str, key: Any, alg: str, error: type[InvalidTokenError], match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        labkit.verify(token, key, algorithms=[alg], now=NOW, **API)
    assert type(caught.value) is error


# Proven twice ------------------------------------------------------------------------------------


def test_cve_2018_0114_embedded_jwk_forgery() -> None:
    forged = injection.forge_jwk(ADMIN)
    assert tokens.parse(forged.token).header["jwk"]["n"]  # the attacker's public key rides along
    assert accept(vulnerable.trust_embedded_jwk, forged.token, SERVICE_PUBLIC, "RS256") == ADMIN
    refuse(forged.token, SERVICE_PUBLIC, "RS256", BadSignatureError, r"names its own key \('jwk'\)")
    refuse(forged.token, SERVICE_JWKS, "RS256", KeyNotFoundError, "is not the key's kid")


def _embedded(jwk: dict[str, Any], header_kid: str | None) -> str:
    """An RS256 admin token signed with the attacker's key, ``jwk`` embedded, ``kid`` as given."""
    header: dict[str, Any] = {"jwk": jwk} if header_kid is None else {"jwk": jwk, "kid": header_kid}
    return algorithms.sign_token(ADMIN, injection.attacker_key(), "RS256", headers=header)


@pytest.mark.parametrize(
    ("jwk_kid", "header_kid"),
    [
        ("jwt_tool", SERVICE_KID),  # jwt_tool -X i: the token's kid kept, its key under another
        ("jwt_tool", None),  # no kid in the header at all
        (None, SERVICE_KID),  # an embedded key without a kid
        (None, None),
        ("jwt_tool", "something-else"),
    ],
)
def test_the_embedded_jwk_verifies_whatever_the_kid_says(
    jwk_kid: str | None, header_kid: str | None
) -> None:
    """CVE-2018-0114: node-jose took header.jwk as the key and looked no kid up.

    (cisco/node-jose lib/jws/verify.js before 0.11.0; 0.11.0 put it behind allowEmbeddedKey.)
    """
    jwk = keys.to_jwk(injection.attacker_key().public_key(), kid=jwk_kid or "dropped")
    if jwk_kid is None:
        del jwk["kid"]
    token = _embedded(jwk, header_kid)
    assert accept(vulnerable.trust_embedded_jwk, token, SERVICE_PUBLIC, "RS256") == ADMIN
    assert accept(vulnerable.trust_embedded_jwk, token, SERVICE_JWKS, "RS256") == ADMIN
    for service_keys in (SERVICE_PUBLIC, SERVICE_JWKS):
        with pytest.raises((BadSignatureError, KeyNotFoundError)):
            labkit.verify(token, service_keys, algorithms=["RS256"], now=NOW, **API)
    refuse(token, SERVICE_PUBLIC, "RS256", BadSignatureError, r"names its own key \('jwk'\)")


def test_forge_jwk_can_copy_the_services_kid() -> None:
    forged = injection.forge_jwk(ADMIN, kid=SERVICE_KID)
    header = tokens.parse(forged.token).header
    assert header["kid"] == SERVICE_KID != header["jwk"]["kid"]
    assert accept(vulnerable.trust_embedded_jwk, forged.token, SERVICE_JWKS, "RS256") == ADMIN
    refuse(forged.token, SERVICE_JWKS, "RS256", BadSignatureError, r"names its own key \('jwk'\)")


@pytest.mark.parametrize(
    "jwk",
    ["a secret in a string", {"keys": []}, {"n": "AQAB", "e": "AQAB"}, ["RSA"], 7],
)
def test_the_embedded_jwk_must_be_one_jwk(jwk: object) -> None:
    token = algorithms.sign_token(ADMIN, SERVICE_KEY, "RS256", headers={"jwk": jwk})
    with pytest.raises(MalformedTokenError, match="must be one JWK"):
        accept(vulnerable.trust_embedded_jwk, token, SERVICE_PUBLIC, "RS256")


def test_jku_forgery_against_a_real_loopback_key_server(
    jwks_server: injection.KeyServer,
) -> None:
    forged = injection.forge_jku(ADMIN, jwks_server.url, kid=SERVICE_KID)
    assert accept(vulnerable.follow_jku, forged.token, SERVICE_JWKS, "RS256") == ADMIN
    assert jwks_server.requests == [injection.JWKS_PATH]  # the verifier came to fetch our keys
    refuse(forged.token, SERVICE_JWKS, "RS256", BadSignatureError, r"names its own key \('jku'\)")
    assert jwks_server.requests == [injection.JWKS_PATH]  # labkit.verify never fetched anything


def test_jku_forgery_with_its_own_kid(jwks_server: injection.KeyServer) -> None:
    key_id = keys.thumbprint(injection.attacker_key().public_key())
    with injection.serve_jwks(injection.attacker_jwks(kid=key_id)) as server:
        forged = injection.forge_jku(ADMIN, server.url)
        assert accept(vulnerable.follow_jku, forged.token, SERVICE_JWKS, "RS256") == ADMIN
    refuse(forged.token, SERVICE_JWKS, "RS256", KeyNotFoundError, "is not the key's kid")


def test_follow_jku_selects_the_fetched_key_by_the_tokens_kid() -> None:
    """The key selection follow_jku models: the fetched set looked up by the header's kid.

    As real jku followers do (the Azure Attestation JWT verifier sample looks the certificate up
    by kid in the set it fetched from jku: Azure-Samples/microsoft-azure-attestation issue 29).
    """
    public = injection.attacker_key().public_key()
    other = keys.demo_public_key("rsa")
    cases = [
        ({"keys": [keys.to_jwk(public, kid="k1")]}, "k1", True),
        ({"keys": [keys.to_jwk(public, kid="jwt_tool")]}, SERVICE_KID, False),  # kid mismatch
        ({"keys": [{k: v for k, v in keys.to_jwk(public).items() if k != "kid"}]}, "any", True),
        ({"keys": [keys.to_jwk(other, kid="a"), keys.to_jwk(public, kid="b")]}, "b", True),
        ({"keys": [keys.to_jwk(other, kid="a"), keys.to_jwk(public, kid="b")]}, "a", False),
    ]
    for jwks, kid, accepted in cases:
        with injection.serve_jwks(jwks) as server:
            token = injection.forge_jku(ADMIN, server.url, kid=kid).token
            if accepted:
                assert accept(vulnerable.follow_jku, token, SERVICE_JWKS, "RS256") == ADMIN
            else:
                with pytest.raises((KeyNotFoundError, BadSignatureError)):
                    accept(vulnerable.follow_jku, token, SERVICE_JWKS, "RS256")
            with pytest.raises((BadSignatureError, KeyNotFoundError)):
                labkit.verify(token, SERVICE_JWKS, algorithms=["RS256"], now=NOW, **API)
            assert server.requests == [injection.JWKS_PATH]  # follow_jku's one fetch, no other


def test_kid_traversal_to_dev_null(store: vulnerable.LabKeyStore) -> None:
    forged = injection.forge_kid_traversal(ADMIN)
    assert accept(vulnerable.kid_as_path, forged.token, store.directory, "HS256") == ADMIN
    refuse(forged.token, store.jwks, "HS256", KeyNotFoundError, "no key in the key set has kid")
    secret = store.secrets[store.kid]
    refuse(forged.token, secret, "HS256", BadSignatureError, "does not match")


def test_kid_traversal_one_zero_byte_is_the_empty_hmac_key(store: vulnerable.LabKeyStore) -> None:
    kid = "/dev/null"  # an absolute kid: os.path.join drops the key directory altogether
    zero_byte = algorithms.sign_token(ADMIN, b"\x00", "HS256", headers={"kid": kid})
    assert zero_byte == injection.forge_kid_traversal(ADMIN, kid=kid).token
    assert accept(vulnerable.kid_as_path, zero_byte, store.directory, "HS256") == ADMIN


def test_kid_sql_injection_returns_the_attackers_key(store: vulnerable.LabKeyStore) -> None:
    forged = injection.forge_kid_sql(ADMIN)
    assert "UNION SELECT" in tokens.parse(forged.token).header["kid"]
    assert accept(vulnerable.kid_in_sql, forged.token, store.database, "HS256") == ADMIN
    refuse(forged.token, store.jwks, "HS256", KeyNotFoundError, "no key in the key set has kid")


# The vulnerable verifiers are otherwise hardened -------------------------------------------------


def tampered(token: str) -> str:
    head, _, sig = token.split(".")
    body = tokens.b64url_encode(tokens.json_bytes(ADMIN))
    return f"{head}.{body}.{sig}"


def test_honest_tokens_pass_and_honest_mistakes_fail(
    store: vulnerable.LabKeyStore, jwks_server: injection.KeyServer
) -> None:
    rs = algorithms.sign_token(ALICE, SERVICE_KEY, "RS256", headers={"kid": SERVICE_KID})
    hs = store.sign(ALICE)
    cases = [
        (vulnerable.trust_embedded_jwk, rs, SERVICE_PUBLIC, "RS256"),
        (vulnerable.follow_jku, rs, SERVICE_JWKS, "RS256"),
        (vulnerable.kid_as_path, hs, store.directory, "HS256"),
        (vulnerable.kid_in_sql, hs, store.database, "HS256"),
    ]
    for verifier, token, key, alg in cases:
        assert accept(verifier, token, key, alg) == ALICE
        with pytest.raises(BadSignatureError):
            accept(verifier, tampered(token), key, alg)
        with pytest.raises(ExpiredTokenError):
            accept(verifier, token, key, alg, now=LATER)
        with pytest.raises(InvalidAudienceError):
            accept(verifier, token, key, alg, audience="labkit-billing")
        with pytest.raises(DisallowedAlgorithmError):
            accept(verifier, token, key, "RS512" if alg == "RS256" else "HS512")
        unsigned = tokens.encode({"alg": "none", "kid": store.kid, "jku": jwks_server.url}, ALICE)
        with pytest.raises(DisallowedAlgorithmError):
            accept(verifier, unsigned, key, alg)
        with pytest.raises(ConfigurationError):
            verifier(token, key, algorithms=[alg], surprise=True)


def test_embedded_jwk_must_still_be_a_strong_key_that_fits() -> None:
    weak = keys.demo_private_key("rsa-1024")
    token = algorithms.sign_token(
        ADMIN, weak, "RS256", headers={"jwk": keys.to_jwk(weak.public_key())}
    )
    with pytest.raises(UnsafeKeyError, match="1024 bits"):
        accept(vulnerable.trust_embedded_jwk, token, SERVICE_PUBLIC, "RS256")
    ec_jwk = keys.to_jwk(keys.demo_public_key("p256"))
    forged = algorithms.sign_token(ADMIN, SERVICE_KEY, "RS256", headers={"jwk": ec_jwk})
    with pytest.raises(UnsafeKeyError, match="RS256 needs an RSA"):
        accept(vulnerable.trust_embedded_jwk, forged, SERVICE_PUBLIC, "RS256")


def test_jku_fetch_errors_are_key_not_found(jwks_server: injection.KeyServer) -> None:
    missing = jwks_server.url.replace(injection.JWKS_PATH, "/nothing-here")
    token = injection.forge_jku(ADMIN, missing).token
    with pytest.raises(KeyNotFoundError, match="answered HTTP 404"):
        accept(vulnerable.follow_jku, token, SERVICE_JWKS, "RS256")
    jwks_server.close()
    token = injection.forge_jku(ADMIN, jwks_server.url).token
    with pytest.raises(KeyNotFoundError, match="could not fetch the jku"):
        accept(vulnerable.follow_jku, token, SERVICE_JWKS, "RS256")


def test_kid_lookups_refuse_unknown_missing_and_odd_kids(store: vulnerable.LabKeyStore) -> None:
    for verifier, key in [
        (vulnerable.kid_as_path, store.directory),
        (vulnerable.kid_in_sql, store.database),
    ]:
        for kid in ("2025-12", "", "x\x00y"):
            token = algorithms.sign_token(
                ALICE, store.secrets[store.kid], "HS256", headers={"kid": kid}
            )
            with pytest.raises(KeyNotFoundError):
                accept(verifier, token, key, "HS256")
        no_kid = algorithms.sign_token(ALICE, store.secrets[store.kid], "HS256")
        with pytest.raises(KeyNotFoundError, match="has no 'kid'"):
            accept(verifier, no_kid, key, "HS256")
    with pytest.raises(ConfigurationError, match="existing key directory"):
        accept(vulnerable.kid_as_path, store.sign(ALICE), store.database, "HS256")
    with pytest.raises(ConfigurationError, match="existing key file"):
        accept(vulnerable.kid_in_sql, store.sign(ALICE), store.directory, "HS256")


def test_kid_as_path_reads_a_bounded_amount(store: vulnerable.LabKeyStore) -> None:
    token = algorithms.sign_token(ADMIN, b"\x00", "HS256", headers={"kid": "../" * 16 + "dev/zero"})
    with pytest.raises(BadSignatureError):  # 64 KiB of zeros, not an endless read
        accept(vulnerable.kid_as_path, token, store.directory, "HS256")
    directory = algorithms.sign_token(ADMIN, b"\x00", "HS256", headers={"kid": "."})
    with pytest.raises(KeyNotFoundError, match="no key file"):
        accept(vulnerable.kid_as_path, directory, store.directory, "HS256")


def test_kid_in_sql_keeps_the_length_check_and_a_read_only_database(
    store: vulnerable.LabKeyStore,
) -> None:
    short = injection.forge_kid_sql(ADMIN, secret="short").token
    with pytest.raises(UnsafeKeyError, match="at least 32"):
        accept(vulnerable.kid_in_sql, short, store.database, "HS256")
    for kid in ("'", "x'; DROP TABLE keys; --", "x' OR 1=1; DELETE FROM keys; --"):
        token = algorithms.sign_token(
            ADMIN, store.secrets[store.kid], "HS256", headers={"kid": kid}
        )
        with pytest.raises(KeyNotFoundError, match=r"key lookup .* failed"):
            accept(vulnerable.kid_in_sql, token, store.database, "HS256")
    with closing(sqlite3.connect(store.database)) as db:
        rows = dict(db.execute("SELECT kid, secret FROM keys").fetchall())
    assert {kid: secret.encode() for kid, secret in rows.items()} == dict(store.secrets)


def test_key_store_layout(store: vulnerable.LabKeyStore) -> None:
    assert sorted(store.secrets) == list(vulnerable.LAB_KIDS) and store.kid == "2026-02"
    for kid, secret in store.secrets.items():
        assert (store.directory / kid).read_bytes() == secret and len(secret) == 64
    assert labkit.verify(store.sign(ALICE), store.jwks, algorithms=["HS256"], now=NOW, **API)


# follow_jku never leaves 127.0.0.1 ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/.well-known/jwks.json",
        "http://localhost:8080/jwks.json",  # a name, even one for this machine
        "http://127.0.0.1@example.com/jwks.json",  # userinfo trick: the host is example.com
        "http://127.0.0.1.nip.io/jwks.json",
        "http://0.0.0.0:8080/jwks.json",
        "http://2130706433/jwks.json",  # 127.0.0.1 as one number: curl would, this does not
        "http://10.0.0.1/jwks.json",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "ftp://127.0.0.1/jwks.json",
        "file:///etc/passwd",
        "http://127.0.0.1:notaport/",
        "//127.0.0.1/jwks.json",
    ],
)
def test_follow_jku_refuses_urls_off_loopback(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a request was attempted for {url}")

    monkeypatch.setattr(requests.Session, "request", no_network)
    token = injection.forge_jku(ADMIN, url).token
    with pytest.raises(KeyNotFoundError, match="refusing to fetch keys from"):
        accept(vulnerable.follow_jku, token, SERVICE_JWKS, "RS256")


def test_follow_jku_needs_a_url_string() -> None:
    token = algorithms.sign_token(ADMIN, SERVICE_KEY, "RS256", headers={"jku": ["http://x"]})
    with pytest.raises(InvalidTokenError, match="must be a URL string"):
        accept(vulnerable.follow_jku, token, SERVICE_JWKS, "RS256")


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://example.com/jwks.json")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_follow_jku_does_not_follow_redirects_or_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:9")  # would hang if it were used
    monkeypatch.setenv("NO_PROXY", "")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json"
        token = injection.forge_jku(ADMIN, url).token
        with pytest.raises(KeyNotFoundError, match="answered HTTP 302"):
            accept(vulnerable.follow_jku, token, SERVICE_JWKS, "RS256")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# The key server ----------------------------------------------------------------------------------


def get_path(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_key_server_serves_on_loopback_and_is_shut_down_after_use() -> None:
    jwks = injection.attacker_jwks()
    with injection.serve_jwks(jwks) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.running
        port = int(server.url.split(":")[2].split("/")[0])
        status, body = get_path(port, injection.JWKS_PATH)
        assert (status, json.loads(body)) == (200, jwks)
        assert get_path(port, "/other")[0] == 404
        assert server.requests == [injection.JWKS_PATH, "/other"]
        assert "serving" in repr(server)
    assert not server.running and "closed" in repr(server)
    with pytest.raises(OSError):
        get_path(port, injection.JWKS_PATH)
    server.close()  # a second close is harmless


# Forger input checks -----------------------------------------------------------------------------


def test_forgers_refuse_bad_input() -> None:
    with pytest.raises(ConfigurationError, match="without a quote"):
        injection.forge_kid_sql(ADMIN, secret="it's")
    with pytest.raises(DisallowedAlgorithmError):
        injection.forge_kid_traversal(ADMIN, alg="RS256")
    with pytest.raises(labkit.KeyFormatError):
        injection.forge_jwk(ADMIN, key=keys.demo_private_key("p256"))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        injection.forge_jku(ADMIN, "")
    with pytest.raises(labkit.KeyFormatError):
        injection.serve_jwks(["not", "a", "jwks"])  # type: ignore[arg-type]


# Notebook 07's exercises ------------------------------------------------------------------------


def solved(exercise_id: str) -> Any:
    namespace: dict[str, Any] = {"labkit": labkit, "keys": keys, "alice": dict(ALICE)}
    exec(get(exercise_id).solution, namespace)
    return namespace["answer"]


@pytest.mark.parametrize("exercise_id", ["07.1", "07.2", "07.3", "07.4"])
def test_solutions_are_correct(exercise_id: str) -> None:
    assert evaluate(exercise_id, solved(exercise_id)).status == "correct"


def test_exercise_mistakes_get_a_pointed_message() -> None:
    own_key = algorithms.sign_token(
        ADMIN, SERVICE_KEY, "RS256", headers={"jwk": keys.to_jwk(SERVICE_PUBLIC)}
    )
    assert "the jwk is the service's own public key" in evaluate("07.1", own_key).message
    no_jwk = injection.forge_jku(ADMIN, "http://127.0.0.1:1/").token
    assert "needs a 'jwk'" in evaluate("07.1", no_jwk).message
    empty_claims = injection.forge_kid_traversal({**ALICE, "role": "reader"}).token
    assert "role should be 'admin'" in evaluate("07.2", empty_claims).message
    short = injection.forge_kid_sql(ADMIN, secret="short").token
    assert "at least 32" in evaluate("07.3", short).message

    def concatenating(db: sqlite3.Connection, kid: str) -> Any:
        row = db.execute(f"SELECT secret FROM keys WHERE kid = '{kid}'").fetchone()
        return None if row is None else row[0]

    verdict = evaluate("07.4", concatenating)
    assert verdict.status == "wrong" and "still reaches the SQL text" in verdict.message
