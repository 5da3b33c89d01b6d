"""Bad input to the local API gets a 4xx with a JSON message: never a 500, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator

import pytest
import requests
from werkzeug.test import Client

from labkit import tokens
from labkit.aws import FrozenClock, presets, serve
from labkit.aws.server import Api, create_lab

NOW = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with serve(clock=FrozenClock(NOW)) as running:
        yield running


def assert_json_4xx(response: requests.Response, status: int | None = None) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    if status is not None:
        assert response.status_code == status, response.text[:200]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("message", body.get("Message")), str)
    assert "Traceback" not in response.text
    return body


AUTHORIZATION = [
    "Bearer",
    "Bearer ",
    "Bearer x",
    "Bearer a.b",
    "Bearer a.b.c.d",
    "Bearer x.y.z extra",
    "bearer  eyJhbGciOiJIUzI1NiJ9.e30.",
    "Basic YWxpY2U6d29uZGVybGFuZA==",
    "Token eyJhbGciOiJIUzI1NiJ9.e30.sig",
    "eyJhbGciOiJub25lIn0.e30.",
    "Bearer eyJhbGciOiJub25lIn0.e30.",
    "Bearer eyJ9.eyJ9.eyJ9",
    "Bearer ....",
    "Bearer é.ü.ß",
    "Bearer " + "A" * 9000,
    "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6WzFdfQ.e30.AAAA",  # kid is a list
    "Bearer eyJhbGciOiJIUzI1NiIsImp3ayI6InN0ciJ9.e30.AAAA",  # jwk is a string
    "Bearer eyJhbGciOiJFUzI1NiJ9.eyJleHAiOiJzb29uIn0.AAAA",  # exp is a string
]


@pytest.mark.parametrize("value", AUTHORIZATION, ids=range(len(AUTHORIZATION)))
def test_malformed_authorization_headers_are_401(api: Api, value: str) -> None:
    response = requests.get(
        f"{api.url}/api/profile", headers={"Authorization": value.encode("utf-8")}, timeout=10
    )
    assert assert_json_4xx(response, 401) == {"message": "Unauthorized"}


@pytest.mark.parametrize("name", [p.name for p in presets.available()])
def test_no_preset_answers_500_to_malformed_tokens(name: str) -> None:
    with serve(name, clock=FrozenClock(NOW), cache_ttl=0) as api:
        for value in AUTHORIZATION:
            response = requests.get(
                f"{api.url}/api/admin", headers={"Authorization": value.encode("utf-8")}, timeout=10
            )
            assert_json_4xx(response)
        kid_tricks = [
            '{"alg":"HS256","kid":"/dev/zero"}',
            '{"alg":"HS256","kid":"/proc/self/environ"}',
            '{"alg":"HS256","kid":"' + "../" * 40 + 'etc"}',
            '{"alg":"RS256","jku":"http://127.0.0.1:1/nothing"}',
            '{"alg":"RS256","jku":"https://example.com/jwks.json"}',
            '{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}',
            '{"alg":"ES256","kid":"x"}',
        ]
        for header in kid_tricks:
            token = tokens.encode(json.loads(header), {"sub": "x"}, b"\0" * 64)
            response = requests.get(
                f"{api.url}/api/admin", headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            assert_json_4xx(response, 401)


def test_headers_over_api_gateways_limit_are_431(api: Api) -> None:
    big = requests.get(
        f"{api.url}/api/profile", headers={"Authorization": "Bearer " + "A" * 20_000}, timeout=10
    )
    assert_json_4xx(big, 431)
    huge = requests.get(
        f"{api.url}/api/profile", headers={"Authorization": "Bearer " + "A" * 70_000}, timeout=10
    )
    assert_json_4xx(huge, 431)  # refused by the HTTP server before the app: JSON all the same
    many = requests.get(
        f"{api.url}/api/profile", headers={f"X-H{i}": "v" for i in range(150)}, timeout=10
    )
    assert_json_4xx(many, 431)


def test_a_huge_url_is_414(api: Api) -> None:
    assert_json_4xx(requests.get(f"{api.url}/api/profile?q={'a' * 70_000}", timeout=10), 414)


def raw(api: Api, data: bytes) -> str:
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("latin-1")


def test_requests_that_are_not_http_get_json_errors(api: Api) -> None:
    # An unreadable request line gets an HTTP/0.9 style answer: the body without a status line.
    garbage = json.loads(raw(api, b"NOT HTTP AT ALL\r\n\r\n"))
    assert garbage == {"message": "Bad request version ('ALL')"}
    version = json.loads(raw(api, b"GET /api/profile HTTP/7.0\r\n\r\n"))
    assert version == {"message": "Invalid HTTP version (7.0)"}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"username=alice&password=wonderland", "application/x-www-form-urlencoded", 400),
        (b"not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"alice"', "application/json", 400),
        (b"{}", "application/json", 400),
        (b'{"username": "alice"}', "application/json", 400),
        (b'{"username": 1, "password": 2}', "application/json", 400),
        (b'{"username": "alice", "password": null}', "application/json", 400),
        (b'{"username": "alice", "password": "nope"}', "application/json", 401),
        (b'{"username": "nobody", "password": "wonderland"}', "application/json", 401),
        (
            b'{"username": "alice", "password": "wonderland", "scope": "predict"}',
            "application/json",
            400,
        ),
        (b'{"username": "alice", "password": "wonderland", "scope": 7}', "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b"[" * 100_000, "application/json", 413),
        (b'{"a": ' * 5_000 + b"1" + b"}" * 5_000, "application/json", 400),
        (b'{"username": "' + b"a" * 70_000 + b'"}', "application/json", 413),
    ],
    ids=range(17),
)
def test_login_refuses_bad_bodies_with_json(
    api: Api, body: bytes, content_type: str, status: int
) -> None:
    response = requests.post(
        f"{api.url}/login", data=body, headers={"Content-Type": content_type}, timeout=10
    )
    assert_json_4xx(response, status)


def test_refresh_and_logout_refuse_bad_input(api: Api) -> None:
    assert_json_4xx(requests.post(f"{api.url}/refresh", data=b"x", timeout=10), 400)
    assert_json_4xx(requests.post(f"{api.url}/refresh", json={}, timeout=10), 400)
    assert_json_4xx(requests.post(f"{api.url}/refresh", json={"refresh_token": 5}, timeout=10), 400)
    assert_json_4xx(
        requests.post(f"{api.url}/refresh", json={"refresh_token": "x"}, timeout=10), 401
    )
    headers = {"Authorization": "Bearer " + "A" * 9000}
    assert_json_4xx(requests.post(f"{api.url}/logout", headers=headers, timeout=10), 401)
    assert_json_4xx(
        requests.post(f"{api.url}/logout", headers={"Authorization": "Basic x"}, timeout=10), 401
    )


def test_wrong_methods_and_unknown_paths_are_json(api: Api) -> None:
    for method, path in [
        ("GET", "/logout"),
        ("PUT", "/login"),
        ("GET", "/%00"),
        ("GET", "/../etc"),
    ]:
        assert_json_4xx(requests.request(method, f"{api.url}{path}", timeout=10), 403)


def test_bodies_over_10_mb_are_413_before_any_handler() -> None:
    lab = create_lab(clock=FrozenClock(NOW))
    try:
        client = Client(lab.gateway)
        response = client.post(
            "/login", data=b"x" * (10 * 1024 * 1024 + 1), content_type="application/json"
        )
        assert response.status_code == 413
        assert json.loads(response.get_data())["message"]
    finally:
        lab.close()
