"""BullMQ: where BullMQ 5 keeps a queue's jobs in Redis and how it knows its workers.

Jobs, from BullMQ's Lua scripts (as shipped in PyPI ``bullmq`` 3.x:
``queue_keys.py``, ``commands/getCounts-1.lua``, ``commands/pause-7.lua``):
``<prefix>:<queue>:<state>``; ``wait``, ``active`` and ``paused`` are lists,
the other states sorted sets; a paused queue has field ``paused`` in its
``meta`` hash (its jobs stay in ``wait``, or in the legacy ``paused`` list);
a list tail starting ``0:`` is a legacy marker, not a job. Job hash
``<prefix>:<queue>:<id>``, ``timestamp`` and ``delay`` in milliseconds.
Jobs are ``LPUSH``-ed and taken from the right.

Workers write no key: BullMQ knows them by their connections' names.
``Queue.getWorkers()`` (``src/classes/queue-getters.ts``, v5) lists the
``CLIENT LIST`` entries named ``<prefix>:<base64 of queue>`` or starting
``<prefix>:<base64 of queue>:w:`` (a worker with ``opts.name``), the name
``clientName()`` (``queue-base.ts``) gives the blocking connection of each
``Worker`` (``worker.ts``): one entry per live worker, gone as soon as its
connection closes, however the process ended. The Python port (PyPI
``bullmq`` 3.x, ``worker.py``/``queue.py``) names its connections
``<prefix>:<queue>`` without base64, both of them, and its
``get_workers`` matches that name, so it counts each of its workers twice;
both namings are counted here as their library counts them. Connections of
another database serve other keys and are left out. Reading ``CLIENT LIST``
needs ``+client|list`` beyond ``+@read``; refused, the workers are not
counted and the measurement says why.

A queue exists when any of ``<prefix>:<queue>:meta``, ``:events`` or ``:id``
exists, any state holds a job, or a worker is connected to it. The first
``add`` writes ``meta`` (``opts.maxLenEvents``), ``id`` and ``events``;
``pause`` writes ``meta`` (field ``paused``) and ``events``. ``remove``,
``drain`` and ``resume`` keep them, but ``resume`` of a queue that never had
a job empties its ``meta``, so Redis deletes it, and only ``events`` is left;
``obliterate`` deletes all. A ``Queue(...)`` and a ``Worker`` write no key.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from sloprobe.probes.redis.layouts.common import (
    SAMPLE,
    Batch,
    Bounds,
    Plan,
    Reading,
    earliest,
    ids,
    judge,
    sample,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

BULLMQ_PREFIX = "bull"
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


async def read_bullmq(client: Redis, plan: Plan, bounds: Bounds) -> Reading:
    """BullMQ: every state's count; waiting = wait + paused + prioritized; the paused flag; workers."""
    del bounds  # nothing is searched: every key is named
    first = Batch(client)
    plans: dict[str, dict[str, Any]] = {}
    for q in plan.queues:
        key = {s: f"{plan.prefix}:{q}:{s}" for s in (*BULLMQ_STATES, "meta")}
        plans[q] = {
            "states": {
                s: first.add("LLEN" if s in BULLMQ_LISTS else "ZCARD", key[s])
                for s in BULLMQ_STATES
            },
            "paused": first.add("HEXISTS", key["meta"], "paused"),
            "exists": first.add(
                "EXISTS",
                key["meta"],
                f"{plan.prefix}:{q}:events",
                f"{plan.prefix}:{q}:id",
                optional=True,
            ),
            "tails": {s: first.add("LINDEX", key[s], -1) for s in ("wait", "paused")},
            "sample": [
                *sample(first, key["wait"], next_out_left=False),
                *sample(first, key["paused"], next_out_left=False),
                first.add("ZRANGE", key["prioritized"], 0, SAMPLE - 1),
            ]
            if plan.age
            else [],
        }
    clients = (
        first.add("CLIENT", "LIST", optional=True, what="listing connections (CLIENT LIST)")
        if plan.workers
        else None
    )
    got = await first.run()
    reading, second, candidates = Reading(), Batch(client), {}
    if clients is not None:
        _workers(reading, plan, got[clients])
    for q, parts in plans.items():
        states = {s: int(got[i]) for s, i in parts["states"].items()}
        judge(
            reading,
            q,
            any(states.values()) or bool(reading.workers.get(q)),
            [got[parts["exists"]]],
            f"no `{plan.prefix}:{q}:meta` key (nor `:events`, `:id`; BullMQ writes them for every "
            f"queue it adds a job to or pauses), no job in any state"
            + (", and no worker connected to it" if clients is not None else ""),
        )
        for s, i in parts["tails"].items():
            if _is_marker(got[i]):
                states[s] = max(states[s] - 1, 0)
        reading.states[q] = states
        reading.depth[q] = sum(states[s] for s in BULLMQ_WAITING)
        reading.paused[q] = bool(got[parts["paused"]])
        if plan.age:
            candidates[q] = [
                second.add("HMGET", f"{plan.prefix}:{q}:{job}", "timestamp", "delay")
                for job in ids(got, parts["sample"])
                if not _is_marker(job)
            ]
    got = await second.run()
    for q, idx in candidates.items():
        reading.ready_at[q] = earliest(bullmq_ready_time(*got[i]) for i in idx)
    return reading


def _workers(reading: Reading, plan: Plan, answer: Any) -> None:
    """Each queue's worker connections in a ``CLIENT LIST`` reply, by connection id."""
    if isinstance(answer, Exception):
        reading.workers_unknown = (
            f"{answer}; BullMQ knows its workers only by their connections' names, which "
            f"CLIENT LIST shows (grant the probe's user `+client|list`)"
        )
        return
    names = {q: worker_names(plan.prefix, q) for q in plan.queues}
    reading.workers = {q: set() for q in plan.queues}
    for fields in parse_client_list(answer):
        name = fields.get("name", "")
        if not name or fields.get("db", "0") != str(plan.db):
            continue
        for q, bases in names.items():
            if any(name == base or name.startswith(f"{base}:w:") for base in bases):
                reading.workers[q].add(fields.get("id") or name)


def worker_names(prefix: str, queue: str) -> set[str]:
    """The names a worker of ``queue`` gives its connection (``:w:<name>`` may follow).

    BullMQ's ``clientName()``: ``<prefix>:<base64 of queue>``; the Python
    port has the queue's name itself where BullMQ has its base64.
    """
    return {f"{prefix}:{base64.b64encode(queue.encode()).decode('ascii')}", f"{prefix}:{queue}"}


def parse_client_list(text: str) -> list[dict[str, str]]:
    """``CLIENT LIST`` lines as field dicts, split as BullMQ's ``parseClientList`` splits them."""
    clients: list[dict[str, str]] = []
    for line in text.splitlines():
        fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
        if fields:
            clients.append(fields)
    return clients


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
