"""metrics.prom: sloprobe's own verdicts in the Prometheus text format (node_exporter textfile collector).

One gauge family per fact, labelled by service, environment and SLO, so a
team that lives in Grafana can chart and alert on the same verdicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sloprobe.files import write_atomically
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.thresholds import ThresholdError, parse_threshold
from sloprobe.model.units import Dimension, format_base
from sloprobe.model.verdict import Verdict

if TYPE_CHECKING:
    from prometheus_client.core import GaugeMetricFamily

FILE_NAME = "metrics.prom"


def write_metrics_prom(result: RunResult, directory: Path) -> Path:
    return write_atomically(directory / FILE_NAME, render_metrics(result))


def render_metrics(result: RunResult) -> str:
    """The text file: metric families built from the result and handed to prometheus_client's
    writer as a custom collector (no live gauges, locks or children: this is a snapshot)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    run = result.run
    base = ["service", "environment"]
    per_slo = [*base, "slo"]

    def family(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, documentation, labels=labels)

    status = family(
        "sloprobe_slo_status",
        "1 for the SLO's status in the last run, 0 for the others.",
        [*per_slo, "status"],
    )
    ok = family("sloprobe_slo_ok", "1 when the SLO did not count as bad in the last run.", per_slo)
    observed = family(
        "sloprobe_slo_observed",
        "Observed aggregate of the last run, base units (seconds, ratios).",
        per_slo,
    )
    bound = family(
        "sloprobe_slo_threshold",
        "Numeric bound of the SLO's first threshold, base units.",
        [*per_slo, "expression"],
    )
    budget = family(
        "sloprobe_slo_error_budget_remaining_ratio",
        "Error budget left over the window (1 = all).",
        per_slo,
    )
    burn = family("sloprobe_slo_burn_rate", "Burn rate over a window.", [*per_slo, "window"])
    incident = family(
        "sloprobe_slo_incident_open", "1 while an incident is open for the SLO.", per_slo
    )
    duration = family("sloprobe_run_duration_seconds", "How long the last run took.", base)
    stamp = family("sloprobe_run_timestamp_seconds", "When the last run started (Unix time).", base)
    run_status = family(
        "sloprobe_run_status",
        "1 for the run's overall status, 0 for the others.",
        [*base, "status"],
    )
    labels = [run.service, run.environment]
    for verdict in result.verdicts:
        slo = [*labels, verdict.slo]
        for each in Status:
            status.add_metric([*slo, each.value], 1 if verdict.status is each else 0)
        ok.add_metric(slo, 0 if verdict.counts_as_bad else 1)
        value = _observed(verdict)
        if value is not None:
            observed.add_metric(slo, value)
        if verdict.checks:
            number = _bound(verdict.checks[0].expression)
            if number is not None:
                bound.add_metric([*slo, verdict.checks[0].expression], number)
        history = verdict.history
        if history is not None:
            incident.add_metric(slo, 1 if history.incident.open else 0)
            if history.budget is not None and history.budget.remaining_fraction is not None:
                budget.add_metric(slo, history.budget.remaining_fraction)
            by_window = {  # one series per label set: windows that read alike, the last
                format_base(rate.window_s, Dimension.TIME): rate.rate
                for rate in history.burn_rates
                if rate.rate is not None
            }
            for window, value in by_window.items():
                burn.add_metric([*slo, window], value)
    duration.add_metric(labels, run.duration_s)
    stamp.add_metric(labels, run.started_at.timestamp())
    for each in Status:
        run_status.add_metric([*labels, each.value], 1 if result.status is each else 0)
    families = [
        status, ok, observed, bound, budget, burn, incident, duration, stamp, run_status
    ]  # fmt: skip
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    return generate_latest(registry).decode()


class _Snapshot:
    """A collector that yields families already built (prometheus_client's custom collector)."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self._families


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
