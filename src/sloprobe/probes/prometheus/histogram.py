"""Histogram quantiles exactly as Prometheus's ``histogram_quantile`` computes them, and scrape deltas.

Mirrors ``bucketQuantile`` in Prometheus's ``promql/quantile.go``: buckets
sorted by upper bound, equal bounds merged, counts forced monotonic, linear
interpolation inside the bucket, the lowest bucket starting at 0 (unless its
bound is ≤ 0), and a rank in the ``+Inf`` bucket giving the highest finite
bound. ``None`` stands for Prometheus's NaN (no data).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Buckets = Sequence[tuple[float, float]]  # (upper bound, cumulative count)


def histogram_quantile(q: float, buckets: Buckets) -> float | None:
    if math.isnan(q):
        return None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in buckets:
        merged[bound] = merged.get(bound, 0.0) + count
    ordered = sorted(merged.items())
    if not ordered or not math.isinf(ordered[-1][0]):
        return None
    counts = []
    highest = 0.0
    for _, count in ordered:
        highest = max(highest, count)
        counts.append(highest)
    if len(ordered) < 2:
        return None
    observations = counts[-1]
    if observations == 0:
        return None
    rank = q * observations
    b = next((i for i in range(len(ordered) - 1) if counts[i] >= rank), len(ordered) - 1)
    if b == len(ordered) - 1:
        return ordered[-2][0]
    if b == 0 and ordered[0][0] <= 0:
        return ordered[0][0]
    start, end, count = 0.0, ordered[b][0], counts[b]
    if b > 0:
        start = ordered[b - 1][0]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    if count == 0:
        return None  # 0/0: Prometheus answers NaN (q = 0 over an empty lowest bucket)
    return start + (end - start) * (rank / count)


def counter_delta(before: float | None, after: float) -> float:
    """Increase between two scrapes; a drop means the counter reset, so it grew by ``after`` from 0."""
    if before is None or after < before:
        return after
    return after - before


def series_delta(
    before: Mapping[tuple[str, ...], float], after: Mapping[tuple[str, ...], float]
) -> dict[tuple[str, ...], float]:
    """Per-series counter deltas (each series resets on its own)."""
    return {key: counter_delta(before.get(key), value) for key, value in after.items()}
