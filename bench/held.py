"""What a tester holds for each preset: the target URL, the token, and what shows the flaw.

A default scan gets Alice's header token from ``/login`` and scans ``/api/profile``. The nine
presets of ``labkit.capstone.SCAN_NEEDS`` need what the real client holds instead, obtained here
the way that client obtains it, over loopback HTTP:

- ``cookie-no-csrf``: the browser demo (``labkit.browser.serve_spa``), ``/spa/login`` in cookie
  mode; the token travels in its ``__Host-`` cookie to ``/api/me`` (``--cookie``).
- ``fingerprint-ignored``: the same demo in fingerprint mode; the header token plus the
  fingerprint cookie the browser sends beside it (``--send-cookie``).
- ``id-token-accepted``: the IdP's code flow (``labkit.oidc.code_flow``) for the notebook's
  client: its access token, and its ID token (``--id-token``, aud that client).
- ``typ-not-checked``: the code flow for the ``labkit-api`` client, whose ID token's aud is the
  API's id (``--id-token``).
- ``audience-not-checked``: the notebook client's access token, and the ``partner-dashboard``
  client's access token, for another API (``--other-token``).
- ``dpop-*``: a DPoP-bound token (login with a proof, ``labkit.dpop.Client``) and its key; the
  scan talks through ``labkit.scan.DpopTarget`` (``--dpop-key``).

``extras=False`` is what a tool that takes only a token gets: the same service and the same
token, without the extra inputs (and without the logins that only they need).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec

from labkit import browser, capstone, dpop, oidc, scan
from labkit.aws import serve
from labkit.aws.cookies import TOKEN_COOKIE

ALICE = {"username": "alice", "password": "wonderland"}  # DEMO ONLY credentials

KIND = {
    "cookie-no-csrf": "cookie",
    "fingerprint-ignored": "fingerprint",
    "id-token-accepted": "id-token",
    "typ-not-checked": "api-id-token",
    "audience-not-checked": "other-token",
    "dpop-optional": "dpop",
    "dpop-no-replay-check": "dpop",
    "dpop-no-ath": "dpop",
    "dpop-no-htu": "dpop",
}
"""How a tester gets the input each SCAN_NEEDS preset needs (the rest: default login)."""

if set(KIND) != set(capstone.SCAN_NEEDS):  # a new SCAN_NEEDS preset must say what it gets here
    raise SystemExit(f"bench/held.py: KIND {sorted(KIND)} is not SCAN_NEEDS' presets")


@dataclass
class Held:
    """One preset's service, served, and what its tester holds."""

    base: str  # the service's base URL (its JWKS is at /.well-known/jwks.json)
    url: str  # the endpoint scanned
    token: str
    cookie: str | None = None  # the cookie the token travels in (None: Authorization header)
    cookies: dict[str, str] = field(default_factory=dict)  # other cookies the client sends
    id_token: str | None = None
    other_token: str | None = None
    dpop_key: Any = None

    @property
    def given(self) -> str:
        """What ``labkit.scan`` is given, as ``labkit scan`` options."""
        parts = [f"{self.url.removeprefix(self.base)}", "--cookie" if self.cookie else "--token"]
        parts += ["--send-cookie " + ",".join(self.cookies)] if self.cookies else []
        parts += ["--id-token"] if self.id_token else []
        parts += ["--other-token"] if self.other_token else []
        parts += ["--dpop-key (bound)"] if self.dpop_key is not None else []
        return " ".join(parts)

    def report(self) -> scan.ScanReport:
        """One ``labkit.scan`` with everything held; ``requests`` counts every HTTP request."""
        options = dict(
            cookie=self.cookie,
            cookies=self.cookies or None,
            id_token=self.id_token,
            other_token=self.other_token,
        )
        if self.dpop_key is None:
            return scan.scan(self.url, self.token, **options)  # type: ignore[arg-type]
        target = scan.DpopTarget(self.url, self.dpop_key)
        try:
            report = scan.scan(target, self.token, **options)  # type: ignore[arg-type]
        finally:
            target.close()
        # the target counts every HTTP request, the use_dpop_nonce retries included
        return dataclasses.replace(report, requests=target.requests)


@contextmanager
def held(preset: str, *, extras: bool = True) -> Iterator[Held]:
    """Serve ``preset`` afresh for a ``with`` block and log in as its real client would."""
    kind = KIND.get(preset, "default")
    if kind in ("cookie", "fingerprint"):
        with browser.serve_spa(preset) as spa:
            reply = _post(f"{spa.url}/spa/login", {**ALICE, "mode": kind})
            jar = {c.name: c.value for c in reply.cookies}
            url = f"{spa.url}/api/me"
            if kind == "cookie":
                yield Held(spa.url, url, jar.pop(TOKEN_COOKIE), cookie=TOKEN_COOKIE, cookies=jar)
            else:
                yield Held(spa.url, url, reply.json()["access_token"], cookies=jar)
        return
    with serve(preset) as api:
        url = f"{api.url}/api/profile"
        if kind == "dpop":
            key = ec.generate_private_key(ec.SECP256R1())
            answer = dpop.Client(key).request("POST", f"{api.url}/login", json=ALICE)
            token = answer.json()["access_token"]
            yield Held(api.url, url, token, dpop_key=key if extras else None)
        elif kind == "api-id-token":
            flow = oidc.code_flow(api.url, client_id="labkit-api")
            yield Held(api.url, url, flow["access_token"], id_token=_if(extras, flow["id_token"]))
        elif kind in ("id-token", "other-token"):
            flow = oidc.code_flow(api.url)
            held = Held(api.url, url, flow["access_token"])
            if extras and kind == "id-token":
                held.id_token = flow["id_token"]
            if extras and kind == "other-token":
                held.other_token = oidc.code_flow(api.url, client_id="partner-dashboard")[
                    "access_token"
                ]
            yield held
        else:
            yield Held(api.url, url, capstone.login(api.url))


def _if(wanted: bool, value: str) -> str | None:
    return value if wanted else None


def _post(url: str, body: dict[str, str]) -> requests.Response:
    with requests.Session() as session:  # loopback: no proxy from the environment
        session.trust_env = False
        reply = session.post(url, json=body, timeout=10)
    reply.raise_for_status()
    return reply
