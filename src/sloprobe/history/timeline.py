"""The history of every SLO as points in time, for the report's charts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, case, func, select

from sloprobe.history import schema
from sloprobe.history.errors import aware
from sloprobe.history.rollup import INTERVAL, decode_points
from sloprobe.model.status import Status
from sloprobe.model.timeline import Point


def read_timeline(
    conn: Connection,
    service: str,
    environment: str,
    since: datetime,
    detail_since: datetime | None = None,
    buckets: int = 288,
) -> dict[str, tuple[Point, ...]]:
    """Every SLO's history since ``since``, oldest first (:meth:`HistoryStore.timeline`).

    Runs after ``detail_since`` come one by one; older ones are summed by the
    database into ``buckets`` time buckets (worst status, highest value, lowest
    budget), so 30 days of five-minute runs never cross into Python row by row.
    Rolled-up days (older than a day) give a point per hour, summed the same way.
    """
    v = schema.verdicts
    detail_since = detail_since or since
    points = rolled_points(conn, service, environment, since)
    epoch = _epoch(conn, v.c.at)
    if epoch is not None and detail_since > since:
        size = max(1.0, (detail_since - since).total_seconds() / buckets)
        bucket = func.floor(epoch / size)
        severity = func.max(case(*((v.c.status == s.value, s.severity) for s in Status), else_=0))
        rows = conn.execute(
            select(
                v.c.slo,
                func.max(v.c.at),
                severity,
                func.max(v.c.observed_value),
                func.min(v.c.budget_remaining),
            )
            .where(
                v.c.service == service,
                v.c.environment == environment,
                v.c.rolled_up.is_(False),
                v.c.at > since,
                v.c.at <= detail_since,
            )
            .group_by(v.c.slo, bucket)
            .order_by(func.max(v.c.at))
        )
        statuses = {s.severity: s.value for s in Status}
        for slo, at, worst, value, budget in rows:
            points.setdefault(slo, []).append(
                Point(aware(at), statuses.get(int(worst or 0), "ok"), value, budget)
            )
        start = detail_since
    else:
        start = since
    rows = conn.execute(
        select(v.c.slo, v.c.at, v.c.status, v.c.observed_value, v.c.budget_remaining)
        .where(
            v.c.service == service,
            v.c.environment == environment,
            v.c.rolled_up.is_(False),
            v.c.at > start,
        )
        .order_by(v.c.at, v.c.id)
    )
    for row in rows:
        points.setdefault(row.slo, []).append(
            Point(aware(row.at), row.status, row.observed_value, row.budget_remaining)
        )
    return {slo: tuple(sorted(found, key=lambda p: p.at)) for slo, found in points.items()}


def rolled_points(
    conn: Connection, service: str, environment: str, since: datetime
) -> dict[str, list[Point]]:
    """Chart points of the rolled-up days after ``since``: one an hour, oldest first."""
    u = schema.rollups
    points: dict[str, list[Point]] = {}
    for slo, day, packed in conn.execute(
        select(u.c.slo, u.c.day, u.c.points)
        .where(u.c.service == service, u.c.environment == environment, u.c.day > since - INTERVAL)
        .order_by(u.c.day)
    ):
        for _, hour in decode_points(aware(day), packed):
            if hour.at > since:
                points.setdefault(slo, []).append(
                    Point(hour.at, hour.status, hour.value, hour.budget)
                )
    return points


def _epoch(conn: Connection, column: Any) -> Any:
    """Seconds since 1970 of a timestamp column, in this database's dialect (None: unknown dialect)."""
    if conn.dialect.name == "sqlite":
        return func.cast(func.strftime("%s", column), Integer)
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", column)
    return None
