"""The evaluator keeps the three failure classes apart and states what it compared."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sloprobe.config.model import SloSpec
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.status import Status
from sloprobe.model.units import Unit

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def measurement(**kwargs: object) -> Measurement:
    return Measurement(probe="p", kind="http", started_at=NOW, duration_s=0.1, **kwargs)  # type: ignore[arg-type]


def latency(*seconds: float) -> Measurement:
    return measurement(series={"latency": Series("latency", Unit.S, seconds)})


SPEC = SloSpec(probe="p", measure="latency", threshold=("p95 < 300ms",), warn=("p95 < 100ms",))


@pytest.mark.parametrize(
    ("samples", "status", "observed"),
    [
        pytest.param((0.05, 0.06), Status.OK, "p95 = 59.5ms", id="ok"),
        pytest.param((0.05, 0.2), Status.WARNING, "p95 = 192.5ms", id="warning"),
        pytest.param((0.05, 0.5), Status.BREACH, "p95 = 477.5ms", id="breach"),
    ],
)
def test_levels(samples: tuple[float, ...], status: Status, observed: str) -> None:
    verdict = evaluate_slo("fast", SPEC, latency(*samples))
    assert verdict.status is status
    assert verdict.observed == observed
    assert verdict.counts_as_bad is (status is Status.BREACH)
    assert verdict.samples == len(samples)


def test_breach_reason_names_observed_and_threshold() -> None:
    verdict = evaluate_slo("fast", SPEC, latency(0.5))
    assert verdict.reason == "p95 = 500ms, expected p95 < 300ms"
    assert [c.held for c in verdict.checks] == [False, False]


def test_a_failed_target_is_a_breach_not_no_data() -> None:
    verdict = evaluate_slo(
        "fast", SPEC, measurement(failure="GET /health answered 404, expected 2xx")
    )
    assert verdict.status is Status.BREACH
    assert "404" in verdict.reason


def test_nothing_to_measure_is_no_data_with_reason() -> None:
    spec = SloSpec(probe="p", measure="rate", threshold=("value >= 90%",))
    verdict = evaluate_slo(
        "rate", spec, measurement(missing={"rate": "field `success_rate` is null in the answer"})
    )
    assert verdict.status is Status.NO_DATA
    assert verdict.reason == "field `success_rate` is null in the answer"
    assert verdict.counts_as_bad


def test_no_data_may_be_allowed() -> None:
    spec = SloSpec(probe="p", measure="rate", threshold=("value >= 90%",), no_data="pass")
    verdict = evaluate_slo("rate", spec, None)
    assert verdict.status is Status.NO_DATA
    assert not verdict.counts_as_bad
    assert "did not run" in verdict.reason


def test_percentile_method_is_applied() -> None:
    spec = SloSpec(
        probe="p", measure="latency", threshold=("p50 <= 200ms",), percentile_method="nearest_rank"
    )
    samples = latency(0.1, 0.2, 0.3, 0.4)
    assert evaluate_slo("x", spec, samples).status is Status.OK  # nearest rank: 0.2
    linear = SloSpec(probe="p", measure="latency", threshold=("p50 <= 200ms",))
    assert evaluate_slo("x", linear, samples).status is Status.BREACH  # linear: 0.25
