"""`sloprobe init` and `sloprobe action-facts`: the scaffold is the user's, names every variable it
reads, sends no dummy credential, and takes sloprobe from one owner/repo@ref."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sloprobe.cli import main
from sloprobe.config import ConfigError, load_slo_file
from sloprobe.scaffold import REQUIREMENTS, SHAPES, default_source, plan_suite
from sloprobe.scaffold.suite import is_secret, variables

ROOT = Path(__file__).resolve().parents[2]
CHECK = Path(sys.executable).parent / "check-jsonschema"


def init(directory: Path, *arguments: str) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(directory)], check=True, timeout=30)
    done = subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "init", *arguments, str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_folder_named_like_a_shape_scaffolds_that_shape_and_says_so(tmp_path: Path) -> None:
    said = init(tmp_path / "bullmq-node")
    assert "shape   bullmq-node" in said and "the folder's name" in said
    text = (tmp_path / "bullmq-node" / "slo.yaml").read_text()
    assert "layout: bullmq" in text


def test_the_service_name_comes_from_the_arguments_not_the_example(tmp_path: Path) -> None:
    said = init(tmp_path / "Image Jobs", "--shape", "bullmq-node")
    text = (tmp_path / "Image Jobs" / "slo.yaml").read_text()
    assert re.search(r"^service: image-jobs$", text, re.M), text
    assert "service: pose-generator" not in text
    # The paths are the seed's, not the folder's: a folder name is no route of the service.
    assert "path: /api/apps/pose-generator/health" in text
    assert "image-jobs/health" not in text
    assert "service image-jobs" in said
    init(tmp_path / "other", "--service", "billing", "--shape", "celery-flower")
    assert re.search(r"^service: billing$", (tmp_path / "other" / "slo.yaml").read_text(), re.M)


def test_the_history_cache_is_keyed_per_service_environment_and_attempt(tmp_path: Path) -> None:
    init(tmp_path / "billing", "--shape", "celery-flower")
    workflow = yaml.safe_load((tmp_path / "billing" / ".github/workflows/probe.yml").read_text())
    environment = re.search(
        r"^environment: (?:\$\{\w+:-)?([\w.-]+)",
        (tmp_path / "billing" / "slo.yaml").read_text(),
        re.M,
    )
    scope = f"billing-{environment.group(1) if environment else 'production'}"
    steps = {s.get("name"): s for s in workflow["jobs"]["probe"]["steps"]}
    key = f"sloprobe-history-{scope}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"
    assert steps["Save history"]["with"]["key"] == key
    assert steps["Restore history"]["with"]["restore-keys"] == f"sloprobe-history-{scope}-"
    assert "reports/runs" in steps["Save history"]["with"]["path"]


def test_an_unknown_shape_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--shape", "django", str(tmp_path)]) == 4
    assert "unknown shape `django`" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_kept_slo_file_is_not_given_another_shapes_next_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run again over a suite of another shape: its slo.yaml is kept, so the variables to set
    are that file's, not the ones the default shape would have asked for."""
    assert main(["init", "--shape", "bullmq-node", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["init", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "kept    " in out and "slo.yaml was kept as it is" in out
    assert "variables:" not in out


@pytest.mark.parametrize("shape", SHAPES)
def test_no_credential_or_loopback_url_has_a_default(shape: str) -> None:
    text = plan_suite(shape, "svc", default_source()).files[Path("slo.yaml")]
    for name, default in re.findall(r"\$\{(\w+):-([^}]*)\}", text):
        # An empty default is "not set" (one of a pair of credentials), never a dummy sent.
        assert not is_secret(name) or default == "", f"${{{name}}} defaults to {default!r}"
        assert "127.0.0.1" not in default and "localhost" not in default, (name, default)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_variable_is_passed_by_both_workflows_and_named_by_the_hint(
    shape: str, tmp_path: Path
) -> None:
    said = init(tmp_path / "suite", "--shape", shape)
    slo_yaml = (tmp_path / "suite" / "slo.yaml").read_text()
    read = {v.name: v for v in variables(slo_yaml)}
    hint = said[said.index("next:") :]
    for file in ("probe.yml", "deploy-verify.yml"):
        workflow = yaml.safe_load((tmp_path / "suite" / ".github" / "workflows" / file).read_text())
        [job] = workflow["jobs"].values()
        for name, variable in read.items():
            kind = "secrets" if variable.secret else "vars"
            assert job["env"][name] == f"${{{{ {kind}.{name} }}}}", (file, name)
            assert name in hint
    probe_env = yaml.safe_load((tmp_path / "suite/.github/workflows/probe.yml").read_text())
    assert probe_env["jobs"]["probe"]["env"]["PROBE_BASE_URL"] == "${{ vars.PROBE_BASE_URL }}"
    assert "PROBE_BASE_URL" in hint


@pytest.mark.parametrize("shape", SHAPES)
def test_the_suite_loads_when_its_variables_are_set_and_names_each_missing_one(
    shape: str, tmp_path: Path
) -> None:
    suite = plan_suite(shape, "svc", default_source())
    (tmp_path / "slo.yaml").write_text(suite.files[Path("slo.yaml")])
    values = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "REDIS_URL": "redis://127.0.0.1/0"}
    values |= {"FLOWER_URL": "http://127.0.0.1:5555", "PROMETHEUS_URL": "http://127.0.0.1:9090"}
    values |= {"SUCCESS_RATE_UNIT": "%", "PROCESSING_TIME_UNIT": "s"}
    values |= {"PROCESSING_TIME_MAX": "60s", "JOB_E2E_MAX": "2m"}
    values |= {"CELERY_BACKLOG_MAX": "100", "CELERY_FAILED_TASKS_LIMIT": "10"}
    environ = {v.name: values.get(v.name, "x") for v in suite.variables if v.required}
    loaded = load_slo_file(tmp_path / "slo.yaml", environ=environ)
    assert "example-fast" in loaded.spec.slos and loaded.spec.service == "svc"
    for missing in (v.name for v in suite.variables if v.required and v.name != "PROBE_BASE_URL"):
        with pytest.raises(ConfigError, match=f"environment variable `{missing}` is not set"):
            load_slo_file(
                tmp_path / "slo.yaml", environ={k: v for k, v in environ.items() if k != missing}
            )


def test_one_owner_repo_at_ref_from_pyproject_names_sloprobe_everywhere(tmp_path: Path) -> None:
    source = default_source()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'Repository = "https://github.com/{source.repository}"' in pyproject
    assert source.ref == "v" + re.search(r'^version = "(.+)"$', pyproject, re.M)[1]  # type: ignore[index]
    init(tmp_path / "a", "--shape", "fastapi-db-worker")
    deploy = (tmp_path / "a/.github/workflows/deploy-verify.yml").read_text()
    assert f"uses: {source.uses}\n" in deploy
    requirement = (tmp_path / "a" / REQUIREMENTS).read_text()
    assert (
        f"sloprobe[sentry] @ git+https://github.com/{source.repository}@{source.ref}" in requirement
    )
    assert "pip install sloprobe" not in deploy + requirement
    zizmor = yaml.safe_load((ROOT / "zizmor.yml").read_text())
    assert list(zizmor["rules"]["unpinned-uses"]["config"]["policies"]) == [source.repository]
    docs = (ROOT / "docs" / "github-actions.md").read_text()
    for named in re.findall(
        r"uses: ([\w.-]+/[\w.-]+)(/\.github/workflows/[\w.-]+)?@([\w./-]+)", docs
    ):
        if not named[0].startswith("actions/"):
            assert (named[0], named[2]) == (source.repository, source.ref), named
    assert f"git+https://github.com/{source.repository}@{source.ref}" in docs


def test_init_action_names_another_source(tmp_path: Path) -> None:
    said = init(tmp_path / "a", "--action", "my-org/sloprobe-fork@0123abc")
    assert "sloprobe from my-org/sloprobe-fork@0123abc" in said
    assert (
        "uses: my-org/sloprobe-fork@0123abc"
        in (tmp_path / "a/.github/workflows/deploy-verify.yml").read_text()
    )
    assert (
        "git+https://github.com/my-org/sloprobe-fork@0123abc"
        in (tmp_path / "a" / REQUIREMENTS).read_text()
    )
    assert main(["init", "--action", "not a reference", str(tmp_path / "b")]) == 4


@pytest.mark.parametrize(
    ("shape", "extras", "ready_path"),
    [
        ("fastapi-db-worker", "", "/health"),
        ("celery-flower", "redis", "/api/v1/health"),
        ("bullmq-node", "redis", "/api/apps/pose-generator/health"),
        ("prometheus", "", "/metrics"),
    ],
)
def test_action_facts_reads_extras_and_the_readiness_path_from_the_suite(
    shape: str, extras: str, ready_path: str, tmp_path: Path
) -> None:
    (tmp_path / "slo.yaml").write_text(
        plan_suite(shape, "svc", default_source()).files[Path("slo.yaml")]
    )
    done = subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "action-facts", str(tmp_path / "slo.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},  # no SENTRY_DSN, no variable of the suite set
    )
    assert done.returncode == 0, done.stderr
    facts = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert facts == {
        "extras": extras,
        "ready_path": ready_path,
        "service": "svc",
        "environment": "production",
    }
    assert f"readiness path {ready_path} (probe `" in done.stderr


@pytest.mark.parametrize(
    ("yaml_text", "environ", "extras"),
    [
        (
            "  q:\n    sql: {url: 'postgresql+psycopg://u@h/db', queries: {n: {sql: select 1}}}\n",
            {},
            "postgres",
        ),
        ("  q:\n    sql: {url: 'sqlite:///jobs.db', queries: {n: {sql: select 1}}}\n", {}, ""),
        ("  q:\n    http: {path: /health}\n", {"SENTRY_DSN": "https://k@o.invalid/1"}, "sentry"),
        (
            "  q:\n    http: {path: /health}\n",
            {"SLOPROBE_HISTORY_URL": "postgresql://h/db"},
            "postgres",
        ),
        ("  q:\n    redis: {url: '${REDIS_URL}', queues: [a]}\n", {}, "redis"),
    ],
    ids=["sql-postgres", "sql-sqlite", "sentry-dsn", "history-postgres", "redis-unset-url"],
)
def test_action_facts_extras(
    yaml_text: str, environ: dict[str, str], extras: str, tmp_path: Path
) -> None:
    (tmp_path / "slo.yaml").write_text(
        "version: 1\nservice: s\nprobes:\n"
        + yaml_text
        + "slos:\n  x: {probe: q, measure: m, threshold: value < 1}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "action-facts", str(tmp_path / "slo.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **environ},
    )
    assert done.returncode == 0, done.stderr
    assert f"extras={extras}\n" in done.stdout


def test_the_artifact_name_is_unique_per_job_and_keeps_no_credential() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "artifact"]
    names = set()
    for base_url, job in [
        ("https://api.example.com", "verify"),
        ("https://eu.api.example.com:8443/v1", "verify"),
        ("https://user:hunter2@api.example.com", "gate"),
    ]:
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", step["run"]],
            env={
                "PATH": "/usr/bin:/bin",
                "GITHUB_OUTPUT": "/dev/stdout",
                "SERVICE": "jobs",
                "ENVIRONMENT": "prod eu",
                "BASE_URL": base_url,
                "JOB": job,
                "ATTEMPT": "2",
                "NAME": "",
            },
            capture_output=True,
            text=True,
            timeout=30,
        )
        name = done.stdout.strip().removeprefix("name=")
        assert re.fullmatch(r"sloprobe-deploy-jobs-prod-eu-[\w.-]+-(verify|gate)-2", name), name
        assert "hunter2" not in name and "user" not in name
        names.add(name)
    assert len(names) == 3


