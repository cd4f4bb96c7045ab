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
    return int(answer.json()["job_id"])


def test_job_moves_from_queued_to_succeeded(client: httpx.Client) -> None:
    job_id = submit(client, synthetic=True)
    wait_for(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "succeeded")
    job = client.get(f"/jobs/{job_id}").json()
    assert job["job_id"] == job_id
    assert job["synthetic"] is True
    assert job["tier"] == "pro"
    assert job["error_message"] is None
    assert job["created_at"] <= job["started_at"] <= job["completed_at"]
    stats = client.get("/admin/jobs/stats", params={"hours": 1}).json()
    assert stats["period_hours"] == 1
    assert stats["jobs_by_status"]["succeeded"] == 1
    assert (stats["total_completed"], stats["successful"], stats["failed"]) == (1, 1, 0)
    assert stats["success_rate_percent"] == 100.0
    assert stats["avg_processing_time_seconds"] >= 0.02


def test_nothing_finished_is_no_success_rate_rather_than_0(client: httpx.Client) -> None:
    stats = client.get("/admin/jobs/stats").json()
    assert stats["total_completed"] == 0
    assert stats["success_rate_percent"] is None
    assert stats["avg_processing_time_seconds"] is None


def test_health_endpoints_answer_as_the_luster_deployment_guide_shows(
    client: httpx.Client,
) -> None:
    assert client.get("/health").json() == {
        "status": "healthy",
        "services": {"database": "healthy"},
    }
    health = client.get("/admin/health")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "healthy"
    assert body["services"] == {"database": "healthy", "redis": "not_configured"}
    assert body["workers"]["estimated_active"] == 2
    workers = client.get("/admin/workers").json()
    assert workers["estimated_active"] == 2
    assert [w["name"] for w in workers["workers"]] == ["worker-1", "worker-2"]
    assert client.get("/jobs/999").status_code == 404


def test_failure_rate_fails_jobs_with_error_text() -> None:
    with (
        start_service(ServiceConfig(faults=Faults(failure_rate=1.0))) as running,
        httpx.Client(base_url=running.base_url) as client,
    ):
        ids = [submit(client) for _ in range(3)]
        wait_for(lambda: all(client.get(f"/jobs/{i}").json()["status"] == "failed" for i in ids))
        failed = client.get(f"/jobs/{ids[0]}").json()
        assert failed["status"] == "failed"
        assert "simulated processing error" in failed["error_message"]
        assert client.get("/admin/jobs/stats").json()["success_rate_percent"] == 0.0


def test_stopped_workers_leave_jobs_queued_and_show_as_0_active(
    service: RunningService, client: httpx.Client
) -> None:
    service.set_faults(workers_stopped=True)
    job_id = submit(client)
    time.sleep(0.3)
    assert client.get(f"/jobs/{job_id}").json()["status"] == "queued"
    assert client.get("/admin/workers").json()["estimated_active"] == 0
    health = client.get("/admin/health")
    # As in Luster, the status follows the services; the dead workers show in their own field.
    assert health.status_code == 200
    assert health.json()["status"] == "healthy"
    assert health.json()["workers"]["estimated_active"] == 0
    service.set_faults(workers_stopped=False)
    wait_for(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "succeeded")


def test_backlog_stays_until_removed(service: RunningService, client: httpx.Client) -> None:
    service.set_faults(backlog=150)
    time.sleep(0.3)
    metrics = client.get("/admin/metrics").json()
    assert metrics["current_queue"] == {"queued": 150, "processing": 0}
    assert metrics["totals"]["jobs"] == metrics["activity_24h"]["jobs_created"] == 150
    job_id = submit(client)  # real jobs still get through
    wait_for(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "succeeded")
    assert client.put("/admin/faults", json={"backlog": 0}).json()["backlog"] == 0
    assert client.get("/admin/metrics").json()["current_queue"]["queued"] == 0


def test_api_latency_is_added(service: RunningService, client: httpx.Client) -> None:
    service.set_faults(api_latency_ms=300)
    start = time.perf_counter()
    client.get("/health")
    assert time.perf_counter() - start >= 0.3


def test_recent_limit_is_clamped_and_status_checked(client: httpx.Client) -> None:
    for _ in range(3):
        submit(client)
    recent = client.get("/admin/jobs/recent", params={"limit": 500}).json()
    assert (len(recent["jobs"]), recent["total"], recent["limit"]) == (3, 3, 100)
    assert {"job_id", "status", "error_message"} <= set(recent["jobs"][0])
    assert client.get("/admin/jobs/recent", params={"status": "lost"}).status_code == 400
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


def test_an_admin_token_guards_every_admin_route_and_nothing_else() -> None:
    token = "adm-7f3c2e91"
    with (
        start_service(ServiceConfig(admin_token=token)) as running,
        httpx.Client(base_url=running.base_url) as client,
    ):
        for path in ("/admin/health", "/admin/workers", "/admin/jobs/stats", "/admin/metrics"):
            refused = client.get(path)
            assert refused.status_code == 401, path
            assert refused.json() == {"detail": "Not authenticated"}
            assert refused.headers["WWW-Authenticate"] == "Bearer"
            wrong = client.get(path, headers={"Authorization": "Bearer not-it"})
            assert wrong.status_code == 401, path
            assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.get("/health").status_code == 200
        job_id = submit(client)  # jobs are the public API: no admin token
        assert client.get(f"/jobs/{job_id}").status_code == 200
        assert [e.status for e in running.request_log if e.path == "/admin/metrics"] == [
            401,
            401,
            200,
        ]
