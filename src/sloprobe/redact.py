"""Keep secrets out of everything sloprobe writes, in every encoding, and target text inert.

Tokens, passwords and credential-bearing URLs reach sloprobe through config
and the environment; a :class:`Redactor` knows each of them in the forms an
encoder gives it (:func:`encodings`: URL, JSON and HTML escapes, hex,
base64) and masks them in any text before it leaves a probe (excerpts,
reasons, values read from answers), with any run of eight of its characters
(a half, a secret split by a space), so sinks never see them in the first
place. Text a target sends may also hold
credentials nobody configured: common formats (bearer and basic
credentials, ``sk-live-…`` keys, JWTs, AWS access keys, GitHub and Slack
tokens, URL userinfo, secret-named query and JSON fields) are masked as
Sentry's data scrubber does. :func:`neutralise` makes control characters and
bidirectional overrides visible, so target text cannot rewrite a report.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
_SECRET_PARAM = re.compile(
    r"(token|key|secret|password|passwd|pwd|signature|sig|auth|credential|session)", re.I
)
_MIN_SECRET = 4
# Header, query and field names whose values are secrets wherever they appear.
_SECRET_NAME = re.compile(
    r"token(?!s)|secret|passw|pwd|auth|cookie|session|signature|credential|api[-_]?key|^key$"
    r"|private"
    r"|(?:^|[-_.])(?:pass|sig)(?:$|[-_.])",  # `pass`, `X-Pass`, `db_pass`; Azure SAS's `sig`
    re.I,
)

# Credential formats in text nobody configured (a target's error page, a debug echo).
_CREDENTIALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic|token|digest)(\s+)[A-Za-z0-9._~+/=\-]{8,}"), r"\1\2" + MASK),
    (re.compile(r"\b(?:sk|rk|pk)[-_](?:live|test|proj)[-_][A-Za-z0-9_\-]{8,}"), MASK),
    # A JWT, or its start where a text was cut inside it (``eyJ`` is base64 for ``{"``).
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]*){0,2}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"), MASK),
    (
        re.compile(
            # The name starts where no name character precedes it, with at most 200 characters
            # before its keyword (`spring.security.oauth2.client.registration.….client-secret`)
            # and 32 after: linear time on any text (``a.a.a…`` was quadratic).
            r"(?i)([?&;]?(?<![\w.\-])[\w.\-]{0,200}"
            r"(?:token|secret|passw|pwd|api[-_]?key|signature|session)"
            # A quote may come escaped (``\"password\":\"…\"``: JSON inside a JSON string).
            r"[\w.\-]{0,32}(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)"
            r"((?:[^\s\"'&,;}<>\\]|\\(?![\"'])){3,})"
        ),
        r"\1" + MASK,
    ),
)


def looks_secret(name: str) -> bool:
    """Whether a header, query or field name holds a secret (``X-Auth-Token``, ``api_key``, …)."""
    return bool(_SECRET_NAME.search(name))


# A scheme starts where no scheme character precedes it: tried once per run of letters, not at
# each of its characters (which, on a long run without ``://``, took quadratic time).
_SCHEME = r"(?P<scheme>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://)"
_URL_CREDENTIALS = re.compile(_SCHEME + r"[^/\s@]*@")
# ``scheme://user:pass`` where the text was cut before the ``@`` (a port is all digits).
_CUT_URL_CREDENTIALS = re.compile(_SCHEME + r"[^/\s@:]*:(?![0-9]*\Z)[^/\s@]*\Z")


def redact_urls_in(text: str) -> str:
    """Mask ``user:password@`` in every URL inside free text (error messages, DSNs)."""
    text = _URL_CREDENTIALS.sub(lambda m: m["scheme"] + MASK + "@", text)
    return _CUT_URL_CREDENTIALS.sub(lambda m: m["scheme"] + MASK, text)


MIN_FRAGMENT = 4  # the shortest cut-off piece of a secret that is still masked
PIECE = 8  # a run this long of a secret's characters, anywhere in a text, is masked
_MIN_SPLIT = 12  # secrets this long are also looked for in pieces
# A URL (with its scheme or without it) is not looked for in pieces: they would be its host.
# Its secret parts (a password, a token in the path or the query) are secrets of their own.
_URLISH = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://|[\w.\-]+\.[\w\-]+(?::\d+)?/|[\w.\-]+:\d+/")


def _grown(text: str, at: int, window: str, secret: str) -> tuple[int, int]:
    """The span of ``text`` around ``window`` (found at ``at``) that goes on matching
    ``secret``, each way as far as it does."""
    best = (at, at + len(window))
    offset = secret.find(window)
    while offset != -1:
        start, stop, i, j = at, at + len(window), offset, offset + len(window)
        while start > 0 and i > 0 and text[start - 1] == secret[i - 1]:
            start, i = start - 1, i - 1
        while stop < len(text) and j < len(secret) and text[stop] == secret[j]:
            stop, j = stop + 1, j + 1
        if stop - start > best[1] - best[0]:
            best = (start, stop)
        offset = secret.find(window, offset + 1)
    return best


def encodings(secret: str) -> set[str]:
    """Every form a secret takes in a request or an echoed body: raw, URL-encoded, JSON string
    escapes (``\\"``, ``\\/``, ``\\uXXXX``, once or twice escaped), HTML entities and base64."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    escaped = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    escaped |= {form.replace("/", "\\/") for form in escaped}
    escaped |= {
        re.sub(r"\\u[0-9a-f]{4}", lambda m: m[0].upper().replace("\\U", "\\u"), f) for f in escaped
    }
    escaped |= {json.dumps(form)[1:-1] for form in escaped}  # a JSON document inside a string
    forms |= escaped
    forms |= {
        html.escape(secret),
        html.escape(secret, quote=False),
        html.escape(secret).replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
    }
    raw = secret.encode()
    for packed in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms |= {packed.decode(), packed.decode().rstrip("=")}
    return {form for form in forms | _spelled_out(secret, raw) if len(form) >= _MIN_SECRET}


def _spelled_out(secret: str, raw: bytes) -> set[str]:
    """The forms that encode every character (an encoder that escapes all, not just the unsafe
    ones), and the secret's base64 inside a longer encoded text, at any of its 3 alignments."""
    quoted = quote(secret, safe="")
    # Every character but ASCII letters and digits escaped (some encoders escape `-` `.` `_` `~`).
    strict = "".join(
        c if c.isascii() and c.isalnum() else "".join(f"%{b:02X}" for b in c.encode())
        for c in secret
    )
    forms = {
        "".join(f"\\u{ord(c):04x}" for c in secret),
        "".join(f"\\u{ord(c):04X}" for c in secret),
        "".join(f"&#{ord(c)};" for c in secret),
        "".join(f"&#x{ord(c):x};" for c in secret),
        "".join(f"%{b:02X}" for b in raw),
        "".join(f"%{b:02x}" for b in raw),
        strict,
        *(re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), form) for form in (quoted, strict)),
        *(quote(form, safe="") for form in (quoted, strict)),  # encoded twice: %252D
        raw.hex(),
        raw.hex().upper(),
    }
    for offset in (0, 1, 2):  # bytes before the secret, modulo 3
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            packed = encode(b"\0" * offset + raw).decode()
            # Only the groups made of the secret's bytes alone are the same whatever surrounds it.
            whole = (offset + len(raw)) // 3 * 4
            inner = packed[4 if offset else 0 : whole]
            if len(inner) >= _MIN_INNER_BASE64:
                forms.add(inner)
    return forms


