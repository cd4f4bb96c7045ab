"""Every run records where it ran: $SLOPROBE_LOCATION, the GitHub runner, or nothing locally."""

from __future__ import annotations

import json
import sqlite3

import pytest

from sloprobe.history.schema import SCHEMA_VERSION
from sloprobe.plugin.location import run_location
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


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"SLOPROBE_LOCATION": " eu-west / k8s "}, "eu-west-/-k8s"),
        (
            {"GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64"},
            "github-hosted/Linux-X64",
        ),
        (
            {"GITHUB_ACTIONS": "true", "RUNNER_ENVIRONMENT": "self-hosted", "RUNNER_NAME": "fra-1"},
            "self-hosted/fra-1",
        ),
        ({"GITHUB_ACTIONS": "true", "SLOPROBE_LOCATION": "probe-eu"}, "probe-eu"),
    ],
    ids=["local", "explicit", "github-hosted", "self-hosted", "explicit-wins"],
)
def test_where_a_run_ran(environ: dict[str, str], expected: str | None) -> None:
    assert run_location(environ) == expected


def test_the_location_is_in_results_and_history_and_an_old_history_gains_the_column(
    pytester: pytest.Pytester, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted.routes["/health"] = Answer(200, "{}")
    pytester.makefile(".yaml", slo=SUITE)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("SLOPROBE_LOCATION", "eu-west")
    assert pytester.runpytest(f"--base-url={scripted.base_url}").ret == 0
    db = pytester.path / "reports" / "history.db"
    with sqlite3.connect(db) as conn:  # as a version-2 history left it: no location column
        conn.execute("ALTER TABLE sloprobe_runs DROP COLUMN location")
        conn.execute("UPDATE sloprobe_meta SET value = '2' WHERE key = 'schema_version'")
    monkeypatch.setenv("SLOPROBE_LOCATION", "us-east")
    assert pytester.runpytest(f"--base-url={scripted.base_url}").ret == 0
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert data["run"]["location"] == "us-east"
    assert "from <code>us-east</code>" in (pytester.path / "reports" / "report.html").read_text()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT location FROM sloprobe_runs ORDER BY id").fetchall()
        version = conn.execute(
            "SELECT value FROM sloprobe_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert rows == [(None,), ("us-east",)]
    assert version == (str(SCHEMA_VERSION),)  # migrated in place to the current schema
