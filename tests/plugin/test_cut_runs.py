"""A run cut short by -x still says so, judges what was measured and writes its partial report.

Real pytest runs (pytester, in a subprocess) against a real scripted HTTP server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.test_probe_file_alone import PROBE, SUITE
from tests.support.scripted_server import Answer, ScriptedServer


@pytest.fixture
def project(pytester: pytest.Pytester, scripted: ScriptedServer) -> ScriptedServer:
    pytester.makefile(".yaml", slo=SUITE)
    pytester.mkdir("probes")
    (pytester.path / "probes" / "test_job_roundtrip.py").write_text(PROBE)
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    scripted.routes["/jobs"] = Answer(500, '{"detail": "boom"}')
    return scripted


def _results(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_x_cut_by_a_failing_probe_judges_what_was_measured(
    pytester: pytest.Pytester, project: ScriptedServer
) -> None:
    result = pytester.runpytest(f"--base-url={project.base_url}", "-x", "slo.yaml", "probes")
    assert result.ret == 1
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*SLO summary: shop*",
            "*2 SLOs: 2 breach*",
            "*report: *partial*report.html*",
            "*partial run: stopped early (-x / --maxfail) after 0 of 3 SLOs: "
            "probes/test_job_roundtrip.py::test_job_roundtrip failed; "
            "2 judged from what was measured, 1 not measured (health-fast)*",
        ]
    )
    assert "Traceback" not in out
    data = _results(pytester.path / "reports" / "partial" / "results.json")
    assert data["run"]["partial"].startswith("stopped early (-x / --maxfail) after 0 of 3 SLOs")
    assert {v["slo"]: v["status"] for v in data["verdicts"]} == {
        "job-roundtrip": "breach",
        "job-succeeds": "breach",
    }
    assert not (pytester.path / "reports" / "results.json").exists()  # the last full run's stays
    assert [path for _, path, _ in project.requests] == ["/jobs"]  # nothing measured after the cut


def test_a_full_run_is_unchanged(pytester: pytest.Pytester, project: ScriptedServer) -> None:
    project.routes["/jobs"] = Answer(202, '{"status": "succeeded"}')
    result = pytester.runpytest(f"--base-url={project.base_url}", "-x")
    assert result.ret == 0, result.stdout.str()
    assert "partial run" not in result.stdout.str()
    assert len(_results(pytester.path / "reports" / "results.json")["verdicts"]) == 3
