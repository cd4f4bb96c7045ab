"""Bring a history database up to ``schema.SCHEMA_VERSION``, in the transaction that opens it.

Version 1 → 2 (small history, docs/history.md): the columns ``sloprobe_runs.detail``
and ``sloprobe_verdicts.rolled_up``, the index of verdicts by run (deleting a run
no longer scans every verdict) and the table ``sloprobe_rollups`` (made by
``create_all``). Old rows keep their meaning: every run is in full detail, no verdict
is rolled up; the next prune rolls the old runs up, a day's worth per transaction.
Version 2 → 3: ``sloprobe_runs.location``, where a run ran (NULL for older runs).
Version 3 → 4: ``sloprobe_notifications.claimed_by`` and ``claimed_until`` (a notice is
claimed before it is sent), and one row per incident, channel and event (duplicates an
older sloprobe queued are merged into the first, delivered if any of them was).
A database newer than this sloprobe is refused, never changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, inspect, select, text, update

from sloprobe.history import schema
from sloprobe.history.errors import HistoryError


def migrate(conn: Connection) -> None:
    """Create or upgrade the schema; the caller holds the schema lock."""
    schema.metadata.create_all(conn)
    found = conn.execute(
        select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).scalar()
    if found is not None and int(found) > schema.SCHEMA_VERSION:
        raise HistoryError(
            f"the history store has schema version {found}; this sloprobe knows up to {schema.SCHEMA_VERSION} — upgrade sloprobe"
        )
    _add_missing(conn)
    if found is None:
        conn.execute(
            insert(schema.meta).values(key="schema_version", value=str(schema.SCHEMA_VERSION))
        )
    elif int(found) < schema.SCHEMA_VERSION:
        conn.execute(
            update(schema.meta)
            .where(schema.meta.c.key == "schema_version")
            .values(value=str(schema.SCHEMA_VERSION))
        )


def _add_missing(conn: Connection) -> None:
    """What versions 2 and 3 added to tables that existed before (``create_all`` leaves them alone)."""
    found = inspect(conn)
    runs = {c["name"] for c in found.get_columns(schema.runs.name)}
    verdicts = {c["name"] for c in found.get_columns(schema.verdicts.name)}
    indexes = {i["name"] for i in found.get_indexes(schema.verdicts.name)}
    no = "false" if conn.dialect.name == "postgresql" else "0"
    if "location" not in runs:  # version 3
        conn.execute(text(f"ALTER TABLE {schema.runs.name} ADD COLUMN location VARCHAR(100)"))
    if "detail" not in runs:
        conn.execute(text(f"ALTER TABLE {schema.runs.name} ADD COLUMN detail VARCHAR(8)"))
    if "rolled_up" not in verdicts:
        conn.execute(
            text(
                f"ALTER TABLE {schema.verdicts.name} ADD COLUMN rolled_up BOOLEAN NOT NULL DEFAULT {no}"
            )
        )
    _notifications_v4(conn, found)
    if "ix_sloprobe_verdicts_run" not in indexes:
        conn.execute(
            text(f"CREATE INDEX ix_sloprobe_verdicts_run ON {schema.verdicts.name} (run_pk)")
        )


def _notifications_v4(conn: Connection, found: Any) -> None:
    """The claim columns, and the unique key of a notice (after merging older duplicates)."""
    table = schema.notifications.name
    columns = {c["name"] for c in found.get_columns(table)}
    if "claimed_by" not in columns:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN claimed_by VARCHAR(64)"))
    if "claimed_until" not in columns:
        kind = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN claimed_until {kind}"))
    if "ux_sloprobe_notifications_key" in {i["name"] for i in found.get_indexes(table)}:
        return
    # An older sloprobe could queue a notice twice: keep the first row, delivered if any was.
    conn.execute(
        text(
            f"UPDATE {table} SET delivered_at = (SELECT MAX(d.delivered_at) FROM {table} d "
            f"WHERE d.incident_id = {table}.incident_id AND d.channel = {table}.channel "
            f"AND d.notice_key = {table}.notice_key) WHERE delivered_at IS NULL"
        )
    )
    conn.execute(
        text(
            f"DELETE FROM {table} WHERE id NOT IN (SELECT MIN(id) FROM {table} "
            "GROUP BY incident_id, channel, notice_key)"
        )
    )
    conn.execute(
        text(
            f"CREATE UNIQUE INDEX ux_sloprobe_notifications_key ON {table} "
            "(incident_id, channel, notice_key)"
        )
    )
