"""Where a time or a value goes on a chart, which ticks to label, and where runs are missing. Pure.

The charts are drawn in UTC: a report is one static file with no script, so it
cannot know the reader's time zone (each ``<time>`` element carries the exact
instant for tools that can). Time is linear on the axis, so a stretch with no
run takes the room it took in the world and can be seen.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from sloprobe.model.units import Dimension, Unit, format_base

GAP_FACTOR = 3.0
"""An interval between two runs this many times longer than the usual one is a gap.

A five-minute schedule that GitHub runs ten minutes late leaves 15 minutes
between two runs: late, not missing. Longer than that, at least two runs that
were due never happened.
"""
NEIGHBOURS = 10  # intervals each side that say what "usual" is around a point
KNOWN = 4  # fewer intervals around one than this say nothing of what is usual: no gap is read
TIME_STEPS_S = (
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
    14 * 86400,
    28 * 86400,
)
# Round steps of a value axis, by dimension, in base units (seconds, 0..1 fractions, numbers).
_TIME_VALUE_STEPS = (
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.025,
    0.05,
    0.1,
    0.2,
    0.25,
    0.5,
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    4 * 3600,
    12 * 3600,
    86400,
)

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Tick:
    """A labelled place on an axis: ``position`` from 0 (left or bottom) to 1."""

    position: float
    label: str
    minor: bool = False  # dropped on a narrow screen, where every other label would collide
    at: datetime | None = None


@dataclass(frozen=True)
class TimeFrame:
    """The stretch of time a chart shows, left to right."""

    start: datetime
    end: datetime

    @cached_property
    def seconds(self) -> float:
        return max((self.end - self.start).total_seconds(), 1.0)

    @cached_property
    def _start(self) -> float:
        return self.start.timestamp()

    def fraction(self, at: datetime) -> float:
        """Where ``at`` falls, 0..1, clamped to the frame."""
        return min(1.0, max(0.0, (at.timestamp() - self._start) / self.seconds))

    def holds(self, span: Span) -> bool:
        return span[1] > self.start and span[0] < self.end


def time_ticks(frame: TimeFrame, most: int = 8) -> list[Tick]:
    """Round UTC times across the frame: ``06:00``, and the date (``Nov 24``) at midnight."""
    span = frame.seconds
    step = next((s for s in TIME_STEPS_S if span / s <= most), TIME_STEPS_S[-1])
    first = math.ceil(frame.start.timestamp() / step) * step
    ticks: list[Tick] = []
    at = first
    while at <= frame.end.timestamp() + 1e-6:
        moment = datetime.fromtimestamp(at, UTC)
        midnight = moment.hour == 0 and moment.minute == 0
        label = moment.strftime(
            "%b %d" if midnight or step >= 86400 else "%H:%M" if step >= 60 else "%H:%M:%S"
        )
        ticks.append(Tick(frame.fraction(moment), label, at=moment))
        at += step
    if len(ticks) > most // 2 + 1:  # too many for a phone: every other one goes there
        ticks = [dataclasses.replace(t, minor=i % 2 == 1) for i, t in enumerate(ticks)]
    return ticks


def value_scale(
    low: float, high: float, dimension: Dimension, most: int = 5
) -> tuple[float, float, list[float]]:
    """A value axis over ``low..high`` that starts and ends on round, labelled values.

    Returns the axis' bottom, its top and the values to label, in base units.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high <= low:
        high = low + (abs(low) or 1.0)
    spread = high - low
    steps = _TIME_VALUE_STEPS if dimension is Dimension.TIME else _decimal_steps(spread / most)
    step = next((s for s in steps if spread / s <= most), spread / most)
    bottom = math.floor(low / step + 1e-9) * step
    top = math.ceil(high / step - 1e-9) * step
    count = round((top - bottom) / step)
    values = [round(bottom + i * step, 12) for i in range(count + 1)]
    return bottom, top, values


