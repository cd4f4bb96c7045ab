"""What report.html says of each SLO, worked out before the template renders it.

The page answers "what is wrong" first: the run's verdict and what changed
since the previous run (the timeline's last point before this run, per SLO),
then each SLO most urgent first with observed against threshold, since when,
the incident, the owner and the runbook. Phrases and numbers come from
``model.describe`` and ``model.units``, as in every other output.

Each card states one verdict, this run's (what the exit status follows), and
says apart, on a line of its own, what history adds: an open incident or a
firing burn-rate alert. A run can meet its thresholds while a page alert keeps
an incident open (docs/slo-semantics.md); "all thresholds met" never stands
alone beside it. The error budget and the burn rate are shown together or not
at all, and the percentile method only where a check takes a percentile.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime

from sloprobe.model.describe import (
    budget_note,
    budget_text,
    burn_text,
    describe_burn,
    incident_text,
    objective_text,
)
from sloprobe.model.history import AlertState
from sloprobe.model.measurement import Measurement
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.result import RunResult
from sloprobe.model.status import Level, Status
from sloprobe.model.thresholds import ThresholdError, parse_threshold
from sloprobe.model.units import format_duration, format_rate, plural
from sloprobe.model.verdict import ThresholdCheck, Verdict
from sloprobe.probes.tracing import TraceLinks, TraceRef
from sloprobe.sinks.report_charts import SloCharts, slo_charts
from sloprobe.sinks.report_links import safe_link

METHODS = {
    PercentileMethod.LINEAR: "linear (Hyndman–Fan type 7)",
    PercentileMethod.NEAREST_RANK: "nearest rank",
}
LEVELS = {Level.BREACH: "breach threshold", Level.WARN: "warn threshold"}


@dataclass(frozen=True)
class CheckView:
    """One threshold of an SLO: its level (which line it is) and its outcome, said apart."""

    expression: str
    level: str
    observed: str
    outcome: str  # held | failed | not computed
    trace: TraceRef | None = None  # a failed check (or any of a breached SLO's): its probe's trace


@dataclass(frozen=True)
class SloView:
    verdict: Verdict
    status: str  # the status' CSS key
    status_label: str
    previous: str | None  # the previous run's status label; None: no earlier run
    change: str | None  # "ok → breach"; None when unchanged or there is no earlier run
    since: datetime | None  # the first bad run of the current bad streak
    since_age: str | None
    incident: str
    transition: str  # opened | ongoing | resolved, or empty
    incident_id: int | None
    incident_opened: datetime | None
    incident_cause: str | None
    incident_open: bool  # after this run: opened or ongoing
    incident_age: str | None
    silenced: str | None
    budget: str
    budget_note: str | None
    budget_state: str  # shown | pending (too little history) | none (no objective) | unknown
    objective: str | None
    burn: str
    firing: tuple[str, ...]  # levels of the burn-rate alerts that fire
    alerts: tuple[str, ...]  # each firing alert said: "page alert 40× over 1 h, …"
    runbook_href: str | None
    probe_title: str
    checks: tuple[CheckView, ...]
    percentiles: tuple[str, ...]  # the checks' percentile aggregates: p95, med
    method: str | None  # the percentile method; None when no check takes a percentile
    charts: SloCharts | None
    trace: TraceRef | None = None  # the probe's trace, for an SLO that is not ok

    @property
    def traced_checks(self) -> bool:
        """Whether the checks table has a trace column: some check shows a trace."""
        return any(c.trace is not None for c in self.checks)

    @property
    def over_time(self) -> bool:
        """History has something to add to this run's verdict: an open incident, a firing alert."""
        return self.incident_open or bool(self.alerts)

    @property
    def attention(self) -> bool:
        """Shown first, charts open: breaches, warnings, no data, open incidents, firing alerts."""
        return self.verdict.status is not Status.OK or self.over_time


@dataclass(frozen=True)
class Changes:
    """What changed since the previous run, from the timeline."""

    previous_at: datetime | None
    ago: str | None
    changed: tuple[SloView, ...]
    unchanged: int
    new: int  # SLOs with no earlier run


def status_label(verdict: Verdict) -> str:
    label = verdict.status.label
    if verdict.status is Status.NO_DATA and not verdict.counts_as_bad:
        return label + " (allowed)"
    return label


def slo_views(result: RunResult, traces: TraceLinks | None = None) -> list[SloView]:
    """Every SLO, most urgent first: breach, bad no data, warning, ok. ``traces``: how a
    trace id is linked (``settings.traces.url``); without it, ids are shown as text."""
    links = traces or TraceLinks()
    return [_view(result, v, links) for v in sorted(result.verdicts, key=lambda v: v.rank)]


def check_trace(verdict: Verdict, check: ThresholdCheck, trace: TraceRef | None) -> TraceRef | None:
    """The trace a check row shows: a failed check's, and a check's not computed in an SLO
    that counts as bad (a failed probe, a job that never finished, leaves its checks so)."""
    if trace is None:
        return None
    return trace if check.held is False or (check.held is None and verdict.counts_as_bad) else None


def _previous(result: RunResult, verdict: Verdict) -> tuple[datetime, str] | None:
    """The last point of the timeline before this run: the previous run (oldest first)."""
    points = result.timeline.get(verdict.slo, ())
    before = bisect.bisect_left(points, result.run.started_at, key=lambda p: p.at)
    return (points[before - 1].at, points[before - 1].status) if before else None


