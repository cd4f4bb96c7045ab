"""Small history: rolled-up runs judge exactly as runs kept in full, and a month fits in 10 MB.

Each comparison records the same runs into two stores and prunes both after every
run, as ``SuiteRun.record`` does: the reference never rolls anything up (its
roll-up policy is infinite), the other one rolls up on a short policy (so a few
dozen runs cross every stage) or on the default one. Every judged verdict — budget,
burn rates, alerts, incident state, the pooled ``over`` verdict — must be equal,
and so must the incidents.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import random
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    insert,
    select,
    update,
)

from sloprobe.codec import measurement_to_dict, verdict_to_dict
from sloprobe.config import LoadedSloFile, load_slo_text
from sloprobe.history import HistoryStore, schema
from sloprobe.history.compact import TRIMMED, RollupPolicy
from sloprobe.history.replay import export_lines, import_lines, load_run
from sloprobe.history.rollup import unpacked
from sloprobe.history.write import write_run
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.over_time import judge_run, outcome_function, pooled_verdict
from sloprobe.model.history import Transition
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.units import Unit

pytestmark = pytest.mark.slow  # hypothesis over months of runs, on SQLite and PostgreSQL

T0 = datetime(2026, 11, 1, 21, 0, tzinfo=UTC)  # three hours before a day boundary
FULL = RollupPolicy(float("inf"), float("inf"))  # the reference: every run kept in full
SHORT = RollupPolicy(full_detail_s=1800, run_by_run_s=3 * 3600)

SUITE = """\
version: 1
service: shop
settings:
  incident: {open_after: 2, resolve_after: 2}
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {json: depth, unit: count}
slos:
  runs:
    probe: queue
    measure: depth
    threshold: max < 100
    warn: max < 50
    objective: 99%
    window: 1d
  events:
    probe: queue
    measure: depth
    threshold: avg < 100
    objective: 95%
    window: 2d
    budgeting: occurrences
    no_data: pass
  pooled:
    probe: queue
    measure: depth
    threshold: p90 < 100
    objective: 90%
    window: 1d
    over: 12h
"""

# A run: g good, w warning, b breach, s a spike (breaches `runs` only), m mixed, n no data.
VALUES = {
    "g": (1.0, 20.0, 3.0),
    "w": (70.0, 60.0, 1.0),
    "b": (500.0, 700.0, 900.0),
    "s": (150.0, 1.0, 1.0),
}


def suite(retention: str | None = None) -> LoadedSloFile:
    text = SUITE
    if retention:
        text = text.replace("settings:\n", f"settings:\n  history: {{retention: {retention}}}\n")
    return load_slo_text(text, "slo.yaml", {})


def measurement(at: datetime, kind: str, samples: int) -> Measurement:
    if kind == "n":
        return Measurement("queue", "http", at, 0.01, missing={"depth": "no jobs in the window"})
    values = (1.0, 500.0, 2.0) if kind == "m" else VALUES[kind]
    series = Series("depth", Unit.COUNT, values[: max(1, samples)])
    return Measurement("queue", "http", at, 0.01, {"depth": series})


def run_result(
    loaded: LoadedSloFile, at: datetime, kind: str, samples: int, name: str
) -> RunResult:
    m = measurement(at, kind, samples)
    spec = loaded.spec
    verdicts = tuple(
        evaluate_slo(slo, s, m, spec.settings.percentile_method) for slo, s in spec.slos.items()
    )
    info = RunInfo(
        name,
        spec.service,
        spec.environment,
        at,
        at + timedelta(seconds=1),
        "0.1.0",
        "slo.yaml",
        None,
    )
    return RunResult(info, verdicts, {"queue": m})


def record(store: HistoryStore, loaded: LoadedSloFile, result: RunResult) -> RunResult:
    """As SuiteRun does: the ``over`` SLO judged on pooled samples, then judged over time,
    stored, and history pruned."""
    spec, at = loaded.spec, result.run.started_at
    with store.view(spec.service, spec.environment) as view:
        pooled = {
            name: view.samples(name, at - timedelta(seconds=s.over))
            for name, s in spec.slos.items()
            if s.over is not None
        }
    m = result.measurements["queue"]
    verdicts = tuple(
        pooled_verdict(v.slo, spec.slos[v.slo], m, pooled[v.slo], spec.settings)
        if v.slo in pooled
        else v
        for v in result.verdicts
    )
    result = dataclasses.replace(result, verdicts=verdicts)
    judged = store.record(
        result, lambda view: judge_run(result, spec, view), outcome_function(result, spec)
    )
    store.prune(at - timedelta(seconds=spec.settings.history.retention))
    return judged


Step = tuple[float, str, int]  # minutes after the previous run, kind, samples


def play(
    stores: Sequence[HistoryStore],
    loaded: LoadedSloFile,
    steps: Sequence[Step],
    start: datetime = T0,
) -> list[list[RunResult]]:
    """The same runs into every store; each store's judged results."""
    results: list[list[RunResult]] = [[] for _ in stores]
    at = start
    for index, (minutes, kind, samples) in enumerate(steps):
        at += timedelta(minutes=minutes)
        result = run_result(loaded, at, kind, samples, f"run-{index}-{at.timestamp():.6f}")
        for found, store in zip(results, stores, strict=True):
            found.append(record(store, loaded, result))
    return results