# Shorter base64 runs of a secret would match ordinary encoded text by chance.
_MIN_INNER_BASE64 = 8


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
        query = urlencode(
            [(k, MASK if _SECRET_PARAM.search(k) or looks_secret(k) else v) for k, v in pairs],
            safe="*",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class Redactor:
    """Masks every known secret value in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._windows: dict[str, str] = {}  # every PIECE-long run of a long secret → the secret
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Know these secrets in every encoding (:func:`encodings`)."""
        for secret in secrets:
            if secret and len(secret) >= _MIN_SECRET and secret not in self._secrets:
                self._secrets.update(encodings(secret))
                if len(secret) >= _MIN_SPLIT and not _URLISH.match(secret):
                    for start in range(len(secret) - PIECE + 1):
                        self._windows.setdefault(secret[start : start + PIECE], secret)
        self._ordered: list[str] | None = None
        self._pieces: tuple[frozenset[str], frozenset[str], int] | None = None

    def pieces(self, text: str) -> str:
        """Mask what is left of a long secret shown in part: a half, or each side of a space or
        a line break put inside it. Every run of at least :data:`PIECE` of its characters in
        a row is masked, as far as it goes on matching the secret."""
        if not self._windows or not any(w in text for w in self._windows):
            return text
        spans: list[tuple[int, int]] = []
        for window, secret in self._windows.items():
            at = text.find(window)
            while at != -1:
                spans.append(_grown(text, at, window, secret))
                at = text.find(window, at + 1)
        shown: list[str] = []
        end = 0
        for start, stop in sorted(spans):
            if start >= end:
                shown += [text[end:start], MASK]
                end = stop
            elif stop > end:
                end = stop  # overlaps the last mask: it grows
        return "".join([*shown, text[end:]])

    def add_basic(self, username: str, password: str) -> None:
        """A basic-auth pair: its password, and ``user:password`` as the header carries it (base64)."""
        self.add(password)
        pair = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.add(pair, pair.rstrip("="))

    def add_header(self, name: str, value: str) -> None:
        """A configured header: its value is a secret when its name looks like one."""
        if looks_secret(name) or name.lower() in SECRET_HEADERS:
            self.add(value, value.split(" ", 1)[-1])

    def known(self, text: str) -> str:
        """Only the configured secrets masked (what a value that opted out of patterns gets)."""
        if getattr(self, "_ordered", None) is None:
            self._ordered = sorted(self._secrets, key=len, reverse=True)
        for secret in self._ordered or ():
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def fragments(self, text: str) -> str:
        """Mask a piece of a known secret left at either end of a text cut inside it.

        A text cut to its size before it reached the redactor (an excerpt, a
        library's error message) may end with the first characters of a secret,
        or start with its last ones: at least :data:`MIN_FRAGMENT` of them are masked.
        """
        heads, tails, longest = self._fragment_sets()
        for size in range(min(longest, len(text)), MIN_FRAGMENT - 1, -1):
            if text[-size:] in heads:
                text = text[:-size] + MASK
                break
        for size in range(min(longest, len(text)), MIN_FRAGMENT - 1, -1):
            if text[:size] in tails:
                text = MASK + text[size:]
                break
        return text

    def _fragment_sets(self) -> tuple[frozenset[str], frozenset[str], int]:
        if getattr(self, "_pieces", None) is None:
            heads = {s[:n] for s in self._secrets for n in range(MIN_FRAGMENT, len(s))}
            tails = {s[-n:] for s in self._secrets for n in range(MIN_FRAGMENT, len(s))}
            longest = max((len(s) for s in self._secrets), default=0)
            self._pieces = (frozenset(heads), frozenset(tails), longest)
        assert self._pieces is not None
        return self._pieces

    def __call__(self, text: str, *, cut: bool = False) -> str:
        """``text`` with every secret masked; ``cut``: it may have been cut inside one."""
        text = self.pieces(self.known(text))
        if cut:  # before the patterns, which could take a fragment's first characters apart
            text = self.fragments(text)
        for pattern, replacement in _CREDENTIALS:
            text = pattern.sub(replacement, text)
        return redact_urls_in(text)

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Headers safe to show: secret ones masked by name, known secrets masked by value."""
        return {
            k: MASK if looks_secret(k) or k.lower() in SECRET_HEADERS else self(v)
            for k, v in headers
        }


def excerpt_of(text: str, redactor: Redactor, size: int) -> str:
    """The first ``size`` characters of ``text``, masked before the cut, never after it: a
    secret that straddles the cut is masked whole (read with a margin), not left half shown."""
    return redactor(text[: size * 2], cut=True)[:size]


def url_secrets(url: str) -> list[str]:
    """The secrets a URL carries: its userinfo password (raw and decoded) and a ``?password=``."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    try:
        parts = urlsplit(url)
        found = [parts.password, unquote(parts.password)] if parts.password else []
    except ValueError:
        return []
    return found + [v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v]


# C0/C1 controls (but tab and newline) and the bidirectional overrides and isolates.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def neutralise(text: str) -> str:
    """Target text made inert: controls and bidi overrides shown as ``\\u202e``, never raw."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
