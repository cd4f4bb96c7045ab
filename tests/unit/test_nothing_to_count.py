"""A rate of nothing is no failure: `nothing_to_count` makes it no_data, never a breach."""

from __future__ import annotations

from datetime import UTC, datetime

from sloprobe.config.model import SloSpec
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.status import Status
from sloprobe.model.units import Unit

RULE = SloSpec.model_validate(
    {
        "probe": "metrics",
        "measure": "rate",
        "threshold": "value > 95%",
        "nothing_to_count": {"measure": "total", "threshold": "value == 0"},
    }
)


def _metrics(rate: float, total: int) -> Measurement:
    return Measurement(
        "metrics",
        "http",
        datetime(2026, 1, 1, tzinfo=UTC),
        0.01,
        {
            "rate": Series("rate", Unit.PERCENT, (rate,)),
            "total": Series("total", Unit.COUNT, (total,)),
        },
    )


def test_zero_of_zero_jobs_is_no_data_not_a_breach() -> None:
    verdict = evaluate_slo("success-rate", RULE, _metrics(0.0, 0))
    assert verdict.status is Status.NO_DATA and not verdict.counts_as_bad
    assert "nothing to count: `total` value == 0" in verdict.reason


def test_a_low_rate_of_real_jobs_still_breaches() -> None:
    verdict = evaluate_slo("success-rate", RULE, _metrics(0.40, 12))
    assert verdict.status is Status.BREACH


def test_without_the_rule_zero_of_zero_breaches() -> None:
    bare = RULE.model_copy(update={"nothing_to_count": None})
    assert evaluate_slo("success-rate", bare, _metrics(0.0, 0)).status is Status.BREACH
