"""bench/bench_cost.py in small mode: sloprobe's CPU per probe and fixed cost, fitted."""

from __future__ import annotations

import math
import re

import bench_cost
from common import SMALL

from tests.bench.conftest import run_small
from tests.bench.figures import figure, tables

NOT_JUDGED = "**not judged (small mode)**"


def signed(cell: str, unit: str) -> float:
    """A fitted figure such as ``0.61 ms``: finite, but a difference may be below zero."""
    match = re.fullmatch(rf"(-?\d+\.\d+) {unit}", cell)
    assert match, f"not a figure in {unit}: {cell!r}"
    value = float(match[1])
    assert math.isfinite(value)
    return value


def test_cost_runs_sloprobe_bare_pytest_and_both_scripts_and_fits_a_line() -> None:
    runs, fit = tables(run_small(bench_cost.section, SMALL))
    assert runs.title.startswith("Cost:")
    assert fit.title.startswith("Cost fit:")
    # every run made exactly its N GETs (the server counted them, or the bench failed)
    assert runs.row("bare pytest")[1] == "0"
    for label, count in [
        ("sloprobe, 1 probe", "1"),
        ("sloprobe, 10 probes", "10"),
        ("plain httpx script, 1 GET", "1"),
        ("plain httpx script, 10 GETs", "10"),
        ("asyncio httpx script, 1 GET", "1"),
        ("asyncio httpx script, 10 GETs", "10"),
    ]:
        row = runs.row(label)
        assert row[1] == count
        assert figure(row[2], "s") > 0 and figure(row[3], "s") > 0
        signed(row[4], "s")
    assert len(runs.rows) == 7

    for label in ("sloprobe: slope", "plain httpx script: slope", "sloprobe's own CPU per probe"):
        signed(fit.row(label)[1], "ms")
    for label in ("sloprobe: intercept", "plain httpx script: intercept", "sloprobe's fixed CPU"):
        signed(fit.row(label)[1], "s")
    assert figure(fit.row("bare pytest")[1], "s") > 0
    # the figures judged are the differences the section says they are
    slope, plain = (
        signed(fit.row(s)[1], "ms") for s in ("sloprobe: slope", "plain httpx script: slope")
    )
    own = signed(fit.row("sloprobe's own CPU per probe")[1], "ms")
    assert abs(own - (slope - plain)) <= 0.011
    asynchronous = signed(fit.row("asyncio httpx script: slope")[1], "ms")
    past_async = signed(fit.row("sloprobe's slope − the asyncio script's")[1], "ms")
    assert abs(past_async - (slope - asynchronous)) <= 0.011
    intercept = signed(fit.row("sloprobe: intercept")[1], "s")
    bare = figure(fit.row("bare pytest")[1], "s")
    assert abs(signed(fit.row("sloprobe's fixed CPU")[1], "s") - (intercept - bare)) <= 0.0011

    # a verdict per goal, in the table and in the note
    assert fit.row("sloprobe's own CPU per probe")[2:] == ["≤ 1 ms", NOT_JUDGED]
    assert fit.row("sloprobe's fixed CPU")[2:] == ["≤ 0.25 s", NOT_JUDGED]
    assert f"sloprobe's own CPU ≤ 1 ms per probe: {NOT_JUDGED}" in fit.note
    assert f"fixed CPU ≤ 0.25 s over bare pytest: {NOT_JUDGED}" in fit.note
