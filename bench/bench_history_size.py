"""History size: 30 days of five-minute runs × 20 SLOs in SQLite, and the time to record a run on it.

``python bench/bench_history_size.py [--days N] [--quick | --small] [--update-results]``;
``bench/run.py`` runs it too.

A month is recorded as production records it — each run judged, stored, then
pruned (which rolls old runs up, docs/history.md) — with runs shaped like the
default suite's: ten HTTP probes (five latency samples, a JSON excerpt, request
details, a trace id), each behind two SLOs with an objective, so every verdict
carries a budget and burn rates. A run is judged by the real judge against an
in-memory copy of its past (judging against the store itself is what the timed
part measures, and what tests/history/test_rollup.py holds equal to full
history), which keeps the month to a few minutes.

The timed part records one more run on the month — judged against the stored
history, written, pruned, as ``SuiteRun.record`` does — against the same on an
empty history in the same process (the baseline).
"""

from __future__ import annotations

import argparse
import bisect
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import FULL, ROOT, Mode, add_mode_options, mode_of, on_path, table, update_results

on_path(ROOT / "src")

SLOS = 20
PROBES = 10
STEP = timedelta(minutes=5)
GOAL_BYTES = 10 * 1024 * 1024
TITLE = "History size: 30 days of five-minute runs × 20 SLOs"
HEADING = "### History size:"


def suite_text() -> str:
    lines = ["version: 1", "service: bench-jobs", "probes:"]
    for p in range(PROBES):
        lines += [
            f"  api-{p}:",
            "    http:",
            f"      path: /admin/area-{p}/stats",
            "      samples: 5",
            "      values:",
            "        depth: {json: queue_depth, unit: count}",
        ]
    lines.append("slos:")
    for p in range(PROBES):
        lines += [
            f"  api-{p}-latency:",
            f"    description: Area {p} answers fast.",
            f"    probe: api-{p}",
            "    measure: latency",
            "    threshold: p95 < 300ms",
            "    warn: p95 < 150ms",
            "    objective: 99.5%",
            "    window: 30d",
            "    budgeting: occurrences" if p % 2 else "    budgeting: timeslices",
            f"  api-{p}-depth:",
            f"    description: Jobs of area {p} do not pile up.",
            f"    probe: api-{p}",
            "    measure: depth",
            "    threshold: value < 100",
            "    warn: value < 50",
            "    objective: 99.9%",
            "    window: 30d",
        ]
    return "\n".join(lines) + "\n"


