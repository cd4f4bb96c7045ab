"""One SLO's runs of one UTC day, rolled up: every run's outcome, its samples, hourly chart points.

Sums per interval alone cannot keep budgets exact: a window is rolling
(``now − 30 d``, ``now``], so its start cuts some day of runs at an arbitrary
instant, and only the runs themselves say how many of that day fall inside. So
a roll-up keeps each run as a handful of small numbers — its start (microseconds
after the previous run's), its status, whether it was bad and counted, its good
and total events — and its samples (for ``over`` SLOs), each part compressed
JSON: a few bytes a run. The row's columns hold the day's sums, so a window adds
whole days in SQL and unpacks only the days its edges cut (:mod:`.view`).

Chart points are kept per hour (the worst status, the highest value, the lowest
budget left, at the hour's last run), as the report draws long histories.
"""

from __future__ import annotations

import bisect
import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sloprobe.history.errors import HistoryError
from sloprobe.model.history import RunOutcome, WindowTotals
from sloprobe.model.status import Status

INTERVAL = timedelta(days=1)  # one row per SLO per UTC day
CHART_STEP_S = 3600  # one chart point per hour of a rolled-up day
FORMAT = 1
_STATUSES = tuple(Status)  # a run's status is stored as its index here
_MICROSECOND = timedelta(microseconds=1)


def day_of(at: datetime) -> datetime:
    """The UTC midnight that starts the roll-up day holding ``at``."""
    utc = at.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, tzinfo=UTC)


@dataclass(frozen=True)
class RolledRun:
    """One run of one SLO, as a roll-up keeps it: exactly what judging over time reads."""

    at: datetime
    status: str
    bad: bool
    counted: bool
    good_events: int
    total_events: int
    samples: tuple[Any, ...] = ()  # as the verdict row held them (None: not finite)


@dataclass(frozen=True)
class HourPoint:
    """One hour of a rolled-up day for the charts."""

    at: datetime  # the hour's last run
    status: str  # the worst
    value: float | None  # the highest observed value
    budget: float | None  # the lowest error budget left

    def merged(
        self, at: datetime, status: str, value: float | None, budget: float | None
    ) -> HourPoint:
        worse = Status(status).severity > Status(self.status).severity
        return HourPoint(
            max(self.at, at),
            status if worse else self.status,
            _pick(max, self.value, value),
            _pick(min, self.budget, budget),
        )


