"""The workflows run, step by step, on a stand-in runner (tests/workflows/runner.py), offline.

- The scheduled workflow `sloprobe init` writes, every step in order, against the reference
  service: green; against the same service stopped: red on its first run.
- The reusable deploy workflow, called from another repository as GitHub calls it (its inputs
  and secrets checked, `github.*` the caller's, `job.workflow_*` its own): it checks out
  sloprobe beside the caller's suite and finds the action there; the old `uses: ./` does not.
- The composite action itself: installs sloprobe from its own checkout with the extras the
  suite needs, waits on the path the suite's shape serves, names its artifact per job.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import ServiceConfig, start_service
from sloprobe.scaffold import ActionSource, default_source, plan_suite
from tests.workflows.runner import LocalGitHub, Run, working_tree_files

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sloprobe-test-admin-token"
# What a user of the reference service sets after `sloprobe init --shape fastapi-db-worker`:
# the names its answers use for what the Luster seeds leave unnamed (the example's variables).
REFERENCE = {
    "PROBE_ASSET_ID": "asset-7",
    "JOB_ID_FIELD": "job_id",
    "JOB_STATUS_FIELD": "status",
    "QUEUE_DEPTH_FIELD": "current_queue.queued",
    "SUCCESS_RATE_FIELD": "success_rate_percent",
    "SUCCESS_RATE_UNIT": "%",
    "PROCESSING_TIME_FIELD": "avg_processing_time_seconds",
    "PROCESSING_TIME_UNIT": "s",
    "PROCESSING_TIME_MAX": "60s",
    "JOB_E2E_MAX": "30s",
}


def load(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def init_suite(directory: Path, *arguments: str) -> dict[str, bytes]:
    """`sloprobe init` into an empty git repository, as a user starts; the files it wrote."""
    from sloprobe.cli import main

    directory.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(directory)], check=True)
    assert main(["init", *arguments, str(directory)]) == 0
    return working_tree_files(directory)


def repository_settings(
    shape: str, service: str, base_url: str
) -> tuple[dict[str, str], dict[str, str]]:
    """What a user sets after `sloprobe init`: a value for each required variable it names."""
    suite = plan_suite(shape, service, default_source())
    variables, secrets = {}, {"ADMIN_JWT": TOKEN}  # the reference service's admin auth
    for variable in suite.variables:
        if variable.required:
            value = {"PROBE_BASE_URL": base_url, **REFERENCE}.get(variable.name, "any")
            (secrets if variable.secret else variables)[variable.name] = value
    return variables, secrets


def scheduled_run(
    tmp_path: Path, github: LocalGitHub, runner_python: Path, base_url: str
) -> tuple[Run, Any]:
    suite = init_suite(
        tmp_path / "jobs-probes", "--shape", "fastapi-db-worker", "--service", "jobs-api"
    )
    sha = github.publish("acme/jobs-probes", suite)
    workflow = load(suite[".github/workflows/probe.yml"].decode())
    variables, secrets = repository_settings("fastapi-db-worker", "jobs-api", base_url)
    run = Run(
        github=github,
        python=runner_python,
        home=tmp_path / "runner",
        repository="acme/jobs-probes",
        sha=sha,
        event_name="schedule",
        event={"schedule": workflow[True]["schedule"][0]["cron"]},
        vars=variables,
        secrets=secrets,
    )
    return run, run.run_job(workflow, "probe")


def test_the_scaffolded_schedule_runs_every_step_green_against_the_reference_service(
    tmp_path: Path, github: LocalGitHub, runner_python: Path, source: ActionSource
) -> None:
    with start_service(ServiceConfig(admin_token=TOKEN)) as service:
        warm_up(service.base_url, admin_token=TOKEN)
        run, result = scheduled_run(tmp_path, github, runner_python, service.base_url)
    assert result.status == "success", result.log
    assert [s.outcome for s in result.steps] == ["success"] * len(result.steps), result.log
    # setup-python's pip cache found the file the scaffold wrote for it
    assert "pip cache keyed on requirements-sloprobe.txt" in result.log
    # sloprobe came from its repository at the release tag, through git, not from an index
    [direct_url] = runner_python.parent.parent.glob(
        "lib/python*/site-packages/sloprobe-*.dist-info/direct_url.json"
    )
    installed = json.loads(direct_url.read_text())
    assert installed["url"] == f"https://github.com/{source.repository}"
    assert installed["vcs_info"]["requested_revision"] == source.ref
    assert "exit status 0" in result.step("Probe").log
    assert "job-e2e" in result.summary
    report = run.artifacts["sloprobe-report-4242-1"]
    verdicts = json.loads((report / "reports" / "results.json").read_text())["verdicts"]
    assert {v["status"] for v in verdicts} <= {"ok", "warning"}, verdicts
    assert {"example-fast", "job-e2e"} <= {v["slo"] for v in verdicts}


def test_the_scaffolded_schedule_is_red_on_its_first_run_when_the_service_is_down(
    tmp_path: Path, github: LocalGitHub, runner_python: Path
) -> None:
    with start_service(ServiceConfig(admin_token=TOKEN)) as service:
        base_url = service.base_url
    _, result = scheduled_run(tmp_path, github, runner_python, base_url)
    assert result.status == "failure"
    outcomes = {s.name: s.outcome for s in result.steps}
    assert outcomes["Install sloprobe"] == "success"
    assert outcomes["Probe"] == "failure", result.log
    assert outcomes["Save history"] == outcomes["Upload report"] == "success"
    assert "exit status 1" in result.step("Probe").log


# --- the reusable deploy workflow, called from another repository ---


CALLER = """\
name: deploy
on: push
permissions:
  contents: read