class Month:
    """Runs shaped like production's: mostly healthy, some flaky breaches, two incidents."""

    def __init__(self, loaded: Any, start: datetime, seed: int = 7) -> None:
        self.loaded = loaded
        self.start = start
        self.rng = random.Random(seed)

    def measurement(self, probe: int, at: datetime, index: int) -> Any:
        from sloprobe.model.measurement import Measurement, Series
        from sloprobe.model.units import Unit

        rng = self.rng
        day = (at - self.start).days
        slow = day == 20 and probe < 5 and 140 <= index % 288 < 146  # 30 slow minutes, five areas
        down = day == 10 and probe in (3, 4) and 100 <= index % 288 < 112  # an hour's outage
        flaky = rng.random() < 0.001
        latency = tuple(  # full-precision floats, as perf_counter differences are
            rng.uniform(0.4, 0.9) if slow or (flaky and k == 0) else abs(rng.gauss(0.03, 0.01))
            for k in range(5)
        )
        depth = float(rng.randint(0, 40) if not (flaky and rng.random() < 0.5) else 180)
        details = {
            "request": f"GET https://jobs.example.com/admin/area-{probe}/stats",
            "last status": "503" if down else "200",
            "scheduled": "first, with 9 other probes that time requests, at most 8 at once",
        }
        body = (
            f'{{"queue_depth":{int(depth)},"processing":{rng.randint(0, 5)},'
            f'"workers_active":{rng.randint(1, 4)},"succeeded_24h":{rng.randint(900, 1200)},'
            f'"failed_24h":{rng.randint(0, 9)},"oldest_waiting_s":{rng.uniform(0, 30):.1f}}}'
        )
        return Measurement(
            f"api-{probe}",
            "http",
            at,
            sum(latency),
            {
                "latency": Series("latency", Unit.S, latency),
                "status": Series("status", Unit.NONE, (503.0 if down else 200.0,) * 5),
                "ok": Series("ok", Unit.BOOLEAN, (not down,) * 5),
                "depth": Series("depth", Unit.COUNT, (depth,)),
            },
            failure="answered 503 Service Unavailable" if down else None,
            attempts=5,
            excerpt=body,
            details=details,
            trace_id=f"{rng.getrandbits(128):032x}",
        )

    def result(self, index: int) -> Any:
        from sloprobe.judge.evaluate import evaluate_slo
        from sloprobe.model.result import RunInfo, RunResult

        at = self.start + index * STEP + timedelta(microseconds=self.rng.randrange(1, 4_000_000))
        spec = self.loaded.spec
        measurements = {f"api-{p}": self.measurement(p, at, index) for p in range(PROBES)}
        verdicts = tuple(
            evaluate_slo(name, slo, measurements[slo.probe], spec.settings.percentile_method)
            for name, slo in spec.slos.items()
        )
        info = RunInfo(
            f"{index:06d}{self.rng.getrandbits(24):06x}",
            spec.service,
            spec.environment,
            at,
            at + timedelta(seconds=1.3),
            "0.1.0",
            "slo.yaml",
            "https://jobs.example.com",
            "schedule",
            "2026.11.1",
        )
        return RunResult(info, verdicts, measurements)


class Remembered:
    """The judge's view of the past, in memory: what a store in full would answer."""

    def __init__(self) -> None:
        self.runs: dict[str, list[Any]] = {}
        self.counted: dict[str, list[tuple[datetime, int, int, int]]] = {}  # at, cumulative sums
        self.incidents: dict[str, Any] = {}

    def outcomes(self, slo: str, since: datetime) -> list[Any]:
        runs = self.runs.get(slo, [])
        return runs[bisect.bisect_right(runs, since, key=lambda o: o.at) :]

    def open_incident(self, slo: str) -> Any:
        return self.incidents.get(slo)

    def window_totals(self, slo: str, since: datetime, before: datetime) -> Any:
        from sloprobe.model.history import WindowTotals

        sums = self.counted.get(slo, [])
        first = bisect.bisect_right(sums, since, key=lambda s: s[0])
        last = bisect.bisect_left(sums, before, key=lambda s: s[0])
        if last <= first:
            return WindowTotals()
        base = sums[first - 1][1:] if first else (0, 0, 0)
        end = sums[last - 1][1:]
        bad, good, total = (end[k] - base[k] for k in range(3))
        return WindowTotals(last - first, bad, good, total, sums[first][0])

    def add(self, judged: Any, outcome: Any) -> None:
        from sloprobe.model.history import OpenIncident

        for verdict in judged.verdicts:
            o = outcome(verdict)
            self.runs.setdefault(verdict.slo, []).append(o)
            if o.counted:
                sums = self.counted.setdefault(verdict.slo, [])
                bad, good, total = sums[-1][1:] if sums else (0, 0, 0)
                sums.append((o.at, bad + o.bad, good + o.good_events, total + o.total_events))
            state = verdict.history.incident
            if state.open and state.incident_id is not None:
                self.incidents[verdict.slo] = OpenIncident(
                    state.incident_id, state.opened_at, state.cause or ""
                )
            else:
                self.incidents.pop(verdict.slo, None)


