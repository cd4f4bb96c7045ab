"""Queues in Redis (``--redis URL``) and Celery workers in Flower (``--flower URL``).

Redis: at most :data:`MAX_SCAN_CALLS` ``SCAN`` calls of :data:`SCAN_COUNT` keys
(no write, no ``KEYS``), then one ``SMEMBERS`` for RQ's queue set and one per
kombu binding (at most :data:`MAX_QUEUES`). Keys of the libraries' default
layouts name the queues: RQ's ``rq:queues`` and ``rq:queue:<name>``, kombu's
``_kombu.binding.<exchange>`` (Celery; its queue is the last part of each
member), BullMQ's ``bull:<queue>:<state>``. Each layout found becomes a
``redis`` probe, read once with the probe's own code so its SLOs start from
what it reads; the URL is written as ``${REDIS_URL}`` (it may hold a password).
Flower: one GET of ``/api/workers?status=1`` through the network layer.
"""

from __future__ import annotations

import re
from typing import Any

from sloprobe.discover import thresholds as rules
from sloprobe.discover.asker import Asker
from sloprobe.discover.model import (
    FOUND,
    NOT_ASKED,
    NOT_FOUND,
    REFUSED,
    Probe,
    Proposal,
    Slo,
    SourceReport,
    Var,
    unique,
)
from sloprobe.redact import redact_url, url_secrets

MAX_SCAN_CALLS = 20
SCAN_COUNT = 500
MAX_QUEUES = 10
KOMBU_SEP = "\x06\x16"
_BULL = re.compile(r"^bull:([^:]{1,100}):(meta|id|wait|events|active|paused|prioritized|delayed)$")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.\-@]{1,100}$")


async def queue_sources(
    asker: Asker, redis: str | None, flower: str | None, proposal: Proposal, taken: set[str]
) -> None:
    report = SourceReport("redis", NOT_ASKED, "--redis not given")
    proposal.reports.append(report)
    if redis is not None:
        await _redis(asker, redis, proposal, taken, report)
    flowered = SourceReport("flower", NOT_ASKED, "--flower not given")
    proposal.reports.append(flowered)
    if flower is not None:
        await _flower(asker, flower.rstrip("/"), proposal, taken, flowered)


async def _scan(url: str, timeout: float) -> tuple[dict[str, list[str]], int, str | None]:
    """Queue names per layout, the commands sent, and why the search stopped early (if so)."""
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
    found: dict[str, set[str]] = {"rq": set(), "celery": set(), "bullmq": set()}
    sent, cursor, cut = 0, 0, None
    try:
        bindings: list[str] = []
        for _ in range(MAX_SCAN_CALLS):
            cursor, keys = await client.scan(cursor, count=SCAN_COUNT)
            sent += 1
            for key in map(_text, keys):
                if key.startswith("rq:queue:"):
                    found["rq"].add(key.removeprefix("rq:queue:"))
                elif key.startswith("_kombu.binding."):
                    bindings.append(key)
                elif match := _BULL.match(key):
                    found["bullmq"].add(match.group(1))
            if int(cursor) == 0:
                break
        else:
            cut = f"stopped after {MAX_SCAN_CALLS} SCAN calls of {SCAN_COUNT} keys"
        members = await client.smembers("rq:queues")
        sent += 1
        found["rq"] |= {_text(m).removeprefix("rq:queue:") for m in members}
        for binding in sorted(bindings)[:MAX_QUEUES]:
            sent += 1
            for member in await client.smembers(binding):
                found["celery"].add(_text(member).split(KOMBU_SEP)[-1])
    finally:
        await client.aclose()
    celery = {q for q in found["celery"] if "pidbox" not in q and not q.startswith("celeryev")}
    found["celery"] = celery
    named = {
        layout: sorted(q for q in queues if _QUEUE_NAME.match(q))[:MAX_QUEUES]
        for layout, queues in found.items()
    }
    return {k: v for k, v in named.items() if v}, sent, cut


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode(errors="replace")


async def _redis(
    asker: Asker, url: str, proposal: Proposal, taken: set[str], report: SourceReport
) -> None:
    redactor = asker.context.redactor
    redactor.add(*url_secrets(url))
    shown = redact_url(url)
    try:
        layouts, report.requests, cut = await _scan(url, asker.context.target.timeout)
    except ImportError:
        report.state, report.detail = (
            REFUSED,
            "needs the redis extra: pip install 'sloprobe[redis]'",
        )
        return
    except Exception as exc:  # any Redis or socket failure: said, secret-free
        report.state, report.detail = REFUSED, redactor(f"redis {shown}: {exc}")[:200]
        return
    if not layouts:
        report.state = NOT_FOUND
        report.detail = f"{shown}: no RQ, Celery or BullMQ queue keys" + (
            f" ({cut})" if cut else ""
        )
        return
    report.state = FOUND
    report.detail = f"{shown}: " + "; ".join(f"{k} {', '.join(v)}" for k, v in layouts.items())
    proposal.variables["REDIS_URL"] = f"the Redis URL given to --redis ({shown})"
    for layout, queues in layouts.items():
        await _queue_probe(url, layout, queues, redactor, proposal, taken, cut)


