"""bench/bench_scale.py in small mode: history and report, and the SQL percentile on
SQLite and on the session's PostgreSQL."""

from __future__ import annotations

import bench_scale
from common import SMALL

from tests.bench.conftest import run_small
from tests.bench.figures import figure, tables


def test_history_judges_against_a_scan_and_renders_the_report() -> None:
    judged, report = tables(run_small(bench_scale.history, SMALL))
    assert judged.title.startswith("History:") and report.title.startswith("Report over")
    assert len(judged.rows) == 2 and len(report.rows) == 3
    for row in judged.rows + report.rows:
        assert figure(row[1], "s") >= 0
        figure(row[2], "×")
    assert "Compliance found: 0.98" in judged.note


def test_sql_percentile_finds_the_same_p95_as_the_naive_way(postgres_url: str) -> None:
    [table] = tables(run_small(bench_scale.sql_percentile, SMALL, postgres_url=postgres_url))
    assert table.title.startswith("SQL percentile:")
    assert [row[0] for row in table.rows] == ["SQLite", "SQLite", "PostgreSQL", "PostgreSQL"]
    for row in table.rows:
        figure(row[2], "s")
        figure(row[3], "×")
        figure(row[4], "MB")
    assert table.column("p95")[1::2] == ["same", "same"]
