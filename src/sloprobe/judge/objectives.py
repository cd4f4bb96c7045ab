"""Objectives over windows: compliance, error budget and burn rates. Pure functions, no I/O.

Only runs that happened count: a scheduled run that never fired is missing
data, neither a good nor a bad slice. A window holding fewer runs than the
minimum gives ``None`` (no_data) for its burn rate, never 0.

Budgeting follows OpenSLO: ``timeslices`` (each run is a slice, good when it
met its thresholds) or ``occurrences`` (good events / all events, an event
being one sample).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sloprobe.model.history import AlertState, Budget, Budgeting, BurnRate, RunOutcome, WindowTotals


def in_window(outcomes: Sequence[RunOutcome], now: datetime, window_s: float) -> list[RunOutcome]:
    """Counted outcomes in (now − window, now]; ``outcomes`` are sorted by time, so this bisects."""
    start = now - timedelta(seconds=window_s)
    first = bisect.bisect_right(outcomes, start, key=lambda o: o.at)
    last = bisect.bisect_right(outcomes, now, key=lambda o: o.at)
    return [o for o in outcomes[first:last] if o.counted]


def good_and_total(outcomes: Sequence[RunOutcome], budgeting: Budgeting) -> tuple[int, int]:
    if budgeting == "occurrences":
        return sum(o.good_events for o in outcomes), sum(o.total_events for o in outcomes)
    return sum(1 for o in outcomes if not o.bad), len(outcomes)


def burn_rate(
    outcomes: Sequence[RunOutcome],
    now: datetime,
    window_s: float,
    objective: float,
    budgeting: Budgeting,
    min_runs: int = 1,
) -> BurnRate:
    """Error ratio over the window / (1 − objective)."""
    runs = in_window(outcomes, now, window_s)
    good, total = good_and_total(runs, budgeting)
    if len(runs) < min_runs or total == 0:
        return BurnRate(window_s, None, len(runs))
    return BurnRate(window_s, ((total - good) / total) / (1 - objective), len(runs))


def totals_of(outcomes: Sequence[RunOutcome]) -> WindowTotals:
    totals = WindowTotals()
    for outcome in outcomes:
        totals = totals.plus(outcome)
    return totals


def error_budget(
    outcomes: Sequence[RunOutcome],
    now: datetime,
    objective: float,
    window_s: float,
    budgeting: Budgeting,
    current_burn: float | None,
) -> Budget:
    return budget_from_totals(
        totals_of(in_window(outcomes, now, window_s)),
        now,
        objective,
        window_s,
        budgeting,
        current_burn,
    )


def budget_from_totals(
    totals: WindowTotals,
    now: datetime,
    objective: float,
    window_s: float,
    budgeting: Budgeting,
    current_burn: float | None,
) -> Budget:
    if budgeting == "occurrences":
        good, total = totals.good_events, totals.total_events
    else:
        good, total = totals.runs - totals.bad_runs, totals.runs
    total_s = (1 - objective) * window_s
    history_s = min(window_s, (now - totals.first_at).total_seconds()) if totals.first_at else 0.0
    if total == 0:
        return Budget(
            objective,
            window_s,
            budgeting,
            totals.runs,
            good,
            total,
            None,
            total_s,
            None,
            None,
            None,
            history_s,
        )
    error_ratio = (total - good) / total
    remaining = 1 - error_ratio / (1 - objective)
    remaining_s = remaining * total_s
    exhausted_in = None
    if current_burn and current_burn > 0:
        # At burn b the budget drains b × (1 − objective) seconds per second of wall time.
        exhausted_in = max(0.0, remaining_s) / (current_burn * (1 - objective))
    return Budget(
        objective,
        window_s,
        budgeting,
        totals.runs,
        good,
        total,
        good / total,
        total_s,
        remaining,
        remaining_s,
        exhausted_in,
        history_s,
    )


@dataclass(frozen=True)
class AlertSpec:
    level: str
    long_s: float
    short_s: float
    factor: float


def alert_states(
    outcomes: Sequence[RunOutcome],
    now: datetime,
    objective: float,
    budgeting: Budgeting,
    specs: Sequence[AlertSpec],
    min_runs: int = 1,
) -> tuple[AlertState, ...]:
    return tuple(
        AlertState(
            spec.level,
            spec.factor,
            burn_rate(outcomes, now, spec.long_s, objective, budgeting, min_runs),
            burn_rate(outcomes, now, spec.short_s, objective, budgeting, min_runs),
        )
        for spec in specs
    )
