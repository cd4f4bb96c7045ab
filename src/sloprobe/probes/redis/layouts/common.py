"""What every layout shares: the plan of a read, its result, the round trip and small helpers.

The readers of :mod:`.rq`, :mod:`.celery` and :mod:`.bullmq` differ in where
the keys are, not in how they are read: commands are batched into few
pipelined round trips (:class:`Batch`), searches are bounded (:func:`scan`),
and a queue is judged missing only when nothing shows it exists
(:func:`judge`), so the three agree on what "missing" and "unverified" mean.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sloprobe.errors import TargetError

if TYPE_CHECKING:
    from redis.asyncio import Redis

SAMPLE = 10
"""Jobs looked at from each end of a list for the oldest waiting one."""
KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)
KOMBU_SEP = "\x06\x16"
"""kombu's default transport options ``priority_steps`` and ``sep`` (see :mod:`.celery`)."""


@dataclass(frozen=True)
class Plan:
    """What to read: the queues, the key prefix and the optional extras.

    ``db`` is the database the probe reads: connections of workers in
    another one serve other keys, so they are not counted.
    """

    queues: tuple[str, ...]
    prefix: str
    age: bool = False
    workers: bool = False
    steps: tuple[int, ...] = KOMBU_PRIORITY_STEPS
    sep: str = KOMBU_SEP
    db: int = 0


@dataclass(frozen=True)
class Search:
    """A bound on one ``SCAN``: keys asked per call, and calls at most."""

    count: int
    calls: int


@dataclass(frozen=True)
class Bounds:
    """How far a read searches: ``tables`` for kombu's bindings, ``lists`` on every read."""

    tables: Search
    lists: Search


@dataclass
class Reading:
    """What one probe read; ``ready_at`` is the epoch time the oldest sampled job began waiting."""

    depth: dict[str, int] = field(default_factory=dict)
    states: dict[str, dict[str, int]] = field(default_factory=dict)
    paused: dict[str, bool] = field(default_factory=dict)
    ready_at: dict[str, float | None] = field(default_factory=dict)
    workers: dict[str, set[str]] = field(default_factory=dict)
    """Queue → its live workers, as the library itself tells them (ids that tell them apart)."""
    workers_unknown: str | None = None
    """Why the workers could not be counted (Redis refused the command), if so."""
    heartbeats: dict[str, float] = field(default_factory=dict)
    """RQ: live worker → its last heartbeat, epoch seconds."""
    missing: dict[str, str] = field(default_factory=dict)
    """Queues that do not exist in Redis → what was looked for and not found."""
    unverified: dict[str, str] = field(default_factory=dict)
    """Queues whose existence could not be checked → why (they are read as usual)."""
    notes: dict[str, str] = field(default_factory=dict)
    """For the measurement's details: what was seen but not counted, and why."""


class LayoutError(TargetError):
    """Redis refused a command on a key: another type, no permission, or no authentication."""


class Batch:
    """Commands sent in one round trip, each remembered with what it reads.

    An ``optional`` command's error is its answer (an existence check Redis
    refuses leaves the queue unverified); any other command's error raises.
    ``what`` names a command that reads no key (``CLIENT LIST``) in errors.
    """

    def __init__(self, client: Redis) -> None:
        self._pipe = client.pipeline(transaction=False)
        self._what: list[str] = []
        self._optional: set[int] = set()

    def add(self, *command: str | int, optional: bool = False, what: str | None = None) -> int:
        self._pipe.execute_command(*command)
        self._what.append(what or f"reading key {str(command[1])!r}")
        if optional:
            self._optional.add(len(self._what) - 1)
        return len(self._what) - 1

    async def run(self) -> list[Any]:
        if not self._what:
            return []
        results: list[Any] = await self._pipe.execute(raise_on_error=False)
        for i, (what, result) in enumerate(zip(self._what, results, strict=True)):
            if isinstance(result, Exception):
                error = LayoutError(f"{what} failed: {result}")
                error.__cause__ = result
                if i not in self._optional:
                    raise error
                results[i] = error
        return results


async def scan(
    client: Redis, pattern: str, bound: Search, first: Any = None
) -> tuple[set[str], LayoutError | None]:
    """The keys matching ``pattern`` within ``bound``, or why not all.

    ``first`` is the reply of a first call sent in an earlier batch.
    """
    keys: set[str] = set()
    cursor: int | str = 0
    for _ in range(bound.calls):
        if first is None:
            batch = Batch(client)
            batch.add("SCAN", cursor, "MATCH", pattern, "COUNT", bound.count, optional=True)
            (first,) = await batch.run()
        if isinstance(first, Exception):
            return keys, LayoutError(f"SCAN for `{pattern}` failed: {first.__cause__ or first}")
        (cursor, found), first = first, None
        keys.update(found)
        if int(cursor) == 0:
            return keys, None
    return keys, LayoutError(
        f"the keys `{shown(pattern)}` were not all found within {bound.calls} SCAN calls of "
        f"{bound.count} keys (a database this large is not searched)"
    )


def judge(reading: Reading, queue: str, holds: bool, answers: list[Any], absent: str) -> None:
    """Record ``queue`` as missing (``absent`` says what) unless something shows it exists.

    ``holds`` is whether the queue holds anything; ``answers`` are the
    existence checks' replies (1/True: found; an exception: Redis refused the
    check). A refused check with nothing else found leaves the queue unverified.
    """
    if holds or any(found(a) for a in answers):
        return
    refused = next((a for a in answers if isinstance(a, Exception)), None)
    if refused is not None:
        reading.unverified[queue] = str(refused)
    else:
        reading.missing[queue] = absent


def found(answer: Any) -> bool:
    """An ``EXISTS``/``SISMEMBER`` reply that found the key or member."""
    return not isinstance(answer, Exception) and bool(answer)


def glob_escape(text: str) -> str:
    """``text`` matched literally in a ``SCAN … MATCH`` pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def shown(text: str) -> str:
    """``text`` as it can be read and written in YAML double quotes (kombu's sep is unprintable)."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def sample(batch: Batch, key: str, *, next_out_left: bool) -> list[int]:
    """The jobs next in line and the last one in: where a list's oldest job is.

    Jobs queue up in order, so the oldest is next in line unless some were
    put at the front (RQ ``at_front``, BullMQ ``lifo``); looking at the first
    :data:`SAMPLE` in line and at the other end covers those at bounded cost.
    """
    if next_out_left:
        return [batch.add("LRANGE", key, 0, SAMPLE - 1), batch.add("LINDEX", key, -1)]
    return [batch.add("LRANGE", key, -SAMPLE, -1), batch.add("LINDEX", key, 0)]


def ids(got: list[Any], indexes: list[int]) -> list[str]:
    """Distinct job ids among the answers (a ZRANGE answers a list)."""
    seen: list[str] = []
    for i in indexes:
        for item in got[i] if isinstance(got[i], list) else [got[i]]:
            if item is not None and item not in seen:
                seen.append(item)
    return seen


def earliest(times: Iterable[float | None]) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None
