"""Probes with their own absolute URL need no target base URL; a relative one still does.

Real pytest runs (pytester, in a subprocess) against real scripted HTTP servers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

METRICS = "# TYPE queue_depth gauge\nqueue_depth 7\n"
VECTOR = '{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "3"]}]}}'


def suite(scrape_url: str, server: str) -> str:
    return f"""\
version: 1
service: shop
probes:
  scrape:
    prometheus:
      url: {scrape_url}
      metrics:
        depth: {{name: queue_depth}}
  server:
    promql:
      server: {server}
      queries:
        depth: {{query: queue_depth}}
slos:
  scraped-depth:
    probe: scrape
    measure: depth
    threshold: value < 10
  queried-depth:
    probe: server
    measure: depth
    threshold: value < 10
"""


@pytest.fixture
def monitoring(scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    """A /metrics exposition and a PromQL API on one real server; no base URL anywhere."""
    monkeypatch.delenv("PROBE_BASE_URL", raising=False)
    scripted.routes["/metrics"] = Answer(200, METRICS, {"Content-Type": "text/plain"})
    scripted.routes["/api/v1/query"] = Answer(200, VECTOR)
    return scripted


def _verdicts(reports: Path) -> dict[str, str]:
    data = json.loads((reports / "results.json").read_text())
    return {v["slo"]: v["status"] for v in data["verdicts"]}


def test_absolute_urls_need_no_base_url(
    pytester: pytest.Pytester, monitoring: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=suite(f"{monitoring.base_url}/metrics", monitoring.base_url))
    result = pytester.runpytest("--history=off")
    assert result.ret == 0, result.stderr.str()
    assert _verdicts(pytester.path / "reports") == {"scraped-depth": "ok", "queried-depth": "ok"}
    assert "no target to probe" not in result.stderr.str()


def test_a_relative_scrape_url_still_needs_the_base_url(
    pytester: pytest.Pytester, monitoring: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=suite("/metrics", monitoring.base_url))
    result = pytester.runpytest("--history=off")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no target to probe" in result.stderr.str()


def test_only_the_probes_of_the_selected_slos_count(
    pytester: pytest.Pytester, monitoring: ScriptedServer
) -> None:
    """The relative scrape is not needed when only the PromQL SLO is selected (held already)."""
    pytester.makefile(".yaml", slo=suite("/metrics", monitoring.base_url))
    result = pytester.runpytest("--history=off", "-k", "queried")
    assert result.ret == 0, result.stderr.str()
    assert _verdicts(pytester.path / "reports" / "partial") == {"queried-depth": "ok"}
