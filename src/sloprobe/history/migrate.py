"""Bring a history database up to ``schema.SCHEMA_VERSION``, in the transaction that opens it.

Version 1 → 2 (small history, docs/history.md): the columns ``sloprobe_runs.detail``
and ``sloprobe_verdicts.rolled_up``, the index of verdicts by run (deleting a run
no longer scans every verdict) and the table ``sloprobe_rollups`` (made by
``create_all``). Old rows keep their meaning: every run is in full detail, no verdict
is rolled up; the next prune rolls the old runs up, a day's worth per transaction.
Version 2 → 3: ``sloprobe_runs.location``, where a run ran (NULL for older runs).
A database newer than this sloprobe is refused, never changed.
"""

from __future__ import annotations

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
    if "ix_sloprobe_verdicts_run" not in indexes:
        conn.execute(
            text(f"CREATE INDEX ix_sloprobe_verdicts_run ON {schema.verdicts.name} (run_pk)")
        )
