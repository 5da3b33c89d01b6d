"""The local API's presets: the hardened service, and seventeen services with one flaw each.

A preset decides two things: how the identity provider signs (``alg`` and
key) and which verifier the Lambda authorizer runs. ``hardened`` runs
``labkit.verify`` against the provider's JWKS. Each vulnerable preset runs one
verifier of ``labkit.vulnerable``, which is ``labkit.verify`` with one bug put
back, so the service has exactly that one flaw. Where the flaw needs a
different kind of key (an HMAC secret, a key directory, an ES256 key), the
provider signs with that kind; the authorizer's issuer, audience, expiry,
revocation and policy are the same everywhere.

=====================  ========  ================================================
preset                 signs     the authorizer's verifier, and its key
=====================  ========  ================================================
hardened               RS256     ``labkit.verify``, the provider's JWKS
unverified-signature   RS256     ``decode_without_verification``, JWKS
alg-none               RS256     ``accept_alg_none``, JWKS
weak-secret            HS256     ``accept_weak_secret``, ``your-256-bit-secret``
key-confusion          RS256     ``alg_from_header``, the public key as PEM
jwk-injection          RS256     ``trust_embedded_jwk``, JWKS
jku-injection          RS256     ``follow_jku``, JWKS
kid-traversal          HS256     ``kid_as_path``, a key directory (one file per kid)
psychic-signature      ES256     ``ecdsa_without_range_check``, the P-256 public key
cookie-no-csrf         RS256     ``labkit.verify``; cookie-carried tokens change state
                                 without an Origin check or CSRF token
fingerprint-ignored    RS256     ``labkit.verify``; a token's ``fgp`` claim is ignored
                                 (no sidejacking fingerprint cookie needed)
id-token-accepted      RS256     ``tokentypes.any_token_type`` (no typ, no aud), JWKS
typ-not-checked        RS256     ``tokentypes.untyped`` (no typ), JWKS
audience-not-checked   RS256     ``tokentypes.ignore_audience`` (no aud), JWKS
dpop-optional          RS256     ``labkit.verify``; DPoP: a bound token needs no proof
dpop-no-replay-check   RS256     ``labkit.verify``; DPoP: no jti replay cache
dpop-no-ath            RS256     ``labkit.verify``; DPoP: ath unchecked
dpop-no-htu            RS256     ``labkit.verify``; DPoP: htm and htu unchecked
=====================  ========  ================================================

The browser flaws (notebook 14, ``labkit.aws.cookies``) run the hardened
verifier and drop one check of the authorizer's ``BrowserPolicy``, which every
other preset keeps on.

``hardened`` requires access tokens typed ``at+jwt`` (RFC 9068 section 4), as
the provider issues them from ``/login`` and ``/token``; the three token-type
presets (``labkit.attacks.tokentypes``) each leave one question out, and only
genuine tokens of the provider get through them: its ID tokens and the access
tokens of its other clients (``labkit.oidc.DEMO_CLIENTS``). The presets of
notebooks 04-08 predate explicit typing and do not check ``typ`` either.

The ``dpop-*`` presets (notebook 15) verify tokens as ``hardened`` does; each turns
off one check of the gateway's DPoP step (``DPOP_FLAWS``, ``labkit.aws.dpop_guard``),
which every other preset runs in full for DPoP-bound tokens.

Each flaw fails the way its real bug did, so the scanners security teams run
find it. ``bench/jwt_tool_presets.py`` runs jwt_tool 2.2.7's all-tests mode
(``-M at``, 571 requests) against every preset: it finds the flaw of every
vulnerable preset but ``psychic-signature``, and nothing on ``hardened``. Two
presets need what a tester supplies by hand, as jwt_tool's own help says:
``key-confusion`` needs the service's public key (``-pk``, a PEM made from
the published JWKS), and ``jku-injection`` needs a URL where jwt_tool's key
set is served (``-ju``; its default is on httpbin.org, which
``follow_jku`` never fetches: it follows loopback URLs only). The jku preset
looks the fetched key up by the token's ``kid``, as services that follow
``jku`` do (see ``labkit.vulnerable.follow_jku``); jwt_tool builds its set
under the token's kid. ``psychic-signature`` is out of jwt_tool 2.2.7's reach
for a plain reason: none of its probes sends an ES256 signature of r = s = 0
(CVE-2022-21449): against an ES256 token they replay its signature, drop
it, or switch to HS256, RS256 or none. The kit's own scanner
(``labkit.scan``) and notebook 08 find it.

The three token-type presets are out of reach of any scanner that only
forges: nothing is forged there, the attack is a genuine token of another
kind or audience. ``labkit.scan`` sends those when given them
(``--id-token``, ``--other-token``), and notebook 13 teaches them.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization

from labkit import examples
from labkit.aws.authorizer import AuthorizerConfig, Verifier
from labkit.aws.clock import Clock
from labkit.aws.cookies import HARDENED, BrowserPolicy, policy_of
from labkit.aws.dpop_guard import DpopGuard
from labkit.aws.idp import AUDIENCE, ISSUER, IdentityProvider
from labkit.errors import ConfigurationError
from labkit.oidc import verify_access_token

__all__ = ["PRESETS", "WEAK_SECRET", "Preset", "Service", "available", "build", "get"]

WEAK_SECRET = examples.CLASSIC_SECRET
"""The weak-secret preset's HS256 secret: ``your-256-bit-secret``, the source article's."""


@dataclass(frozen=True)
class Preset:
    """One preset: its name, a one-line description, what it signs with, its flaw."""

    name: str
    summary: str
    alg: str
    flaw: str | None = None  # the name of the labkit.vulnerable verifier
    relaxes: tuple[str, ...] = ()  # browser checks turned off (labkit.aws.cookies.policy_of)

    @property
    def available(self) -> bool:
        """True when the preset's verifier exists (the hardened one always does)."""
        return self.flaw is None or _zoo(self.flaw) is not None

    def verifier(self) -> Verifier:
        if self.flaw is None:
            return verify_access_token  # labkit.verify, and typ at+jwt (RFC 9068 section 4)
        function = _zoo(self.flaw)
        if function is None:
            raise ConfigurationError(
                f"labkit.vulnerable has no {self.flaw}: preset {self.name} is unavailable"
            )
        return function


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "hardened", "labkit.verify against the IdP's JWKS: RS256 only, every check on", "RS256"
        ),
        Preset(
            "unverified-signature",
            "decodes the token and checks its claims, never its signature",
            "RS256",
            "decode_without_verification",
        ),
        Preset(
            "alg-none",
            "accepts unsigned tokens: alg none in any casing, or no signature",
            "RS256",
            "accept_alg_none",
        ),
        Preset(
            "weak-secret",
            "HS256 with a guessable secret from the kit's wordlist, no minimum length",
            "HS256",
            "accept_weak_secret",
        ),
        Preset(
            "key-confusion",
            "RS256 public key, but the token's header picks the algorithm (HS256 with the PEM)",
            "RS256",
            "alg_from_header",
        ),
        Preset(
            "jwk-injection",
            "trusts a public key embedded in the token's jwk header",
            "RS256",
            "trust_embedded_jwk",
        ),
        Preset(
            "jku-injection",
            "fetches the keys from the URL in the token's jku header",
            "RS256",
            "follow_jku",
        ),
        Preset(
            "kid-traversal",
            "HS256 keys read from a directory by kid, so ../ reaches any file",
            "HS256",
            "kid_as_path",
        ),
        Preset(
            "psychic-signature",
            "ES256 without the 0 < r, s < n check: r = s = 0 verifies (CVE-2022-21449)",
            "ES256",
            "ecdsa_without_range_check",
        ),
        # Browser flaws (notebook 14): the hardened verifier, one BrowserPolicy check off.
        Preset(
            "cookie-no-csrf",
            "takes the token from its cookie on state-changing requests without CSRF defence",
            "RS256",
            relaxes=("csrf",),
        ),
        Preset(
            "fingerprint-ignored",
            "ignores the token's fgp claim: a stolen token works without its fingerprint cookie",
            "RS256",
            relaxes=("fingerprint",),
        ),
        # Token types (notebook 13): the verifiers of labkit.attacks.tokentypes, each
        # labkit.verify with one check left out; the IdP's tokens are all genuine.
        Preset(
            "id-token-accepted",
            "any token the IdP signed is an access token: neither typ nor aud is checked",
            "RS256",
            "labkit.attacks.tokentypes:any_token_type",
        ),
        Preset(
            "typ-not-checked",
            "aud is checked but typ is not: an ID token whose aud is the API's id passes",
            "RS256",
            "labkit.attacks.tokentypes:untyped",
        ),
        Preset(
            "audience-not-checked",
            "typed at+jwt access tokens only, but for any audience: other APIs' tokens replay",
            "RS256",
            "labkit.attacks.tokentypes:ignore_audience",
        ),
        # DPoP (notebook 15): labkit.verify for the token, one DPoP check off (DPOP_FLAWS)
        Preset(
            "dpop-optional",
            "a DPoP-bound token works without a proof: a stolen one is a bearer token again",
            "RS256",
        ),
        Preset(
            "dpop-no-replay-check",
            "DPoP proofs are checked but their jti is never remembered: a proof replays",
            "RS256",
        ),
        Preset(
            "dpop-no-ath",
            "DPoP proofs need not carry the access token's hash (ath): one proof fits any token",
            "RS256",
        ),
        Preset(
            "dpop-no-htu",
            "DPoP proofs' htm and htu are not compared with the request: a proof for any URL",
            "RS256",
        ),
    )
}
"""Every preset by name, hardened first."""


