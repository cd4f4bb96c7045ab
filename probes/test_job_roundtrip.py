"""A Python probe: submit a synthetic job and follow it until it finishes.

The `target` fixture is an httpx client bound to the service under test;
`recorder` feeds the values slo.yaml declares for this probe into its SLOs.
"""

from __future__ import annotations

import httpx
import pytest
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from sloprobe.plugin.recorder import Recorder

UNFINISHED = ("queued", "processing")


@pytest.mark.probe("job-roundtrip")
def test_job_roundtrip(target: httpx.Client, recorder: Recorder, job_timeout: float) -> None:
    with recorder.timer("roundtrip"):
        submitted = target.post(
            "/jobs",
            data={
                "asset_id": "sloprobe-synthetic",
                "prompt": "synthetic probe",
                "tier": "standard",
            },
        )
        assert submitted.status_code in (200, 201, 202), (
            f"POST /jobs answered {submitted.status_code}"
        )
        job_id = submitted.json()["job_id"]
        polling = Retrying(
            stop=stop_after_delay(job_timeout),
            wait=wait_fixed(0.1),
            retry=retry_if_result(lambda state: state in UNFINISHED),
        )
        try:
            state: str | None = polling(lambda: target.get(f"/jobs/{job_id}").json()["status"])
        except RetryError:
            state = None
        if state is None:  # failed outside the handler: one line, not a chained RetryError
            pytest.fail(f"job {job_id} did not finish within {job_timeout:g}s", pytrace=False)
    recorder.record("succeeded", state == "succeeded")
    recorder.detail("job", f"{job_id}: {state}")
