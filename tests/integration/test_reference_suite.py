"""The repo's default suite against the real reference job service, fault by fault.

Each fault of the service must breach exactly the SLOs it should, and leave
the others ok; `-k` must send only the selected SLO's requests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import Faults, RunningService, ServiceConfig, start_service
from tests.support.scripted_server import ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
ALL_SLOS = {
    "health-up",
    "health-latency",
    "queue-depth",
    "workers-live",
    "job-success-rate",
    "job-roundtrip",
    "job-succeeds",
}


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A copy of the repo's suite (slo.yaml, conftest.py, probes/) in a fresh directory."""
    shutil.copy(ROOT / "slo.yaml", pytester.path / "slo.yaml")
    shutil.copy(ROOT / "conftest.py", pytester.path / "conftest.py")
    shutil.copytree(
        ROOT / "probes", pytester.path / "probes", ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setenv("SLOPROBE_JOB_TIMEOUT", "2")
    monkeypatch.delenv("PROBE_BASE_URL", raising=False)
    return pytester


@pytest.fixture
def service() -> Iterator[RunningService]:
    with start_service(ServiceConfig()) as running:
        yield running


def statuses(suite: pytest.Pytester) -> dict[str, str]:
    results = json.loads((suite.path / "reports" / "results.json").read_text())
    return {v["slo"]: v["status"] for v in results["verdicts"]}


def test_healthy_service_meets_every_slo(suite: pytest.Pytester, service: RunningService) -> None:
    warm_up(service.base_url)
    result = suite.runpytest("--base-url", service.base_url, "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    assert statuses(suite) == dict.fromkeys(ALL_SLOS, "ok")


@pytest.mark.parametrize(
    ("start_faults", "run_faults", "breached"),
    [
        pytest.param({}, {"api_latency_ms": 350}, {"health-latency"}, id="api-latency"),
        pytest.param(
            {"failure_rate": 1.0}, {}, {"job-success-rate", "job-succeeds"}, id="failure-rate"
        ),
        pytest.param(
            {},
            {"workers_stopped": True},
            {"workers-live", "job-roundtrip", "job-succeeds"},
            id="workers-stopped",
        ),
        pytest.param({}, {"backlog": 150}, {"queue-depth"}, id="backlog"),
    ],
)
def test_each_fault_breaches_exactly_its_slos(
    suite: pytest.Pytester,
    start_faults: dict[str, object],
    run_faults: dict[str, object],
    breached: set[str],
) -> None:
    with start_service(ServiceConfig(faults=Faults(**start_faults))) as running:  # type: ignore[arg-type]
        warm_up(running.base_url)
        running.set_faults(**run_faults)
        result = suite.runpytest("--base-url", running.base_url, "-p", "no:cacheprovider")
    assert result.ret == 1
    found = statuses(suite)
    assert {slo for slo, status in found.items() if status == "breach"} == breached
    assert {slo for slo, status in found.items() if status != "breach"} == ALL_SLOS - breached
    assert all(found[slo] == "ok" for slo in ALL_SLOS - breached), found
    report = (suite.path / "reports" / "report.html").read_text()
    for slo in breached:
        result.stdout.fnmatch_lines([f"*SLO {slo} breach*"])
        assert f'id="slo-{slo}"' in report


def test_k_sends_only_the_selected_slos_requests(
    suite: pytest.Pytester, service: RunningService
) -> None:
    service.clear_request_log()
    result = suite.runpytest(
        "--base-url", service.base_url, "-p", "no:cacheprovider", "-k", "health-latency"
    )
    assert result.ret == 0
    result.assert_outcomes(passed=1)
    paths = [entry.path for entry in service.request_log]
    assert paths == ["/health"] * 5


@pytest.mark.parametrize("dead", ["answers-404", "refuses"])
def test_a_dead_target_breaches_every_slo_of_the_suite(
    suite: pytest.Pytester, scripted: ScriptedServer, closed_port_url: str, dead: str
) -> None:
    base_url = scripted.base_url if dead == "answers-404" else closed_port_url
    result = suite.runpytest("--base-url", base_url, "-p", "no:cacheprovider")
    assert result.ret == 1
    assert statuses(suite) == dict.fromkeys(ALL_SLOS, "breach")


def test_collect_only_in_the_repo_lists_the_slos() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "PROBE_BASE_URL"},
    )
    assert listed.returncode == 0, listed.stderr
    assert {f"slo.yaml::{slo}" for slo in ALL_SLOS} <= set(listed.stdout.splitlines())
