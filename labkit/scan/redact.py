"""What a scan report may publish: no credentials, and only text every format can carry.

A report goes where CI uploads it (GitHub code scanning, a JUnit server, a log), so a
token, a password in userinfo or a key in a query string must never reach it (RFC 6750
section 5.3: bearer tokens do not belong in URLs, and servers log them). The text report,
``--json``, SARIF and JUnit all pass through here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["HIDDEN", "redacted_text", "redacted_url", "scrubbed"]

HIDDEN = "***"
_TOKEN_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){1,4}")
"""A compact JWS or JWE (its header is base64url JSON, so it starts ``eyJ``): a credential."""
_SECRET_PARAMETER = re.compile(
    r"token|jwt|key|secret|pass|pwd|auth|session|sig|credential|code|bearer", re.IGNORECASE
)
"""Query parameter names whose values are hidden: ``access_token``, ``api_key``, ``X-Amz-...``."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
"""A URL inside a message (an error quoting what it refused), up to a space or a quote."""


def scrubbed(value: Any) -> Any:
    """``value`` (JSON-like) with every string safe to publish: credentials and bad text out.

    Tokens (anything shaped like a compact JWS/JWE) become ``***`` wherever they
    appear, in a URL, a note, an answer the target reflected; lone surrogates
    (from a command line that was not UTF-8) become U+FFFD, so the file is
    always valid UTF-8 and a write never fails halfway.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", _TOKEN_LIKE.sub(HIDDEN, value))
    if isinstance(value, dict):
        return {scrubbed(k): scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(item) for item in value]
    return value


def redacted_url(url: str) -> str:
    """``url`` without its credentials: userinfo and secret-looking query values become ``***``.

    A token in a query string (``?access_token=...``) or a password in userinfo
    would otherwise reach every report CI uploads (RFC 6750 section 5.3: bearer
    tokens do not belong in URLs, and servers log them).
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _TOKEN_LIKE.sub(HIDDEN, url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rsplit('@', 1)[1]}"
    query, fragment = _hidden_values(parts.query), _hidden_values(parts.fragment)
    clean = urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    return _TOKEN_LIKE.sub(HIDDEN, clean)


def _hidden_values(pairs: str) -> str:
    """``a=1&access_token=x`` -> ``a=1&access_token=***`` (a query, or a fragment: the OAuth
    implicit flow returns its tokens there, RFC 6749 section 4.2.2)."""
    fields = []
    for field in pairs.split("&") if pairs else []:
        name, sep, value = field.partition("=")
        secret = sep and value and _SECRET_PARAMETER.search(name)
        fields.append(f"{name}={HIDDEN}" if secret else field)
    return "&".join(fields)


def redacted_text(text: str) -> str:
    """``text`` (an error message, a note) with every URL in it redacted and tokens hidden."""
    return scrubbed(_URL_IN_TEXT.sub(lambda m: redacted_url(m.group(0)), text))
