"""Discovery's only way out: GET requests through the probes' network layer, bounded.

Every request is a ``GET`` (the one exception: the job ``--submit-job`` asks
for, :meth:`Asker.submit`, a ``POST`` never retried) sent by :func:`~sloprobe.probes.network.deadline.fetch_within`
with the run's :class:`~sloprobe.probes.context.ProbeContext`: the same auth,
headers, User-Agent and synthetic marker, same-origin redirects only, a cap on
the decompressed body, and one total deadline per request. Each source has a
budget of :data:`MAX_REQUESTS` requests, the whole discovery a deadline, and a
path already answered is never asked again (one answer serves every source).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from sloprobe.probes.context import ProbeContext
from sloprobe.probes.http.measure import ABSENT
from sloprobe.probes.network import Answer, BodyError, describe_error, parse_json
from sloprobe.probes.network.deadline import fetch_within
from sloprobe.redact import neutralise

MAX_REQUESTS = 20  # per source
MAX_BYTES = 1024 * 1024  # an answer larger than this is not read
DEADLINE_S = 60.0  # the whole discovery: later requests are not sent
SHOWN_CHARS = 60


@dataclass(frozen=True)
class Seen:
    """The answer to one GET (or why there is none)."""

    path: str  # as asked: a path on the target, or an absolute URL
    shown: str  # ``GET <url>``, redacted
    answer: Answer | None
    problem: str | None  # a network failure, or why it was not sent

    @property
    def status(self) -> int | None:
        return self.answer.status if self.answer is not None else None

    @property
    def sent(self) -> bool:
        return self.answer is not None or not (self.problem or "").startswith("not sent")

    @property
    def ok(self) -> bool:
        return self.answer is not None and 200 <= self.answer.status < 300

    @property
    def state(self) -> str:
        """found / not found / refused, as the command reports it."""
        if self.ok:
            return "found"
        if self.status in (404, 410) or not self.sent:
            return "not found"
        return "refused"

    def said(self) -> str:
        if self.answer is None:
            return f"{self.shown}: {self.problem}"
        words = {401: " (auth refused)", 403: " (auth refused)", 404: " (not found)"}
        return f"{self.shown} → {self.answer.status}{words.get(self.answer.status, '')}"

    def content_type(self) -> str:
        if self.answer is None:
            return ""
        kind = str(self.answer.headers.get("content-type", ""))
        return kind.split(";")[0].strip().lower()

    def json(self) -> Any:
        """The answer as JSON, or ``ABSENT`` (not 2xx, HTML, truncated, not JSON)."""
        if self.answer is None or self.answer.truncated or "html" in self.content_type():
            return ABSENT
        try:
            return parse_json(self.answer.body)
        except BodyError:
            return ABSENT

    def text(self) -> str:
        return "" if self.answer is None or self.answer.truncated else self.answer.text()


class Asker:
    """GETs for every source: budgeted per source, cached per path, under one deadline."""

    def __init__(
        self,
        context: ProbeContext,
        client: httpx.AsyncClient,
        *,
        max_requests: int = MAX_REQUESTS,
        deadline_s: float = DEADLINE_S,
    ) -> None:
        self.context = context
        self.client = client
        self.max_requests = max_requests
        self._end = time.monotonic() + deadline_s
        self._cache: dict[str, Seen] = {}
        self._sent: dict[str, int] = {}
        self.answered = False  # whether the target answered anything at all
        self.posts = 0  # POSTs sent: the job of --submit-job, or none

    def sent(self, source: str) -> int:
        return self._sent.get(source, 0)

    @property
    def total(self) -> int:
        return sum(self._sent.values())

    def cached(self, path: str) -> Seen | None:
        return self._cache.get(path)

    def show(self, text: str) -> str:
        """Text from a target or a URL, safe to print or write: secrets masked, inert, short."""
        shown = neutralise(self.context.redactor(text)).replace("\n", " ")
        return shown if len(shown) <= SHOWN_CHARS else shown[: SHOWN_CHARS - 1] + "…"

    async def get(self, source: str, path: str, *, fresh: bool = False) -> Seen:
        """``GET path`` (or the answer it already had); ``fresh``: always a new request."""
        if not fresh and path in self._cache:
            return self._cache[path]
        seen = await self._send(source, path, self.client.build_request("GET", path))
        if not fresh:
            self._cache[path] = seen
        return seen

    async def submit(
        self, source: str, path: str, *, form: dict[str, str] | None = None, json_body: Any = None
    ) -> Seen:
        """The one ``POST`` discovery may send (``--submit-job``): once, never retried."""
        request = self.client.build_request("POST", path, data=form, json=json_body)
        return await self._send(source, path, request)

    async def _send(self, source: str, path: str, request: httpx.Request) -> Seen:
        redirects = self.context.redirects()
        shown = f"{request.method} {redirects.show(request.url)}"
        remaining = self._end - time.monotonic()
        if self.sent(source) >= self.max_requests:
            return Seen(
                path, shown, None, f"not sent: {source}'s {self.max_requests} requests spent"
            )
        if remaining <= 0:
            return Seen(path, shown, None, "not sent: discovery's deadline passed")
        self._sent[source] = self.sent(source) + 1
        self.posts += request.method == "POST"
        bound = min(self.context.target.timeout, remaining)
        try:
            answer = await fetch_within(
                self.client, request, bound, max_bytes=MAX_BYTES, retries=0, redirects=redirects
            )
            self.answered = True
            return Seen(path, shown, answer, answer.not_followed)
        except httpx.HTTPError as exc:
            said = describe_error(exc, self.context.redactor, step=shown)
            return Seen(path, shown, None, said.removeprefix(f"{shown}: "))
