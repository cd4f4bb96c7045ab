"""The ``jobs`` table and every query the service runs on it (SQLAlchemy Core).

SQLite by default (a file, so API and worker threads share it), any
SQLAlchemy URL (``DATABASE_URL``, e.g. PostgreSQL) otherwise. A worker
claims a job with a conditional UPDATE, so two workers never take the same job.
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
    Column("finished_at", DateTime(timezone=True)),
    Column("error", Text),
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
    finished_at: datetime | None
    error: str | None

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "status": self.status,
            "asset_id": self.asset_id,
            "tier": self.tier,
            "synthetic": self.synthetic,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "error": self.error,
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
        finished_at=_aware(row.finished_at),
        error=row.error,
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

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def submit(self, asset_id: str, prompt: str, tier: str, synthetic: bool) -> Job:
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
                .values(status="failed" if error else "succeeded", finished_at=_now(), error=error)
            )
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one()
        return _job(row)

    def counts(self, since: datetime | None = None) -> dict[str, int]:
        query = select(jobs.c.status, func.count()).group_by(jobs.c.status)
        if since is not None:
            query = query.where(jobs.c.created_at >= since)
        with self.engine.connect() as conn:
            found: dict[str, int] = {
                str(status): int(count) for status, count in conn.execute(query).all()
            }
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def average_processing_ms(self, since: datetime) -> float | None:
        query = select(jobs.c.started_at, jobs.c.finished_at).where(
            jobs.c.created_at >= since,
            jobs.c.finished_at.is_not(None),
            jobs.c.started_at.is_not(None),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        durations = [
            ((_aware(f) or _now()) - (_aware(s) or _now())).total_seconds() * 1000 for s, f in rows
        ]
        return round(sum(durations) / len(durations), 2) if durations else None

    def stats(self, hours: int) -> dict[str, Any]:
        since = _now() - timedelta(hours=hours)
        counts = self.counts(since)
        finished = counts["succeeded"] + counts["failed"]
        return {
            "hours": hours,
            "total": sum(counts.values()),
            "by_status": counts,
            "success_rate": round(counts["succeeded"] / finished * 100, 2) if finished else None,
            "avg_processing_ms": self.average_processing_ms(since),
        }

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
