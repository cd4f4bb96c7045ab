"""One request, as every kind sends it: retried, redirected by policy, timed by the transport, capped."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from sloprobe.errors import TargetError
from sloprobe.model.units import Dimension, format_base
from sloprobe.probes.network.decoding import close_stream, read_capped
from sloprobe.probes.network.errors import (
    MAX_JSON_BYTES,
    DeadlineExceeded,
    Sending,
    note_sending,
    retry_policy,
)
from sloprobe.probes.network.redirects import (
    MAX_REDIRECTS,
    Redirects,
    next_request,
    origin,
    redirect_target,
    scope_to_origin,
)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read with a cap on its (decompressed) size.

    A ``truncated`` answer keeps only its first :data:`TRUNCATED_KEEP` bytes,
    enough for an excerpt: the rest was never decoded. ``redirects`` is the
    chain of hops (``GET … → 302 → GET … → 200``, redacted) when there was
    a redirect; ``not_followed`` says where a redirect that was not followed
    pointed, and why. ``attempts`` counts connection attempts: 1, plus one per
    resend after a connection failure; following a redirect is not a retry.
    """

    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool
    latency_s: float
    url: str
    attempts: int
    redirects: str | None = None
    not_followed: str | None = None
    # Each redirect followed on the way, as (method, URL, status): a sync client's ``history``.
    followed: tuple[tuple[str, str, int], ...] = ()

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


async def fetch(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    retries: int = 2,
    redirects: Redirects | None = None,
    deadline_s: float | None = None,
) -> Answer:
    """Send ``request`` (retrying connection failures), follow redirects as ``redirects`` says
    (same origin only by default), and read at most ``max_bytes`` of the final body.

    The whole of it (retries, hops, the body) ends within ``deadline_s``, by default the
    request's own timeout (``target.timeout``, a probe's ``timeout``): httpx bounds each read,
    not their sum, so an answer that drips a byte a second would never end. Past the deadline
    it is a connect or read timeout (still connecting, or no answer yet), or
    :class:`DeadlineExceeded` (a body still coming). An ``httpx.HTTPError`` raised here carries a
    :class:`Sending` note: how many connection attempts were made, and which redirect hop
    failed (when not the first)."""
    policy = redirects if redirects is not None else Redirects()
    progress = _Progress()
    current = scope_to_origin(request, client, policy.offsite_headers)
    bound = deadline_s if deadline_s is not None else _timeout_of(request)
    timing = _TransportTiming()
    try:
        following = _follow(client, current, max_bytes, retries, policy, progress, timing)
        if bound is None:
            return await following
        try:
            async with asyncio.timeout(bound):  # in this task: no task of its own per request
                return await following
        except TimeoutError:
            raise _past_deadline(timing.phase, bound, current) from None
    except httpx.HTTPError as exc:
        # Too many redirects is the chain's failure, not one hop's: the step says it.
        hop = None if isinstance(exc, httpx.TooManyRedirects) else progress.hop
        note_sending(exc, Sending(progress.attempts, hop))
        raise


def _past_deadline(phase: str, bound: float, request: httpx.Request) -> httpx.TimeoutException:
    """The deadline's error in the words of the phase it cut: still connecting or waiting for
    the answer are the connect and read timeouts a stall gives; a body still coming (a drip)
    is the total deadline's own."""
    if phase == "connect":
        return httpx.ConnectTimeout("connect timeout", request=request)
    if phase == "answer":
        return httpx.ReadTimeout("read timeout", request=request)
    return DeadlineExceeded(
        f"no complete answer within {format_base(bound, Dimension.TIME)} "
        "(the request's total deadline)",
        request=request,
    )


def _timeout_of(request: httpx.Request) -> float | None:
    """The longest phase timeout httpx would apply to ``request`` (None: it has none)."""
    phases = (request.extensions.get("timeout") or {}).values()
    bounds = [float(t) for t in phases if isinstance(t, int | float)]
    return max(bounds) if bounds else None


@dataclass
class _Progress:
    """Connection attempts so far, and the redirect hop in flight (None on the first request)."""

    attempts: int = 1
    hop: str | None = None


