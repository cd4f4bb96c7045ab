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
  The probe's ``priority_steps`` may differ from the app's, so every
  ``<name><sep><digits>`` list that exists is counted: steps 1-9 under
  ``sep``, ``\\x06\\x16`` and ``:`` are read directly (kombu clamps priorities
  to 0-9), any other found by a ``SCAN`` of at most :data:`LIST_SCAN_CALLS`
  calls. Lists under another separator than ``sep`` are not counted (they may
  be another queue's) but named in :attr:`Reading.notes` with the ``sep`` that
  would count them, and a ``SCAN`` cut short is said there too: the count is
  right, or a note says what it left out.
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

A queue that does not exist is reported in :attr:`Reading.missing`, never read
as an empty one, so a misspelt name or prefix cannot pass as depth 0. The
checks ride in the same round trip as the lengths (but the bounded searches
below, for missing queues only) and only count on what the libraries were
seen to write (rq 3.0, kombu/celery 5.7, PyPI bullmq 3.4); a queue with
anything in it always exists:

- RQ: every ``enqueue``/``enqueue_at``/``enqueue_many`` adds the queue key
  (``<ns>:queue:<name>``) to the set ``<ns>:queues``; emptying the queue keeps
  it there, ``Queue.delete`` takes it out; a bare ``Queue(...)`` writes
  nothing. A queue exists when it is in ``<ns>:queues`` (or ``rq:queues``,
  where a ``Queue`` subclass with its own key prefix registers), when its list
  holds jobs, or when a worker is registered for it (``<ns>:workers:<name>``:
  a worker started on a queue nothing was enqueued to yet serves a real one).
  A registration names no prefix, so it counts for a ``<ns>:queue:`` prefix
  only, under that ``<ns>``. A missing queue found under another namespace
  (``rq``, or one with a ``<ns>:queues`` set) is said in the reason, as a hint.
- BullMQ: the first ``add`` writes the ``meta`` hash (``opts.maxLenEvents``),
  the ``id`` counter and the ``events`` stream; ``pause`` writes ``meta``
  (field ``paused``) and ``events``. ``remove``, ``drain`` and ``resume`` keep
  them, but ``resume`` of a queue that never had a job empties its ``meta``,
  so Redis deletes it, and only ``events`` is left; ``obliterate`` deletes
  all. The Python port's ``Queue(...)`` and a ``Worker`` alone write no key.
  A queue exists when any of ``<prefix>:<queue>:meta``, ``:events`` or ``:id``
  exists (one ``EXISTS``) or any state holds a job.
- Celery: kombu keeps its bindings per *exchange*, not per queue: declaring
  (publishing to, or a worker consuming) a queue adds
  ``<routing_key><sep><pattern><sep><queue>`` to the set
  ``_kombu.binding.<exchange>`` (and ``_kombu.binding_permanent.<exchange>``),
  ``global_keyprefix`` in front. Celery names a queue's exchange after the
  queue unless ``task_queues`` says otherwise (``Queue('videos',
  Exchange('media'))`` is bound in ``_kombu.binding.media``). A queue exists
  when one of its lists holds a message or ``_kombu.binding.<queue>`` exists;
  only for an empty queue without that table does a second step look through
  the binding tables (``SCAN`` for ``_kombu.binding.*``, at most
  :data:`SCAN_CALLS` calls, then ``SMEMBERS``) for a member naming the queue.
  kombu declares a binding once per connection, so a table deleted behind a
  running app's back (``FLUSHDB``) comes back only when it reconnects or
  restarts; until then its queue, once empty, reads as missing.

When a check cannot finish, or Redis refuses it (an ACL that allows the queue
keys only), the queue is listed in :attr:`Reading.unverified` and read as
before, never called missing.
"""

from __future__ import annotations

import os
import re
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
SCAN_COUNT = 5000
SCAN_CALLS = 40
LIST_SCAN_COUNT, LIST_SCAN_CALLS = 1000, 5  # Celery's lists are searched on every read
HINT_SPACES = 20  # namespaces an RQ hint looks under
GUESSED_SEPS = (KOMBU_SEP, ":")  # kombu's default and the one Celery's docs suggest
KOMBU_BINDING = "_kombu.binding."
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
    missing: dict[str, str] = field(default_factory=dict)
    """Queues that do not exist in Redis → what was looked for and not found."""
    unverified: dict[str, str] = field(default_factory=dict)
    """Queues whose existence could not be checked → why (they are read as usual)."""
    notes: dict[str, str] = field(default_factory=dict)
    """For the measurement's details: what was seen but not counted, and why."""


class LayoutError(Exception):
    """Redis refused a command on a key: another type, no permission, or no authentication."""


class _Batch:
    """Commands sent in one round trip, each remembered with the key it reads.

    An ``optional`` command's error is its answer (an existence check Redis
    refuses leaves the queue unverified); any other command's error raises.
    """

    def __init__(self, client: Redis) -> None:
        self._pipe = client.pipeline(transaction=False)
        self._keys: list[str] = []
        self._optional: set[int] = set()

    def add(self, *command: str | int, optional: bool = False) -> int:
        self._pipe.execute_command(*command)
        self._keys.append(str(command[1]))
        if optional:
            self._optional.add(len(self._keys) - 1)
        return len(self._keys) - 1

    async def run(self) -> list[Any]:
        if not self._keys:
            return []
        results: list[Any] = await self._pipe.execute(raise_on_error=False)
        for i, (key, result) in enumerate(zip(self._keys, results, strict=True)):
            if isinstance(result, Exception):
                error = LayoutError(f"reading key {key!r} failed: {result}")
                error.__cause__ = result
                if i not in self._optional:
                    raise error
                results[i] = error
        return results


async def read_rq(client: Redis, plan: Plan) -> Reading:
    """RQ: queue lengths, the enqueue times of the jobs next in line, and worker heartbeats.

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
    first = _Batch(client)
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
    sets = " or ".join(f"`{ns}:queues`" for ns in spaces)
    for q, idx in known.items():
        worker = (
            f" and no worker is registered for it (`{own}:workers:{q}`)"
            if own
            else " (a worker registration names no prefix: it counts for `<ns>:queue:` ones only)"
        )
        _judge(
            reading,
            q,
            reading.depth[q] > 0,
            [got[i] for i in idx],
            f"`{plan.prefix}{q}` is not in {sets} (RQ adds every queue it enqueues to), "
            f"its list holds no job{worker}",
        )
    if reading.missing:
        for q, hint in (await _rq_elsewhere(client, own, list(reading.missing))).items():
            reading.missing[q] += hint
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


async def _rq_elsewhere(client: Redis, own: str | None, queues: list[str]) -> dict[str, str]:
    """Hints for missing ``queues`` found under another namespace (a wrong ``prefix``).

    Looks under ``rq`` and every ``<ns>`` with a ``<ns>:queues`` set (a bounded
    ``SCAN``); a check that fails only leaves the hint out.
    """
    sets, _ = await _scan(client, "*:queues", LIST_SCAN_COUNT, LIST_SCAN_CALLS)
    spaces = sorted({"rq", *(key[: -len(":queues")] for key in sets)} - {own})[:HINT_SPACES]
    batch = _Batch(client)
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
        if q not in hints and any(_found(got[i]) for i in idx):
            hints[q] = f"; found under `{ns}:` — check `prefix` (`{ns}:queue:` reads it)"
    return hints


async def read_celery(client: Redis, plan: Plan) -> Reading:
    """Celery: each queue is the sum of its priority lists, as kombu's ``_size`` counts it.

    Every ``<queue><sep><digits>`` list that exists counts, not only the
    configured steps' (see the module docstring). A queue exists when a list
    of it holds a message or kombu bound it; the binding tables are only looked
    through for an empty queue whose exchange is not named after it.
    """
    bares = {q: plan.prefix + q for q in plan.queues}
    pattern = _glob_escape(os.path.commonprefix(list(bares.values()))) + "*"  # noqa: RUF071
    mine = {q: celery_keys(q, plan.prefix, (0, *plan.steps), plan.sep) for q in plan.queues}
    first, read, extra = _Batch(client), {}, {}
    for q, bare in bares.items():
        read[q] = {k: first.add("LLEN", k) for k in mine[q]}
        for key in (f"{bare}{sep}{n}" for sep in (plan.sep, *GUESSED_SEPS) for n in range(1, 10)):
            if key not in read[q]:
                read[q][key] = first.add("LLEN", key, optional=True)
    bound = {
        q: first.add("EXISTS", f"{plan.prefix}{KOMBU_BINDING}{q}", optional=True)
        for q in plan.queues
    }
    scan = first.add("SCAN", 0, "MATCH", pattern, "COUNT", LIST_SCAN_COUNT, optional=True)
    got = await first.run()
    found, cut = await _scan(client, pattern, LIST_SCAN_COUNT, LIST_SCAN_CALLS, got[scan])
    second = _Batch(client)
    for q, bare in bares.items():
        new = (k for k in sorted(found - set(read[q])) if _celery_sep(plan.sep, bare, k))
        extra[q] = {k: second.add("LLEN", k, optional=True) for k in new}
    more = await second.run()
    reading, notes = Reading(), []
    for q, bare in bares.items():
        sizes = {k: _length(got[i]) for k, i in read[q].items()}
        sizes |= {k: _length(more[i]) for k, i in extra[q].items()}
        seps = {k: _celery_sep(plan.sep, bare, k) for k in sizes if k not in bares.values()}
        mine[q] += [k for k, sep in seps.items() if sep == plan.sep and k not in mine[q]]
        reading.depth[q] = sum(sizes[k] for k in mine[q])
        others = {k: sizes[k] for k, sep in seps.items() if sizes[k] and k not in mine[q]}
        if others:
            names = ", ".join(f"`{_shown(k)}`" for k in sorted(others, key=lambda k: (len(k), k)))
            fixes = " or ".join(dict.fromkeys(f'`sep: "{_shown(seps[k] or "")}"`' for k in others))
            notes.append(
                f"lists {names} hold {sum(others.values())} messages that sep "
                f"`{_shown(plan.sep)}` does not match, so `depth.{q}` leaves them out; if they "
                f"are priority lists of `{q}`, set {fixes}"
            )
    if cut is not None:
        tried = ", ".join(f"`{_shown(sep)}`" for sep in dict.fromkeys((plan.sep, *GUESSED_SEPS)))
        notes.append(
            f"lists with a step above 9 or a sep other than {tried} were not all looked for: {cut}"
        )
    if notes:
        reading.notes["priority lists"] = "; ".join(notes)
    answers = {q: got[i] for q, i in bound.items()}
    suspects = [q for q in plan.queues if reading.depth[q] == 0 and not _found(answers[q])]
    if suspects:
        members, refused = await _kombu_bindings(client, plan.prefix)
        for q in suspects:
            named = any(m.endswith((plan.sep + q, KOMBU_SEP + q)) for m in members)
            _judge(
                reading,
                q,
                named,
                [answers[q], *([refused] if refused else [])],
                f"no list `{plan.prefix}{q}` (nor a priority list of it) holds a message and "
                f"no kombu binding names it (no `{plan.prefix}{KOMBU_BINDING}{q}`, nor a member "
                f"ending in `{q}` in any `{plan.prefix}{KOMBU_BINDING}<exchange>`; kombu writes "
                f"one when the queue is declared)",
            )
    return reading


async def _kombu_bindings(client: Redis, prefix: str) -> tuple[list[str], Exception | None]:
    """Every member of every kombu binding table, or why they could not all be read."""
    tables, cut = await _scan(
        client, _glob_escape(prefix + KOMBU_BINDING) + "*", SCAN_COUNT, SCAN_CALLS
    )
    if cut is not None:
        return [], cut
    read = _Batch(client)
    for table in sorted(tables):
        read.add("SMEMBERS", table, optional=True)
    members: list[str] = []
    for answer in await read.run():
        if isinstance(answer, Exception):
            return [], answer
        members.extend(answer)
    return members, None


async def _scan(
    client: Redis, pattern: str, count: int, calls: int, first: Any = None
) -> tuple[set[str], LayoutError | None]:
    """The keys matching ``pattern`` within ``calls`` SCAN calls, or why not all.

    ``first`` is the reply of a first call sent in an earlier batch.
    """
    keys: set[str] = set()
    cursor: int | str = 0
    for _ in range(calls):
        if first is None:
            batch = _Batch(client)
            batch.add("SCAN", cursor, "MATCH", pattern, "COUNT", count, optional=True)
            (first,) = await batch.run()
        if isinstance(first, Exception):
            return keys, LayoutError(f"SCAN for `{pattern}` failed: {first.__cause__ or first}")
        (cursor, found), first = first, None
        keys.update(found)
        if int(cursor) == 0:
            return keys, None
    return keys, LayoutError(
        f"the keys `{_shown(pattern)}` were not all found within {calls} SCAN calls of "
        f"{count} keys (a database this large is not searched)"
    )


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
            "exists": first.add(
                "EXISTS",
                key["meta"],
                f"{plan.prefix}:{q}:events",
                f"{plan.prefix}:{q}:id",
                optional=True,
            ),
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
        _judge(
            reading,
            q,
            any(states.values()),
            [got[parts["exists"]]],
            f"no `{plan.prefix}:{q}:meta` key (nor `:events`, `:id`; BullMQ writes them for every "
            f"queue it adds a job to or pauses) and no job in any state",
        )
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


def _judge(reading: Reading, queue: str, holds: bool, answers: list[Any], absent: str) -> None:
    """Record ``queue`` as missing (``absent`` says what) unless something shows it exists.

    ``holds`` is whether the queue holds anything; ``answers`` are the
    existence checks' replies (1/True: found; an exception: Redis refused the
    check). A refused check with nothing else found leaves the queue unverified.
    """
    if holds or any(_found(a) for a in answers):
        return
    refused = next((a for a in answers if isinstance(a, Exception)), None)
    if refused is not None:
        reading.unverified[queue] = str(refused)
    else:
        reading.missing[queue] = absent


def _found(answer: Any) -> bool:
    """An ``EXISTS``/``SISMEMBER`` reply that found the key or member."""
    return not isinstance(answer, Exception) and bool(answer)


def _glob_escape(text: str) -> str:
    """``text`` matched literally in a ``SCAN … MATCH`` pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def _celery_sep(sep: str, bare: str, key: str) -> str | None:
    """The separator of ``key`` = ``<bare><separator><digits>``: ``sep``, or non-word characters."""
    rest = key[len(bare) :] if key.startswith(bare) else ""
    if rest.startswith(sep) and re.fullmatch("[0-9]+", rest[len(sep) :]):
        return sep
    match = re.fullmatch(r"([\W_]+)[0-9]+", rest)
    return match[1] if match else None


def _length(answer: Any) -> int:
    """An LLEN reply; a key of another type is no list of the queue, any other refusal raises."""
    if isinstance(answer, LayoutError):
        if "WRONGTYPE" in str(answer):
            return 0
        raise answer
    return int(answer)


def _shown(text: str) -> str:
    """``text`` as it can be read and written in YAML double quotes (kombu's sep is unprintable)."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


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
