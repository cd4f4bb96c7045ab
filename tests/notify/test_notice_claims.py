"""One notice per incident and event per channel, however many locations run at once.

Three locations (processes) start each round together against one shared history, SQLite
then a real PostgreSQL, for a breach that opens an incident and a recovery that resolves it;
a real HTTP receiver stands in for Slack and a webhook and counts what arrives.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

T0 = datetime(2026, 11, 3, tzinfo=UTC)
STEP = timedelta(minutes=5)
LOCATIONS = ("eu-west", "us-east", "ap-south")
PATTERN = "bbbbggg"  # opens after 3 bad runs, resolves after 2 good ones
SUITE = """\
version: 1
service: shop
settings:
  incident: {{open_after: 3, resolve_after: 2}}
  slack: {{webhook: "{base}/slack", recovery: true}}
  webhooks:
    ops: {{url: "{base}/hook"}}
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


def location_runs(location: str, base: str, history: str, barrier: object) -> None:
    """One location: a run per round, each started with the others (the barrier)."""
    os.environ["SLOPROBE_LOCATION"] = location
    os.environ.pop("GITHUB_ACTIONS", None)
    from sloprobe.config import load_slo_text
    from sloprobe.model.measurement import Measurement, Series
    from sloprobe.model.units import Unit
    from sloprobe.plugin.suite_run import SuiteRun

    loaded = load_slo_text(SUITE.format(base=base), "slo.yaml", {})
    for index, char in enumerate(PATTERN):
        at = T0 + index * STEP
        run = SuiteRun(loaded, history_option=history, started_at=at, run_id=f"{location}-{index}")
        run.start_notifiers()
        depth = 500.0 if char == "b" else 1.0
        run.measurements["queue"] = Measurement(
            "queue", "http", at, 0.01, {"depth": Series("depth", Unit.COUNT, (depth,))}
        )
        run.judge("depth")
        barrier.wait(timeout=60)  # type: ignore[attr-defined]
        run.record(run.result())


def _deliveries(scripted: ScriptedServer) -> Counter[tuple[str, str]]:
    kinds: Counter[tuple[str, str]] = Counter()
    for (_, path, _), body in zip(scripted.requests, scripted.bodies, strict=True):
        text = json.loads(body).get("text") if path == "/slack" else body.decode()
        kind = "resolved" if "recovered" in text or "resolved" in text else "opened"
        kinds[(path, kind)] += 1
    return kinds


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_locations_running_at_once_send_each_notice_once(
    store: str, scripted: ScriptedServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    scripted.routes["/slack"] = Answer(200, "ok")
    scripted.routes["/hook"] = Answer(200, "{}")
    history = (
        f"sqlite:///{tmp_path / 'h.db'}"
        if store == "sqlite"
        else request.getfixturevalue("postgres_history_url")
    )
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(LOCATIONS))
    processes = [
        context.Process(target=location_runs, args=(loc, scripted.base_url, history, barrier))
        for loc in LOCATIONS
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    assert _deliveries(scripted) == {
        ("/slack", "opened"): 1,
        ("/slack", "resolved"): 1,
        ("/hook", "opened"): 1,
        ("/hook", "resolved"): 1,
    }
