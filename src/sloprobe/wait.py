"""``sloprobe wait``: poll a health URL until the new release is ready, or give up clearly.

A post-deploy gate first waits for the deploy to be live (optionally until
a version endpoint reports the expected release), then probes it once.
Every poll is a probe request: it goes through the network layer with the
target's auth, headers, login, User-Agent and synthetic marker from
``slo.yaml``; redirects are followed on the target's origin only (one
elsewhere is reported, never followed); bodies are read with a cap on their
decoded size; and each attempt has one total deadline (``target.timeout``,
never past the wait's own ``--timeout``), so a drip or a stall cannot hold a
deploy past its bound.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from sloprobe.probes.context import ProbeContext, make_context
from sloprobe.probes.http.measure import ABSENT, dig
from sloprobe.probes.login import log_in
from sloprobe.probes.network import Answer, BodyError, describe_error, parse_json
from sloprobe.probes.network.deadline import fetch_within

if TYPE_CHECKING:
    from sloprobe.config.model import Target

HEALTH_BYTES = 64 * 1024  # a health answer's status is what counts; its body is not kept
VERSION_BYTES = 1024 * 1024  # a version document is small; a larger one is refused, not read
MAX_INTERVAL_S = 10.0


@dataclass(frozen=True)
class WaitResult:
    ready: bool
    waited_s: float
    attempts: int
    last: str  # the last answer, for the message


@dataclass(frozen=True)
class _Poll:
    context: ProbeContext
    path: str
    release: str | None
    version_path: str | None
    version_field: str


def wait_until_ready(
    base_url: str,
    path: str = "/health",
    timeout_s: float = 300.0,
    interval_s: float = 2.0,
    release: str | None = None,
    version_path: str | None = None,
    version_field: str = "version",
    target: Target | None = None,
) -> WaitResult:
    """Poll ``base_url + path`` until it answers 2xx (and the version matches ``release``)."""
    if target is None:
        from sloprobe.config.model import Target

        target = Target()
    poll = _Poll(make_context(base_url, target), path, release, version_path, version_field)
    return asyncio.run(_wait(poll, timeout_s, interval_s))


async def _wait(poll: _Poll, timeout_s: float, interval_s: float) -> WaitResult:
    start = time.monotonic()
    end = start + timeout_s
    attempts = 0
    last = "no answer yet"
    pause = interval_s
    async with poll.context.async_client() as client:
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return WaitResult(False, time.monotonic() - start, attempts, last)
            attempts += 1
            # One attempt never outlasts the wait: the deadline of the whole poll bounds it too.
            bound = min(poll.context.target.timeout, remaining)
            ready, last = await _attempt(client, poll, bound)
            if ready:
                return WaitResult(True, time.monotonic() - start, attempts, last)
            remaining = end - time.monotonic()
            if remaining <= 0:
                return WaitResult(False, time.monotonic() - start, attempts, last)
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, max(interval_s, MAX_INTERVAL_S))


async def _attempt(client: httpx.AsyncClient, poll: _Poll, bound_s: float) -> tuple[bool, str]:
    """Whether the deploy is ready, and the answer in words (secret-free)."""
    context = poll.context
    started = time.monotonic()
    login = context.target.login
    if login is not None and not context.login_headers:
        try:
            failure = await asyncio.wait_for(log_in(client, login, context), bound_s)
        except TimeoutError:
            failure = f"login: {login.method} {login.path}: no answer within {bound_s:g} s"
        if failure is not None:
            return False, failure
    health, answer = await _get(client, context, poll.path, HEALTH_BYTES, bound_s)
    if answer is None:
        return False, health
    if answer.not_followed is not None:
        return False, f"{health}: {answer.not_followed}"
    if not 200 <= answer.status < 300:
        return False, health
    if poll.release is None:
        return True, health
    left = bound_s - (time.monotonic() - started)
    if left <= 0:
        return False, f"{health}, but no time was left to read the version"
    shown, version = await _get(
        client, context, poll.version_path or poll.path, VERSION_BYTES, left
    )
    if version is None:
        return False, shown
    if version.not_followed is not None or not 200 <= version.status < 300:
        return False, f"{shown}: {version.not_followed or 'not a version answer'}"
    if version.truncated:
        return False, f"{shown}: larger than {VERSION_BYTES // 1024} KiB, not read as a version"
    try:
        found = dig(parse_json(version.body), poll.version_field)
    except BodyError as exc:
        return False, f"{shown}: {exc}"
    found_text = "nothing" if found is ABSENT else context.redactor(str(found))[:80]
    said = f"{shown} reports {poll.version_field} {found_text}, waiting for {poll.release}"
    return found is not ABSENT and str(found) == poll.release, said


async def _get(
    client: httpx.AsyncClient, context: ProbeContext, path: str, max_bytes: int, bound_s: float
) -> tuple[str, Answer | None]:
    """``GET path`` as every probe sends it; the answer in words, and the answer (None: failed)."""
    request = client.build_request("GET", path)
    step = f"GET {context.redirects().show(request.url)}"
    try:
        answer = await fetch_within(
            client, request, bound_s, max_bytes=max_bytes, redirects=context.redirects()
        )
    except httpx.HTTPError as exc:
        return describe_error(exc, context.redactor, step=step), None
    return f"{step} answered {answer.status}", answer
