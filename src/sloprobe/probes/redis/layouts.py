"""Where RQ, Celery (kombu) and BullMQ keep their queues in Redis, and how to read them.

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
- BullMQ 5 Lua scripts (as shipped in PyPI ``bullmq`` 3.x: ``queue_keys.py``,
  ``commands/getCounts-1.lua``, ``commands/pause-7.lua``):
  ``<prefix>:<queue>:<state>``; ``wait``, ``active`` and ``paused`` are lists,
  the other states sorted sets; a paused queue has field ``paused`` in its
  ``meta`` hash (its jobs stay in ``wait``, or in the legacy ``paused`` list);
  a list tail starting ``0:`` is a legacy marker, not a job. Job hash
  ``<prefix>:<queue>:<id>``, ``timestamp`` and ``delay`` in milliseconds.
  Jobs are ``LPUSH``-ed and taken from the right.

The age of the oldest waiting job is read from the :data:`SAMPLE` jobs next in
line and the last one in (jobs put at the front can hide older ones behind
them); for BullMQ's ``prioritized`` set, from the jobs it will run next.
Every command is a read, so a read-only ACL user (``+@read``) is enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

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
SAMPLE = 10
CELERY_NO_AGE = "Celery messages in Redis carry no enqueue time, so the age of the oldest waiting task cannot be read"


@dataclass(frozen=True)
class Plan:
    """What to read: the queues, the key prefix and the optional extras."""

    queues: tuple[str, ...]
    prefix: str
    age: bool = False
    workers: bool = False
    steps: tuple[int, ...] = KOMBU_PRIORITY_STEPS
    sep: str = KOMBU_SEP


@dataclass
class Reading:
    """What one probe read; ``ready_at`` is the epoch time the oldest sampled job began waiting."""

    depth: dict[str, int] = field(default_factory=dict)
    states: dict[str, dict[str, int]] = field(default_factory=dict)
    paused: dict[str, bool] = field(default_factory=dict)
    ready_at: dict[str, float | None] = field(default_factory=dict)
    registered: dict[str, set[str]] = field(default_factory=dict)
    heartbeats: dict[str, float] = field(default_factory=dict)


class LayoutError(Exception):
    """Redis refused a command on a key: another type, no permission, or no authentication."""


class _Batch:
    """Commands sent in one round trip, each remembered with the key it reads."""

    def __init__(self, client: Redis) -> None:
        self._pipe = client.pipeline(transaction=False)
        self._keys: list[str] = []

    def add(self, *command: str | int) -> int:
        self._pipe.execute_command(*command)
        self._keys.append(str(command[1]))
        return len(self._keys) - 1

    async def run(self) -> list[Any]:
        if not self._keys:
            return []
        results: list[Any] = await self._pipe.execute(raise_on_error=False)
        for key, result in zip(self._keys, results, strict=True):
            if isinstance(result, Exception):
                raise LayoutError(f"reading key {key!r} failed: {result}") from result
        return results


async def read_rq(client: Redis, plan: Plan) -> Reading:
    """RQ: queue lengths, the enqueue times of the jobs next in line, and worker heartbeats.

    A queue prefix ``<ns>:queue:`` means ``RQ_KEY_PREFIX=<ns>``: jobs and
    workers live under ``<ns>`` too. A job is looked up under ``rq`` as well,
    where a ``Queue`` subclass with its own prefix leaves it.
    """
    namespace = plan.prefix[: -len(":queue:")] if plan.prefix.endswith(":queue:") else "rq"
    spaces = sorted({namespace, "rq"})
    first = _Batch(client)
    depth = {q: first.add("LLEN", plan.prefix + q) for q in plan.queues}
    ends = (
        {q: _sample(first, plan.prefix + q, next_out_left=True) for q in plan.queues}
        if plan.age
        else {}
    )
    members = (
        {q: first.add("SMEMBERS", f"{namespace}:workers:{q}") for q in plan.queues}
        if plan.workers
        else {}
    )
    got = await first.run()
    reading = Reading(depth={q: int(got[i]) for q, i in depth.items()})
    reading.registered = {q: set(got[i]) for q, i in members.items()}
    second = _Batch(client)
    jobs = {
        q: [
            second.add("HGET", f"{ns}:job:{job}", "enqueued_at")
            for job in _ids(got, idx)
            for ns in spaces
        ]
        for q, idx in ends.items()
    }
    workers = sorted(set().union(*reading.registered.values()))
    beats = {w: second.add("HGET", w, "last_heartbeat") for w in workers}
    got = await second.run()
    for q, idx in jobs.items():
        reading.ready_at[q] = _earliest(rq_time(got[i]) for i in idx)
    for worker, i in beats.items():
        beat = rq_time(got[i])
        if beat is not None:  # a registration whose hash expired is a dead worker
            reading.heartbeats[worker] = beat
    return reading


async def read_celery(client: Redis, plan: Plan) -> Reading:
    """Celery: each queue is the sum of its priority lists, as kombu's ``_size`` counts it."""
    batch = _Batch(client)
    lengths = {
        q: [batch.add("LLEN", key) for key in celery_keys(q, plan.prefix, plan.steps, plan.sep)]
        for q in plan.queues
    }
    got = await batch.run()
    return Reading(depth={q: sum(int(got[i]) for i in idx) for q, idx in lengths.items()})


