"""Conformance: RFC 9449's own example proofs and RFC 7638's thumbprint, kept as data.

The vectors (``labkit/data/vectors/rfc9449.json``) are copied from the RFC text,
with the section and source of each; the proofs verify with the clock frozen at
their ``iat``, and stop verifying once they are older than the accepted window.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from labkit import dpop, keys, tokens

DATA = json.loads(
    resources.files("labkit").joinpath("data/vectors/rfc9449.json").read_text("utf-8")
)
PROOFS = {v["name"]: v for v in DATA["proofs"]}
THUMBPRINTS = {v["name"]: v for v in DATA["thumbprints"]}


def verify(v: dict[str, Any], **kw: Any) -> dpop.Proof:
    options = {
        "htm": v["htm"],
        "htu": v["htu"],
        "access_token": v["access_token"],
        "jkt": v.get("jkt"),
        "now": v["now"],
        **kw,
    }
    return dpop.verify_proof(v["proof"], **options)


def test_every_vector_names_its_rfc_section_and_source() -> None:
    for v in [*PROOFS.values(), *THUMBPRINTS.values()]:
        assert v["section"].startswith("RFC ") and "rfc-editor.org" in v["source"]


@pytest.mark.parametrize("name", sorted(PROOFS))
def test_rfc9449_example_proofs_verify_at_their_iat(name: str) -> None:
    v = PROOFS[name]
    result = verify(v)
    assert result.jwk == v["jwk"] and result.jti == v["jti"]
    assert result.jkt == THUMBPRINTS["RFC9449-6.1-Figure9-jkt"]["expected"]
    assert result.header["alg"] == "ES256" and result.header["typ"] == "dpop+jwt"


@pytest.mark.parametrize("name", sorted(PROOFS))
def test_rfc9449_example_proofs_expire_and_bind_to_their_request(name: str) -> None:
    v = PROOFS[name]
    with pytest.raises(dpop.ProofExpiredError):
        verify(v, now=v["now"] + dpop.MAX_AGE + 1)
    with pytest.raises(dpop.ProofMismatchError):
        verify(v, htm="PUT")
    with pytest.raises(dpop.ProofMismatchError):
        verify(v, htu="https://server.example.net/token")
    cache = dpop.ReplayCache(clock=lambda: v["now"])
    verify(v, replay=cache)
    with pytest.raises(dpop.ReplayedProofError):
        verify(v, replay=cache)


def test_rfc9449_figure13_ath_is_the_hash_of_the_figure6_token() -> None:
    v = PROOFS["RFC9449-7.1-Figure13-resource-request"]
    assert dpop.access_token_hash(v["access_token"]) == v["ath"]
    with pytest.raises(dpop.ProofMismatchError, match="ath"):
        verify(v, access_token="Kz~another-token")
    with pytest.raises(dpop.KeyBindingError):
        verify(v, jkt=THUMBPRINTS["RFC7638-3.1-RSA"]["expected"])


@pytest.mark.parametrize("name", sorted(THUMBPRINTS))
def test_thumbprint_vectors(name: str) -> None:
    v = THUMBPRINTS[name]
    assert dpop.thumbprint(v["jwk"]) == v["expected"]
    assert keys.thumbprint(keys.from_jwk(v["jwk"])) == v["expected"]


def test_the_kits_proofs_verify_in_jwcrypto_and_the_rfc_ones_in_both() -> None:
    """Interop: jwcrypto checks the kit's proof signatures; both agree on the RFC's."""
    key = keys.demo_private_key("p256")
    made = dpop.make_proof(key, "GET", "https://api.example.com/x", access_token="t")
    for value in (made, PROOFS["RFC9449-4.1-Figure2-token-request"]["proof"]):
        header = tokens.parse(value).header
        checker = jwcrypto_jws.JWS()
        checker.deserialize(value)
        checker.verify(jwcrypto_jwk.JWK(**header["jwk"]))  # raises if it does not verify
        assert json.loads(checker.payload)["htu"].startswith("https://")
