"""One total deadline per request: httpx bounds each read, not the sum, so a drip never ends.

``target.timeout`` bounds every phase of a request (connect, each read); a
server that sends one byte a second satisfies each of them forever. Here the
whole request — retries, redirects and the capped body read — is cancelled
when its deadline passes, and the failure says so in words a user can act on.
"""

from __future__ import annotations

__all__ = ["DeadlineExceeded", "fetch_within"]

import httpx

from sloprobe.probes.network.errors import MAX_JSON_BYTES, DeadlineExceeded
from sloprobe.probes.network.fetch import Answer, fetch
from sloprobe.probes.network.redirects import Redirects


async def fetch_within(
    client: httpx.AsyncClient,
    request: httpx.Request,
    deadline_s: float,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    retries: int = 2,
    redirects: Redirects | None = None,
) -> Answer:
    """:func:`fetch` with a deadline of its own (``--timeout`` left, not the request's timeout),
    past which it raises a timeout (:class:`DeadlineExceeded` for a body still coming)."""
    return await fetch(
        client,
        request,
        max_bytes=max_bytes,
        retries=retries,
        redirects=redirects,
        deadline_s=deadline_s,
    )
