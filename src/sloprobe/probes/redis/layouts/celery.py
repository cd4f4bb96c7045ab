"""Celery: where kombu 5.x keeps a queue's messages and bindings in Redis, read as kombu counts them.

From ``kombu/transport/redis.py``: a queue is one list per priority step,
``_q_for_pri``: the bare name for step 0, else ``<name><sep><step>``;
defaults ``PRIORITY_STEPS = [0, 3, 6, 9]`` and ``sep = '\\x06\\x16'``;
``_size`` sums ``LLEN`` over the steps; ``global_keyprefix`` prefixes all.
The probe's ``priority_steps`` may differ from the app's, so every
``<name><sep><digits>`` list that exists is counted: steps 1-9 under ``sep``,
``\\x06\\x16`` and ``:`` are read directly (kombu clamps priorities to 0-9),
any other found by a bounded ``SCAN``. Lists under another separator than
``sep`` are not counted (they may be another queue's) but named in
:attr:`Reading.notes` with the ``sep`` that would count them, and a ``SCAN``
cut short is said there too: the count is right, or a note says what it left
out.

A queue exists when one of its lists holds a message or kombu bound it.
kombu keeps its bindings per *exchange*, not per queue: declaring
(publishing to, or a worker consuming) a queue adds
``<routing_key><sep><pattern><sep><queue>`` to the set
``_kombu.binding.<exchange>`` (and ``_kombu.binding_permanent.<exchange>``),
``global_keyprefix`` in front. Celery names a queue's exchange after the
queue unless ``task_queues`` says otherwise (``Queue('videos',
Exchange('media'))`` is bound in ``_kombu.binding.media``). Only for an empty
queue without ``_kombu.binding.<queue>`` does a second step look through the
binding tables (``SCAN`` for ``_kombu.binding.*``, then ``SMEMBERS``) for a
member naming the queue. kombu declares a binding once per connection, so a
table deleted behind a running app's back (``FLUSHDB``) comes back only when
it reconnects or restarts; until then its queue, once empty, reads as missing.

Celery's workers are not counted here: see :data:`CELERY_NO_WORKERS`.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from sloprobe.probes.redis.layouts.common import (
    KOMBU_SEP,
    Batch,
    Bounds,
    LayoutError,
    Plan,
    Reading,
    Search,
    found,
    glob_escape,
    judge,
    scan,
    shown,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

GUESSED_SEPS = (KOMBU_SEP, ":")  # kombu's default and the one Celery's docs suggest
KOMBU_BINDING = "_kombu.binding."
CELERY_NO_AGE = "Celery messages in Redis carry no enqueue time, so the age of the oldest waiting task cannot be read"
CELERY_NO_WORKERS = (
    "Celery workers are counted through Flower, not in Redis: an `http` probe on Flower's "
    "`/api/workers?status=1` with `count: true` counts the workers whose heartbeats it hears. "
    "Redis holds no sign of a live Celery worker that a read can see: its connections are "
    "unnamed, its heartbeats are PUB/SUB events, and the remote-control binding it adds to "
    "`_kombu.binding.celery.pidbox` stays there when it crashes (only a clean stop removes it)"
)


async def read_celery(client: Redis, plan: Plan, bounds: Bounds) -> Reading:
    """Celery: each queue is the sum of its priority lists, as kombu's ``_size`` counts it.

    Every ``<queue><sep><digits>`` list that exists counts, not only the
    configured steps' (see the module docstring). A queue exists when a list
    of it holds a message or kombu bound it; the binding tables are only looked
    through for an empty queue whose exchange is not named after it.
    """
    bares = {q: plan.prefix + q for q in plan.queues}
    pattern = glob_escape(os.path.commonprefix(list(bares.values()))) + "*"  # noqa: RUF071
    mine = {q: celery_keys(q, plan.prefix, (0, *plan.steps), plan.sep) for q in plan.queues}
    first, read, extra = Batch(client), {}, {}
    for q, bare in bares.items():
        read[q] = {k: first.add("LLEN", k) for k in mine[q]}
        for key in (f"{bare}{sep}{n}" for sep in (plan.sep, *GUESSED_SEPS) for n in range(1, 10)):
            if key not in read[q]:
                read[q][key] = first.add("LLEN", key, optional=True)
    bound = {
        q: first.add("EXISTS", f"{plan.prefix}{KOMBU_BINDING}{q}", optional=True)
        for q in plan.queues
    }
    lists = bounds.lists
    scanned = first.add("SCAN", 0, "MATCH", pattern, "COUNT", lists.count, optional=True)
    got = await first.run()
    keys, cut = await scan(client, pattern, lists, got[scanned])
    second = Batch(client)
    for q, bare in bares.items():
        new = (k for k in sorted(keys - set(read[q])) if _celery_sep(plan.sep, bare, k))
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
            names = ", ".join(f"`{shown(k)}`" for k in sorted(others, key=lambda k: (len(k), k)))
            fixes = " or ".join(dict.fromkeys(f'`sep: "{shown(seps[k] or "")}"`' for k in others))
            notes.append(
                f"lists {names} hold {sum(others.values())} messages that sep "
                f"`{shown(plan.sep)}` does not match, so `depth.{q}` leaves them out; if they "
                f"are priority lists of `{q}`, set {fixes}"
            )
    if cut is not None:
        tried = ", ".join(f"`{shown(sep)}`" for sep in dict.fromkeys((plan.sep, *GUESSED_SEPS)))
        notes.append(
            f"lists with a step above 9 or a sep other than {tried} were not all looked for: {cut}"
        )
    if notes:
        reading.notes["priority lists"] = "; ".join(notes)
    answers = {q: got[i] for q, i in bound.items()}
    suspects = [q for q in plan.queues if reading.depth[q] == 0 and not found(answers[q])]
    if suspects:
        members, refused = await _kombu_bindings(client, plan.prefix, bounds.tables)
        for q in suspects:
            named = any(m.endswith((plan.sep + q, KOMBU_SEP + q)) for m in members)
            judge(
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


async def _kombu_bindings(
    client: Redis, prefix: str, bound: Search
) -> tuple[list[str], Exception | None]:
    """Every member of every kombu binding table, or why they could not all be read."""
    tables, cut = await scan(client, glob_escape(prefix + KOMBU_BINDING) + "*", bound)
    if cut is not None:
        return [], cut
    read = Batch(client)
    for table in sorted(tables):
        read.add("SMEMBERS", table, optional=True)
    members: list[str] = []
    for answer in await read.run():
        if isinstance(answer, Exception):
            return [], answer
        members.extend(answer)
    return members, None


def celery_keys(queue: str, prefix: str, steps: tuple[int, ...], sep: str) -> list[str]:
    """The lists kombu spreads one queue over, as ``Channel._q_for_pri`` names them."""
    keys: list[str] = []
    for step in steps:
        key = prefix + (f"{queue}{sep}{step}" if step else queue)
        if key not in keys:
            keys.append(key)
    return keys


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
