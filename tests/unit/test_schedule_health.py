"""Schedule health: runs held against what the cron asked for, and the gaps GitHub left."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloprobe.judge.schedule import BadCron, schedule_health
from sloprobe.model.units import format_duration

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HOUR = 3600.0


def every_five_minutes(hours: float, late_s: float = 0.0) -> list[datetime]:
    count = int(hours * 12)
    return [NOW - timedelta(minutes=5 * i) + timedelta(seconds=late_s) for i in range(count)][::-1]


def test_a_punctual_day_holds_every_run_and_no_gap() -> None:
    health = schedule_health("*/5 * * * *", every_five_minutes(25), NOW, 300)
    assert (health.expected, health.held, health.gaps) == (288, 288, ())
    assert health.text() == (
        f"288 of 288 scheduled runs in the last {format_duration(86400)} (cron */5 * * * *); "
        f"no gap over {format_duration(300)}"
    )


def test_runs_late_within_the_allowance_are_no_gap_but_dropped_ones_count() -> None:
    rng = random.Random(7)
    runs = [t + timedelta(minutes=rng.uniform(10, 55)) for t in every_five_minutes(24)]
    runs = [t for i, t in enumerate(runs) if i % 3 and t <= NOW]  # GitHub drops a third
    health = schedule_health("2-59/5 * * * *", runs, NOW, HOUR)
    assert health.gaps == ()
    assert health.held == len(runs) < health.expected


def test_a_dropped_hour_is_a_gap_of_its_length() -> None:
    runs = [
        t
        for t in every_five_minutes(24)
        if not (6 * HOUR <= (NOW - t).total_seconds() < 8.5 * HOUR)
    ]
    health = schedule_health("*/5 * * * *", runs, NOW, HOUR)
    [gap] = health.gaps
    assert gap.end - gap.start == timedelta(hours=2, minutes=30)
    assert f"1 gap, longest {format_duration(9000)}" in health.text()


def test_a_suite_younger_than_a_day_counts_from_its_first_run() -> None:
    health = schedule_health("*/5 * * * *", every_five_minutes(2), NOW, 300)
    assert health.since == NOW - timedelta(minutes=115)
    assert (health.expected, health.held) == (24, 24)


def test_a_bad_cron_is_named() -> None:
    with pytest.raises(BadCron, match="cron `61 \\* \\* \\* \\*`"):
        schedule_health("61 * * * *", [NOW], NOW, 300)


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.floats(min_value=0, max_value=86400), max_size=300),
    allowance=st.floats(min_value=60, max_value=7200),
)
def test_gaps_are_ordered_apart_and_each_longer_than_the_allowance(
    offsets: list[float], allowance: float
) -> None:
    runs = [NOW - timedelta(seconds=o) for o in offsets]
    health = schedule_health("*/5 * * * *", runs, NOW, allowance)
    assert health.held == sum(1 for r in runs if r > NOW - timedelta(days=1))  # (now - 1 d, now]
    for gap in health.gaps:
        assert gap.seconds > allowance
    for first, second in zip(health.gaps, health.gaps[1:], strict=False):
        assert first.end <= second.start
