"""What the status page reads of history: the one module of the package that touches the store.

Everything goes through :class:`~sloprobe.history.HistoryStore`'s public methods:

- :meth:`~HistoryStore.timeline` — each SLO's past runs as points (worst status per
  bucket), for the day strip and the state of an SLO the latest run did not judge;
- :meth:`~HistoryStore.view` → ``window_totals`` — the counted runs of a window and the
  bad ones among them, summed by the database, exactly as error budgets count them
  (rolled-up days included), for uptime;
- :func:`~sloprobe.history.replay.latest_run_id` and :func:`~sloprobe.history.replay.load_run`
  — the latest run of a service, as ``sloprobe report`` replays it: its verdicts carry
  each SLO's description, and for internal pages what it observed, its reason, owner
  and runbook.

The store has no method that lists the services and environments it holds, nor its
incidents. Those two reads (:func:`environments`, :func:`incidents`) go through the
public :meth:`~HistoryStore.snapshot` to the runs and incidents tables, reading only
columns schema version 1 had already; they are the two to swap for store methods
should the store grow them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select

from sloprobe.history import HistoryStore, schema
from sloprobe.history.replay import latest_run_id, load_run
from sloprobe.model.history import WindowTotals
from sloprobe.model.result import RunResult
from sloprobe.model.timeline import Point

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class StoredEnvironment:
    service: str
    environment: str
    last_run_at: datetime


@dataclass(frozen=True)
class StoredIncident:
    id: int
    service: str
    environment: str
    slo: str
    opened_at: datetime
    resolved_at: datetime | None
    cause: str


def environments(store: HistoryStore) -> list[StoredEnvironment]:
    """Every (service, environment) with a stored run, and when its newest run started."""
    r = schema.runs
    query = select(r.c.service, r.c.environment, func.max(r.c.started_at)).group_by(
        r.c.service, r.c.environment
    )
    with store.snapshot() as conn:
        rows = conn.execute(query).all()
    return [StoredEnvironment(s, e, _utc(at)) for s, e, at in rows]


def incidents(store: HistoryStore, resolved_since: datetime) -> list[StoredIncident]:
    """Open incidents, and those resolved after ``resolved_since``; newest first."""
    i = schema.incidents
    query = (
        select(
            i.c.id,
            i.c.service,
            i.c.environment,
            i.c.slo,
            i.c.opened_at,
            i.c.resolved_at,
            i.c.cause,
        )
        .where(or_(i.c.resolved_at.is_(None), i.c.resolved_at > resolved_since))
        .order_by(i.c.opened_at.desc(), i.c.id.desc())
    )
    with store.snapshot() as conn:
        rows = conn.execute(query).all()
    return [
        StoredIncident(
            row.id,
            row.service,
            row.environment,
            row.slo,
            _utc(row.opened_at),
            _utc(row.resolved_at) if row.resolved_at is not None else None,
            row.cause or "",
        )
        for row in rows
    ]


@dataclass(frozen=True)
class StoredVerdict:
    """One location's latest verdict of an SLO: its status, and how the run counted it.

    ``counted`` and ``counts_as_bad`` are what quorum across locations left of it: a breach
    seen from fewer locations than the quorum is bad but not counted
    (:func:`sloprobe.judge.over_time.quorum_short`), a good run while enough other
    locations saw a breach is neither bad nor counted.
    """

    status: str
    at: datetime
    counted: bool
    counts_as_bad: bool


def latest_by_location(
    store: HistoryStore, service: str, environment: str, since: datetime
) -> dict[str, dict[str | None, StoredVerdict]]:
    """Each SLO's latest verdict per location since ``since``: slo → location → verdict.

    Runs without a location (older sloprobe, a laptop) are under ``None``: they take part
    in the fleet's verdict, never in the per-location table.
    """
    r, v = schema.runs, schema.verdicts
    query = (
        select(v.c.slo, r.c.location, v.c.status, v.c.at, v.c.counted, v.c.counts_as_bad)
        .join(r, r.c.id == v.c.run_pk)
        .where(
            v.c.service == service,
            v.c.environment == environment,
            v.c.at >= since,
        )
        .order_by(v.c.at, v.c.id)
    )
    found: dict[str, dict[str | None, StoredVerdict]] = {}
    with store.snapshot() as conn:
        for slo, location, status, at, counted, bad in conn.execute(query):
            found.setdefault(slo, {})[location] = StoredVerdict(
                status, _utc(at), bool(counted), bool(bad)
            )
    return found


def latest_run(store: HistoryStore, service: str, environment: str) -> RunResult | None:
    run_id = latest_run_id(store, service, environment)
    return load_run(store, run_id) if run_id is not None else None


def timeline(
    store: HistoryStore, service: str, environment: str, since: datetime, days: int
) -> dict[str, tuple[Point, ...]]:
    """Every SLO's points since ``since`` (a UTC midnight): a point per UTC day before today
    (the database buckets whole days), every run of today."""
    today = since + (days - 1) * _DAY
    return store.timeline(service, environment, since, detail_since=today, buckets=days - 1)


def window_totals(
    store: HistoryStore,
    service: str,
    environment: str,
    slos: list[str],
    windows: list[tuple[datetime, datetime]],
) -> dict[str, list[WindowTotals]]:
    """Each SLO's counted runs in each (since, before) window, in one read of history."""
    with store.view(service, environment) as view:
        return {
            slo: [view.window_totals(slo, since, before) for since, before in windows]
            for slo in slos
        }


def _utc(at: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; history stores UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
