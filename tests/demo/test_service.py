"""The reference job service: real HTTP, real database, real workers, working fault knobs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sloprobe.demo.service import Faults, RunningService, ServiceConfig, start_service


@pytest.fixture
def service() -> Iterator[RunningService]:
    with start_service(ServiceConfig(seed=7)) as running:
        yield running


@pytest.fixture
def client(service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base_url, timeout=5.0) as http:
        yield http


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    pytest.fail("condition not reached in time")


def submit(client: httpx.Client, synthetic: bool = False) -> int:
    headers = {"X-Synthetic": "true"} if synthetic else {}
    answer = client.post(
        "/jobs", data={"asset_id": "a1", "prompt": "draw", "tier": "pro"}, headers=headers
    )
    assert answer.status_code == 202
    assert answer.json()["status"] == "queued"
    return int(answer.json()["id"])


def test_job_moves_from_queued_to_succeeded(client: httpx.Client) -> None:
    job_id = submit(client, synthetic=True)
    wait_for(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "succeeded")
    job = client.get(f"/jobs/{job_id}").json()
    assert job["synthetic"] is True
    assert job["tier"] == "pro"
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    stats = client.get("/admin/jobs/stats", params={"hours": 1}).json()
    assert stats["by_status"]["succeeded"] == 1
    assert stats["success_rate"] == 100.0
    assert stats["avg_processing_ms"] >= 20


def test_health_endpoints(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    health = client.get("/admin/health")
    assert health.status_code == 200
    assert health.json()["status"] == "healthy"
    assert client.get("/admin/workers").json()["active_count"] == 2
    assert client.get("/jobs/999").status_code == 404


def test_failure_rate_fails_jobs_with_error_text() -> None:
    with (
        start_service(ServiceConfig(faults=Faults(failure_rate=1.0))) as running,
        httpx.Client(base_url=running.base_url) as client,
    ):
        ids = [submit(client) for _ in range(3)]
        wait_for(lambda: all(client.get(f"/jobs/{i}").json()["status"] == "failed" for i in ids))
        assert "simulated processing error" in client.get(f"/jobs/{ids[0]}").json()["error"]
        assert client.get("/admin/jobs/stats").json()["success_rate"] == 0.0


def test_stopped_workers_leave_jobs_queued_and_health_503(
    service: RunningService, client: httpx.Client
) -> None:
    service.set_faults(workers_stopped=True)
    job_id = submit(client)
    time.sleep(0.3)
    assert client.get(f"/jobs/{job_id}").json()["status"] == "queued"
    assert client.get("/admin/workers").json()["active_count"] == 0
    health = client.get("/admin/health")
    assert health.status_code == 503
    assert health.json()["status"] == "unhealthy"
    service.set_faults(workers_stopped=False)
    wait_for(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "succeeded")


def test_backlog_stays_until_removed(service: RunningService, client: httpx.Client) -> None:
    service.set_faults(backlog=150)
    time.sleep(0.3)
    assert client.get("/admin/metrics").json()["queue_depth"] == 150
    job_id = submit(client)  # real jobs still get through
    wait_for(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "succeeded")
    assert client.put("/admin/faults", json={"backlog": 0}).json()["backlog"] == 0
    assert client.get("/admin/metrics").json()["queue_depth"] == 0


def test_api_latency_is_added(service: RunningService, client: httpx.Client) -> None:
    service.set_faults(api_latency_ms=300)
    start = time.perf_counter()
    client.get("/health")
    assert time.perf_counter() - start >= 0.3


def test_recent_limit_is_clamped_and_status_checked(client: httpx.Client) -> None:
    for _ in range(3):
        submit(client)
    assert len(client.get("/admin/jobs/recent", params={"limit": 500}).json()["jobs"]) == 3
    assert client.get("/admin/jobs/recent", params={"status": "lost"}).status_code == 422
    assert client.get("/admin/jobs/recent", params={"limit": 0}).status_code == 422
    assert client.get("/admin/jobs/stats", params={"hours": 0}).status_code == 422
    assert client.put("/admin/faults", json={"no_such_fault": 1}).status_code == 422


def test_prometheus_metrics_parse(client: httpx.Client) -> None:
    job_id = submit(client)
    wait_for(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "succeeded")
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    assert {
        "jobs_submitted",
        "jobs_finished",
        "job_duration_seconds",
        "job_queue_depth",
        "workers_active",
    } <= set(families)
    count = next(
        s.value
        for s in families["job_duration_seconds"].samples
        if s.name == "job_duration_seconds_count"
    )
    assert count == 1.0
    assert next(s.value for s in families["workers_active"].samples) == 2.0


def test_request_log_and_two_instances(service: RunningService, client: httpx.Client) -> None:
    service.clear_request_log()
    client.get("/health", headers={"X-Synthetic": "true"})
    with start_service() as other:
        httpx.get(f"{other.base_url}/health")
        assert [e.path for e in other.request_log] == ["/health"]
    assert [(e.path, e.synthetic) for e in service.request_log] == [("/health", True)]
