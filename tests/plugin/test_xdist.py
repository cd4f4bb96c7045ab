"""pytest-xdist: `-n 2` gives the verdicts, summary, report and single history record of `-n 0`.

Real pytest runs (pytester, in a subprocess) with the real pytest-xdist, against a
real scripted HTTP server that counts the requests it answers.
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
  checkout:
    python:
      values:
        items: {unit: count}
slos:
  success-rate:
    probe: stats
    measure: rate
    threshold: value >= 90%
  health-fast:
    probe: health
    measure: latency
    threshold: p95 < 2s
  checkout-items:
    probe: checkout
    measure: items
    threshold: value >= 3
  success-floor:
    probe: stats
    measure: rate
    threshold: value >= 50%
"""
PROBE = """\
import os
import pytest

@pytest.mark.probe("checkout")
def test_checkout(target, recorder):
    assert target.get("/health").status_code == 200
    recorder.record("items", 2)
    with open("probe-worker.txt", "w") as f:
        f.write(os.environ.get("PYTEST_XDIST_WORKER", "main"))
"""
# Ordinary tests beside the SLOs, enough for both workers to get some.
OTHERS = "\n".join(f"def test_other_{i}():\n    assert {i} >= 0\n" for i in range(12))


@pytest.fixture
def suite(pytester: pytest.Pytester, scripted: ScriptedServer) -> ScriptedServer:
    pytester.makefile(".yaml", slo=SUITE)
    (pytester.path / "probes").mkdir()
    (pytester.path / "probes" / "test_checkout.py").write_text(PROBE)
    pytester.makepyfile(test_others=OTHERS)
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99}')
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    return scripted


def _verdicts(path: Path) -> list[dict[str, Any]]:
    data = json.loads((path / "reports" / "results.json").read_text())
    return [  # a latency differs from run to run; every other value must not
        {k: v[k] for k in ("slo", "status", "observed", "threshold", "reason")}
        | ({"observed": "a latency"} if v["slo"] == "health-fast" else {})
        for v in data["verdicts"]
    ]


def _history_runs(path: Path) -> int:
    with sqlite3.connect(path / "reports" / "history.db") as db:
        count: int = db.execute("select count(*) from sloprobe_runs").fetchone()[0]
    return count


def test_two_workers_give_the_verdicts_and_the_one_history_record_of_one_process(
    pytester: pytest.Pytester, suite: ScriptedServer
) -> None:
    base = f"--base-url={suite.base_url}"
    single = pytester.runpytest(base, "slo.yaml", "probes", "test_others.py", "-n", "0")
    assert single.ret == 1  # checkout-items breaches: 2 items, at least 3 wanted
    single_verdicts = _verdicts(pytester.path)
    assert [v["status"] for v in single_verdicts] == ["ok", "ok", "breach", "ok"]
    requests_single = len(suite.requests)

    distributed = pytester.runpytest(base, "slo.yaml", "probes", "test_others.py", "-n", "2")
    assert distributed.ret == 1
    distributed.stdout.fnmatch_lines(["*2 workers*", "*SLO summary: shop (production)*"])
    distributed.stdout.fnmatch_lines(["*4 SLOs: 3 ok, 1 breach*"])
    assert distributed.stdout.str().count("SLO summary") == 1
    assert _verdicts(pytester.path) == single_verdicts
    assert _history_runs(pytester.path) == 2  # one record per invocation
    # The probes ran once each: the same requests as the single-process run.
    assert len(suite.requests) == 2 * requests_single
    assert (pytester.path / "probe-worker.txt").read_text().startswith("gw")
    outcomes = distributed.parseoutcomes()
    assert outcomes["passed"] == 12 + 3 + 1 and outcomes["failed"] == 1


def test_exit_on_incident_is_decided_by_the_controller(
    pytester: pytest.Pytester, suite: ScriptedServer
) -> None:
    """A breach with no incident yet (flap control) exits 0 under xdist too, and says why."""
    result = pytester.runpytest(
        f"--base-url={suite.base_url}", "slo.yaml", "probes", "-n", "2", "--exit-on=incident"
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*exit status 0 (1 failed) because of --exit-on incident: no incident is open*"]
    )


def test_dist_modes_that_split_a_file_from_its_probes_are_refused(
    pytester: pytest.Pytester, suite: ScriptedServer
) -> None:
    result = pytester.runpytest(f"--base-url={suite.base_url}", "-n", "2", "--dist", "each")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*which --dist each cannot do: use --dist load*"])


def test_an_unrelated_project_keeps_its_dist_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_others=OTHERS)
    pytester.makeconftest(
        "def pytest_sessionfinish(session):\n"
        "    if not hasattr(session.config, 'workerinput'):\n"
        "        print('dist =', session.config.option.dist)\n"
    )
    result = pytester.runpytest("-n", "2", "-s")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*dist = load*"])
