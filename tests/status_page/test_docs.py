"""docs/status-page.md: its workflow parses as YAML, publishes what the command writes, and lints clean."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "status-page.md"


def _workflow() -> tuple[str, dict[Any, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    return blocks[0], yaml.safe_load(blocks[0])


def test_the_workflow_parses_and_publishes_the_status_page() -> None:
    _, workflow = _workflow()
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1: `on` is true
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["status-page"]
    assert job["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert job["environment"]["name"] == "github-pages"
    steps = job["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == [
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ]
    assert all(re.fullmatch(r"[^@]+@[0-9a-f]{40}", s["uses"]) for s in steps if "uses" in s)
    build = next(s for s in steps if "status-page" in s.get("run", ""))
    command = shlex.split(build["run"])
    assert command[:2] == ["sloprobe", "status-page"]
    assert "--internal" not in command  # what Pages publishes is the public page
    out = command[command.index("--out") + 1]
    upload = next(s for s in steps if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == out
    assert "secrets.SLOPROBE_HISTORY_URL" in build["env"]["SLOPROBE_HISTORY_URL"]
    assert "${{" not in build["run"]  # secrets reach the command through env, never the script


def test_the_command_in_the_docs_exists() -> None:
    from sloprobe.cli import _parser

    args = _parser().parse_args(["status-page", "--out", "site", "--title", "Status"])
    assert (args.command, args.out, args.internal) == ("status-page", "site", False)


def test_the_workflow_lints_clean(tmp_path: Path) -> None:
    """zizmor and actionlint, as the repository's own workflows are linted."""
    from tests.workflows.test_workflow_lint import run_actionlint, run_zizmor

    text, _ = _workflow()
    path = tmp_path / ".github" / "workflows" / "status-page.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    assert run_zizmor([path]) == {path.resolve(): []}
    assert run_actionlint([path], tmp_path) == {path.resolve(): []}
