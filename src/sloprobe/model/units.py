"""Units of measured values and thresholds.

A value read from JSON, SQL or Prometheus carries a declared unit so that a
percent field, a milliseconds field and a ratio compare correctly with a
threshold written as ``rate >= 95%`` or ``avg < 30s``. Internally every value
is held in the base unit of its dimension: seconds for time, a 0..1 fraction
for percentages and ratios, a plain number for counts.
"""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    """What a number means; values of different dimensions never compare."""

    TIME = "time"
    FRACTION = "fraction"
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"


class Unit(StrEnum):
    """A unit a value may be declared in (``unit:`` in slo.yaml)."""

    MS = "ms"
    S = "s"
    M = "m"
    H = "h"
    D = "d"
    PERCENT = "%"
    RATIO = "ratio"
    COUNT = "count"
    NONE = "none"
    TEXT = "text"
    BOOLEAN = "bool"

    @property
    def dimension(self) -> Dimension:
        return _DIMENSIONS[self]

    @property
    def factor(self) -> float:
        """Multiply a value in this unit by the factor to get the base unit."""
        return _FACTORS.get(self, 1.0)

    def to_base(self, value: float) -> float:
        return value * self.factor


_DIMENSIONS: dict[Unit, Dimension] = {
    Unit.MS: Dimension.TIME,
    Unit.S: Dimension.TIME,
    Unit.M: Dimension.TIME,
    Unit.H: Dimension.TIME,
    Unit.D: Dimension.TIME,
    Unit.PERCENT: Dimension.FRACTION,
    Unit.RATIO: Dimension.FRACTION,
    Unit.COUNT: Dimension.NUMBER,
    Unit.NONE: Dimension.NUMBER,
    Unit.TEXT: Dimension.TEXT,
    Unit.BOOLEAN: Dimension.BOOLEAN,
}

_FACTORS: dict[Unit, float] = {
    Unit.MS: 0.001,
    Unit.M: 60.0,
    Unit.H: 3600.0,
    Unit.D: 86400.0,
    Unit.PERCENT: 0.01,
}

TIME_SUFFIXES: dict[str, Unit] = {"ms": Unit.MS, "s": Unit.S, "m": Unit.M, "h": Unit.H, "d": Unit.D}


def format_base(value: float, dimension: Dimension) -> str:
    """Render a base-unit number for people: ``412ms``, ``2.5s``, ``93.33%``."""
    if dimension is Dimension.TIME:
        if abs(value) < 1:
            return f"{_trim(value * 1000)}ms"
        if abs(value) < 120:
            return f"{_trim(value)}s"
        if abs(value) < 7200:
            return f"{_trim(value / 60)}m"
        return f"{_trim(value / 3600)}h"
    if dimension is Dimension.FRACTION:
        return f"{_trim(value * 100)}%"
    return _trim(value)


def _trim(value: float) -> str:
    return f"{round(value, 2):.12g}"


def format_duration(seconds: float) -> str:
    """``3 h 12 m``, ``45 m``, ``2 d 4 h`` — budget left, incident age."""
    whole = max(0, round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} m"
    return f"{secs} s"
