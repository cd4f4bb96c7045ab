"""Every snippet in the README runs as written: each shell line, the slo.yaml and the Python probe.

Shell lines run in bash with the test command's venv in place of `.venv/bin/`; the
README's example host is replaced by a real local server. A new snippet fails
`test_every_snippet_is_exercised` until a test here runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sloprobe.demo.run import warm_up
from sloprobe.demo.service import ServiceConfig, start_service
from tests.support.scripted_server import Answer, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent
EXAMPLE_HOST = "https://jobs.example.com"


def _fenced() -> list[tuple[str, str]]:
    """(language, text) of each fenced block, in order."""
    blocks: list[tuple[str, str]] = []
    lang: str | None = None
    text: list[str] = []
    for line in README.splitlines(keepends=True):
        if line.startswith("```"):
            if lang is None:
                lang, text = line[3:].strip(), []
            else:
                blocks.append((lang, "".join(text)))
                lang = None
        elif lang is not None:
            text.append(line)
    return blocks


def _blocks(lang: str) -> list[str]:
    return [text for kind, text in _fenced() if kind == lang]


def _lines(block: str) -> list[tuple[str, str]]:
    """(command, comment) for each line that runs; comment-only continuation lines are skipped."""
    found = []
    for raw in block.splitlines():
        command, _, comment = raw.partition("  #")
        if command.strip():
            found.append((command.strip(), comment.strip()))
    return found


def _bash(
    command: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = command.replace(".venv/bin/", f"{BIN}/")
    environ = {k: v for k, v in os.environ.items() if k != "PROBE_BASE_URL"}
    environ.update(PATH=f"{BIN}:{os.environ['PATH']}", **(env or {}))
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=environ, capture_output=True, text=True, timeout=180
    )


def test_every_snippet_is_exercised() -> None:
    assert len(_blocks("sh")) == 4
    assert len(_blocks("yaml")) == 1
    assert len(_blocks("python")) == 1
    assert len(_blocks("")) == 1  # the layout of a suite: prose, not code


def test_the_test_command_is_what_ci_runs() -> None:
    [block] = [b for b in _blocks("sh") if "test.sh" in b]
    assert block.strip() == "./scripts/test.sh"
    assert "exec ./scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_the_try_it_lines_run_the_demo(tmp_path: Path) -> None:
    first, faults = [b for b in _blocks("sh") if "sloprobe demo" in b]
    [(line, _)] = _lines(first)
    install, _, demo = line.rpartition(" && ")
    # The venv and its install are what the test command makes: `.[dev]` includes `demo`.
    assert install == "python3 -m venv .venv && .venv/bin/pip install -e '.[demo]'"
    env = {"SLOPROBE_JOB_TIMEOUT": "2"}
    lines: list[tuple[str, str | None]] = [(demo, None), *_lines(faults)]
    folders = [tmp_path / f"run-{i}" for i in range(len(lines))]
    for folder in folders:
        folder.mkdir()
    # Each demo runs its own reference service on a port of its own: all at once, each in
    # its own folder, so the test takes the time of the slowest, not of them all.
    with ThreadPoolExecutor(len(lines)) as pool:
        runs = list(
            pool.map(
                lambda command, folder: _bash(command, folder, env), [c for c, _ in lines], folders
            )
        )
    for (command, comment), folder, done in zip(lines, folders, runs, strict=True):
        results = json.loads((folder / "reports" / "results.json").read_text())
        if comment is None:  # the healthy demo
            assert done.returncode == 0, done.stdout + done.stderr
            assert results["status"] == "ok"
            continue
        expected = set(re.findall(r"[a-z]+(?:-[a-z]+)+", comment))
        assert done.returncode == 1, command + "\n" + done.stdout + done.stderr
        breached = {v["slo"] for v in results["verdicts"] if v["status"] == "breach"}
        assert breached == expected, command


@pytest.fixture(scope="module")
def reference_url() -> Iterator[str]:
    with start_service(ServiceConfig()) as service:
        warm_up(service.base_url)
        yield service.base_url


def _suite_copy(tmp_path: Path) -> Path:
    suite = tmp_path / "suite"
    suite.mkdir()
    for name in ("slo.yaml", "conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, suite / name)
    shutil.copytree(ROOT / "probes", suite / "probes")
    return suite


def test_the_point_it_at_your_service_lines_run(tmp_path: Path, reference_url: str) -> None:
    [block] = [b for b in _blocks("sh") if EXAMPLE_HOST in b]
    suite = _suite_copy(tmp_path)
    # The lines after the first read the target from the environment, as a shell that set it.
    env = {"PROBE_BASE_URL": reference_url, "SLOPROBE_JOB_TIMEOUT": "5"}
    outputs = []
    for command, _ in _lines(block):
        done = _bash(command.replace(EXAMPLE_HOST, reference_url), suite, env)
        assert done.returncode == 0, command + "\n" + done.stdout + done.stderr
        outputs.append(done.stdout)
    full, run, one, listed, validated, _ = outputs
    assert "SLO summary" in full and "SLO summary" in run
    assert "partial run: 1 of" in one and "(-k queue-depth)" in one
    assert "slo.yaml::queue-depth" in listed
    assert "slo.yaml" in validated
    schema = json.loads((suite / "slo.schema.json").read_text())
    assert "slos" in schema["properties"]


def test_the_slo_yaml_example_and_the_python_probe_run(
    tmp_path: Path, scripted: ScriptedServer
) -> None:
    [slo_yaml] = _blocks("yaml")
    [probe] = _blocks("python")
    (tmp_path / "slo.yaml").write_text(slo_yaml)
    (tmp_path / "probes").mkdir()
    (tmp_path / "probes" / "test_roundtrip.py").write_text(probe)
    scripted.routes.update(
        {
            "/api/v1/health/detailed": Answer(
                200, '{"status": "healthy", "components": {"database": {"response_time_ms": 3}}}'
            ),
            "/admin/jobs/stats": Answer(
                200, '{"success_rate": 98.5, "avg_processing_ms": 1200, "queue": {"depth": 4}}'
            ),
            "/jobs": Answer(202, '{"id": "j1", "status": "queued"}'),
            "/jobs/j1": Answer(200, '{"id": "j1", "status": "completed"}'),
        }
    )
    env = {"PROBE_BASE_URL": scripted.base_url, "API_TOKEN": "readme-token-3141"}
    done = _bash("pytest slo.yaml probes -p no:cacheprovider", tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 SLOs: 4 ok" in done.stdout
    assert "5 passed" in done.stdout  # 4 SLOs and the probe test
    sent = [headers for _, path, headers in scripted.requests if path.startswith("/admin")]
    assert sent and all(h.get("Authorization") == "Bearer readme-token-3141" for h in sent)
    assert "readme-token-3141" not in (tmp_path / "reports" / "report.html").read_text()
    assert any(path == "/jobs/j1" for _, path, _ in scripted.requests)
