"""The shape-3 example, unchanged, against a BullMQ service that answers only as its seed shows.

Health and metrics as pose-generator-monitoring.md shows them, a real BullMQ queue on a
real redis-server and a real BullMQ worker (tests/support/pose_service.py). Healthy —
idle (0 generations in the hour) or busy — the example exits 0; each fault breaches the
SLOs it should and says why in one line.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.example_runs import breached, run_example, said
from tests.support.pose_service import ADMIN_JWT, QUEUE, PoseService, pose_service
from tests.support.redis_process import RedisProcess, have_redis_server, redis_process

pytestmark = pytest.mark.skipif(
    not have_redis_server(), reason="redis-server is not on PATH (apt-get install redis-server)"
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bullmq-node" / "slo.yaml"
HEALTH_SLOS = {"healthy", "database-connected", "redis-connected", "queue-operational"}
HEALTH_SLOS |= {"queue-waiting"}
METRICS_SLOS = {"success-rate", "generation-time", "queue-depth", "credit-refunds"}
QUEUE_SLOS = {"workers-live", "worker-downtime"}
ALL = HEALTH_SLOS | METRICS_SLOS | QUEUE_SLOS


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    with redis_process() as server:
        yield server


@pytest.fixture
def pose(monkeypatch: pytest.MonkeyPatch, redis_server: RedisProcess) -> Iterator[PoseService]:
    monkeypatch.setenv("ADMIN_JWT", ADMIN_JWT)
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("BULLMQ_QUEUE", QUEUE)
    monkeypatch.delenv("PROBE_BASE_URL", raising=False)
    with pose_service(redis_server) as service:
        yield service


def run(suite: pytest.Pytester, base_url: str, *args: str) -> tuple[Any, dict[str, Any]]:
    return run_example(suite, EXAMPLE, base_url, *args)


def test_an_idle_service_meets_every_slo_and_counts_no_rate_of_nothing(
    pytester: pytest.Pytester, pose: PoseService
) -> None:
    """No generation in the hour: successRate is 0 of 0, which is nothing to judge, not 0 %."""
    result, verdicts = run(pytester, pose.base_url)
    assert result.ret == 0, result.stdout.str()
    idle = {"success-rate", "generation-time"}
    assert {slo: v["status"] for slo, v in verdicts.items()} == {
        **dict.fromkeys(ALL - idle, "ok"),
        **dict.fromkeys(idle, "no_data"),
    }
    for slo in idle:
        assert verdicts[slo]["reason"].startswith("nothing to count: `total` value == 0")
        assert not verdicts[slo]["counts_as_bad"]
    assert verdicts["workers-live"]["status"] == "ok"
    sent = {urlsplit(path).path: (path, headers) for path, headers in pose.requests}
    path, headers = sent["/api/apps/pose-generator/metrics"]
    assert parse_qs(urlsplit(path).query) == {"period": ["1h"]}
    assert headers["Authorization"] == f"Bearer {ADMIN_JWT}"


def test_a_busy_healthy_service_meets_every_slo(
    pytester: pytest.Pytester, pose: PoseService
) -> None:
    pose.submit(10)
    pose.wait_for(pose.settled, "10 generations done")
    result, verdicts = run(pytester, pose.base_url)
    assert result.ret == 0, result.stdout.str()
    assert {slo: v["status"] for slo, v in verdicts.items()} == dict.fromkeys(ALL, "ok")
    assert verdicts["success-rate"]["observed"] == "value = 100%"


@pytest.mark.parametrize(
    ("fault", "expected", "words"),
    [
        pytest.param(
            "stopped-worker", {"workers-live"}, {"workers-live": "value = 0"}, id="stopped-worker"
        ),
        pytest.param(
            "failing-jobs", {"success-rate"}, {"success-rate": "value = 0%"}, id="failing-jobs"
        ),
        pytest.param(
            "slow-jobs", {"generation-time"}, {"generation-time": "value = 75"}, id="slow-jobs"
        ),
        pytest.param(
            "database-down",
            {"healthy", "database-connected"} | METRICS_SLOS,
            {"database-connected": "disconnected", "success-rate": "HTTP 500"},
            id="database-down",
        ),
        pytest.param(
            "redis-down",
            {"healthy", "redis-connected", "queue-operational"} | METRICS_SLOS | QUEUE_SLOS,
            {"redis-connected": "disconnected", "workers-live": "connection refused"},
            id="redis-down",
        ),
    ],
)
def test_each_fault_breaches_what_it_should_and_says_why(
    pytester: pytest.Pytester,
    pose: PoseService,
    redis_server: RedisProcess,
    fault: str,
    expected: set[str],
    words: dict[str, str],
) -> None:
    if fault == "stopped-worker":
        pose.submit(3)  # a service that has worked: its queue has jobs behind it
        pose.wait_for(pose.settled, "3 generations done")
        pose.stop_worker()
    elif fault == "failing-jobs":
        pose.faults.jobs_fail = True
        pose.submit(9)
        pose.wait_for(pose.settled, "9 generations failed")
    elif fault == "slow-jobs":
        pose.faults.flux_s = 75.0
        pose.submit(3)
        pose.wait_for(pose.settled, "3 slow generations")
    elif fault == "database-down":
        pose.faults.database_down = True
    elif fault == "redis-down":
        redis_server.stop()
    result, verdicts = run(pytester, pose.base_url)
    assert result.ret == 1, result.stdout.str()
    reasons = {slo: said(v) for slo, v in verdicts.items()}
    assert breached(verdicts) == expected, reasons
    for slo, verdict in verdicts.items():
        if slo in expected or verdict["status"] == "ok":
            continue
        assert verdict["status"] == "no_data", reasons
        if fault == "redis-down" and slo == "queue-waiting":
            # The health answer has no queue counts then: said as missing, never read as 0.
            assert "`checks.queue.counts.waiting` is absent" in verdict["reason"]
        else:
            raise AssertionError(reasons)
    for slo, text in words.items():
        assert text in reasons[slo], reasons[slo]
    for slo in expected:  # each breach names what it saw, on one line
        assert "\n" not in reasons[slo], reasons[slo]


def test_a_wrong_admin_token_breaches_the_metrics_slos_and_leaks_nothing(
    pytester: pytest.Pytester, pose: PoseService, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiVVNFUiJ9.not-an-admin"
    monkeypatch.setenv("ADMIN_JWT", wrong)
    result, verdicts = run(pytester, pose.base_url)
    assert result.ret == 1
    assert breached(verdicts) == METRICS_SLOS
    for slo in METRICS_SLOS:
        assert "HTTP 401 (auth refused)" in verdicts[slo]["reason"], verdicts[slo]
    assert wrong not in (pytester.path / "reports" / "report.html").read_text()
    assert wrong not in result.stdout.str()


def test_without_its_queue_the_run_stops_naming_it(
    pytester: pytest.Pytester, pose: PoseService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BULLMQ_QUEUE")
    shutil.copy(EXAMPLE, pytester.path / "slo.yaml")
    result = pytester.runpytest("--base-url", pose.base_url, "--history=off")
    assert result.ret == 4
    assert "`BULLMQ_QUEUE` is not set" in result.stdout.str() + result.stderr.str()
