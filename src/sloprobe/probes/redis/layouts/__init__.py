"""Where RQ, Celery (kombu) and BullMQ keep their queues and workers in Redis, and how to read them.

One module per library (:mod:`.rq`, :mod:`.celery`, :mod:`.bullmq`) copies
that library's key names and counting rules from its own code, so that what
sloprobe reads is the number the library reports about itself; :mod:`.common`
holds what they share. Each module's docstring names the source it follows.

The age of the oldest waiting job is read from the jobs next in line and the
last one in (jobs put at the front can hide older ones behind them); for
BullMQ's ``prioritized`` set, from the jobs it will run next. Every command
is a read, so a read-only ACL user (``+@read``) is enough, but for BullMQ's
workers (``CLIENT LIST``).

A queue that does not exist is reported in :attr:`Reading.missing`, never read
as an empty one, so a misspelt name or prefix cannot pass as depth 0. The
checks ride in the same round trip as the lengths (but bounded searches, for
missing queues only) and only count on what the libraries were seen to write
(rq 3.0, kombu/celery 5.7, PyPI bullmq 3.4); a queue with anything in it
always exists. When a check cannot finish, or Redis refuses it (an ACL that
allows the queue keys only), the queue is listed in :attr:`Reading.unverified`
and read as before, never called missing.

The search bounds below are read when :func:`read` is called, so one
assignment here tunes every layout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sloprobe.probes.redis.layouts.bullmq import (
    BULLMQ_PREFIX,
    BULLMQ_STATES,
    bullmq_ready_time,
    read_bullmq,
)
from sloprobe.probes.redis.layouts.celery import (
    CELERY_NO_AGE,
    CELERY_NO_WORKERS,
    celery_keys,
    read_celery,
)
from sloprobe.probes.redis.layouts.common import (
    KOMBU_PRIORITY_STEPS,
    KOMBU_SEP,
    SAMPLE,
    Bounds,
    LayoutError,
    Plan,
    Reading,
    Search,
)
from sloprobe.probes.redis.layouts.rq import RQ_QUEUE_PREFIX, read_rq, rq_time

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "BULLMQ_PREFIX",
    "BULLMQ_STATES",
    "CELERY_NO_AGE",
    "CELERY_NO_WORKERS",
    "KOMBU_PRIORITY_STEPS",
    "KOMBU_SEP",
    "LIST_SCAN_CALLS",
    "LIST_SCAN_COUNT",
    "READERS",
    "RQ_QUEUE_PREFIX",
    "SAMPLE",
    "SCAN_CALLS",
    "SCAN_COUNT",
    "LayoutError",
    "Plan",
    "Reading",
    "bullmq_ready_time",
    "celery_keys",
    "read",
    "rq_time",
]

SCAN_COUNT = 5000
SCAN_CALLS = 40  # kombu's binding tables, looked through for an empty queue only
LIST_SCAN_COUNT, LIST_SCAN_CALLS = 1000, 5  # Celery's lists are searched on every read

Reader = Callable[["Redis", Plan, Bounds], Awaitable[Reading]]
READERS: dict[str, Reader] = {"rq": read_rq, "celery": read_celery, "bullmq": read_bullmq}


async def read(client: Redis, layout: str, plan: Plan) -> Reading:
    """Read ``plan`` with ``layout``'s reader, within the search bounds as they are set now."""
    bounds = Bounds(
        tables=Search(SCAN_COUNT, SCAN_CALLS), lists=Search(LIST_SCAN_COUNT, LIST_SCAN_CALLS)
    )
    return await READERS[layout](client, plan, bounds)
