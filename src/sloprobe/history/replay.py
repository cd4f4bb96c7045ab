"""Rebuild stored runs as RunResults (``sloprobe report``), and move history as JSON lines.

Export writes incidents first, then one line per run with its verdicts and
measurements, the SLOs whose samples are read back, then one line per roll-up
day of an SLO (its runs' outcomes, samples and chart points, as JSON). Import
maps ids anew and skips runs it already holds, in full or rolled up, so
importing the same file twice changes nothing. A run rolled up
(docs/history.md) is replayed with what it kept: the verdicts that breached or
moved an incident.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from sloprobe.codec import history_from_dict, measurement_from_dict, verdict_from_dict
from sloprobe.history import schema
from sloprobe.history.compact import TRIMMED, row_values
from sloprobe.history.rollup import RolledDay, day_of, packed, unpacked
from sloprobe.history.store import HistoryStore, aware
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Status
from sloprobe.model.verdict import Verdict

FORMAT = "sloprobe.history/1"


def latest_run_id(
    store: HistoryStore, service: str | None = None, environment: str | None = None
) -> str | None:
    r = schema.runs
    query = select(r.c.run_id).order_by(r.c.started_at.desc(), r.c.id.desc()).limit(1)
    if service:
        query = query.where(r.c.service == service)
    if environment:
        query = query.where(r.c.environment == environment)
    with store.snapshot() as conn:
        return conn.execute(query).scalar()


def queued_by(
    store: HistoryStore, service: str, environment: str, skip_run_id: str
) -> dict[int, RunResult]:
    """The run that queued each pending notice (notification row id → that run, replayed),
    for notices queued by an earlier run than ``skip_run_id``: a notice redelivered later
    speaks of its own incident's run, never of the run that happens to deliver it."""
    n, r = schema.notifications, schema.runs
    query = (
        select(n.c.id, r.c.run_id)
        .join(
            r,
            (r.c.started_at == n.c.at)
            & (r.c.service == n.c.service)
            & (r.c.environment == n.c.environment),
        )
        .where(
            n.c.service == service,
            n.c.environment == environment,
            n.c.delivered_at.is_(None),
            r.c.run_id != skip_run_id,
        )
    )
    with store.snapshot() as conn:
        rows = conn.execute(query).all()
    runs: dict[str, RunResult | None] = {}
    found: dict[int, RunResult] = {}
    for row_id, run_id in rows:
        if run_id not in runs:
            runs[run_id] = load_run(store, run_id)
        run = runs[run_id]
        if run is not None:
            found[int(row_id)] = run
    return found


def load_run(store: HistoryStore, run_id: str) -> RunResult | None:
    with store.snapshot() as conn:
        row = conn.execute(select(schema.runs).where(schema.runs.c.run_id == run_id)).first()
        if row is None:
            return None
        verdict_rows = conn.execute(
            select(schema.verdicts)
            .where(schema.verdicts.c.run_pk == row.id)
            .order_by(schema.verdicts.c.id)
        ).all()
        measurement_rows = conn.execute(
            select(schema.measurements).where(schema.measurements.c.run_pk == row.id)
        ).all()
    info = RunInfo(
        run_id=row.run_id,
        service=row.service,
        environment=row.environment,
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
        sloprobe_version=row.sloprobe_version,
        slo_file=row.slo_file or "",
        base_url=row.base_url,
        trigger=row.trigger,
        release=row.release,
        location=row.location,
    )
    measurements = {
        m.probe: measurement_from_dict(json.loads(m.data), m.probe)
        for m in measurement_rows
        if m.data != TRIMMED  # only "it ran" is left of it
    }
    verdicts = tuple(_verdict(v) for v in verdict_rows)
    return RunResult(info, verdicts, measurements, tuple(json.loads(row.warnings or "[]")))


def _verdict(row: Any) -> Verdict:
    """The verdict as it was judged: the codec's dict, kept whole in ``summary``."""
    stored = json.loads(row.summary) if row.summary else None
    if stored is not None and "slo" in stored:
        return verdict_from_dict(stored)
    return _legacy_verdict(row, stored)