async def _follow(
    client: httpx.AsyncClient,
    current: httpx.Request,
    max_bytes: int,
    retries: int,
    policy: Redirects,
    progress: _Progress,
    timing: _TransportTiming,
) -> Answer:
    clock = time.perf_counter()
    hops: list[str] = []
    followed: list[tuple[str, str, int]] = []
    while True:
        response = await _send(client, current, retries, timing, progress, first=not hops)
        shown = f"{current.method} {policy.show(current.url)} → {response.status_code}"
        try:
            target = redirect_target(current, response)
            not_followed = _refusal(policy, current, response, target)
            if target is None or not_followed is not None:
                body, truncated = await read_capped(response, max_bytes)
                if hops or not_followed is not None:
                    hops.append(shown if target is None else f"{shown} → {policy.show(target)}")
                return Answer(
                    response.status_code,
                    response.headers,
                    body,
                    truncated,
                    timing.latency(time.perf_counter() - clock),
                    str(response.url),
                    progress.attempts,
                    " → ".join(hops) if hops else None,
                    not_followed,
                    tuple(followed),
                )
            await _drain(response, _REDIRECT_BODY_BYTES)  # lets the connection be reused
        finally:
            await response.aclose()
        hops.append(shown)
        followed.append((current.method, str(current.url), response.status_code))
        if len(hops) > MAX_REDIRECTS:
            raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=current)
        current = next_request(current, response.status_code, target, policy, client)
        elided = "… → " if len(hops) > 1 else ""
        shown_next = f"{current.method} {policy.show(current.url)}"
        progress.hop = f"{elided}{response.status_code} → {shown_next}"


_REDIRECT_BODY_BYTES = 64 * 1024


async def _drain(response: httpx.Response, limit: int) -> None:
    """Read and drop a redirect's (raw, undecoded) body, up to ``limit`` bytes."""
    raw_stream = response.aiter_raw()
    size = 0
    try:
        async for raw in raw_stream:
            size += len(raw)
            if size > limit:
                break
    finally:
        await close_stream(raw_stream)


def _refusal(
    policy: Redirects, request: httpx.Request, response: httpx.Response, target: httpx.URL | None
) -> str | None:
    """Why this redirect is not followed (where it pointed), or None to follow it."""
    if not response.has_redirect_location:
        return None
    if target is None:
        location = response.headers.get("Location", "")
        return f"redirected to an unusable location {policy.show(location)[:200]!r} (not followed)"
    where = policy.show(target)
    if policy.mode == "none":
        return f"redirected to {where} (not followed: redirects: none)"
    if policy.mode == "same_origin" and origin(target) != origin(request.url):
        return f"redirected to {where} (another origin; set redirects: any to follow)"
    return None


async def _send(
    client: httpx.AsyncClient,
    request: httpx.Request,
    retries: int,
    timing: _TransportTiming,
    progress: _Progress,
    *,
    first: bool,
) -> httpx.Response:
    """One hop: the answer's headers (body still streaming), retrying connection failures.

    Only a resend is another attempt: a redirect's next hop is the same request going on."""
    async for attempt in retry_policy(retries):
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                progress.attempts += 1
            if first:
                timing.restart()  # a refused first attempt and the back-off are not latency
            request.extensions = {**request.extensions, "trace": timing.event}
            return await client.send(request, stream=True, follow_redirects=False)
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
        self.phase = "connect"  # then "answer" (request sent, no headers yet), then "body"

    def restart(self) -> None:
        self.first = self.last = None

    async def event(self, name: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if name.endswith((".connect_tcp.started", ".send_request_headers.started")):
            self.phase = "connect" if name.endswith(".connect_tcp.started") else "answer"
        elif name.endswith(".receive_response_headers.complete"):
            self.phase = "body"
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


class BodyError(TargetError, ValueError):
    """A body that cannot be read as JSON: the reason says why (not JSON, too deep, too large)."""


def parse_json(body: bytes | str) -> Any:
    """JSON, or :class:`BodyError` — deep nesting and oversized input included, never a RecursionError."""
    if len(body) > MAX_JSON_BYTES:
        raise BodyError(f"body too large (over {MAX_JSON_BYTES} bytes to read as JSON)")
    try:
        return json.loads(body)
    except RecursionError:
        raise BodyError("undecodable body (JSON nested too deeply)") from None
    except ValueError as exc:
        raise BodyError(f"undecodable body (not JSON: {str(exc)[:80]})") from None