jobs:
  verify:
    uses: {workflow}
    with:
      base-url: ${{{{ vars.SERVICE_URL }}}}
      release: v-test
    secrets:
      SLOPROBE_ENV: |
        ADMIN_JWT=${{{{ secrets.ADMIN_JWT }}}}
{reference}
"""


def caller_text(workflow: str) -> str:
    reference = "\n".join(f"        {name}=${{{{ vars.{name} }}}}" for name in REFERENCE)
    return CALLER.format(workflow=workflow, reference=reference)


def caller_run(
    tmp_path: Path, github: LocalGitHub, runner_python: Path, base_url: str, home: str = "runner"
) -> Run:
    """acme/jobs-api, a service's repository with its suite at the root (from `sloprobe init`)."""
    if not (github.root / "acme" / "jobs-api").exists():
        github.publish(
            "acme/jobs-api", init_suite(tmp_path / "jobs-api", "--shape", "fastapi-db-worker")
        )
    return Run(
        github=github,
        python=runner_python,
        home=tmp_path / home,
        repository="acme/jobs-api",
        sha=github.resolve("acme/jobs-api", "main"),
        event_name="push",
        vars={"SERVICE_URL": base_url, **REFERENCE},
        secrets={"ADMIN_JWT": TOKEN},
    )


def test_the_reusable_deploy_workflow_finds_its_action_when_another_repository_calls_it(
    tmp_path: Path, github: LocalGitHub, runner_python: Path, source: ActionSource
) -> None:
    with start_service(ServiceConfig(admin_token=TOKEN)) as service:
        warm_up(service.base_url, admin_token=TOKEN)
        run = caller_run(tmp_path, github, runner_python, service.base_url)
        caller = load(caller_text(source.reusable_workflow))
        result, outputs = run.call_reusable(caller, "verify")
    assert result.status == "success", result.log
    sha = github.resolve(source.repository, source.ref)
    assert f"sloprobe from {source.repository}@{sha}" in result.log
    assert (run.workspace / "slo.yaml").is_file()  # the caller's suite, at the root
    assert (run.workspace / ".sloprobe-action" / "action.yml").is_file()  # sloprobe, beside it
    assert outputs["status"] == "ok", result.log
    assert outputs["breached"] == ""
    port = service.base_url.rsplit(":", 1)[1]
    assert list(run.artifacts) == [f"sloprobe-deploy-jobs-api-production-127.0.0.1-{port}-verify-1"]


