"""Every snippet in docs/github-actions.md is exercised: workflows linted, shell lines run.

A new snippet fails `test_every_snippet_is_exercised` until a test here runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.workflows.test_workflow_lint import run_actionlint

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "github-actions.md").read_text(encoding="utf-8")


def _fenced(lang: str) -> list[str]:
    blocks: list[tuple[str, str]] = []
    kind: str | None = None
    lines: list[str] = []
    for line in DOCS.splitlines(keepends=True):
        if line.startswith("```"):
            if kind is None:
                kind, lines = line[3:].strip(), []
            else:
                blocks.append((kind, "".join(lines)))
                kind = None
        elif kind is not None:
            lines.append(line)
    return [text for k, text in blocks if k == lang]


def test_every_snippet_is_exercised() -> None:
    assert (len(_fenced("yaml")), len(_fenced("sh"))) == (3, 1)


def test_each_workflow_snippet_passes_actionlint(tmp_path: Path) -> None:
    paths = []
    for index, text in enumerate(_fenced("yaml")):
        workflow = yaml.safe_load(text)
        assert isinstance(workflow, dict) and "jobs" in workflow, text
        if True not in workflow and "on" not in workflow:  # a fragment: give it a trigger
            text = "on: workflow_dispatch\n" + text
        path = tmp_path / f"snippet-{index}.yml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    found = run_actionlint(paths, tmp_path)
    assert all(not findings for findings in found.values()), found


def test_the_start_a_new_suite_lines_run(tmp_path: Path) -> None:
    [block] = _fenced("sh")
    script = "\n".join(line.split("  #")[0] for line in block.splitlines())
    environ = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-euc", script],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    suite = tmp_path / "image-jobs-probes"
    assert (suite / "slo.yaml").is_file()
    assert (suite / ".github" / "workflows" / "probe.yml").is_file()
    assert "shape   celery-flower" in done.stdout


@pytest.mark.parametrize("text", _fenced("yaml"), ids=["deploy-action", "reusable", "matrix"])
def test_no_snippet_pins_an_action_loosely(text: str) -> None:
    """Third-party actions by full commit, as zizmor asks; sloprobe's own by its release tag."""
    for line in text.splitlines():
        if "uses: actions/" in line:
            ref = line.split("@", 1)[1].split()[0]
            assert len(ref) == 40 and int(ref, 16) >= 0, line