async def _queue_probe(
    url: str,
    layout: str,
    queues: list[str],
    redactor: Any,
    proposal: Proposal,
    taken: set[str],
    cut: str | None,
) -> None:
    from sloprobe.probes.redis.measure import run_redis_queue_probe
    from sloprobe.probes.redis.spec import RedisQueueProbe

    name = unique(f"{layout}-queues", taken)
    options: dict[str, Any] = {"url": Var("${REDIS_URL}"), "layout": layout, "queues": queues}
    workers = layout != "celery"
    if workers:
        options["workers"] = True
    spec = RedisQueueProbe.model_validate({**options, "url": url})
    read = await run_redis_queue_probe(name, spec, redactor)
    depth = read.series.get("depth")
    live = read.series.get("workers")
    origin = [f"From Redis: the {layout} keys of {', '.join(queues)} (a bounded SCAN)."]
    if cut:
        origin.append(f"The search {cut}: queues with keys beyond it are not listed.")
    if read.failure:
        origin.append(f"Read once during discovery: {redactor(read.failure)[:200]}.")
    probe = Probe(name, "redis", options, f"The {layout} queues in Redis.", origin)
    proposal.probes.append(probe)
    threshold, warn, why = rules.queue_rule()
    seen = f"seen: {depth.samples[0]:g}" if depth and depth.samples else "not read"
    probe.notes[("queues",)] = f"depth {seen}"
    proposal.slos.append(
        Slo(
            unique(f"{layout}-queue-depth", taken),
            name,
            "depth",
            threshold,
            f"Jobs waiting in {', '.join(queues)}.",
            [f"{why}."],
            warn,
        )
    )
    count = live.samples[0] if live and live.samples else None
    if workers and isinstance(count, float) and count >= rules.WORKERS_MIN:
        threshold, why = rules.workers_rule()
        probe.notes[("workers",)] = f"seen: {count:g} live"
        proposal.slos.append(
            Slo(
                unique(f"{layout}-workers", taken),
                name,
                "workers",
                threshold,
                f"Live {layout} workers on {', '.join(queues)}.",
                [f"{why}."],
            )
        )
    elif workers:
        probe.notes[("workers",)] = "no live worker seen: no SLO proposed on it"


async def _flower(
    asker: Asker, flower: str, proposal: Proposal, taken: set[str], report: SourceReport
) -> None:
    seen = await asker.get("flower", f"{flower}/api/workers?status=1")
    report.requests = asker.sent("flower")
    report.saw(seen.said(), seen.state)
    document = seen.json()
    if not seen.ok or not isinstance(document, dict):
        report.state = NOT_FOUND if seen.state == NOT_FOUND else REFUSED
        report.detail = seen.said() + ("" if not seen.ok else " (not Flower's workers answer)")
        return
    live = sum(1 for v in document.values() if v is True)
    report.state, report.detail = FOUND, f"{len(document)} workers, {live} alive"
    base: Any = flower
    if redact_url(flower) != flower:
        base = Var("${FLOWER_URL}")
        proposal.variables["FLOWER_URL"] = "Flower's root URL, with its credentials"
    options = {
        "path": base + "/api/workers",
        "query": {"status": 1},
        "values": {"live": {"json": ".", "count": True, "unit": "count"}},
    }
    name = unique("flower-workers", taken)
    origin = [
        f"From Flower: GET {asker.show(redact_url(flower))}/api/workers?status=1 → {len(document)} workers."
    ]
    probe = Probe(name, "http", options, "Celery workers Flower sees alive.", origin)
    probe.notes[("values", "live")] = f"seen: {live} (workers whose heartbeat is live)"
    proposal.probes.append(probe)
    if live >= rules.WORKERS_MIN:
        threshold, why = rules.workers_rule()
        proposal.slos.append(
            Slo(
                unique("celery-workers-live", taken),
                name,
                "live",
                threshold,
                "At least one Celery worker alive.",
                [f"{why}."],
            )
        )
    else:
        probe.origin.append("No live worker seen: no SLO proposed on it.")
