"""A run prunes its own service's history: another service's runs in a shared database stay."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from sloprobe.config import load_slo_text
from tests.history.simulation import T0, plugin_run

SUITE = """\
version: 1
service: {service}
settings:
  history: {{retention: {retention}}}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {{json: depth, unit: count}}
slos:
  depth:
    probe: queue
    measure: depth
    threshold: value < 100
"""


def _run(service: str, retention: str, history: str, at_days: float) -> None:
    loaded = load_slo_text(SUITE.format(service=service, retention=retention), "slo.yaml", {})
    plugin_run(loaded, history, T0 + timedelta(days=at_days), 1.0)


def test_a_short_retention_prunes_only_its_own_service(tmp_path: Path) -> None:
    history = str(tmp_path / "shared.db")
    _run("billing", "90d", history, 0)  # kept for 90 days by its own suite
    _run("shop", "1d", history, 0)
    _run("shop", "1d", history, 3)  # prunes shop's day-0 run, and only it
    with sqlite3.connect(tmp_path / "shared.db") as db:
        rows = db.execute(
            "select service, count(*) from sloprobe_runs group by service order by service"
        ).fetchall()
    assert rows == [("billing", 1), ("shop", 1)]
