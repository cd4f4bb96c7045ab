"""Charts as inline SVG, drawn on the server from history: no script, no external request.

Every text that ends up in the SVG is escaped here; numbers are formatted by
us. Long histories are downsampled to a fixed number of buckets: the worst
status and the highest value of each bucket (percentiles are never averaged).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

from sloprobe.model.status import Status
from sloprobe.model.timeline import Point


def _severity(status: str) -> int:
    return Status(status).severity if status in Status.__members__.values() else 0


STATUS_COLOURS = {"ok": "#2da44e", "warning": "#d4a72c", "breach": "#cf222e", "no_data": "#8250df"}
MAX_POINTS = 288


def downsample(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """At most ``limit`` points: per bucket the worst status and the highest value."""
    if len(points) <= limit:
        return list(points)
    size = len(points) / limit
    out = []
    for index in range(limit):
        bucket = points[int(index * size) : max(int((index + 1) * size), int(index * size) + 1)]
        worst = max(bucket, key=lambda p: _severity(p.status))
        values = [p.value for p in bucket if p.value is not None]
        budgets = [p.budget_remaining for p in bucket if p.budget_remaining is not None]
        out.append(
            Point(
                bucket[-1].at,
                worst.status,
                max(values) if values else None,
                budgets[-1] if budgets else None,
            )
        )
    return out


def status_strip(points: Sequence[Point], title: str, width: int = 600, height: int = 26) -> Markup:
    """A bar per run, coloured by status, like a status page; runs of one status share one bar."""
    if not points:
        return Markup("")
    shown = downsample(points)
    step = width / len(shown)
    segments: list[tuple[int, int, str]] = []  # (first index, count, status)
    for index, point in enumerate(shown):
        if segments and segments[-1][2] == point.status:
            first, count, status = segments[-1]
            segments[-1] = (first, count + 1, status)
        else:
            segments.append((index, 1, point.status))
    bars = "".join(
        f'<rect x="{first * step:.2f}" y="0" width="{max(count * step - 0.6, 0.6):.2f}" height="{height}" '
        f'fill="{STATUS_COLOURS.get(status, "#999")}" data-runs="{count}"><title>{escape(_when(shown[first].at))} – '
        f"{escape(_when(shown[first + count - 1].at))}: {escape(status)} ({count})</title></rect>"
        for first, count, status in segments
    )
    return Markup(
        f'<svg class="chart strip" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(title)}" data-points="{len(shown)}">{bars}</svg>'
    )


def line_chart(
    points: Sequence[Point],
    title: str,
    *,
    bound: float | None = None,
    budget: bool = False,
    format_value: object = None,
    width: int = 600,
    height: int = 120,
) -> Markup:
    """Observed value (or error budget left) over time, with the threshold as a dashed line."""
    shown = downsample(points)
    values = [(p.budget_remaining if budget else p.value) for p in shown]
    pairs = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pairs) < 2:
        return Markup("")
    low = min(
        [v for _, v in pairs] + ([bound] if bound is not None else []) + ([0.0] if budget else [])
    )
    high = max(
        [v for _, v in pairs] + ([bound] if bound is not None else []) + ([1.0] if budget else [])
    )
    span = (high - low) or 1.0
    pad = 6

    def x(i: int) -> float:
        return pad + i * (width - 2 * pad) / max(len(shown) - 1, 1)

    def y(v: float) -> float:
        return height - pad - (v - low) / span * (height - 2 * pad)

    path = " ".join(
        f"{'M' if n == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for n, (i, v) in enumerate(pairs)
    )
    parts = [f'<path d="{path}" fill="none" stroke="currentColor" stroke-width="1.5"/>']
    if bound is not None:
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y(bound):.1f}" y2="{y(bound):.1f}" '
            'stroke="#cf222e" stroke-dasharray="4 3" stroke-width="1"/>'
        )
    label = escape(title)
    return Markup(
        f'<svg class="chart line" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'data-points="{len(pairs)}"><title>{label}</title>{"".join(parts)}</svg>'
    )


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")
