"""A notice quotes the values that opened its incident, and names where and under what quorum.

Three locations share one history under `quorum: {locations: 2, within: 10m}`; us-east and
ap-south breach, eu-west stays healthy. Runs are the plugin's own (SuiteRun, clock
injected), every location's run of a round starting at the same instant, as a cron or a
CI matrix starts them; real receivers stand in for Slack, PagerDuty and two webhooks
(tests/support/scripted_server.py) and for Sentry (tests/support/fake_sentry.py).

The healthy location's run can be the one that opens the incident: it counts as neither
good nor bad, while the bad runs of the round before make the streak. Its own value
(`value = 1`) must appear in no notice.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_sentry import FakeSentry, fake_sentry
from tests.support.scripted_server import Answer, ScriptedServer

T0 = datetime(2026, 11, 3, tzinfo=UTC)
STEP = timedelta(minutes=5)
DEPTH = {"eu-west": 1.0, "us-east": 500.0, "ap-south": 480.0}  # eu-west is healthy
SUITE = """\
version: 1
service: shop
settings:
  quorum: {locations: 2, within: 10m}
  incident: {open_after: 3, resolve_after: 2}
  slack: {webhook: "@BASE@/slack", recovery: true}
  sentry: {dsn: "@DSN@", flush_timeout: 3s, checkins: false}
  pagerduty: {routing_key: "R0UT1NGKEY0123456789abcdef012345", url: "@BASE@/pd"}
  webhooks:
    ops: {url: "@BASE@/hook"}
    where:
      url: "@BASE@/where"
      body: |
        {"event": {{ notice.kind }}, "where": {{ locations }}, "seen": {{ seen }},
         "needed": {{ quorum.locations if quorum else none }},
         "within": {{ quorum.within if quorum else none }}}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {json: depth, unit: count}
slos:
  depth:
    probe: queue
    measure: depth
    threshold: value < 100
