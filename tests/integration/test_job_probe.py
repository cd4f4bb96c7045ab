"""The end-to-end job probe against the real reference service (and a scripted one for headers)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.demo.service import Faults, RunningService, ServiceConfig, start_service
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes
from tests.support.scripted_server import Answer, ScriptedServer

# The reference service answers as Luster's: `job_id`, `completed_at`, `error_message`.
JOB = {
    "submit": {
        "path": "/jobs",
        "form": {"asset_id": "synthetic", "prompt": "probe"},
        "id": "job_id",
    },
    "status": {"path": "/jobs/{id}", "finished_at": "completed_at", "error": "error_message"},
    "poll": {"interval": "100ms", "max_interval": "100ms", "timeout": "3s"},
}
POLL = 0.1


def measure(
    base_url: str, job: dict[str, object] = JOB, target: Target | None = None
) -> Measurement:
    spec = ProbeSpec.model_validate({"job": job})
    context = make_context(base_url, target or Target())
    return run_probes({"job": spec}, context, 2, 30.0)["job"]


def first(m: Measurement, series: str) -> float:
    value = m.series[series].samples[0]
    assert isinstance(value, float)
    return value


@pytest.fixture
def slow_jobs() -> Iterator[RunningService]:
    with start_service(ServiceConfig(faults=Faults(processing_ms=400))) as service:
        yield service


def test_breakdown_adds_up_and_recovers_processing_time(slow_jobs: RunningService) -> None:
    m = measure(slow_jobs.base_url)
    assert m.failure is None, m.failure
    parts = first(m, "submit") + first(m, "queue_wait") + first(m, "processing")
    total = first(m, "total")
    assert parts <= total + 0.01
    assert total - parts <= POLL + 0.1  # one poll interval plus one poll request
    assert (
        0.4 <= first(m, "processing") <= 0.4 + POLL
    )  # the injected 400 ms, from the job's own times
    assert m.series["state"].samples == ("succeeded",)
    assert m.series["succeeded"].samples == (True,)
    assert m.trace_id is not None and len(m.trace_id) == 32
    # the job was marked synthetic by the target's header
    job_id = m.details["job"]
    assert any(e.path == f"/jobs/{job_id}" for e in slow_jobs.request_log)
    assert all(e.synthetic for e in slow_jobs.request_log)


def test_failed_job_is_a_failure_with_its_error_text() -> None:
    with start_service(ServiceConfig(faults=Faults(failure_rate=1.0))) as service:
        m = measure(service.base_url)
    assert m.failure is not None
    assert "ended failed: job" in m.failure and "simulated processing error" in m.failure
    assert m.series["succeeded"].samples == (False,)


def test_stuck_job_times_out_clearly() -> None:
    with start_service(ServiceConfig(faults=Faults(workers_stopped=True))) as service:
        m = measure(service.base_url)
    assert m.failure is not None
    assert m.failure.endswith("still queued after 3s (timeout)")
    assert m.duration_s < 3 + 1


def test_login_token_is_used_and_never_shown(scripted: ScriptedServer) -> None:
    token = "tok-secret-1234567890"
    scripted.routes["/login"] = Answer(200, json.dumps({"access_token": token}))
    scripted.routes["/jobs"] = Answer(202, json.dumps({"job_id": 7}))
    scripted.routes["/jobs/7"] = Answer(
        200, json.dumps({"status": "failed", "error_message": f"worker crashed with token {token}"})
    )
    target = Target.model_validate({"login": {"path": "/login", "json": {"user": "probe"}}})
    m = measure(scripted.base_url, target=target)
    requests = {path: headers for _, path, headers in scripted.requests}
    assert requests["/jobs"]["Authorization"] == f"Bearer {token}"
    assert requests["/jobs/7"]["traceparent"].split("-")[1] == m.trace_id
    assert m.failure is not None and "***" in m.failure
    assert token not in repr(m)


def test_setup_saves_values_for_the_job_and_synthetic_field(scripted: ScriptedServer) -> None:
    scripted.routes["/assets"] = Answer(201, json.dumps({"asset": {"id": "a-9"}}))
    scripted.routes["/jobs"] = Answer(202, json.dumps({"job": {"id": "j1"}}))
    scripted.routes["/jobs/j1"] = Answer(200, json.dumps({"state": "done"}))
    job = {
        "setup": [{"path": "/assets", "json": {"name": "probe"}, "save": {"asset": "asset.id"}}],
        "submit": {
            "path": "/jobs",
            "json": {"asset": "{asset}"},
            "id": "job.id",
            "synthetic_field": "synthetic",
        },
        "status": {"path": "/jobs/{id}", "field": "state", "success": ["done"]},
        "poll": {"interval": "50ms", "timeout": "2s"},
        "cleanup": [{"method": "DELETE", "path": "/jobs/{id}"}],
    }
    m = measure(scripted.base_url, job)
    assert m.failure is None
    assert [p for _, p, _ in scripted.requests][:3] == ["/assets", "/jobs", "/jobs/j1"]
    assert scripted.requests[-1][0] == "DELETE"
    assert m.missing["processing"].startswith("the job finished between two polls")


JOB_SUITE = """\
version: 1
service: jobs
probes:
  e2e:
    job:
      submit: {path: /jobs, form: {asset_id: synthetic, prompt: probe}, id: job_id}
      status: {path: "/jobs/{id}", finished_at: completed_at, error: error_message}
      poll: {interval: 100ms, timeout: 5s}
      every: 1h
