"""The ``jobs`` table and every query the service runs on it (SQLAlchemy Core).

SQLite by default (a file, so API and worker threads share it), any
SQLAlchemy URL (``DATABASE_URL``, e.g. PostgreSQL) otherwise. A worker
claims a job with a conditional UPDATE, so two workers never take the same job.

A job keeps the W3C trace id of the request that submitted it (``trace_id``),
as a traced service does: its worker logs it, its status answer returns it.

Columns and answers carry the names Luster's service uses (``completed_at``,
``error_message``, ``success_rate_percent``, ``avg_processing_time_seconds``),
so a suite written against this service fits a real one of its shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

STATUSES = ("queued", "processing", "succeeded", "failed")
BACKLOG_ASSET = "backlog"

metadata = MetaData()
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(16), nullable=False, index=True),
    Column("asset_id", String(200), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("tier", String(50), nullable=False),
    Column("synthetic", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True), index=True),
    Column("error_message", Text),
    Column("trace_id", String(32)),  # the submitting request's W3C trace id, if it had one
)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    id: int
    status: str
    asset_id: str
    prompt: str
    tier: str
    synthetic: bool
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
    trace_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "job_id": self.id,
            "status": self.status,
            "asset_id": self.asset_id,
            "prompt": self.prompt,
            "tier": self.tier,
            "synthetic": self.synthetic,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "completed_at": iso(self.completed_at),
            "error_message": self.error_message,
            "trace_id": self.trace_id,
        }


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        status=row.status,
        asset_id=row.asset_id,
        prompt=row.prompt,
        tier=row.tier,
        synthetic=bool(row.synthetic),
        created_at=_aware(row.created_at) or _now(),
        started_at=_aware(row.started_at),
        completed_at=_aware(row.completed_at),
        error_message=row.error_message,
        trace_id=row.trace_id,
    )


class JobStore:
    """All reads and writes of the jobs table."""

    def __init__(self, url: str) -> None:
        sqlite = url.startswith("sqlite")
        self.engine: Engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15} if sqlite else {},
            pool_pre_ping=not sqlite,
        )
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)
        self._add_trace_column()

    def _add_trace_column(self) -> None:
        """A jobs table made before jobs kept their trace id (a kept DATABASE_URL) gets it."""
        if "trace_id" in {c["name"] for c in inspect(self.engine).get_columns("jobs")}:
            return
        with self.engine.begin() as conn:
            conn.execute(text("ALTER TABLE jobs ADD COLUMN trace_id VARCHAR(32)"))

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def submit(
        self, asset_id: str, prompt: str, tier: str, synthetic: bool, trace_id: str | None = None
    ) -> Job:
        with self.engine.begin() as conn:
            row = conn.execute(
                insert(jobs)
                .values(
                    status="queued",
                    asset_id=asset_id,
                    prompt=prompt,
                    tier=tier,
                    synthetic=synthetic,
                    created_at=_now(),
                    trace_id=trace_id,
                )
                .returning(*jobs.c)
            ).one()
        return _job(row)

    def get(self, job_id: int) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return _job(row) if row else None

    def claim_next(self, skip_backlog: bool) -> Job | None:
        """Take the oldest queued job, or None; safe against other workers."""
        query = select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.id).limit(5)
        if skip_backlog:
            query = query.where(jobs.c.asset_id != BACKLOG_ASSET)
        with self.engine.begin() as conn:
            for (job_id,) in conn.execute(query).all():
                claimed = conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.status == "queued")
                    .values(status="processing", started_at=_now())
                )
                if claimed.rowcount == 1:
                    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one()
                    return _job(row)
        return None

    def finish(self, job_id: int, error: str | None) -> Job:
        with self.engine.begin() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    status="failed" if error else "succeeded",
                    completed_at=_now(),
                    error_message=error,
                )
            )
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one()
        return _job(row)

    def counts(self, since: datetime | None = None) -> dict[str, int]:
        """Jobs by status (all four, zeros included), of those created since ``since``."""
        query = select(jobs.c.status, func.count()).group_by(jobs.c.status)
        if since is not None:
            query = query.where(jobs.c.created_at >= since)
        with self.engine.connect() as conn:
            found: dict[str, int] = {
                str(status): int(count) for status, count in conn.execute(query).all()
            }
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def completed(self, since: datetime) -> dict[str, int]:
        """Jobs that ended since ``since``, by final status."""
        query = (
            select(jobs.c.status, func.count())
            .where(jobs.c.completed_at >= since)
            .group_by(jobs.c.status)
        )
        with self.engine.connect() as conn:
            found = {str(status): int(count) for status, count in conn.execute(query).all()}
        return {status: found.get(status, 0) for status in ("succeeded", "failed")}

    def average_processing_s(self, since: datetime) -> float | None:
        """Mean of completed − started over the jobs that succeeded since ``since``."""
        query = select(jobs.c.started_at, jobs.c.completed_at).where(
            jobs.c.status == "succeeded",
            jobs.c.completed_at >= since,
            jobs.c.started_at.is_not(None),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        durations = [
            ((_aware(c) or _now()) - (_aware(s) or _now())).total_seconds() for s, c in rows
        ]
        return round(sum(durations) / len(durations), 3) if durations else None

    def stats(self, hours: int) -> dict[str, Any]:
        """Luster's ``/admin/jobs/stats`` answer.

        One difference: with no job ended in the window, ``success_rate_percent``
        is null (nothing to measure), where Luster answers 0.
        """
        since = _now() - timedelta(hours=hours)
        counts = self.counts(since)
        ended = self.completed(since)
        total_completed = ended["succeeded"] + ended["failed"]
        rate = ended["succeeded"] / total_completed * 100 if total_completed else None
        return {
            "period_hours": hours,
            "jobs_by_status": counts,
            "total_jobs": sum(counts.values()),
            "success_rate_percent": None if rate is None else round(rate, 2),
            "avg_processing_time_seconds": self.average_processing_s(since),
            "total_completed": total_completed,
            "successful": ended["succeeded"],
            "failed": ended["failed"],
        }

    def traced(self, trace_id: str, limit: int = 50) -> list[Job]:
        """The jobs submitted in the trace ``trace_id``, newest first."""
        query = select(jobs).where(jobs.c.trace_id == trace_id).order_by(jobs.c.id.desc())
        with self.engine.connect() as conn:
            return [_job(row) for row in conn.execute(query.limit(limit)).all()]

    def recent(self, limit: int, status: str | None) -> list[Job]:
        query = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(jobs.c.status == status)
        with self.engine.connect() as conn:
            return [_job(row) for row in conn.execute(query).all()]

    def add_backlog(self, count: int) -> None:
        if count <= 0:
            return
        now = _now()
        rows = [
            {
                "status": "queued",
                "asset_id": BACKLOG_ASSET,
                "prompt": "backlog",
                "tier": "standard",
                "synthetic": False,
                "created_at": now,
            }
            for _ in range(count)
        ]
        with self.engine.begin() as conn:
            conn.execute(insert(jobs), rows)

    def clear_backlog(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(jobs).where(jobs.c.asset_id == BACKLOG_ASSET, jobs.c.status == "queued")
            )

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()
