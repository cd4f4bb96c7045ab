"""Where RQ, Celery (kombu) and BullMQ keep their queues in Redis.

The key names and counting rules copy the libraries' own code, so that the
depth sloprobe reads is the number each library reports about itself:

- RQ 3.0: ``rq/queue.py`` (``<ns>:queue:<name>`` list, ``count`` is ``LLEN``,
  jobs are ``RPUSH``-ed and taken from the left), ``rq/job.py`` (hash
  ``<ns>:job:<id>``, field ``enqueued_at``), ``rq/worker_registration.py``
  (sets ``<ns>:workers`` and ``<ns>:workers:<queue>`` of worker keys) and
  ``rq/worker/base.py`` (hash ``<ns>:worker:<name>``, field
  ``last_heartbeat``). ``<ns>`` is ``rq`` unless ``RQ_KEY_PREFIX`` says so.
- kombu 5.x ``kombu/transport/redis.py``: a queue is one list per priority
  step, ``_q_for_pri``: the bare name for step 0, else ``<name><sep><step>``;
  defaults ``PRIORITY_STEPS = [0, 3, 6, 9]`` and ``sep = '\\x06\\x16'``;
  ``_size`` sums ``LLEN`` over the steps; ``global_keyprefix`` prefixes all.
- BullMQ 5 (``queue_keys.py``, ``commands/getCounts-1.lua``,
  ``commands/pause-7.lua``): ``<prefix>:<queue>:<state>``; ``wait``,
  ``active`` and ``paused`` are lists, the other states sorted sets; a paused
  queue has field ``paused`` in its ``meta`` hash (its jobs stay in ``wait``,
  or in the legacy ``paused`` list); a list tail starting ``0:`` is a legacy
  marker, not a job. Job hash ``<prefix>:<queue>:<id>``, ``timestamp`` and
  ``delay`` in milliseconds. Jobs are ``LPUSH``-ed and taken from the right.
"""

from __future__ import annotations

from datetime import UTC, datetime

RQ_QUEUE_PREFIX = "rq:queue:"
BULLMQ_PREFIX = "bull"
KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)
KOMBU_SEP = "\x06\x16"

BULLMQ_STATES = (
    "wait",
    "active",
    "delayed",
    "prioritized",
    "paused",
    "waiting-children",
    "failed",
    "completed",
)
BULLMQ_LISTS = frozenset({"wait", "active", "paused"})
BULLMQ_WAITING = ("wait", "paused", "prioritized")
BULLMQ_LEGACY_MARKER = "0:"

CELERY_NO_AGE = (
    "Celery messages in Redis carry no enqueue time, so the age of the oldest "
    "waiting task cannot be read"
)


class RqKeys:
    """RQ's keys for a queue-key prefix such as ``rq:queue:`` or ``myapp:queue:``.

    RQ derives every key from one namespace (``RQ_KEY_PREFIX``); a queue prefix
    of the form ``<ns>:queue:`` gives it back. Any other queue prefix comes from
    a ``Queue`` subclass, which leaves jobs and workers under ``rq``.
    """

    def __init__(self, queue_prefix: str) -> None:
        self.queue_prefix = queue_prefix
        suffix = ":queue:"
        self.namespace = queue_prefix[: -len(suffix)] if queue_prefix.endswith(suffix) else "rq"

    def queue(self, name: str) -> str:
        return self.queue_prefix + name

    def job(self, job_id: str) -> str:
        return f"{self.namespace}:job:{job_id}"

    def workers(self, queue: str) -> str:
        return f"{self.namespace}:workers:{queue}"


def celery_keys(queue: str, prefix: str, steps: tuple[int, ...], sep: str) -> list[str]:
    """The lists kombu spreads one queue over, as ``Channel._q_for_pri`` names them."""
    keys: list[str] = []
    for step in steps:
        key = prefix + (f"{queue}{sep}{step}" if step else queue)
        if key not in keys:
            keys.append(key)
    return keys


def bullmq_key(prefix: str, queue: str, suffix: str) -> str:
    return f"{prefix}:{queue}:{suffix}"


def is_bullmq_marker(item: str | None) -> bool:
    return item is not None and item.startswith(BULLMQ_LEGACY_MARKER)


def rq_time(text: str | None) -> float | None:
    """RQ's ``utcformat`` text (``2024-05-01T12:00:00.123456Z``) → epoch seconds."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def bullmq_ready_time(timestamp: str | None, delay: str | None) -> float | None:
    """When a BullMQ job became ready to run, in epoch seconds: created + delay.

    A delayed job only starts waiting once its delay is over; counting from
    its creation would report the delay as queueing time.
    """
    try:
        created = float(timestamp) if timestamp else None
        wait = float(delay) if delay else 0.0
    except ValueError:
        return None
    if created is None:
        return None
    return (created + max(wait, 0.0)) / 1000.0