def incidents(store: HistoryStore) -> list[tuple[Any, ...]]:
    i = schema.incidents
    with store.snapshot() as conn:
        rows = conn.execute(
            select(i.c.slo, i.c.opened_at, i.c.since, i.c.resolved_at, i.c.cause).order_by(i.c.id)
        ).all()
    return [tuple(_utc(v) for v in row) for row in rows]


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def assert_same_judgements(full: list[RunResult], rolled: list[RunResult]) -> None:
    for expected, found in zip(full, rolled, strict=True):
        for a, b in zip(expected.verdicts, found.verdicts, strict=True):
            assert a == b, f"{a.slo} at {expected.run.started_at}: {a.history} != {b.history}"


def rolled_rows(store: HistoryStore) -> int:
    with store.snapshot() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.rollups)).scalar() or 0)


@contextmanager
def two_stores(
    policy: RollupPolicy, rolled_url: str | None = None
) -> Iterator[tuple[HistoryStore, HistoryStore]]:
    with tempfile.TemporaryDirectory() as tmp:
        full = HistoryStore.open(f"sqlite:///{tmp}/full.db")
        full.rollup_policy = FULL
        rolled = HistoryStore.open(rolled_url or f"sqlite:///{tmp}/rolled.db")
        rolled.rollup_policy = policy
        try:
            yield full, rolled
        finally:
            full.dispose()
            rolled.dispose()


# -- equality ----------------------------------------------------------------------------

steps = st.lists(
    st.tuples(
        st.one_of(st.sampled_from([5.0, 5.0, 30.0]), st.floats(1, 400)),
        st.sampled_from("ggggwbsmn"),
        st.integers(1, 3),
    ),
    min_size=5,
    max_size=45,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    steps=steps,
    policy=st.sampled_from([SHORT, RollupPolicy(0, 3600), RollupPolicy(4 * 3600, 2 * 3600)]),
    retention=st.sampled_from([None, "30h"]),
)
def test_rolled_up_history_judges_every_run_as_full_history(
    steps: list[Step], policy: RollupPolicy, retention: str | None
) -> None:
    loaded = suite(retention)
    with two_stores(policy) as (full, rolled):
        expected, found = play([full, rolled], loaded, steps)
        assert_same_judgements(expected, found)
        assert incidents(full) == incidents(rolled)
        newest = found[-1].run.started_at
        kept_since = newest - timedelta(seconds=loaded.spec.settings.history.retention)
        rolled_since = newest - timedelta(seconds=policy.run_by_run_s)
        if any(kept_since <= r.run.started_at < rolled_since for r in found):
            assert rolled_rows(rolled) > 0  # this example did judge against roll-ups


