"""Simulated runs with an injected clock: no sleeping, exact times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sloprobe.config import LoadedSloFile, load_slo_text
from sloprobe.history import HistoryStore
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.over_time import judge_run, outcome_function
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.units import Unit

T0 = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)

SUITE = """\
version: 1
service: shop
settings:
  incident: {open_after: 3, resolve_after: 2}
  silences:
    - slos: [depth]
      starts: "2026-11-01T10:00:00Z"
      until: "2026-11-01T11:00:00Z"
      reason: planned maintenance
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
    objective: 99%
    window: 1d
"""


def suite(text: str = SUITE) -> LoadedSloFile:
    return load_slo_text(text, "slo.yaml", {})


def run_result(loaded: LoadedSloFile, at: datetime, value: float, index: int) -> RunResult:
    measurement = Measurement(
        "queue", "http", at, 0.01, {"depth": Series("depth", Unit.COUNT, (value,))}
    )
    verdicts = tuple(
        evaluate_slo(name, spec, measurement, loaded.spec.settings.percentile_method)
        for name, spec in loaded.spec.slos.items()
    )
    info = RunInfo(
        f"run-{index}-{at.timestamp():.0f}",
        "shop",
        "production",
        at,
        at + timedelta(seconds=2),
        "0.1.0",
        "slo.yaml",
        None,
    )
    return RunResult(info, verdicts, {"queue": measurement})


def record(
    store: HistoryStore, loaded: LoadedSloFile, at: datetime, value: float, index: int = 0
) -> RunResult:
    result = run_result(loaded, at, value, index)
    return store.record(
        result,
        lambda view: judge_run(result, loaded.spec, view),
        outcome_function(result, loaded.spec),
    )


def plugin_run(
    loaded: LoadedSloFile, history: str, at: datetime, depth: float, run_id: str | None = None
) -> RunResult:
    """One run as the plugin records it (SuiteRun: judged, stored, pruned) with the queue
    probe's depth given and the clock injected; where it ran comes from $SLOPROBE_LOCATION."""
    from sloprobe.plugin.suite_run import SuiteRun

    run = SuiteRun(loaded, history_option=history, started_at=at)
    if run_id is not None:
        run.run_id = run_id
    run.measurements["queue"] = Measurement(
        "queue", "http", at, 0.01, {"depth": Series("depth", Unit.COUNT, (depth,))}
    )
    for slo in loaded.spec.slos:
        run.judge(slo)
    return run.record(run.result())


def play(
    store: HistoryStore, loaded: LoadedSloFile, pattern: str, start: datetime = T0
) -> list[RunResult]:
    """``g`` a good run, ``b`` a bad one, ``.`` a scheduled run that never fired; one per 5 minutes."""
    results = []
    for index, char in enumerate(pattern):
        if char == ".":
            continue
        results.append(
            record(store, loaded, start + index * STEP, 1.0 if char == "g" else 500.0, index)
        )
    return results
