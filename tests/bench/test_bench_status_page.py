"""bench/bench_status_page.py in small mode: the page built from run rows and from roll-ups."""

from __future__ import annotations

import bench_status_page
from common import SMALL

from tests.bench.conftest import run_small
from tests.bench.figures import figure, tables


def test_status_page_is_built_from_run_rows_and_again_from_roll_ups() -> None:
    [table] = tables(run_small(bench_status_page.section, SMALL))
    assert table.title.startswith("Status page: 4 services × 3 SLOs × 3 days")
    assert [row[0].split(":")[0] for row in table.rows] == ["run rows"] * 4 + ["roll-ups"] * 4
    for row in table.rows:
        figure(row[1], "s")
        figure(row[2], "×")
    assert figure(table.rows[3][3], "MiB") >= 0
    assert "4 environments, 12 SLOs" in table.note
