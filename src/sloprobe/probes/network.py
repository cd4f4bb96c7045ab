"""The one network layer of every probe kind: a failure vocabulary, a retry policy, bounded reads.

Every kind that talks over the network says what went wrong in the same
words, with the step and the (redacted) URL or host in front::

    GET http://127.0.0.1:8000/health: connection refused
    redis 127.0.0.1:6390: DNS lookup failed (Name or service not known)
    PromQL GET http://prom:9090/api/v1/query: read timeout
    submit POST http://…/jobs: HTTP 401 (auth refused)

The classes: ``connection refused``, ``DNS lookup failed``, ``connect
timeout``, ``read timeout``, ``TLS error``, ``HTTP <status>``, ``undecodable
body``, ``auth refused``, else the error's own type and message. Only
failures before the request reached the server (refused, connect timeout,
DNS) are retried, with the same tenacity policy for every kind.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

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


def describe_error(exc: BaseException, redactor: Redactor, step: str) -> str:
    """``<step>: <class> (<detail>)`` for any error of any client library; secrets redacted."""
    return redactor(f"{step}: {classify(exc)}")[:REASON_CHARS]


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
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({detail})" if detail else "cannot connect"
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


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


# -- bounded reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read with a cap on its (decompressed) size."""

    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool
    latency_s: float
    url: str
    attempts: int

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


async def fetch(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    retries: int = 2,
) -> Answer:
    """Send ``request`` (retrying connection failures) and read at most ``max_bytes`` of its body."""
    attempts = 0
    async for attempt in retry_policy(retries):
        with attempt:
            attempts += 1
            timing = _TransportTiming()
            request.extensions = {**request.extensions, "trace": timing.event}
            clock = time.perf_counter()
            response = await client.send(request, stream=True)
            try:
                body, truncated = await read_capped(response, max_bytes)
            finally:
                await response.aclose()
            return Answer(
                response.status_code,
                response.headers,
                body,
                truncated,
                timing.latency(time.perf_counter() - clock),
                str(response.url),
                attempts,
            )
    raise AssertionError("unreachable: tenacity re-raises the last error")


class _TransportTiming:
    """Latency from the transport's own events (httpcore's ``trace`` extension).

    From the first connect or request-headers write to the end of the last
    answer's body, redirects included: what the client library does before
    and after (building the request, pooling, closing) is not the target's time.
    """

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None

    async def event(self, name: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if self.first is None and name.endswith(
            (".connect_tcp.started", ".send_request_headers.started")
        ):
            self.first = now
        elif name.endswith(".receive_response_body.complete"):
            self.last = now

    def latency(self, fallback: float) -> float:
        if self.first is None or self.last is None or self.last < self.first:
            return fallback  # a body cut at the cap, or a transport without these events
        return self.last - self.first


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The decompressed body up to ``limit`` bytes, and whether there was more (never more in memory)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


class BodyError(ValueError):
    """A body that cannot be read as JSON: the reason says why (not JSON, too deep, too large)."""


def parse_json(body: bytes | str) -> Any:
    """JSON, or :class:`BodyError` — deep nesting included, never a RecursionError."""
    try:
        return json.loads(body)
    except RecursionError:
        raise BodyError("undecodable body (JSON nested too deeply)") from None
    except ValueError as exc:
        raise BodyError(f"undecodable body (not JSON: {str(exc)[:80]})") from None
