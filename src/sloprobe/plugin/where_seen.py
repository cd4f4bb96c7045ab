"""What a notice reads of history, handed to the notifiers by the plugin (notify/where.py).

The notifiers cannot import history (they sit beside it); the plugin, which holds
the run's store, reads it for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sloprobe.history import HistoryStore
    from sloprobe.notify.where import Sighting


@dataclass
class WhereSeen:
    """What a notice reads of history to say where its breach was seen (notify/where.py).

    History that cannot be read costs the notice its locations, never the notice:
    it then quotes the run that queued it, as without locations.
    """

    store: HistoryStore
    service: str
    environment: str

    def bad_runs(self, slo: str, since: datetime, before: datetime) -> list[Sighting]:
        from sloprobe.history import HistoryError
        from sloprobe.history.view import breaches
        from sloprobe.notify.where import Sighting

        try:
            with self.store.snapshot() as conn:
                rows = breaches(conn, self.service, self.environment, slo, since, before)
        except HistoryError:
            return []
        return [Sighting(location, at, observed) for location, at, observed in rows]

    def opened_at(self, incident_id: int) -> datetime | None:
        from sloprobe.history import HistoryError
        from sloprobe.history.view import incident_opened_at

        try:
            with self.store.snapshot() as conn:
                return incident_opened_at(conn, incident_id)
        except HistoryError:
            return None
