"""bench/bench_tavern.py in small mode: tavern's suite (bench/tavern/) passes against the
reference service as it answers today, and the three ways' figures are reported.

Tavern is installed on first use into bench/.venvs/tavern (about 10 s, once); where it cannot
be installed the test is skipped, and fails in CI.
"""

from __future__ import annotations

import bench_tavern
from common import SMALL

from tests.bench.conftest import run_small
from tests.bench.figures import figure, tables


def test_tavern_suite_passes_and_the_three_ways_are_timed() -> None:
    [table] = tables(run_small(bench_tavern.comparison, SMALL))
    assert table.title.startswith("Tavern:")
    rows = [table.row(s) for s in ("plain", "tavern", "sloprobe")]
    for row in rows:  # each ran and made the suite's requests (a failing run fails the bench)
        assert int(row[1].split("–")[0]) >= 10
        assert figure(row[2], "s") > 0 and figure(row[3], "s") > 0
        for cell in row[4:]:
            figure(cell, "×")
    assert "sloprobe ≤ 0.9× tavern: **not judged (small mode)**" in table.note