def axis_unit(values: Sequence[float], dimension: Dimension) -> Unit | None:
    """One unit for a whole time axis, its ticks and its lines alike, chosen by its largest value.

    Formatting each tick alone reads ``500ms`` beside ``1s``, and a line written ``2500ms``
    beside ticks in seconds; one unit makes the axis and its threshold read as one scale.
    None for dimensions that have a single unit (percent, plain numbers).
    """
    if dimension is not Dimension.TIME:
        return None
    largest = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if largest < 1:
        return Unit.MS
    if largest < 120:
        return Unit.S
    return Unit.M if largest < 7200 else Unit.H


def format_in(value: float, dimension: Dimension, unit: Unit | None) -> str:
    """A base-unit value in the axis' unit: 2.5 → ``2.5s`` on an axis in s, ``2500ms`` in ms."""
    if unit is None:
        return format_base(value, dimension)
    return f"{round(value / unit.factor, 3):.12g}{unit.value}"


def _decimal_steps(rough: float) -> list[float]:
    """1, 2, 2.5 and 5 times powers of ten around ``rough``."""
    power = math.floor(math.log10(rough)) if rough > 0 else 0
    return [m * 10.0**p for p in (power - 1, power, power + 1) for m in (1, 2, 2.5, 5)]


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def usual_interval(intervals: Sequence[float], index: int) -> float | None:
    """How long the intervals around ``intervals[index]`` usually are: the larger of the medians
    just before and just after it (where five-minute runs meet the hourly points of rolled-up
    days, an hour is usual, not a gap). None when too few are known to say."""
    before = intervals[max(0, index - NEIGHBOURS) : index]
    after = intervals[index + 1 : index + 1 + NEIGHBOURS]
    if len(before) + len(after) < KNOWN:
        return None
    return max(_median(side) for side in (before, after) if side)


@dataclass(frozen=True)
class Runs:
    """When the runs of one SLO happened, where runs are missing, and what each run stands for.

    Worked out once per SLO over all of its history, then cut to each chart's frame.
    """

    times: tuple[datetime, ...]
    gaps: tuple[Span, ...]  # stretches with no run, in order, not overlapping
    breaks: frozenset[datetime]  # the runs that come right after a gap
    spans: tuple[Span, ...]  # per run: from the run before it (or a usual interval) to itself

    def between(self, frame: TimeFrame) -> slice:
        """The runs inside ``frame`` (after its start, up to its end)."""
        return slice(
            bisect.bisect_right(self.times, frame.start), bisect.bisect_right(self.times, frame.end)
        )


def read_runs(
    times: Sequence[datetime], scheduled: Sequence[Span] = (), factor: float = GAP_FACTOR
) -> Runs:
    """The runs at ``times`` (oldest first), their gaps — intervals much longer than usual, and
    ``scheduled`` gaps the cron knows of — and the stretch each run stands for."""
    intervals = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    # No interval is longer than `factor` times the usual one unless it is longer than `factor`
    # times the shortest: only those few need their neighbours' medians.
    shortest = min(intervals, default=0.0)
    usual: dict[int, float | None] = {}
    found = []
    for index, interval in enumerate(intervals):
        if interval > factor * shortest:
            expected = usual[index] = usual_interval(intervals, index)
            if expected is not None and interval > factor * expected:
                found.append((times[index] + timedelta(seconds=expected), times[index + 1]))
    gaps = merge([*found, *scheduled])
    breaks = breaks_at(times, gaps)
    typical = statistics.median(intervals) if intervals else 300.0
    spans = []
    for index, at in enumerate(times):
        if index == 0 or at in breaks:
            before = (
                usual.get(index - 1) or usual_interval(intervals, index - 1) if index > 0 else None
            )
            before = typical if before is None else before
            spans.append((at - timedelta(seconds=min(before, typical)), at))
        else:
            spans.append((times[index - 1], at))
    return Runs(tuple(times), tuple(gaps), frozenset(breaks), tuple(spans))


def breaks_at(times: Sequence[datetime], gaps: Sequence[Span]) -> set[datetime]:
    """The runs that come after one of ``gaps`` (sorted, not overlapping): a line never joins
    them to the run before."""
    starts = [start for start, _ in gaps]
    breaks = set()
    for a, b in itertools.pairwise(times):
        last = bisect.bisect_left(starts, b) - 1  # the last gap that starts before b
        if last >= 0 and gaps[last][1] > a:
            breaks.add(b)
    return breaks


def merge(spans: Sequence[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in order."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
