"""The workflows and the composite action: schema-valid, the properties we promise, and runnable."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import Faults, ServiceConfig, start_service

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
    assert save["if"] == "always()" and "github.run_id" in save["with"]["key"]
    assert steps["Restore history"]["with"]["restore-keys"] == "sloprobe-history-"
    assert steps["Upload report"]["if"] == "always()"
    assert "--exit-on incident" in steps["Probe"]["run"]
    assert job["env"]["SENTRY_DSN"] == "${{ secrets.SENTRY_DSN }}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    commands = [s.get("run", "") for s in ci["jobs"]["test"]["steps"]]
    assert "./scripts/test.sh" in readme and "./scripts/test.sh" in commands
    assert "./scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def run_action(base_url: str, workdir: Path, **inputs: str) -> tuple[int, str, dict[str, str]]:
    """Run the composite action's shell steps as the runner would (setup-python, install and upload skipped)."""
    action = load(ROOT / "action.yml")
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({"base-url": base_url, "release": "v-test", **inputs})
    output_file, summary = workdir / "output.txt", workdir / "summary.md"
    output_file.write_text("")
    env = {
        **os.environ,
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTION_PATH": str(ROOT),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "SLOPROBE_JOB_TIMEOUT": "2",
    }
    log = []
    for step in action["runs"]["steps"]:
        if "uses" in step or step.get("id") == "install":
            continue
        step_env = {k: _expand(str(v), values) for k, v in step.get("env", {}).items()}
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=workdir,
            env={**env, **step_env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        log.append(done.stdout + done.stderr)
        if done.returncode != 0:
            return done.returncode, "".join(log), _outputs(output_file)
    return 0, "".join(log), _outputs(output_file)


def _expand(text: str, values: dict[str, str]) -> str:
    text = re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: values[m[1]], text)
    return re.sub(r"\$\{\{\s*github\.sha\s*\}\}", "0" * 40, text)


def _outputs(path: Path) -> dict[str, str]:
    text = path.read_text()
    found = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    for name, _delimiter, value in re.findall(r"^(\w+)<<(\S+)\n(.*?)\n\2$", text, re.M | re.S):
        found[name] = value
    return found


@pytest.fixture
def suite_dir(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "slo.yaml", tmp_path / "slo.yaml")
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    shutil.copytree(
        ROOT / "probes", tmp_path / "probes", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_action_passes_against_a_healthy_deploy(suite_dir: Path) -> None:
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url)
        code, log, outputs = run_action(service.base_url, suite_dir)
    assert code == 0, log
    assert "ready after" in log
    assert outputs["status"] == "ok"
    assert outputs["breached"] == ""
    assert outputs["report"].endswith("report.html")


def test_action_fails_with_annotations_naming_the_breached_slo(suite_dir: Path) -> None:
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url)
        service.set_faults(backlog=150)
        code, log, outputs = run_action(service.base_url, suite_dir)
    assert code == 1
    assert "::error title=SLO breach%3A queue-depth::" in log
    assert outputs["breached"] == "queue-depth"
    assert outputs["status"] == "breach"


def test_action_fails_clearly_when_the_deploy_never_becomes_ready(suite_dir: Path) -> None:
    with start_service(ServiceConfig(faults=Faults())) as service:
        code, log, _ = run_action(
            service.base_url, suite_dir, **{"health-path": "/not-ready", "wait-timeout": "2s"}
        )
    assert code == 1
    assert "not ready within 2s" in log
    assert "answered 404" in log


@pytest.mark.parametrize("shape", ["fastapi-db-worker", "celery-flower", "bullmq-node"])
def test_init_scaffolds_a_valid_suite_and_never_overwrites(tmp_path: Path, shape: str) -> None:
    from sloprobe.cli import main
    from sloprobe.config import load_slo_file

    (tmp_path / ".gitignore").write_text("mine\n")
    assert main(["init", "--shape", shape, str(tmp_path)]) == 0
    assert (tmp_path / ".gitignore").read_text() == "mine\n"  # kept
    loaded = load_slo_file(tmp_path / "slo.yaml", environ={})
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
