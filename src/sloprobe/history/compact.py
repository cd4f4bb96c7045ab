"""Keeping history small: old runs rolled up, what people need kept, the rest pruned.

Every step works on one service (and environment) inside a transaction that holds
that service's run lock, the one :meth:`HistoryStore.record` takes: a run is never
judged against a half-rolled history, and two prunes at once do the work once. Each
step picks its runs by what they still hold (``sloprobe_runs.detail``), so running it
again changes nothing: it is idempotent, and a crash rolls back to the state before.

Ages count back from the service's newest run (not the clock), so a history file
copied elsewhere or read later is compacted the same way:

- younger than ``full_detail_s`` (1 h): everything, as recorded (a run of 20 SLOs
  takes about 55 KB, most of it the judged summaries: a day of them would be 16 MB);
- then, up to ``run_by_run_s`` (24 h), **light**: each verdict loses its judged
  summary (the JSON behind ``sloprobe report``) and each measurement its data (a
  probe that ran is still known to have run, for ``every`` and ``max_per_day``);
  the verdict rows stay, so the report draws the last day run by run;
- older: **rolled up** into one row per SLO per UTC day (:mod:`.rollup`) holding
  every run's outcome and samples exactly; the run's rows are deleted.

Kept in full, whatever their age, until retention: every verdict that counted as
bad (a breach, or ``no_data`` that counts as bad) or that opened or resolved an
incident, the measurement of its probe and its run's row; and every run that
queued a notification not yet delivered (it is replayed to deliver it), until it
is delivered. A kept verdict's outcome is rolled up like any other, and the row is
flagged ``rolled_up`` so it is never counted twice.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)

from sloprobe.history import schema
from sloprobe.history.errors import aware
from sloprobe.history.rollup import INTERVAL, RolledDay, RolledRun, day_of

FULL_DETAIL_S = 3600.0  # the page alert's long window: 12 five-minute runs
RUN_BY_RUN_S = 86400.0  # flap control, probe schedules and the report's last 24 h read run by run
BATCH_RUNS = 288  # runs rolled up per transaction: a day of five-minute runs
TRIMMED = '{"trimmed": true}'  # the data of a measurement whose probe ran, once light


@dataclass(frozen=True)
class RollupPolicy:
    """How long runs keep their full detail, and how long they stay run by run."""

    full_detail_s: float = FULL_DETAIL_S
    run_by_run_s: float = RUN_BY_RUN_S


def services(
    conn: Connection, service: str | None = None, environment: str | None = None
) -> list[tuple[str, str]]:
    """Every (service, environment) with history, or only the one asked for."""
    found: set[tuple[str, str]] = set()
    for table in (schema.runs, schema.verdicts, schema.rollups):
        query = select(table.c.service, table.c.environment).distinct()
        if service is not None:
            query = query.where(table.c.service == service)
        if environment is not None:
            query = query.where(table.c.environment == environment)
        found.update((s, e) for s, e in conn.execute(query))
    return sorted(found)


def drop_before(conn: Connection, service: str, environment: str, before: datetime) -> int:
    """Retention: forget everything of this service older than ``before``; returns runs deleted."""
    r, v, u = schema.runs, schema.verdicts, schema.rollups
    conn.execute(
        delete(v).where(v.c.service == service, v.c.environment == environment, v.c.at < before)
    )
    removed = conn.execute(
        delete(r).where(
            r.c.service == service, r.c.environment == environment, r.c.started_at < before
        )
    ).rowcount
    mine = (u.c.service == service, u.c.environment == environment)
    conn.execute(delete(u).where(*mine, u.c.day <= before - INTERVAL))
    for row in conn.execute(
        select(u.c.id, u.c.day, u.c.outcomes, u.c.samples, u.c.points).where(
            *mine, u.c.day > before - INTERVAL, u.c.day < before
        )
    ).all():
        day = RolledDay.decode(aware(row.day), row.outcomes, row.samples, row.points)
        if day.runs and day.runs[0].at >= before:
            continue
        day.drop_before(before)
        if day.runs:
            conn.execute(update(u).where(u.c.id == row.id).values(**row_values(day)))
        else:
            conn.execute(delete(u).where(u.c.id == row.id))
    return int(removed or 0)


def roll_up(
    conn: Connection, service: str, environment: str, policy: RollupPolicy, batch: int = BATCH_RUNS
) -> int:
    """Roll up (at most ``batch`` of) the runs older than ``policy.run_by_run_s``; returns how many."""
    newest = _newest(conn, service, environment)
    if newest is None or not math.isfinite(policy.run_by_run_s):
        return 0
    r, v, m = schema.runs, schema.verdicts, schema.measurements
    cut = newest - timedelta(seconds=policy.run_by_run_s)
    not_rolled = or_(r.c.detail.is_(None), r.c.detail != "rolled")
    run_ids = _runs_before(conn, service, environment, cut, not_rolled, batch)
    if not run_ids:
        return 0
    rows = conn.execute(
        select(
            v.c.id,
            v.c.run_pk,
            v.c.slo,
            v.c.at,
            v.c.status,
            v.c.counts_as_bad,
            v.c.counted,
            v.c.good_events,
            v.c.total_events,
            v.c.observed_value,
            v.c.budget_remaining,
            v.c.transition,
            v.c.samples,
        )
        .where(v.c.run_pk.in_(run_ids), v.c.rolled_up.is_(False))
        .order_by(v.c.at, v.c.id)
    ).all()
    by_day: dict[tuple[str, datetime], list[Any]] = defaultdict(list)
    for row in rows:
        by_day[(row.slo, day_of(aware(row.at)))].append(row)
    _merge(conn, service, environment, by_day, _pooled(conn, service, environment))
    kept = [row.id for row in rows if _kept(row)]
    conn.execute(update(v).where(v.c.id.in_(kept)).values(rolled_up=True))
    conn.execute(delete(v).where(v.c.id.in_([row.id for row in rows if not _kept(row)])))
    probes = _kept_probes(conn, run_ids)
    for run_pk in run_ids:
        if run_pk in probes:
            conn.execute(update(r).where(r.c.id == run_pk).values(detail="rolled"))
            if probes[run_pk] is not None:
                conn.execute(
                    delete(m).where(m.c.run_pk == run_pk, m.c.probe.not_in(probes[run_pk] or ()))
                )
    conn.execute(delete(r).where(r.c.id.in_([pk for pk in run_ids if pk not in probes])))
    return len(run_ids)


def lighten(conn: Connection, service: str, environment: str, policy: RollupPolicy) -> int:
    """Drop the detail no one reads of runs older than ``policy.full_detail_s``; returns how many.

    Rows are deleted and written again without it rather than updated: new rows go to
    the end of a SQLite table, so the room a row shrunk in place leaves in an old page
    stays empty, while pages whose rows are all deleted are reused and the file stops
    growing (updated in place, a day of runs took 24 MB instead of 7).
    """
    newest = _newest(conn, service, environment)
    if newest is None or not math.isfinite(policy.full_detail_s):
        return 0
    r, v, m = schema.runs, schema.verdicts, schema.measurements
    cut = newest - timedelta(seconds=policy.full_detail_s)
    run_ids = _runs_before(conn, service, environment, cut, r.c.detail.is_(None), None)
    if not run_ids:
        return 0
    others = v.c.run_pk.in_(run_ids) & ~_kept_clause()
    _rewrite(conn, v, others, {"summary": null()})
    probes = _kept_probes(conn, run_ids)
    rows = conn.execute(
        select(m.c.id, m.c.run_pk, m.c.probe, m.c.data).where(m.c.run_pk.in_(run_ids))
    ).all()
    dropped = [row for row in rows if not _keeps(probes.get(row.run_pk, set()), row.probe)]
    ran = [row.id for row in dropped if not json.loads(row.data).get("skipped")]
    _rewrite(conn, m, m.c.id.in_(ran), {"data": literal(TRIMMED)})  # "it ran": all a schedule needs
    conn.execute(delete(m).where(m.c.id.in_([row.id for row in dropped if row.id not in ran])))
    conn.execute(update(r).where(r.c.id.in_(run_ids)).values(detail="light"))
    return len(run_ids)


def _rewrite(conn: Connection, table: Any, which: Any, changed: dict[str, Any]) -> None:
    """Write the rows ``which`` picks again with ``changed`` columns, as new rows, in the database."""
    last = conn.execute(select(func.max(table.c.id))).scalar()
    if last is None:
        return
    columns = [c for c in table.c if c.name != "id"]
    conn.execute(
        insert(table).from_select(
            [c.name for c in columns],
            select(*(changed.get(c.name, c) for c in columns)).where(which).order_by(table.c.id),
        )
    )
    conn.execute(delete(table).where(which, table.c.id <= last))


def _keeps(probes: set[str] | None, probe: str) -> bool:
    """Whether a run's measurement of ``probe`` stays whole (None: which ones is not known, all)."""
    return probes is None or probe in probes


