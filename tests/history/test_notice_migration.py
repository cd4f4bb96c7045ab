"""Schema 4: a history an older sloprobe wrote, with a notice queued twice, keeps one of each."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text, update

from sloprobe.history import HistoryStore, schema

AT = datetime(2026, 11, 1, tzinfo=UTC)


def test_duplicate_notices_of_an_older_history_merge_into_one_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    HistoryStore.open(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:  # as schema 3 left it: no unique key, a notice queued twice
        conn.execute(text("DROP INDEX ux_sloprobe_notifications_key"))
        conn.execute(update(schema.meta).values(value="3"))
        incident = conn.execute(
            insert(schema.incidents).values(
                service="shop", environment="production", slo="depth", opened_at=AT, cause="x"
            )
        ).inserted_primary_key[0]
        row = {
            "incident_id": incident,
            "service": "shop",
            "environment": "production",
            "slo": "depth",
            "channel": "slack",
            "kind": "opened",
            "notice_key": "opened-1",
            "at": AT,
            "attempts": 0,
        }
        conn.execute(insert(schema.notifications).values(**row))
        conn.execute(insert(schema.notifications).values(**row, delivered_at=AT))
    engine.dispose()
    store = HistoryStore.open(url)
    try:
        assert store.pending_notices("shop", "production") == []  # one of them was delivered
    finally:
        store.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(schema.notifications.c.id)).all()
        version = conn.execute(select(schema.meta.c.value)).scalar()
    engine.dispose()
    assert len(rows) == 1 and version == str(schema.SCHEMA_VERSION)
