"""Exercises for notebook 12: encrypted tokens (JWE).

Each check throws at the answer what an attacker would send. 12.1's decrypt
policy is run through ``labkit.jwe.decrypt`` with a ``Work`` counter against an
honest token, a zip bomb, RSA1_5, PBES2 with a huge ``p2c``, a CBC token, an
oversized token: it must decrypt the first and refuse the rest with no work
done. 12.2's decrypt-then-verify function gets an honest nested JWT, bare
encrypted claims, an unsigned inner JWT, one signed with the attacker's key,
the wrong ``cty``, another audience and an expired token. 12.3's forgery must
pass ``decrypt_and_trust`` with the service's public key alone and fail
``labkit.jwe.decrypt_jwt``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Collection
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from labkit import algorithms, examples, jwe, keys, tokens
from labkit.attacks import jwe as attacks
from labkit.errors import ConfigurationError, InvalidTokenError, LabkitError
from labkit.exercises import NOT_ATTEMPTED, Exercise

__all__ = ["EXERCISES", "IDP_ALG", "POLICY", "SERVICE_ALG", "SERVICE_ENC"]

SERVICE_ALG, SERVICE_ENC = "RSA-OAEP-256", "A256GCM"
"""What the kit's IdP encrypts with, in notebook 12: RSA-OAEP-256 key transport, AES-256-GCM."""
IDP_ALG = "ES256"
"""What the IdP signs the inner JWT with."""
POLICY = {"algorithms": [SERVICE_ALG], "encryptions": [SERVICE_ENC]}
_NOW = 1767259800  # 2026-01-01T09:30:00Z: the notebook's frozen clock
_API = {"audience": "labkit-api", "issuer": "https://idp.labkit.local", "now": _NOW}
_ALICE = dict(examples.LAB_CLAIMS)
_WANTED = {**_ALICE, "role": "admin"}


def _service() -> Any:
    return keys.demo_private_key("rsa")  # DEMO ONLY: the API's decryption key


def _idp() -> Any:
    return keys.demo_private_key("p256")  # DEMO ONLY: the IdP's signing key


def _encrypt(plaintext: bytes | dict[str, Any], **options: Any) -> str:
    options = {"alg": SERVICE_ALG, "enc": SERVICE_ENC, **options}
    return jwe.encrypt(plaintext, _service().public_key(), **options)


# 12.1 · A decrypt policy ------------------------------------------------------------------------


def _policy_cases() -> list[tuple[str, str, str]]:
    """(what, token, the mistake a policy that lets it through makes)."""
    public = _service().public_key()
    pbes2 = attacks.huge_p2c(5_000)  # under labkit's bound: only the allow-list stops it
    return [
        (
            "a zip bomb (1 MB of zeros in a 1.8 kB token)",
            attacks.zip_bomb(public, size=1_000_000),
            "it inflated a zip bomb: the IdP never compresses, so leave allow_zip off",
        ),
        (
            "an RSA-OAEP (SHA-1) token",
            _encrypt(b"{}", alg="RSA-OAEP"),
            "it accepts alg RSA-OAEP: allow only what the IdP uses, RSA-OAEP-256",
        ),
        (
            "an A128CBC-HS256 token",
            _encrypt(b"{}", enc="A128CBC-HS256"),
            "it accepts enc A128CBC-HS256: allow only what the IdP uses, A256GCM",
        ),
        (
            "a PBES2 token with p2c 5,000",
            pbes2,
            "it lets the sender choose PBES2 (and its p2c): allow only RSA-OAEP-256",
        ),
        (
            "an RSA1_5 token",
            attacks.rsa1_5_probe(public, conforming=True),
            "it lets RSA1_5 in",
        ),
        (
            "a 19,000-character token",
            _encrypt(os.urandom(14_000)),
            "it parsed a 19,000-character token: keep max_length at its default (or lower)",
        ),
    ]