OLD_REUSABLE = """\
name: old-deploy-verify
on:
  workflow_call:
    inputs:
      base-url: {type: string, required: true}
jobs:
  verify:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262
      - uses: ./
        with:
          base-url: ${{ inputs.base-url }}
"""


def test_the_old_checkout_then_uses_dot_finds_no_action_in_the_callers_checkout(
    tmp_path: Path, github: LocalGitHub, runner_python: Path, sloprobe_files: dict[str, bytes]
) -> None:
    """The stand-in is faithful where it matters: the caller's checkout has no action.yml."""
    github.publish(
        "old/sloprobe", {**sloprobe_files, ".github/workflows/old.yml": OLD_REUSABLE.encode()}
    )
    run = caller_run(tmp_path, github, runner_python, "http://127.0.0.1:9")
    caller = {
        True: "push",
        "jobs": {
            "verify": {
                "uses": "old/sloprobe/.github/workflows/old.yml@main",
                "with": {"base-url": "x"},
            }
        },
    }
    result, _ = run.call_reusable(caller, "verify")
    assert result.status == "failure"
    assert "Can't find 'action.yml'" in result.log


def test_without_job_workflow_context_the_gate_asks_for_sloprobe_repository_and_ref(
    tmp_path: Path, github: LocalGitHub, runner_python: Path, source: ActionSource
) -> None:
    """GHES or an old runner: no job.workflow_repository; the inputs name sloprobe instead."""
    workflow = load((ROOT / ".github" / "workflows" / "deploy-verify.yml").read_text())
    steps = workflow["jobs"]["verify"]["steps"]
    workflow["jobs"]["verify"]["steps"] = steps[
        : 1
        + next(i for i, s in enumerate(steps) if s.get("name") == "Check out sloprobe beside it")
    ]
    run = caller_run(tmp_path, github, runner_python, "http://127.0.0.1:9")
    inputs = {"base-url": "http://127.0.0.1:9", "sloprobe-repository": "", "sloprobe-ref": ""}
    result = run.run_job(workflow, "verify", inputs, {}, workflow_source=("", ""))
    assert result.status == "failure"
    assert "pass the inputs sloprobe-repository and sloprobe-ref" in result.log
    inputs |= {"sloprobe-repository": source.repository, "sloprobe-ref": source.ref}
    again = caller_run(tmp_path, github, runner_python, "http://127.0.0.1:9", home="again")
    result = again.run_job(workflow, "verify", inputs, {}, workflow_source=("", ""))
    assert result.status == "success", result.log
    assert (tmp_path / "again" / "workspace" / ".sloprobe-action" / "action.yml").is_file()


def test_the_scaffolded_deploy_gate_is_green_on_a_fresh_healthy_deploy(
    tmp_path: Path, github: LocalGitHub, runner_python: Path, source: ActionSource
) -> None:
    """A first deploy: no job has ever run; the gate's own job gives the statistics a count."""
    published = github.resolve(source.repository, source.ref)
    suite = init_suite(
        tmp_path / "jobs-api",
        "--shape",
        "fastapi-db-worker",
        "--action",
        f"{source.repository}@{published}",  # pinned by commit, as the scaffold pins a release
    )
    sha = github.publish("acme/jobs-api", suite)
    workflow = load(suite[".github/workflows/deploy-verify.yml"].decode())
    variables, secrets = repository_settings("fastapi-db-worker", "jobs-api", "")
    with start_service(ServiceConfig(admin_token=TOKEN)) as service:
        run = Run(
            github=github,
            python=runner_python,
            home=tmp_path / "runner",
            repository="acme/jobs-api",
            sha=sha,
            event_name="deployment_status",
            event={
                "deployment_status": {"state": "success", "environment_url": service.base_url},
                "deployment": {"sha": sha},
            },
            vars=variables,
            secrets=secrets,
        )
        result = run.run_job(workflow, "verify")
    assert result.status == "success", result.log
    assert "PytestAssertRewriteWarning" not in result.log
    [report] = run.artifacts.values()
    verdicts = json.loads((report / "reports" / "results.json").read_text())["verdicts"]
    assert {v["slo"]: v["status"] for v in verdicts if v["status"] != "ok"} == {}