def fill(store: Any, month: Month, runs: int, retention: float, progress: bool) -> Remembered:
    """Record ``runs`` five-minute runs as production does (judge, store, prune); returns their past."""
    from sloprobe.judge.over_time import judge_run, outcome_function

    past = Remembered()
    spec = month.loaded.spec
    at = month.start
    for index in range(runs):
        result = month.result(index)
        at = result.run.started_at
        judged = judge_run(result, spec, past)
        outcome = outcome_function(result, spec)
        stored = store.record(result, lambda view, judged=judged: judged, outcome)
        past.add(stored, outcome)
        store.prune(at - timedelta(seconds=retention))
        if progress and index % 288 == 287:
            print(f"  day {index // 288 + 1}: {file_size(store) / 1e6:.2f} MB", file=sys.stderr)
    return past


def kept_in_full(path: Path, past: Remembered) -> Any:
    """The same runs' outcomes in a history that never rolls up (written in bulk, without the
    judged summaries and measurements, which judging does not read): what recording was
    judged against before roll-ups."""
    from sloprobe.history import HistoryStore
    from sloprobe.history.compact import RollupPolicy

    store = HistoryStore.open(f"sqlite:///{path}")
    store.rollup_policy = RollupPolicy(float("inf"), float("inf"))
    slos = sorted(past.runs)
    times = [o.at for o in past.runs[slos[0]]]
    when = [at.strftime("%Y-%m-%d %H:%M:%S.%f") for at in times]
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO sloprobe_runs (id, run_id, service, environment, started_at,"
            " finished_at, trigger, sloprobe_version, status) VALUES"
            " (?, ?, 'bench-jobs', 'production', ?, ?, 'schedule', '0.1.0', 'ok')",
            [(k + 1, f"full-{k}", w, w) for k, w in enumerate(when)],
        )
        db.executemany(
            "INSERT INTO sloprobe_verdicts (run_pk, service, environment, slo, at, status,"
            " counts_as_bad, counted, good_events, total_events, observed, threshold, reason)"
            " VALUES (?, 'bench-jobs', 'production', ?, ?, ?, ?, ?, ?, ?, '', '', '')",
            [
                (
                    k + 1,
                    slo,
                    when[k],
                    "breach" if o.bad else "ok",
                    o.bad,
                    o.counted,
                    o.good_events,
                    o.total_events,
                )
                for slo in slos
                for k, o in enumerate(past.runs[slo])
            ],
        )
    return store


def file_size(store: Any) -> int:
    """The history file's size once its write-ahead log is folded in."""
    path = Path(store.engine.url.database)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def record_once(store: Any, month: Month, index: int, retention: float) -> tuple[float, float]:
    """(seconds to judge and store one run against the stored history, seconds to prune after it)."""
    from sloprobe.judge.over_time import judge_run, outcome_function

    spec = month.loaded.spec
    result = month.result(index)
    start = time.perf_counter()
    store.record(result, lambda view: judge_run(result, spec, view), outcome_function(result, spec))
    recorded = time.perf_counter() - start
    store.prune(result.run.started_at - timedelta(seconds=retention))
    return recorded, time.perf_counter() - start - recorded


