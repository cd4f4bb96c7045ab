"""Threshold expressions evaluated over a series: the judge's side of a threshold.

The expression itself (parse, unit check, format) is data in
:mod:`sloprobe.model.thresholds`; here it is computed and held, purely.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from sloprobe.model.measurement import Sample, Series
from sloprobe.model.percentiles import PercentileMethod, percentile
from sloprobe.model.thresholds import Target, Threshold
from sloprobe.model.units import Dimension, Unit

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def compute(threshold: Threshold, series: Series, method: PercentileMethod) -> Sample | None:
    """The aggregate over the series (base units), or None when there are no samples."""
    samples = series.samples
    if not samples:
        return None
    name = threshold.aggregate.name
    if name == "value":
        return samples[-1]
    numbers = series.numbers()
    if name == "count":
        if series.dimension is Dimension.BOOLEAN or series.unit is Unit.COUNT:
            return float(sum(numbers))
        return float(len(samples))
    if not numbers:
        return None
    if name in ("avg", "rate"):
        return statistics.fmean(numbers)
    if name == "min":
        return min(numbers)
    if name == "max":
        return max(numbers)
    if name == "sum":
        return float(sum(numbers))
    if name == "med":
        return percentile(numbers, 50, method)
    assert threshold.aggregate.q is not None
    return percentile(numbers, threshold.aggregate.q, method)


def holds(threshold: Threshold, observed: Sample, dimension: Dimension) -> bool:
    """Whether the observed aggregate (of ``dimension``) satisfies the expression."""
    if threshold.op in ("in", "not in"):
        found = any(_equal(observed, t) for t in threshold.targets)
        return found if threshold.op == "in" else not found
    target = threshold.targets[0]
    if threshold.op in ("==", "!="):
        if threshold.target_dimension is None and dimension is Dimension.TIME:
            target = Unit.MS.to_base(float(target))
        return _equal(observed, target) == (threshold.op == "==")
    if isinstance(observed, str) or isinstance(target, str):
        return False
    value = float(observed)
    if math.isnan(value):
        return False
    bound = float(target)
    if threshold.target_dimension is None and dimension is Dimension.TIME:
        bound = Unit.MS.to_base(bound)
    return _OPERATORS[threshold.op](value, bound)


def _equal(observed: Sample, target: Target) -> bool:
    if isinstance(observed, bool) or isinstance(target, bool):
        return (
            observed is target if isinstance(observed, bool) and isinstance(target, bool) else False
        )
    if isinstance(observed, str) or isinstance(target, str):
        return str(observed) == str(target)
    return math.isclose(float(observed), float(target), rel_tol=1e-9, abs_tol=1e-12)
