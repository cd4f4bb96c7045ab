"""Numbers people can read: three significant figures, no negative percents, no budget from minutes of history."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sloprobe.judge.objectives import budget_from_totals
from sloprobe.model.describe import (
    MIN_BUDGET_COVERAGE,
    NOT_ENOUGH_HISTORY,
    budget_coverage,
    budget_note,
    budget_text,
    burn_rates_text,
    burn_text,
    describe_budget,
    describe_burn,
    history_texts,
    objective_percent,
    objective_text,
)
from sloprobe.model.history import (
    Budget,
    Budgeting,
    BurnRate,
    IncidentState,
    SloHistory,
    WindowTotals,
)
from sloprobe.model.status import Status
from sloprobe.model.units import format_percent, format_rate, significant
from sloprobe.model.verdict import Verdict

NOW = datetime(2026, 11, 30, tzinfo=UTC)
DAY = 86400.0
NUMBER = re.compile(r"\d+(?:\.\d+)?")
RAW_FLOAT = re.compile(
    r"\d\.\d{5,}"
)  # 49.99999999999996: float noise (3 figures ≥ 0.01 need ≤ 4 decimals)
NEGATIVE_PERCENT = re.compile(r"-\s*\d[\d.]*\s*%")


def figures(number: str) -> int:
    """Significant figures of a number as written: ``0.0123`` → 3, ``12300`` → 3, ``100`` → 1."""
    digits = number.replace(".", "").lstrip("0")
    if "." not in number:
        digits = digits.rstrip("0")
    return len(digits)


def most_figures(text: str) -> int:
    return max((figures(n) for n in NUMBER.findall(text)), default=0)


def budget(
    *,
    history_s: float,
    window_s: float = 30 * DAY,
    remaining: float | None = 0.5,
    objective: float = 0.99,
    budgeting: Budgeting = "timeslices",
) -> Budget:
    total_s = (1 - objective) * window_s
    return Budget(
        objective,
        window_s,
        budgeting,
        10,
        9,
        10,
        0.9,
        total_s,
        remaining,
        None if remaining is None else remaining * total_s,
        None,
        history_s,
    )


def verdict_with(history: SloHistory | None) -> Verdict:
    return Verdict(
        "depth",
        "queue",
        "depth",
        Status.BREACH,
        "value = 500",
        "value < 100",
        "",
        True,
        history=history,
    )


def slo_history(b: Budget | None, *rates: BurnRate) -> SloHistory:
    incident = IncidentState(False, None, None, None, 1, 0)
    return SloHistory(incident, b, rates)


# -- the number rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (49.99999999999996, "50"),
        (80.0, "80"),
        (16.666666666666664, "16.7"),
        (0.012345, "0.0123"),
        (123456.0, "123000"),
        (999.6, "1000"),
        (-3.14159, "-3.14"),
        (0.0, "0"),
        (0.004, "<0.01"),
        (1e20, "100000000000000000000"),
        (math.nan, "—"),
        (math.inf, "∞"),
    ],
    ids=str,
)
def test_significant(value: float, text: str) -> None:
    assert significant(value) == text


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (0.7234, "72.3%"),
        (1.0, "100%"),
        (0.9996, ">99.9%"),  # never "100%" for a share that is not all of it
        (0.999, "99.9%"),
        (0.0, "0%"),
        (0.00001, "<0.01%"),  # nor "0%" for one that is not nothing
        (0.0052, "0.52%"),
        (2.5, "250%"),
    ],
    ids=str,
)
def test_format_percent(fraction: float, text: str) -> None:
    assert format_percent(fraction) == text


@pytest.mark.parametrize("fraction", [-79.0, -0.0001, math.nan, math.inf])
def test_a_negative_or_non_finite_percent_is_a_mistake_of_the_caller(fraction: float) -> None:
    with pytest.raises(ValueError):
        format_percent(fraction)


def test_burn_rates_read_as_multiples() -> None:
    assert format_rate(49.99999999999996) == "50×"
    assert format_rate(80.0) == "80×"
    assert format_rate(16.666666666666664) == "16.7×"
    assert format_rate(0.3472222222222219) == "0.347×"
    assert describe_burn(BurnRate(3600, None, 0)) == "no data"


@given(st.floats(-1e300, 1e300))
def test_significant_never_shows_more_than_three_figures(value: float) -> None:
    text = significant(value)
    assert "e" not in text.lower()
    assert most_figures(text) <= 3
    if abs(value) >= 0.01:
        assert float(text) == pytest.approx(value, rel=5e-3)  # rounded, not changed


@given(st.floats(min_value=0, max_value=1e9))
def test_percent_has_three_figures_at_most_and_no_sign(fraction: float) -> None:
    text = format_percent(fraction)
    assert re.fullmatch(r"[<>]?\d+(\.\d+)?%", text), text
    assert most_figures(text) <= 3
    assert text != "100%" or fraction >= 1
    assert text not in ("0%", "<0.01%") or fraction < 0.0001


@given(st.floats(min_value=0, max_value=1e6))
def test_burn_rate_has_three_figures_at_most(rate: float) -> None:
    text = format_rate(rate)
    assert re.fullmatch(r"<?\d+(\.\d+)?×", text), text
    assert most_figures(text) <= 3


# -- budgets ------------------------------------------------------------------------------


def test_twenty_minutes_of_a_thirty_day_window_is_not_enough_history() -> None:
    # 4 of 5 runs bad in 20 minutes: the judge's -7900 % is right and useless.
    short = budget(history_s=1200, remaining=-79.0)
    assert describe_budget(short) == "not enough history yet (20 m of 30 d)"
    assert budget_coverage(short) == pytest.approx(1200 / (30 * DAY))


def test_the_budget_shows_once_the_stated_share_of_the_window_is_covered() -> None:
    assert MIN_BUDGET_COVERAGE == 0.25
    edge = MIN_BUDGET_COVERAGE * 30 * DAY
    assert describe_budget(budget(history_s=edge - 1)).startswith(NOT_ENOUGH_HISTORY)
    assert describe_budget(budget(history_s=edge)) == "50% left (3 h 36 m)"
    note = budget_note(verdict_with(slo_history(budget(history_s=600))))
    assert note == "shown once history covers 25% of the window (7 d 12 h)"
    assert budget_note(verdict_with(slo_history(budget(history_s=edge)))) is None


@pytest.mark.parametrize(
    ("remaining", "text"),
    [
        (0.7234, "72.3% left (5 h 12 m)"),
        (0.99999, ">99.9% left (7 h 12 m)"),
        (0.0, "exhausted"),
        (-0.5787, "overspent by 4 h 10 m"),  # 157.87 % used of 7 h 12 m
        (-79.0, "overspent by 23 d 16 h"),
        (None, "no data"),
    ],
    ids=str,
)
def test_budget_phrases_over_a_covered_window(remaining: float | None, text: str) -> None:
    assert describe_budget(budget(history_s=30 * DAY, remaining=remaining)) == text


def test_occurrences_budgets_are_said_the_same_way_as_time() -> None:
    over = budget(history_s=30 * DAY, remaining=-0.5787, budgeting="occurrences")
    assert describe_budget(over) == "overspent by 4 h 10 m"


def test_no_objective_no_budget() -> None:
    assert describe_budget(None) == "—"
    assert budget_text(verdict_with(None)) == "—"
    assert burn_text(verdict_with(slo_history(None))) == "—"


def test_the_objective_is_shown_as_configured() -> None:
    assert objective_percent(0.9995) == "99.95%"  # not "100%": configured, not computed
    assert objective_percent(0.99999) == "99.999%"
    assert objective_text(budget(history_s=0, objective=0.995)) == "99.5% over 30 d"


def test_history_texts_gather_every_phrase() -> None:
    history = slo_history(
        budget(history_s=1200, remaining=-79.0),
        BurnRate(300, 99.99999999999991, 1),
        BurnRate(3600, 79.99999999999993, 5),
        BurnRate(3 * DAY, None, 0),
    )
    v = verdict_with(history)
    assert burn_text(v) == "80×"
    assert burn_rates_text(history) == {"5 m": "100×", "1 h": "80×", "3 d": "no data"}
    assert history_texts(v) == {
        "budget": "not enough history yet (20 m of 30 d)",
        "objective": "99% over 30 d",
        "burn_rates": {"5 m": "100×", "1 h": "80×", "3 d": "no data"},
        "incident": "—",
    }


windows = st.sampled_from([3600.0, DAY, 7 * DAY, 28 * DAY, 30 * DAY])


@st.composite
def judged_budgets(draw: st.DrawFn) -> Budget:
    """Budgets as the judge computes them, from any counts and any span of history."""
    window = draw(windows)
    total = draw(st.integers(0, 100_000))
    bad = draw(st.integers(0, total))
    span = draw(st.floats(0, window))
    budgeting = draw(st.sampled_from(["timeslices", "occurrences"]))
    totals = WindowTotals(
        runs=total,
        bad_runs=bad,
        good_events=total - bad,
        total_events=total,
        first_at=NOW - timedelta(seconds=span) if total else None,
    )
    objective = draw(st.sampled_from([0.9, 0.99, 0.995, 0.999, 0.9999]))
    burn = draw(st.none() | st.just(0.0) | st.floats(0.001, 10_000))
    return budget_from_totals(totals, NOW, objective, window, budgeting, burn)


@given(judged_budgets())
def test_every_budget_phrase_is_readable(b: Budget) -> None:
    text = describe_budget(b)
    assert not NEGATIVE_PERCENT.search(text), text
    assert not RAW_FLOAT.search(text), text
    assert most_figures(text) <= 3, text
    if budget_coverage(b) < MIN_BUDGET_COVERAGE:
        assert text.startswith(f"{NOT_ENOUGH_HISTORY} ("), text
    elif b.remaining_fraction is not None and b.remaining_fraction < 0:
        assert text.startswith(("overspent by ", "exhausted")), text
    elif b.remaining_fraction is not None:
        assert text.endswith(")") and " left (" in text, text


@given(st.floats(0, 30 * DAY * MIN_BUDGET_COVERAGE, exclude_max=True), st.floats(-1e6, 1))
def test_short_history_always_reads_not_enough_history(history_s: float, remaining: float) -> None:
    assert describe_budget(budget(history_s=history_s, remaining=remaining)).startswith(
        "not enough history yet ("
    )
