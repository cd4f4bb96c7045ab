"""Schedule health: how many runs the last 24 h held against what the cron asked for.

GitHub delays scheduled runs (often 10–60 minutes) and drops some; a gap in
the probes' own history looks like a healthy service that nobody watched.
Saying "250 of 288 runs, 2 gaps" makes that visible where the verdicts are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sloprobe.model.units import format_duration


@dataclass(frozen=True)
class Gap:
    """A stretch with no run although the cron asked for one (beyond the allowance)."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class ScheduleHealth:
    cron: str
    since: datetime  # start of the period counted (24 h ago, or the first run if later)
    until: datetime
    expected: int  # runs the cron asked for in the period
    held: int  # runs history holds in the period, this one included
    allowance_s: float  # lateness that is not a gap (GitHub delays scheduled runs)
    gaps: tuple[Gap, ...] = ()
    timezone: str = "UTC"  # the zone the cron is read in (Sentry's monitor `timezone`)

    def text(self) -> str:
        """``250 of 288 scheduled runs in the last 24 h (cron 2-59/5 * * * *); 2 gaps, longest 1 h 5 m``.

        A cron outside UTC names its zone: ``0 9 * * *`` means another hour in each."""
        span = format_duration((self.until - self.since).total_seconds())
        cron = self.cron if self.timezone == "UTC" else f"{self.cron} {self.timezone}"
        head = f"{self.held} of {self.expected} scheduled runs in the last {span} (cron {cron})"
        if not self.gaps:
            return f"{head}; no gap over {format_duration(self.allowance_s)}"
        longest = format_duration(max(g.seconds for g in self.gaps))
        count = "1 gap" if len(self.gaps) == 1 else f"{len(self.gaps)} gaps"
        return f"{head}; {count}, longest {longest}"
