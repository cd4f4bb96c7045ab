"""Percentiles, by the method the report states.

``linear`` is Hyndman–Fan type 7 (numpy's default, PostgreSQL
``percentile_cont``, PromQL ``quantile``); ``nearest_rank`` is the classic
ceil(q·n)-th smallest sample. Per-run percentiles are never averaged across
runs: callers pool samples instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum


class PercentileMethod(StrEnum):
    LINEAR = "linear"
    NEAREST_RANK = "nearest_rank"


def percentile(
    values: Sequence[float], q: float, method: PercentileMethod = PercentileMethod.LINEAR
) -> float:
    """The q-th percentile (0 <= q <= 100) of ``values``; raises on an empty input."""
    if not values:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    n = len(ordered)
    if method is PercentileMethod.NEAREST_RANK:
        rank = max(1, math.ceil(q / 100 * n))
        return ordered[rank - 1]
    position = (n - 1) * q / 100
    lower = math.floor(position)
    upper = min(lower + 1, n - 1)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction
