"""The examples in deploy/ for running at scale (docs/at-scale.md): the GitHub Actions matrix
over services × locations and the Kubernetes CronJob.

The workflows are linted like the repository's own (actionlint and zizmor find nothing) and
validated against check-jsonschema's vendored GitHub workflow schema. No Kubernetes schema is
available offline (check-jsonschema vendors none, kubeconform is not installed, kubectl
validates only against a server's OpenAPI), so the manifest is held to structural assertions;
its suite is loaded by sloprobe's own loader.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloprobe.config import EnvPolicy, load_slo_file
from sloprobe.scaffold.suite import is_secret, variables
from tests.workflows.test_workflow_lint import run_actionlint, run_zizmor

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GITHUB_EXAMPLES = sorted((DEPLOY / "github").glob("*.yml"))
MATRIX = DEPLOY / "github" / "probe-matrix.yml"
CRONJOB = DEPLOY / "k8s" / "sloprobe-cronjob.yaml"
DOCS = ROOT / "docs" / "at-scale.md"
REFERENCE_WORKFLOW = ROOT / ".github" / "workflows" / "probe.yml"

_USES = re.compile(r"uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<comment>.*)$")


def _project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def requirement() -> str:
    """The one pip requirement both examples install: sloprobe at this version's release tag."""
    project = _project()
    return f"sloprobe[postgres,sentry] @ git+{project['urls']['Repository']}@v{project['version']}"


def test_the_github_examples_are_there() -> None:
    assert MATRIX in GITHUB_EXAMPLES


# --- the GitHub Actions matrix ---


@pytest.fixture(scope="module")
def actionlint_on_examples(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, list[str]]:
    return run_actionlint(GITHUB_EXAMPLES, tmp_path_factory.mktemp("actionlint-deploy"))


@pytest.fixture(scope="module")
def zizmor_on_examples() -> dict[Path, list[str]]:
    return run_zizmor(GITHUB_EXAMPLES)


@pytest.mark.parametrize("path", GITHUB_EXAMPLES, ids=lambda p: p.name)
def test_actionlint_finds_nothing(
    path: Path, actionlint_on_examples: dict[Path, list[str]]
) -> None:
    findings = actionlint_on_examples[path.resolve()]
    assert not findings, "actionlint:\n" + "\n".join(findings)


@pytest.mark.parametrize("path", GITHUB_EXAMPLES, ids=lambda p: p.name)
def test_zizmor_finds_nothing(path: Path, zizmor_on_examples: dict[Path, list[str]]) -> None:
    findings = zizmor_on_examples[path.resolve()]
    assert not findings, "zizmor:\n" + "\n".join(findings)


@pytest.mark.parametrize("path", GITHUB_EXAMPLES, ids=lambda p: p.name)
def test_the_github_workflow_schema_accepts_it(path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", GITHUB_EXAMPLES, ids=lambda p: p.name)
def test_actions_are_pinned_as_in_the_reference_workflow(path: Path) -> None:
    """The same commit (and version comment) for each action as .github/workflows/probe.yml."""
    pinned = {
        m["action"]: (m["ref"], m["comment"].strip())
        for line in REFERENCE_WORKFLOW.read_text(encoding="utf-8").splitlines()
        if (m := _USES.search(line))
    }
    used = [
        m for line in path.read_text(encoding="utf-8").splitlines() if (m := _USES.search(line))
    ]
    assert used
    for m in used:
        assert (m["ref"], m["comment"].strip()) == pinned[m["action"]], m[0]
        assert len(m["ref"]) == 40 and int(m["ref"], 16) >= 0, m[0]


def test_the_matrix_is_services_by_locations() -> None:
    workflow = yaml.safe_load(MATRIX.read_text(encoding="utf-8"))
    assert set(workflow[True]) == {"schedule", "workflow_dispatch"}  # `on:` reads as True
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    assert "permissions" not in job  # the workflow's read-only token, nothing more
    matrix = job["strategy"]["matrix"]
    assert set(matrix) == {"service", "location"} and job["strategy"]["fail-fast"] is False
    for service in matrix["service"]:
        assert set(service) == {"name", "slo", "base_url_var"}, service
    labels = [location["labels"] for location in matrix["location"]]
    assert "ubuntu-latest" in labels  # a GitHub-hosted location
    assert any(isinstance(x, list) and x[0] == "self-hosted" for x in labels)
    names = [location["name"] for location in matrix["location"]]
    assert len(set(names)) == len(names)
    assert job["runs-on"] == "${{ matrix.location.labels }}"
    assert job["concurrency"] == {
        "group": "sloprobe-${{ matrix.service.name }}-${{ matrix.location.name }}",
        "cancel-in-progress": False,
    }
    env = job["env"]
    assert env["SLOPROBE_LOCATION"] == "${{ matrix.location.name }}"
    assert env["PROBE_BASE_URL"] == "${{ vars[matrix.service.base_url_var] }}"
    for name, value in env.items():
        if is_secret(name):
            assert value == f"${{{{ secrets.{name} }}}}", name
    assert "SLOPROBE_HISTORY_URL" in env


def test_the_matrix_steps() -> None:
    [job] = yaml.safe_load(MATRIX.read_text(encoding="utf-8"))["jobs"].values()
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    install = next(s for s in steps if s.get("name") == "Install sloprobe")
    assert f'"{requirement()}"' in install["run"]
    probe = next(s for s in steps if s.get("name") == "Probe")
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    # Unique per service × location × run × attempt, and the name the job summary links to.
    for part in (
        "matrix.service.name",
        "matrix.location.name",
        "github.run_id",
        "github.run_attempt",
    ):
        assert part in upload["with"]["name"], part
    assert probe["env"]["SLOPROBE_ARTIFACT_NAME"] == upload["with"]["name"]
    assert upload["if"] == "always()"


# --- the Kubernetes CronJob ---


def _documents() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(CRONJOB.read_text(encoding="utf-8")) if d is not None]
    by_kind = {d["kind"]: d for d in docs}
    assert len(by_kind) == len(docs), "one document of each kind"
    return by_kind


