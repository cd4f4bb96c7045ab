"""Partial runs are local experiments: narrowed or cut short, they never move budgets.

Real pytest runs (pytester, in a subprocess) against a real scripted HTTP server.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  stats:
    http:
      path: /stats
      values:
        rate: {json: success_rate, unit: "%"}
  health:
    http: {path: /health}
slos:
  success-rate:
    probe: stats
    measure: rate
    threshold: value >= 90%
    objective: 99%
    window: 1d
  health-fast:
    probe: health
    measure: latency
    threshold: p95 < 2s
    marks: [fast]
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, scripted: ScriptedServer) -> ScriptedServer:
    pytester.makefile(".yaml", slo=SUITE)
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99}')
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    return scripted


def _results(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _runs(pytester: pytest.Pytester) -> int:
    with sqlite3.connect(pytester.path / "reports" / "history.db") as db:
        count: int = db.execute("select count(*) from sloprobe_runs").fetchone()[0]
    return count


def _budget(pytester: pytest.Pytester) -> Any:
    data = _results(pytester.path / "reports" / "results.json")
    [verdict] = [v for v in data["verdicts"] if v["slo"] == "success-rate"]
    return verdict["history"]["budget"]


@pytest.mark.parametrize(
    ("narrowing", "said"),
    [
        (["-k", "health"], "1 of 2 SLOs selected (-k health)"),
        (["-m", "fast"], "1 of 2 SLOs selected (-m fast)"),
        (["slo.yaml::health-fast"], "1 of 2 SLOs selected (test ids or paths)"),
        (["--deselect", "slo.yaml::success-rate"], "1 of 2 SLOs selected (--deselect)"),
    ],
    ids=["-k", "-m", "node id", "--deselect"],
)
def test_a_narrowed_run_leaves_history_budgets_and_the_last_report_alone(
    pytester: pytest.Pytester, suite: ScriptedServer, narrowing: list[str], said: str
) -> None:
    base = f"--base-url={suite.base_url}"
    assert pytester.runpytest(base).ret == 0
    report = pytester.path / "reports" / "report.html"
    full_report = report.read_bytes()
    budget = _budget(pytester)
    suite.routes["/stats"] = Answer(200, '{"success_rate": 10}')  # would burn the budget

    narrowed = pytester.runpytest(base, *narrowing)
    assert narrowed.ret == 0
    narrowed.stdout.fnmatch_lines(
        [f"*partial run: {said}; a local experiment, not recorded in history*"]
    )
    assert _runs(pytester) == 1
    assert report.read_bytes() == full_report
    assert _budget(pytester) == budget
    partial = _results(pytester.path / "reports" / "partial" / "results.json")
    assert partial["run"]["partial"] == said
    assert [v["slo"] for v in partial["verdicts"]] == ["health-fast"]
    assert "partial run" in (pytester.path / "reports" / "partial" / "report.html").read_text()


def test_a_run_stopped_by_x_is_partial_too(
    pytester: pytest.Pytester, suite: ScriptedServer
) -> None:
    suite.routes["/stats"] = Answer(200, '{"success_rate": 10}')
    result = pytester.runpytest(f"--base-url={suite.base_url}", "-x")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*partial run: stopped early (-x / --maxfail) after 1 of 2 SLOs*"])
    assert not (pytester.path / "reports" / "history.db").exists() or _runs(pytester) == 0
    assert not (pytester.path / "reports" / "results.json").exists()


def test_record_partial_counts_a_narrowed_run(
    pytester: pytest.Pytester, suite: ScriptedServer
) -> None:
    result = pytester.runpytest(f"--base-url={suite.base_url}", "-k", "health", "--record-partial")
    assert result.ret == 0
    assert "partial run" not in result.stdout.str()
    assert _runs(pytester) == 1
    data = _results(pytester.path / "reports" / "results.json")
    assert data["run"]["partial"] == "1 of 2 SLOs selected (-k health)"


def test_a_full_run_is_not_partial(pytester: pytest.Pytester, suite: ScriptedServer) -> None:
    result = pytester.runpytest(f"--base-url={suite.base_url}", "-k", "health or success")
    assert result.ret == 0
    assert "partial run" not in result.stdout.str()
    assert _results(pytester.path / "reports" / "results.json")["run"]["partial"] is None
