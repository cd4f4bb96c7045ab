"""`sloprobe discover` against the bundled reference service: a file that validates, runs green
on the healthy service and breaches its queue SLOs on one with a backlog of 150."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import Faults, RunningService, ServiceConfig, start_service
from tests.discover.support import discover, run_suite, validates

FAST = "2s"  # the proposal's histogram scrapes this far apart (support.run_suite says why)


@pytest.fixture(scope="module")
def service() -> Iterator[RunningService]:
    with start_service() as running:
        warm_up(running.base_url)
        yield running


def test_the_proposal_validates_runs_green_and_breaches_on_a_backlog(
    service: RunningService, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    service.clear_request_log()
    status, out, err = discover(service.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    # Discovery sends GETs only, at most 20 per source, and never submits a job.
    sent = service.request_log
    assert {r.method for r in sent} == {"GET"}
    assert len(sent) <= 4 * 20
    assert "openapi           found" in out
    assert "prometheus        found" in out
    slo = tmp_path / "slo.yaml"
    spec = validates(slo)
    text = slo.read_text()
    # Every path and field was read from the service; the unknown job fields are variables.
    assert spec.probes["admin-metrics"].http.values["queued"].json_path == "current_queue.queued"
    assert spec.probes["admin-health"].http.values["workers"].json_path == (
        "workers.estimated_active"
    )
    assert "job" not in spec.probes  # its submit fields have no enum or example: commented out
    assert '#       form: { asset_id: "${JOB_ASSET_ID}"' in text
    assert "JOB_ID_FIELD" in text and "JOB_STATUS_FIELD" in text
    assert "the bound is max(4 × p95, 200ms)" in text
    assert spec.slos["health-latency"].threshold[0].startswith("p95 < ")
    assert {"queue-depth", "job-queue-depth", "workers-live", "workers-active"} <= set(spec.slos)
    assert yaml.safe_load(text)["probes"]["metrics"]["prometheus"]["url"] == "/metrics"

    ret, verdicts = run_suite(pytester, slo, service.base_url, scrape_interval=FAST)
    assert ret == 0, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}

    with start_service(ServiceConfig(faults=Faults(backlog=150))) as backlogged:
        ret, verdicts = run_suite(pytester, slo, backlogged.base_url, scrape_interval=FAST)
    assert ret == 1
    breached = {s for s, v in verdicts.items() if v["status"] == "breach"}
    assert breached == {"queue-depth", "job-queue-depth"}
    assert "150" in verdicts["queue-depth"]["observed"]


def test_it_never_overwrites_without_force(service: RunningService, tmp_path: Path) -> None:
    (tmp_path / "slo.yaml").write_text("mine\n")
    status, _, err = discover(service.base_url, "--out", str(tmp_path))
    assert status == 4 and "--force" in err
    assert (tmp_path / "slo.yaml").read_text() == "mine\n"
    status, out, err = discover(service.base_url, "--print")
    assert status == 0
    assert out.startswith("# Proposed by `sloprobe discover`") and "openapi" in err


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"workers_stopped": True}, {"workers-live", "workers-active"}),
        ({"api_latency_ms": 500.0}, {"health-latency"}),
    ],
    ids=["workers-stopped", "api-latency-500ms"],
)
def test_the_discovered_suite_catches_each_fault(
    fault: dict[str, object],
    expected: set[str],
    service: RunningService,
    pytester: pytest.Pytester,
    tmp_path: Path,
) -> None:
    """Discovered on a healthy service, the file names exactly the SLOs a fault breaks."""
    status, out, err = discover(service.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    healthy = service.faults
    service.set_faults(**fault)
    try:
        ret, verdicts = run_suite(
            pytester, tmp_path / "slo.yaml", service.base_url, scrape_interval=FAST
        )
    finally:
        service.set_faults(**healthy.as_dict())
    breached = {s for s, v in verdicts.items() if v["status"] == "breach"}
    assert ret == 1
    assert breached == expected, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}
