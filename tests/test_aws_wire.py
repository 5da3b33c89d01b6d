"""The wire: a bearer token in clear text over HTTP, only TLS records over HTTPS."""

from __future__ import annotations

import pytest
import requests

from labkit.aws import serve
from labkit.aws.wire import Wiretap
from labkit.errors import ConfigurationError

ALICE = {"username": "alice", "password": "wonderland"}


def test_over_http_the_wiretap_sees_the_token_and_can_replay_it() -> None:
    with serve() as api, Wiretap(api.url) as tap:
        token = requests.post(f"{api.url}/login", json=ALICE, timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        through_tap = requests.get(f"{tap.url}/api/profile", headers=headers, timeout=10)
        assert through_tap.status_code == 200
        assert f"Authorization: Bearer {token}".encode() in tap.captured
        stolen = tap.captured.split(b"Bearer ", 1)[1].split(b"\r\n", 1)[0].decode()
        replay = requests.get(
            f"{api.url}/api/profile", headers={"Authorization": f"Bearer {stolen}"}, timeout=10
        )
        assert replay.json()["sub"] == "alice"


def test_over_https_the_wiretap_sees_no_token() -> None:
    with serve(tls=True) as api, Wiretap(api.url) as tap:
        assert api.url.startswith("https://127.0.0.1:")
        assert api.certificate is not None and api.certificate.exists()
        login = requests.post(f"{tap.url}/login", json=ALICE, timeout=10, verify=api.certificate)
        token = login.json()["access_token"]
        profile = requests.get(
            f"{tap.url}/api/profile",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            verify=api.certificate,
        )
        assert profile.json()["sub"] == "alice"
        assert len(tap.captured) > 500
        assert b"Bearer" not in tap.captured
        assert token.split(".")[1].encode() not in tap.captured
        assert b"wonderland" not in tap.captured
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{api.url}/api/health", timeout=10)  # untrusted without the certificate
    assert not api.certificate.exists()  # removed with the server


def test_wiretap_relays_to_loopback_only() -> None:
    with pytest.raises(ConfigurationError):
        Wiretap("http://192.0.2.1:80")