slos:
  e2e-total:
    probe: e2e
    measure: total
    threshold: value < 5s
    objective: 99%
"""


def test_every_defers_the_job_and_history_remembers(
    pytester: pytest.Pytester, slow_jobs: RunningService
) -> None:
    pytester.makefile(".yaml", slo=JOB_SUITE)
    first_run = pytester.runpytest("--base-url", slow_jobs.base_url, "-rs")
    assert first_run.ret == 0
    first_run.assert_outcomes(passed=1)
    submitted = sum(1 for e in slow_jobs.request_log if e.method == "POST")
    second = pytester.runpytest("--base-url", slow_jobs.base_url, "-rs")
    assert second.ret == 0
    second.assert_outcomes(skipped=1)
    second.stdout.fnmatch_lines(["*not due: ran * ago; runs every 1 h*"])
    assert sum(1 for e in slow_jobs.request_log if e.method == "POST") == submitted  # no second job
    results = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert (
        results["verdicts"][0]["history"]["budget"]["runs"] == 1
    )  # the deferred run is not a slice


def release_workers_after_the_first_scrape(service: RunningService) -> threading.Thread:
    """Jobs must finish between the two scrapes, however late a loaded machine starts the first."""

    def release() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(e.path == "/metrics" for e in service.request_log):
                break
            time.sleep(0.01)
        service.set_faults(workers_stopped=False)

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread


def test_prometheus_probe_reads_the_reference_services_metrics(slow_jobs: RunningService) -> None:
    import httpx

    slow_jobs.set_faults(workers_stopped=True)
    for _ in range(3):
        httpx.post(f"{slow_jobs.base_url}/jobs", data={"asset_id": "a", "prompt": "p"})
    slow_jobs.clear_request_log()
    releaser = release_workers_after_the_first_scrape(slow_jobs)
    spec = ProbeSpec.model_validate(
        {
            "prometheus": {
                "url": "/metrics",
                "interval": "1500ms",
                "metrics": {
                    "p95": {
                        "name": "job_duration_seconds",
                        "kind": "histogram_quantile",
                        "quantile": 0.95,
                        "unit": "s",
                    },
                    "depth": {"name": "job_queue_depth", "unit": "count"},
                    "finished": {"name": "jobs_finished_total", "kind": "counter", "unit": "count"},
                },
            }
        }
    )
    m = run_probes({"metrics": spec}, make_context(slow_jobs.base_url, Target()), 1, 30.0)[
        "metrics"
    ]
    releaser.join()
    assert m.failure is None, m.failure
    assert m.series["finished"].samples == (3.0,)  # the three jobs finished between the two scrapes
    p95 = m.series["p95"].samples[0]
    assert (
        isinstance(p95, float) and 0.25 <= p95 <= 0.5
    )  # 400 ms jobs land in the 0.25–0.5 s bucket
    assert m.series["depth"].samples == (0.0,)
