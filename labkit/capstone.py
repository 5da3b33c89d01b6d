"""Notebook 11's audit targets: three local APIs with one flaw each, and which flaw is not said.

``mystery_services()`` serves services ``A``, ``B`` and ``C`` on 127.0.0.1,
each a preset of ``labkit.aws`` (one flaw, otherwise hardened); finding out
which is the learner's job, by hand and with ``labkit.scan``. ``reveal``
tells afterwards. ``mystery_services(hardened=True)`` serves the same three
names with the fix: the hardened preset, ``labkit.verify`` behind each.

The preset names are stored base64-encoded, so they do not catch the eye of
someone who opens this file by accident. They are not a secret.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from labkit import outbound
from labkit.aws.clock import Clock
from labkit.aws.server import Api, serve
from labkit.errors import ConfigurationError, LabkitError

__all__ = [
    "PRESET_FLAWS",
    "SCAN_NEEDS",
    "SERVICES",
    "bearer",
    "login",
    "mystery_services",
    "preset_of",
    "reveal",
]

SERVICES: tuple[str, ...] = ("A", "B", "C")
"""The audit targets' names."""

_HIDDEN = {"A": "d2Vhay1zZWNyZXQ=", "B": "a2V5LWNvbmZ1c2lvbg==", "C": "cHN5Y2hpYy1zaWduYXR1cmU="}

PRESET_FLAWS: dict[str, str] = {
    "unverified-signature": "signature-not-verified",
    "alg-none": "unsigned-token-accepted",
    "weak-secret": "weak-hmac-secret",
    "key-confusion": "algorithm-confusion",
    "jwk-injection": "jwk-injection",
    "jku-injection": "jku-injection",
    "kid-traversal": "kid-path-traversal",
    "psychic-signature": "psychic-signature",
    "cookie-no-csrf": "cookie-csrf",
    "fingerprint-ignored": "fingerprint-not-checked",
    "id-token-accepted": "id-token-accepted",
    "typ-not-checked": "typ-not-checked",
    "audience-not-checked": "audience-not-checked",
    "dpop-optional": "dpop-not-enforced",
    "dpop-no-replay-check": "dpop-proof-replay",
    "dpop-no-ath": "dpop-proof-not-bound",
    "dpop-no-htu": "dpop-proof-not-bound",
}
"""Each vulnerable preset of ``labkit.aws`` and the ``labkit.scan`` flaw that is its root cause."""

SCAN_NEEDS: dict[str, str] = {
    "cookie-no-csrf": "--cookie NAME (the token travels in a cookie)",
    "fingerprint-ignored": "--send-cookie NAME=VALUE (the fingerprint cookie beside the token)",
    "id-token-accepted": "--id-token TOKEN (an ID token of the same issuer)",
    "typ-not-checked": "--id-token TOKEN (an ID token whose aud is the API's id)",
    "audience-not-checked": "--other-token TOKEN (an access token for another API)",
    "dpop-optional": "a DPoP-bound token (--dpop-key PEM for the other DPoP probes)",
    "dpop-no-replay-check": "--dpop-key PEM (the key the bound token is tied to)",
    "dpop-no-ath": "--dpop-key PEM (the key the bound token is tied to)",
    "dpop-no-htu": "--dpop-key PEM (the key the bound token is tied to)",
}
"""The presets a default scan (a header token, nothing else) cannot show, and what shows them.

A scanner only forges from the one token it is given: a token's type, audience, cookie or DPoP
binding is tested with what the client really holds. Each is proven by its own scan test
(tests/test_browser_api.py, test_oidc.py, test_dpop_scan.py, test_cli_scan_targets.py).
"""


def preset_of(name: str) -> str:
    """The preset behind service ``name`` (what ``reveal`` prints)."""
    if name not in _HIDDEN:
        raise ConfigurationError(f"no service {name!r}; the services are {', '.join(SERVICES)}")
    return base64.b64decode(_HIDDEN[name]).decode("ascii")


def reveal(name: str) -> str:
    """Service ``name``'s preset and the flaw a scan should report, in one line."""
    preset = preset_of(name)
    return f"service {name} runs preset {preset!r}: flaw {PRESET_FLAWS[preset]}"


@contextmanager
def mystery_services(
    *, hardened: bool = False, clock: Clock | None = None
) -> Iterator[dict[str, Api]]:
    """Serve services A, B and C on 127.0.0.1 for the length of a ``with`` block.

    Each is a ``labkit.aws.serve`` API (``api.url``), stopped when the block
    ends. ``hardened=True`` serves the fixed version of all three; ``clock``
    (a ``FrozenClock``) stops their time, as in ``labkit.aws.serve``.
    """
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(
                serve("hardened" if hardened else preset_of(name), clock=clock)
            )
            for name in SERVICES
        }


def login(url: str, username: str = "alice", password: str = "wonderland") -> str:
    """Log in at the service's ``/login`` (DEMO ONLY users); the access token.

    Sent through ``labkit.outbound`` like every other request the kit makes: loopback only,
    no proxies from the environment, no redirects.
    """
    try:
        with outbound.GuardedSession(outbound.judge(f"{url}/login")) as session:
            reply = session.request("POST", json_body={"username": username, "password": password})
    except (outbound.UnsafeURLError, outbound.FetchError) as exc:
        raise LabkitError(f"cannot log in at {url}: {exc}") from None
    if reply.status != 200:
        raise LabkitError(f"login refused at {url}: HTTP {reply.status} {reply.text}")
    try:
        return str(json.loads(reply.body)["access_token"])
    except (ValueError, KeyError, TypeError):
        raise LabkitError(f"login at {url} answered without an access token") from None


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header that carries ``token``."""
    return {"Authorization": f"Bearer {token}"}
