"""The history store: runs, verdicts, measurements and incidents, in any SQLAlchemy database.

One run is recorded in one transaction that first takes a per-service lock
(SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), so two runs that
overlap are serialised and a crashed run leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from sloprobe.codec import measurement_to_dict, verdict_to_dict
from sloprobe.extras import missing_driver
from sloprobe.history import schema
from sloprobe.model.history import OpenIncident, RunOutcome, Transition, WindowTotals
from sloprobe.model.measurement import Sample
from sloprobe.model.notice import Notice
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.timeline import Point
from sloprobe.model.verdict import Verdict
from sloprobe.redact import redact_url, redact_urls_in

SQLITE_BUSY_TIMEOUT_S = 30


@dataclasses.dataclass(frozen=True)
class PendingNotice:
    """A notice queued in history and not yet delivered."""

    row_id: int
    notice: Notice
    attempts: int


class HistoryError(Exception):
    """The history store cannot be used (unreachable, locked, corrupt, from a newer sloprobe)."""


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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


class HistoryStore:
    """Open with :meth:`open`; every method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> HistoryStore:
        try:
            engine = _engine(url)
            store = cls(engine)
            store._migrate()
        except HistoryError:
            raise
        except ImportError as exc:
            raise HistoryError(
                f"cannot open history at {redact_url(url)}: {missing_driver(exc)}"
            ) from None
        except (SQLAlchemyError, OSError) as exc:
            raise HistoryError(f"cannot open history at {redact_url(url)}: {_short(exc)}") from None
        return store

    def _migrate(self) -> None:
        with self._transaction("sloprobe-schema") as conn:
            schema.metadata.create_all(conn)
            found = conn.execute(
                select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
            ).scalar()
            if found is None:
                conn.execute(
                    insert(schema.meta).values(
                        key="schema_version", value=str(schema.SCHEMA_VERSION)
                    )
                )
            elif int(found) > schema.SCHEMA_VERSION:
                raise HistoryError(
                    f"the history store has schema version {found}; this sloprobe knows up to {schema.SCHEMA_VERSION} — upgrade sloprobe"
                )

    @contextmanager
    def _transaction(self, lock_name: str) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": zlib.crc32(lock_name.encode())},
                    )
                yield conn
        except HistoryError:
            raise
        except SQLAlchemyError as exc:
            raise HistoryError(f"history store: {_short(exc)}") from None

    @contextmanager
    def view(self, service: str, environment: str) -> Iterator[HistoryView]:
        """A read-only view outside any run (``over`` SLIs, reports)."""
        try:
            with self.engine.connect() as conn:
                yield HistoryView(conn, service, environment)
        except SQLAlchemyError as exc:
            raise HistoryError(f"history store: {_short(exc)}") from None

    def record_with_notices(
        self,
        result: RunResult,
        judge: Callable[[HistoryView], RunResult],
        outcomes: Callable[[Verdict], RunOutcome],
        notices: Callable[[RunResult, HistoryView], list[Notice]],
    ) -> RunResult:
        """As :meth:`record`, and queue the notices the run owes in the same transaction."""
        run = result.run
        with self._transaction(f"{run.service}/{run.environment}") as conn:
            view = HistoryView(conn, run.service, run.environment)
            judged = _write(conn, judge(view), outcomes)
            for notice in notices(judged, view):
                _queue(conn, run.service, run.environment, notice, run.started_at)
        return judged

    def pending_notices(self, service: str, environment: str) -> list[PendingNotice]:
        n = schema.notifications
        with self._transaction("sloprobe-read") as conn:
            rows = conn.execute(
                select(
                    n.c.id,
                    n.c.incident_id,
                    n.c.slo,
                    n.c.channel,
                    n.c.kind,
                    n.c.notice_key,
                    n.c.attempts,
                )
                .where(
                    n.c.service == service,
                    n.c.environment == environment,
                    n.c.delivered_at.is_(None),
                )
                .order_by(n.c.id)
            ).all()
        return [
            PendingNotice(
                r.id, Notice(r.incident_id, r.slo, r.channel, r.kind, r.notice_key), r.attempts
            )
            for r in rows
        ]

    def mark_notice(
        self, row_id: int, delivered_at: datetime | None, detail: str | None = None
    ) -> None:
        n = schema.notifications
        with self._transaction("sloprobe-notices") as conn:
            conn.execute(
                update(n)
                .where(n.c.id == row_id)
                .values(delivered_at=delivered_at, detail=detail, attempts=n.c.attempts + 1)
            )

    def record(
        self,
        result: RunResult,
        judge: Callable[[HistoryView], RunResult],
        outcomes: Callable[[Verdict], RunOutcome],
    ) -> RunResult:
        """Judge ``result`` against history and store it, atomically; returns the judged result."""
        run = result.run
        with self._transaction(f"{run.service}/{run.environment}") as conn:
            judged = _write(conn, judge(HistoryView(conn, run.service, run.environment)), outcomes)
        return judged

    def timeline(
        self,
        service: str,
        environment: str,
        since: datetime,
        detail_since: datetime | None = None,
        buckets: int = 288,
    ) -> dict[str, tuple[Point, ...]]:
        """Every SLO's history since ``since``, oldest first, for charts.

        Runs after ``detail_since`` come one by one; older ones are summed by the
        database into ``buckets`` time buckets (worst status, highest value, lowest
        budget), so 30 days of five-minute runs never cross into Python row by row.
        """
        v = schema.verdicts
        detail_since = detail_since or since
        points: dict[str, list[Point]] = {}
        with self._transaction("sloprobe-read") as conn:
            epoch = _epoch(conn, v.c.at)
            if epoch is not None and detail_since > since:
                size = max(1.0, (detail_since - since).total_seconds() / buckets)
                bucket = func.floor(epoch / size)
                severity = func.max(
                    case(*((v.c.status == s.value, s.severity) for s in Status), else_=0)
                )
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
                .where(v.c.service == service, v.c.environment == environment, v.c.at > start)
                .order_by(v.c.at, v.c.id)
            )
            for row in rows:
                points.setdefault(row.slo, []).append(
                    Point(aware(row.at), row.status, row.observed_value, row.budget_remaining)
                )
        return {slo: tuple(found) for slo, found in points.items()}

    def prune(self, before: datetime) -> int:
        with self._transaction("sloprobe-prune") as conn:
            removed = conn.execute(
                delete(schema.runs).where(schema.runs.c.started_at < before)
            ).rowcount
            conn.execute(delete(schema.verdicts).where(schema.verdicts.c.at < before))
            conn.execute(delete(schema.incidents).where(schema.incidents.c.resolved_at < before))
        return int(removed or 0)

    def dispose(self) -> None:
        self.engine.dispose()


