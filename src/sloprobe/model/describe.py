"""Short human phrases for what history says of a verdict: budget left, burn, incident."""

from __future__ import annotations

from sloprobe.model.history import Transition
from sloprobe.model.units import format_duration
from sloprobe.model.verdict import Verdict


def budget_text(verdict: Verdict) -> str:
    """``72.3% left (2 h 36 m)``, ``exhausted``, or ``—`` without an objective."""
    history = verdict.history
    budget = history.budget if history else None
    if budget is None:
        return "—"
    if budget.remaining_fraction is None or budget.remaining_s is None:
        return "no data"
    if budget.remaining_fraction <= 0:
        return f"exhausted ({budget.remaining_fraction * 100:.1f}%)"
    return f"{budget.remaining_fraction * 100:.1f}% left ({format_duration(budget.remaining_s)})"


def burn_text(verdict: Verdict, window_s: float = 3600) -> str:
    history = verdict.history
    if history is None or history.budget is None:
        return "—"
    rate = next((b for b in history.burn_rates if b.window_s == window_s), None)
    if rate is None or rate.rate is None:
        return "no data"
    return f"{rate.rate:.1f}×"


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
