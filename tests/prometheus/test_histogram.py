"""histogram_quantile as Prometheus computes it (promql/quantile.go bucketQuantile), and scrape deltas."""

from __future__ import annotations

import math

import pytest

from sloprobe.probes.prometheus.histogram import counter_delta, histogram_quantile

INF = math.inf


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        pytest.param(0.5, [(0.1, 10), (0.2, 20), (INF, 20)], 0.1, id="rank-at-bucket-end"),
        pytest.param(0.75, [(0.1, 10), (0.2, 20), (INF, 20)], 0.15, id="linear-inside-bucket"),
        pytest.param(0.25, [(0.1, 10), (0.2, 20), (INF, 20)], 0.05, id="lowest-bucket-starts-at-0"),
        pytest.param(0.9, [(1.0, 5), (INF, 10)], 1.0, id="rank-in-inf-gives-highest-finite-bound"),
        pytest.param(0.1, [(-1.0, 5), (INF, 10)], -1.0, id="lowest-bound-not-positive"),
        pytest.param(0.5, [(2.0, 3), (1.0, 5), (INF, 6)], 0.6, id="unsorted-and-non-monotonic"),
        pytest.param(0.5, [(1.0, 2), (1.0, 2), (INF, 4)], 0.5, id="equal-bounds-merged"),
        pytest.param(-0.1, [(1.0, 1), (INF, 1)], -INF, id="q-below-0"),
        pytest.param(1.1, [(1.0, 1), (INF, 1)], INF, id="q-above-1"),
    ],
)
def test_histogram_quantile(q: float, buckets: list[tuple[float, float]], expected: float) -> None:
    assert histogram_quantile(q, buckets) == pytest.approx(expected)


@pytest.mark.parametrize(
    "buckets",
    [
        pytest.param([(1.0, 5), (2.0, 6)], id="no-inf-bucket"),
        pytest.param([(INF, 5)], id="only-inf"),
        pytest.param([(1.0, 0), (INF, 0)], id="no-observations"),
    ],
)
def test_no_data_is_none_not_zero(buckets: list[tuple[float, float]]) -> None:
    assert histogram_quantile(0.95, buckets) is None


def test_counter_delta_handles_resets() -> None:
    assert counter_delta(100, 130) == 30
    assert counter_delta(100, 30) == 30  # reset: counted from 0
    assert counter_delta(None, 7) == 7


def test_q_zero_over_an_empty_lowest_bucket_is_nan_not_an_exception() -> None:
    """Prometheus computes 0/0 there and answers NaN; sloprobe answers no data."""
    assert histogram_quantile(0.0, [(0.1, 0), (0.5, 3), (INF, 3)]) is None


def test_q_zero_through_the_probe_is_no_data_and_the_other_metrics_still_measure() -> None:
    from sloprobe.probes.prometheus.measure import evaluate_metric, parse_exposition
    from sloprobe.probes.prometheus.spec import MetricSpec

    scrape = parse_exposition(
        "# TYPE wait_seconds histogram\n"
        'wait_seconds_bucket{le="0.1"} 0\n'
        'wait_seconds_bucket{le="0.5"} 3\n'
        'wait_seconds_bucket{le="+Inf"} 3\n'
        "wait_seconds_count 3\nwait_seconds_sum 0.9\n"
    )
    q0 = MetricSpec(name="wait_seconds", kind="histogram_quantile", quantile=0)
    assert evaluate_metric(q0, scrape, None, None) == (
        None,
        "histogram_quantile(0) is NaN here, as Prometheus answers",
    )
    p50 = MetricSpec(name="wait_seconds", kind="histogram_quantile", quantile=0.5)
    assert evaluate_metric(p50, scrape, None, None) == (pytest.approx(0.3), None)