def get(name: str) -> Preset:
    """The preset called ``name``, or a ``ConfigurationError`` listing the available ones."""
    preset = PRESETS.get(name) if isinstance(name, str) else None
    if preset is None or not preset.available:
        known = ", ".join(p.name for p in available())
        raise ConfigurationError(f"no preset {name!r}; the presets are: {known}")
    return preset


def available() -> tuple[Preset, ...]:
    """The presets whose verifier exists, in order."""
    return tuple(p for p in PRESETS.values() if p.available)


@dataclass
class Service:
    """What a preset builds: the identity provider and the authorizer's settings."""

    preset: Preset
    idp: IdentityProvider
    config: AuthorizerConfig
    key: Any  # the verifier's key, or a zero-argument callable returning it
    verifier: Verifier
    resources: ExitStack = field(default_factory=ExitStack)
    browser: BrowserPolicy = HARDENED  # what the authorizer demands of browser-carried tokens

    def close(self) -> None:
        """Remove what the preset created (the kid-traversal key directory)."""
        self.resources.close()


def build(name: str, *, clock: Clock) -> Service:
    """The identity provider and authorizer settings of preset ``name``."""
    preset = get(name)
    resources = ExitStack()
    config = AuthorizerConfig(issuer=ISSUER, audience=AUDIENCE, algorithms=(preset.alg,))
    if preset.name == "weak-secret":
        idp = IdentityProvider(alg="HS256", key=WEAK_SECRET.encode("ascii"), clock=clock)
        key: Any = WEAK_SECRET
    elif preset.name == "kid-traversal":
        store = _key_store(resources)
        idp = IdentityProvider(
            alg="HS256", key=store.secrets[store.kid], kid=store.kid, clock=clock
        )
        key = store.directory
    elif preset.name == "psychic-signature":
        idp = IdentityProvider(alg="ES256", clock=clock)
        key = idp.public_key
    elif preset.name == "key-confusion":
        idp = IdentityProvider(alg="RS256", clock=clock)
        key = _pem_of(idp)
    else:
        idp = IdentityProvider(alg="RS256", clock=clock)
        key = idp.jwks
    browser = policy_of(preset.relaxes)
    return Service(preset, idp, config, key, preset.verifier(), resources, browser)


