"""The terminal says what the report and results say of a run short of its quorum.

Other locations' runs go into the run's own SQLite history first (the plugin's SuiteRun,
clock injected a minute or two before now); then `pytest` runs from another location
($SLOPROBE_LOCATION) against a real HTTP target, and its terminal summary is read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sloprobe.config import load_slo_text
from tests.history.simulation import plugin_run
from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
settings:
  quorum: {{locations: {needed}, within: 10m}}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {{json: depth, unit: count}}
slos:
  depth:
    probe: queue
    measure: depth
    threshold: value < 100
"""


@pytest.fixture(autouse=True)
def _no_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def _run_here(
    pytester: pytest.Pytester,
    scripted: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    needed: int,
    elsewhere: dict[str, float],
    depth: float,
) -> pytest.RunResult:
    """Runs from ``elsewhere`` (location → depth) in the last minutes, then one from ap-south."""
    text = SUITE.format(needed=needed)
    pytester.makefile(".yaml", slo=text)
    history = pytester.path / "reports" / "history.db"
    history.parent.mkdir()
    loaded = load_slo_text(text, "slo.yaml", {})
    now = datetime.now(UTC)
    for minutes, (location, value) in enumerate(elsewhere.items(), 1):
        monkeypatch.setenv("SLOPROBE_LOCATION", location)
        plugin_run(loaded, str(history), now - timedelta(minutes=minutes), value, location)
    scripted.routes["/metrics"] = Answer(200, json.dumps({"depth": depth}))
    monkeypatch.setenv("SLOPROBE_LOCATION", "ap-south")
    return pytester.runpytest(f"--base-url={scripted.base_url}")


def test_a_breach_short_of_its_quorum_says_so_in_the_terminal(
    pytester: pytest.Pytester, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run_here(pytester, scripted, monkeypatch, 3, {"eu-west": 500.0}, 500.0)
    assert run.ret == 1  # this run's breach, there
    summary = run.stdout.str().split("SLO summary")[-1]
    assert (
        "depth: degraded at ap-south: seen from 2 of the 3 locations needed within 10 m, "
        "so not counted toward budgets or incidents"
    ) in summary
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert "seen from 2 of the 3 locations needed within 10 m" in data["verdicts"][0]["reason"]
    # A third location makes the quorum: its breach counts, and no such line is printed.
    monkeypatch.setenv("SLOPROBE_LOCATION", "us-east")
    third = pytester.runpytest(f"--base-url={scripted.base_url}")
    assert third.ret == 1
    assert "degraded at" not in third.stdout.str()
    assert "not counted" not in third.stdout.str()


def test_a_healthy_run_not_counted_during_an_outage_elsewhere_says_why(
    pytester: pytest.Pytester, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = {"eu-west": 500.0, "us-east": 480.0}
    run = _run_here(pytester, scripted, monkeypatch, 2, elsewhere, 1.0)
    assert run.ret == 0
    summary = run.stdout.str().split("SLO summary")[-1]
    assert "depth: not counted: 2 other locations saw a breach within 10 m (eu-west, us-east)" in (
        summary
    )
