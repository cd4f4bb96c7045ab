"""What history says about an SLO: outcomes of past runs, budgets, burn rates, incidents.

Plain data, shared by the judge (which computes it), the codec (which stores
it) and the sinks (which show it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

Budgeting = Literal["timeslices", "occurrences"]


# How far back flap control looks (a day): the judge reads that much history, and config
# keeps at least that much of it.
FLAP_LOOKBACK_S = 86400.0


@dataclass(frozen=True)
class RunOutcome:
    """One run of one SLO as history remembers it."""

    at: datetime
    bad: bool
    counted: bool = True  # False for no_data that the SLO allows: neither good nor bad
    good_events: int = 0
    total_events: int = 0


@dataclass(frozen=True)
class BurnRate:
    window_s: float
    rate: float | None  # None: fewer runs than the minimum (no data), never 0
    runs: int


@dataclass(frozen=True)
class AlertState:
    level: str
    factor: float
    long: BurnRate
    short: BurnRate

    @property
    def firing(self) -> bool:
        return (
            self.long.rate is not None
            and self.short.rate is not None
            and self.long.rate >= self.factor
            and self.short.rate >= self.factor
        )


@dataclass(frozen=True)
class Budget:
    """The error budget of one SLO over its window, as of ``now``."""

    objective: float
    window_s: float
    budgeting: Budgeting
    runs: int
    good: int
    total: int
    compliance: float | None
    total_s: float  # the budget as time: (1 - objective) × window
    remaining_fraction: float | None
    remaining_s: float | None
    exhausted_in_s: float | None  # at the current burn; None when not burning
    history_s: float  # how much of the window history covers


@dataclass(frozen=True)
class WindowTotals:
    """Counted runs of a window, summed (the database can sum 8,640 runs faster than Python)."""

    runs: int = 0
    bad_runs: int = 0
    good_events: int = 0
    total_events: int = 0
    first_at: datetime | None = None

    def plus(self, outcome: RunOutcome) -> WindowTotals:
        if not outcome.counted:
            return self
        return WindowTotals(
            self.runs + 1,
            self.bad_runs + outcome.bad,
            self.good_events + outcome.good_events,
            self.total_events + outcome.total_events,
            min(self.first_at, outcome.at) if self.first_at else outcome.at,
        )


class Transition(StrEnum):
    OPENED = "opened"
    ONGOING = "ongoing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class OpenIncident:
    """An incident as history holds it before this run."""

    id: int
    opened_at: datetime
    cause: str


@dataclass(frozen=True)
class IncidentState:
    """The incident state of one SLO after this run."""

    open: bool
    transition: Transition | None
    opened_at: datetime | None
    duration_s: float | None
    bad_streak: int
    good_streak: int
    cause: str | None = None
    silenced: str | None = None
    incident_id: int | None = None
    since: datetime | None = None  # the first bad run of the current bad streak


@dataclass(frozen=True)
class SloHistory:
    """What history says about one SLO after this run."""

    incident: IncidentState
    budget: Budget | None = None
    burn_rates: tuple[BurnRate, ...] = ()
    alerts: tuple[AlertState, ...] = ()
    runs_seen: int = 0

    @property
    def firing(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.level for a in self.alerts if a.firing))
