"""An unset secret never turns an integration off quietly: the run says which are off, and why."""

from __future__ import annotations

import json
import os

import pytest

from sloprobe.config import load_slo_text
from sloprobe.config.model import SloFile
from sloprobe.plugin.integrations import integrations_line
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


def _spec(extra: str = "") -> SloFile:
    return load_slo_text(SUITE + extra, "slo.yaml", {}).spec


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {},
            "integrations: Sentry off (SENTRY_DSN not set), Slack off (SLACK_WEBHOOK_URL not set), "
            "OpenTelemetry off (OTEL_EXPORTER_OTLP_ENDPOINT not set)",
        ),
        (
            {
                "SENTRY_DSN": "",
                "SLACK_WEBHOOK_URL": "  ",
                "SLOPROBE_HISTORY_URL": "",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "",
            },
            "integrations: Sentry off (SENTRY_DSN is empty), Slack off (SLACK_WEBHOOK_URL is empty), "
            "OpenTelemetry off (OTEL_EXPORTER_OTLP_ENDPOINT is empty), "
            "history local (SLOPROBE_HISTORY_URL is empty)",
        ),
        (
            {
                "SENTRY_DSN": "http://k@127.0.0.1:9/1",
                "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/h",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
            },
            None,
        ),
    ],
    ids=["unset", "empty", "all on"],
)
def test_the_line_names_each_integration_that_is_off(
    environ: dict[str, str], expected: str | None
) -> None:
    spec = _spec()
    assert integrations_line(spec, environ, "sqlite:///h.db", None) == expected


def test_history_off_is_said_and_a_dsn_in_the_file_needs_no_variable() -> None:
    spec = _spec("settings:\n  sentry: {dsn: 'http://k@127.0.0.1:9/1'}\n")
    environ = {"SLACK_WEBHOOK_URL": "http://x/h", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}
    line = integrations_line(spec, environ, None, "off")
    assert line == "integrations: history off"


def test_a_run_with_an_empty_secret_says_so_in_the_terminal_and_results(
    pytester: pytest.Pytester, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted.routes["/health"] = Answer(200, "{}")
    pytester.makefile(".yaml", slo=SUITE)
    monkeypatch.setenv("SENTRY_DSN", "")
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert os.environ["SENTRY_DSN"] == ""
    result = pytester.runpytest(f"--base-url={scripted.base_url}")
    assert result.ret == 0
    line = (
        "integrations: Sentry off (SENTRY_DSN is empty), Slack off (SLACK_WEBHOOK_URL not set), "
        "OpenTelemetry off (OTEL_EXPORTER_OTLP_ENDPOINT not set)"
    )
    result.stdout.fnmatch_lines([line])
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert data["notes"] == [line]
