"""What a notice says: a message a human can act on, plus tags and context for machines."""

from __future__ import annotations

from typing import Any

from sloprobe.model.describe import budget_text, burn_rates_text, objective_percent
from sloprobe.model.notice import Notice
from sloprobe.model.result import RunResult
from sloprobe.model.units import format_duration
from sloprobe.model.verdict import Verdict


def headline(notice: Notice, verdict: Verdict | None) -> str:
    """``SLO job-e2e breached: value = 42.1s, expected value < 30s (3 runs, since 10:05 UTC)``."""
    if verdict is None:
        return f"SLO {notice.slo}: incident {notice.kind}"
    incident = verdict.history.incident if verdict.history else None
    if notice.kind == "resolved":
        lasted = (
            f" after {format_duration(incident.duration_s)}"
            if incident and incident.duration_s
            else ""
        )
        return (
            f"SLO {notice.slo} recovered{lasted}: {verdict.observed}, threshold {verdict.threshold}"
        )
    streak = incident.bad_streak if incident else 0
    runs = f"{streak} bad run{'s' if streak != 1 else ''}" if streak else "burn-rate alert"
    since = f", since {incident.since:%H:%M} UTC" if incident and incident.since else ""
    verb = "still breached" if notice.kind == "reminder" else "breached"
    return (
        f"SLO {notice.slo} {verb}: {verdict.observed}, expected {verdict.threshold} ({runs}{since})"
    )


def context(result: RunResult, verdict: Verdict | None, report_url: str | None) -> dict[str, Any]:
    run = result.run
    data: dict[str, Any] = {"run_id": run.run_id, "trigger": run.trigger, "target": run.base_url}
    if report_url:
        data["report"] = report_url
    if verdict is None:
        return data
    data.update(
        {
            "slo": verdict.slo,
            "status": verdict.status.value,
            "observed": verdict.observed,
            "threshold": verdict.threshold,
            "reason": verdict.reason,
            "owner": verdict.owner,
            "runbook": verdict.runbook,
        }
    )
    history = verdict.history
    if history is not None:
        data["budget"] = budget_text(verdict)
        data["burn_rates"] = burn_rates_text(history)  # {"1 h": "16.7×"}: Sentry shows it to people
        data["firing"] = list(history.firing)
        data["incident"] = {
            "cause": history.incident.cause,
            "since": history.incident.since.isoformat() if history.incident.since else None,
            "bad_runs": history.incident.bad_streak,
        }
        if history.budget is not None:
            data["window"] = format_duration(history.budget.window_s)
            data["objective"] = objective_percent(history.budget.objective)
    return data
