"""Charts as inline SVG with HTML labels, drawn on the server from history: no script, no request.

A chart is a ``<figure>``: the plot is an SVG stretched to the page's width
(``preserveAspectRatio="none"``, strokes that do not scale), and every word on
it — axis ticks, the threshold and warn lines, incidents, gaps — is an HTML
label placed over it in percent, so text stays readable at 390 px and 1280 px
alike. Time runs left to right, linearly, in UTC: a stretch with no run shows
as one. Every text is escaped here; numbers come from ``model.units``.

Long histories are reduced to at most ``MAX_POINTS`` points, bucketed by time:
the worst status, the highest value and the lowest budget of each bucket
(percentiles are never averaged), as the history store buckets older runs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from sloprobe.model.status import Status
from sloprobe.model.timeline import Point
from sloprobe.model.units import format_duration
from sloprobe.sinks.chart_scales import Span, Tick, TimeFrame, merge, time_ticks

STATUS_COLOURS = {"ok": "#2da44e", "warning": "#d4a72c", "breach": "#cf222e", "no_data": "#8250df"}
MAX_POINTS = 400
WIDTH = 1000  # the SVG's own units; the page stretches it to its width
PLOT_HEIGHT = 200
STRIP_HEIGHT = 10


_SEVERITY = {s.value: s.severity for s in Status}


def _severity(status: str) -> int:
    return _SEVERITY.get(status, 0)


@dataclass(frozen=True)
class Line:
    """A horizontal line across a plot: a threshold, a warn level, an exhausted budget."""

    kind: str  # breach | warn | budget
    label: str
    position: float  # 0 (bottom) .. 1 (top)


@dataclass(frozen=True)
class Band:
    """A stretch of time marked on a plot: an incident, a gap in the runs, no history yet."""

    kind: str  # incident | gap | before | overspent
    span: Span
    label: str


def downsample(points: Sequence[Point], frame: TimeFrame, limit: int = MAX_POINTS) -> list[Point]:
    """At most ``limit`` points over the frame (``points`` oldest first): per time bucket the
    worst status, highest value, lowest budget. Buckets without a run stay empty, so gaps survive."""
    if len(points) <= limit:
        return list(points)
    out: list[Point] = []
    current = -1
    for point in points:
        index = min(int(frame.fraction(point.at) * limit), limit - 1)
        if index != current or not out:
            out.append(point)
            current = index
            continue
        last = out[-1]
        value, budget = last.value, last.budget_remaining
        if point.value is not None and (value is None or point.value > value):
            value = point.value
        if point.budget_remaining is not None and (
            budget is None or point.budget_remaining < budget
        ):
            budget = point.budget_remaining
        status = point.status if _severity(point.status) > _severity(last.status) else last.status
        out[-1] = Point(point.at, status, value, budget)
    return out


def _x(frame: TimeFrame, at: datetime) -> float:
    return frame.fraction(at) * WIDTH


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"


def _stretch(start: datetime, end: datetime) -> str:
    """``Nov 24 13:30–14:00``, ``Nov 23 22:00–Nov 24 01:00``: a bar's tooltip, times in UTC."""
    day = "%H:%M" if start.date() == end.date() else "%b %d %H:%M"
    return f"{start:%b %d %H:%M}–{end.strftime(day)}"