"""
WHERE = (
    "breached at ap-south (value = 480) and us-east (value = 500), expected value < 100 "
    "({runs} bad runs, since {since} UTC; seen from 2 locations, 2 needed within 10 m)"
)
ROUTES = ("/slack", "/pd", "/hook", "/where")


def one_run(
    base: str, dsn: str, history: str, location: str, index: int, bad: bool
) -> tuple[str, ...]:
    """One location's run of round ``index``, as the plugin does it ($SLOPROBE_LOCATION set);
    returns its warnings."""
    from sloprobe.config import load_slo_text
    from sloprobe.model.measurement import Measurement, Series
    from sloprobe.model.units import Unit
    from sloprobe.plugin.suite_run import SuiteRun

    text = SUITE.replace("@BASE@", base).replace("@DSN@", dsn)
    loaded = load_slo_text(text, "slo.yaml", {})
    at = T0 + index * STEP
    run_id = f"run-{index}-{list(DEPTH).index(location)}"  # names no location: asserted below
    run = SuiteRun(loaded, history_option=history, started_at=at, run_id=run_id)
    run.start_notifiers()
    depth = DEPTH[location] if bad else 1.0
    run.measurements["queue"] = Measurement(
        "queue", "http", at, 0.01, {"depth": Series("depth", Unit.COUNT, (depth,))}
    )
    run.judge("depth")
    return run.record(run.result()).warnings


def location_runs(
    location: str, base: str, dsn: str, history: str, pattern: str, barrier: object
) -> None:
    """One location as its own process: a run per round, started with the others (the barrier)."""
    os.environ["SLOPROBE_LOCATION"] = location
    os.environ.pop("GITHUB_ACTIONS", None)
    for index, char in enumerate(pattern):
        barrier.wait(timeout=60)  # type: ignore[attr-defined]
        one_run(base, dsn, history, location, index, char == "b")


def _received(scripted: ScriptedServer) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {route: [] for route in ROUTES}
    for (_, path, _), body in zip(scripted.requests, scripted.bodies, strict=True):
        found[path].append(json.loads(body))
    return found


def _openings(sentry: FakeSentry) -> list[dict[str, Any]]:
    time.sleep(0.2)
    events = sentry.unique_events().values()
    return [e for e in events if e["tags"]["transition"] == "opened"]


def _answers(scripted: ScriptedServer) -> None:
    scripted.routes.update(
        {
            "/slack": Answer(200, "ok"),
            "/pd": Answer(202, '{"status": "success"}'),
            "/hook": Answer(200, "{}"),
            "/where": Answer(200, "{}"),
        }
    )


@pytest.fixture(autouse=True)
def _no_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def test_a_notice_quotes_the_bad_locations_values_not_the_healthy_run_that_opened_it(
    scripted: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eu-west's run is recorded first in each round, and opens the incident in round 2."""
    _answers(scripted)
    history = str(tmp_path / "h.db")
    warnings: list[str] = []
    with fake_sentry() as sentry:
        for index in range(4):
            for location in ("eu-west", "us-east", "ap-south"):
                monkeypatch.setenv("SLOPROBE_LOCATION", location)
                warnings += one_run(scripted.base_url, sentry.dsn, history, location, index, True)
        (opening,) = _openings(sentry)
    received = _received(scripted)
    assert len(received["/slack"]) == 1, received["/slack"]  # opened; nothing resolved yet
    everything = json.dumps(received) + json.dumps(opening)
    assert "value = 1," not in everything and 'value = 1"' not in everything

    headline = WHERE.format(runs=3, since="00:00")
    slack = received["/slack"][0]["text"]
    assert slack == "shop (production): SLO depth " + headline.replace("<", "&lt;")

    (hook,) = received["/hook"]
    assert hook["text"] == "shop (production): SLO depth " + headline
    assert hook["observed"] == "ap-south: value = 480; us-east: value = 500"

    (page,) = received["/pd"]
    details = page["payload"]["custom_details"]
    assert page["payload"]["summary"] == hook["text"]
    assert details["observed"] == "ap-south: value = 480; us-east: value = 500"

    assert opening["message"] == "SLO depth " + headline
    assert opening["contexts"]["slo"]["observed"] == "ap-south: value = 480; us-east: value = 500"
    assert not warnings


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_every_channel_names_the_locations_that_saw_it_and_the_quorum(
    store: str,
    scripted: ScriptedServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """Three processes, each round started together: Slack, both webhooks, PagerDuty and
    Sentry each get one opening that names us-east and ap-south, never eu-west (whose
    healthy run may be the one that opens the incident, depending on the race)."""
    _answers(scripted)
    history = (
        f"sqlite:///{tmp_path / 'h.db'}"
        if store == "sqlite"
        else request.getfixturevalue("postgres_history_url")
    )
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(DEPTH))
    with fake_sentry() as sentry:
        processes = [
            context.Process(
                target=location_runs,
                args=(loc, scripted.base_url, sentry.dsn, history, "bbbbggg", barrier),
            )
            for loc in DEPTH
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=180)
        assert [p.exitcode for p in processes] == [0] * len(processes)
        (opening,) = _openings(sentry)
    received = _received(scripted)
    where = "breached at ap-south (value = 480) and us-east (value = 500), expected value"
    quorum = "seen from 2 locations, 2 needed within 10 m)"
    slack_opened, slack_resolved = (m["text"] for m in received["/slack"])
    assert where in slack_opened and slack_opened.endswith(quorum)
    assert "recovered" in slack_resolved

    opened, resolved = received["/hook"]  # the default (generic) body
    assert where in opened["text"] and opened["text"].endswith(quorum)
    for hook in (opened, resolved):
        assert hook["locations"] == ["ap-south", "us-east"]
        assert [(s["location"], s["observed"]) for s in hook["seen"]] == [
            ("ap-south", "value = 480"),
            ("us-east", "value = 500"),
        ]
        assert hook["quorum"]["locations"] == 2 and hook["quorum"]["within"] == "10 m"
        assert hook["quorum"]["seen_from"] == 2

    # A template of one's own sees them too (today it cannot render, so nothing is sent).
    assert [(w["event"], w["where"], w["needed"], w["within"]) for w in received["/where"]] == [
        ("opened", ["ap-south", "us-east"], 2, "10 m"),
        ("resolved", ["ap-south", "us-east"], 2, "10 m"),
    ]

    trigger, resolve = received["/pd"]
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    details = trigger["payload"]["custom_details"]
    assert details["locations"] == ["ap-south", "us-east"]
    assert details["quorum"]["text"] == "seen from 2 locations, 2 needed within 10 m"
    assert [s["location"] for s in details["seen"]] == ["ap-south", "us-east"]
    assert where in trigger["payload"]["summary"]

    assert opening["tags"]["locations"] == "ap-south,us-east"
    assert opening["tags"]["quorum"] == "2 within 10 m"
    slo = opening["contexts"]["slo"]
    assert slo["locations"] == ["ap-south", "us-east"]
    assert slo["quorum"]["locations"] == 2
    assert [s["observed"] for s in slo["seen"]] == ["value = 480", "value = 500"]
    assert where in opening["message"]

    assert "eu-west" not in json.dumps(received) + json.dumps(opening)
    openings = [received[route][0] for route in ROUTES] + [opening]
    assert "value = 1," not in json.dumps(openings)  # the healthy run's value (it may open it)
