"""A Python probe file run by itself (or again with --lf) finds its slo.yaml and judges its SLOs.

Real pytest runs (pytester, in a subprocess) against a real scripted HTTP server.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  health:
    http: {path: /health}
  job-roundtrip:
    python:
      values:
        roundtrip: {unit: s}
        succeeded: {unit: bool}
slos:
  health-fast:
    probe: health
    measure: latency
    threshold: p95 < 2s
  job-roundtrip:
    probe: job-roundtrip
    measure: roundtrip
    threshold: max < 10s
  job-succeeds:
    probe: job-roundtrip
    measure: succeeded
    threshold: rate >= 100%
"""

PROBE = """\
import pytest


@pytest.mark.probe("job-roundtrip")
def test_job_roundtrip(target, recorder):
    with recorder.timer("roundtrip"):
        answer = target.post("/jobs")
        assert answer.status_code == 202, f"POST /jobs answered {answer.status_code}"
    recorder.record("succeeded", answer.json()["status"] == "succeeded")
"""


def _project(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "slo.yaml").write_text(SUITE)
    (root / "probes").mkdir()
    (root / "probes" / "test_job_roundtrip.py").write_text(PROBE)


def _results(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _verdicts(path: Path) -> dict[str, str]:
    return {v["slo"]: v["status"] for v in _results(path)["verdicts"]}


@pytest.fixture
def service(scripted: ScriptedServer) -> ScriptedServer:
    scripted.routes["/jobs"] = Answer(202, '{"status": "succeeded"}')
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    return scripted


def test_a_probe_file_alone_judges_the_slos_it_feeds(
    pytester: pytest.Pytester, service: ScriptedServer
) -> None:
    _project(pytester.path)
    result = pytester.runpytest(f"--base-url={service.base_url}", "probes/test_job_roundtrip.py")
    assert result.ret == 0, result.stdout.str()
    assert "is declared in" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*SLO summary: shop*", "*partial run: 2 of 3 SLOs selected (test ids or paths)*"]
    )
    verdicts = _verdicts(pytester.path / "reports" / "partial" / "results.json")
    assert verdicts == {"job-roundtrip": "ok", "job-succeeds": "ok"}
    assert [path for _, path, _ in service.requests] == ["/jobs"]  # no YAML probe ran


def test_the_slo_file_beside_the_probes_folder_of_a_subproject(
    pytester: pytest.Pytester, service: ScriptedServer
) -> None:
    _project(pytester.path / "examples" / "shop")
    result = pytester.runpytest(
        f"--base-url={service.base_url}", "examples/shop/probes/test_job_roundtrip.py"
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*2 SLOs: 2 ok*"])


def test_a_failed_probe_is_judged_as_its_slos_breach(
    pytester: pytest.Pytester, service: ScriptedServer
) -> None:
    service.routes["/jobs"] = Answer(500, '{"detail": "boom"}')
    _project(pytester.path)
    result = pytester.runpytest(f"--base-url={service.base_url}", "probes/test_job_roundtrip.py")
    assert result.ret == 1
    assert "is declared in" not in result.stdout.str()
    verdicts = _verdicts(pytester.path / "reports" / "partial" / "results.json")
    assert verdicts == {"job-roundtrip": "breach", "job-succeeds": "breach"}


def test_last_failed_after_a_probe_file_failed_alone(
    pytester: pytest.Pytester, service: ScriptedServer
) -> None:
    """As the failed lone run left the cache: only the probe test failed, slo.yaml is not collected."""
    _project(pytester.path)
    cache = pytester.path / ".pytest_cache" / "v" / "cache"
    cache.mkdir(parents=True)
    (cache / "lastfailed").write_text(
        json.dumps({"probes/test_job_roundtrip.py::test_job_roundtrip": True})
    )
    result = pytester.runpytest(f"--base-url={service.base_url}", "--lf")
    assert result.ret == 0, result.stdout.str()
    assert "is declared in" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*partial run: 2 of 3 SLOs selected (--lf)*"])
    verdicts = _verdicts(pytester.path / "reports" / "partial" / "results.json")
    assert verdicts == {"job-roundtrip": "ok", "job-succeeds": "ok"}


def test_last_failed_after_a_lone_failure_reruns_the_probe_and_its_slos(
    pytester: pytest.Pytester, service: ScriptedServer
) -> None:
    _project(pytester.path)
    service.routes["/jobs"] = Answer(500, '{"detail": "boom"}')
    base = f"--base-url={service.base_url}"
    assert pytester.runpytest(base, "probes/test_job_roundtrip.py").ret == 1
    service.routes["/jobs"] = Answer(202, '{"status": "succeeded"}')
    again = pytester.runpytest(base, "--lf")
    assert again.ret == 0, again.stdout.str()
    again.assert_outcomes(passed=3)
    verdicts = _verdicts(pytester.path / "reports" / "partial" / "results.json")
    assert verdicts == {"job-roundtrip": "ok", "job-succeeds": "ok"}


def test_a_probe_marked_test_without_any_slo_file_is_left_alone(
    pytester: pytest.Pytester, service: ScriptedServer
) -> None:
    pytester.makepyfile(
        test_alone=textwrap.dedent(
            """\
            import pytest

            @pytest.mark.probe("x")
            def test_x(target):
                assert target.get("/health").status_code == 200
            """
        )
    )
    result = pytester.runpytest(f"--base-url={service.base_url}")
    assert result.ret == 0, result.stdout.str()
    assert "SLO summary" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()


def test_a_probe_file_alone_under_xdist_runs_with_its_slos_on_one_worker(
    pytester: pytest.Pytester, service: ScriptedServer
) -> None:
    _project(pytester.path)
    result = pytester.runpytest(
        f"--base-url={service.base_url}", "-n", "2", "probes/test_job_roundtrip.py"
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*2 SLOs: 2 ok*"])
    verdicts = _verdicts(pytester.path / "reports" / "partial" / "results.json")
    assert verdicts == {"job-roundtrip": "ok", "job-succeeds": "ok"}


def test_recording_an_undeclared_value_fails_the_probe_in_one_line(
    pytester: pytest.Pytester, service: ScriptedServer
) -> None:
    """The probe's author mistyped a value: its test fails saying which, with no traceback
    through sloprobe's recorder."""
    _project(pytester.path)
    probe = pytester.path / "probes" / "test_job_roundtrip.py"
    probe.write_text(PROBE.replace('recorder.record("succeeded"', 'recorder.record("suceeded"'))
    result = pytester.runpytest(f"--base-url={service.base_url}")
    output = result.stdout.str()
    assert result.ret == 1, output
    assert (
        "probe `job-roundtrip` declares no value `suceeded` in slo.yaml "
        "(declared: `roundtrip`, `succeeded`)" in output
    )
    assert "recorder.py" not in output and "KeyError" not in output