@dataclass
class RolledDay:
    """The runs of one SLO in one UTC day, in time order; encoded into a row of sloprobe_rollups."""

    day: datetime
    runs: list[RolledRun] = field(default_factory=list)
    hours: dict[int, HourPoint] = field(default_factory=dict)

    def add_all(self, runs: list[tuple[RolledRun, float | None, float | None]]) -> None:
        """Add runs, each with its observed value and budget left (for the chart points)."""
        for run, _, _ in runs:
            if self.runs and run.at < self.runs[-1].at:  # a late run: into its place
                self.runs.insert(bisect.bisect_right(self.runs, run.at, key=lambda r: r.at), run)
            else:
                self.runs.append(run)
        by_hour: dict[int, list[tuple[RolledRun, float | None, float | None]]] = {}
        for item in runs:
            by_hour.setdefault(
                int((item[0].at - self.day).total_seconds() // CHART_STEP_S), []
            ).append(item)
        for hour, items in by_hour.items():
            values = [v for _, v, _ in items if v is not None]
            budgets = [b for _, _, b in items if b is not None]
            point = HourPoint(
                max(r.at for r, _, _ in items),
                max((r.status for r, _, _ in items), key=lambda s: Status(s).severity),
                max(values) if values else None,
                min(budgets) if budgets else None,
            )
            found = self.hours.get(hour)
            self.hours[hour] = (
                point
                if found is None
                else found.merged(point.at, point.status, point.value, point.budget)
            )

    def drop_before(self, before: datetime) -> None:
        """Forget runs older than ``before`` (retention), and the hours that end before it."""
        self.runs = [r for r in self.runs if r.at >= before]
        self.hours = {h: p for h, p in self.hours.items() if p.at >= before}

    def sums(self) -> tuple[int, int, int, int]:
        """(counted runs, bad ones, good events, total events): the row's columns."""
        counted = [r for r in self.runs if r.counted]
        return (
            len(counted),
            sum(1 for r in counted if r.bad),
            sum(r.good_events for r in counted),
            sum(r.total_events for r in counted),
        )

    def encode(self) -> tuple[bytes, bytes, bytes]:
        """(outcomes, samples, points), each compressed JSON."""
        offsets = [(r.at - self.day) // _MICROSECOND for r in self.runs]
        outcomes = {
            "v": FORMAT,
            "t": [b - a for a, b in zip([0, *offsets], offsets, strict=False)],
            "f": [_flags(r) for r in self.runs],
            "g": [r.good_events for r in self.runs],
            "n": [r.total_events for r in self.runs],
        }
        samples = [list(r.samples) for r in self.runs]
        points = [
            [
                hour,
                (p.at - self.day) // _MICROSECOND,
                _STATUSES.index(Status(p.status)),
                p.value,
                p.budget,
            ]
            for hour, p in sorted(self.hours.items())
        ]
        return packed(outcomes), packed(samples), packed(points)

    @classmethod
    def decode(
        cls, day: datetime, outcomes: bytes, samples: bytes | None, points: bytes | None
    ) -> RolledDay:
        """A stored row back; without ``samples`` or ``points`` those parts stay empty."""
        runs = decode_runs(day, outcomes, samples)
        return cls(day, runs, {h: p for h, p in decode_points(day, points)} if points else {})


def decode_runs(day: datetime, outcomes: bytes, samples: bytes | None = None) -> list[RolledRun]:
    data = _outcomes_of(outcomes)
    kept = unpacked(samples) if samples is not None else None
    runs = []
    offset = 0
    for index, (delta, flags, good, total) in enumerate(
        zip(data["t"], data["f"], data["g"], data["n"], strict=True)
    ):
        offset += delta
        runs.append(
            RolledRun(
                day + offset * _MICROSECOND,
                _STATUSES[flags >> 2].value,
                bool(flags & 2),
                bool(flags & 1),
                good,
                total,
                tuple(kept[index]) if kept is not None else (),
            )
        )
    return runs


def decode_outcomes(day: datetime, outcomes: bytes, since: datetime) -> list[RunOutcome]:
    """The outcomes of the runs after ``since`` (what judging reads most: made directly)."""
    data = _outcomes_of(outcomes)
    after = (since - day) // _MICROSECOND  # runs are compared as microseconds into the day
    found = []
    offset = 0
    for delta, flags, good, total in zip(data["t"], data["f"], data["g"], data["n"], strict=True):
        offset += delta
        if offset > after:
            at = day + timedelta(microseconds=offset)
            found.append(RunOutcome(at, bool(flags & 2), bool(flags & 1), good, total))
    return found


def decode_totals(
    day: datetime, outcomes: bytes, since: datetime, before: datetime
) -> WindowTotals:
    """The counted runs in (since, before), summed: the days a window's ends cut."""
    data = _outcomes_of(outcomes)
    after, until = (since - day) // _MICROSECOND, (before - day) // _MICROSECOND
    runs = bad = good = total = 0
    first = None
    offset = 0
    for delta, flags, g, n in zip(data["t"], data["f"], data["g"], data["n"], strict=True):
        offset += delta
        if flags & 1 and after < offset < until:
            runs, bad, good, total = runs + 1, bad + (flags >> 1 & 1), good + g, total + n
            first = first if first is not None else offset
    at = day + timedelta(microseconds=first) if first is not None else None
    return WindowTotals(runs, bad, good, total, at)


def decode_points(day: datetime, points: bytes) -> list[tuple[int, HourPoint]]:
    return [
        (hour, HourPoint(day + offset * _MICROSECOND, _STATUSES[status].value, value, budget))
        for hour, offset, status, value, budget in unpacked(points)
    ]


def _outcomes_of(outcomes: bytes) -> dict[str, Any]:
    data = unpacked(outcomes)
    if not isinstance(data, dict) or data.get("v") != FORMAT:
        version = data.get("v") if isinstance(data, dict) else None
        raise HistoryError(
            f"history store: roll-up format {version!r} is not {FORMAT}: upgrade sloprobe"
        )
    return data


def _flags(run: RolledRun) -> int:
    return _STATUSES.index(Status(run.status)) << 2 | run.bad << 1 | run.counted


def _pick(choose: Any, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return float(choose(a, b))


def packed(value: Any) -> bytes:
    """A part of a roll-up as stored: compact JSON, compressed."""
    return zlib.compress(json.dumps(value, separators=(",", ":"), allow_nan=False).encode(), 9)


def unpacked(stored: bytes) -> Any:
    """A stored part of a roll-up back as JSON values (for export)."""
    try:
        return json.loads(zlib.decompress(stored))
    except (zlib.error, ValueError, TypeError) as exc:
        raise HistoryError(f"history store: a roll-up row is unreadable ({exc})") from None
