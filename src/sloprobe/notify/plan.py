"""Which notices a run owes: openings, reminders and recoveries, per incident and channel. Pure.

Notifiers speak on incident transitions only (DESIGN.md), so a 10-run outage
gives one opening, not ten events. A notice that could not be delivered
stays pending in history and is sent again by the next run with the same
identity, so the receiving end can deduplicate it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sloprobe.model.history import Transition
from sloprobe.model.notice import Notice
from sloprobe.model.result import RunResult


@dataclass(frozen=True)
class ChannelPolicy:
    recovery: bool = False
    reminder_every_s: float | None = None
    opened: bool = True  # a webhook may leave openings out (`transitions`)
    # Routing (settings.routes, see notify/routes.py): an SLO whose owner a route names goes
    # to that route's channels only; any other SLO goes where `*` says, or everywhere.
    owners: frozenset[str] = frozenset()  # the owners whose route names this channel
    routed: frozenset[str] = frozenset()  # every owner a route names
    default: bool = True  # whether an SLO whose owner no route names comes here

    def serves(self, owner: str | None) -> bool:
        if owner is not None and owner in self.routed:
            return owner in self.owners
        return self.default


def plan_notices(
    result: RunResult,
    channels: Mapping[str, ChannelPolicy],
    last_sent: Callable[[int, str], datetime | None],
) -> list[Notice]:
    """New notices for this run's transitions (``last_sent``: when a channel last spoke of an incident)."""
    now = result.run.started_at
    notices = []
    for verdict in result.verdicts:
        history = verdict.history
        incident = history.incident if history else None
        if incident is None or incident.incident_id is None or incident.transition is None:
            continue
        for channel, policy in channels.items():
            if not policy.serves(verdict.owner):
                continue
            if incident.transition is Transition.OPENED and policy.opened:
                notices.append(
                    Notice(incident.incident_id, verdict.slo, channel, "opened", "opened")
                )
            elif incident.transition is Transition.RESOLVED and policy.recovery:
                notices.append(
                    Notice(incident.incident_id, verdict.slo, channel, "resolved", "resolved")
                )
            elif incident.transition is Transition.ONGOING and policy.reminder_every_s:
                last = last_sent(incident.incident_id, channel)
                if last is not None and (now - last).total_seconds() >= policy.reminder_every_s:
                    key = f"reminder-{int(now.timestamp())}"
                    notices.append(
                        Notice(incident.incident_id, verdict.slo, channel, "reminder", key)
                    )
    return notices
