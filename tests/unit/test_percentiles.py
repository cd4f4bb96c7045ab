"""Percentiles agree with the reference definitions (numpy type 7, nearest rank)."""

from __future__ import annotations

import pytest

from sloprobe.model.percentiles import PercentileMethod, percentile


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        pytest.param([1, 2, 3, 4], 50, 2.5, id="median-even"),
        pytest.param([1, 2, 3, 4], 95, 3.85, id="p95-interpolates"),
        pytest.param([15, 20, 35, 40, 50], 40, 29.0, id="numpy-doc-example"),
        pytest.param([7], 99, 7.0, id="single-sample"),
        pytest.param([3, 1, 2], 0, 1.0, id="p0-is-min"),
        pytest.param([3, 1, 2], 100, 3.0, id="p100-is-max"),
    ],
)
def test_linear_matches_numpy_type7(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        pytest.param([15, 20, 35, 40, 50], 30, 20.0, id="wikipedia-p30"),
        pytest.param([15, 20, 35, 40, 50], 40, 20.0, id="wikipedia-p40"),
        pytest.param([15, 20, 35, 40, 50], 50, 35.0, id="wikipedia-p50"),
        pytest.param(list(range(1, 21)), 95, 19.0, id="p95-of-20"),
        pytest.param([5, 1], 1, 1.0, id="low-rank-is-first"),
    ],
)
def test_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q, PercentileMethod.NEAREST_RANK) == expected


def test_empty_input_is_an_error_not_zero() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 95)