def test_the_scaffolded_action_is_pinned_by_the_release_commit(tmp_path: Path) -> None:
    """zizmor finds nothing in the user's repository, which has no zizmor.yml of ours."""
    import dataclasses

    from sloprobe.scaffold import scaffold
    from tests.workflows.test_workflow_lint import run_zizmor

    commit = "0123456789abcdef0123456789abcdef01234567"
    source = dataclasses.replace(default_source(), commit=commit)
    scaffold(tmp_path / "a", plan_suite("fastapi-db-worker", "svc", source))
    deploy = tmp_path / "a/.github/workflows/deploy-verify.yml"
    assert f"uses: {source.repository}@{commit}  # {source.ref}\n" in deploy.read_text()
    empty = tmp_path / "zizmor.yml"
    empty.write_text("rules: {}\n")
    workflows = sorted((tmp_path / "a/.github/workflows").glob("*.yml"))
    findings = run_zizmor(workflows, config=empty)
    assert all(not found for found in findings.values()), findings
    said = init(tmp_path / "b", "--action", "my-org/sloprobe-fork@v9")
    assert (
        "uses: my-org/sloprobe-fork@v9\n"
        in (tmp_path / "b/.github/workflows/deploy-verify.yml").read_text()
    )
    assert "my-org/sloprobe-fork@v9" in said


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_a_checkout_pins_by_its_own_commit() -> None:
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    tag = subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "rev-parse",
            "-q",
            "--verify",
            f"refs/tags/{default_source().ref}^{{commit}}",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    assert default_source().commit == (tag or head)
