"""A service without OpenAPI: the well-known paths, each asked once with GET, their JSON read."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from sloprobe.discover.wellknown import PATHS
from tests.discover.support import discover, run_suite, validates
from tests.support.scripted_server import Answer, ScriptedServer

# The BullMQ seed's health answer, and its metrics answer (a percent, a time in no stated unit).
HEALTH = {
    "status": "ok",
    "checks": {
        "database": "ok",
        "redis": "ok",
        "queue": {"counts": {"waiting": 3, "active": 1, "completed": 10, "failed": 0}},
    },
}
METRICS = {"successRate": 93.33, "avgGenerationTime": 25000, "queueDepth": 3}


def test_well_known_paths_give_health_queue_and_rate_slos(
    scripted: ScriptedServer, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    scripted.routes["/healthz"] = Answer(200, json.dumps(HEALTH))
    scripted.routes["/admin/metrics"] = Answer(200, json.dumps(METRICS))
    scripted.routes["/status"] = Answer(200, "<html>app</html>", {"Content-Type": "text/html"})
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    assert "openapi           not found" in out
    assert "well-known paths  found      2 of 17 paths answered: /healthz, /admin/metrics" in out
    asked = Counter(path for method, path, _ in scripted.requests if method == "GET")
    assert len(scripted.requests) == sum(asked.values())  # GET only
    assert {p for p in PATHS if asked[p] != 1} == {"/healthz"}  # each once; /healthz sampled too
    assert asked["/healthz"] == 1 + 5

    spec = validates(tmp_path / "slo.yaml")
    assert set(spec.probes) == {"healthz", "admin-metrics"}  # not /status: it answered HTML
    values = spec.probes["healthz"].http.values
    assert values["queued"].json_path == "checks.queue.counts.waiting"
    assert values["checks-database"].json_path == "checks.database"
    assert spec.probes["admin-metrics"].http.values["success-rate"].json_path == "successRate"
    assert spec.slos["job-success-rate"].threshold == ("value >= 90%",)
    text = (tmp_path / "slo.yaml").read_text()
    assert "avgGenerationTime (a duration in which unit? its name does not say)" in text

    ret, verdicts = run_suite(pytester, tmp_path / "slo.yaml", scripted.base_url)
    assert ret == 0, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}
    assert verdicts["job-success-rate"]["status"] == "warning"  # 93.33 % < 95 %


def test_a_service_refusing_everything_is_reported_and_gets_no_file(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    scripted.default = Answer(401, '{"detail": "Not authenticated"}')
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 1
    assert "openapi           refused" in out
    assert "well-known paths  refused    none of 17 paths answered 2xx (17 refused)" in out
    assert "prometheus        refused" in out
    assert "refused: GET http://127.0.0.1" in out and "→ 401 (auth refused)" in out
    assert "nothing to propose" in err
    assert not (tmp_path / "slo.yaml").exists()
    assert len(scripted.requests) == 3 + len(PATHS)  # each asked once: /metrics not twice
