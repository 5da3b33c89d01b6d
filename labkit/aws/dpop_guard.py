"""The local gateway's DPoP step: a DPoP-bound token works only with a proof from its key.

RFC 9449 section 7.1: for a DPoP-bound access token "a resource server MUST
check that a DPoP proof was also received in the DPoP header field ...,
check the DPoP proof according to the rules in Section 4.3, and check that
the public key of the DPoP proof matches the public key to which the access
token is bound". Section 7.2: it "MUST reject a DPoP-bound access token
received as a bearer token".

The gateway runs this step on every request to a protected route, after the
authorizer allowed the token and outside the authorizer's cache: a cached
Allow is reused for the same ``Authorization`` value, and a proof is
single-use, so checking proofs inside a cached authorizer would let a
replayed proof through for as long as the answer is cached. An unbound
token (no ``cnf.jkt``) sent as ``Bearer`` passes untouched; sent with the
``DPoP`` scheme it is refused (the scheme says "bound", the token is not).

A refusal is the gateway's usual 401 ``{"message":"Unauthorized"}`` plus
RFC 9449 section 7.1's ``WWW-Authenticate: DPoP error=..., algs=...`` and, for
``use_dpop_nonce``, a ``DPoP-Nonce`` header (section 9). Real API Gateway
cannot compute such headers itself (its gateway responses carry static or
mapped values only); the kit's gateway sends them as a DPoP-aware resource
server does. Nonces are required by default (the safe choice: a proof made
in advance is useless once the server's nonce moves on, section 11.2).

AWS's own JWT authorizers (modes ``jwt`` and ``rest-jwt``) read ``Bearer`` tokens only, as
the real ones do: there a bound token is refused both ways (as Bearer by this step, as
``DPoP`` by the JWT authorizer). DPoP needs a Lambda authorizer (modes ``rest``, ``http``).

``DpopGuard``'s other switches exist for the lab's vulnerable presets, one
flaw each: ``required=False`` (a bound token works without a proof),
``replay=False`` (no jti cache), ``check_ath=False``, ``check_request=False``
(``htm``/``htu`` unchecked).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from labkit import dpop, tokens
from labkit.errors import LabkitError

__all__ = ["Denial", "DpopGuard"]


@dataclass(frozen=True)
class Denial:
    """Why the DPoP step refused a request: status, headers to add, and the log line."""

    status: int
    headers: tuple[tuple[str, str], ...]
    reason: str


@dataclass
class DpopGuard:
    """RFC 9449 section 7 at the gateway, with one switch per check the lab can turn off."""

    clock: Callable[[], float]
    required: bool = True
    replay: bool = True
    check_ath: bool = True
    check_request: bool = True
    nonces: bool = True
    algorithms: tuple[str, ...] = ("ES256", "EdDSA", "RS256", "PS256")
    max_age: float = dpop.MAX_AGE
    leeway: float = dpop.LEEWAY
    cache: dpop.ReplayCache = field(init=False)
    nonce_source: dpop.NonceSource = field(init=False)

    def __post_init__(self) -> None:
        self.cache = dpop.ReplayCache(window=self.max_age + self.leeway, clock=self.clock)
        self.nonce_source = dpop.NonceSource(clock=self.clock)

    def check(
        self,
        method: str,
        url: str,
        authorization: str | None,
        proofs: Sequence[str],
        elsewhere: Sequence[str] = (),
    ) -> Denial | None:
        """None if the request may go on; else the ``Denial`` to answer with.

        ``elsewhere`` holds every other value of the request an authorizer may read a
        token from (its identity sources, further ``Authorization`` values, cookies): a
        bound token there is refused, or it would reach the authorizer as a bearer token
        that this step never saw (kit's red-team finding: ``X-Token: Bearer <bound>``).
        """
        scheme, token = _split(authorization or "")
        pieces = re.split(r"[\s,]+", authorization or "")  # "DPoP <bound>, Bearer <bound>" too
        try:
            if self.required:
                _refuse_bound_elsewhere([*elsewhere, *pieces], token)
            claims = tokens.parse(token).payload
        except dpop.InvalidProofError as exc:
            return self._deny(exc)
        except LabkitError:  # not a JWT the authorizer read: no cnf.jkt to enforce
            return None
        jkt = _bound_key(claims)
        try:
            if jkt is None:
                if scheme.lower() == "dpop":
                    raise dpop.KeyBindingError(
                        "the token is not DPoP-bound (no cnf.jkt) but was sent with the DPoP "
                        "scheme",
                        "RFC 9449 section 7.1: the DPoP scheme is for DPoP-bound tokens",
                    )
                return None
            if not self.required and not proofs:
                return None  # the dpop-optional flaw: a stolen bound token works as a bearer one
            if scheme.lower() != "dpop" and self.required:
                raise dpop.KeyBindingError(
                    "a DPoP-bound token was presented as a Bearer token",
                    "RFC 9449 section 7.2: a DPoP-bound token received as a bearer token "
                    "MUST be rejected",
                )
            self._verify(method, url, token, jkt, proofs)
        except dpop.InvalidProofError as exc:
            return self._deny(exc)
        return None

    def fresh_nonce(self) -> str | None:
        """The ``DPoP-Nonce`` to send with answers (RFC 9449 section 8.2), if nonces are on."""
        return self.nonce_source.current() if self.nonces else None

    def _verify(self, method: str, url: str, token: str, jkt: str, proofs: Sequence[str]) -> None:
        proof = dpop.proof_from_headers(proofs)
        htm, htu = (method, url) if self.check_request else _claimed(proof, method, url)
        checked = dpop.verify_proof(
            proof,
            htm=htm,
            htu=htu,
            access_token=token if self.check_ath else None,
            jkt=jkt,
            algorithms=self.algorithms,
            max_age=self.max_age,
            leeway=self.leeway,
            replay=self.cache if self.replay and self.check_request else None,
            nonce=self.nonce_source if self.nonces else None,
            now=self.clock(),
        )
        if self.replay and not self.check_request:  # remember the jti at the URL it was used at
            until = float(checked.claims["iat"]) + self.max_age
            self.cache.remember(checked.jti, dpop.normalize_htu(url), until=until, now=self.clock())
        if checked.jkt != jkt:  # checked in verify_proof too, unless ath is off (a lab flaw)
            raise dpop.KeyBindingError(
                "the proof's key is not the key the access token is bound to (cnf.jkt)"
            )

    def _deny(self, error: dpop.InvalidProofError) -> Denial:
        headers = [("WWW-Authenticate", dpop.challenge(error, algs=self.algorithms))]
        if isinstance(error, dpop.UseDpopNonceError) and self.nonces:
            headers.append(("DPoP-Nonce", self.nonce_source.current()))
        if isinstance(error, dpop.ReplayCacheFullError):
            return Denial(429, tuple(headers), error.message)
        return Denial(401, tuple(headers), f"DPoP: {error.message}")


def _split(value: str) -> tuple[str, str]:
    """``(scheme, token)`` of an ``Authorization``-style value; a bare token has no scheme."""
    scheme, _, token = value.strip().partition(" ")
    return ("", scheme) if not token else (scheme, token.strip())


def _refuse_bound_elsewhere(values: Sequence[str], token: str) -> None:
    """RFC 9449 sections 7.1 and 7.2: a bound token is sent as ``Authorization: DPoP`` only."""
    for value in values:
        candidate = _split(value)[1] if isinstance(value, str) else ""
        if not candidate or candidate == token or candidate.count(".") != 2:
            continue
        try:
            claims = tokens.parse(candidate).payload
        except LabkitError:
            continue
        if _bound_key(claims) is not None:
            raise dpop.KeyBindingError(
                "a DPoP-bound token was sent outside 'Authorization: DPoP'",
                "RFC 9449 section 7.2: a DPoP-bound token received as a bearer token "
                "MUST be rejected, wherever the authorizer reads it from",
            )


def _bound_key(claims: dict[str, Any]) -> str | None:
    """The token's ``cnf.jkt`` (RFC 9449 section 6.1), or None for an unbound token."""
    cnf = claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    return jkt if isinstance(jkt, str) else None


def _claimed(proof: str, method: str, url: str) -> tuple[str, str]:
    """The ``htm``/``htu`` the proof itself claims (what the no-htu flaw believes)."""
    try:
        claims = tokens.parse(proof).payload
    except LabkitError:
        return method, url
    htm, htu = claims.get("htm"), claims.get("htu")
    return (htm, htu) if isinstance(htm, str) and isinstance(htu, str) else (method, url)
