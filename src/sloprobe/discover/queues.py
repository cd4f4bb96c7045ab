"""Queues in Redis (``--redis URL``) and Celery workers and failures in Flower (``--flower URL``).

Redis: :func:`~.redis_keys.find_queues` finds RQ, Celery (kombu) and BullMQ
queues under any key prefix with one bounded ``SCAN`` pass and one round trip
of reads (no write, no ``KEYS``). Each layout and prefix found becomes a
``redis`` probe with the real queue names and, when it is not the library's
default, the prefix in the probe's ``prefix`` option; each probe is read once
with the probe's own code so its SLOs start from what it reads. The URL is
written as ``${REDIS_URL}`` (it may hold a password).
Flower: a GET of ``/api/workers?status=1`` and one of ``/api/tasks?state=FAILURE``
through the network layer.
"""

from __future__ import annotations

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
    slug,
    unique,
)
from sloprobe.discover.redis_keys import Layout, find_queues
from sloprobe.redact import redact_url, url_secrets

FAILED_LIMIT_VAR = "CELERY_FAILED_TASKS_LIMIT"
FAILED_SHOWN = 100  # failed tasks Flower is asked to list during discovery


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


def _said(place: Layout) -> str:
    """``rq default, emails`` or ``celery (prefix "acme:") video``, as the report says it."""
    where = "" if place.default else f' (prefix "{place.prefix}")'
    return f"{place.layout}{where} {', '.join(sorted(place.queues))}"


async def _redis(
    asker: Asker, url: str, proposal: Proposal, taken: set[str], report: SourceReport
) -> None:
    redactor = asker.context.redactor
    redactor.add(*url_secrets(url))
    shown = redact_url(url)
    try:
        found = await find_queues(url, asker.context.target.timeout)
    except ImportError:
        report.state, report.detail = (
            REFUSED,
            "needs the redis extra: pip install 'sloprobe[redis]'",
        )
        return
    except Exception as exc:  # any Redis or socket failure: said, secret-free
        report.state, report.detail = REFUSED, redactor(f"redis {shown}: {exc}")[:200]
        return
    report.requests = found.commands
    notes = [redactor(note) for note in found.notes]
    if not found.layouts:
        report.state = NOT_FOUND
        said = [*([found.cut] if found.cut else []), *notes]
        report.detail = f"{shown}: no RQ, Celery or BullMQ queue keys" + (
            f" ({'; '.join(said)})" if said else ""
        )
        return
    report.state = FOUND
    proposal.variables["REDIS_URL"] = f"the Redis URL given to --redis ({shown})"
    for place in found.layouts:
        await _queue_probe(url, place, redactor, proposal, taken, found.cut, notes)
    kept = [_said(p) for p in found.layouts if p.queues]
    report.state = FOUND if kept else NOT_FOUND
    report.detail = f"{shown}: " + ("; ".join(kept) or "no queue left to propose")
    report.detail += f" ({'; '.join(notes)})" if notes else ""


async def _queue_probe(
    url: str,
    place: Layout,
    redactor: Any,
    proposal: Proposal,
    taken: set[str],
    cut: str | None,
    notes: list[str],
) -> None:
    """Propose the probe of ``place`` and its SLOs, from one reading (two if a queue is gone)."""
    from sloprobe.probes.redis.measure import run_redis_queue_probe
    from sloprobe.probes.redis.spec import RedisQueueProbe

    layout = place.layout
    label = "" if place.default else slug(place.prefix.removesuffix(":queue:"), "prefixed") + "-"
    name = unique(f"{layout}-{label}queues", taken)
    queues = sorted(place.queues)
    options: dict[str, Any] = {"url": Var("${REDIS_URL}"), "layout": layout, "queues": queues}
    if not place.default:
        options["prefix"] = place.prefix
    workers = layout != "celery"
    if workers:
        options["workers"] = True
    read = await run_redis_queue_probe(
        name, RedisQueueProbe.model_validate({**options, "url": url}), redactor
    )
    gone = [q for q in queues if f"depth.{q}" in read.missing]
    if gone:  # no sign they exist after all (gone since the search): not proposed
        notes.append(f"{_said(place)}: no sign of {', '.join(gone)} when read, left out")
        place.queues -= set(gone)
        if len(gone) == len(queues):
            return
        queues = [q for q in queues if q not in gone]
        options["queues"] = queues
        read = await run_redis_queue_probe(
            name, RedisQueueProbe.model_validate({**options, "url": url}), redactor
        )
    depth = read.series.get("depth")
    live = read.series.get("workers")
    under = "" if place.default else f' under the prefix "{place.prefix}"'
    origin = [f"From Redis: the {layout} queues {', '.join(queues)}{under}, read from"]
    origin[0] += f" {'; '.join(place.evidence[:3])} (a bounded SCAN)."
    if gone:
        origin.append(f"Left out: {', '.join(gone)} (the probe found no sign they exist).")
    if cut:
        origin.append(f"The search {cut}: queues with keys beyond it are not listed.")
    if read.failure:
        origin.append(f"Read once during discovery: {redactor(read.failure)[:200]}.")
    what = f"The {layout} queues in Redis" + (f" (key prefix `{place.prefix}`)" if under else "")
    probe = Probe(name, "redis", options, f"{what}.", origin)
    proposal.probes.append(probe)
    if under:
        probe.notes[("prefix",)] = _prefix_note(place)
    threshold, warn, why = rules.queue_rule()
    seen = f"seen: {depth.samples[0]:g}" if depth and depth.samples else "not read"
    probe.notes[("queues",)] = f"depth {seen}"
    slo = f"{layout}-{label}"
    proposal.slos.append(
        Slo(
            unique(f"{slo}queue-depth", taken),
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
                unique(f"{slo}workers", taken),
                name,
                "workers",
                threshold,
                f"Live {layout} workers on {', '.join(queues)}.",
                [f"{why}."],
            )
        )
    elif workers:
        probe.notes[("workers",)] = "no live worker seen: no SLO proposed on it"