def _pod(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    pod: dict[str, Any] = docs["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pod


def _container(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    [container] = _pod(docs)["containers"]
    assert isinstance(container, dict)
    return container


def _env(docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in _container(docs)["env"]}


def test_the_manifest_holds_a_configmap_and_a_cronjob_and_no_secret() -> None:
    docs = _documents()
    assert set(docs) == {"ConfigMap", "CronJob"}  # the Secret is referenced, never defined here
    assert docs["ConfigMap"]["apiVersion"] == "v1"
    assert docs["CronJob"]["apiVersion"] == "batch/v1"


def test_the_cronjob_schedule() -> None:
    docs = _documents()
    spec = docs["CronJob"]["spec"]
    assert spec["schedule"] == "*/5 * * * *"
    assert _env(docs)["SLOPROBE_SCHEDULE"]["value"] == spec["schedule"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert isinstance(spec["startingDeadlineSeconds"], int) and spec["startingDeadlineSeconds"] > 0
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    # A run ends before the next is due: every five minutes, so under 300 s.
    assert 0 < job["activeDeadlineSeconds"] < 300
    assert _pod(docs)["restartPolicy"] == "Never"


def test_the_pod_is_locked_down() -> None:
    docs = _documents()
    pod = _pod(docs)
    container = _container(docs)
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind]), kind


def test_what_is_written_goes_to_an_emptydir() -> None:
    """A read-only root: reports/ (the working directory), HOME and TMPDIR are on the emptyDir."""
    docs = _documents()
    container = _container(docs)
    volumes = {v["name"]: v for v in _pod(docs)["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    writable = [p for p, m in mounts.items() if "emptyDir" in volumes[m["name"]]]
    env = _env(docs)

    def on_empty_dir(path: str) -> bool:
        return any(path == w or path.startswith(w.rstrip("/") + "/") for w in writable)

    assert on_empty_dir(container["workingDir"])
    assert on_empty_dir(env["HOME"]["value"]) and on_empty_dir(env["TMPDIR"]["value"])
    suite = next(m for m in mounts.values() if "configMap" in volumes[m["name"]])
    assert suite["readOnly"] is True
    script = "\n".join(container["args"])
    assert f"--slo-file {suite['mountPath']}/slo.yaml" in script
    # pytest's cache would be written beside slo.yaml, on the read-only ConfigMap volume.
    assert "-p no:cacheprovider" in script
    assert f'"{requirement()}"' in script


def test_the_location_is_the_cluster() -> None:
    env = _env(_documents())
    location = env["SLOPROBE_LOCATION"]
    if "valueFrom" in location:
        assert "fieldRef" in location["valueFrom"]  # the downward API
    else:  # composed from variables defined before it ($(NAME), expanded by Kubernetes)
        names = re.findall(r"\$\((\w+)\)", location["value"])
        assert names
        order = list(env)
        for name in names:
            assert order.index(name) < order.index("SLOPROBE_LOCATION"), name
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"


def test_every_secret_comes_from_a_secret_ref() -> None:
    docs = _documents()
    env = _env(docs)
    suite = docs["ConfigMap"]["data"]["slo.yaml"]
    # Every variable the suite reads is set, and the shared history and Sentry too.
    for name in [v.name for v in variables(suite)] + ["SLOPROBE_HISTORY_URL", "SENTRY_DSN"]:
        assert name in env, name
    secret_names = [name for name in env if is_secret(name)]
    assert {"SLOPROBE_HISTORY_URL", "SENTRY_DSN", "ADMIN_JWT"} <= set(secret_names)
    for name in secret_names:
        item = env[name]
        assert "value" not in item, f"{name} has a literal value"
        ref = item["valueFrom"]["secretKeyRef"]
        assert ref["name"] and ref["key"], name
    for item in env.values():  # and no credential hides in a literal URL
        assert "@" not in str(item.get("value", "")), item


def test_the_configmap_suite_loads(tmp_path: Path) -> None:
    suite = tmp_path / "slo.yaml"
    suite.write_text(_documents()["ConfigMap"]["data"]["slo.yaml"], encoding="utf-8")
    loaded = load_slo_file(suite, environ={}, env=EnvPolicy(lenient=True))
    assert loaded.spec.slos
    # The one note: the token the Secret gives, unset here.
    assert [note.field for note in loaded.notes] == ["target.auth.bearer"]


# --- docs/at-scale.md ---


def _fenced_yaml(text: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", text, flags=re.M | re.S)


def test_the_docs_show_excerpts_of_the_files() -> None:
    """The docs name both files and every yaml block in them is a verbatim part of one."""
    text = DOCS.read_text(encoding="utf-8")
    files = {path: path.read_text(encoding="utf-8") for path in (MATRIX, CRONJOB)}
    for path in files:
        assert str(path.relative_to(ROOT)) in text, path
    blocks = _fenced_yaml(text)
    shown = {path: 0 for path in files}
    for block in blocks:
        holders = [path for path, content in files.items() if block in content]
        assert holders, f"not an excerpt of deploy/:\n{block}"
        shown[holders[0]] += 1
    assert all(shown.values()), shown
