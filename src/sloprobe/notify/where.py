"""Where an incident's breach was seen: the bad runs that opened it, per location, and the quorum.

With many locations sharing one history (docs/at-scale.md) the run that queues a
notice may be any of them, a healthy one included: when a round's runs start at
once, a healthy location's run (counted neither good nor bad under a quorum) may be
the one that finds the streak the others' bad runs made, and opens the incident. A
notice therefore quotes what the bad runs observed — read from history, the latest
bad run of each location within the quorum's time before the incident opened —
never the queuing run's own value, and names the locations and the quorum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sloprobe.model.notice import Notice
from sloprobe.model.units import format_duration
from sloprobe.model.verdict import Verdict

# Without a quorum: the bad streak that opened the incident (its first bad run on), or,
# opened by a burn-rate alert with no streak, the hour before it opened.
NO_QUORUM_LOOKBACK_S = 3600.0
TAG_MAX = 200  # Sentry's limit on a tag's value
MAX_NAMED = 5  # locations a headline names; the rest are counted ("and 3 more")


@dataclass(frozen=True)
class Sighting:
    """One location's latest bad run before the incident opened."""

    location: str | None  # None: a run that recorded no location
    at: datetime
    observed: str


@dataclass(frozen=True)
class Quorum:
    """The SLO's quorum across locations (``quorum:`` of slo.yaml)."""

    locations: int
    within_s: float


class HistoryReads(Protocol):
    """What a notice reads of history to say where its breach was seen (plugin/where_seen.py)."""

    def bad_runs(self, slo: str, since: datetime, before: datetime) -> Sequence[Sighting]:
        """The bad runs of ``slo`` in (since, before], counted or not, in any order."""
        ...

    def opened_at(self, incident_id: int) -> datetime | None:
        """When the incident opened, as history holds it."""
        ...


@dataclass(frozen=True)
class Seen:
    """Where the breach of one incident was seen, and the quorum it needed."""

    sightings: tuple[Sighting, ...]  # one per location, by location name
    quorum: Quorum | None = None

    @property
    def locations(self) -> list[str]:
        return [s.location for s in self.sightings if s.location is not None]

    @property
    def named(self) -> bool:
        """Whether a headline names the locations: under a quorum, or seen from several."""
        return bool(self.sightings) and (self.quorum is not None or len(self.locations) > 1)

    def observed(self) -> str | None:
        """``value = 500`` from one place; ``eu-west: value = 500; us-east: value = 480``."""
        if not self.sightings:
            return None
        if not self.named:
            return self.sightings[0].observed
        return "; ".join(
            f"{s.location or 'unnamed location'}: {s.observed}" for s in self.sightings
        )

    def at_locations(self) -> str:
        """`` at eu-west (value = 500) and us-east (value = 480)``, for a headline."""
        parts = [f"{s.location or 'an unnamed location'} ({s.observed})" for s in self.sightings]
        if len(parts) > MAX_NAMED:
            parts = [*parts[:MAX_NAMED], f"{len(parts) - MAX_NAMED} more"]
        listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
        return f" at {listed}"

    def quorum_text(self) -> str | None:
        """``seen from 2 locations, 2 needed within 10 m``."""
        if self.quorum is None:
            return None
        count = len(self.sightings)
        return (
            f"seen from {count} location{'s' if count != 1 else ''}, "
            f"{self.quorum.locations} needed within {format_duration(self.quorum.within_s)}"
        )

    def tags(self) -> dict[str, str]:
        """Sentry tags (searchable): ``locations: eu-west,us-east``, ``quorum: 2 within 10 m``."""
        found = {"locations": ",".join(self.locations)[:TAG_MAX]}
        if self.quorum is not None:
            found["quorum"] = (
                f"{self.quorum.locations} within {format_duration(self.quorum.within_s)}"
            )
        return {k: v for k, v in found.items() if v}

    def context(self) -> dict[str, Any]:
        """``locations``, ``seen`` and ``quorum``: what a machine reads of it."""
        return {
            "locations": self.locations,
            "seen": [
                {"location": s.location, "observed": s.observed, "at": s.at.isoformat()}
                for s in self.sightings
            ],
            "quorum": {
                "locations": self.quorum.locations,
                "within": format_duration(self.quorum.within_s),
                "within_s": self.quorum.within_s,
                "seen_from": len(self.sightings),
                "text": self.quorum_text(),
            }
            if self.quorum is not None
            else None,
        }


def where_seen(
    notice: Notice,
    verdict: Verdict | None,
    queued_at: datetime,
    quorum: Quorum | None,
    history: HistoryReads,
) -> Seen | None:
    """Where the incident of ``notice`` was seen, from the bad runs before it opened.

    ``verdict`` is the queuing run's, queued at ``queued_at``: an opening is queued by
    the run that opened the incident, a reminder by a run while it lasts (the runs
    before that one), a recovery by the run that resolved it (the runs before the
    incident opened, whose time history holds: a recovery's verdict need not say it).
    """
    incident = verdict.history.incident if verdict and verdict.history else None
    end: datetime | None = queued_at
    if notice.kind == "resolved":
        end = history.opened_at(notice.incident_id) or (incident.opened_at if incident else None)
    if end is None:
        return None
    if quorum is not None and quorum.locations < 2:
        quorum = None  # one location is no quorum (judge/over_time.py: every run counts)
    since = incident.since if incident is not None and notice.kind != "resolved" else None
    if quorum is not None:
        start = end - timedelta(seconds=quorum.within_s)
    elif since is not None and since <= end:
        start = since - timedelta(microseconds=1)  # the streak's first bad run, too
    else:
        start = end - timedelta(seconds=NO_QUORUM_LOOKBACK_S)
    latest: dict[str | None, Sighting] = {}
    for sighting in history.bad_runs(notice.slo, start, end):
        found = latest.get(sighting.location)
        if found is None or sighting.at > found.at:
            latest[sighting.location] = sighting
    ordered = sorted(latest.values(), key=lambda s: (s.location is None, s.location or ""))
    return Seen(tuple(ordered), quorum)