OUTAGE: list[Step] = (  # 50 hours
    [(20.0, "g", 2)] * 30
    + [(5.0, "b", 3)] * 4  # an incident, kept in full
    + [(40.0, "g", 1)] * 20
    + [(10.0, "m", 3), (10.0, "n", 1), (10.0, "w", 2)] * 4
    + [(240.0, "g", 1)] * 6  # sparse runs: windows with few runs
    + [(5.0, "b", 1), (5.0, "g", 1)] * 3
)


def test_budgets_burn_rates_and_incidents_agree_on_both_databases(history_url: str) -> None:
    """The default policy (full detail 1 h, run by run 24 h), on SQLite and PostgreSQL."""
    with two_stores(RollupPolicy(), history_url) as (full, rolled):
        expected, found = play([full, rolled], suite(), OUTAGE)
        assert rolled_rows(rolled) > 0
        assert_same_judgements(expected, found)
        assert incidents(full) == incidents(rolled)
        history = found[-1].verdicts[1].history  # `events`: its 2-day window reaches roll-ups
        assert history is not None and history.budget is not None
        assert history.budget.runs > sum(1 for r in found if r.run.started_at > _day_before(found))
        end = found[-1].run.started_at
        recent_in_full, older_in_full = _points(full, end)
        recent, older = _points(rolled, end)
        assert recent == recent_in_full  # the report's last 24 h: run by run, as in full
        assert 0 < len(older) < len(older_in_full)  # before: a point an hour
        assert "breach" in {p.status for p in older}  # ... that keeps the worst


def _day_before(results: list[RunResult]) -> datetime:
    return results[-1].run.started_at - timedelta(days=1)


def _points(store: HistoryStore, end: datetime) -> tuple[list[Any], list[Any]]:
    points = store.timeline("shop", "production", end - timedelta(days=3))["runs"]
    day = end - timedelta(days=1)
    return [p for p in points if p.at > day], [p for p in points if p.at <= day]


# -- what is kept ------------------------------------------------------------------------


def test_breached_runs_keep_full_detail_and_others_are_rolled_up(tmp_path: Path) -> None:
    """With full detail for 30 minutes and run by run for 3 hours (SHORT, for speed)."""
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'h.db'}")
    store.rollup_policy = SHORT
    loaded = suite()
    pattern: list[Step] = [(5.0, "g", 1)] * 40 + [(5.0, "b", 1)] + [(5.0, "g", 1)] * 40
    (results,) = play([store], loaded, pattern)
    breached, good, light, recent = results[40], results[10], results[60], results[-1]
    kept = load_run(store, breached.run.run_id)
    assert kept is not None
    assert [v.slo for v in kept.verdicts] == ["runs", "events"]  # `pooled` held over 12 h
    assert all(v.history is not None and v.checks for v in kept.verdicts)  # as judged then
    assert kept.verdicts == tuple(v for v in breached.verdicts if v.counts_as_bad)
    assert kept.measurements == breached.measurements  # the probe behind them, whole
    assert load_run(store, good.run.run_id) is None  # rolled up: only its outcome remains
    lightened = load_run(store, light.run.run_id)  # run by run, without its detail
    assert lightened is not None and not lightened.measurements
    assert [v.status for v in lightened.verdicts] == [v.status for v in light.verdicts]
    assert all(v.history is None for v in lightened.verdicts)
    assert load_run(store, recent.run.run_id) == dataclasses.replace(recent, timeline={})
    with store.snapshot() as conn:
        states: dict[str | None, int] = dict(
            conn.execute(
                select(schema.runs.c.detail, func.count()).group_by(schema.runs.c.detail)
            ).all()
        )
        probe_runs = conn.execute(select(func.count()).select_from(schema.measurements)).scalar()
    assert states == {None: 7, "light": 30, "rolled": 1}  # 30 min, 3 h, the breach
    assert probe_runs == 7 + 30 + 1  # `every` and `max_per_day` still see that the probe ran
    before = _contents(store)
    store.prune(recent.run.started_at - timedelta(days=30))
    assert _contents(store) == before  # idempotent: a second prune changes nothing
    store.dispose()


