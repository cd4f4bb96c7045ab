"""bench/bench_concurrent_writers.py in small mode: 3 writers for 2 rounds on the session's
PostgreSQL, against one writer alone."""

from __future__ import annotations

import bench_concurrent_writers
from common import SMALL

from tests.bench.conftest import run_small
from tests.bench.figures import figure, tables


def test_concurrent_writers_record_every_run(postgres_url: str) -> None:
    text = run_small(bench_concurrent_writers.section, SMALL, postgres_url=postgres_url)
    [table] = tables(text)  # a run lost, or a writer that failed, fails the bench
    assert table.title.startswith("Concurrent writers: recording with 3 writers")
    assert table.column("writers") == ["1", "3"]
    for row in table.rows:
        assert figure(row[1], "ms") > 0
        figure(row[2], "×")
        assert figure(row[3]) > 0
