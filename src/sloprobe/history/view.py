"""What judging over time reads of history: one service's past runs, inside the run's transaction.

Runs come from two places (docs/history.md): verdict rows, for the last day and for
runs not rolled up yet, and the day roll-ups of older runs (:mod:`.rollup`), which
keep every run's outcome and samples. Each method reads both and gives what it
would give had every run been kept in full. A verdict row flagged ``rolled_up`` is
kept for people only: its run is in a roll-up already.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    case,
    func,
    select,
)

from sloprobe.history import schema
from sloprobe.history.errors import aware
from sloprobe.history.rollup import INTERVAL, decode_outcomes, decode_runs, decode_totals
from sloprobe.model.history import OpenIncident, RunOutcome, WindowTotals
from sloprobe.model.measurement import Sample

_v, _u, _r = schema.verdicts, schema.rollups, schema.runs
# Built once, bound per call: judging a run of 20 SLOs reads these a hundred times.
_MINE = (
    _v.c.service == bindparam("service"),
    _v.c.environment == bindparam("environment"),
    _v.c.slo == bindparam("slo"),
    _v.c.rolled_up.is_(False),
    _v.c.at > bindparam("since"),
)
_DAYS = (
    _u.c.service == bindparam("service"),
    _u.c.environment == bindparam("environment"),
    _u.c.slo == bindparam("slo"),
    _u.c.day > bindparam("day_after"),
)
_OUTCOMES = (
    select(_v.c.at, _v.c.counts_as_bad, _v.c.counted, _v.c.good_events, _v.c.total_events)
    .where(*_MINE)
    .order_by(_v.c.at, _v.c.id)
)
_ROLLED_OUTCOMES = select(_u.c.day, _u.c.outcomes).where(*_DAYS).order_by(_u.c.day)
_SAMPLES = select(_v.c.at, _v.c.samples).where(*_MINE).order_by(_v.c.at, _v.c.id)
_ROLLED_SAMPLES = select(_u.c.day, _u.c.outcomes, _u.c.samples).where(*_DAYS).order_by(_u.c.day)
_TOTALS = select(
    func.count(),
    func.sum(case((_v.c.counts_as_bad, 1), else_=0)),
    func.sum(_v.c.good_events),
    func.sum(_v.c.total_events),
    func.min(_v.c.at),
).where(*_MINE, _v.c.counted.is_(True), _v.c.at < bindparam("before"))
_ROLLED_SUMS = (
    select(_u.c.id, _u.c.day, _u.c.runs, _u.c.bad_runs, _u.c.good_events, _u.c.total_events)
    .where(*_DAYS, _u.c.day < bindparam("before"))
    .order_by(_u.c.day)
)
_ROLLED_BY_ID = select(_u.c.id, _u.c.day, _u.c.outcomes).where(
    _u.c.id.in_(bindparam("ids", expanding=True))
)


class HistoryView:
    """What one run may read of history, inside the recording transaction."""

    def __init__(self, conn: Connection, service: str, environment: str) -> None:
        self._conn = conn
        self._service = service
        self._environment = environment
        # SLOs whose samples were read, and how far back: their roll-ups must keep samples.
        self.pooled: dict[str, datetime] = {}

    def _bound(self, slo: str, since: datetime, **more: Any) -> dict[str, Any]:
        return {
            "service": self._service,
            "environment": self._environment,
            "slo": slo,
            "since": since,
            "day_after": since - INTERVAL,
            **more,
        }

    def outcomes(self, slo: str, since: datetime) -> list[RunOutcome]:
        """Every run of ``slo`` after ``since``, oldest first (runs of one instant: as recorded)."""
        bound = self._bound(slo, since)
        rolled = [
            outcome
            for day, packed in self._conn.execute(_ROLLED_OUTCOMES, bound)
            for outcome in decode_outcomes(aware(day), packed, since)
        ]
        detailed = [
            RunOutcome(aware(at), bool(bad), bool(counted), good, total)
            for at, bad, counted, good, total in self._conn.execute(_OUTCOMES, bound)
        ]
        if rolled and detailed and detailed[0].at < rolled[-1].at:  # a late run, not rolled yet
            return sorted([*rolled, *detailed], key=lambda o: o.at)  # stable: rolled up first
        return [*rolled, *detailed]

    def bad_locations(self, slo: str, since: datetime, before: datetime) -> set[str]:
        """Locations whose runs breached ``slo`` in (since, before]: for quorum across locations.

        Raw breaches, counted toward budgets or not; runs without a location are left out.
        Quorum windows are at most an hour, which history keeps run by run.
        """
        query = (
            select(_r.c.location)
            .distinct()
            .join(_v, _v.c.run_pk == _r.c.id)
            .where(
                _v.c.service == self._service,
                _v.c.environment == self._environment,
                _v.c.slo == slo,
                _v.c.counts_as_bad.is_(True),
                _v.c.at > since,
                _v.c.at <= before,
                _r.c.location.is_not(None),
            )
        )
        return {str(location) for (location,) in self._conn.execute(query)}

    def window_totals(self, slo: str, since: datetime, before: datetime) -> WindowTotals:
        """Counted runs in (since, before), summed by the database.

        Roll-up days wholly inside the window are added from their sums; the days
        its ends cut are unpacked and their runs counted one by one.
        """
        bound = self._bound(slo, since, before=before)
        runs, bad, good_events, total_events, first = self._conn.execute(_TOTALS, bound).one()
        totals = WindowTotals(
            int(runs or 0),
            int(bad or 0),
            int(good_events or 0),
            int(total_events or 0),
            aware(first) if first else None,
        )
        return _plus(totals, self._rolled_totals(bound, since, before))

    def _rolled_totals(
        self, bound: dict[str, Any], since: datetime, before: datetime
    ) -> WindowTotals:
        days = self._conn.execute(_ROLLED_SUMS, bound).all()
        inside = [d for d in days if aware(d.day) > since and aware(d.day) + INTERVAL <= before]
        inside_ids = {d.id for d in inside}
        totals = WindowTotals(
            sum(d.runs for d in inside),
            sum(d.bad_runs for d in inside),
            sum(d.good_events for d in inside),
            sum(d.total_events for d in inside),
        )
        # The first counted run is in the earliest day with one: unpacked, with the edges.
        first_inside = next((d.id for d in inside if d.runs), None)
        unpack = [d.id for d in days if d.id not in inside_ids]
        unpack += [first_inside] if first_inside is not None else []
        if not unpack:
            return totals
        for found in self._conn.execute(_ROLLED_BY_ID, {"ids": unpack}):
            day = aware(found.day)
            if found.id == first_inside:
                first = decode_totals(day, found.outcomes, since, before).first_at
                totals = _plus(totals, WindowTotals(first_at=first))
            else:
                totals = _plus(totals, decode_totals(day, found.outcomes, since, before))
        return totals

    def samples(self, slo: str, since: datetime) -> list[Sample]:
        """The samples of every run of ``slo`` after ``since``, oldest run first (``over``).

        Roll-ups keep samples only of the SLOs whose samples are read: the store
        remembers ``slo`` (:attr:`pooled`), and its next prune marks it before rolling up.
        """
        self.pooled[slo] = min(since, self.pooled.get(slo, since))
        bound = self._bound(slo, since)
        runs = [
            (run.at, run.samples)
            for day, outcomes, samples in self._conn.execute(_ROLLED_SAMPLES, bound)
            for run in decode_runs(aware(day), outcomes, samples)
        ]
        runs += [
            (aware(at), tuple(json.loads(raw or "[]")))
            for at, raw in self._conn.execute(_SAMPLES, bound)
        ]
        pooled: list[Sample] = []
        for at, samples in sorted(runs, key=lambda run: run[0]):
            if at > since:
                pooled.extend(s for s in samples if s is not None)
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


def breaches(
    conn: Connection,
    service: str,
    environment: str,
    slo: str,
    since: datetime,
    before: datetime,
    limit: int = 1000,
) -> list[tuple[str | None, datetime, str]]:
    """The bad runs of ``slo`` in (since, before], newest first: (location, at, observed).

    Raw breaches, counted toward budgets or not (a location short of its quorum saw it
    too): what a notice quotes of the runs that opened an incident (notify/where.py).
    A bad run's verdict is kept in full when its day is rolled up, so rolled-up rows
    are read too.
    """
    query = (
        select(_r.c.location, _v.c.at, _v.c.observed)
        .join(_r, _v.c.run_pk == _r.c.id)
        .where(
            _v.c.service == service,
            _v.c.environment == environment,
            _v.c.slo == slo,
            _v.c.counts_as_bad.is_(True),
            _v.c.at > since,
            _v.c.at <= before,
        )
        .order_by(_v.c.at.desc(), _v.c.id.desc())
        .limit(limit)
    )
    return [
        (None if location is None else str(location), aware(at), str(observed))
        for location, at, observed in conn.execute(query)
    ]


def incident_opened_at(conn: Connection, incident_id: int) -> datetime | None:
    """When an incident opened (a notice of its recovery names where it was seen then)."""
    i = schema.incidents
    found = conn.execute(select(i.c.opened_at).where(i.c.id == incident_id)).scalar()
    return aware(found) if found is not None else None


def _plus(a: WindowTotals, b: WindowTotals) -> WindowTotals:
    firsts = [at for at in (a.first_at, b.first_at) if at is not None]
    return WindowTotals(
        a.runs + b.runs,
        a.bad_runs + b.bad_runs,
        a.good_events + b.good_events,
        a.total_events + b.total_events,
        min(firsts) if firsts else None,
    )