async def read_bullmq(client: Redis, plan: Plan) -> Reading:
    """BullMQ: every state's count; waiting = wait + paused + prioritized; the paused flag."""
    first = _Batch(client)
    plans: dict[str, dict[str, Any]] = {}
    for q in plan.queues:
        key = {s: f"{plan.prefix}:{q}:{s}" for s in (*BULLMQ_STATES, "meta")}
        plans[q] = {
            "states": {
                s: first.add("LLEN" if s in BULLMQ_LISTS else "ZCARD", key[s])
                for s in BULLMQ_STATES
            },
            "paused": first.add("HEXISTS", key["meta"], "paused"),
            "tails": {s: first.add("LINDEX", key[s], -1) for s in ("wait", "paused")},
            "sample": [
                *_sample(first, key["wait"], next_out_left=False),
                *_sample(first, key["paused"], next_out_left=False),
                first.add("ZRANGE", key["prioritized"], 0, SAMPLE - 1),
            ]
            if plan.age
            else [],
        }
    got = await first.run()
    reading, second, candidates = Reading(), _Batch(client), {}
    for q, parts in plans.items():
        states = {s: int(got[i]) for s, i in parts["states"].items()}
        for s, i in parts["tails"].items():
            if _is_marker(got[i]):
                states[s] = max(states[s] - 1, 0)
        reading.states[q] = states
        reading.depth[q] = sum(states[s] for s in BULLMQ_WAITING)
        reading.paused[q] = bool(got[parts["paused"]])
        if plan.age:
            ids = _ids(got, parts["sample"])
            candidates[q] = [
                second.add("HMGET", f"{plan.prefix}:{q}:{job}", "timestamp", "delay")
                for job in ids
                if not _is_marker(job)
            ]
    got = await second.run()
    for q, idx in candidates.items():
        reading.ready_at[q] = _earliest(bullmq_ready_time(*got[i]) for i in idx)
    return reading


READERS = {"rq": read_rq, "celery": read_celery, "bullmq": read_bullmq}


def celery_keys(queue: str, prefix: str, steps: tuple[int, ...], sep: str) -> list[str]:
    """The lists kombu spreads one queue over, as ``Channel._q_for_pri`` names them."""
    keys: list[str] = []
    for step in steps:
        key = prefix + (f"{queue}{sep}{step}" if step else queue)
        if key not in keys:
            keys.append(key)
    return keys


def rq_time(text: str | None) -> float | None:
    """RQ's ``utcformat`` text (``2024-05-01T12:00:00.123456Z``) → epoch seconds."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


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
    return None if created is None else (created + max(wait, 0.0)) / 1000.0


def _is_marker(item: str | None) -> bool:
    return item is not None and item.startswith("0:")


def _sample(batch: _Batch, key: str, *, next_out_left: bool) -> list[int]:
    """The jobs next in line and the last one in: where a list's oldest job is.

    Jobs queue up in order, so the oldest is next in line unless some were
    put at the front (RQ ``at_front``, BullMQ ``lifo``); looking at the first
    :data:`SAMPLE` in line and at the other end covers those at bounded cost.
    """
    if next_out_left:
        return [batch.add("LRANGE", key, 0, SAMPLE - 1), batch.add("LINDEX", key, -1)]
    return [batch.add("LRANGE", key, -SAMPLE, -1), batch.add("LINDEX", key, 0)]


def _ids(got: list[Any], indexes: list[int]) -> list[str]:
    """Distinct job ids among the answers (a ZRANGE answers a list)."""
    found: list[str] = []
    for i in indexes:
        for item in got[i] if isinstance(got[i], list) else [got[i]]:
            if item is not None and item not in found:
                found.append(item)
    return found


def _earliest(times: Iterable[float | None]) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None
