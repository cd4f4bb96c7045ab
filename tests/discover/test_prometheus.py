"""A Prometheus exposition: a histogram becomes a p95 SLO, queue and worker gauges depth and
liveness SLOs; what cannot be judged is said, not proposed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.discover.support import discover, validates
from tests.support.scripted_server import Answer, ScriptedServer, scripted_server

EXPOSITION = """\
# HELP worker_queue_wait_time_seconds Time jobs wait for a worker.
# TYPE worker_queue_wait_time_seconds histogram
worker_queue_wait_time_seconds_bucket{le="0.5"} 10
worker_queue_wait_time_seconds_bucket{le="1.0"} 18
worker_queue_wait_time_seconds_bucket{le="5.0"} 20
worker_queue_wait_time_seconds_bucket{le="+Inf"} 20
worker_queue_wait_time_seconds_sum 12.0
worker_queue_wait_time_seconds_count 20
# TYPE openai_request_duration_seconds histogram
openai_request_duration_seconds_bucket{le="1.0"} 0
openai_request_duration_seconds_bucket{le="+Inf"} 0
openai_request_duration_seconds_sum 0
openai_request_duration_seconds_count 0
# TYPE job_queue_length gauge
job_queue_length{queue="emails"} 4
job_queue_length{queue="video"} 12
# TYPE celery_workers_active gauge
celery_workers_active 3
# TYPE jobs_failed_total counter
jobs_failed_total 2
# TYPE inference_cost_dollars gauge
inference_cost_dollars 1.5
"""
TEXT = {"Content-Type": "text/plain; version=0.0.4"}


def test_histogram_and_gauges_become_slos(scripted: ScriptedServer, tmp_path: Path) -> None:
    scripted.routes["/metrics"] = Answer(200, EXPOSITION, TEXT)
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    assert "prometheus        found      GET /metrics: 6 metric families, 3 proposed" in out
    spec = validates(tmp_path / "slo.yaml")
    metrics = yaml.safe_load((tmp_path / "slo.yaml").read_text())["probes"]["metrics"]
    assert metrics["prometheus"] == {
        "url": "/metrics",
        "metrics": {
            "worker-queue-wait-time-seconds": {
                "name": "worker_queue_wait_time_seconds",
                "kind": "histogram_quantile",
                "quantile": 0.95,
                "unit": "s",
            },
            "job-queue-length": {"name": "job_queue_length", "unit": "count", "each": ["queue"]},
            "celery-workers-active": {"name": "celery_workers_active", "unit": "count"},
        },
    }
    # p95 of the buckets is 3 s (linear inside 1-5 s): the bound is max(4 × 3 s, 200 ms).
    wait = spec.slos["worker-queue-wait-time-seconds"]
    assert wait.threshold == ("value < 12s",) and wait.no_data == "pass"
    assert spec.slos["job-queue-length"].threshold == ("max < 100",)
    assert spec.slos["celery-workers-active"].threshold == ("value >= 1",)
    text = (tmp_path / "slo.yaml").read_text()
    assert "observed p95 3s; the bound is max(4 × p95, 200ms)" in text
    assert "openai_request_duration_seconds (no observations yet)" in text
    assert "jobs_failed," in text and "inference_cost_dollars." in text  # seen, not proposed


def test_metrics_on_another_origin_get_no_credentials(
    scripted: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_TOKEN", "tok-5b0e3c9a71f2d8e4")
    scripted.routes["/health"] = Answer(200, '{"status": "healthy"}')
    with scripted_server({"/metrics": Answer(200, EXPOSITION, TEXT)}) as exporter:
        url = f"{exporter.base_url}/metrics"
        status, out, err = discover(
            scripted.base_url, "--out", str(tmp_path), "--metrics", url, "--bearer-env", "API_TOKEN"
        )
        assert status == 0, out + err
        [(method, _, headers)] = exporter.requests
    assert method == "GET" and "Authorization" not in headers
    assert all(
        h.get("Authorization") == "Bearer tok-5b0e3c9a71f2d8e4" for _, _, h in scripted.requests
    )
    spec = validates(tmp_path / "slo.yaml")
    assert spec.probes["metrics"].prometheus.url == url
