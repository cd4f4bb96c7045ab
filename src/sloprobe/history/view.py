"""What judging over time reads of history: one service's past runs, inside the run's transaction."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import (
    Connection,
    case,
    func,
    select,
)

from sloprobe.history import schema
from sloprobe.history.errors import aware
from sloprobe.model.history import OpenIncident, RunOutcome, WindowTotals
from sloprobe.model.measurement import Sample


class HistoryView:
    """What one run may read of history, inside the recording transaction."""

    def __init__(self, conn: Connection, service: str, environment: str) -> None:
        self._conn = conn
        self._service = service
        self._environment = environment

    def outcomes(self, slo: str, since: datetime) -> list[RunOutcome]:
        v = schema.verdicts
        rows = self._conn.execute(
            select(v.c.at, v.c.counts_as_bad, v.c.counted, v.c.good_events, v.c.total_events)
            .where(
                v.c.service == self._service,
                v.c.environment == self._environment,
                v.c.slo == slo,
                v.c.at > since,
            )
            .order_by(v.c.at, v.c.id)
        ).all()
        return [
            RunOutcome(
                aware(r.at), bool(r.counts_as_bad), bool(r.counted), r.good_events, r.total_events
            )
            for r in rows
        ]

    def window_totals(self, slo: str, since: datetime, before: datetime) -> WindowTotals:
        """Counted runs in (since, before), summed by the database."""
        v = schema.verdicts
        row = self._conn.execute(
            select(
                func.count(),
                func.sum(case((v.c.counts_as_bad, 1), else_=0)),
                func.sum(v.c.good_events),
                func.sum(v.c.total_events),
                func.min(v.c.at),
            ).where(
                v.c.service == self._service,
                v.c.environment == self._environment,
                v.c.slo == slo,
                v.c.counted.is_(True),
                v.c.at > since,
                v.c.at < before,
            )
        ).one()
        runs, bad, good_events, total_events, first = row
        return WindowTotals(
            int(runs or 0),
            int(bad or 0),
            int(good_events or 0),
            int(total_events or 0),
            aware(first) if first else None,
        )

    def samples(self, slo: str, since: datetime) -> list[Sample]:
        v = schema.verdicts
        rows = self._conn.execute(
            select(v.c.samples)
            .where(
                v.c.service == self._service,
                v.c.environment == self._environment,
                v.c.slo == slo,
                v.c.at > since,
            )
            .order_by(v.c.at, v.c.id)
        ).all()
        pooled: list[Sample] = []
        for (raw,) in rows:
            pooled.extend(s for s in json.loads(raw or "[]") if s is not None)
        return pooled

    def probe_runs(self, probe: str, since: datetime) -> list[datetime]:
        """When ``probe`` actually ran (not skipped) since ``since``: for ``every`` and ``max_per_day``."""
        r, m = schema.runs, schema.measurements
        rows = self._conn.execute(
            select(r.c.started_at, m.c.data)
            .join(m, m.c.run_pk == r.c.id)
            .where(
                r.c.service == self._service,
                r.c.environment == self._environment,
                m.c.probe == probe,
                r.c.started_at > since,
            )
            .order_by(r.c.started_at)
        ).all()
        return [aware(row.started_at) for row in rows if not json.loads(row.data).get("skipped")]

    def last_sent(self, incident_id: int, channel: str) -> datetime | None:
        n = schema.notifications
        found = self._conn.execute(
            select(func.max(n.c.delivered_at)).where(
                n.c.incident_id == incident_id, n.c.channel == channel
            )
        ).scalar()
        return aware(found) if found else None

    def open_incident(self, slo: str) -> OpenIncident | None:
        i = schema.incidents
        row = self._conn.execute(
            select(i.c.id, i.c.opened_at, i.c.cause)
            .where(
                i.c.service == self._service,
                i.c.environment == self._environment,
                i.c.slo == slo,
                i.c.resolved_at.is_(None),
            )
            .order_by(i.c.id.desc())
        ).first()
        return OpenIncident(row.id, aware(row.opened_at), row.cause) if row else None
