"""RQ: where rq 3.0 keeps queues, jobs and workers in Redis, read as rq counts them.

From rq's own code: ``rq/queue.py`` (``<ns>:queue:<name>`` list, ``count``
is ``LLEN``, jobs are ``RPUSH``-ed and taken from the left), ``rq/job.py``
(hash ``<ns>:job:<id>``, field ``enqueued_at``),
``rq/worker_registration.py`` (sets ``<ns>:workers`` and
``<ns>:workers:<queue>`` of worker keys) and ``rq/worker/base.py`` (hash
``<ns>:worker:<name>``, field ``last_heartbeat``). ``<ns>`` is ``rq`` unless
``RQ_KEY_PREFIX`` says so.

Workers are counted as ``Worker.all(queue=…)`` does: the keys registered in
``<ns>:workers:<queue>`` whose hash still exists (rq lets the hash expire when
heartbeats stop, so a registration without one is a dead worker).

A queue exists (see :mod:`sloprobe.probes.redis.layouts`) when it is in
``<ns>:queues`` (or ``rq:queues``, where a ``Queue`` subclass with its own
key prefix registers; every ``enqueue``/``enqueue_at``/``enqueue_many`` adds
it, emptying keeps it there, ``Queue.delete`` takes it out; a bare
``Queue(...)`` writes nothing), when its list holds jobs, or when a worker is
registered for it (``<ns>:workers:<name>``: a worker started on a queue
nothing was enqueued to yet serves a real one). A registration names no
prefix, so it counts for a ``<ns>:queue:`` prefix only, under that ``<ns>``.
A missing queue found under another namespace (``rq``, or one with a
``<ns>:queues`` set) is said in the reason, as a hint.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sloprobe.probes.redis.layouts.common import (
    Batch,
    Bounds,
    Plan,
    Reading,
    Search,
    earliest,
    found,
    ids,
    judge,
    sample,
    scan,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

RQ_QUEUE_PREFIX = "rq:queue:"
HINT_SPACES = 20  # namespaces an RQ hint looks under


async def read_rq(client: Redis, plan: Plan, bounds: Bounds) -> Reading:
    """RQ: queue lengths, the enqueue times of the jobs next in line, and live workers.

    A queue prefix ``<ns>:queue:`` means ``RQ_KEY_PREFIX=<ns>``: jobs and
    workers live under ``<ns>`` too. A job (and the queue's registration in
    ``<ns>:queues``) is looked up under ``rq`` as well, where a ``Queue``
    subclass with its own prefix leaves it. A worker registration names the
    queue but no prefix, so it vouches for ``<ns>:queue:<name>`` only: under
    any other prefix it is no evidence (else a wrong prefix would read 0).
    """
    own = plan.prefix[: -len(":queue:")] if plan.prefix.endswith(":queue:") else None
    namespace = own or "rq"
    spaces = sorted({namespace, "rq"})
    first = Batch(client)
    depth = {q: first.add("LLEN", plan.prefix + q) for q in plan.queues}
    known = {
        q: [
            *(
                first.add("SISMEMBER", f"{ns}:queues", plan.prefix + q, optional=True)
                for ns in spaces
            ),
            *([first.add("EXISTS", f"{own}:workers:{q}", optional=True)] if own else []),
        ]
        for q in plan.queues
    }
    ends = (
        {q: sample(first, plan.prefix + q, next_out_left=True) for q in plan.queues}
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
    registered: dict[str, set[str]] = {q: set(got[i]) for q, i in members.items()}
    sets = " or ".join(f"`{ns}:queues`" for ns in spaces)
    for q, idx in known.items():
        worker = (
            f" and no worker is registered for it (`{own}:workers:{q}`)"
            if own
            else " (a worker registration names no prefix: it counts for `<ns>:queue:` ones only)"
        )
        judge(
            reading,
            q,
            reading.depth[q] > 0,
            [got[i] for i in idx],
            f"`{plan.prefix}{q}` is not in {sets} (RQ adds every queue it enqueues to), "
            f"its list holds no job{worker}",
        )
    if reading.missing:
        hints = await _rq_elsewhere(client, own, list(reading.missing), bounds.lists)
        for q, hint in hints.items():
            reading.missing[q] += hint
    second = Batch(client)
    jobs = {
        q: [
            second.add("HGET", f"{ns}:job:{job}", "enqueued_at")
            for job in ids(got, idx)
            for ns in spaces
        ]
        for q, idx in ends.items()
    }
    workers = sorted(set().union(*registered.values()))
    beats = {w: second.add("HGET", w, "last_heartbeat") for w in workers}
    got = await second.run()
    for q, idx in jobs.items():
        reading.ready_at[q] = earliest(rq_time(got[i]) for i in idx)
    for worker, i in beats.items():
        beat = rq_time(got[i])
        if beat is not None:  # a registration whose hash expired is a dead worker
            reading.heartbeats[worker] = beat
    reading.workers = {q: names & set(reading.heartbeats) for q, names in registered.items()}
    return reading


async def _rq_elsewhere(
    client: Redis, own: str | None, queues: list[str], bound: Search
) -> dict[str, str]:
    """Hints for missing ``queues`` found under another namespace (a wrong ``prefix``).

    Looks under ``rq`` and every ``<ns>`` with a ``<ns>:queues`` set (a bounded
    ``SCAN``); a check that fails only leaves the hint out.
    """
    sets, _ = await scan(client, "*:queues", bound)
    spaces = sorted({"rq", *(key[: -len(":queues")] for key in sets)} - {own})[:HINT_SPACES]
    batch = Batch(client)
    checks = {
        (q, ns): [
            batch.add("SISMEMBER", f"{ns}:queues", f"{ns}:queue:{q}", optional=True),
            batch.add("EXISTS", f"{ns}:queue:{q}", f"{ns}:workers:{q}", optional=True),
        ]
        for q in queues
        for ns in spaces
    }
    got = await batch.run()
    hints: dict[str, str] = {}
    for (q, ns), idx in checks.items():
        if q not in hints and any(found(got[i]) for i in idx):
            hints[q] = f"; found under `{ns}:` — check `prefix` (`{ns}:queue:` reads it)"
    return hints


def rq_time(text: str | None) -> float | None:
    """RQ's ``utcformat`` text (``2024-05-01T12:00:00.123456Z``) → epoch seconds."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