def _write(
    conn: Connection, result: RunResult, outcome_of: Callable[[Verdict], RunOutcome]
) -> RunResult:
    run = result.run
    run_pk = _inserted(
        conn.execute(
            insert(schema.runs).values(
                run_id=run.run_id,
                service=run.service,
                environment=run.environment,
                started_at=run.started_at,
                finished_at=run.finished_at,
                trigger=run.trigger,
                release=run.release,
                sloprobe_version=run.sloprobe_version,
                status=result.status.value,
                base_url=run.base_url,
                slo_file=run.slo_file,
                warnings=json.dumps(list(result.warnings)),
            )
        )
    )
    for name, m in result.measurements.items():
        conn.execute(
            insert(schema.measurements).values(
                run_pk=run_pk,
                probe=name,
                kind=m.kind,
                failure=m.failure,
                data=json.dumps(measurement_to_dict(m), allow_nan=False),
            )
        )
    stored = []
    for verdict in result.verdicts:
        incident_id = _incident(conn, run.service, run.environment, verdict, run.started_at)
        if verdict.history is not None and incident_id is not None:
            incident = dataclasses.replace(verdict.history.incident, incident_id=incident_id)
            verdict = dataclasses.replace(
                verdict, history=dataclasses.replace(verdict.history, incident=incident)
            )
        stored.append(verdict)
        outcome = outcome_of(verdict)
        measurement = result.measurements.get(verdict.probe)
        series = measurement.series.get(verdict.measure) if measurement else None
        conn.execute(
            insert(schema.verdicts).values(
                run_pk=run_pk,
                service=run.service,
                environment=run.environment,
                slo=verdict.slo,
                at=run.started_at,
                status=verdict.status.value,
                counts_as_bad=verdict.counts_as_bad,
                counted=outcome.counted,
                good_events=outcome.good_events,
                total_events=outcome.total_events,
                observed=verdict.observed,
                observed_value=_number(verdict),
                budget_remaining=_finite(verdict.history.budget.remaining_fraction)
                if verdict.history
                and verdict.history.budget
                and verdict.history.budget.remaining_fraction is not None
                else None,
                threshold=verdict.threshold,
                reason=verdict.reason,
                transition=verdict.history.incident.transition.value
                if verdict.history and verdict.history.incident.transition
                else None,
                incident_id=incident_id,
                samples=json.dumps([_finite(s) for s in series.samples] if series else []),
                summary=json.dumps(verdict_to_dict(verdict), allow_nan=False),
            )
        )
    return dataclasses.replace(result, verdicts=tuple(stored))


def _queue(conn: Connection, service: str, environment: str, notice: Notice, at: datetime) -> None:
    n = schema.notifications
    exists = conn.execute(
        select(n.c.id).where(
            n.c.incident_id == notice.incident_id,
            n.c.channel == notice.channel,
            n.c.notice_key == notice.key,
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(n).values(
                incident_id=notice.incident_id,
                service=service,
                environment=environment,
                slo=notice.slo,
                channel=notice.channel,
                kind=notice.kind,
                notice_key=notice.key,
                at=at,
                attempts=0,
            )
        )


def _incident(
    conn: Connection, service: str, environment: str, verdict: Verdict, at: datetime
) -> int | None:
    if verdict.history is None:
        return None
    state = verdict.history.incident
    i = schema.incidents
    if state.transition is Transition.OPENED:
        values = {
            "service": service,
            "environment": environment,
            "slo": verdict.slo,
            "opened_at": at,
        }
        return _inserted(
            conn.execute(insert(i).values(**values, since=state.since, cause=state.cause or ""))
        )
    if state.transition is Transition.RESOLVED and state.incident_id is not None:
        conn.execute(update(i).where(i.c.id == state.incident_id).values(resolved_at=at))
    return state.incident_id


def _inserted(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _number(verdict: Verdict) -> float | None:
    for check in verdict.checks:
        if isinstance(check.observed, int | float) and not isinstance(check.observed, bool):
            return _finite(float(check.observed))  # type: ignore[return-value]
    return None


def _finite(value: Sample) -> Sample | None:
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        return None
    return value


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = url.split("///", 1)[1] if "///" in url else ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # writers queue up instead of deadlocking

        return engine
    return create_engine(url, pool_pre_ping=True)


def _epoch(conn: Connection, column: Any) -> Any:
    """Seconds since 1970 of a timestamp column, in this database's dialect (None: unknown dialect)."""
    if conn.dialect.name == "sqlite":
        return func.cast(func.strftime("%s", column), Integer)
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", column)
    return None


def _short(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return redact_urls_in(text_[0])[:300] if text_ else type(exc).__name__
