"""A run pays only for what it uses: without history, no SQLAlchemy and no notifier is imported.

The run's notifiers (notify/run.py, which the plugin holds from the start to learn every
notifier secret) are imported; no channel is: Sentry, Slack, PagerDuty, webhooks, delivery."""

from __future__ import annotations

import json

import pytest

from tests.plugin.test_plugin import SUITE
from tests.support.scripted_server import Answer, ScriptedServer

RECORD_MODULES = """
import json, sys


def pytest_unconfigure(config):
    heavy = ("sqlalchemy", "sloprobe.history", "sloprobe.notify.", "sentry_sdk", "jinja2.sandbox")
    light = ("sloprobe.notify.run",)  # the run's notifiers, opened from the start
    seen = sorted(
        {h for h in heavy for m in sys.modules if m.startswith(h) and m not in light}
    )
    with open("imported.json", "w") as out:
        json.dump(seen, out)
"""


def test_a_run_without_history_imports_no_database_or_notifier(
    pytester: pytest.Pytester, scripted: ScriptedServer
) -> None:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99.1}')
    pytester.makefile(".yaml", slo=SUITE)
    pytester.makeconftest(RECORD_MODULES)
    result = pytester.runpytest(f"--base-url={scripted.base_url}", "--history=off")
    assert result.ret == 0
    assert json.loads((pytester.path / "imported.json").read_text()) == []