def _prefix_note(place: Layout) -> str:
    if place.layout == "rq":
        ns = place.prefix.removesuffix(":queue:")
        return (
            f"RQ_KEY_PREFIX={ns}"
            if place.prefix.endswith(":queue:")
            else "a Queue subclass's redis_queue_namespace_prefix"
        )
    if place.layout == "celery":
        return "kombu's global_keyprefix, read before _kombu.binding.<exchange>"
    return "BullMQ's prefix option, read from the keys' names"


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
        "path": _joined(base, "/api/workers"),
        "query": {"status": 1},
        "values": {"live": {"json": ".", "count": True, "unit": "count"}},
    }
    name = unique("flower-workers", taken)
    at = asker.show(redact_url(flower))
    origin = [f"From Flower: GET {at}/api/workers?status=1 → {len(document)} workers."]
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
    await _flower_failed(asker, flower, base, at, proposal, taken, report)


async def _flower_failed(
    asker: Asker,
    flower: str,
    base: Any,
    at: str,
    proposal: Proposal,
    taken: set[str],
    report: SourceReport,
) -> None:
    """Failed tasks in Flower's list: written commented out, its bound left to the user.

    Flower keeps the tasks it saw (its ``--max_tasks`` newest) until newer ones
    push them out or it restarts, and sets no bound on failures: how many failed
    tasks breach is the user's to say, so the probe waits for a ``${VAR}``.
    """
    seen = await asker.get("flower", f"{flower}/api/tasks?state=FAILURE&limit={FAILED_SHOWN}")
    report.requests = asker.sent("flower")
    report.saw(seen.said(), seen.state)
    tasks = seen.json()
    if not seen.ok or not isinstance(tasks, dict):
        return
    limit = Var("${" + FAILED_LIMIT_VAR + "}")
    proposal.variables[FAILED_LIMIT_VAR] = (
        "how many failed tasks in Flower's list breach (Flower sets no bound; 1: any)"
    )
    options = {
        "path": _joined(base, "/api/tasks"),
        "query": {"state": "FAILURE", "limit": limit},
        "values": {"failed": {"json": ".", "length": True, "unit": "count"}},
    }
    name = unique("flower-failed", taken)
    origin = [
        f"From Flower: GET {at}/api/tasks?state=FAILURE&limit={FAILED_SHOWN} → "
        f"{len(tasks)} failed tasks listed."
    ]
    disabled = [
        "To enable it, fill in and uncomment: Flower keeps the failed tasks it saw and sets no",
        f"bound on them, so {FAILED_LIMIT_VAR} is yours: how many failed tasks in its list",
        "breach (1: any failed task breaches).",
    ]
    probe = Probe(
        name, "http", options, "Failed tasks in Flower's task list.", origin, disabled=disabled
    )
    probe.notes[("values", "failed")] = f"seen: {len(tasks)}"
    proposal.probes.append(probe)
    proposal.slos.append(
        Slo(
            unique("celery-failed-tasks", taken),
            name,
            "failed",
            Var(f"value < {limit}"),
            f"Fewer failed tasks in Flower than {FAILED_LIMIT_VAR}.",
            [f"{FAILED_LIMIT_VAR}: your bound; Flower's answer has none."],
        )
    )


def _joined(base: Any, path: str) -> Any:
    """``base + path``, still a ``${VAR}`` (written as is) when ``base`` is one."""
    return Var(base + path) if isinstance(base, Var) else base + path
