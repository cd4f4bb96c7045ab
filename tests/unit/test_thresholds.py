"""Threshold expressions: parsing, units and judgement, table-driven."""

from __future__ import annotations

import pytest

from sloprobe.judge.thresholds import compute, holds
from sloprobe.model.measurement import Sample, Series
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.thresholds import ThresholdError, parse_threshold
from sloprobe.model.units import Unit


def judge(expression: str, unit: Unit, samples: list[Sample]) -> bool:
    threshold = parse_threshold(expression)
    threshold.check_unit(unit)
    base = [
        unit.to_base(s) if isinstance(s, int | float) and not isinstance(s, bool) else s
        for s in samples
    ]
    series = Series("x", unit, tuple(base))
    value = compute(threshold, series, PercentileMethod.LINEAR)
    assert value is not None
    return holds(threshold, value, threshold.result_dimension(unit))


@pytest.mark.parametrize(
    ("expression", "unit", "samples", "expected"),
    [
        pytest.param("p95 < 300ms", Unit.S, [0.1, 0.2, 0.25], True, id="p95-seconds-vs-ms"),
        pytest.param("p95 < 300ms", Unit.S, [0.1, 0.2, 0.5], False, id="p95-breach"),
        pytest.param("p(95)<300", Unit.S, [0.1, 0.2, 0.25], True, id="k6-bare-number-is-ms"),
        pytest.param("max <= 60s", Unit.MS, [59_000, 60_000], True, id="max-inclusive"),
        pytest.param("avg < 30s", Unit.MS, [25_000], True, id="avg-ms-field-vs-seconds"),
        pytest.param("avg < 30s", Unit.MS, [35_000], False, id="avg-ms-field-breach"),
        pytest.param("value < 100", Unit.COUNT, [99], True, id="count-below"),
        pytest.param("value < 100", Unit.COUNT, [100], False, id="count-at-bound"),
        pytest.param("value >= 95%", Unit.PERCENT, [93.33], False, id="percent-field-breach"),
        pytest.param("value >= 95%", Unit.PERCENT, [95.0], True, id="percent-field-at-bound"),
        pytest.param("value >= 95%", Unit.RATIO, [0.96], True, id="ratio-field-vs-percent"),
        pytest.param(
            "rate >= 99.5%", Unit.BOOLEAN, [True] * 199 + [False], True, id="rate-of-booleans"
        ),
        pytest.param("rate >= 99.5%", Unit.BOOLEAN, [True] * 99 + [False], False, id="rate-breach"),
        pytest.param("count == 0", Unit.BOOLEAN, [False, False], True, id="count-true-booleans"),
        pytest.param("med < 1s", Unit.S, [0.5, 2.0, 0.7], True, id="median"),
        pytest.param('value == "healthy"', Unit.TEXT, ["healthy"], True, id="text-equal"),
        pytest.param("value in [healthy, ok]", Unit.TEXT, ["ok"], True, id="text-in-list"),
        pytest.param("value not in [down, failed]", Unit.TEXT, ["down"], False, id="text-not-in"),
        pytest.param('value == "ok"', Unit.NONE, ["ok"], True, id="unitless-field-holding-text"),
        pytest.param("value == true", Unit.BOOLEAN, [True], True, id="boolean"),
        pytest.param("value in [200, 204]", Unit.NONE, [204], True, id="status-in-list"),
    ],
)
def test_thresholds_judge(
    expression: str, unit: Unit, samples: list[Sample], expected: bool
) -> None:
    assert judge(expression, unit, samples) is expected


@pytest.mark.parametrize(
    ("expression", "unit", "message"),
    [
        pytest.param(
            "value >= 95", Unit.PERCENT, "percentage with a bare number", id="percent-vs-bare"
        ),
        pytest.param("avg < 30s", Unit.NONE, "declare the value's unit", id="unitless-vs-time"),
        pytest.param("value < 95%", Unit.COUNT, "declare the value's unit", id="count-vs-percent"),
        pytest.param("p95 < 1s", Unit.TEXT, "needs numbers", id="percentile-of-text"),
        pytest.param("rate > 90%", Unit.S, "`rate` needs", id="rate-of-durations"),
        pytest.param('value < "x"', Unit.TEXT, "compare with ==", id="text-ordering"),
    ],
)
def test_unit_mismatches_are_config_errors(expression: str, unit: Unit, message: str) -> None:
    with pytest.raises(ThresholdError, match=message):
        parse_threshold(expression).check_unit(unit)


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "p95",
        "p95 < ",
        "p95 << 3",
        "p101 < 1s",
        "foo < 1",
        "p95 < 300 parsecs",
        "value in healthy",
    ],
)
def test_unreadable_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ThresholdError):
        parse_threshold(expression)


def test_targets_are_held_in_base_units() -> None:
    assert parse_threshold("p95 < 300ms").targets == (pytest.approx(0.3),)
    assert parse_threshold("rate >= 99.5%").targets == (pytest.approx(0.995),)
    assert parse_threshold("max < 2m").targets == (120.0,)


def test_nan_never_holds() -> None:
    threshold = parse_threshold("value < 100")
    assert holds(threshold, float("nan"), threshold.result_dimension(Unit.COUNT)) is False
