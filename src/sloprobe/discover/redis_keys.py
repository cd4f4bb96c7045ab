"""Which RQ, Celery and BullMQ queues a Redis database holds, under any key prefix; reads only.

One bounded pass of ``SCAN`` over the whole database (at most
:data:`MAX_SCAN_CALLS` calls of ``COUNT`` :data:`SCAN_COUNT`: about 10,000 keys
examined), each key matched here against the libraries' own key layouts, then
one pipelined round trip of reads (``SMEMBERS``, ``TYPE``, ``CLIENT LIST``;
never a write) to confirm what the names suggest:

- **RQ** (rq 1.x-3.x, ``rq/queue.py``): every ``enqueue`` adds the queue's key
  to the set ``<ns>:queues``, where ``<ns>`` is ``RQ_KEY_PREFIX`` (``rq`` by
  default) and a queue's key is ``<ns>:queue:<name>``. A ``Queue`` subclass with
  its own ``redis_queue_namespace_prefix`` (``jobs:``) keeps ``rq:queues`` but
  registers ``jobs:<name>`` in it. So each set named ``*:queues`` (at most
  :data:`MAX_TABLES`, ``rq:queues`` always) is read: members ``<ns>:queue:<name>``
  give the probe's ``prefix`` ``<ns>:queue:``; in ``rq:queues``, another member
  is split at its last ``:`` (prefix ``jobs:``, queue ``<name>``). A list key
  ``rq:queue:<name>`` (or ``<ns>:queue:<name>`` under a namespace whose set
  was read) names a queue too.
- **Celery** (kombu 5.x, ``kombu/transport/redis.py``): declaring a queue adds
  ``<routing_key><sep><pattern><sep><queue>`` to the set
  ``<global_keyprefix>_kombu.binding.<exchange>``; ``global_keyprefix``
  (a transport option, none by default) is in front of every key. Each such set
  is read (at most :data:`MAX_TABLES`; the ``pidbox`` and ``celeryev``
  exchanges are Celery's own and left out) and its queues are the last part of
  each member; the prefix is what stands before ``_kombu.binding.``.
- **BullMQ** (5.x and the PyPI port 3.x, ``queue_keys``): keys
  ``<prefix>:<queue>:<state>``, ``prefix`` ``bull`` by default and possibly
  holding ``:`` itself (BullMQ 5 forbids ``:`` in queue names, so the queue is
  the part before the last). A name is taken for a queue once ``TYPE`` shows
  BullMQ's own types (``meta`` a hash, ``events`` a stream, ``id`` a string,
  each state its list or sorted set) for at most :data:`MAX_CHECKS` of them.
  A queue nothing was added to yet has no key: its workers' connections are
  named ``<prefix>:<base64 of queue>`` (BullMQ) or ``<prefix>:<queue>`` (the
  Python port), and ``CLIENT LIST`` shows them; such a name counts under
  ``bull`` or a prefix the keys showed (any other ``a:b`` name is no sign).

Names are read back exactly; names and prefixes with characters outside
:data:`QUEUE_NAME` and :data:`PREFIX` are left out (they could not be written
back safely), as are more than :data:`MAX_QUEUES` queues under one prefix.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

MAX_SCAN_CALLS = 20
SCAN_COUNT = 500
MAX_TABLES = 10  # SMEMBERS of RQ queue sets, and of kombu binding tables, each
MAX_CHECKS = 20  # BullMQ (prefix, queue) names whose keys' types are checked
MAX_QUEUES = 10  # per layout and prefix
KOMBU_SEP = "\x06\x16"
KOMBU_BINDING = "_kombu.binding."
DEFAULT_PREFIX = {"rq": "rq:queue:", "celery": "", "bullmq": "bull"}
QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.\-@]{1,100}$")
PREFIX = re.compile(r"^[A-Za-z0-9_.\-@:{}/]{0,100}$")
_RQ_LIST = re.compile(r"^(.+):queue:([^:]+)$")
BULL_TYPES = {
    "meta": "hash",
    "id": "string",
    "events": "stream",
    "wait": "list",
    "active": "list",
    "paused": "list",
    "prioritized": "zset",
    "delayed": "zset",
    "completed": "zset",
    "failed": "zset",
    "waiting-children": "zset",
}
_BULL_OWN = ("meta", "id", "events")  # a queue's own keys: one of them says it exists
_BULL = re.compile(r"^(.+):([^:]{1,100}):(" + "|".join(map(re.escape, BULL_TYPES)) + r")$")


@dataclass
class Layout:
    """Queues of one library under one key prefix, and where they were read."""

    layout: str
    prefix: str  # as the redis probe's `prefix` option takes it
    queues: set[str] = field(default_factory=set)
    evidence: list[str] = field(default_factory=list)  # keys, sets, connection names

    @property
    def default(self) -> bool:
        return self.prefix == DEFAULT_PREFIX[self.layout]

    def add(self, queue: str, where: str) -> None:
        if QUEUE_NAME.match(queue):
            self.queues.add(queue)
            if where not in self.evidence:
                self.evidence.append(where)


@dataclass
class Found:
    layouts: list[Layout]
    commands: int  # Redis commands sent
    cut: str | None = None  # why the search stopped early, if so
    notes: list[str] = field(default_factory=list)  # what was seen and left out, and why


@dataclass
class _Keys:
    """What the SCAN pass saw, sorted by the layout each key suggests."""

    queue_sets: set[str] = field(default_factory=lambda: {"rq:queues"})
    rq_lists: dict[str, set[str]] = field(default_factory=dict)  # namespace -> queue names
    bindings: dict[str, str] = field(default_factory=dict)  # binding key -> global_keyprefix
    bull: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (prefix, queue) -> states

    def see(self, key: str) -> None:
        if key.endswith(":queues") and len(key) > len(":queues"):
            self.queue_sets.add(key)
        if match := _RQ_LIST.match(key):
            self.rq_lists.setdefault(match[1], set()).add(match[2])
        at = key.find(KOMBU_BINDING)
        if at >= 0:
            exchange = key[at + len(KOMBU_BINDING) :]
            if "pidbox" not in exchange and not exchange.startswith("celeryev"):
                self.bindings[key] = key[:at]
        if match := _BULL.match(key):
            self.bull.setdefault((match[1], match[2]), set()).add(match[3])


async def find_queues(url: str, timeout: float) -> Found:
    """The queues of each layout and prefix in the database at ``url`` (read-only, bounded)."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    client = Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        protocol=2,
        decode_responses=True,
        encoding_errors="replace",
    )
    keys, sent, cursor, cut = _Keys(), 0, 0, None
    try:
        for _ in range(MAX_SCAN_CALLS):
            cursor, batch = await client.scan(cursor, count=SCAN_COUNT)
            sent += 1
            for key in batch:
                keys.see(_text(key))
            if int(cursor) == 0:
                break
        else:
            cut = (
                f"stopped after {MAX_SCAN_CALLS} SCAN calls of {SCAN_COUNT} keys "
                f"(about {MAX_SCAN_CALLS * SCAN_COUNT} keys examined)"
            )
        db = int(client.connection_pool.connection_kwargs.get("db") or 0)
        found = await _confirm(client, keys, db)
    finally:
        await client.aclose()
    found.commands += sent
    found.cut = cut
    return found


