"""The history store: runs, verdicts, measurements and incidents, in any SQLAlchemy database.

One run is recorded in one transaction that first takes a per-service lock
(SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), so two runs that
overlap are serialised and a crashed run leaves nothing half-written.

Every wait is bounded (docs/reliability.md): a lock held by another run for
longer than ``SQLITE_BUSY_TIMEOUT_S`` / ``PG_LOCK_TIMEOUT_S``, a PostgreSQL
server that does not answer within ``PG_CONNECT_TIMEOUT_S``, or a statement
running longer than ``PG_STATEMENT_TIMEOUT_S`` ends in a :class:`HistoryError`
that says what waited and how long. A SQLite file that is empty or corrupt is
never re-initialised in place: it is moved aside as
``<name>.corrupt-<UTC timestamp>`` (with its ``-wal`` and ``-shm``) and a fresh
history is started, which :attr:`HistoryStore.notes` reports.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
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
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

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

# The bounds of every history wait; each has its row and test in docs/reliability.md.
SQLITE_BUSY_TIMEOUT_S = 30  # SQLite: a lock held by another run (busy timeout)
PG_CONNECT_TIMEOUT_S = 10  # PostgreSQL: connecting, per address (psycopg connect_timeout)
PG_LOCK_TIMEOUT_S = 30  # PostgreSQL: the history's advisory lock, or a table lock (lock_timeout)
PG_STATEMENT_TIMEOUT_S = 60  # PostgreSQL: any one statement (statement_timeout)

# SQLite result codes (the primary code is the low byte of the extended one).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_NOTADB = 5, 6, 11, 26
# PostgreSQL SQLSTATEs: lock_not_available (lock_timeout), query_canceled (statement_timeout).
_PG_LOCK_NOT_AVAILABLE, _PG_QUERY_CANCELED = "55P03", "57014"


@dataclasses.dataclass(frozen=True)
class PendingNotice:
    """A notice queued in history and not yet delivered."""

    row_id: int
    notice: Notice
    attempts: int


class HistoryError(Exception):
    """The history store cannot be used (unreachable, locked, corrupt, from a newer sloprobe).

    ``reason`` is the message without its prefix; ``corrupt`` is true when SQLite
    says the file is not a database or is malformed (the file can be moved aside).
    """

    def __init__(self, message: str, *, reason: str | None = None, corrupt: bool = False) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.corrupt = corrupt


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of a history lock: ``service/environment`` for a run."""
    return zlib.crc32(name.encode())


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
        # What opening did that the run must say: a corrupt or empty file moved aside.
        self.notes: list[str] = []
        self._url = engine.url.render_as_string(hide_password=False)
        self._file: Path | None = None  # the SQLite file, when history is one
        self._inode: int | None = None  # ... and the file this store opened

    @classmethod
    def open(cls, url: str, *, move_aside_corrupt: bool = False) -> HistoryStore:
        """Open the history at ``url``, creating its tables if need be.

        With ``move_aside_corrupt`` (a run), an empty or corrupt SQLite file is moved
        aside for a fresh history, which :attr:`notes` says; without it (the history
        commands), such a file is an error and stays as it is.
        """
        try:
            file = _sqlite_file(url)
            if file is not None and move_aside_corrupt:
                return cls._open_file(url, file)
            return cls._opened(url, file)
        except HistoryError as exc:
            raise HistoryError(
                f"cannot open history at {redact_url(url)}: {exc.reason}",
                reason=exc.reason,
                corrupt=exc.corrupt,
            ) from None
        except ImportError as exc:
            raise HistoryError(
                f"cannot open history at {redact_url(url)}: {missing_driver(exc)}"
            ) from None
        except (SQLAlchemyError, OSError) as exc:
            raise HistoryError(f"cannot open history at {redact_url(url)}: {_short(exc)}") from None

    @classmethod
    def _opened(cls, url: str, file: Path | None = None) -> HistoryStore:
        """An engine on ``url`` with the schema in place; nothing is left open on failure."""
        store = cls(_engine(url))
        try:
            store._migrate()
        except BaseException:
            store.dispose()
            raise
        store._file, store._inode = file, _inode(file) if file is not None else None
        return store

    @classmethod
    def _open_file(
        cls, url: str, file: Path, corrupt: tuple[int, str] | None = None
    ) -> HistoryStore:
        """Open a SQLite history; an empty or corrupt file is moved aside for a fresh one.

        ``corrupt`` is (inode, why) of a file a running store found corrupt. Which
        file is at the path, and creating a fresh one, is decided under a lock of its
        directory, so a run never mistakes the file another run is creating for an
        empty one, and two runs never both move the same file aside.
        """
        file.parent.mkdir(parents=True, exist_ok=True)
        notes: list[str] = []
        for _ in range(3):
            with _directory_lock(file.parent):
                inode = _inode(file)
                if inode is not None and corrupt is not None and inode == corrupt[0]:
                    notes.append(_move_aside(file, f"is corrupt ({corrupt[1]})"))
                    inode = None
                elif inode is not None and _empty(file):
                    notes.append(_move_aside(file, "is empty (0 bytes)"))
                    inode = None
                elif inode is not None and not _sqlite_header(file):
                    # Before SQLite opens it: closing would delete its -wal and -shm.
                    notes.append(_move_aside(file, "is corrupt (file is not a database)"))
                    inode = None
                if inode is None:  # a new file: created, and its schema committed, under the lock
                    store = cls._opened(url, file)
                    store.notes = notes
                    return store
            try:
                store = cls._opened(url, file)
            except HistoryError as exc:
                if not exc.corrupt:
                    raise
                corrupt = (inode, exc.reason)
                continue
            store.notes = notes
            return store
        raise HistoryError(f"history file {file} keeps turning out corrupt")

    def recover(self, error: HistoryError) -> HistoryStore:
        """After ``error`` said this SQLite file is corrupt: move it aside and open a fresh one.

        Returns the fresh store (its :attr:`notes` say where the old file went);
        raises :class:`HistoryError` if this history is not a SQLite file.
        """
        self.dispose()
        if self._file is None or self._inode is None or not error.corrupt:
            raise error
        return HistoryStore._open_file(self._url, self._file, (self._inode, error.reason))

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
        locked = False
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    _bound(conn)
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(lock_name)}
                    )
                locked = True
                yield conn
        except HistoryError:
            raise
        except SQLAlchemyError as exc:
            raise self._error(exc, None if locked else lock_name) from None

    @contextmanager
    def view(self, service: str, environment: str) -> Iterator[HistoryView]:
        """A read-only view outside any run (``over`` SLIs, reports)."""
        try:
            with self.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    _bound(conn)
                yield HistoryView(conn, service, environment)
        except SQLAlchemyError as exc:
            raise self._error(exc, None) from None

    def _error(self, exc: SQLAlchemyError, waiting_for: str | None) -> HistoryError:
        """``exc`` as a HistoryError that says what waited, and how long, when a bound was hit.

        ``waiting_for`` names the run lock the transaction was still waiting for.
        """
        reason, corrupt = _reason(exc, waiting_for, _connect_timeout(self.engine.url)), False
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            corrupt = True
        worded = reason.startswith(("history", "a history", "no answer from the history"))
        message = reason if worded else f"history store: {reason}"
        return HistoryError(message, reason=reason, corrupt=corrupt)

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
        file = _sqlite_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
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
    connect_args: dict[str, Any] = {}
    parsed = make_url(url)
    if (
        parsed.get_backend_name() == "postgresql"
        and parsed.get_driver_name().startswith("psycopg")
        and "connect_timeout" not in parsed.query
    ):
        # psycopg's own default is 130 s per address; a URL's connect_timeout wins.
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _bound(conn: Connection) -> None:
    """Bound this PostgreSQL transaction's lock waits and statements (``SET LOCAL``)."""
    conn.execute(
        text(
            "SELECT set_config('lock_timeout', :lock, true),"
            " set_config('statement_timeout', :statement, true)"
        ),
        {"lock": f"{PG_LOCK_TIMEOUT_S}s", "statement": f"{PG_STATEMENT_TIMEOUT_S}s"},
    )


