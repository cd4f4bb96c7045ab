"""bench/bench_runtime.py in small mode: overhead, concurrency, accuracy, startup."""

from __future__ import annotations

import bench_runtime
from common import SMALL

from tests.bench.conftest import run_small
from tests.bench.figures import figure, tables

NOT_JUDGED = "**not judged (small mode)**"


def test_overhead_runs_the_default_suite_and_the_plain_script_and_reports_their_cpu() -> None:
    [table] = tables(run_small(bench_runtime.overhead, SMALL))
    assert table.title.startswith("Overhead:")
    plain, slo, bare, floor = (
        table.row(s) for s in ("plain", "sloprobe", "`pytest --version`", "pytest + the run's")
    )
    for row in (plain, slo):  # both made the suite's requests (checked against the service's log)
        assert int(row[1].split("–")[0]) >= 10
    assert bare[1] == "0" and floor[1] == "0"
    for row in (plain, slo, bare, floor):
        assert figure(row[2], "s") > 0 and figure(row[3], "s") > 0
        figure(row[4], "×")
        figure(row[5], "×")
    assert plain[4] == "1.00×"
    assert "sloprobe's plugin not loaded" in table.note
    assert " ms of CPU under the goal" in table.note or "The floor alone is over" in table.note
    assert f"Goal, on CPU time: sloprobe ≤ 2.0× the plain script: {NOT_JUDGED}" in table.note


def test_concurrency_times_one_probe_and_many_at_two_limits() -> None:
    [table] = tables(run_small(bench_runtime.concurrency, SMALL))
    assert table.title.startswith("Concurrency:")
    assert len(table.rows) == 3
    for cell in table.column("median"):
        assert figure(cell, "s") > 0
    assert NOT_JUDGED in table.note


def test_accuracy_compares_probe_latency_with_the_server_and_percentiles_with_numpy() -> None:
    [table] = tables(run_small(bench_runtime.accuracy, SMALL))
    assert table.title.startswith("Accuracy:")
    latency, percentiles = table.rows
    figure(latency[1], "ms")
    # not a speed: the percentile math must agree with numpy's, in every mode
    assert percentiles[1] == "0 mismatches"
    assert {row[2] for row in table.rows} == {"not judged (small mode)"}


def test_startup_times_each_command() -> None:
    [table] = tables(run_small(bench_runtime.startup, SMALL))
    assert table.title.startswith("Startup:")
    assert len(table.rows) == 5
    for row in table.rows:
        assert figure(row[1], "ms") > 0
        figure(row[2], "×")