def _contents(store: HistoryStore) -> dict[str, list[Any]]:
    with store.snapshot() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(select(table))]
            for table in schema.metadata.sorted_tables
        }


def test_a_run_with_a_notice_to_deliver_is_rolled_up_only_once_delivered(tmp_path: Path) -> None:
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'h.db'}")
    store.rollup_policy = SHORT
    loaded = suite()
    pattern: list[Step] = [(5.0, "g", 3)] * 20 + [(5.0, "s", 3)] * 2 + [(5.0, "g", 3)] * 2
    (results,) = play([store], loaded, pattern)
    opened = results[21]  # the second spike opens an incident of `runs`
    history = opened.verdicts[0].history
    assert history is not None and history.incident.transition is Transition.OPENED
    incident_id = history.incident.incident_id
    n = schema.notifications
    with store.engine.begin() as conn:
        conn.execute(
            insert(n).values(
                incident_id=incident_id,
                service="shop",
                environment="production",
                slo="runs",
                channel="sentry",
                kind="opened",
                notice_key="k",
                at=opened.run.started_at,
                attempts=0,
            )
        )
    play([store], loaded, [(30.0, "g", 1)] * 12, start=results[-1].run.started_at)
    replayed = load_run(store, opened.run.run_id)
    assert replayed is not None and len(replayed.verdicts) == 3  # every verdict, for the notice
    with store.engine.begin() as conn:
        conn.execute(update(n).values(delivered_at=opened.run.started_at))
    play([store], loaded, [(30.0, "g", 1)], start=results[-1].run.started_at + timedelta(hours=6))
    replayed = load_run(store, opened.run.run_id)
    assert replayed is not None and [v.slo for v in replayed.verdicts] == ["runs"]  # what breached
    store.dispose()


def test_only_slos_judged_over_history_keep_their_samples_rolled_up(tmp_path: Path) -> None:
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'h.db'}")
    store.rollup_policy = SHORT
    play([store], suite(), [(10.0, "g", 3)] * 30)
    u = schema.rollups
    with store.snapshot() as conn:
        rows = conn.execute(select(u.c.slo, u.c.samples)).all()
    samples: dict[str, list[Any]] = {}
    for slo, packed in rows:
        samples.setdefault(slo, []).extend(unpacked(packed))
    assert samples["pooled"] and all(s == [1.0, 20.0, 3.0] for s in samples["pooled"])  # `over`
    assert all(s == [] for s in samples["runs"] + samples["events"])  # kept a day, run by run
    store.dispose()


def test_an_unreadable_roll_up_is_a_history_error_not_a_crash(tmp_path: Path) -> None:
    from sloprobe.history import HistoryError

    store = HistoryStore.open(f"sqlite:///{tmp_path / 'h.db'}")
    store.rollup_policy = SHORT
    loaded = suite()
    (results,) = play([store], loaded, [(10.0, "g", 1)] * 30)
    with store.engine.begin() as conn:
        conn.execute(update(schema.rollups).values(outcomes=b"not a roll-up"))
    at = results[-1].run.started_at + timedelta(minutes=5)
    with pytest.raises(HistoryError, match="roll-up row is unreadable"):
        record(store, loaded, run_result(loaded, at, "g", 1, "next"))
    later = run_result(loaded, at + timedelta(hours=1), "g", 1, "later")  # rolls one more up
    store.record(later, lambda view: later, outcome_function(later, loaded.spec))
    with pytest.raises(HistoryError, match="roll-up row is unreadable"):
        store.prune(at - timedelta(days=30))
    store.dispose()


# -- concurrency -------------------------------------------------------------------------


def _writer(url: str, offset: int, count: int) -> None:
    store = HistoryStore.open(url)
    store.rollup_policy = RollupPolicy(0, 3600)
    loaded = suite()
    for index in range(count):
        at = T0 + timedelta(minutes=10 * (offset + 2 * index))
        kind = "b" if index % 7 == 3 else "g"
        record(store, loaded, run_result(loaded, at, kind, 1, f"w{offset}-{index}"))
    store.dispose()


