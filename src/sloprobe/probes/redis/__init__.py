"""The `redis` kind: queue depth, oldest waiting job and live workers, read as the queue library writes them."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.redis.spec import RedisQueueProbe, redis_series_units

KIND = ProbeKind(
    name="redis",
    spec=RedisQueueProbe,
    summary="Read queues in Redis with the key layout of RQ, Celery (kombu) or BullMQ; read-only commands.",
    measures=(
        Measure("depth", "count", "Jobs waiting in all listed queues together."),
        Measure(
            "depth.<queue>",
            "count",
            "Jobs waiting in one queue. RQ: the queue list's length. Celery: the lengths of the "
            "queue's lists over `priority_steps` (kombu's default 0, 3, 6, 9). BullMQ: `wait` + "
            "`paused` + `prioritized` (the jobs a worker would take), as BullMQ's own getWaitingCount.",
        ),
        Measure(
            "depth.<queue>.<state>",
            "count",
            "BullMQ only: jobs in one state: wait, active, delayed, prioritized, paused, "
            "waiting-children, failed, completed.",
        ),
        Measure(
            "paused.<queue>",
            "bool",
            "BullMQ only: whether the queue is paused (`paused` in its meta hash).",
        ),
        Measure(
            "oldest_age",
            "s",
            "RQ and BullMQ: age of the oldest waiting job over all queues (`oldest_age: true`), "
            "read from the 10 jobs next in line and the last one in: more than 10 put at the front "
            "(RQ `at_front`, BullMQ `lifo`) can hide an older one, so it is then a lower bound.",
        ),
        Measure(
            "oldest_age.<queue>", "s", "RQ and BullMQ: age of the oldest waiting job in one queue."
        ),
        Measure(
            "workers",
            "count",
            "RQ and BullMQ with `workers: true`: live workers of the listed queues, as the library "
            "counts them. RQ: workers registered for the queue whose worker hash has not expired "
            "(`Worker.all`). BullMQ: connections in `CLIENT LIST` named as a worker of the queue "
            "(`getWorkersCount`). Celery: not in Redis, counted through Flower (see the notes).",
        ),
        Measure(
            "workers.<queue>",
            "count",
            "RQ and BullMQ with `workers: true`: live workers listening on one queue.",
        ),
        Measure(
            "heartbeat_age", "s", "RQ with `workers: true`: age of the stalest worker heartbeat."
        ),
    ),
    series_units=redis_series_units,
    talks_to_target=False,
    measurer="sloprobe.probes.redis.measure:measure",
    extra="redis",
    notes=(
        "A queue that does not exist is said as such, never read as a quiet 0: its series and the "
        "total `depth` are missing (no data) with the reason. It exists when it holds jobs, or: "
        "BullMQ, its `meta`, `events` or `id` key, or (`workers: true`) a worker connected to it; "
        "RQ, it is in `<ns>:queues` or a worker is "
        "registered for it; Celery, a kombu binding names it (`_kombu.binding.<exchange>`, looked "
        "up as `_kombu.binding.<queue>` first). A check Redis refuses is noted in the details, "
        "and the queue read as usual.",
        "Workers (`workers: true`) are counted as each library knows them. RQ registers them: "
        "`<ns>:workers:<queue>`, live while their `<ns>:worker:<name>` hash (refreshed by every "
        "heartbeat) exists. BullMQ writes no key: a worker names its blocking connection "
        "`<prefix>:<base64 of queue>` (`:w:<name>` after it when named) and `Queue.getWorkers()` "
        "lists those in `CLIENT LIST`, so a stopped or crashed worker drops out as soon as its "
        "connection closes; the Python port's `<prefix>:<queue>` (no base64, on both of its "
        "connections, so it counts each worker twice) is counted as it counts it. This needs "
        "`+client|list` beyond `+@read`; refused, the workers are missing with the reason, never 0. "
        "Celery: no read of Redis tells a live worker (its connections are unnamed, its "
        "heartbeats are PUB/SUB events, and the `_kombu.binding.celery.pidbox` entry it adds "
        "stays when it crashes), so `workers` is refused for `layout: celery` and every Celery "
        "reading says so in its details: count Celery workers with an `http` probe on Flower's "
        "`/api/workers?status=1` with `count: true`.",
    ),
)
