"""`sloprobe report --run OLD` re-renders an old run under runs/, never over the live outputs.

A Prometheus textfile collector reads metrics.prom as the current state: an old
breach written there would page as if it were happening now.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Imported here, before pytester snapshots sys.modules: re-imported in a second test,
# SQLAlchemy's compiled cache keys break.
import sloprobe.history.replay
import sloprobe.sinks.html_report
import sloprobe.sinks.metrics_textfile
import sloprobe.sinks.run_index  # noqa: F401
from sloprobe.cli import main
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
slos:
  success-rate:
    probe: stats
    measure: rate
    threshold: value >= 90%
"""

LIVE = ("results.json", "metrics.prom", "report.html", "latest.json", "index.html")


def _run_id(reports: Path) -> str:
    run_id: str = json.loads((reports / "results.json").read_text())["run"]["run_id"]
    return run_id


def test_report_of_an_old_run_writes_under_runs_only(
    pytester: pytest.Pytester,
    scripted: ScriptedServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    reports = pytester.path / "reports"
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 10}')
    assert pytester.runpytest(f"--base-url={scripted.base_url}").ret == 1
    old = _run_id(reports)
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99}')
    assert pytester.runpytest(f"--base-url={scripted.base_url}").ret == 0
    live = {name: (reports / name).read_bytes() for name in LIVE if (reports / name).exists()}
    assert "results.json" in live and "metrics.prom" in live
    archived = next((reports / "runs").glob(f"*-{old}.html"))
    archived.unlink()  # as if pruned: the re-render must bring it back

    monkeypatch.chdir(pytester.path)
    monkeypatch.delenv("SLOPROBE_HISTORY_URL", raising=False)
    assert main(["report", "--run", old]) == 0
    captured = capsys.readouterr()
    for name, before in live.items():
        assert (reports / name).read_bytes() == before, f"{name} was overwritten"
    assert archived.is_file()
    assert "breach" in archived.read_text()
    assert f"report: {os.path.join('reports', 'runs', archived.name)}" in captured.out
    assert f"run {old} is older than run" in captured.err
    assert f"written under {os.path.join('reports', 'runs')}/ only" in captured.err
    assert json.loads(archived.with_suffix(".json").read_text())["run"]["run_id"] == old


def test_report_of_the_latest_run_still_refreshes_the_live_outputs(
    pytester: pytest.Pytester,
    scripted: ScriptedServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    reports = pytester.path / "reports"
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99}')
    assert pytester.runpytest(f"--base-url={scripted.base_url}").ret == 0
    latest = _run_id(reports)
    (reports / "report.html").unlink()
    monkeypatch.chdir(pytester.path)
    monkeypatch.delenv("SLOPROBE_HISTORY_URL", raising=False)
    assert main(["report", "--run", latest]) == 0
    assert (reports / "report.html").is_file()
    assert "report: reports/report.html" in capsys.readouterr().out.replace(os.sep, "/")
