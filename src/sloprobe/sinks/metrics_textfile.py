"""metrics.prom: sloprobe's own verdicts in the Prometheus text format (node_exporter textfile collector).

One gauge family per fact, labelled by service, environment and SLO, so a
team that lives in Grafana can chart and alert on the same verdicts.
"""

from __future__ import annotations

from pathlib import Path

from sloprobe.files import write_atomically
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.thresholds import ThresholdError, parse_threshold
from sloprobe.model.units import Dimension, format_base
from sloprobe.model.verdict import Verdict

FILE_NAME = "metrics.prom"


def write_metrics_prom(result: RunResult, directory: Path) -> Path:
    return write_atomically(directory / FILE_NAME, render_metrics(result))


def render_metrics(result: RunResult) -> str:
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    run = result.run
    registry = CollectorRegistry()
    base = ["service", "environment"]
    per_slo = [*base, "slo"]
    status = Gauge(
        "sloprobe_slo_status",
        "1 for the SLO's status in the last run, 0 for the others.",
        [*per_slo, "status"],
        registry=registry,
    )
    ok = Gauge(
        "sloprobe_slo_ok",
        "1 when the SLO did not count as bad in the last run.",
        per_slo,
        registry=registry,
    )
    observed = Gauge(
        "sloprobe_slo_observed",
        "Observed aggregate of the last run, base units (seconds, ratios).",
        per_slo,
        registry=registry,
    )
    bound = Gauge(
        "sloprobe_slo_threshold",
        "Numeric bound of the SLO's first threshold, base units.",
        [*per_slo, "expression"],
        registry=registry,
    )
    budget = Gauge(
        "sloprobe_slo_error_budget_remaining_ratio",
        "Error budget left over the window (1 = all).",
        per_slo,
        registry=registry,
    )
    burn = Gauge(
        "sloprobe_slo_burn_rate",
        "Burn rate over a window.",
        [*per_slo, "window"],
        registry=registry,
    )
    incident = Gauge(
        "sloprobe_slo_incident_open",
        "1 while an incident is open for the SLO.",
        per_slo,
        registry=registry,
    )
    duration = Gauge(
        "sloprobe_run_duration_seconds", "How long the last run took.", base, registry=registry
    )
    stamp = Gauge(
        "sloprobe_run_timestamp_seconds",
        "When the last run started (Unix time).",
        base,
        registry=registry,
    )
    run_status = Gauge(
        "sloprobe_run_status",
        "1 for the run's overall status, 0 for the others.",
        [*base, "status"],
        registry=registry,
    )
    labels = {"service": run.service, "environment": run.environment}
    for verdict in result.verdicts:
        slo = {**labels, "slo": verdict.slo}
        for each in Status:
            status.labels(**slo, status=each.value).set(1 if verdict.status is each else 0)
        ok.labels(**slo).set(0 if verdict.counts_as_bad else 1)
        value = _observed(verdict)
        if value is not None:
            observed.labels(**slo).set(value)
        if verdict.checks:
            number = _bound(verdict.checks[0].expression)
            if number is not None:
                bound.labels(**slo, expression=verdict.checks[0].expression).set(number)
        history = verdict.history
        if history is not None:
            incident.labels(**slo).set(1 if history.incident.open else 0)
            if history.budget is not None and history.budget.remaining_fraction is not None:
                budget.labels(**slo).set(history.budget.remaining_fraction)
            for rate in history.burn_rates:
                if rate.rate is not None:
                    burn.labels(**slo, window=format_base(rate.window_s, Dimension.TIME)).set(
                        rate.rate
                    )
    duration.labels(**labels).set(run.duration_s)
    stamp.labels(**labels).set(run.started_at.timestamp())
    for each in Status:
        run_status.labels(**labels, status=each.value).set(1 if result.status is each else 0)
    return generate_latest(registry).decode()


def _observed(verdict: Verdict) -> float | None:
    for check in verdict.checks:
        if isinstance(check.observed, int | float) and not isinstance(check.observed, bool):
            return float(check.observed)
    return None


def _bound(expression: str) -> float | None:
    try:
        target = parse_threshold(expression).targets[0]
    except ThresholdError:
        return None
    return (
        float(target) if isinstance(target, int | float) and not isinstance(target, bool) else None
    )
