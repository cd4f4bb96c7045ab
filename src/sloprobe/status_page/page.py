"""The status page as plain data: services, environments, SLOs, uptimes, days and incidents.

What :mod:`.build` reads from history and :mod:`.render` and :mod:`.badges` show.
A public page's classes have no field that could hold a target URL, a header, an
observed value, a reason, an owner or a runbook: those live in
:class:`SloInternals` and :class:`EnvironmentInternals`, filled only for an
internal page (see :mod:`.build`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sloprobe.model.status import Status

DAYS = 90
WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("24 h", timedelta(days=1)),
    ("7 d", timedelta(days=7)),
    ("30 d", timedelta(days=30)),
    ("90 d", timedelta(days=90)),
)
BADGE_WINDOW = "30 d"  # the uptime an SLO's badge shows
STALE_AFTER = timedelta(days=1)  # no run for longer: the page says monitoring stopped
RECENT_INCIDENTS = 10  # resolved incidents listed per environment (the newest)
COVERED = 0.9  # a window history covers less of than this says how much it covers
UNNAMED = "a location without a name"  # runs that recorded no location


@dataclass(frozen=True)
class Uptime:
    """Counted runs of one window and the bad ones among them."""

    label: str  # "24 h", "7 d", …
    window_s: float
    runs: int
    bad_runs: int
    covered_s: float | None = None  # set when history covers less of the window than it spans

    @property
    def share(self) -> float | None:
        """Good runs / counted runs, 0..1; None without a counted run."""
        return (self.runs - self.bad_runs) / self.runs if self.runs else None


@dataclass(frozen=True)
class Day:
    """One UTC day of the strip: the worst status of its runs, None when nothing ran."""

    day: date
    status: Status | None


@dataclass(frozen=True)
class LocationState:
    """Where runs probe from ($SLOPROBE_LOCATION), and what the latest run there said."""

    location: str  # as the page may show it: the name, or "location 2 of 3"
    status: Status
    checked_at: datetime | None = None
    below_quorum: bool = False  # a breach seen from fewer locations than the quorum: not counted


@dataclass(frozen=True)
class SloInternals:
    """What only an internal page shows of an SLO (from the latest run that judged it)."""

    observed: str
    threshold: str
    reason: str
    owner: str | None
    runbook: str | None
    failure: str | None  # the probe's failure in that run, when the SLO is not ok
    excerpt: str | None  # what the target answered then (already redacted by the probe)


@dataclass(frozen=True)
class SloState:
    name: str
    description: str | None
    status: Status | None  # None: no run in the history read
    checked_at: datetime | None
    uptimes: tuple[Uptime, ...]
    days: tuple[Day, ...]
    incident_open: bool = False
    in_latest_run: bool = True  # False: an SLO of earlier runs that the latest did not judge
    locations: tuple[LocationState, ...] = ()
    # The fleet's verdict is "degraded at" these locations (status warning): a breach seen
    # there, from fewer locations than the quorum, that counts toward no budget or incident.
    degraded_at: tuple[str, ...] = ()
    internal: SloInternals | None = None

    def uptime(self, label: str) -> Uptime | None:
        return next((u for u in self.uptimes if u.label == label), None)


@dataclass(frozen=True)
class Incident:
    slo: str
    opened_at: datetime
    resolved_at: datetime | None
    cause: str | None = None  # internal pages only

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def duration_s(self, now: datetime) -> float:
        return max(0.0, ((self.resolved_at or now) - self.opened_at).total_seconds())


@dataclass(frozen=True)
class EnvironmentInternals:
    base_url: str | None
    release: str | None
    run_id: str
    trigger: str


@dataclass(frozen=True)
class EnvironmentState:
    service: str
    environment: str
    last_run_at: datetime
    slos: tuple[SloState, ...]
    open_incidents: tuple[Incident, ...] = ()
    recent_incidents: tuple[Incident, ...] = ()  # resolved within the strip's days, newest first
    more_incidents: int = 0  # resolved ones not listed
    stale: bool = False
    internal: EnvironmentInternals | None = None

    @property
    def status(self) -> Status | None:
        return worst(s.status for s in self.slos)

    @property
    def degraded_at(self) -> tuple[str, ...]:
        """Where SLOs of the environment are degraded (quorum withheld a breach), when its
        worst state is that: none when an SLO is down, or merely warns."""
        if self.status is not Status.WARNING:
            return ()
        found: list[str] = []
        for slo in self.slos:
            found += [where for where in slo.degraded_at if where not in found]
        return tuple(sorted(found, key=location_order))

    @property
    def days(self) -> tuple[Day, ...]:
        """The worst status of each day over every SLO."""
        if not self.slos:
            return ()
        columns = zip(*(s.days for s in self.slos), strict=True)
        return tuple(Day(c[0].day, worst(d.status for d in c)) for c in columns)

    def count(self, status: Status) -> int:
        return sum(1 for s in self.slos if s.status is status)


@dataclass(frozen=True)
class ServiceState:
    name: str
    environments: tuple[EnvironmentState, ...]

    @property
    def status(self) -> Status | None:
        return worst(e.status for e in self.environments)


@dataclass(frozen=True)
class StatusPage:
    title: str
    built_at: datetime
    internal: bool
    services: tuple[ServiceState, ...]
    days: int = DAYS
    windows: tuple[str, ...] = field(default_factory=lambda: tuple(w for w, _ in WINDOWS))

    @property
    def environments(self) -> tuple[EnvironmentState, ...]:
        return tuple(e for s in self.services for e in s.environments)

    @property
    def status(self) -> Status | None:
        return worst(s.status for s in self.services)


def worst(statuses: Iterable[Status | None]) -> Status | None:
    """The most severe of ``statuses`` (None ones skipped); None when there is none."""
    found = [s for s in statuses if s is not None]
    return max(found, key=lambda s: s.severity) if found else None


def location_order(shown: str) -> tuple[int, int, str]:
    """Public names by name, then numbered locations by number (10 after 9), unnamed last."""
    if shown == UNNAMED:
        return (2, 0, shown)
    numbered = re.fullmatch(r"location (\d+) of \d+", shown)
    return (1, int(numbered[1]), shown) if numbered else (0, 0, shown)
