"""Tables of the history store. ``SCHEMA_VERSION`` is bumped, with a migration, when they change.

Version 2 (small history, docs/history.md) added ``sloprobe_runs.detail`` (how much of
the run is still kept), ``sloprobe_verdicts.rolled_up`` (a verdict kept in full whose
outcome already lives in a roll-up), the index of verdicts by run, ``sloprobe_rollups``
and ``sloprobe_pooled``; :mod:`sloprobe.history.migrate` brings version 1 files up to it.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

SCHEMA_VERSION = 4

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
    Column("location", String(100)),  # where the run ran ($SLOPROBE_LOCATION); version 3
    Column("sloprobe_version", String(50), nullable=False),
    Column("status", String(16), nullable=False),
    Column("base_url", Text),
    Column("slo_file", Text),
    Column("warnings", Text),  # JSON list
    # How much of the run is kept (history/compact.py): NULL everything, "light" its
    # verdicts without their judged summary, "rolled" only what breached or moved an incident.
    Column("detail", String(8)),
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
    # Kept in full for people, but its outcome and samples are in sloprobe_rollups:
    # what judges over time reads it there, never twice.
    Column("rolled_up", Boolean, nullable=False, server_default=false()),
    Index("ix_sloprobe_verdicts_slo_time", "service", "environment", "slo", "at"),
    Index("ix_sloprobe_verdicts_run", "run_pk"),
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
    # Version 4: who is delivering it, until when. A run claims a notice before it sends it,
    # in one UPDATE that only one writer can win, so locations running at once send it once.
    Column("claimed_by", String(64)),
    Column("claimed_until", DateTime(timezone=True)),
    Index("ix_sloprobe_notifications_pending", "service", "environment", "delivered_at"),
    # One row per incident, channel and event, whoever queues it (version 4).
    Index("ux_sloprobe_notifications_key", "incident_id", "channel", "notice_key", unique=True),
)

rollups = Table(
    "sloprobe_rollups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(100), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("slo", String(100), nullable=False),
    Column("day", DateTime(timezone=True), nullable=False),  # UTC midnight: one row per day
    # Sums over the day's counted runs, as HistoryView.window_totals adds them.
    Column("runs", Integer, nullable=False),
    Column("bad_runs", Integer, nullable=False),
    Column("good_events", Integer, nullable=False),
    Column("total_events", Integer, nullable=False),
    # Compressed JSON (history/rollup.py), apart so that each reader unpacks only its part:
    # every run's time, status and outcome; every run's samples; hourly chart points.
    Column("outcomes", LargeBinary, nullable=False),
    Column("samples", LargeBinary, nullable=False),
    Column("points", LargeBinary, nullable=False),
    Index("ix_sloprobe_rollups_slo_day", "service", "environment", "slo", "day", unique=True),
)

pooled = Table(
    "sloprobe_pooled",
    metadata,
    # SLOs whose samples a run reads back (``over``): their roll-ups keep every run's samples.
    Column("service", String(100), primary_key=True),
    Column("environment", String(100), primary_key=True),
    Column("slo", String(100), primary_key=True),
    Column("since", DateTime(timezone=True), nullable=False),  # the first read reached back to
)