def _legacy_verdict(row: Any, summary: dict[str, Any] | None) -> Verdict:
    """Rows written before the codec kept only the history part; the rest comes from columns."""
    status = Status(row.status)
    return Verdict(
        slo=row.slo,
        probe="",
        measure="",
        status=status,
        observed=row.observed,
        threshold=row.threshold,
        reason=row.reason,
        counts_as_bad=bool(row.counts_as_bad),
        samples=len(json.loads(row.samples or "[]")),
        history=history_from_dict(summary) if summary else None,
    )


def export_lines(store: HistoryStore) -> Iterator[str]:
    """JSON lines: a header, every incident, every run with its verdicts and measurements, every roll-up."""
    yield json.dumps({"format": FORMAT})
    with store.snapshot() as conn:
        for row in conn.execute(select(schema.incidents).order_by(schema.incidents.c.id)):
            yield json.dumps({"incident": _plain(row._mapping)})
        for run in conn.execute(
            select(schema.runs).order_by(schema.runs.c.started_at, schema.runs.c.id)
        ):
            verdicts = conn.execute(
                select(schema.verdicts).where(schema.verdicts.c.run_pk == run.id)
            ).all()
            measurements = conn.execute(
                select(schema.measurements).where(schema.measurements.c.run_pk == run.id)
            ).all()
            yield json.dumps(
                {
                    "run": _plain(run._mapping),
                    "verdicts": [_plain(v._mapping) for v in verdicts],
                    "measurements": [_plain(m._mapping) for m in measurements],
                }
            )
        for row in conn.execute(select(schema.pooled)):
            yield json.dumps({"pooled": _plain(row._mapping)})
        u = schema.rollups
        for row in conn.execute(select(u).order_by(u.c.service, u.c.environment, u.c.day, u.c.slo)):
            yield json.dumps(
                {
                    "rollup": {
                        "service": row.service,
                        "environment": row.environment,
                        "slo": row.slo,
                        "day": aware(row.day).isoformat(),
                        "outcomes": unpacked(row.outcomes),
                        "samples": unpacked(row.samples),
                        "points": unpacked(row.points),
                    }
                }
            )


def import_lines(store: HistoryStore, lines: Iterable[str]) -> tuple[int, int]:
    """Add the runs of an export; returns (runs added, runs already present)."""
    added = skipped = 0
    incident_ids: dict[int, int] = {}
    rolled: dict[tuple[str, str, str, datetime], set[datetime]] = {}
    with store.engine.begin() as conn:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            item = json.loads(line)
            if number == 1:
                if item.get("format") != FORMAT:
                    raise ValueError(f"not a sloprobe history export (expected format {FORMAT})")
                continue
            if "incident" in item:
                incident_ids[item["incident"]["id"]] = _import_incident(conn, item["incident"])
            elif "run" in item:
                if _import_run(conn, item, incident_ids, rolled):
                    added += 1
                else:
                    skipped += 1
            elif "rollup" in item:
                _import_rollup(conn, item["rollup"])
            elif "pooled" in item:
                _import_pooled(conn, _typed(schema.pooled, item["pooled"]))
    return added, skipped


