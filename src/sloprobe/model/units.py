"""Units of measured values and thresholds.

A value read from JSON, SQL or Prometheus carries a declared unit so that a
percent field, a milliseconds field and a ratio compare correctly with a
threshold written as ``rate >= 95%`` or ``avg < 30s``. Internally every value
is held in the base unit of its dimension: seconds for time, a 0..1 fraction
for percentages and ratios, a plain number for counts.
"""

from __future__ import annotations

import math
from decimal import Decimal
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


SIGNIFICANT_FIGURES = 3  # computed ratios, percents and burn rates: 3 figures, never float noise
SMALLEST_SHOWN = 0.01  # below this (in the unit shown) a computed number reads "<0.01"


def significant(value: float, figures: int = SIGNIFICANT_FIGURES) -> str:
    """A computed number for people: at most ``figures`` significant figures, no exponent.

    ``49.99999999999996`` → ``50``, ``0.012345`` → ``0.0123``, ``123456`` → ``123000``;
    anything closer to zero than ``SMALLEST_SHOWN`` (but not zero) → ``<0.01``.
    Configured numbers (an objective, a threshold) are shown as written, not through this.
    """
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    if abs(value) < SMALLEST_SHOWN:
        return f"<{SMALLEST_SHOWN:g}" if value > 0 else f">-{SMALLEST_SHOWN:g}"
    # The e-format rounds correctly to the figures wanted; Decimal writes it out without an exponent.
    text = f"{Decimal(f'{value:.{figures - 1}e}'):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_percent(fraction: float) -> str:
    """A computed 0..1 fraction (or more) as a percent: ``0.7234`` → ``72.3%``.

    Never rounds a share below 100 % up to ``100%`` (``>99.9%``), nor a positive one down
    to nothing (``<0.01%``). A negative fraction is a caller's mistake: an overspent
    budget is said in words (see ``model.describe``), never as ``-7900%``.
    """
    if not math.isfinite(fraction):
        raise ValueError(f"not a percent: {fraction!r}")
    if fraction < 0:
        raise ValueError(f"a percent shown to people is never negative: {fraction!r}")
    text = significant(fraction * 100)
    if fraction < 1 and text == "100":
        # Just below 100 the last figure shown is the 10 ** (2 - figures) place: ">99.9%".
        return f">{100 - 10.0 ** (2 - SIGNIFICANT_FIGURES):g}%"
    return f"{text}%"


def format_rate(rate: float) -> str:
    """A burn rate (or any multiple): ``49.99999999999996`` → ``50×``, ``16.666`` → ``16.7×``."""
    return f"{significant(rate)}×"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 SLO``, ``2 SLOs``, ``0 runs``: a count that reads right."""
    return f"{count} {noun}" if count == 1 else f"{count} {many or noun + 's'}"
