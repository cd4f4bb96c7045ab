"""The shape-1 example, unchanged, against a service that answers only as the Luster seeds show.

Healthy, it exits 0 with every SLO met — the run's own job read before the statistics and
the worker count, so a fresh deploy has a success rate to judge. Each fault the seeds'
troubleshooting sections name breaches the SLOs it should, and says why in one line. The same
file also runs against the bundled reference service, with its own field names.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import ServiceConfig, start_service
from tests.support.example_runs import breached, run_example
from tests.support.luster_server import ASSET, FIELDS, PASSWORD, LusterService, luster_service

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi-db-worker" / "slo.yaml"
ADMIN_SLOS = {"service-healthy", "database-healthy", "workers-live", "queue-depth"}
JOB_SLOS = {"job-success-rate", "job-processing-time", "job-e2e"}
ALL = ADMIN_SLOS | JOB_SLOS | {"health-latency"}


@pytest.fixture
def luster(monkeypatch: pytest.MonkeyPatch) -> Iterator[LusterService]:
    for name, value in {
        **FIELDS,
        "PROBE_ASSET_ID": ASSET,
        "ADMIN_PASSWORD": PASSWORD,
        "PROCESSING_TIME_MAX": "60s",
        "JOB_E2E_MAX": "3s",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ADMIN_JWT", raising=False)
    monkeypatch.delenv("PROBE_BASE_URL", raising=False)
    with luster_service() as service:
        yield service


def run(suite: pytest.Pytester, base_url: str, *args: str) -> tuple[Any, dict[str, Any]]:
    return run_example(suite, EXAMPLE, base_url, *args)


def test_a_fresh_healthy_service_meets_every_slo(
    pytester: pytest.Pytester, luster: LusterService
) -> None:
    """No job has ever run: the run's own job gives the statistics something to count."""
    assert luster.jobs == {}
    result, verdicts = run(pytester, luster.base_url)
    assert result.ret == 0, result.stdout.str()
    assert {slo: v["status"] for slo, v in verdicts.items()} == dict.fromkeys(ALL, "ok")
    [job] = luster.jobs.values()
    assert job.state == "succeeded"


@pytest.mark.parametrize(
    ("fault", "expected", "said"),
    [
        pytest.param(
            {"worker_stopped": True},
            {"workers-live", "job-e2e"},
            {"workers-live": "value = 0", "job-e2e": "queued"},
            id="stopped-worker",
        ),
        pytest.param(
            {"jobs_fail": True},
            {"job-success-rate", "job-e2e"},
            {"job-success-rate": "0%", "job-e2e": "failed"},
            id="failing-jobs",
        ),
        pytest.param({"slow_s": 2.2}, {"health-latency"}, {"health-latency": "p95"}, id="slow-api"),
        pytest.param(
            {"database_down": True},
            {"service-healthy", "database-healthy", "workers-live", "job-e2e"},
            {"database-healthy": "unhealthy", "job-e2e": "Database unavailable"},
            id="database-down",
        ),
    ],
)
def test_each_fault_breaches_what_it_should_and_says_why(
    pytester: pytest.Pytester,
    luster: LusterService,
    fault: dict[str, Any],
    expected: set[str],
    said: dict[str, str],
) -> None:
    for name, value in fault.items():
        setattr(luster.faults, name, value)
    clock = time.monotonic()
    result, verdicts = run(pytester, luster.base_url)
    took = time.monotonic() - clock
    assert result.ret == 1
    assert expected <= breached(verdicts), {s: v["reason"] for s, v in verdicts.items()}
    assert breached(verdicts) - expected <= {"job-success-rate", "job-processing-time"}
    for slo, words in said.items():
        assert words in verdicts[slo]["reason"] + verdicts[slo]["observed"], verdicts[slo]
    assert took < 30, f"the run took {took:.0f} s; the job's SLO bounds it at 3 s"


def test_a_wrong_password_breaches_every_admin_slo_and_leaks_nothing(
    pytester: pytest.Pytester, luster: LusterService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "not-the-password")
    result, verdicts = run(pytester, luster.base_url)
    assert result.ret == 1
    assert breached(verdicts) == ADMIN_SLOS | {"job-success-rate", "job-processing-time"}
    assert "HTTP 401" in verdicts["service-healthy"]["reason"]
    assert "not-the-password" not in (pytester.path / "reports" / "report.html").read_text()


def test_without_its_field_names_the_run_stops_naming_them(
    pytester: pytest.Pytester, luster: LusterService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOB_STATUS_FIELD")
    shutil.copy(EXAMPLE, pytester.path / "slo.yaml")
    result = pytester.runpytest("--base-url", luster.base_url, "--history=off")
    assert result.ret == 4
    assert "`JOB_STATUS_FIELD` is not set" in result.stdout.str() + result.stderr.str()
    assert luster.jobs == {}


def test_the_same_file_runs_against_the_reference_service(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled reference service names its fields its own way: only the variables change."""
    token = "ref-admin-token-01"
    for name, value in {
        "ADMIN_JWT": token,
        "PROBE_ASSET_ID": "asset-7",
        "JOB_ID_FIELD": "job_id",
        "JOB_STATUS_FIELD": "status",
        "QUEUE_DEPTH_FIELD": "current_queue.queued",
        "SUCCESS_RATE_FIELD": "success_rate_percent",
        "SUCCESS_RATE_UNIT": "%",
        "PROCESSING_TIME_FIELD": "avg_processing_time_seconds",
        "PROCESSING_TIME_UNIT": "s",
        "PROCESSING_TIME_MAX": "60s",
        "JOB_E2E_MAX": "30s",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    with start_service(ServiceConfig(admin_token=token)) as service:
        warm_up(service.base_url, admin_token=token)
        result, verdicts = run(pytester, service.base_url)
    assert result.ret == 0, result.stdout.str()
    assert {slo: v["status"] for slo, v in verdicts.items()} == dict.fromkeys(ALL, "ok")
