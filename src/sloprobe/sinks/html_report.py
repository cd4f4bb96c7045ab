"""report.html: one self-contained page a person opens after a run.

Everything the target returned is untrusted: the template is rendered with
autoescape on and never marks data safe; links are only drawn for http(s).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from sloprobe.judge.thresholds import ThresholdError, format_observed, parse_threshold
from sloprobe.model.describe import (
    budget_note,
    budget_text,
    burn_text,
    incident_text,
    objective_text,
)
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.percentiles import PercentileMethod, percentile
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.units import Dimension
from sloprobe.model.verdict import Verdict
from sloprobe.sinks.charts import line_chart, status_strip
from sloprobe.sinks.files import write_atomically

FILE_NAME = "report.html"
_METHODS = {
    PercentileMethod.LINEAR: "linear (Hyndman–Fan type 7)",
    PercentileMethod.NEAREST_RANK: "nearest rank",
}

_environment = Environment(
    loader=PackageLoader("sloprobe.sinks", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class SeriesView:
    name: str
    unit: str
    count: int
    summary: str


def write_html_report(result: RunResult, directory: Path) -> Path:
    return write_atomically(directory / FILE_NAME, render_html_report(result))


def render_html_report(result: RunResult) -> str:
    template = _environment.get_template("report.html.j2")
    verdicts = sorted(result.verdicts, key=lambda v: v.rank)
    return template.render(
        result=result,
        run=result.run,
        status=result.status.value,
        counts=[(s.value.replace("_", " "), result.count(s), s.value) for s in Status],
        verdicts=verdicts,
        measurements=sorted(result.measurements.values(), key=lambda m: m.probe),
        series_views=_series_views,
        method_name=lambda v: _METHODS[v.percentile_method],
        link=_safe_link,
        status_label=_status_label,
        budget_text=budget_text,
        budget_note=budget_note,
        objective_text=objective_text,
        burn_text=burn_text,
        incident_text=incident_text,
        charts=_charts,
    )


@dataclass(frozen=True)
class SloCharts:
    last_day: Markup
    window: Markup
    values: Markup
    budget: Markup
    runs: int


def _charts(result: RunResult, verdict: Verdict) -> SloCharts | None:
    points = result.timeline.get(verdict.slo, ())
    if not points:
        return None
    day_start = result.run.started_at - timedelta(days=1)
    last_day = [p for p in points if p.at > day_start]
    return SloCharts(
        last_day=status_strip(last_day, f"{verdict.slo}: status of each run, last 24 h"),
        window=status_strip(points, f"{verdict.slo}: status over the window")
        if len(points) > len(last_day)
        else Markup(""),
        values=line_chart(
            points, f"{verdict.slo}: observed value over time", bound=_bound(verdict)
        ),
        budget=line_chart(points, f"{verdict.slo}: error budget left", budget=True),
        runs=len(points),
    )


def _bound(verdict: Verdict) -> float | None:
    """The numeric bound of the SLO's first threshold, in base units, for the threshold line."""
    if not verdict.checks:
        return None
    try:
        target = parse_threshold(verdict.checks[0].expression).targets[0]
    except ThresholdError:
        return None
    return (
        float(target) if isinstance(target, int | float) and not isinstance(target, bool) else None
    )


def _status_label(verdict: Verdict) -> str:
    label = verdict.status.value.replace("_", " ")
    return (
        label + " (allowed)"
        if verdict.status is Status.NO_DATA and not verdict.counts_as_bad
        else label
    )


def _safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) stays text."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def _series_views(measurement: Measurement) -> list[SeriesView]:
    return [_series_view(s) for s in measurement.series.values()]


def _series_view(series: Series) -> SeriesView:
    dimension = series.dimension
    samples = series.samples
    if not samples:
        summary = "no samples"
    elif dimension in (Dimension.TEXT, Dimension.BOOLEAN) or any(
        isinstance(s, str) for s in samples
    ):
        summary = "last " + format_observed(
            samples[-1], Dimension.TEXT if isinstance(samples[-1], str) else dimension
        )
        if dimension is Dimension.BOOLEAN:
            true = sum(1 for s in samples if s is True)
            summary = f"{true} of {len(samples)} true"
    else:
        numbers = series.numbers()
        low, mid, high = min(numbers), percentile(numbers, 50), max(numbers)
        summary = (
            format_observed(numbers[0], dimension)
            if len(numbers) == 1
            else f"min {format_observed(low, dimension)} · median {format_observed(mid, dimension)} · max {format_observed(high, dimension)}"
        )
    return SeriesView(series.name, series.unit.value, len(samples), summary)
