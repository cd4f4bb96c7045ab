"""Collection takes only sloprobe's files: another tool's `slo.yaml` is left alone, any name works with --slo-file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin.test_plugin import SUITE
from tests.support.scripted_server import Answer, ScriptedServer

SLOTH = """\
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count[{{.window}}]))
"""
OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: web-availability
spec:
  budgetingMethod: Occurrences
"""


@pytest.fixture
def shop(scripted: ScriptedServer) -> ScriptedServer:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99.1}')
    return scripted


def test_another_tools_slo_yaml_does_not_break_a_projects_tests(pytester: pytest.Pytester) -> None:
    pytester.mkdir("deploy")
    (pytester.path / "deploy" / "sloth").mkdir()
    (pytester.path / "deploy" / "sloth" / "slo.yaml").write_text(SLOTH)
    (pytester.path / "deploy" / "openslo.slo.yaml").write_text(OPENSLO)
    pytester.makepyfile(test_own="def test_one():\n    assert True\n")
    result = pytester.runpytest("-q")
    assert result.ret == 0
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_a_broken_sloprobe_file_is_still_reported(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", slo="version: 1\nservice: shop\nprobes: [unclosed\n")
    result = pytester.runpytest("-q")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*slo.yaml:3*"])


def test_any_file_name_runs_with_slo_file_from_pytest_and_the_cli(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    (pytester.path / "slo-fail.yaml").write_text(SUITE)
    result = pytester.runpytest("--slo-file", "slo-fail.yaml", f"--base-url={shop.base_url}")
    assert result.ret == 0
    result.assert_outcomes(passed=3)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sloprobe.cli",
            "run",
            "--slo-file",
            "slo-fail.yaml",
            "--base-url",
            shop.base_url,
            "--report-dir",
            "cli-reports",
        ],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    verdicts = json.loads(Path(pytester.path / "cli-reports" / "results.json").read_text())
    assert [v["slo"] for v in verdicts["verdicts"]] == [
        "health-up",
        "health-latency",
        "success-rate",
    ]


def test_the_repo_root_with_the_plugin_disabled_says_why_nothing_runs() -> None:
    """`pytest -p no:sloprobe` at the root: testpaths name slo.yaml, which only the plugin reads."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:sloprobe", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, done.stdout + done.stderr
    assert "sloprobe's plugin is disabled (-p no:sloprobe)" in done.stdout + done.stderr
    assert "not found" not in done.stdout + done.stderr
