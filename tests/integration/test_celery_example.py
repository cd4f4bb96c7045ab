"""The shape-2 example, unchanged, against a Celery stack that answers only as its seed shows.

The API's health endpoints as marb-monitoring-dashboards.md builds them, a real Celery
worker on a real redis-server, and Flower's API fed by the workers' own events
(tests/support/marb_stack.py). Healthy — idle, or busy behind Flower's basic auth — the
example exits 0; each fault breaches the SLOs it should and says why in one line.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.example_runs import breached, run_example, said
from tests.support.marb_stack import FLOWER_USER, QUEUE, MarbStack, marb_stack
from tests.support.redis_process import RedisProcess, have_redis_server, redis_process

pytestmark = pytest.mark.skipif(
    not have_redis_server(), reason="redis-server is not on PATH (apt-get install redis-server)"
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "celery-flower" / "slo.yaml"
ALL = {
    "health-latency",
    "healthy",
    "database-up",
    "redis-up",
    "celery-up",
    "workers-live",
    "failed-tasks",
    "backlog",
}
FLOWER_SLOS = {"workers-live", "failed-tasks"}
FAILED_LIMIT = 5
BACKLOG_MAX = 5


def basic(pair: str) -> str:
    """FLOWER_BASIC_AUTH as the example asks for it: the header that opens Flower."""
    return "Basic " + base64.b64encode(pair.encode()).decode()


@pytest.fixture
def broker() -> Iterator[RedisProcess]:
    with redis_process() as server:
        yield server


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, broker: RedisProcess) -> pytest.MonkeyPatch:
    monkeypatch.setenv("CELERY_BROKER_URL", broker.url)
    monkeypatch.setenv("CELERY_QUEUE", QUEUE)
    monkeypatch.setenv("CELERY_BACKLOG_MAX", str(BACKLOG_MAX))
    monkeypatch.setenv("CELERY_FAILED_TASKS_LIMIT", str(FAILED_LIMIT))
    for name in ("FLOWER_BASIC_AUTH", "PROBE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def marb(environment: pytest.MonkeyPatch, broker: RedisProcess) -> Iterator[MarbStack]:
    """Flower as in development: no --basic_auth, so FLOWER_BASIC_AUTH stays unset."""
    with marb_stack(broker) as stack:
        environment.setenv("FLOWER_URL", stack.flower_url)
        yield stack


@pytest.fixture
def marb_with_auth(environment: pytest.MonkeyPatch, broker: RedisProcess) -> Iterator[MarbStack]:
    """Flower as in production: --basic_auth=admin:…, and its credentials in the environment."""
    with marb_stack(broker, flower_auth=FLOWER_USER) as stack:
        environment.setenv("FLOWER_URL", stack.flower_url)
        environment.setenv("FLOWER_BASIC_AUTH", basic(FLOWER_USER))
        yield stack


def run(suite: pytest.Pytester, base_url: str, *args: str) -> tuple[Any, dict[str, Any]]:
    return run_example(suite, EXAMPLE, base_url, *args)


def test_an_idle_service_with_flower_without_auth_meets_every_slo(
    pytester: pytest.Pytester, marb: MarbStack
) -> None:
    """No task yet, Flower run without --basic_auth and FLOWER_BASIC_AUTH unset: exit 0."""
    result, verdicts = run(pytester, marb.api_url)
    assert result.ret == 0, result.stdout.str()
    assert {slo: v["status"] for slo, v in verdicts.items()} == dict.fromkeys(ALL, "ok")
    assert verdicts["workers-live"]["observed"] == "value = 1"
    # No credential went to Flower: the header is empty, and Flower without auth ignores it.
    assert {h.get("Authorization") for _, h in marb.flower_requests} == {""}


def test_a_busy_service_behind_flowers_basic_auth_meets_every_slo(
    pytester: pytest.Pytester, marb_with_auth: MarbStack
) -> None:
    marb_with_auth.publish(12)
    marb_with_auth.wait_for(lambda: marb_with_auth.tasks_in("SUCCESS") == 12, "12 tasks done")
    result, verdicts = run(pytester, marb_with_auth.api_url)
    assert result.ret == 0, result.stdout.str()
    assert {slo: v["status"] for slo, v in verdicts.items()} == dict.fromkeys(ALL, "ok")
    sent = {h["Authorization"] for _, h in marb_with_auth.flower_requests}
    assert sent == {basic(FLOWER_USER)}


@pytest.mark.parametrize(
    ("fault", "expected", "words"),
    [
        pytest.param(
            "stopped-worker",
            {"healthy", "celery-up", "workers-live"},
            {"workers-live": "value = 0", "celery-up": "unhealthy"},
            id="stopped-worker",
        ),
        pytest.param(
            "failing-tasks",
            {"failed-tasks"},
            {"failed-tasks": f"value = {FAILED_LIMIT}"},
            id="failing-tasks",
        ),
        pytest.param("slow-tasks", {"backlog"}, {"backlog": "value = "}, id="slow-tasks-pile-up"),
        pytest.param(
            "database-down",
            {"healthy", "database-up"},
            {"database-up": "unhealthy", "healthy": "degraded"},
            id="database-down",
        ),
        pytest.param(
            "redis-down",
            {"healthy", "redis-up", "celery-up", "backlog"},
            {"redis-up": "unhealthy", "backlog": "refused"},
            id="redis-down",
        ),
    ],
)
def test_each_fault_breaches_what_it_should_and_says_why(
    pytester: pytest.Pytester,
    marb: MarbStack,
    broker: RedisProcess,
    fault: str,
    expected: set[str],
    words: dict[str, str],
) -> None:
    if fault == "stopped-worker":
        marb.stop_worker()
    elif fault == "failing-tasks":
        marb.faults.tasks_fail = True
        marb.publish(9)
        marb.wait_for(lambda: marb.tasks_in("FAILURE") == 9, "9 failed tasks")
    elif fault == "slow-tasks":
        marb.faults.task_s = 2.0
        marb.publish(10)
        marb.wait_for(lambda: marb.tasks_in("STARTED") == 1, "the first slow task")
    elif fault == "database-down":
        marb.faults.database_down = True
    elif fault == "redis-down":
        broker.stop()
    result, verdicts = run(pytester, marb.api_url)
    assert result.ret == 1, result.stdout.str()
    reasons = {slo: said(v) for slo, v in verdicts.items()}
    # Flower answers from memory while Redis is down: it may still count the worker alive.
    extra = {"workers-live"} if fault == "redis-down" else set()
    assert expected <= breached(verdicts) <= expected | extra, reasons
    assert {v["status"] for s, v in verdicts.items() if s not in breached(verdicts)} == {"ok"}
    for slo, text in words.items():
        assert text in reasons[slo], reasons[slo]
    for slo in expected:  # each breach names what it saw, on one line
        assert "\n" not in reasons[slo], reasons[slo]


@pytest.mark.parametrize(
    "credentials", [basic("admin:not-the-password"), None], ids=["wrong", "unset"]
)
def test_wrong_or_missing_flower_credentials_breach_flowers_slos_and_leak_nothing(
    pytester: pytest.Pytester,
    marb_with_auth: MarbStack,
    monkeypatch: pytest.MonkeyPatch,
    credentials: str | None,
) -> None:
    if credentials is None:
        monkeypatch.delenv("FLOWER_BASIC_AUTH")
    else:
        monkeypatch.setenv("FLOWER_BASIC_AUTH", credentials)
    result, verdicts = run(pytester, marb_with_auth.api_url)
    assert result.ret == 1
    assert breached(verdicts) == FLOWER_SLOS
    for slo in FLOWER_SLOS:
        assert "HTTP 401 (auth refused)" in verdicts[slo]["reason"], verdicts[slo]
    report = (pytester.path / "reports" / "report.html").read_text()
    assert "not-the-password" not in report
    if credentials is not None:
        secret = credentials.split()[1]
        assert secret not in report
        assert secret not in result.stdout.str()


def test_without_its_queue_the_run_stops_naming_it(
    pytester: pytest.Pytester, marb: MarbStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CELERY_QUEUE")
    shutil.copy(EXAMPLE, pytester.path / "slo.yaml")
    result = pytester.runpytest("--base-url", marb.api_url, "--history=off")
    assert result.ret == 4
    assert "`CELERY_QUEUE` is not set" in result.stdout.str() + result.stderr.str()
