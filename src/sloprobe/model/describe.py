"""Short human phrases for what history says of a verdict: budget left, burn, incident.

The one place every output (terminal, report.html, the GitHub step summary,
results.json's human fields, Sentry) takes these phrases from, so they read
the same everywhere:

- computed ratios, percents and burn rates have at most three significant
  figures (``16.7×``, ``72.3% left``), never float noise (``49.99999999999996``);
- a budget whose window history covers less than ``MIN_BUDGET_COVERAGE`` reads
  ``not enough history yet (20 m of 30 d)``: twenty minutes of a 30-day window
  would otherwise be stretched over all of it (``-7900%``);
- an overspent budget reads ``overspent by 4 h 10 m``: how far past the allowed
  bad time the window's error ratio goes, as time, like the budget left
  (``72.3% left (2 h 36 m)``), under both budgeting methods — never a negative
  percent;
- configured numbers (the objective) are shown as written: ``99.95%``.

Machine outputs (results.json's numbers, metrics.prom) keep the exact floats.
"""

from __future__ import annotations

import math
from typing import Any

from sloprobe.model.history import Budget, BurnRate, SloHistory, Transition
from sloprobe.model.units import format_duration, format_percent, format_rate
from sloprobe.model.verdict import Verdict

MIN_BUDGET_COVERAGE = 0.25
"""Share of its window history must cover before a budget is shown (30 d window: 7 d 12 h).

Below it the window's error ratio comes from too few runs to stand for the whole
window: a budget shown then would be at most four times what was really spent.
Burn rates are shown meanwhile; they are what the alerts act on.
"""

NOT_ENOUGH_HISTORY = "not enough history yet"


def budget_coverage(budget: Budget) -> float:
    """How much of its window history covers, 0..1 (the judge's ``history_s`` over the window)."""
    if not (budget.window_s > 0 and math.isfinite(budget.history_s)):
        return 0.0
    return min(1.0, max(0.0, budget.history_s / budget.window_s))


def describe_budget(budget: Budget | None) -> str:
    """``72.3% left (2 h 36 m)``, ``overspent by 4 h 10 m``, ``not enough history yet (20 m of 30 d)``."""
    if budget is None:
        return "—"
    if budget_coverage(budget) < MIN_BUDGET_COVERAGE:
        covered = format_duration(budget.history_s if math.isfinite(budget.history_s) else 0)
        return f"{NOT_ENOUGH_HISTORY} ({covered} of {format_duration(budget.window_s)})"
    left, left_s = budget.remaining_fraction, budget.remaining_s
    if left is None or left_s is None or not (math.isfinite(left) and math.isfinite(left_s)):
        return "no data"
    if left > 0:
        return f"{format_percent(left)} left ({format_duration(left_s)})"
    if round(left_s) == 0:
        return "exhausted"
    return f"overspent by {format_duration(-left_s)}"


def budget_text(verdict: Verdict) -> str:
    """The budget phrase of a verdict, or ``—`` without an objective."""
    history = verdict.history
    return describe_budget(history.budget if history else None)


def budget_note(verdict: Verdict) -> str | None:
    """Why a budget is not shown yet, and when it will be; None once it is."""
    budget = verdict.history.budget if verdict.history else None
    if budget is None or budget_coverage(budget) >= MIN_BUDGET_COVERAGE:
        return None
    wait = format_duration(MIN_BUDGET_COVERAGE * budget.window_s)
    return f"shown once history covers {format_percent(MIN_BUDGET_COVERAGE)} of the window ({wait})"


def objective_percent(objective: float) -> str:
    """``99.95%``: a configured objective as written, never rounded to three figures."""
    return f"{objective * 100:g}%"


def objective_text(budget: Budget) -> str:
    """``99.5% over 30 d``: the objective as configured, and its window."""
    return f"{objective_percent(budget.objective)} over {format_duration(budget.window_s)}"


def describe_burn(rate: BurnRate | None) -> str:
    """``16.7×``, or ``no data`` for a window with fewer runs than the minimum."""
    if rate is None or rate.rate is None or math.isnan(rate.rate):
        return "no data"
    return format_rate(rate.rate)


def burn_text(verdict: Verdict, window_s: float = 3600) -> str:
    history = verdict.history
    if history is None or history.budget is None:
        return "—"
    return describe_burn(next((b for b in history.burn_rates if b.window_s == window_s), None))


def burn_rates_text(history: SloHistory) -> dict[str, str]:
    """Every burn-rate window as people read it: ``{"5 m": "50×", "1 h": "16.7×", "3 d": "no data"}``."""
    return {format_duration(b.window_s): describe_burn(b) for b in history.burn_rates}


def incident_text(verdict: Verdict) -> str:
    """``opened``, ``ongoing 25 m``, ``resolved after 1 h``, ``silenced``, or ``—``."""
    history = verdict.history
    if history is None:
        return "—"
    incident = history.incident
    age = format_duration(incident.duration_s) if incident.duration_s is not None else ""
    if incident.transition is Transition.OPENED:
        return "opened"
    if incident.transition is Transition.ONGOING:
        return f"ongoing {age}"
    if incident.transition is Transition.RESOLVED:
        return f"resolved after {age}"
    if incident.silenced:
        return "silenced"
    return "—"


def history_texts(verdict: Verdict) -> dict[str, Any] | None:
    """The human phrases of a verdict's history, for outputs that carry text beside numbers."""
    history = verdict.history
    if history is None:
        return None
    texts: dict[str, Any] = {"incident": incident_text(verdict)}
    if history.budget is not None:
        texts["budget"] = budget_text(verdict)
        texts["objective"] = objective_text(history.budget)
        texts["burn_rates"] = burn_rates_text(history)
    return texts