def section(mode: Mode = FULL, days: int | None = None, progress: bool = False) -> str:
    """The month recorded run by run, its file's size, and the time to record one more run."""
    from sloprobe.config import load_slo_text
    from sloprobe.history import HistoryStore

    days = mode.size(30, small=1) if days is None else days
    repeats = mode.size(7, quick=4, small=2)  # the first of each is a warm-up
    loaded = load_slo_text(suite_text(), "slo.yaml", {})
    retention = loaded.spec.settings.history.retention
    runs = days * 288
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        store = HistoryStore.open(f"sqlite:///{tmp}/month.db")
        month = Month(loaded, start)
        past = fill(store, month, runs, retention, progress)
        filled = time.perf_counter() - began
        size = file_size(store)
        counts = _counts(store)
        empty = HistoryStore.open(f"sqlite:///{tmp}/empty.db")
        full = kept_in_full(Path(tmp) / "full.db", past)
        fresh = Month(loaded, start + runs * STEP, seed=8)
        twin = Month(loaded, start, seed=8)  # its run `runs + k` follows the same month
        base, on_month, on_full, prune_empty, prune_month = [], [], [], [], []
        for k in range(repeats):  # interleaved, so each sees the same machine
            record_empty, pruned_empty = record_once(empty, fresh, k, retention)
            record_month, pruned_month = record_once(store, month, runs + k, retention)
            record_full, _ = record_once(full, twin, runs + k, retention)
            if k:  # the first of each warms caches
                base.append(record_empty)
                on_month.append(record_month)
                on_full.append(record_full)
                prune_empty.append(pruned_empty)
                prune_month.append(pruned_month)
        for opened in (store, empty, full):
            opened.dispose()
    baseline, ours = statistics.median(base), statistics.median(on_month)
    in_full = statistics.median(on_full)
    verdict = mode.goal(
        f"history file ≤ 10 MiB after {days} days", size <= GOAL_BYTES, f"{size / 2**20:.2f} MiB"
    )
    return table(
        TITLE.replace("30 days", f"{days} day{'s' if days != 1 else ''}"),
        ["measure", "value", "ratio"],
        [
            [
                f"history file after {runs:,} runs ({days} d × 288) × {SLOS} SLOs",
                f"{size / 1024 / 1024:.2f} MiB",
                f"{size / GOAL_BYTES:.2f}× the goal",
            ],
            [
                "record one run (judge against history, store) on an empty history (baseline)",
                f"{baseline * 1000:.1f} ms",
                "1.00×",
            ],
            [
                f"record one run on the {days}-day history",
                f"{ours * 1000:.1f} ms",
                f"{ours / baseline:.2f}×",
            ],
            [
                f"record one run on the same {days} days kept in full (no roll-up), for comparison",
                f"{in_full * 1000:.1f} ms",
                f"{in_full / baseline:.2f}×",
            ],
            [
                "prune after it (roll-up, retention) on the empty / the month",
                f"{statistics.median(prune_empty) * 1000:.1f} / {statistics.median(prune_month) * 1000:.1f} ms",
                "",
            ],
        ],
        f"Goal ≤ 10 MiB: **{verdict}** ({size:,} bytes). What the file holds: {counts}. "
        f"Retention defaults to the longest window plus 7 days ({retention / 86400:.0f} d). Runs are "
        "judged, stored and pruned one by one, as production does; the month took "
        f"{filled:.0f} s to record. Record times are medians of {repeats - 1} runs after one warm-up, "
        "interleaved between the histories. The full-history comparison holds the same runs' "
        "outcomes, written in bulk without roll-ups. bench/run.py runs it; alone, `python "
        "bench/bench_history_size.py --update-results` puts this section into RESULTS.md.",
    )


def _counts(store: Any) -> str:
    from sqlalchemy import func, select

    from sloprobe.history import schema

    with store.engine.connect() as conn:
        runs = dict(
            conn.execute(
                select(schema.runs.c.detail, func.count()).group_by(schema.runs.c.detail)
            ).all()
        )
        kept = conn.execute(
            select(func.count()).where(schema.verdicts.c.rolled_up.is_(True))
        ).scalar()
        days = conn.execute(select(func.count()).select_from(schema.rollups)).scalar()
    return (
        f"{runs.get(None, 0)} runs in full detail, {runs.get('light', 0)} light, "
        f"{runs.get('rolled', 0)} rolled up but kept for {kept} verdicts that breached or moved "
        f"an incident, and {days} roll-up rows (SLO × day)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--days", type=int, help="days of five-minute runs (default 30; 1 with --small)"
    )
    parser.add_argument(
        "--update-results", action="store_true", help="write the section into bench/RESULTS.md"
    )
    add_mode_options(parser)
    args = parser.parse_args()
    text = section(mode_of(args), args.days, progress=True)
    print(text)
    if args.update_results:
        update_results(HEADING, text)


if __name__ == "__main__":
    main()
