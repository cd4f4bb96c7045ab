"""Keep secrets out of everything sloprobe writes.

Tokens, passwords and credential-bearing URLs reach sloprobe through config
and the environment; a :class:`Redactor` knows them and masks them in any
text before it leaves a probe (excerpts, reasons, URLs), so sinks never see
them in the first place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
_SECRET_PARAM = re.compile(
    r"(token|key|secret|password|passwd|pwd|signature|sig|auth|credential|session)", re.I
)
_MIN_SECRET = 4


_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]*@")


def redact_urls_in(text: str) -> str:
    """Mask ``user:password@`` in every URL inside free text (error messages, DSNs)."""
    return _URL_CREDENTIALS.sub(lambda m: m["scheme"] + MASK + "@", text)


def redact_url(url: str) -> str:
    """Drop userinfo and mask query parameters whose names look secret."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class Redactor:
    """Masks every known secret value in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if secret and len(secret) >= _MIN_SECRET:
                self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Headers safe to show: secret ones masked by name, known secrets masked by value."""
        return {k: MASK if k.lower() in SECRET_HEADERS else self(v) for k, v in headers}


def url_secrets(url: str) -> list[str]:
    """The secrets a URL carries: its userinfo password (raw and decoded) and a ``?password=``."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    try:
        parts = urlsplit(url)
        found = [parts.password, unquote(parts.password)] if parts.password else []
    except ValueError:
        return []
    return found + [v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v]
