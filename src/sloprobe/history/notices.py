"""The notice queue in history: what a run owes its channels, claimed by one sender, marked sent.

A notice is queued in the same transaction that records the run (so a run
that is recorded never loses its notice), read back by the next delivery,
claimed with one ``UPDATE`` only one location's run can win, and marked
delivered or let go for the next run. Each function works on a connection of
the store's transaction (:mod:`.store`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from sloprobe.history import schema
from sloprobe.model.notice import Notice


@dataclasses.dataclass(frozen=True)
class PendingNotice:
    """A notice queued in history and not yet delivered."""

    row_id: int
    notice: Notice
    attempts: int


def queue(conn: Connection, service: str, environment: str, notice: Notice, at: datetime) -> None:
    """Queue ``notice`` once: the same incident, channel and key is never queued twice."""
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


def pending(conn: Connection, service: str, environment: str) -> list[PendingNotice]:
    n = schema.notifications
    rows = conn.execute(
        select(
            n.c.id, n.c.incident_id, n.c.slo, n.c.channel, n.c.kind, n.c.notice_key, n.c.attempts
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


def claim(conn: Connection, row_id: int, owner: str, now: datetime, lease_s: float) -> bool:
    """Whether this run may send the notice: one UPDATE that only one writer can win.

    Locations running at once each find the same pending notice; the one whose
    claim lands sends it, the others leave it. A claim lasts ``lease_s``: a run that
    died while sending leaves the notice to a later run, never to nobody.
    """
    n = schema.notifications
    claimed = conn.execute(
        update(n)
        .where(
            n.c.id == row_id,
            n.c.delivered_at.is_(None),
            or_(n.c.claimed_until.is_(None), n.c.claimed_until < now),
        )
        .values(claimed_by=owner[:64], claimed_until=now + timedelta(seconds=lease_s))
    )
    return bool(claimed.rowcount == 1)


def mark(conn: Connection, row_id: int, delivered_at: datetime | None, detail: str | None) -> None:
    """Delivered, or not (then its claim is let go: the next run sends it again)."""
    n = schema.notifications
    values: dict[str, Any] = {
        "delivered_at": delivered_at,
        "detail": detail,
        "attempts": n.c.attempts + 1,
    }
    if delivered_at is None:
        values["claimed_until"] = None
    conn.execute(update(n).where(n.c.id == row_id).values(**values))
