"""Quorum across locations: one location's blip never opens an incident; two of three do.

Runs are the plugin's own (SuiteRun) with an injected clock, from three locations
($SLOPROBE_LOCATION), into one real SQLite history.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sloprobe.config import load_slo_text
from sloprobe.model.result import RunResult
from tests.history.simulation import T0, plugin_run

SUITE = """\
version: 1
service: shop
settings:
  quorum: {locations: 2, within: 10m}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {json: depth, unit: count}
slos:
  depth:
    probe: queue
    measure: depth
    threshold: value < 100
    objective: 99%
    window: 1d
"""
LOCATIONS = ("eu-west", "us-east", "ap-south")


def _round(
    history: str, index: int, bad: set[str], mp: pytest.MonkeyPatch, text: str = SUITE
) -> dict[str, RunResult]:
    """One round: each location runs once, a few seconds apart, five minutes after the last."""
    loaded = load_slo_text(text, "slo.yaml", {})
    results = {}
    for offset, location in enumerate(LOCATIONS):
        mp.setenv("SLOPROBE_LOCATION", location)
        at = T0 + timedelta(minutes=5 * index, seconds=10 * offset)
        depth = 500.0 if location in bad else 1.0
        results[location] = plugin_run(loaded, history, at, depth, f"{index}-{location}")
    return results


def _incident_open(results: dict[str, RunResult]) -> bool:
    return any(
        r.verdicts[0].history is not None and r.verdicts[0].history.incident.open
        for r in results.values()
    )


@pytest.fixture(autouse=True)
def _no_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def test_one_broken_location_degrades_itself_and_opens_no_incident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = str(tmp_path / "h.db")
    rounds = [_round(history, i, {"ap-south"}, monkeypatch) for i in range(20)]
    assert not any(_incident_open(r) for r in rounds)
    last = rounds[-1]
    broken = last["ap-south"].verdicts[0]
    assert broken.status.value == "breach" and broken.counts_as_bad  # this run's truth, there
    assert broken.uncounted is not None and "degraded at ap-south" in broken.reason
    assert "1 of the 2 locations" in broken.uncounted
    budget = last["eu-west"].verdicts[0].history
    assert budget is not None and budget.budget is not None
    assert budget.budget.remaining_fraction == pytest.approx(1.0)  # the blip burnt nothing


def test_two_of_three_locations_open_an_incident_and_it_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = str(tmp_path / "h.db")
    healthy = [_round(history, i, set(), monkeypatch) for i in range(3)]
    bad = [_round(history, 3 + i, {"us-east", "ap-south"}, monkeypatch) for i in range(4)]
    # resolved once the page burn-rate alert's hour holds no bad run, and two good rounds passed
    after = [_round(history, 7 + i, set(), monkeypatch) for i in range(14)]
    assert not any(_incident_open(r) for r in healthy)
    assert _incident_open(bad[-1])
    first_bad = bad[0]["us-east"].verdicts[0]
    assert first_bad.uncounted is not None  # the first location alone, seconds before the second
    assert bad[0]["ap-south"].verdicts[0].uncounted is None  # the second makes the quorum
    assert not _incident_open(after[-1])


def test_without_a_quorum_every_runs_breach_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = str(tmp_path / "h.db")
    text = SUITE.replace("settings:\n  quorum: {locations: 2, within: 10m}\n", "")
    rounds = [_round(history, i, {"ap-south"}, monkeypatch, text) for i in range(5)]
    assert _incident_open(rounds[-1])
    assert rounds[-1]["ap-south"].verdicts[0].uncounted is None


def test_a_healthy_location_does_not_break_the_streak_of_a_real_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No objective, so no burn-rate alert: the incident opens by flap control alone."""
    history = str(tmp_path / "h.db")
    text = SUITE.replace("    objective: 99%\n    window: 1d\n", "")
    bad = [_round(history, i, {"us-east", "ap-south"}, monkeypatch, text) for i in range(4)]
    assert not _incident_open(bad[0])
    assert _incident_open(bad[-1])
    healthy = bad[-1]["eu-west"].verdicts[0]
    assert healthy.status.value == "ok" and healthy.uncounted is not None
    assert "2 other locations saw a breach" in healthy.uncounted
    after = [_round(history, 4 + i, set(), monkeypatch, text) for i in range(3)]
    assert not _incident_open(after[-1])
