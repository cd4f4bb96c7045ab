"""`sloprobe demo` as a user runs it: a real process, a real service, a report on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLOPROBE_JOB_TIMEOUT": "2"}
    env.pop("PROBE_BASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_writes_a_report_and_exits_0(tmp_path: Path) -> None:
    done = demo(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reference job service at http://127.0.0.1:" in done.stdout
    report = tmp_path / "reports" / "report.html"
    assert f"report: {report}" in done.stdout
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    verdicts = {v["slo"]: v for v in results["verdicts"]}
    assert {v["status"] for v in verdicts.values()} == {"ok"}
    html = report.read_text()
    for slo, verdict in verdicts.items():
        assert f'id="slo-{slo}"' in html
        assert (
            verdict["threshold"].replace('"', "&#34;").replace(">", "&gt;").replace("<", "&lt;")
            in html
        )


def test_demo_with_latency_breaches_and_exits_1(tmp_path: Path) -> None:
    done = demo(tmp_path, "--latency-ms", "400")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SLO health-latency breach: p95 = " in done.stdout
    assert "expected p95 < 300ms" in done.stdout
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert [v["slo"] for v in results["verdicts"] if v["status"] == "breach"] == ["health-latency"]


def test_a_failing_job_in_the_demo_links_its_trace(tmp_path: Path) -> None:
    """Issue 29: the demo's report links the failing synthetic job's trace id through
    settings.traces.url, to the reference service's own view of that trace."""
    done = demo(tmp_path, "--failure-rate", "1")
    assert done.returncode == 1, done.stdout + done.stderr
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    job = results["measurements"]["job-roundtrip"]
    assert job["details"]["job"].endswith(": failed")
    breached = {v["slo"] for v in results["verdicts"] if v["status"] == "breach"}
    assert "job-succeeds" in breached
    trace_id = job["trace_id"]
    base = done.stdout.split("reference job service at ", 1)[1].split()[0]
    html = (tmp_path / "reports" / "report.html").read_text()
    assert f'href="{base}/traces/{trace_id}"' in html
