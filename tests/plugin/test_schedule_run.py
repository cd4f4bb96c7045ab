"""A scheduled run says how many runs the last 24 h held, and Sentry's monitor follows its cron."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from sloprobe.sinks.github_actions import markdown_cell
from tests.support.fake_sentry import fake_sentry
from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  health:
    http: {path: /health}
slos:
  health-fast:
    probe: health
    measure: latency
    threshold: p95 < 2s
"""


def _github_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cron: str) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"schedule": cron}))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "schedule")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "SLOPROBE_SCHEDULE"):
        monkeypatch.delenv(name, raising=False)


def test_a_scheduled_run_counts_its_runs_and_the_monitor_follows_the_cron(
    pytester: pytest.Pytester,
    scripted: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    scripted.routes["/health"] = Answer(200, "{}")
    pytester.makefile(".yaml", slo=SUITE)
    _github_schedule(tmp_path, monkeypatch, "2-59/5 * * * *")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    with fake_sentry() as sentry:
        monkeypatch.setenv("SENTRY_DSN", sentry.dsn)
        runs = [pytester.runpytest(f"--base-url={scripted.base_url}") for _ in range(2)]
    assert [r.ret for r in runs] == [0, 0]
    runs[1].stdout.fnmatch_lines(
        ["schedule: 2 of * scheduled runs in the last * (cron 2-59/5 * * * *); no gap over 1 h*"]
    )
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert data["schedule"]["cron"] == "2-59/5 * * * *"
    assert data["schedule"]["held"] == 2
    assert data["schedule"]["allowance_s"] == 3600.0
    said = data["schedule"]["text"]
    assert said.startswith("2 of 1 scheduled runs") or said.startswith("2 of 2 scheduled runs")
    assert markdown_cell(f"schedule: {said}") in summary.read_text()
    assert said in (pytester.path / "reports" / "report.html").read_text()
    line = (
        "integrations: Slack off (SLACK_WEBHOOK_URL not set), "
        "OpenTelemetry off (OTEL_EXPORTER_OTLP_ENDPOINT not set)"
    )
    assert markdown_cell(line) in summary.read_text()
    configs = [c["monitor_config"] for c in sentry.checkins]
    assert configs and all(
        c["schedule"] == {"type": "crontab", "value": "2-59/5 * * * *"}
        and c["checkin_margin"] == 60
        for c in configs
    )


def test_an_unscheduled_run_says_nothing_of_a_schedule(
    pytester: pytest.Pytester, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "SLOPROBE_SCHEDULE"):
        monkeypatch.delenv(name, raising=False)
    scripted.routes["/health"] = Answer(200, "{}")
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest(f"--base-url={scripted.base_url}")
    assert result.ret == 0
    assert "schedule:" not in result.stdout.str()
    assert json.loads((pytester.path / "reports" / "results.json").read_text())["schedule"] is None


def test_a_bad_cron_is_a_warning(
    pytester: pytest.Pytester, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOPROBE_SCHEDULE", "every five minutes")
    scripted.routes["/health"] = Answer(200, "{}")
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest(f"--base-url={scripted.base_url}")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*warning: schedule health not judged: cron `every five minutes`*(from $SLOPROBE_SCHEDULE)"
        ]
    )


@pytest.mark.parametrize("release", [None, "api-2026.11.30"])
def test_the_sentry_release_is_the_one_under_test_never_the_probe_repos_commit(
    pytester: pytest.Pytester,
    scripted: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    release: str | None,
) -> None:
    scripted.routes["/health"] = Answer(200, "{}")
    pytester.makefile(".yaml", slo=SUITE)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for command in (["init", "-q"], ["add", "slo.yaml"], ["commit", "-qm", "probes"]):
        subprocess.run(["git", *command], cwd=pytester.path, env=env, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=pytester.path, capture_output=True, text=True
    ).stdout.strip()
    monkeypatch.delenv("SENTRY_RELEASE", raising=False)
    if release:
        monkeypatch.setenv("SLOPROBE_RELEASE", release)
    else:
        monkeypatch.delenv("SLOPROBE_RELEASE", raising=False)
    with fake_sentry() as sentry:
        monkeypatch.setenv("SENTRY_DSN", sentry.dsn)
        assert pytester.runpytest(f"--base-url={scripted.base_url}").ret == 0
    assert sentry.checkins
    assert all(c.get("release") == release for c in sentry.checkins)
    assert head not in json.dumps(sentry.checkins)