def _pem_of(idp: IdentityProvider) -> Callable[[], bytes]:
    """The signing key's public half as the PEM a service would keep in its config."""

    def pem() -> bytes:
        return idp.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    return pem


def _key_store(resources: ExitStack) -> Any:
    """A fresh key directory of HMAC secrets (one file per kid), removed when the service closes."""
    zoo = importlib.import_module("labkit.vulnerable")
    folder = resources.enter_context(tempfile.TemporaryDirectory(prefix="labkit-keys-"))
    return zoo.make_key_store(folder)


def _zoo(name: str) -> Verifier | None:
    """A verifier of ``labkit.vulnerable`` by name, or of another module as ``module:name``."""
    module, _, name = name.rpartition(":") if ":" in name else ("labkit.vulnerable", "", name)
    try:
        zoo = importlib.import_module(module)
    except ImportError:
        return None
    function = getattr(zoo, name, None)
    return function if callable(function) else None


# DPoP (notebook 15) ------------------------------------------------------------------------------

DPOP_FLAWS: dict[str, dict[str, bool]] = {
    "dpop-optional": {"required": False},
    "dpop-no-replay-check": {"replay": False},
    "dpop-no-ath": {"check_ath": False},
    "dpop-no-htu": {"check_request": False},
}
"""The DPoP presets' one flaw each: the ``DpopGuard`` switch they turn off."""


def dpop_guard(name: str, *, clock: Clock) -> DpopGuard:
    """The gateway's DPoP step for preset ``name``: every check on, but the preset's own flaw.

    Every other preset, ``hardened`` first, enforces DPoP for DPoP-bound tokens
    (RFC 9449 section 7) with server nonces (sections 9 and 11.2).
    """
    return DpopGuard(clock=clock, **DPOP_FLAWS.get(name, {}))
