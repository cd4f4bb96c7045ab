"""Which notices a run owes: openings, reminders and recoveries, per incident and channel. Pure.

Notifiers speak on incident transitions only (DESIGN.md), so a 10-run outage
gives one opening, not ten events. A notice that could not be delivered
stays pending in history and is sent again by the next run with the same
identity, so the receiving end can deduplicate it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sloprobe.incidents import Transition
from sloprobe.result import RunResult

_NAMESPACE = uuid.UUID("5d1c4e0a-7c0f-4d0e-9a57-51c0b7e0b001")


@dataclass(frozen=True)
class ChannelPolicy:
    recovery: bool = False
    reminder_every_s: float | None = None


@dataclass(frozen=True)
class Notice:
    incident_id: int
    slo: str
    channel: str
    kind: str  # opened | reminder | resolved
    key: str  # unique per incident and channel

    def event_id(self, service: str, environment: str) -> str:
        """Stable across retries: Sentry drops a second event with the same id."""
        name = f"{service}/{environment}/{self.slo}/{self.incident_id}/{self.channel}/{self.key}"
        return uuid.uuid5(_NAMESPACE, name).hex


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
            if incident.transition is Transition.OPENED:
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
