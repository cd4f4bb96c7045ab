"""The real sentry-sdk against a real local endpoint: one event per incident, a check-in pair per run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sloprobe.config import LoadedSloFile, load_slo_text
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunResult
from sloprobe.model.units import Unit
from sloprobe.plugin.suite_run import SuiteRun
from tests.history.simulation import STEP, T0
from tests.support.fake_sentry import fake_sentry

CANARY = "canary-s3cret-value-42"

SUITE = """\
version: 1
service: shop
target:
  base_url: http://127.0.0.1:9
  headers: {{Authorization: "Bearer {canary}"}}
  auth: {{bearer: "{canary}"}}
settings:
  sentry:
    dsn: "{dsn}"
    recovery: {recovery}
    flush_timeout: 2s
  incident: {{open_after: 3, resolve_after: 2}}
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
    objective: 99%
    runbook: https://runbooks.example/depth
"""


def suite(dsn: str, recovery: bool = False) -> LoadedSloFile:
    text = SUITE.format(dsn=dsn, recovery=str(recovery).lower(), canary=CANARY)
    return load_slo_text(text, "slo.yaml", {})


def one_run(loaded: LoadedSloFile, history: str, index: int, value: float) -> RunResult:
    """What the plugin does in one scheduled run, with the clock injected."""
    run = SuiteRun(
        loaded, history_option=history, started_at=T0 + index * STEP, run_id=f"run-{index}"
    )
    run.start_notifiers()
    run.measurements["queue"] = Measurement(
        "queue",
        "http",
        run.started_at,
        0.01,
        {"depth": Series("depth", Unit.COUNT, (value,))},
        excerpt=f'{{"depth": {value}, "debug": "token {CANARY}"}}',
    )
    run.judge("depth")
    return run.record(run.result())


@pytest.mark.parametrize("recovery", [False, True])
def test_one_opening_per_incident_and_a_checkin_pair_per_run(
    tmp_path: Path, recovery: bool
) -> None:
    history = str(tmp_path / "h.db")
    with fake_sentry() as sentry:
        loaded = suite(sentry.dsn, recovery)
        results = [one_run(loaded, history, i, 500.0 if i < 10 else 1.0) for i in range(24)]
        time.sleep(0.2)
    events = list(sentry.unique_events().values())
    openings = [e for e in events if e["tags"]["transition"] == "opened"]
    assert len(openings) == 1
    opening = openings[0]
    assert (
        opening["message"]
        == "SLO depth breached: value = 500, expected value < 100 (2 bad runs, since 00:00 UTC)"
    )
    assert opening["level"] == "error"  # opened by the page burn-rate alert on the 2nd bad run
    assert opening["fingerprint"] == ["sloprobe", "shop", "production", "depth"]
    assert opening["contexts"]["slo"]["runbook"] == "https://runbooks.example/depth"
    assert opening["environment"] == "production"
    recoveries = [e for e in events if e["tags"]["transition"] == "resolved"]
    assert len(recoveries) == (1 if recovery else 0)
    if recovery:
        assert recoveries[0]["level"] == "info"
        assert recoveries[0]["fingerprint"][-1] == "recovered"
    # one in_progress and one ok check-in per run, paired by id
    assert len(sentry.checkins) == 48
    by_id: dict[str, list[str]] = {}
    for checkin in sentry.checkins:
        by_id.setdefault(checkin["check_in_id"], []).append(checkin["status"])
    assert sorted(by_id.values()) == [["in_progress", "ok"]] * 24
    assert sentry.checkins[0]["monitor_slug"] == "shop-production-sloprobe"
    assert sentry.checkins[0]["monitor_config"]["schedule"] == {
        "type": "crontab",
        "value": "*/5 * * * *",
    }
    assert all(not r.warnings for r in results)


def test_canary_secret_reaches_no_event(tmp_path: Path) -> None:
    with fake_sentry() as sentry:
        loaded = suite(sentry.dsn)
        for i in range(3):
            one_run(loaded, str(tmp_path / "h.db"), i, 500.0)
    assert sentry.events, "an opening was expected"
    everything = b"".join(sentry.raw).decode()
    assert CANARY not in everything
    assert "publickey0123456789" not in json.dumps(sentry.events)


def test_a_refused_opening_is_delivered_next_run(tmp_path: Path) -> None:
    history = str(tmp_path / "h.db")
    with fake_sentry() as sentry:
        loaded = suite(sentry.dsn)
        one_run(loaded, history, 0, 500.0)
        sentry.mode = "429"
        refused = one_run(loaded, history, 1, 500.0)  # opens the incident; Sentry says 429
        assert any("not delivered" in w for w in refused.warnings)
        assert refused.verdicts[0].status.value == "breach"
        assert not [e for e in sentry.events if e["tags"]["transition"] == "opened"]
        sentry.mode = "ok"
        one_run(loaded, history, 3, 500.0)
        one_run(loaded, history, 4, 500.0)
    openings = [e for e in sentry.events if e["tags"]["transition"] == "opened"]
    assert len(openings) == 1  # delivered on the next run, and only once


def test_a_redelivered_opening_carries_its_own_runs_data(tmp_path: Path) -> None:
    history = str(tmp_path / "h.db")
    with fake_sentry() as sentry:
        loaded = suite(sentry.dsn)
        one_run(loaded, history, 0, 500.0)
        sentry.mode = "429"
        one_run(loaded, history, 1, 500.0)  # opens the incident; Sentry says 429
        sentry.mode = "ok"
        one_run(loaded, history, 3, 7.0)  # a good run delivers the opening
    (opening,) = [e for e in sentry.events if e["tags"]["transition"] == "opened"]
    assert opening["tags"]["status"] == "breach"
    text = json.dumps(opening)
    assert "value = 500" in text
    assert "value = 7" not in text


def test_a_crash_between_sending_and_recording_sends_the_same_event_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = str(tmp_path / "h.db")
    with fake_sentry() as sentry:
        loaded = suite(sentry.dsn)
        one_run(loaded, history, 0, 500.0)
        from sloprobe.history.store import HistoryStore
        from sloprobe.notify import deliver

        monkeypatch.setattr(
            HistoryStore, "mark_notice", lambda *a, **k: None
        )  # the run dies before recording
        monkeypatch.setattr(deliver, "CLAIM_LEASE_S", 0.0)  # and its claim has run out since
        one_run(loaded, history, 1, 500.0)
        monkeypatch.undo()
        one_run(loaded, history, 3, 500.0)
    openings = [e for e in sentry.events if e["tags"]["transition"] == "opened"]
    assert len(openings) == 2  # sent twice ...
    assert len({e["event_id"] for e in openings}) == 1  # ... as one event, which Sentry keeps once


@pytest.mark.slow  # waits out the flush bound on purpose
@pytest.mark.parametrize("mode", ["down", "slow", "429"])
def test_a_failing_sentry_does_not_fail_the_run(tmp_path: Path, mode: str) -> None:
    with fake_sentry() as sentry:
        dsn = sentry.dsn
        sentry.mode = "slow" if mode == "slow" else ("429" if mode == "429" else "ok")
        if mode == "down":
            dsn = dsn.rsplit(":", 1)[0] + ":9/42"
        loaded = suite(dsn)
        start = time.monotonic()
        results = [one_run(loaded, str(tmp_path / "h.db"), i, 500.0) for i in range(3)]
        elapsed = time.monotonic() - start
    assert elapsed < 3 * (2 + 1.5)  # each run ends within its flush bound
    assert [r.verdicts[0].status.value for r in results] == ["breach"] * 3
    assert any("not delivered" in w for w in results[-1].warnings)


def test_history_remembers_delivery(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    with fake_sentry() as sentry:
        loaded = suite(sentry.dsn)
        for i in range(3):
            one_run(loaded, str(tmp_path / "h.db"), i, 500.0)
    engine = create_engine(f"sqlite:///{tmp_path / 'h.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT channel, kind, delivered_at IS NOT NULL FROM sloprobe_notifications")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("sentry", "opened", 1)]


def test_a_broken_slo_file_sends_an_error_checkin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_sentry() as sentry:
        monkeypatch.setenv("SENTRY_DSN", sentry.dsn)
        monkeypatch.setenv("SLOPROBE_MONITOR_SLUG", "shop-probe")
        pytester.makefile(".yaml", slo="version: 1\nservice: shop\nprobes: {}\nslos: {}\n")
        result = pytester.runpytest()
        time.sleep(0.2)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [(c["monitor_slug"], c["status"]) for c in sentry.checkins] == [("shop-probe", "error")]
