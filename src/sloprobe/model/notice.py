"""A notice a run owes a channel (an opening, a reminder, a recovery): planned by notify, queued by history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

_NAMESPACE = uuid.UUID("5d1c4e0a-7c0f-4d0e-9a57-51c0b7e0b001")


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
