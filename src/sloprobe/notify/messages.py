"""What a notice says: a message a human can act on, plus tags and context for machines."""

from __future__ import annotations

from typing import Any

from sloprobe.model.describe import budget_text, burn_rates_text, objective_percent
from sloprobe.model.notice import Notice
from sloprobe.model.result import RunInfo
from sloprobe.model.units import format_duration
from sloprobe.model.verdict import Verdict
from sloprobe.notify.where import Seen


def headline(notice: Notice, verdict: Verdict | None, seen: Seen | None = None) -> str:
    """``SLO job-e2e breached: value = 42.1s, expected value < 30s (3 runs, since 10:05 UTC)``.

    An opening or reminder quotes what the bad runs observed (``seen``, from history),
    not the queuing run, which may be a healthy location's; seen from several
    locations or under a quorum it names them: ``SLO depth breached at eu-west
    (value = 500) and us-east (value = 480), expected value < 100 (3 bad runs, since
    10:05 UTC; seen from 2 locations, 2 needed within 10 m)``.
    """
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
    quorum = seen.quorum_text() if seen is not None else None
    details = f"{runs}{since}" + (f"; {quorum}" if quorum else "")
    if seen is not None and seen.named:
        return f"SLO {notice.slo} {verb}{seen.at_locations()}, expected {verdict.threshold} ({details})"
    observed = observed_of(notice, verdict, seen)
    return f"SLO {notice.slo} {verb}: {observed}, expected {verdict.threshold} ({details})"


def observed_of(notice: Notice, verdict: Verdict, seen: Seen | None) -> str:
    """What a notice quotes as observed: for an opening or a reminder, the bad runs' values."""
    if notice.kind != "resolved" and seen is not None:
        quoted = seen.observed()
        if quoted is not None:
            return quoted
    return verdict.observed


def context(
    run: RunInfo,
    verdict: Verdict | None,
    report_url: str | None,
    notice: Notice | None = None,
    seen: Seen | None = None,
) -> dict[str, Any]:
    """Sentry's ``slo`` context; with ``seen``, where the breach was seen and the quorum."""
    data: dict[str, Any] = {"run_id": run.run_id, "trigger": run.trigger, "target": run.base_url}
    if report_url:
        data["report"] = report_url
    if seen is not None:
        data.update(seen.context())
    if verdict is None:
        return data
    data.update(
        {
            "slo": verdict.slo,
            "status": verdict.status.value,
            "observed": observed_of(notice, verdict, seen) if notice else verdict.observed,
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