async def _confirm(client: Any, keys: _Keys, db: int) -> Found:
    """One round trip of reads: the RQ sets, the kombu tables, BullMQ's key types, CLIENT LIST."""
    pipe = client.pipeline(transaction=False)
    sets = sorted(keys.queue_sets, key=lambda k: (k != "rq:queues", k))[:MAX_TABLES]
    tables = sorted(keys.bindings)[:MAX_TABLES]
    owned = [(p, q) for (p, q), states in keys.bull.items() if states & set(_BULL_OWN)]
    candidates = sorted(owned)[:MAX_CHECKS]
    typed: list[tuple[str, str, str]] = []
    for name in sets:
        pipe.smembers(name)
    for name in tables:
        pipe.smembers(name)
    for prefix, queue in candidates:
        for state in sorted(keys.bull[(prefix, queue)] | set(_BULL_OWN)):
            typed.append((prefix, queue, state))
            pipe.type(f"{prefix}:{queue}:{state}")
    pipe.execute_command("CLIENT", "LIST")
    answers = await pipe.execute(raise_on_error=False)
    found = Found([], len(answers))
    for what, total, read in (
        ("sets named *:queues", len(keys.queue_sets), len(sets)),
        ("kombu binding tables", len(keys.bindings), len(tables)),
        ("BullMQ queue names", len(owned), len(candidates)),
    ):
        if total > read:
            found.notes.append(f"{total} {what} seen, the first {read} read")
    layouts: dict[tuple[str, str], Layout] = {}

    def layout(kind: str, prefix: str) -> Layout | None:
        if not PREFIX.match(prefix):
            found.notes.append(f"{kind} keys under a prefix not written back: {prefix[:40]!r}")
            return None
        return layouts.setdefault((kind, prefix), Layout(kind, prefix))

    replies = iter(answers)
    namespaces = {"rq"}
    for name in sets:
        _rq_set(name, next(replies), layout, namespaces)
    for ns, names in sorted(keys.rq_lists.items()):
        if ns in namespaces and (place := layout("rq", f"{ns}:queue:")) is not None:
            for queue in sorted(names):
                place.add(queue, f"the list {ns}:queue:{queue}")
    for name in tables:
        members = next(replies)
        place = layout("celery", keys.bindings[name])
        if isinstance(members, BaseException) or place is None:
            continue
        for member in sorted(map(_text, members)):
            queue = member.split(KOMBU_SEP)[-1]
            if "pidbox" not in queue and not queue.startswith("celeryev"):
                place.add(queue, f"the set {name}")
    types: dict[tuple[str, str], dict[str, str]] = {}
    for prefix, queue, state in typed:
        answer = next(replies)
        kind = "none" if isinstance(answer, BaseException) else _text(answer)
        types.setdefault((prefix, queue), {})[state] = kind
    bull_prefixes = {"bull"}
    for (prefix, queue), seen in sorted(types.items()):
        own = any(seen.get(s) == BULL_TYPES[s] for s in _BULL_OWN)
        others = all(kind in ("none", BULL_TYPES[s]) for s, kind in seen.items())
        if own and others and (place := layout("bullmq", prefix)) is not None:
            place.add(
                queue,
                f"the keys {prefix}:{queue}:{{{','.join(sorted(keys.bull[(prefix, queue)]))}}}",
            )
            bull_prefixes.add(prefix)
    clients = next(replies)
    if isinstance(clients, BaseException):
        found.notes.append(
            f"CLIENT LIST refused ({str(clients)[:80]}): idle BullMQ queues not looked for"
        )
    else:
        for prefix, queue, name in _bull_connections(_text(clients), db, bull_prefixes):
            place = layout("bullmq", prefix)
            if place is not None:
                place.add(queue, f"a worker's connection named {name}")
    for place in layouts.values():
        if len(place.queues) > MAX_QUEUES:
            left = sorted(place.queues)[MAX_QUEUES:]
            found.notes.append(
                f"{len(left)} more {place.layout} queues not listed: {', '.join(left[:5])}"
            )
            place.queues = set(sorted(place.queues)[:MAX_QUEUES])
    found.notes = list(dict.fromkeys(found.notes))
    found.layouts = [p for p in layouts.values() if p.queues]
    order = {"rq": 0, "celery": 1, "bullmq": 2}
    found.layouts.sort(key=lambda p: (order[p.layout], not p.default, p.prefix))
    return found