def mark_pooled(
    conn: Connection, service: str, environment: str, reads: dict[str, datetime]
) -> None:
    """Remember the SLOs whose samples runs read back (``over``), before their runs roll up."""
    if not reads:
        return
    known = _pooled(conn, service, environment)
    new = {slo: since for slo, since in reads.items() if slo not in known}
    if new:
        conn.execute(
            insert(schema.pooled),
            [
                {"service": service, "environment": environment, "slo": slo, "since": since}
                for slo, since in new.items()
            ],
        )


def _pooled(conn: Connection, service: str, environment: str) -> set[str]:
    """The SLOs whose samples runs read back (``over``): only theirs are rolled up."""
    p = schema.pooled
    return set(
        conn.execute(
            select(p.c.slo).where(p.c.service == service, p.c.environment == environment)
        ).scalars()
    )


def _merge(
    conn: Connection,
    service: str,
    environment: str,
    by_day: dict[tuple[str, datetime], list[Any]],
    pooled: set[str],
) -> None:
    """Add verdict rows to their SLO's day rows, read and written in a few statements."""
    u = schema.rollups
    found = {
        (row.slo, aware(row.day)): row
        for row in conn.execute(
            select(u.c.id, u.c.slo, u.c.day, u.c.outcomes, u.c.samples, u.c.points).where(
                u.c.service == service,
                u.c.environment == environment,
                u.c.day.in_(sorted({day for _, day in by_day})),
                u.c.slo.in_(sorted({slo for slo, _ in by_day})),
            )
        )
    }
    changed, added = [], []
    for (slo, day), rows in sorted(by_day.items()):
        stored = found.get((slo, day))
        rolled = (
            RolledDay.decode(day, stored.outcomes, stored.samples, stored.points)
            if stored
            else RolledDay(day)
        )
        rolled.add_all(
            [
                (
                    RolledRun(
                        aware(row.at),
                        row.status,
                        bool(row.counts_as_bad),
                        bool(row.counted),
                        int(row.good_events),
                        int(row.total_events),
                        tuple(json.loads(row.samples or "[]")) if slo in pooled else (),
                    ),
                    row.observed_value,
                    row.budget_remaining,
                )
                for row in rows
            ]
        )
        if stored:
            changed.append({"row_id": stored.id, **row_values(rolled)})
        else:
            added.append(
                {"service": service, "environment": environment, "slo": slo, "day": day}
                | row_values(rolled)
            )
    if changed:
        conn.execute(update(u).where(u.c.id == bindparam("row_id")), changed)
    if added:
        conn.execute(insert(u), added)