def _import_incident(conn: Connection, data: dict[str, Any]) -> int:
    values = _typed(schema.incidents, data)
    existing = conn.execute(
        select(schema.incidents.c.id).where(
            schema.incidents.c.service == values["service"],
            schema.incidents.c.environment == values["environment"],
            schema.incidents.c.slo == values["slo"],
            schema.incidents.c.opened_at == values["opened_at"],
        )
    ).scalar()
    if existing is not None:
        return int(existing)
    key = conn.execute(insert(schema.incidents).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _import_run(
    conn: Connection,
    item: dict[str, Any],
    incident_ids: dict[int, int],
    rolled: dict[tuple[str, str, str, datetime], set[datetime]],
) -> bool:
    run = _typed(schema.runs, item["run"])
    if conn.execute(select(schema.runs.c.id).where(schema.runs.c.run_id == run["run_id"])).first():
        return False
    if _rolled_up_here(conn, run, [_typed(schema.verdicts, v) for v in item["verdicts"]], rolled):
        return False
    key = conn.execute(insert(schema.runs).values(**run)).inserted_primary_key
    assert key is not None
    run_pk = int(key[0])
    for verdict in item["verdicts"]:
        values = _typed(schema.verdicts, verdict)
        if values.get("incident_id") is not None:
            values["incident_id"] = incident_ids.get(values["incident_id"])
        conn.execute(insert(schema.verdicts).values(**values, run_pk=run_pk))
    for measurement in item["measurements"]:
        conn.execute(
            insert(schema.measurements).values(
                **_typed(schema.measurements, measurement), run_pk=run_pk
            )
        )
    return True


def _plain(mapping: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(mapping).items()}


def _typed(table: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Drop ids, parse timestamps back, keep only known columns."""
    values: dict[str, Any] = {}
    for column in table.c:
        if column.name in ("id", "run_pk") or column.name not in data:
            continue
        value = data[column.name]
        if value is not None and column.type.python_type is datetime:
            value = datetime.fromisoformat(value)
        values[column.name] = value
    return values


def _rolled_up_here(
    conn: Connection,
    run: dict[str, Any],
    verdicts: list[dict[str, Any]],
    rolled: dict[tuple[str, str, str, datetime], set[datetime]],
) -> bool:
    """Whether this store holds the run already, rolled up (its verdict rows are gone)."""
    for verdict in verdicts:
        at = aware(verdict["at"])
        key = (run["service"], run["environment"], verdict["slo"], day_of(at))
        if key not in rolled:
            rolled[key] = _rolled_times(conn, *key)
        if at in rolled[key]:
            return True
    return False


def _import_pooled(conn: Connection, values: dict[str, Any]) -> None:
    p = schema.pooled
    known = conn.execute(
        select(p.c.slo).where(
            p.c.service == values["service"],
            p.c.environment == values["environment"],
            p.c.slo == values["slo"],
        )
    ).first()
    if known is None:
        conn.execute(insert(p).values(**values))


def _import_rollup(conn: Connection, data: dict[str, Any]) -> None:
    day = datetime.fromisoformat(data["day"])
    incoming = RolledDay.decode(
        day, packed(data["outcomes"]), packed(data["samples"]), packed(data["points"])
    )
    _merge_day(conn, data["service"], data["environment"], data["slo"], incoming)


def _rolled_times(
    conn: Connection, service: str, environment: str, slo: str, day: datetime
) -> set[datetime]:
    """When the runs of one roll-up row started (an import must not add them twice)."""
    u = schema.rollups
    row = conn.execute(
        select(u.c.outcomes).where(
            u.c.service == service, u.c.environment == environment, u.c.slo == slo, u.c.day == day
        )
    ).first()
    return (
        {run.at for run in RolledDay.decode(day, row.outcomes, None, None).runs} if row else set()
    )


def _merge_day(
    conn: Connection, service: str, environment: str, slo: str, incoming: RolledDay
) -> None:
    """Add the runs of ``incoming`` not already in this SLO's row for the day."""
    u = schema.rollups
    mine = (
        u.c.service == service,
        u.c.environment == environment,
        u.c.slo == slo,
        u.c.day == incoming.day,
    )
    row = conn.execute(select(u.c.id, u.c.outcomes, u.c.samples, u.c.points).where(*mine)).first()
    day = (
        RolledDay.decode(incoming.day, row.outcomes, row.samples, row.points)
        if row
        else RolledDay(incoming.day)
    )
    known = {run.at for run in day.runs}
    day.add_all([(run, None, None) for run in incoming.runs if run.at not in known])
    for hour, point in incoming.hours.items():
        found = day.hours.get(hour)
        day.hours[hour] = (
            point
            if found is None
            else found.merged(point.at, point.status, point.value, point.budget)
        )
    _store(conn, service, environment, slo, day, row.id if row else None)


def _store(
    conn: Connection,
    service: str,
    environment: str,
    slo: str,
    day: RolledDay,
    row_id: int | None,
) -> None:
    u = schema.rollups
    if row_id is not None:
        conn.execute(update(u).where(u.c.id == row_id).values(**row_values(day)))
    else:
        conn.execute(
            insert(u).values(
                service=service, environment=environment, slo=slo, day=day.day, **row_values(day)
            )
        )
