"""The workflows and the composite action: schema-valid, the properties we promise, and runnable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import Faults, ServiceConfig, start_service
from sloprobe.scaffold import REQUIREMENTS, SHAPES, default_source, plan_suite
from tests.workflows.runner import LocalGitHub, Run, working_tree_files

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CHECK = Path(sys.executable).parent / "check-jsonschema"


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(workflow: Path) -> None:
    done = subprocess.run(
        [str(CHECK), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_matches_the_github_schema() -> None:
    done = subprocess.run(
        [str(CHECK), "--builtin-schema", "vendor.github-actions", str(ROOT / "action.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_probe_schedule_concurrency_history_and_artifacts() -> None:
    probe = load(ROOT / ".github" / "workflows" / "probe.yml")
    triggers = probe[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "2-59/5 * * * *"}]
    assert "workflow_dispatch" in triggers
    assert probe["concurrency"]["cancel-in-progress"] is False
    job = probe["jobs"]["probe"]
    assert job["timeout-minutes"] <= 15
    steps = {s.get("name"): s for s in job["steps"]}
    save = steps["Save history"]
    assert save["if"] == "always()"
    # one history per service and environment, a key unique per run and attempt
    prefix = "sloprobe-history-reference-job-service-demo-"
    assert save["with"]["key"] == prefix + "${{ github.run_id }}-${{ github.run_attempt }}"
    assert steps["Restore history"]["with"]["restore-keys"] == prefix
    assert steps["Restore history"]["with"]["path"] == save["with"]["path"]
    assert "reports/runs" in save["with"]["path"]
    assert steps["Upload report"]["if"] == "always()"
    assert "--exit-on incident" in steps["Probe"]["run"]
    assert job["env"]["SENTRY_DSN"] == "${{ secrets.SENTRY_DSN }}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    commands = [s.get("run", "") for s in ci["jobs"]["test"]["steps"]]
    assert "./scripts/test.sh" in readme and "./scripts/test.sh" in commands
    assert "./scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def run_action(
    base_url: str, tmp_path: Path, github: LocalGitHub, runner_python: Path, **inputs: str
) -> tuple[int, str, dict[str, str]]:
    """The composite action as a user's workflow runs it (tests/workflows/runner.py): checkout of
    a repository holding this repo's own suite, then `uses: <owner>/<repo>@<ref>` of sloprobe, which
    installs itself from its checkout and runs every step."""
    suite = {
        name: data
        for name, data in working_tree_files(ROOT).items()
        if name in ("slo.yaml", "conftest.py") or name.startswith("probes/")
    }
    sha = github.publish("acme/app", suite)
    workflow = {
        "on": "push",
        "jobs": {
            "deploy": {
                "runs-on": "ubuntu-latest",
                "outputs": {
                    k: f"${{{{ steps.gate.outputs.{k} }}}}"
                    for k in ("status", "breached", "report")
                },
                "steps": [
                    {"uses": "actions/checkout@11d5960a326750d5838078e36cf38b85af677262"},
                    {
                        "id": "gate",
                        "uses": default_source().action,
                        "with": {"base-url": base_url, "release": "v-test", **inputs},
                        "env": {"SLOPROBE_JOB_TIMEOUT": "2"},
                    },
                ],
            }
        },
    }
    run = Run(github, runner_python, tmp_path / "runner", "acme/app", sha, "push")
    result = run.run_job(workflow, "deploy")
    return (0 if result.status == "success" else 1), result.log, result.outputs


def test_action_passes_against_a_healthy_deploy(
    tmp_path: Path, github: LocalGitHub, runner_python: Path
) -> None:
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url)
        code, log, outputs = run_action(service.base_url, tmp_path, github, runner_python)
    assert code == 0, log
    assert "readiness path /health (probe `health`)" in log  # from slo.yaml, not a fixed default
    assert "ready after" in log
    assert outputs["status"] == "ok"
    assert outputs["breached"] == ""
    assert outputs["report"].endswith("report.html")


def test_action_fails_with_annotations_naming_the_breached_slo(
    tmp_path: Path, github: LocalGitHub, runner_python: Path
) -> None:
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url)
        service.set_faults(backlog=150)
        code, log, outputs = run_action(service.base_url, tmp_path, github, runner_python)
    assert code == 1
    assert "::error title=SLO breach%3A queue-depth::" in log
    assert outputs["breached"] == "queue-depth"
    assert outputs["status"] == "breach"


def test_action_fails_clearly_when_the_deploy_never_becomes_ready(
    tmp_path: Path, github: LocalGitHub, runner_python: Path
) -> None:
    with start_service(ServiceConfig(faults=Faults())) as service:
        code, log, _ = run_action(
            service.base_url,
            tmp_path,
            github,
            runner_python,
            **{"health-path": "/not-ready", "wait-timeout": "2s"},
        )
    assert code == 1
    assert "not ready within 2s" in log
    assert "answered 404" in log


@pytest.mark.parametrize("shape", SHAPES)
def test_init_scaffolds_a_valid_suite_and_never_overwrites(tmp_path: Path, shape: str) -> None:
    from sloprobe.cli import main
    from sloprobe.config import load_slo_file

    (tmp_path / ".gitignore").write_text("mine\n")
    assert main(["init", "--shape", shape, str(tmp_path)]) == 0
    assert (tmp_path / ".gitignore").read_text() == "mine\n"  # kept
    assert (tmp_path / REQUIREMENTS).is_file()  # what setup-python's pip cache keys on
    # A value of each variable's kind: a store URL, a unit, a bound, else a URL.
    kinds = {
        "SUCCESS_RATE_UNIT": "%",
        "_UNIT": "s",
        "BACKLOG_MAX": "100",
        "_MAX": "60s",
        "_LIMIT": "10",
    }
    required = {
        v.name: "redis://127.0.0.1:6379/0"
        if "REDIS" in v.name or "BROKER" in v.name
        else next((value for end, value in kinds.items() if v.name.endswith(end)), "http://x")
        for v in plan_suite(shape, "svc", default_source()).variables
        if v.required
    }
    loaded = load_slo_file(tmp_path / "slo.yaml", environ=required)
    assert "example" in loaded.spec.probes and "example-fast" in loaded.spec.slos
    for workflow in (tmp_path / ".github" / "workflows").glob("*.yml"):
        done = subprocess.run(
            [str(CHECK), "--builtin-schema", "vendor.github-workflows", str(workflow)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env={**os.environ, **required},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        "slo.yaml::example-fast" in listed.stdout
        and "probes/test_example.py::test_example" in listed.stdout
    )


def test_pages_publishing_is_optional_and_follows_the_probe() -> None:
    pages = load(ROOT / ".github" / "workflows" / "probe.yml")["jobs"]["pages"]
    assert pages["needs"] == "probe"
    assert "vars.SLOPROBE_PAGES == 'true'" in pages["if"]
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s.get("uses", "").split("@")[0] for s in pages["steps"]] == [
        "actions/download-artifact",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ]
