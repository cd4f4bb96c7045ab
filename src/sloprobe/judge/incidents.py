"""Flap control: when a run of bad verdicts becomes an incident, and when it ends. Pure.

An incident opens after ``open_after`` consecutive bad runs, or at once when
a burn-rate alert of a level in ``open_on_burn`` fires; it resolves after
``resolve_after`` consecutive good runs once no such alert fires. A silence
keeps runs in history but opens nothing. Notifiers speak on transitions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sloprobe.model.history import IncidentState, OpenIncident, Transition


def streaks(recent: Sequence[tuple[datetime, bool]]) -> tuple[int, int, datetime | None]:
    """(consecutive bad, consecutive good, start of the bad streak) at the end of ``recent``."""
    bad = good = 0
    since = None
    for at, value in reversed(recent):
        if value and good == 0:
            bad += 1
            since = at
        elif not value and bad == 0:
            good += 1
        else:
            break
    return bad, good, since


def next_incident_state(
    previous: OpenIncident | None,
    recent: Sequence[tuple[datetime, bool]],
    now: datetime,
    *,
    open_after: int,
    resolve_after: int,
    firing: Sequence[str] = (),
    open_on_burn: Sequence[str] = ("page",),
    silenced: str | None = None,
) -> IncidentState:
    """``recent`` holds (time, bad) of the latest runs of this SLO, oldest first, this run last."""
    bad, good, since = streaks(recent)
    burning = [level for level in firing if level in open_on_burn]
    if previous is not None:
        duration = (now - previous.opened_at).total_seconds()
        if good >= resolve_after and not burning:
            return IncidentState(
                False,
                Transition.RESOLVED,
                previous.opened_at,
                duration,
                bad,
                good,
                previous.cause,
                silenced,
                previous.id,
                since,
            )
        return IncidentState(
            True,
            Transition.ONGOING,
            previous.opened_at,
            duration,
            bad,
            good,
            previous.cause,
            silenced,
            previous.id,
            since,
        )
    if silenced is None:
        if bad >= open_after:
            cause = f"{bad} consecutive bad runs"
            return IncidentState(
                True, Transition.OPENED, now, 0.0, bad, good, cause, None, None, since
            )
        if burning:
            cause = f"{burning[0]} burn-rate alert"
            return IncidentState(
                True, Transition.OPENED, now, 0.0, bad, good, cause, None, None, since
            )
    return IncidentState(False, None, None, None, bad, good, None, silenced, None, since)