def _view(result: RunResult, verdict: Verdict, traces: TraceLinks) -> SloView:
    previous = _previous(result, verdict)
    before = Status(previous[1]).label if previous and previous[1] in set(Status) else None
    now = verdict.status.label
    history = verdict.history
    incident = history.incident if history else None
    since = incident.since if incident and verdict.counts_as_bad else None
    measurement = result.measurements.get(verdict.probe)
    percentiles = percentile_aggregates(verdict)
    open_now = incident is not None and incident.open
    trace = traces.ref(measurement) if verdict.status is not Status.OK else None
    return SloView(
        verdict=verdict,
        status=verdict.status.value,
        status_label=status_label(verdict),
        previous=before,
        change=f"{before} → {now}" if before is not None and before != now else None,
        since=since,
        since_age=_age(result.run.started_at, since) if since else None,
        incident=incident_text(verdict),
        transition=incident.transition.value if incident and incident.transition else "",
        incident_id=incident.incident_id if incident else None,
        incident_opened=incident.opened_at if incident else None,
        incident_cause=incident.cause if incident and incident.opened_at else None,
        incident_open=open_now,
        incident_age=format_duration(incident.duration_s)
        if open_now and incident and incident.duration_s is not None
        else None,
        silenced=incident.silenced if incident else None,
        budget=budget_text(verdict),
        budget_note=budget_note(verdict),
        budget_state=_budget_state(verdict),
        objective=objective_text(history.budget) if history and history.budget else None,
        burn=burn_text(verdict),
        firing=history.firing if history else (),
        alerts=tuple(alert_text(a) for a in history.alerts if a.firing) if history else (),
        runbook_href=safe_link(verdict.runbook),
        probe_title=probe_title(verdict.probe, measurement, result.run.base_url),
        checks=tuple(
            CheckView(
                c.expression,
                LEVELS[c.level],
                c.observed_text,
                "held" if c.held else ("failed" if c.held is False else "not computed"),
                check_trace(verdict, c, trace),
            )
            for c in verdict.checks
        ),
        percentiles=percentiles,
        method=METHODS[verdict.percentile_method] if percentiles else None,
        charts=slo_charts(result, verdict),
        trace=trace,
    )


def _budget_state(verdict: Verdict) -> str:
    """Whether the error budget and the burn rate can be shown, which is the same for both."""
    if verdict.history is None:
        return "unknown"
    if verdict.history.budget is None:
        return "none"
    return "pending" if budget_note(verdict) is not None else "shown"


def alert_text(alert: AlertState) -> str:
    """``page alert 40× over 1 h, 100× over 5 m (fires at 14.4×)``: both windows, as judged."""
    return (
        f"{alert.level} alert {describe_burn(alert.long)} over "
        f"{format_duration(alert.long.window_s)}, {describe_burn(alert.short)} over "
        f"{format_duration(alert.short.window_s)} (fires at {format_rate(alert.factor)})"
    )


def percentile_aggregates(verdict: Verdict) -> tuple[str, ...]:
    """The percentiles the checks take (``p95``, ``med``): only they have a method to state."""
    found: list[str] = []
    for check in verdict.checks:
        try:
            aggregate = parse_threshold(check.expression).aggregate
        except ThresholdError:
            continue
        if aggregate.q is not None or aggregate.name == "med":
            found.append(str(aggregate))
    return tuple(dict.fromkeys(found))


def _age(now: datetime, since: datetime) -> str:
    return "this run" if since >= now else format_duration((now - since).total_seconds())


def probe_title(probe: str, measurement: Measurement | None, base_url: str | None) -> str:
    """``stats · GET /admin/jobs/stats?hours=24``: the probe and what it asked, query included,
    so two probes of one path with different queries read apart."""
    request = measurement.details.get("request") if measurement else None
    if not request:
        return probe
    method, _, url = request.partition(" ")
    if base_url and url.startswith(base_url.rstrip("/")):
        url = url[len(base_url.rstrip("/")) :] or "/"
    return f"{probe} · {method} {url}" if url else f"{probe} · {request}"


def changes(result: RunResult, views: list[SloView]) -> Changes:
    times = [p for v in views if (p := _previous(result, v.verdict)) is not None]
    previous_at = max(at for at, _ in times) if times else None
    return Changes(
        previous_at=previous_at,
        ago=format_duration((result.run.started_at - previous_at).total_seconds())
        if previous_at
        else None,
        changed=tuple(v for v in views if v.change),
        unchanged=sum(1 for v in views if v.previous is not None and not v.change),
        new=sum(1 for v in views if v.previous is None),
    )


def headline(result: RunResult) -> str:
    """``2 of 6 SLOs breached (depth, latency); 1 warning (success)`` or ``all 6 SLOs met``."""
    verdicts = sorted(result.verdicts, key=lambda v: v.rank)
    total = len(verdicts)
    if not total:
        return "No SLO was judged"
    parts = []
    for label, group in (
        ("breached", [v for v in verdicts if v.status is Status.BREACH]),
        (
            "no data (counts as bad)",
            [v for v in verdicts if v.status is Status.NO_DATA and v.counts_as_bad],
        ),
        ("warning", [v for v in verdicts if v.status is Status.WARNING]),
        (
            "no data (allowed)",
            [v for v in verdicts if v.status is Status.NO_DATA and not v.counts_as_bad],
        ),
    ):
        if group:
            parts.append(f"{len(group)} {label} ({', '.join(v.slo for v in group)})")
    if not parts:
        return (
            "The SLO met its thresholds" if total == 1 else f"All {total} SLOs met their thresholds"
        )
    met = sum(1 for v in verdicts if v.status is Status.OK)
    return f"{'; '.join(parts)}; {met} of {plural(total, 'SLO')} met"
