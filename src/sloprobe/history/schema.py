"""Tables of the history store. ``SCHEMA_VERSION`` is bumped, with a migration, when they change."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "sloprobe_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

runs = Table(
    "sloprobe_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, unique=True),
    Column("service", String(100), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("trigger", String(50), nullable=False),
    Column("release", String(200)),
    Column("sloprobe_version", String(50), nullable=False),
    Column("status", String(16), nullable=False),
    Column("base_url", Text),
    Column("slo_file", Text),
    Column("warnings", Text),  # JSON list
    Index("ix_sloprobe_runs_service_time", "service", "environment", "started_at"),
)

verdicts = Table(
    "sloprobe_verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_pk", Integer, ForeignKey("sloprobe_runs.id", ondelete="CASCADE"), nullable=False),
    Column("service", String(100), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("slo", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("counts_as_bad", Boolean, nullable=False),
    Column("counted", Boolean, nullable=False),
    Column("good_events", Integer, nullable=False),
    Column("total_events", Integer, nullable=False),
    Column("observed", Text, nullable=False),
    Column("observed_value", Float),
    Column("budget_remaining", Float),
    Column("threshold", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("transition", String(16)),
    Column("incident_id", Integer),
    Column("samples", Text),  # JSON list of the measure's samples, base units
    Column("summary", Text),  # JSON: budget, burn rates, incident, as judged then
    Index("ix_sloprobe_verdicts_slo_time", "service", "environment", "slo", "at"),
)

measurements = Table(
    "sloprobe_measurements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "run_pk",
        Integer,
        ForeignKey("sloprobe_runs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("probe", String(100), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("failure", Text),
    Column("data", Text, nullable=False),  # JSON, as in results.json
)

incidents = Table(
    "sloprobe_incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("slo", String(100), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("since", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("cause", Text, nullable=False),
    Index("ix_sloprobe_incidents_open", "service", "environment", "slo", "resolved_at"),
)

notifications = Table(
    "sloprobe_notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "incident_id",
        Integer,
        ForeignKey("sloprobe_incidents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("service", String(100), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("slo", String(100), nullable=False),
    Column("channel", String(30), nullable=False),
    Column("kind", String(16), nullable=False),
    # With incident and channel it names one notice, however often it is retried.
    Column("notice_key", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("detail", Text),
    Index("ix_sloprobe_notifications_pending", "service", "environment", "delivered_at"),
)