def status_strip(
    points: Sequence[Point], spans: Sequence[Span], frame: TimeFrame, title: str
) -> Markup:
    """A bar per stretch of runs of one status, like a status page, on the chart's time axis."""
    if not points:
        return Markup("")
    segments: list[tuple[Span, str, int]] = []  # (span, status, runs)
    for point, span in zip(points, spans, strict=True):
        if segments and segments[-1][1] == point.status and segments[-1][0][1] == span[0]:
            (start, _), status, runs = segments[-1]
            segments[-1] = ((start, span[1]), status, runs + 1)
        else:
            segments.append((span, point.status, 1))
    if len(segments) > MAX_POINTS:
        segments = _coarsen(segments, frame)
    bars = "".join(
        f'<rect x="{_x(frame, start):.2f}" y="0" width="{max(_x(frame, end) - _x(frame, start), 0.8):.2f}" '
        f'height="{STRIP_HEIGHT}" fill="{STATUS_COLOURS.get(status, "#999999")}" data-runs="{runs}">'
        f"<title>{_stretch(start, end)} UTC: {escape(status.replace('_', ' '))}, "
        f"{runs} run{'' if runs == 1 else 's'}</title></rect>"
        for (start, end), status, runs in segments
        if frame.holds((start, end))
    )
    return Markup(
        f'<svg class="chart strip" viewBox="0 0 {WIDTH} {STRIP_HEIGHT}" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(title)}" data-points="{len(points)}">{bars}</svg>'
    )


def _coarsen(
    segments: list[tuple[Span, str, int]], frame: TimeFrame
) -> list[tuple[Span, str, int]]:
    """Flapping over a long frame: one bar per time bucket, of its worst status."""
    merged: dict[int, tuple[Span, str, int]] = {}
    for span, status, runs in segments:
        index = min(int(frame.fraction(span[1]) * MAX_POINTS), MAX_POINTS - 1)
        if index in merged:
            (start, _), worst, count = merged[index]
            worst = status if _severity(status) > _severity(worst) else worst
            merged[index] = ((start, span[1]), worst, count + runs)
        else:
            merged[index] = (span, status, runs)
    return [merged[i] for i in sorted(merged)]


def plot(
    values: Sequence[tuple[datetime, float]],
    frame: TimeFrame,
    *,
    title: str,
    scale: Callable[[float], float],
    ticks: Sequence[Tick],
    axis_title: str,
    lines: Sequence[Line] = (),
    bands: Sequence[Band] = (),
    shaded: Sequence[Span] = (),
    breaks: Collection[datetime] = (),
    css_class: str = "values",
) -> Markup:
    """The plot row of a figure: the value axis and the plot with its lines, bands and labels.

    ``scale`` maps a value to 0 (bottom) .. 1 (top); the path breaks before each of ``breaks``.
    """
    height = PLOT_HEIGHT

    def y(position: float) -> float:
        return height - min(1.0, max(0.0, position)) * height

    shapes: list[str] = []
    labels: list[str] = []
    for band in bands:
        if not frame.holds(band.span):
            continue
        left, right = _x(frame, band.span[0]), _x(frame, band.span[1])
        shapes.append(
            f'<rect class="band {band.kind}" x="{left:.2f}" y="0" width="{max(right - left, 1.5):.2f}" '
            f'height="{height}"><title>{escape(band.label)}</title></rect>'
        )
        if right - left >= WIDTH * 0.06:
            labels.append(
                f'<span class="band-label {band.kind}" style="left:{_pct(left / WIDTH)};'
                f'max-width:{_pct((right - left) / WIDTH)}">{escape(band.label)}</span>'
            )
    for start, end in merge(shaded):
        if frame.holds((start, end)):
            left, right = _x(frame, start), _x(frame, end)
            shapes.append(
                f'<rect class="breach-period" x="{left:.2f}" y="0" '
                f'width="{max(right - left, 1.5):.2f}" height="{height}"/>'
            )
    for tick in ticks:
        shapes.append(
            f'<line class="grid" x1="0" x2="{WIDTH}" y1="{y(tick.position):.2f}" '
            f'y2="{y(tick.position):.2f}" vector-effect="non-scaling-stroke"/>'
        )
    for line, below in _placed(lines):
        position = min(1.0, max(0.0, line.position))
        shapes.append(
            f'<line class="level {line.kind}" x1="0" x2="{WIDTH}" y1="{y(position):.2f}" '
            f'y2="{y(position):.2f}" vector-effect="non-scaling-stroke"/>'
        )
        where = f"top:{_pct(1 - position)}" if below else f"bottom:{_pct(position)}"
        labels.append(
            f'<span class="line-label {line.kind}{" below" if below else ""}" style="{where}">'
            f"{escape(line.label)}</span>"
        )
    path = " ".join(
        f"{'M' if n == 0 or at in breaks else 'L'}{_x(frame, at):.2f},{y(scale(v)):.2f}"
        for n, (at, v) in enumerate(values)
    )
    shapes.append(
        f'<path class="{css_class}" d="{path}" fill="none" vector-effect="non-scaling-stroke"/>'
    )
    # A lone point between gaps draws no segment; a dot shows it.
    for n, (at, v) in enumerate(values):
        alone = (n == 0 or at in breaks) and (n + 1 == len(values) or values[n + 1][0] in breaks)
        if alone:
            shapes.append(
                f'<line class="{css_class} dot" x1="{_x(frame, at):.2f}" x2="{_x(frame, at):.2f}" '
                f'y1="{y(scale(v)):.2f}" y2="{y(scale(v)):.2f}" vector-effect="non-scaling-stroke"/>'
            )
    tick_labels = "".join(
        f'<span class="tick" style="top:{_pct(1 - t.position)}">{escape(t.label)}</span>'
        for t in ticks
    )
    label = escape(title)
    return Markup(
        f'<div class="y-axis"><span class="axis-title">{escape(axis_title)}</span>{tick_labels}</div>'
        f'<div class="plot"><svg class="chart line" viewBox="0 0 {WIDTH} {height}" '
        f'preserveAspectRatio="none" role="img" aria-label="{label}" data-points="{len(values)}">'
        f"<title>{label}</title>{''.join(shapes)}</svg>{''.join(labels)}</div>"
    )


