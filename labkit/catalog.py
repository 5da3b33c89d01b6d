"""The notebook map: one list that 00-start-here, the README and the tests share."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOTEBOOKS", "Notebook", "NotebookMap", "notebook_map"]


@dataclass(frozen=True)
class Notebook:
    """One lesson: its file, title, minutes of teaching and exercises, and what it teaches."""

    file: str
    title: str
    teach: int
    exercises: int
    learn: str

    @property
    def minutes(self) -> int:
        return self.teach + self.exercises


NOTEBOOKS = (
    Notebook(
        "00-start-here.ipynb",
        "Start here",
        5,
        5,
        "What the kit teaches, how exercises check themselves, an environment check.",
    ),
    Notebook(
        "01-token-anatomy.ipynb",
        "Token anatomy",
        15,
        10,
        "Header, payload, signature; base64url; registered, public and private claims; "
        "decoding is not verifying.",
    ),
    Notebook(
        "02-signing-algorithms.ipynb",
        "Signing algorithms",
        20,
        15,
        "HMAC by hand; RSA PKCS#1 v1.5 and PSS; ECDSA's raw (r, s); EdDSA; JWK, JWKS and kid; "
        "size and speed per algorithm.",
    ),
    Notebook(
        "03-claims-and-validation.ipynb",
        "Claims and validation",
        20,
        15,
        "exp, nbf and iat with a frozen clock and leeway; exact aud and iss (CVE-2024-53861); "
        "required claims; what PyJWT checks by default and what labkit.verify adds.",
    ),
    Notebook(
        "04-unverified-and-none.ipynb",
        "Unverified and unsigned",
        15,
        15,
        "Signatures never checked; alg none in every casing (none, None, NONE, nOnE); an empty "
        "signature (CVE-2020-28042); an empty HMAC secret (CVE-2019-20933); the fix for each.",
    ),
    Notebook(
        "05-weak-secrets.ipynb",
        "Weak secrets",
        15,
        15,
        "Cracking an HS256 secret offline with a wordlist and rules, then forging with it; "
        "time-to-crack by length and alphabet; generating and rotating real secrets; "
        "when to prefer asymmetric keys.",
    ),
    Notebook(
        "06-algorithm-confusion.ipynb",
        "Algorithm confusion",
        20,
        15,
        "RS256 to HS256 with the public key as the HMAC secret, from a PEM or a JWK; recovering "
        "the RSA key from two tokens with a gcd; why PyJWT >= 2.4 refuses PEM keys as HMAC "
        "secrets; the CVE history.",
    ),
    Notebook(
        "07-header-injection.ipynb",
        "Header injection",
        20,
        20,
        "jwk (CVE-2018-0114) and jku against a real loopback key server; kid path traversal to "
        "/dev/null; kid SQL injection; why letting the token choose its key is the root bug.",
    ),
    Notebook(
        "08-psychic-signatures.ipynb",
        "Psychic signatures",
        15,
        15,
        "ECDSA verification step by step; the missing 0 < r, s < n check of CVE-2022-21449; "
        "r = s = 0 forging any claims under any key; the one-line fix and how to test for it.",
    ),
    Notebook(
        "09-lambda-authorizer.ipynb",
        "Lambda authorizer",
        25,
        15,
        "The source article's Node.js authorizer, run under Node.js and as its Python port, and "
        "what is wrong with it; TOKEN, REQUEST and HTTP API events; IAM policies; 401, 403 and "
        "500 for real; the policy cache, its pitfalls and $context.routeKey; AWS's JWT "
        "authorizers (HTTP API and REST API); the SAM template.",
    ),
    Notebook(
        "10-api-platform.ipynb",
        "API platform",
        25,
        15,
        "The source article's case study end to end: login, roles and scopes, a model API, "
        "short expiry and refresh, logout and revocation against a cached policy, key rotation, "
        "HTTPS on the wire.",
    ),
    Notebook(
        "11-capstone-audit.ipynb",
        "Capstone audit",
        25,
        35,
        "Three local APIs with hidden flaws: recon, breaking in by hand, `labkit scan` and its "
        "root-cause report, the fix and a clean re-scan, logout against a cached policy; the "
        "kit's best-practices checklist.",
    ),
    Notebook(
        "12-encrypted-tokens.ipynb",
        "Encrypted tokens (JWE)",
        25,
        20,
        "Why signed is not secret; JWE's five parts by hand (RSA-OAEP-256, ECDH-ES, A256GCM); "
        "nested JWTs, sign then encrypt; encrypted is not authenticated; invalid curves "
        "(CVE-2016-9121), zip bombs (CVE-2024-28102), huge p2c (CVE-2022-36083), the RSA1_5 "
        "oracle (CVE-2026-28490).",
    ),
    Notebook(
        "13-token-types-oidc.ipynb",
        "Token types and OpenID Connect",
        25,
        15,
        "ID, access and refresh tokens; discovery; the code flow with PKCE on loopback; an ID "
        "token as an access token, another API's token, a mix-up of issuers, a replayed ID "
        "token, each fixed with labkit.verify (typ at+jwt, IssuerKeys, the nonce); what AWS's "
        "JWT authorizers check; the scanner's token-type probes.",
    ),
    Notebook(
        "14-tokens-in-the-browser.ipynb",
        "Tokens in the browser",
        25,
        15,
        "A demo single-page app in real Chromium: an XSS payload steals a token from "
        "localStorage and replays it; HttpOnly; Secure; SameSite cookies and what CSRF still "
        "gets through (same site is not same origin); CSRF tokens and Origin checks; OWASP's "
        "fingerprint against sidejacking; a backend-for-frontend keeps tokens out of the page.",
    ),
    Notebook(
        "15-sender-constrained-tokens.ipynb",
        "Sender-constrained tokens (DPoP)",
        25,
        20,
        "A stolen bearer token against a DPoP-bound one; a proof by hand; the gateway's checks "
        "(RFC 9449 4.3), replay cache and nonces; seven attacks proven twice; mTLS (RFC 8705).",
    ),
)


@dataclass(frozen=True)
class NotebookMap:
    """The map as a Markdown table (shown rendered in Jupyter, as text elsewhere)."""

    notebooks: tuple[Notebook, ...]

    def _repr_markdown_(self) -> str:
        rows = [
            f"| [{nb.file[:2]}]({nb.file}) | {nb.title} | {nb.teach} + {nb.exercises} "
            f"| {nb.learn} |"
            for nb in self.notebooks
        ]
        head = "| # | Notebook | Minutes (teach + exercises) | You learn |\n|---|---|---|---|"
        return "\n".join([head, *rows])

    def __repr__(self) -> str:
        width = max(len(nb.title) for nb in self.notebooks)
        lines = [f"{nb.file[:2]}  {nb.title:<{width}} {nb.minutes:>3} min" for nb in self.notebooks]
        total = sum(nb.minutes for nb in self.notebooks)
        return "\n".join([*lines, f"{'':<{width + 4}} {total:>3} min in all"])


def notebook_map() -> NotebookMap:
    """The notebook map, rendered as a table in Jupyter."""
    return NotebookMap(NOTEBOOKS)