def row_values(day: RolledDay) -> dict[str, Any]:
    runs, bad, good, total = day.sums()
    outcomes, samples, points = day.encode()
    return {
        "runs": runs,
        "bad_runs": bad,
        "good_events": good,
        "total_events": total,
        "outcomes": outcomes,
        "samples": samples,
        "points": points,
    }


def _newest(conn: Connection, service: str, environment: str) -> datetime | None:
    r = schema.runs
    found = conn.execute(
        select(func.max(r.c.started_at)).where(
            r.c.service == service, r.c.environment == environment
        )
    ).scalar()
    return aware(found) if found is not None else None


def _runs_before(
    conn: Connection,
    service: str,
    environment: str,
    cut: datetime,
    state: Any,
    limit: int | None,
) -> list[int]:
    """Runs older than ``cut`` in ``state``, oldest first; never one with a notice pending."""
    r, n = schema.runs, schema.notifications
    pending = exists().where(
        n.c.service == r.c.service,
        n.c.environment == r.c.environment,
        n.c.at == r.c.started_at,
        n.c.delivered_at.is_(None),
    )
    query = (
        select(r.c.id)
        .where(
            r.c.service == service,
            r.c.environment == environment,
            r.c.started_at < cut,
            state,
            ~pending,
        )
        .order_by(r.c.started_at, r.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [int(pk) for pk in conn.execute(query).scalars()]


def _kept_clause() -> Any:
    """SQL of :func:`_kept`; never NULL, so that its negation selects the others."""
    v = schema.verdicts
    return or_(
        v.c.counts_as_bad.is_(True),
        and_(v.c.transition.is_not(None), v.c.transition.in_(("opened", "resolved"))),
    )


def _kept(row: Any) -> bool:
    return bool(row.counts_as_bad) or row.transition in ("opened", "resolved")


def _kept_probes(conn: Connection, run_ids: Iterable[int]) -> dict[int, set[str] | None]:
    """Runs with a verdict kept in full → the probes behind those verdicts (None: not known, keep all)."""
    v = schema.verdicts
    probes: dict[int, set[str] | None] = {}
    for run_pk, summary in conn.execute(
        select(v.c.run_pk, v.c.summary).where(v.c.run_pk.in_(list(run_ids)), _kept_clause())
    ):
        probe = json.loads(summary).get("probe") if summary else None
        known = probes.setdefault(run_pk, set())
        if probe and known is not None:
            known.add(probe)
        else:
            probes[run_pk] = None
    return probes