def test_two_writers_rolling_up_at_once_lose_no_run(history_url: str) -> None:
    HistoryStore.open(history_url).dispose()
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(history_url, offset, 20)) for offset in (0, 1)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    store = HistoryStore.open(history_url)
    end = T0 + timedelta(minutes=10 * 40)
    with store.view("shop", "production") as view:
        outcomes = view.outcomes("runs", T0 - timedelta(days=1))
        totals = view.window_totals("runs", T0 - timedelta(days=1), end)
    assert rolled_rows(store) > 0
    expected = [T0 + timedelta(minutes=10 * k) for k in range(40)]
    assert [o.at for o in outcomes] == expected  # each run once, in order, rolled up or not
    assert (totals.runs, totals.bad_runs) == (40, 2 * len(range(3, 20, 7)))
    store.dispose()


# -- migration ---------------------------------------------------------------------------


def version_1_tables() -> MetaData:
    """The tables as sloprobe wrote them before roll-ups (schema version 1)."""
    m = MetaData()
    Table(
        "sloprobe_meta",
        m,
        Column("key", String(64), primary_key=True),
        Column("value", String(200), nullable=False),
    )
    Table(
        "sloprobe_runs",
        m,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("run_id", String(64), nullable=False, unique=True),
        *(Column(c, String(100), nullable=False) for c in ("service", "environment")),
        *(
            Column(c, DateTime(timezone=True), nullable=False)
            for c in ("started_at", "finished_at")
        ),
        Column("trigger", String(50), nullable=False),
        Column("release", String(200)),
        # Version 3's column, only so today's writer can fill these tables; adding it to an
        # older history is tested in tests/plugin/test_location.py.
        Column("location", String(100)),
        Column("sloprobe_version", String(50), nullable=False),
        Column("status", String(16), nullable=False),
        *(Column(c, Text) for c in ("base_url", "slo_file", "warnings")),
        Index("ix_sloprobe_runs_service_time", "service", "environment", "started_at"),
    )
    Table(
        "sloprobe_verdicts",
        m,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "run_pk", Integer, ForeignKey("sloprobe_runs.id", ondelete="CASCADE"), nullable=False
        ),
        *(Column(c, String(100), nullable=False) for c in ("service", "environment", "slo")),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("status", String(16), nullable=False),
        *(Column(c, Boolean, nullable=False) for c in ("counts_as_bad", "counted")),
        *(Column(c, Integer, nullable=False) for c in ("good_events", "total_events")),
        Column("observed", Text, nullable=False),
        *(Column(c, Float) for c in ("observed_value", "budget_remaining")),
        *(Column(c, Text, nullable=False) for c in ("threshold", "reason")),
        Column("transition", String(16)),
        Column("incident_id", Integer),
        *(Column(c, Text) for c in ("samples", "summary")),
        Index("ix_sloprobe_verdicts_slo_time", "service", "environment", "slo", "at"),
    )
    Table(
        "sloprobe_measurements",
        m,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "run_pk",
            Integer,
            ForeignKey("sloprobe_runs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        Column("probe", String(100), nullable=False),
        Column("kind", String(30), nullable=False),
        Column("failure", Text),
        Column("data", Text, nullable=False),
    )
    Table(
        "sloprobe_incidents",
        m,
        Column("id", Integer, primary_key=True, autoincrement=True),
        *(Column(c, String(100), nullable=False) for c in ("service", "environment", "slo")),
        Column("opened_at", DateTime(timezone=True), nullable=False),
        *(Column(c, DateTime(timezone=True)) for c in ("since", "resolved_at")),
        Column("cause", Text, nullable=False),
    )
    Table(
        "sloprobe_notifications",
        m,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "incident_id",
            Integer,
            ForeignKey("sloprobe_incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        *(Column(c, String(100), nullable=False) for c in ("service", "environment", "slo")),
        Column("channel", String(30), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("notice_key", String(64), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("delivered_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, default=0),
        Column("detail", Text),
    )
    return m


def test_a_version_1_history_is_migrated_and_judges_on_exactly(history_url: str) -> None:
    loaded = suite()
    first: list[Step] = [(20.0, "g", 1)] * 40 + [(5.0, "b", 2)] * 4 + [(30.0, "g", 1)] * 30
    then: list[Step] = [(5.0, "g", 1)] * 10 + [(5.0, "b", 1)] * 3 + [(5.0, "g", 1)] * 10
    old = create_engine(history_url)
    version_1_tables().create_all(old)
    with two_stores(RollupPolicy(), None) as (full, _):
        (reference,) = play([full], loaded, first)
        with old.begin() as conn:  # what sloprobe 1 left: every run in full
            conn.execute(insert(schema.meta).values(key="schema_version", value="1"))
            for judged in reference:
                write_run(conn, judged, outcome_function(judged, loaded.spec))
        old.dispose()
        migrated = HistoryStore.open(history_url)
        with migrated.snapshot() as conn:
            version = conn.execute(select(schema.meta.c.value)).scalar()
        assert version == str(schema.SCHEMA_VERSION)
        last = reference[-1].run.started_at
        expected, found = play([full, migrated], loaded, then, start=last)
        assert rolled_rows(migrated) > 0  # the first prune rolled the old runs up
        assert_same_judgements(expected, found)
        assert incidents(full) == incidents(migrated)
        migrated.dispose()


def test_a_newer_history_is_refused_unchanged(tmp_path: Path) -> None:
    from sloprobe.history import HistoryError

    url = f"sqlite:///{tmp_path / 'h.db'}"
    HistoryStore.open(url).dispose()
    with sqlite3.connect(tmp_path / "h.db") as db:
        db.execute("UPDATE sloprobe_meta SET value = '99'")
    with pytest.raises(HistoryError, match="schema version 99"):
        HistoryStore.open(url)


# -- moving history ----------------------------------------------------------------------


def test_export_and_import_carry_rolled_up_runs_once(tmp_path: Path) -> None:
    loaded = suite()
    pattern: list[Step] = [(10.0, "g", 2)] * 30 + [(5.0, "b", 1)] * 3 + [(40.0, "m", 3)] * 25
    with two_stores(SHORT) as (full, rolled):
        play([full, rolled], loaded, pattern)
        lines = list(export_lines(rolled))
        assert any('"rollup"' in line for line in lines)
        copy = HistoryStore.open(f"sqlite:///{tmp_path / 'copy.db'}")
        copy.rollup_policy = SHORT
        added, _ = import_lines(copy, lines)
        again = import_lines(copy, lines)
        assert again == (0, added)  # nothing twice, rolled up or not
        start = T0 + sum((timedelta(minutes=m) for m, _, _ in pattern), timedelta())
        expected, found = play([full, copy], loaded, [(5.0, "b", 1), (5.0, "g", 3)], start=start)
        assert_same_judgements(expected, found)
        copy.dispose()


# -- retention ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "days"),
    [
        ("", 3 + 7),  # no objective: the longest burn-rate window, plus a week
        ("    objective: 99%\n", 30 + 7),  # the default 30-day window
        ("    objective: 99%\n    window: 90d\n", 90 + 7),
        ("    over: 14d\n", 14 + 7),
    ],
    ids=["no-objective", "default-window", "90d-window", "over"],
)
def test_retention_defaults_to_the_longest_window_plus_a_week(extra: str, days: int) -> None:
    text = "version: 1\nservice: s\nprobes:\n  p:\n    http:\n      path: /\nslos:\n  a:\n    probe: p\n    measure: latency\n    threshold: p95 < 1s\n"
    assert load_slo_text(text + extra).spec.settings.history.retention == days * 86400
    explicit = text.replace("probes:", "settings:\n  history: {retention: 2d}\nprobes:")
    assert load_slo_text(explicit + extra).spec.settings.history.retention == 2 * 86400


# -- size --------------------------------------------------------------------------------

SLOS = 20


def month_suite() -> LoadedSloFile:
    lines = ["version: 1", "service: jobs", "probes:"]
    for p in range(SLOS // 2):
        lines += [
            f"  api-{p}:",
            "    http:",
            f"      path: /area/{p}",
            "      samples: 5",
            "      values:",
            "        depth: {json: depth, unit: count}",
        ]
    lines.append("slos:")
    for p in range(SLOS // 2):
        for measure, threshold in (("latency", "p95 < 300ms"), ("depth", "value < 100")):
            lines += [
                f"  api-{p}-{measure}:",
                f"    probe: api-{p}",
                f"    measure: {measure}",
                f"    threshold: {threshold}",
                "    objective: 99.5%",
            ]
    return load_slo_text("\n".join(lines) + "\n", "slo.yaml", {})


def test_a_month_of_five_minute_runs_of_twenty_slos_fits_in_ten_megabytes(tmp_path: Path) -> None:
    """30 days × 288 runs × 20 SLOs, a day at a time, each day followed by the prune every
    run does; then the file's size. The last day is written as recorded (each verdict's
    judged summary, each probe's measurement); to keep this test quick, earlier days are
    written as the prune after each of their runs left them an hour later (the judged
    summary and the measurement only where a verdict breached; "it ran" of the others).
    bench/bench_history_size.py records such a month run by run."""
    loaded = month_suite()
    rng = random.Random(5)
    path = tmp_path / "month.db"
    store = HistoryStore.open(f"sqlite:///{path}")
    summaries, measurements = _template(loaded)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    bad = 0
    for day in range(30):
        runs: list[tuple[Any, ...]] = []
        verdicts: list[tuple[Any, ...]] = []
        probes: list[tuple[Any, ...]] = []
        for index in range(day * 288, (day + 1) * 288):
            at = start + timedelta(minutes=5 * index, microseconds=rng.randrange(1, 3_000_000))
            rows = (runs, verdicts, probes)
            bad += _month_rows(index + 1, at, rng, summaries, measurements, rows, day == 29)
        with sqlite3.connect(path) as db:  # in bulk: the rows sloprobe's record writes
            db.executemany(f"INSERT INTO sloprobe_runs {_RUN_COLUMNS}", runs)
            db.executemany(f"INSERT INTO sloprobe_verdicts {_VERDICT_COLUMNS}", verdicts)
            db.executemany(f"INSERT INTO sloprobe_measurements {_PROBE_COLUMNS}", probes)
        store.prune(at - timedelta(seconds=loaded.spec.settings.history.retention))
    store.dispose()
    with sqlite3.connect(path) as db:
        db.execute("VACUUM")  # the content, without the pages a day in one batch left free
        states = dict(db.execute("SELECT detail, count(*) FROM sloprobe_runs GROUP BY detail"))
        kept = db.execute("SELECT count(*) FROM sloprobe_verdicts WHERE rolled_up").fetchone()
        rolled = db.execute("SELECT count(*), sum(runs), sum(bad_runs) FROM sloprobe_rollups")
        days, runs_rolled, bad_rolled = rolled.fetchone()
    size = path.stat().st_size
    assert (days, runs_rolled) == (29 * SLOS, 29 * 288 * SLOS)  # every run of 29 days, once
    assert states[None] + states["light"] == 288  # the last day, run by run
    assert kept == (bad_rolled,)  # what breached, kept in full
    assert 0 < bad_rolled < bad
    assert size <= 10 * 1024 * 1024, f"{size / 1024 / 1024:.2f} MiB"


_RUN_COLUMNS = (
    "(id, run_id, service, environment, started_at, finished_at, trigger, sloprobe_version,"
    " status, base_url, slo_file, warnings, detail) VALUES (?, ?, 'jobs', 'production', ?, ?,"
    " 'schedule', '0.1.0', ?, 'https://jobs.example.com', 'slo.yaml', '[]', ?)"
)
_VERDICT_COLUMNS = (
    "(run_pk, service, environment, slo, at, status, counts_as_bad, counted, good_events,"
    " total_events, observed, observed_value, budget_remaining, threshold, reason, samples,"
    " summary) VALUES (?, 'jobs', 'production', ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PROBE_COLUMNS = "(run_pk, probe, kind, data) VALUES (?, ?, 'http', ?)"


def _month_rows(
    run_pk: int,
    at: datetime,
    rng: random.Random,
    summaries: dict[str, str],
    measurements: dict[str, str],
    rows: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]],
    recorded: bool,
) -> int:
    """One run's rows, as SQLite holds them; returns how many of its verdicts breached."""
    runs, verdicts, probes = rows
    when = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    bad = {f"api-{rng.randrange(SLOS // 2)}-depth"} if rng.random() < 0.02 else set()
    state = None if recorded else "light"
    runs.append((run_pk, f"run-{run_pk}", when, when, "breach" if bad else "ok", state))
    for slo, summary in summaries.items():
        latency = slo.endswith("latency")
        samples = (
            [abs(rng.gauss(0.03, 0.01)) for _ in range(5)]
            if latency
            else [float(rng.randint(0, 40))]
        )
        breached = slo in bad
        verdicts.append(
            (
                run_pk,
                slo,
                when,
                "breach" if breached else "ok",
                breached,
                0 if breached else len(samples),
                len(samples),
                f"p95 = {max(samples) * 1000:.2f}ms" if latency else f"value = {samples[0]:.0f}",
                max(samples),
                rng.uniform(0.5, 1.0),
                "p95 < 300ms" if latency else "value < 100",
                "value = 180 breaches value < 100" if breached else "all thresholds met",
                json.dumps(samples),
                summary if recorded or breached else None,
            )
        )
    behind = {slo.rsplit("-", 1)[0] for slo in bad}
    probes.extend(
        (run_pk, name, data if recorded or name in behind else TRIMMED)
        for name, data in measurements.items()
    )
    return len(bad)


def _template(loaded: LoadedSloFile) -> tuple[dict[str, str], dict[str, str]]:
    """One judged run of the month suite: each verdict's summary, each probe's measurement."""
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore.open(f"sqlite:///{tmp}/t.db")
        result = _month_result(loaded, datetime(2026, 9, 1, tzinfo=UTC), random.Random(1))
        judged = store.record(
            result,
            lambda view: judge_run(result, loaded.spec, view),
            outcome_function(result, loaded.spec),
        )
        store.dispose()
    return (
        {v.slo: json.dumps(verdict_to_dict(v)) for v in judged.verdicts},
        {name: json.dumps(measurement_to_dict(m)) for name, m in judged.measurements.items()},
    )


def _month_result(loaded: LoadedSloFile, at: datetime, rng: random.Random) -> RunResult:
    measurements = {}
    for p in range(SLOS // 2):
        latency = tuple(abs(rng.gauss(0.03, 0.01)) for _ in range(5))
        measurements[f"api-{p}"] = Measurement(
            f"api-{p}",
            "http",
            at,
            0.2,
            {
                "latency": Series("latency", Unit.S, latency),
                "status": Series("status", Unit.NONE, (200.0,) * 5),
                "depth": Series("depth", Unit.COUNT, (float(rng.randint(0, 40)),)),
            },
            attempts=5,
            excerpt='{"depth": 12, "processing": 3, "workers": 2, "succeeded_24h": 1042, "failed_24h": 3}',
            details={"request": f"GET https://jobs.example.com/area/{p}", "last status": "200"},
            trace_id=f"{rng.getrandbits(128):032x}",
        )
    spec = loaded.spec
    verdicts = tuple(
        evaluate_slo(n, s, measurements[s.probe], spec.settings.percentile_method)
        for n, s in spec.slos.items()
    )
    info = RunInfo(
        f"r{at.timestamp()}", spec.service, spec.environment, at, at, "0.1.0", "slo.yaml", None
    )
    return RunResult(info, verdicts, measurements)
