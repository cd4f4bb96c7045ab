"""bench/bench_history_size.py in small mode: a day of runs recorded as production records them."""

from __future__ import annotations

import bench_history_size
from common import SMALL

from tests.bench.conftest import run_small
from tests.bench.figures import figure, tables


def test_history_size_records_a_day_and_times_one_more_run() -> None:
    [table] = tables(run_small(bench_history_size.section, SMALL))
    assert table.title.startswith("History size: 1 day ")
    size, empty, on_history, in_full, prune = table.rows
    assert figure(size[1], "MiB") > 0
    figure(size[2], "× the goal")
    for row in (empty, on_history, in_full):
        assert figure(row[1], "ms") > 0
        figure(row[2], "×")
    assert all(figure(part.strip() + " ms", "ms") >= 0 for part in prune[1][:-3].split("/"))
    assert "Goal ≤ 10 MiB: **not judged (small mode)**" in table.note
