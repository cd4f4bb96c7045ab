"""The failure vocabulary every kind speaks, and the one retry policy."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from sloprobe.errors import TargetError
from sloprobe.redact import Redactor

REASON_CHARS = 300
MAX_JSON_BYTES = 16 * 1024 * 1024

_REFUSED = ("connection refused", "errno 111", "error 111", "actively refused")
_DNS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "getaddrinfo failed",
    "could not translate host name",
    "no address associated with hostname",
    "name does not resolve",
    "error -2 connecting",
    "error -3 connecting",
    "error -5 connecting",
)
_TIMEOUT = ("timed out", "timeout expired", "timeout")
_AUTH = (
    "password authentication failed",
    "wrongpass",
    "noauth",
    "invalid username-password",
    "authentication required",
    "access denied",
)


class DeadlineExceeded(httpx.TimeoutException, TargetError):
    """The whole request (every hop and the body) took longer than its deadline
    (:func:`~sloprobe.probes.network.fetch.fetch`); its message says so."""


def describe_error(exc: BaseException, redactor: Redactor, step: str) -> str:
    """``<step>: <class> (<detail>)`` for any error of any client library; secrets redacted.

    ``step`` names the request a probe made; when :func:`fetch` followed a
    redirect and a later hop failed, the reason goes on to that hop, so it
    names the URL that failed: ``GET …/start → 302 → GET …/next: read timeout``.
    """
    sent = sending(exc)
    where = f"{step} → {sent.failed_hop}" if sent is not None and sent.failed_hop else step
    return redactor(f"{where}: {classify(exc)}")[:REASON_CHARS]


@dataclass(frozen=True)
class Sending:
    """What :func:`fetch` did before an error: it rides on the exception, which callers catch."""

    attempts: int  # connection attempts of the request: 1, plus a resend per connection failure
    failed_hop: str | None = None  # ``302 → GET <url>`` when a redirect hop failed, not the first


_SENDING = "_sloprobe_sending"


def note_sending(exc: BaseException, sent: Sending) -> None:
    """Attach ``sent`` to ``exc``: callers catch the error, so what fetch knew travels with it."""
    setattr(exc, _SENDING, sent)


def sending(exc: BaseException) -> Sending | None:
    """The note :func:`fetch` left on ``exc``; None for an error raised elsewhere."""
    sent = getattr(exc, _SENDING, None)
    return sent if isinstance(sent, Sending) else None


def classify(exc: BaseException) -> str:
    """The failure class of an exception, looking through its causes."""
    chain = list(_chain(exc))
    text = " ".join(str(e) for e in chain).lower()
    detail = _detail(exc)
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or any(
        s in text for s in _REFUSED
    ):
        return "connection refused"
    if any(isinstance(e, socket.gaierror) for e in chain) or any(s in text for s in _DNS):
        return f"DNS lookup failed ({detail})" if detail else "DNS lookup failed"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "certificate" in text or "ssl" in text:
        return f"TLS error ({detail})"
    if isinstance(exc, DeadlineExceeded):
        return str(exc)  # "no complete answer within 2s (the request's total deadline)"
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx.TimeoutException):
        return (
            "read timeout"
            if isinstance(exc, httpx.ReadTimeout | httpx.PoolTimeout)
            else ("write timeout" if isinstance(exc, httpx.WriteTimeout) else "timeout")
        )
    if any(isinstance(e, TimeoutError) for e in chain) or any(
        type(e).__name__.endswith("TimeoutError") for e in chain
    ):
        return "connect timeout" if "connect" in text else "read timeout"
    if any(s in text for s in _TIMEOUT):
        return "connect timeout" if "connect" in text else "read timeout"
    if any(s in text for s in _AUTH):
        return f"auth refused ({detail})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection closed early ({detail})"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.DecodingError):
        return f"undecodable body ({detail})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({detail})" if detail else "cannot connect"
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def samples_failure(failures: list[str], samples: int, what: str) -> str | None:
    """One reason for a probe of N samples: the only failure, or how many failed and the first."""
    if not failures:
        return None
    if len(failures) == 1:
        return failures[0]
    return f"{len(failures)} of {samples} {what} failed; first: {failures[0]}"


def status_problem(status: int) -> str:
    """The failure class of an HTTP status that was not expected."""
    if status in (401, 403):
        return f"HTTP {status} (auth refused)"
    return f"HTTP {status}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _detail(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200]


# -- retries ---------------------------------------------------------------------------------


def reached_no_server(exc: BaseException) -> bool:
    """Refused, DNS and connect timeouts: the request never reached the server, so retrying is safe."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return classify(exc) in ("connection refused", "connect timeout") or classify(exc).startswith(
        "DNS lookup failed"
    )


def retry_policy(retries: int) -> AsyncRetrying:
    """The one retry policy: connection failures only, never answers; exponential back-off to 2 s."""
    return AsyncRetrying(
        retry=retry_if_exception(reached_no_server),
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=0.2, max=2.0),
        reraise=True,
    )
