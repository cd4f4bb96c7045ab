"""Option values are never taken for test paths: `--history /path/existing.db` and friends.

`sloprobe run` passes its options to pytest as one `--opt=value` item; a bare
`pytest --history /elsewhere/h.db` that would move pytest's rootdir (and lose
its ini file) is a usage error saying to write `--history=PATH`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sloprobe import cli
from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  health:
    http:
      path: /health
      values:
        state: {json: status}
  checkout:
    python:
      values:
        duration: {unit: ms}
slos:
  health-up:
    probe: health
    measure: state
    threshold: value == "ok"
  checkout:
    probe: checkout
    measure: duration
    threshold: max < 5s
"""
PROBE = """\
import pytest

@pytest.mark.probe("checkout")
def test_checkout(target, recorder):
    assert target.get("/health").json()["status"] == "ok"
    recorder.record("duration", 12)
"""


@pytest.fixture
def suite_dir(tmp_path: Path) -> Path:
    suite = tmp_path / "suite"
    (suite / "probes").mkdir(parents=True)
    (suite / "slo.yaml").write_text(SUITE)
    (suite / "probes" / "test_checkout.py").write_text(PROBE)
    return suite


@pytest.fixture
def healthy(scripted: ScriptedServer) -> ScriptedServer:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    return scripted


def _sloprobe_run(suite: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "run", *args, "-p", "no:cacheprovider"],
        cwd=suite,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith(("SLOPROBE_", "PROBE_"))},
    )


def _statuses(suite: Path) -> dict[str, str]:
    results = json.loads((suite / "reports" / "results.json").read_text())
    return {v["slo"]: v["status"] for v in results["verdicts"]}


def test_sloprobe_run_with_an_existing_history_file_keeps_loading_probes(
    suite_dir: Path, healthy: ScriptedServer, tmp_path: Path
) -> None:
    history = tmp_path / "elsewhere" / "history.db"
    forms = [
        ("--history", str(history)),  # the second run: the file exists now
        ("--history", str(history)),
        (f"--history={history}",),
        ("--", "--history", str(history)),  # handed to pytest as is
    ]
    for form in forms:
        done = _sloprobe_run(suite_dir, f"--base-url={healthy.base_url}", *form)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _statuses(suite_dir) == {"health-up": "ok", "checkout": "ok"}, done.stdout
        assert "3 passed" in done.stdout  # the probe test of probes/ ran every time
    with sqlite3.connect(history) as db:
        assert db.execute("SELECT count(*) FROM sloprobe_runs").fetchone() == (len(forms),)


def test_sloprobe_run_passes_every_value_as_one_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "probes").mkdir()
    (tmp_path / "probes" / "test_checkout.py").write_text(PROBE)
    (tmp_path / "slo.yaml").write_text(SUITE)
    (tmp_path / "junit.xml").write_text("")
    (tmp_path / "h.db").write_text("")
    monkeypatch.chdir(tmp_path)
    seen: list[list[str]] = []

    def fake_main(args: list[str]) -> int:
        seen.append(list(args))
        return 0

    monkeypatch.setattr(pytest, "main", fake_main)
    argv = ["run", "--base-url", "http://127.0.0.1:9", "--history", "h.db", "--report-dir", "out"]
    argv += ["--exit-on", "incident", "--trigger", "schedule", "--release", "v1"]
    assert cli.main([*argv, "--junitxml", "junit.xml", "-k", "health"]) == 0
    assert seen == [
        [
            *cli.QUIET_REWRITE,
            "slo.yaml",
            "probes",  # `junit.xml` is --junitxml's value, not a test path
            "--slo-file=slo.yaml",
            "--base-url=http://127.0.0.1:9",
            "--report-dir=out",
            "--exit-on=incident",
            "--trigger=schedule",
            "--release=v1",
            "--history=h.db",
            "--junitxml",
            "junit.xml",
            "-k",
            "health",
        ]
    ]
    seen.clear()
    assert cli.main(["run", "probes/test_checkout.py"]) == 0
    assert seen[0][2:4] == ["slo.yaml", "--slo-file=slo.yaml"]  # a test path of its own: no probes/


def _suite_with_ini(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", slo=SUITE.split("  checkout:\n    python:")[0] + _HEALTH_SLO)
    pytester.makepyprojecttoml(
        textwrap.dedent(
            """\
            [tool.pytest.ini_options]
            sloprobe_report_dir = "ini-reports"
            """
        )
    )


_HEALTH_SLO = """\
slos:
  health-up:
    probe: health
    measure: state
    threshold: value == "ok"
"""


def test_pytest_with_a_separate_history_path_that_moves_rootdir_is_a_usage_error(
    pytester: pytest.Pytester, healthy: ScriptedServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _suite_with_ini(pytester)
    history = tmp_path_factory.mktemp("elsewhere") / "history.db"
    first = pytester.runpytest(f"--base-url={healthy.base_url}", f"--history={history}")
    assert first.ret == 0
    assert history.is_file() and (pytester.path / "ini-reports" / "results.json").is_file()
    # pytest reads `--history PATH` before sloprobe is loaded: an existing PATH is a test path
    # to it, which moves its rootdir away from this project and loses pyproject.toml.
    separate = pytester.runpytest(f"--base-url={healthy.base_url}", "--history", str(history))
    assert separate.ret == pytest.ExitCode.USAGE_ERROR
    separate.stderr.fnmatch_lines(
        [
            f"*`--history {history}`: pytest read {history} as a test path before sloprobe was "
            f"loaded, so it chose the rootdir * instead of {pytester.path} and lost its config "
            f"file {pytester.path / 'pyproject.toml'}; write it as one argument: "
            f"--history={history}*"
        ]
    )
    # Where the path cannot mislead pytest, the separate form is fine.
    inside = pytester.runpytest(
        f"--base-url={healthy.base_url}", "--history", str(pytester.path / "ini-reports" / "h.db")
    )
    assert inside.ret == 0
    # With --rootdir pinning the rootdir, only the ini file is lost: the run goes on, warned.
    pinned = pytester.runpytest(
        f"--base-url={healthy.base_url}", f"--rootdir={pytester.path}", "--history", str(history)
    )
    assert pinned.ret == 0
    pinned.stdout.fnmatch_lines(
        [
            f"*PytestConfigWarning: `--history {history}`: pytest read {history} as a test path "
            f"before sloprobe was loaded, so it lost its config file "
            f"{pytester.path / 'pyproject.toml'}; write it as one argument: --history={history}*"
        ]
    )