LABEL_ROOM = 0.13  # of a plot's height: about one label's height at the narrowest plot


def _placed(lines: Sequence[Line]) -> list[tuple[Line, bool]]:
    """Each line with whether its label goes under it: under, when the top of the plot or
    the label of a line just above would leave no room over it."""
    placed: list[tuple[Line, bool]] = []
    above: float | None = None  # the position of the line placed just before, higher up
    for line in sorted(lines, key=lambda item: -item.position):
        crowded = line.position > 1 - LABEL_ROOM or (
            above is not None and above - line.position < LABEL_ROOM and not placed[-1][1]
        )
        placed.append((line, crowded and line.position > LABEL_ROOM))
        above = line.position
    return placed


def time_axis(frame: TimeFrame) -> Markup:
    """The time axis under a figure's rows: round UTC times, the offset said once."""
    ticks = time_ticks(frame)
    spans = "".join(
        f'<span class="tick{" minor" if t.minor else ""}{_edge(t.position)}" style="left:{_pct(t.position)}">'
        f"<span>{escape(t.label)}</span></span>"
        for t in ticks
    )
    return Markup(
        f'<div class="x-title">UTC</div><div class="x-axis" data-ticks="{len(ticks)}">{spans}</div>'
    )


def _edge(position: float) -> str:
    if position < 0.03:
        return " start"
    if position > 0.97:
        return " end"
    return ""


def figure(
    caption: Markup,
    rows: Sequence[Markup],
    frame: TimeFrame,
    legend: Sequence[Markup],
    kind: str,
) -> Markup:
    """One chart: its caption, its rows (plots and strips) on one time axis, and its legend."""
    items = "".join(f"<li>{item}</li>" for item in legend)
    listed = f'<ul class="legend">{items}</ul>' if items else ""
    return Markup(
        f'<figure class="timechart" data-kind="{escape(kind)}"'
        f' data-span="{escape(format_duration(frame.seconds))}">'
        f'<figcaption>{caption} <span class="small">· times in UTC (+00:00)</span></figcaption>'
        f'<div class="rows">{"".join(rows)}{time_axis(frame)}</div>'
        f"{listed}</figure>"
    )


def strip_row(strip: Markup) -> Markup:
    return Markup(f'<div class="row-title">runs</div><div class="strip-cell">{strip}</div>')
