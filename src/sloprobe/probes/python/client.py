"""The ``target`` fixture's client: httpx's sync API over the probes' one network layer.

A Python probe writes ``target.get("/health")`` as with any httpx client, but
each request goes through :func:`~sloprobe.probes.network.fetch` as a YAML
probe's does: redirects followed on the target's origin only, the body read
with a cap on its decompressed size, the target's login token sent, and the
whole request — not each read — bounded by ``target.timeout``, so a server
that drips its answer cannot hold the run. Requests run on an event loop of
the client's own, in a thread: a probe under pytest-asyncio works the same.
"""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from sloprobe.errors import TargetError
from sloprobe.probes.login import log_in
from sloprobe.probes.network import MAX_REDIRECTS, Answer, origin, redirect_target
from sloprobe.probes.network.deadline import fetch_within
from sloprobe.probes.tracing import Trace
from sloprobe.redact import redact_url

if TYPE_CHECKING:
    from sloprobe.probes.context import ProbeContext

MAX_BODY_BYTES = 16 * 1024 * 1024  # the cap of a YAML probe's JSON body, for the same reason
_T = TypeVar("_T")
# Headers describing the body as it travelled: the answer handed on is already decoded.
_TRANSFER_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class BodyTooLarge(httpx.RequestError, TargetError):
    """An answer larger than the client reads: the probe fails with this reason, memory stays small."""


class TargetClient(httpx.Client):
    """An ``httpx.Client`` whose every request is sent by the network layer, within a deadline."""

    def __init__(self, context: ProbeContext, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self._context = context
        self._async = context.async_client()
        super().__init__(
            base_url=self._async.base_url,
            headers=self._async.headers,
            timeout=context.target.timeout,
            verify=context.tls,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
        )
        self.deadline_s = context.target.timeout
        self.max_bytes = max_bytes
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="sloprobe-target", daemon=True
        )
        self._thread.start()
        self._logged_in = context.target.login is None
        # One trace for the probe test's requests, a span each (a job's submit and its polls).
        self.trace = Trace()

    def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        follow = follow_redirects if isinstance(follow_redirects, bool) else self.follow_redirects
        self._log_in_once(request)
        request = self._authenticated(request, auth)
        # A new span of the probe's trace (httpx headers: any letter case is replaced).
        request.headers.update(self.trace.headers(request.headers.get("baggage")))
        policy = self._context.redirects("same_origin" if follow else "none")
        started_ns = time.time_ns()
        try:
            answer = self._run(
                fetch_within(
                    self._async,
                    request,
                    self.deadline_s,
                    max_bytes=self.max_bytes,
                    redirects=policy,
                )
            )
        except Exception as exc:
            self._record_span(request, started_ns, error=type(exc).__name__)
            raise
        self._record_span(request, started_ns, status=answer.status)
        if answer.truncated:
            raise BodyTooLarge(
                f"{request.method} {policy.show(answer.url)}: the answer is larger than "
                f"{self.max_bytes / 2**20:g} MiB, the most the target client reads",
                request=request,
            )
        response = self._response(request, answer)
        self.cookies.extract_cookies(response)
        return response

    def _record_span(
        self,
        request: httpx.Request,
        started_ns: int,
        *,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        """This request's span in the probe's trace (its URL redacted as the report's are)."""
        self.trace.record_request(
            request.headers,
            f"{request.method} {request.url.path}",
            method=request.method,
            url=self._context.redactor(redact_url(str(request.url))),
            started_ns=started_ns,
            status=status,
            error=error,
        )

    def close(self) -> None:
        if not self._loop.is_closed():
            try:
                self._run(self._async.aclose())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(5)
                if not self._thread.is_alive():
                    self._loop.close()
        super().close()

    def _run(self, work: Coroutine[Any, Any, _T]) -> _T:
        """Run on the client's loop; the coroutine bounds itself, the margin covers a stuck loop."""
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        return future.result(self.deadline_s + 5.0)

    def _log_in_once(self, request: httpx.Request) -> None:
        """Log in before the first request to the target (the run's token if it has one)."""
        if self._logged_in or origin(request.url) != origin(self.base_url):
            return
        self._logged_in = True
        login = self._context.target.login
        if login is not None and not self._context.login_headers:
            try:
                failure = self._run(
                    asyncio.wait_for(log_in(self._async, login, self._context), self.deadline_s)
                )
            except TimeoutError:
                failure = f"login: {login.method} {login.path}: no answer within its deadline"
            if failure is not None:
                warnings.warn(f"target login failed: {failure}", stacklevel=4)
        for name, value in self._context.login_headers.items():
            self.headers[name] = value
            self._async.headers[name] = value
            request.headers.setdefault(name, value)

    def _authenticated(self, request: httpx.Request, auth: Any) -> httpx.Request:
        """An ``auth=`` of the call (or client) applied once, as a single-step flow (basic, bearer)."""
        chosen = self._build_request_auth(request, auth)
        return next(chosen.sync_auth_flow(request))

    def _response(self, request: httpx.Request, answer: Answer) -> httpx.Response:
        headers = [(k, v) for k, v in answer.headers.multi_items() if k not in _TRANSFER_HEADERS]
        response = httpx.Response(
            answer.status, headers=headers, content=answer.body, request=request
        )
        response.request = httpx.Request(request.method, answer.url, headers=request.headers)
        response.history = [
            httpx.Response(status, request=httpx.Request(method, url))
            for method, url, status in answer.followed
        ]
        target = redirect_target(response.request, response)
        if target is not None:  # not followed: offer a bare request to it, as httpx would
            response.next_request = httpx.Request(
                "GET" if answer.status in (301, 302, 303) else request.method,
                target.copy_with(userinfo=b""),
                headers=self._context.offsite_headers()
                if origin(target) != origin(response.request.url)
                else request.headers,
            )
        return response
