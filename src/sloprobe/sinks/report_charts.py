"""The charts under each SLO of report.html: what was observed over the last day, and the budget.

Two figures per SLO, each on a linear UTC time axis:

- **the last 24 h**: the observed value (the aggregate the first threshold reads,
  on one axis unit that the threshold and warn lines are labelled in too), runs in
  breach shaded, the incident as a band, gaps in the runs marked, and a bar
  of each run's status under it;
- **the window**: the error budget left, 0–100 %, over the objective's window
  (or, for an SLO without one, the status of each run over the history shown).

Gaps are stretches much longer than the usual interval between runs, and the
schedule's own gaps when the run knows its cron (``RunResult.schedule``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup, escape

from sloprobe.model.describe import MIN_BUDGET_COVERAGE, budget_note
from sloprobe.model.measurement import Measurement
from sloprobe.model.result import RunResult
from sloprobe.model.status import Level
from sloprobe.model.thresholds import Threshold, ThresholdError, parse_threshold
from sloprobe.model.timeline import Point
from sloprobe.model.units import Dimension, Unit, format_duration, format_percent
from sloprobe.model.verdict import Verdict
from sloprobe.sinks.chart_scales import (
    Runs,
    Span,
    Tick,
    TimeFrame,
    axis_unit,
    breaks_at,
    format_in,
    merge,
    read_runs,
    value_scale,
)
from sloprobe.sinks.charts import Band, Line, downsample, figure, plot, status_strip, strip_row

DAY = timedelta(days=1)
SHORTEST_FRAME = timedelta(minutes=5)  # a young history is drawn over at least this much
_BOUND_OPERATORS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class SloCharts:
    recent: Markup
    window: Markup
    runs: int


@dataclass(frozen=True)
class Bound:
    """A threshold or warn line: the expression as written, and its bound in base units."""

    level: Level
    expression: str
    op: str
    value: float


@dataclass(frozen=True)
class Plotted:
    """What the value chart of an SLO shows: which aggregate, in which dimension, which lines."""

    aggregate: str
    dimension: Dimension
    unit: Unit | None
    lines: tuple[Bound, ...]

    def label(self, line: Bound, unit: Unit | None) -> str:
        """``threshold p95 < 2.5s``: the line's bound said in the axis' unit, so a threshold
        written ``2500ms`` reads on an axis in seconds as the value it is drawn at."""
        kind = "threshold" if line.level is Level.BREACH else "warn"
        return f"{kind} {self.aggregate} {line.op} {format_in(line.value, self.dimension, unit)}"


def time_tag(at: datetime) -> Markup:
    """``<time datetime="…Z">2026-11-24 12:00 UTC</time>``: UTC shown, the instant machine-readable."""
    at = at.astimezone(UTC)
    return Markup(
        f'<time datetime="{at.strftime("%Y-%m-%dT%H:%M:%SZ")}">{escape(at.strftime("%Y-%m-%d %H:%M UTC"))}</time>'
    )


def slo_charts(result: RunResult, verdict: Verdict) -> SloCharts | None:
    end = result.run.started_at
    points = [p for p in result.timeline.get(verdict.slo, ()) if p.at <= end]
    if not points:
        return None
    scheduled = [(g.start, g.end) for g in result.schedule.gaps] if result.schedule else []
    history = _History(points, read_runs([p.at for p in points], scheduled))
    measurement = result.measurements.get(verdict.probe)
    # The last day; a younger history is drawn over its own length, not lost in an empty day.
    age = end - points[0].at
    start = end - min(DAY, max(age * 1.05, SHORTEST_FRAME))
    recent = _recent(verdict, history, TimeFrame(start, end), measurement)
    return SloCharts(recent, _window(verdict, history, end), len(points))


@dataclass(frozen=True)
class _History:
    """One SLO's points with its runs read once (gaps, spans), cut to each chart's frame."""

    points: Sequence[Point]
    runs: Runs

    def within(self, frame: TimeFrame) -> tuple[Sequence[Point], Sequence[Span]]:
        inside = self.runs.between(frame)
        return self.points[inside], self.runs.spans[inside]


def plotted(verdict: Verdict, measurement: Measurement | None) -> Plotted | None:
    """The aggregate history holds for this SLO (its first numeric check) and its lines."""
    expressions = [(Level.BREACH, e) for e in _split(verdict.threshold)] + [
        (Level.WARN, e) for e in _split(verdict.warn)
    ]
    parsed: list[tuple[Level, Threshold]] = []
    for level, expression in expressions:
        try:
            parsed.append((level, parse_threshold(expression)))
        except ThresholdError:
            continue
    numeric = next(
        (
            c.expression
            for c in verdict.checks
            if isinstance(c.observed, int | float) and not isinstance(c.observed, bool)
        ),
        None,
    )
    first = next((t for _, t in parsed if numeric is None or t.text == numeric.strip()), None)
    if first is None:
        return None
    series = measurement.series.get(verdict.measure) if measurement else None
    try:
        dimension = (
            first.result_dimension(series.unit)
            if series
            else first.target_dimension or Dimension.NUMBER
        )
    except ThresholdError:
        dimension = first.target_dimension or Dimension.NUMBER
    if dimension in (Dimension.TEXT, Dimension.BOOLEAN):
        return None
    lines = []
    for level, threshold in parsed:
        target = threshold.targets[0]
        if (
            str(threshold.aggregate) != str(first.aggregate)
            or threshold.op not in _BOUND_OPERATORS
            or isinstance(target, str | bool)
        ):
            continue
        bound = float(target)
        if threshold.target_dimension is None and dimension is Dimension.TIME:
            bound = Unit.MS.to_base(bound)  # k6 reads a bare number against time as milliseconds
        lines.append(Bound(level, threshold.text, threshold.op, bound))
    return Plotted(str(first.aggregate), dimension, series.unit if series else None, tuple(lines))


def _split(expressions: str | None) -> list[str]:
    return [e.strip() for e in (expressions or "").split(" and ") if e.strip()]


def _common(
    verdict: Verdict, history: _History, frame: TimeFrame
) -> tuple[list[Band], list[Markup], Markup]:
    """The incident, the gaps and the start of history as bands, their legend, and the strip."""
    bands: list[Band] = []
    legend: list[Markup] = []
    points, spans = history.within(frame)
    incident = verdict.history.incident if verdict.history else None
    if incident is not None and incident.opened_at is not None:
        name = f"incident #{incident.incident_id}" if incident.incident_id else "incident"
        state = incident.transition.value if incident.transition else "open"
        band = (incident.opened_at, frame.end)
        bands.append(Band("incident", band, f"{name} ({state})"))
        if frame.holds(band):
            legend.append(
                Markup('<span class="swatch incident"></span> {} {}: opened {}').format(
                    name, state, time_tag(incident.opened_at)
                )
            )
    shown_gaps = [g for g in history.runs.gaps if frame.holds(g)]
    for start, stop in shown_gaps:
        length = format_duration((stop - start).total_seconds())
        bands.append(Band("gap", (start, stop), f"no runs ({length})"))
    if shown_gaps:
        legend.append(
            Markup('<span class="swatch gap"></span> no runs: ')
            + Markup(", ").join(
                Markup("{} – {} ({})").format(
                    time_tag(a), time_tag(b), format_duration((b - a).total_seconds())
                )
                for a, b in shown_gaps
            )
        )
    if spans and spans[0][0] > frame.start + timedelta(seconds=1):
        bands.append(Band("before", (frame.start, spans[0][0]), "no history yet"))
        legend.append(
            Markup('<span class="swatch before"></span> history starts {}').format(
                time_tag(points[0].at)
            )
        )
    strip = status_strip(points, spans, frame, f"{verdict.slo}: status of each run")
    return bands, legend, strip


def _recent(
    verdict: Verdict, history: _History, frame: TimeFrame, measurement: Measurement | None
) -> Markup:
    points, spans = history.within(frame)
    if not points:
        return Markup("")
    bands, legend, strip = _common(verdict, history, frame)
    shown = downsample(points, frame)
    values = [(p.at, p.value) for p in shown if p.value is not None and math.isfinite(p.value)]
    what = plotted(verdict, measurement)
    rows = []
    if what is not None and values:
        bounds = [line.value for line in what.lines]
        low = min([v for _, v in values] + bounds)
        high = max([v for _, v in values] + bounds)
        if 0 <= low <= high * 0.5:
            low = 0.0  # amounts read best from zero, unless that flattens them
        bottom, top, ticks = value_scale(low, high, what.dimension)

        def scale(value: float) -> float:
            return (value - bottom) / ((top - bottom) or 1.0)

        unit = axis_unit(ticks, what.dimension)
        lines = [
            Line(
                "breach" if line.level is Level.BREACH else "warn",
                what.label(line, unit),
                scale(line.value),
            )
            for line in what.lines
        ]
        breached = [span for p, span in zip(points, spans, strict=True) if p.status == "breach"]
        named = f" ({what.unit.value})" if what.unit and what.dimension is Dimension.NUMBER else ""
        rows.append(
            plot(
                values,
                frame,
                title=f"{verdict.slo}: observed value over time",
                scale=scale,
                ticks=[Tick(scale(v), format_in(v, what.dimension, unit)) for v in ticks],
                axis_title=f"{what.aggregate}{named}",
                lines=lines,
                bands=bands,
                shaded=breached,
                breaks=breaks_at([at for at, _ in values], history.runs.gaps),
            )
        )
        if breached:
            legend.insert(0, Markup('<span class="swatch breach-period"></span> runs in breach'))
        caption = Markup("<strong>Observed {} of <code>{}</code></strong> · {}").format(
            what.aggregate, verdict.measure, _last(frame)
        )
    else:
        caption = Markup("<strong>Status of each run</strong> · {}").format(_last(frame))
    rows.append(strip_row(strip))
    return figure(caption, rows, frame, legend, "recent")


def _last(frame: TimeFrame) -> str:
    return f"last {format_duration(frame.seconds)}"


def _window(verdict: Verdict, history: _History, end: datetime) -> Markup:
    budget = verdict.history.budget if verdict.history else None
    if budget is None:
        first = history.points[0].at
        if first > end - DAY:
            return Markup("")  # the last day's figure shows all there is
        frame = TimeFrame(first - timedelta(seconds=1), end)
        bands, legend, strip = _common(verdict, history, frame)
        caption = Markup("<strong>Status of each run</strong> · last {}").format(
            format_duration(frame.seconds)
        )
        return figure(caption, [strip_row(strip)], frame, legend, "window")
    frame = TimeFrame(end - timedelta(seconds=budget.window_s), end)
    shown, spans = history.within(frame)
    note = budget_note(verdict)
    if not shown or (note is not None and shown[0].at > end - DAY):
        return Markup("")  # no budget to draw yet, and the last day's figure holds every run
    bands, legend, strip = _common(verdict, history, frame)
    rows = []
    if note is None:
        cutoff = frame.start
        if shown[0].at > frame.start + DAY / 24:  # a young history: early budgets stand for little
            cutoff = shown[0].at + timedelta(seconds=MIN_BUDGET_COVERAGE * budget.window_s)
        drawn = downsample(shown, frame)
        budgets = [
            (p.at, p.budget_remaining)
            for p in drawn
            if p.budget_remaining is not None and p.at >= cutoff
        ]
        if budgets:
            overspent = [
                s
                for p, s in zip(shown, spans, strict=True)
                if p.budget_remaining is not None and p.budget_remaining < 0 and p.at >= cutoff
            ]
            rows.append(
                plot(
                    [(at, max(0.0, value)) for at, value in budgets],
                    frame,
                    title=f"{verdict.slo}: error budget left",
                    scale=lambda value: value,
                    ticks=[Tick(v, format_percent(v)) for v in (0.0, 0.25, 0.5, 0.75, 1.0)],
                    axis_title="left",
                    lines=[Line("budget", "exhausted", 0.0)],
                    bands=bands + [Band("overspent", s, "overspent") for s in merge(overspent)],
                    breaks=breaks_at([at for at, _ in budgets], history.runs.gaps),
                    css_class="budget",
                )
            )
            if cutoff > frame.start:
                legend.append(
                    Markup("budget drawn once history covered {} of the window").format(
                        format_percent(MIN_BUDGET_COVERAGE)
                    )
                )
    else:
        legend.append(Markup("error budget {}").format(note))
    caption = Markup("<strong>Error budget left</strong> · {} window").format(
        format_duration(budget.window_s)
    )
    rows.append(strip_row(strip))
    return figure(caption, rows, frame, legend, "window")
