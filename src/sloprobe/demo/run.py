"""``sloprobe demo``: the reference job service, probed end to end by the default suite.

Processing faults (failure rate) are set before some traffic runs, so job
statistics reflect them; availability faults (latency, stopped workers,
backlog) are set after it, so each fault breaches only the SLOs it should.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from sloprobe.demo.service import Faults, ServiceConfig, start_service
from sloprobe.settings import environ

WARMUP_JOBS = 20


def default_suite() -> Path:
    """The bundled suite: inside the wheel, or the repo root of a source checkout."""
    packaged = Path(__file__).parent / "suite"
    if (packaged / "slo.yaml").is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "slo.yaml").is_file() and (checkout / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(
        "the bundled demo suite (slo.yaml, probes/) is missing from this installation"
    )


def warm_up(
    base_url: str,
    jobs: int = WARMUP_JOBS,
    timeout: float = 15.0,
    admin_token: str | None = None,
) -> None:
    """Submit ``jobs`` jobs and wait until the workers have finished them."""
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    with httpx.Client(base_url=base_url, timeout=5.0, headers=headers) as client:
        for index in range(jobs):
            client.post(
                "/jobs",
                data={"asset_id": f"warmup-{index}", "prompt": "demo traffic", "tier": "standard"},
            )
        polling = Retrying(
            stop=stop_after_delay(timeout),
            wait=wait_fixed(0.1),
            retry=retry_if_result(lambda busy: busy > 0),
        )
        try:
            polling(lambda: _unfinished(client))
        except RetryError:
            print("sloprobe demo: warm-up jobs did not all finish; going on", file=sys.stderr)


def _unfinished(client: httpx.Client) -> int:
    queue = client.get("/admin/metrics").json()["current_queue"]
    return int(queue["queued"]) + int(queue["processing"])


def run_demo(
    *,
    latency_ms: float = 0.0,
    failure_rate: float = 0.0,
    workers_stopped: bool = False,
    backlog: int = 0,
    report_dir: Path = Path("reports"),
    pytest_args: list[str] | None = None,
) -> int:
    suite = default_suite()
    config = ServiceConfig(faults=Faults(failure_rate=failure_rate))
    with start_service(config) as service:
        warm_up(service.base_url)
        service.set_faults(
            api_latency_ms=latency_ms, workers_stopped=workers_stopped, backlog=backlog
        )
        faults = [
            text
            for text, on in (
                (f"API latency +{latency_ms:g} ms", latency_ms),
                (f"failure rate {failure_rate:g}", failure_rate),
                ("workers stopped", workers_stopped),
                (f"backlog of {backlog} jobs", backlog),
            )
            if on
        ]
        print(
            f"sloprobe demo: reference job service at {service.base_url}"
            + (f" with {', '.join(faults)}" if faults else "")
        )
        args = [
            str(suite / "slo.yaml"),
            str(suite / "probes"),
            # one argv item each: a value that is a path must never be read as a test path
            f"--base-url={service.base_url}",
            f"--report-dir={report_dir.resolve()}",
            f"--rootdir={suite}",
            "-p",
            "no:cacheprovider",
            *(pytest_args or []),
        ]
        # The report links each failing probe's trace id to the service's own view of it.
        env = {**environ(), "SLOPROBE_TRACES_URL": f"{service.base_url}/traces/{{trace_id}}"}
        # pytest runs in a child process: a clean interpreter, as in a user's own run, while
        # the service keeps serving from this one.
        return subprocess.run(
            [sys.executable, "-m", "pytest", *args], check=False, env=env
        ).returncode
