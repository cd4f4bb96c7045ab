"""Simulated sequences of runs (injected clock) against hand-computed budgets, burn rates and incidents.

Every test runs on SQLite and on a real PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from sloprobe.history import HistoryStore
from sloprobe.model.history import SloHistory, Transition
from sloprobe.model.result import RunResult
from tests.history.simulation import STEP, SUITE, T0, play, record, suite


def history_of(result: RunResult) -> SloHistory:
    verdict = result.verdicts[0]
    assert verdict.history is not None
    return verdict.history


def test_one_day_window_with_outage_and_dropped_runs(store: HistoryStore) -> None:
    # 288 five-minute slots: 100 good, 3 bad, 10 that never fired, 175 good.
    results = play(store, suite(), "g" * 100 + "b" * 3 + "." * 10 + "g" * 175)
    assert len(results) == 278
    budget = history_of(results[-1]).budget
    assert budget is not None
    assert (budget.runs, budget.good, budget.total) == (278, 275, 278)
    assert budget.compliance == pytest.approx(275 / 278)
    # 3 bad of 278 against a 1 % budget: 3/278/0.01 = 107.9 % used, overspent by 7.9 %.
    assert budget.remaining_fraction == pytest.approx(1 - (3 / 278) / 0.01)
    assert budget.total_s == pytest.approx(864.0)
    assert budget.remaining_s == pytest.approx((1 - (3 / 278) / 0.01) * 864.0)
    assert budget.exhausted_in_s is None  # nothing burning in the last hour
    assert budget.history_s == pytest.approx(287 * 300)


def test_burn_rates_and_page_alert(store: HistoryStore) -> None:
    results = play(store, suite(), "g" * 250 + "bb")
    history = history_of(results[-1])
    rates = {r.window_s: r.rate for r in history.burn_rates}
    assert rates[300] == pytest.approx(100.0)  # the only run in 5 m is bad: 1/1/0.01
    assert rates[3600] == pytest.approx((2 / 12) / 0.01)  # 2 bad of 12 in the last hour
    assert rates[6 * 3600] == pytest.approx((2 / 72) / 0.01)
    assert rates[86400] == pytest.approx((2 / 252) / 0.01)  # the day holds only 252 runs so far
    assert rates[3 * 86400] == pytest.approx(
        (2 / 252) / 0.01
    )  # history is shorter than 3 d: all of it
    # page: 1 h 16.7× and 5 m 100× ≥ 14.4; no ticket: 3 d 0.79× < 1 and 1 d 0.79× < 3.
    assert history.firing == ("page",)
    assert history.incident.transition is Transition.OPENED
    assert history.incident.cause == "page burn-rate alert"
    # At the current burn (1 h: 16.7×) the remaining budget lasts remaining_s / (16.7 × 1 %).
    budget = history.budget
    assert budget is not None and budget.remaining_s is not None
    assert budget.exhausted_in_s == pytest.approx(budget.remaining_s / (rates[3600] * 0.01))


def test_flap_control_opens_after_three_and_resolves_after_two(store: HistoryStore) -> None:
    results = play(store, suite(suite_text_without_objective()), "ggbgbbbgbggg")
    transitions = [history_of(r).incident.transition for r in results]
    assert transitions == [
        None,
        None,
        None,
        None,
        None,
        None,
        Transition.OPENED,
        Transition.ONGOING,
        Transition.ONGOING,
        Transition.ONGOING,
        Transition.RESOLVED,
        None,
    ]
    opened = history_of(results[6]).incident
    assert opened.since == T0 + 4 * STEP  # the breach began with the first bad run of the streak
    assert opened.bad_streak == 3
    resolved = history_of(results[10]).incident
    assert resolved.duration_s == pytest.approx(4 * 300)


def suite_text_without_objective() -> str:
    return SUITE.replace("    objective: 99%\n", "")


def test_silence_opens_nothing_and_breach_after_it_opens(store: HistoryStore) -> None:
    loaded = suite(suite_text_without_objective())
    start = T0 + timedelta(hours=10)  # the silence covers 10:00 to 11:00
    results = play(store, loaded, "b" * 12 + "b", start=start)
    assert all(history_of(r).incident.transition is None for r in results[:12])
    assert all(history_of(r).incident.silenced == "planned maintenance" for r in results[:12])
    assert history_of(results[12]).incident.transition is Transition.OPENED


def test_short_window_below_minimum_is_no_data_not_zero(store: HistoryStore) -> None:
    results = play(store, suite(SUITE.replace("settings:\n", "settings:\n  min_runs: 2\n")), "gggb")
    rates = {r.window_s: r for r in history_of(results[-1]).burn_rates}
    assert rates[300].rate is None and rates[300].runs == 1
    assert rates[3600].rate == pytest.approx((1 / 4) / 0.01)
    alerts = {(a.long.window_s, a.short.window_s): a for a in history_of(results[-1]).alerts}
    assert not alerts[(3600, 300)].firing  # the 5 m window has no data, so this pair cannot fire
    assert alerts[(6 * 3600, 1800)].firing  # 1 bad of 4 runs in 6 h and in 30 m: 25× ≥ 6


def test_late_run_counts_once_in_its_window(store: HistoryStore) -> None:
    loaded = suite()
    record(store, loaded, T0, 1.0, 0)
    record(store, loaded, T0 + STEP + timedelta(minutes=3), 500.0, 1)  # fired 3 minutes late
    last = record(store, loaded, T0 + 3 * STEP, 1.0, 2)
    budget = history_of(last).budget
    assert budget is not None and (budget.runs, budget.good) == (3, 2)


def test_transitions_survive_a_restart(history_url: str) -> None:
    loaded = suite(suite_text_without_objective())
    first = HistoryStore.open(history_url)
    play(first, loaded, "bb")
    first.dispose()
    second = HistoryStore.open(history_url)  # a new process would do exactly this
    results = play(second, loaded, "..b", start=T0)
    second.dispose()
    assert history_of(results[-1]).incident.transition is Transition.OPENED