def _rq_set(name: str, members: Any, layout: Any, namespaces: set[str]) -> None:
    """RQ's queue keys in the set ``name`` (``<ns>:queues``)."""
    if isinstance(members, BaseException):
        return  # not a set: not RQ's
    ns = name[: -len(":queues")]
    for member in sorted(map(_text, members)):
        if member.startswith(f"{ns}:queue:"):
            prefix = f"{ns}:queue:"
        elif ns == "rq" and ":" in member:  # a Queue subclass's own namespace prefix
            prefix = member[: member.rindex(":") + 1]
        else:
            continue
        place = layout("rq", prefix)
        if place is not None:
            place.add(member[len(prefix) :], f"the set {name}")
            namespaces.add(ns)


def _bull_connections(text: str, db: int, prefixes: set[str]) -> list[tuple[str, str, str]]:
    """(prefix, queue, connection name) of BullMQ workers in a ``CLIENT LIST`` reply.

    ``<prefix>:<base64 of queue>`` (``:w:<worker name>`` may follow) is BullMQ's
    ``clientName()``; the Python port writes the queue's name itself. Only under
    a prefix in ``prefixes``: another ``a:b`` connection name is no sign of BullMQ.
    """
    seen: list[tuple[str, str, str]] = []
    for line in text.splitlines():
        fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
        name = fields.get("name", "")
        if not name or fields.get("db", "0") != str(db):
            continue
        base = name.split(":w:", 1)[0]
        if ":" not in base:
            continue
        prefix, tail = base.rsplit(":", 1)
        if prefix not in prefixes:
            continue
        queue = _unbase64(tail)
        if queue is None and QUEUE_NAME.match(tail):
            queue = tail
        if queue is not None and (prefix, queue, name) not in seen:
            seen.append((prefix, queue, name))
    return seen


def _unbase64(text: str) -> str | None:
    """The queue name BullMQ encoded in ``text``, or None if it is no such encoding."""
    try:
        raw = base64.b64decode(text, validate=True)
        name = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return name if QUEUE_NAME.match(name) and base64.b64encode(raw).decode() == text else None


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode(errors="replace")