def _connect_timeout(url: Any) -> int:
    """The connect timeout this engine uses: the URL's own, else ours."""
    found = url.query.get("connect_timeout")
    try:
        return int(float(found if isinstance(found, str) else found[0]))
    except (TypeError, ValueError, IndexError):
        return PG_CONNECT_TIMEOUT_S


def _reason(exc: SQLAlchemyError, waiting_for: str | None, connect_timeout: int) -> str:
    """What went wrong, worded by the bound it hit when it hit one."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return (
            f"history lock held by another run for more than {SQLITE_BUSY_TIMEOUT_S}s "
            "(SQLite busy timeout)"
        )
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state == _PG_LOCK_NOT_AVAILABLE:
        if waiting_for is not None:
            return (
                f"history lock held by another run for more than {PG_LOCK_TIMEOUT_S}s "
                f"(PostgreSQL advisory lock `{waiting_for}`, lock_timeout)"
            )
        return (
            f"a history table lock held by another session for more than {PG_LOCK_TIMEOUT_S}s "
            "(PostgreSQL lock_timeout)"
        )
    if state == _PG_QUERY_CANCELED and "statement timeout" in str(orig):
        return (
            f"a history statement ran for more than {PG_STATEMENT_TIMEOUT_S}s "
            "(PostgreSQL statement_timeout)"
        )
    if type(orig).__name__ == "ConnectionTimeout" or "timeout expired" in str(orig):
        return (
            f"no answer from the history database within {connect_timeout}s "
            "(PostgreSQL connect_timeout)"
        )
    return _short(exc)


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def _inode(file: Path) -> int | None:
    try:
        return file.stat().st_ino
    except FileNotFoundError:
        return None


def _empty(file: Path) -> bool:
    """A zero-length file with no write-ahead log: no history, but a file that once was one.

    (A live history in WAL mode can have a zero-length main file while its pages
    are still in ``-wal``; that one is not empty.)
    """
    wal = file.with_name(file.name + "-wal")
    return file.stat().st_size == 0 and (not wal.exists() or wal.stat().st_size == 0)


def _sqlite_header(file: Path) -> bool:
    """Whether a non-empty file starts as every SQLite database does."""
    with file.open("rb") as opened:
        return opened.read(16) == b"SQLite format 3\x00"


def _move_aside(file: Path, why: str) -> str:
    """Rename ``file`` (and its -wal and -shm) to ``<name>.corrupt-<UTC timestamp>``; say so."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = file.with_name(f"{file.name}.corrupt-{stamp}")
    count = 0
    while any(Path(f"{target}{s}").exists() for s in ("", "-wal", "-shm")):
        count += 1
        target = file.with_name(f"{file.name}.corrupt-{stamp}-{count}")
    for suffix in ("-wal", "-shm", ""):  # the database itself last
        source = Path(f"{file}{suffix}")
        if source.exists():
            os.replace(source, f"{target}{suffix}")
    return (
        f"the history file {file} {why}: it was moved aside as {target.name} and a fresh "
        "history was started, so incidents and error budgets start over"
    )


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock of ``directory`` for at most ``SQLITE_BUSY_TIMEOUT_S`` of waiting.

    Where the platform or file system has no ``flock``, nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HistoryError(
                        f"history lock held by another run for more than {SQLITE_BUSY_TIMEOUT_S}s "
                        f"(the lock of {directory} while a run opens its history)"
                    ) from None
                time.sleep(0.05)
            except OSError:  # no flock on this file system
                break
        yield
    finally:
        os.close(fd)  # closing releases the lock


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