def _decrypt_policy(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"give the policy as a dict of keyword arguments, not {type(answer).__name__}"
    service = _service()
    options = dict(answer)
    if "work" in options or "key" in options:
        return "leave out 'work' and 'key': the check passes those itself"
    for name in ("algorithms", "encryptions"):  # read once: every probe sees the same policy
        listed = options.get(name)
        if isinstance(listed, Collection) and not isinstance(listed, str | bytes):
            options[name] = tuple(listed)
    honest = _encrypt({"sub": "alice"})
    try:
        plaintext = jwe.decrypt(honest, service, **options)
    except ConfigurationError as exc:
        return f"labkit.jwe.decrypt refuses this policy: {exc}"
    except TypeError as exc:
        return f"labkit.jwe.decrypt does not take these arguments: {exc}"
    except InvalidTokenError as exc:
        return f"your policy refuses the IdP's own RSA-OAEP-256 / A256GCM token: {exc}"
    if plaintext != b'{"sub":"alice"}':
        return "the IdP's honest token did not decrypt to its plaintext"
    for what, token, mistake in _policy_cases():
        work = jwe.Work()
        try:
            jwe.decrypt(token, service, **options, work=work)
        except InvalidTokenError:
            if work.inflated:
                return f"for {what}: {mistake} ({work.inflated:,} bytes inflated before refusing)"
            if work.pbkdf2_iterations or work.rsa or work.ecdh:
                return f"for {what}: {mistake} (work was done before refusing: {work})"
            continue
        return f"for {what}: {mistake}"
    return _static_policy_problem(options)


def _static_policy_problem(options: dict[str, Any]) -> str | None:
    """What the probes cannot see: options that would let a future token in or do too much work.

    ``labkit.jwe.decrypt`` has already refused non-numbers and unknown names.
    """
    listed = set(options.get("algorithms", ()))
    if any(name.startswith("PBES2") for name in listed):
        return (
            "it lists PBES2: the sender would choose the PBKDF2 work (p2c); the IdP never uses it"
        )
    for name, allowed in (("algorithms", SERVICE_ALG), ("encryptions", SERVICE_ENC)):
        extra = sorted(set(options.get(name, ())) - {allowed})
        if extra:
            return (
                f"its {name} also list {', '.join(extra)}, which the IdP never sends: "
                f"allow only {allowed} (every extra entry is one more way in)"
            )
    if options.get("max_p2c", jwe.MAX_P2C) > jwe.MAX_P2C:
        return f"max_p2c above {jwe.MAX_P2C:,} lets a token order that many PBKDF2 iterations"
    if options.get("max_inflated", jwe.MAX_INFLATED) > jwe.MAX_INFLATED:
        return f"max_inflated above {jwe.MAX_INFLATED:,}: leave zip off and the cap alone"
    if options.get("max_length", jwe.MAX_LENGTH) > jwe.MAX_LENGTH:
        return (
            f"max_length above {jwe.MAX_LENGTH:,} lets longer tokens in than any the IdP "
            "sends: keep max_length at its default (or lower)"
        )
    return None


# 12.2 · Decrypt, then verify --------------------------------------------------------------------


def _nested(
    claims: dict[str, Any],
    *,
    signer: Any = None,
    cty: str | None = "JWT",
    signed: str | None = None,
    **options: Any,
) -> str:
    signed = signed or algorithms.sign_token(claims, signer or _idp(), IDP_ALG)
    header = {} if cty is None else {"cty": cty}
    header.update(options.pop("header", {}))
    return _encrypt(signed.encode("ascii"), header=header, **options)


def _embedded_jwk(claims: dict[str, Any]) -> str:
    """Signed with the attacker's key, which rides along in the inner header (``jwk``)."""
    own = ec.generate_private_key(ec.SECP256R1())
    headers = {"jwk": keys.to_jwk(own.public_key())}
    return _nested(claims, signed=algorithms.sign_token(claims, own, IDP_ALG, headers=headers))


def _hs256_with_public_pem(claims: dict[str, Any]) -> str:
    """HS256 keyed with the IdP's PUBLIC key PEM: the algorithm-confusion forgery."""
    pem = _idp().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = tokens.signing_input({"alg": "HS256", "typ": "JWT"}, claims)
    signature = hmac.new(pem, signing_input, hashlib.sha256).digest()
    signed = f"{signing_input.decode('ascii')}.{tokens.b64url_encode(signature)}"
    return _nested(claims, signed=signed)


def _read_claims(answer: Any) -> str | None:
    if not callable(answer):
        return "pass your function itself (no parentheses)"
    honest = _nested(_ALICE)
    got = answer(honest)
    if got is None:
        return NOT_ATTEMPTED
    if got != _ALICE:
        return f"for the IdP's honest nested token you returned {got!r}, not Alice's claims"
    mallory = {**_ALICE, "role": "admin"}
    stranger = ec.generate_private_key(ec.SECP256R1())
    refused = [
        (
            "bare encrypted claims (no signed JWT inside)",
            attacks.mint(mallory, _service().public_key()),
            "you trusted claims that anyone with the service's PUBLIC key can encrypt",
        ),
        (
            "a nested JWT whose inner token is unsigned (alg none)",
            attacks.mint_unsigned_nested(mallory, _service().public_key()),
            "you read the inner JWT without verifying its signature",
        ),
        (
            "a nested JWT signed with the attacker's own key",
            _nested(mallory, signer=stranger),
            "you did not verify the inner JWT with the IdP's public key",
        ),
        (
            "a nested JWT for another audience",
            _nested({**_ALICE, "aud": "billing-api"}),
            "you did not check aud: pass the API's audience, issuer and clock (API)",
        ),
        (
            "an expired nested JWT",
            _nested({**_ALICE, "exp": _NOW - 60}),
            "you did not check exp against the notebook's clock (API's now)",
        ),
        (
            "a signed JWT encrypted with cty 'json'",
            _nested(_ALICE, cty="json"),
            "you did not check that the JWE says cty JWT (RFC 7519 section 5.2)",
        ),
        (
            "a zip bomb",
            attacks.zip_bomb(_service().public_key(), size=1_000_000),
            "you inflated a zip bomb: use labkit.jwe.decrypt without allow_zip",
        ),
        (
            "bare encrypted claims that say cty 'json'",
            attacks.mint(mallory, _service().public_key(), header={"cty": "json"}),
            "you let the JWE's cty choose whether to verify: whatever the header says, the claims "
            "must come from the IdP's signed JWT",
        ),
        (
            "a nested JWT signed by the attacker, with its key in the inner header (jwk)",
            _embedded_jwk(mallory),
            "you verified with a key the token brought along: verify with idp_public only",
        ),
        (
            "a nested JWT signed HS256 with the IdP's public key PEM as the secret",
            _hs256_with_public_pem(mallory),
            "you accepted an inner alg other than ES256: verify with algorithms=['ES256'] "
            "(algorithm confusion)",
        ),
        (
            "the IdP's nested JWT for another issuer",
            _nested({**_ALICE, "iss": "https://evil.example"}),
            "you did not check iss: pass the API's audience, issuer and clock (API)",
        ),
        (
            "the IdP's own nested JWT, compressed (zip: DEF)",
            _nested(_ALICE, compress=True),
            "you inflated a compressed token: the IdP never compresses, and an inflate without "
            "a cap is a decompression bomb: use labkit.jwe.decrypt without allow_zip",
        ),
        (
            "the IdP's nested JWT with no exp",
            _nested({k: v for k, v in _ALICE.items() if k != "exp"}),
            "you accepted a token with no exp, which works forever once stolen: keep "
            "labkit.verify's require_exp",
        ),
        (
            "the IdP's signed JWT sent bare, not encrypted",
            algorithms.sign_token(_ALICE, _idp(), IDP_ALG),
            "you accepted a token that was never encrypted: this API takes JWEs only, so "
            "encryption cannot be skipped",
        ),
        (
            "the IdP's own nested JWT under RSA-OAEP (SHA-1)",
            _nested(_ALICE, alg="RSA-OAEP"),
            "your decryption accepts an alg the IdP never uses: decrypt with POLICY",
        ),
    ]
    for what, token, mistake in refused:
        try:
            value = answer(token)
        except InvalidTokenError:
            continue
        except LabkitError as exc:
            return f"for {what} your function raised {type(exc).__name__} ({exc}): {mistake}"
        except Exception as exc:
            return (
                f"for {what} your function raised {type(exc).__name__}: raise a "
                "labkit.InvalidTokenError, as labkit.jwe and labkit.verify do"
            )
        return f"for {what} you returned {value!r}: {mistake}"
    replicated = _nested(_ALICE, header={"sub": "mallory", "role": "admin"})
    try:
        got = answer(replicated)
    except InvalidTokenError:
        return None  # refusing odd header members is strict, not insecure
    if got != _ALICE:
        return (
            f"for the IdP's nested JWT whose outer JWE header also says sub 'mallory', role "
            f"'admin', you returned {got!r}: the claims are the signed JWT's, never the header's"
        )
    return None


# 12.3 · Encrypted is not authenticated ----------------------------------------------------------


def _forged_admin(answer: Any) -> str | None:
    if not isinstance(answer, str):
        return f"give the token as a string, not {type(answer).__name__}"
    if answer.count(".") != 4:
        return "that is not a compact JWE (five parts separated by dots)"
    service = _service()
    try:
        claims = attacks.decrypt_and_trust(answer, service, **POLICY)
    except LabkitError as exc:
        return f"the decrypt-and-trust service refused it: {exc}"
    if claims.get("role") != "admin" or claims.get("sub") != "alice":
        return "the claims the service reads should be Alice's with role 'admin'"
    extra = sorted(set(claims) - set(_WANTED))
    if extra:
        return f"the claims add {extra[0]!r}, which Alice's have not: change role only"
    for name, value in _WANTED.items():
        if claims.get(name) != value:
            return f"{name!r} is {claims.get(name)!r}, not Alice's {value!r}: change role only"
    if _signed_by_the_idp(jwe.decrypt(answer, service, **POLICY)):
        return (
            "the inner JWT carries the IdP's own ES256 signature (made with the demo key), so it "
            "is not a forgery: a forgery needs nothing but service_public"
        )
    try:
        jwe.decrypt_jwt(
            answer, service, _idp().public_key(), **POLICY, signing_algorithms=[IDP_ALG], **_API
        )
    except InvalidTokenError:
        return None  # proven twice: decrypt-and-trust believes it, decrypt_jwt does not
    return (
        "labkit.jwe.decrypt_jwt accepts it too, so it holds the IdP's signature: "
        "that is not a forgery"
    )


def _signed_by_the_idp(plaintext: bytes) -> bool:
    """Does the plaintext hold a JWS whose signature verifies under the IdP's key, whatever its
    header says (cty, crit, kid)? ``decrypt_jwt`` may refuse such a token for another reason,
    so its refusal alone does not prove the token was forged without the IdP."""
    try:
        jws = tokens.parse_jws(plaintext)
    except LabkitError:
        return False
    signing_input = plaintext.rsplit(b".", 1)[0]
    try:
        return algorithms.verify(IDP_ALG, _idp().public_key(), signing_input, jws.signature)
    except LabkitError:
        return False


EXERCISES = (
    Exercise(
        id="12.1",
        title="A decrypt policy",
        verify=_decrypt_policy,
        hints=(
            "The IdP encrypts with RSA-OAEP-256 and A256GCM and never compresses. The policy "
            "is the keyword arguments of labkit.jwe.decrypt: which of them let an attacker in?",
            "{'algorithms': ['RSA-OAEP-256'], 'encryptions': ['A256GCM']}: the defaults of "
            "allow_zip, max_length and max_p2c are already the safe ones.",
        ),
        solution="""\
answer = {"algorithms": ["RSA-OAEP-256"], "encryptions": ["A256GCM"]}""",
        starter="answer = ...  # the keyword arguments for labkit.jwe.decrypt, as a dict",
        success="Only what the IdP sends gets in, and the bombs cost nothing.",
    ),
    Exercise(
        id="12.2",
        title="Decrypt, then verify",
        verify=_read_claims,
        hints=(
            "Two steps: decrypt with the service's private key (service_key), then verify the "
            "signed JWT inside with the IdP's public key (idp_public), audience, issuer and clock.",
            "labkit.jwe.decrypt_jwt(token, service_key, idp_public, **POLICY, "
            "signing_algorithms=['ES256'], **API) does both and checks cty.",
        ),
        solution="""\
def read_claims(token: str) -> dict:
    return jwe.decrypt_jwt(
        token, service_key, idp_public, **POLICY, signing_algorithms=["ES256"], **API
    )


answer = read_claims""",
        starter="""\
def read_claims(token: str) -> dict:
    ...  # decrypt with service_key, then verify the inner JWT with idp_public


answer = read_claims""",
        success="Decryption says nobody else read it; the signature says who wrote it.",
    ),
    Exercise(
        id="12.3",
        title="Encrypted is not authenticated",
        verify=_forged_admin,
        hints=(
            "The service decrypts with its private key, but anyone can ENCRYPT to it with "
            "service_public. What does decrypt_and_trust do with the plaintext?",
            "jwe.encrypt({**alice, 'role': 'admin'}, service_public, alg='RSA-OAEP-256', "
            "enc='A256GCM').",
        ),
        solution="""\
answer = jwe.encrypt(
    {**alice, "role": "admin"}, service_public, alg="RSA-OAEP-256", enc="A256GCM"
)""",
        starter="answer = ...  # an encrypted token the decrypt-and-trust service believes",
        success="A public key and one function call: encryption alone authenticates nobody.",
    ),
)
