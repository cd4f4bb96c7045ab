"""Each SLO card of report.html says one verdict, this run's, and what history adds beside it.

Issue 24, item 4: "All thresholds met" beside a page alert firing at 40×, an error budget
hidden while its burn rate was shown, a percentile note on checks that take no percentile,
and a threshold written in ms drawn on an axis in s. Every result here is judged by the
real judge over runs stored in the real history store, five minutes apart.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sloprobe.config import load_slo_text
from sloprobe.history import HistoryStore
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.over_time import judge_run, outcome_function
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Status
from sloprobe.model.units import Unit
from sloprobe.sinks.charts import PLOT_HEIGHT
from sloprobe.sinks.html_report import render_html_report

T0 = datetime(2026, 11, 2, tzinfo=UTC)
STEP = timedelta(minutes=5)
SUITE = """\
version: 1
service: shop
probes:
  api:
    http:
      path: /stats
      values:
        depth: {{json: depth, unit: count}}
slos:
  depth:
    probe: api
    measure: depth
    threshold: value < 100
    objective: 99.5%
    window: {window}
  latency:
    probe: api
    measure: latency
    threshold: p95 < 2500ms
    warn: p95 < 1800ms
"""
GOOD, BAD = 10.0, 500.0


def judged(tmp_path: Path, depths: Sequence[float], window: str = "1d") -> RunResult:
    """The last of ``depths``' runs (latency 1.2 s → 2.2 s), judged and stored, with its timeline."""
    loaded = load_slo_text(SUITE.format(window=window), "slo.yaml", {})
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        last = None
        for index, depth in enumerate(depths):
            at = T0 + index * STEP
            latency = 1.2 + index / max(1, len(depths) - 1)
            series = {
                "depth": Series("depth", Unit.COUNT, (depth,)),
                "latency": Series("latency", Unit.S, (latency, latency * 0.9)),
            }
            measurement = Measurement("api", "http", at, 0.05, series)
            verdicts = tuple(
                evaluate_slo(name, spec, measurement, loaded.spec.settings.percentile_method)
                for name, spec in loaded.spec.slos.items()
            )
            info = RunInfo(
                f"run{index}", "shop", "production", at, at + timedelta(seconds=2), "0.1.0",
                "slo.yaml", None,
            )  # fmt: skip
            run = RunResult(info, verdicts, {"api": measurement})
            last = store.record(
                run,
                functools.partial(judge_run, run, loaded.spec),
                outcome_function(run, loaded.spec),
            )
        assert last is not None
        timeline = store.timeline("shop", "production", last.run.started_at - timedelta(days=1))
    finally:
        store.dispose()
    return dataclasses.replace(last, timeline=timeline)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def card(html: str, slo: str) -> str:
    found = re.search(rf'<section class="slo card" id="slo-{slo}".*?</section>', html, re.S)
    assert found is not None, slo
    return found.group(0)


def line(html: str, cls: str) -> str | None:
    """The text of the first ``<p>`` of class ``cls`` (``verdict this-run``), or None."""
    found = re.search(rf'<p class="{cls}[^"]*"[^>]*>(.*?)</p>', html, re.S)
    return text(found.group(1)) if found else None


def facts(html: str) -> list[str]:
    return [text(label) for label in re.findall(r"<dt>(.*?)</dt>", html, re.S)]


@pytest.fixture
def after_outage(tmp_path: Path) -> RunResult:
    """8 h of good runs, a 30-minute outage, then this run: good, while the 6 h / 30 m page fires."""
    return judged(tmp_path, [GOOD] * 96 + [BAD] * 6 + [GOOD])


def test_a_good_run_under_a_firing_page_alert_says_both(after_outage: RunResult) -> None:
    depth = next(v for v in after_outage.verdicts if v.slo == "depth")
    assert depth.status is Status.OK and depth.history is not None  # this run met its threshold
    assert "page" in depth.history.firing and depth.history.incident.open  # history did not
    html = render_html_report(after_outage)
    shown = card(html, "depth")
    assert line(shown, "verdict this-run") == "This run ok: all thresholds met"
    over = line(shown, "verdict over-time")
    assert over is not None, "'all thresholds met' alone beside a firing page alert"
    assert over.startswith("Over time incident #1 open since 2026-11-02 08:05 UTC (25 m;")
    assert "cause: page burn-rate alert" in over
    assert "page alert 16.7× over 6 h, 167× over 30 m (fires at 6×)" in over
    assert "ticket alert 11.7× over 1 d, 50× over 2 h (fires at 3×)" in over
    # The page says it too, under its own verdict; the card is among those needing attention.
    assert line(html, "headline over-time") == (
        "Over time depth: incident open since 2026-11-02 08:05 UTC, page and ticket alerts firing."
    )
    assert html.index('id="attention"') < html.index('id="slo-depth"')
    assert 'id="healthy"' not in html  # not under "Meeting their thresholds"


def test_budget_and_burn_rate_are_shown_together_or_not_at_all(
    after_outage: RunResult, tmp_path: Path
) -> None:
    shown = card(render_html_report(after_outage), "depth")  # 8.5 h of a 1 d window
    assert {"error budget", "burn rate, 1 h"} <= set(facts(shown))
    young = judged(tmp_path / "young", [GOOD, GOOD, GOOD, BAD, BAD], window="30d")
    pending = card(render_html_report(young), "depth")  # 20 m of a 30 d window
    assert "burn rate, 1 h" not in facts(pending)
    assert "error budget" not in facts(pending)
    assert "error budget and burn rate" in facts(pending)
    assert "not enough history yet (20 m of 30 d)" in text(pending)
    assert "both shown once history covers 25% of the window (7 d 12 h)" in text(pending)
    # An SLO without an objective has neither; it says it has no objective once.
    latency = card(render_html_report(young), "latency")
    assert "objective" in facts(latency)
    assert not {"error budget", "burn rate, 1 h"} & set(facts(latency))


def test_the_percentile_method_is_stated_only_where_a_check_takes_a_percentile(
    after_outage: RunResult,
) -> None:
    html = render_html_report(after_outage)
    depth = card(html, "depth")  # value < 100
    assert "Hyndman" not in depth and "percentile" not in text(depth)
    assert line(depth, "small checks-title") == "Checks"
    latency = card(html, "latency")  # p95 < 2500ms, p95 < 1800ms
    assert line(latency, "small checks-title") == (
        "Checks · percentiles (p95) by linear (Hyndman–Fan type 7)"
    )


def test_a_threshold_in_ms_is_drawn_and_labelled_in_the_seconds_of_its_series(
    after_outage: RunResult,
) -> None:
    latency = card(render_html_report(after_outage), "latency")
    plot = re.search(r'<div class="y-axis">(.*?)</div><div class="plot">(.*?)</div>', latency, re.S)
    assert plot is not None
    axis, drawn = plot.groups()
    ticks = {label: float(top) for top, label in re.findall(r'top:([\d.]+)%">([^<]+)</span>', axis)}
    assert ticks and all(re.fullmatch(r"[\d.]+s", label) for label in ticks), ticks
    labels = dict(
        (kind, unescape(label))
        for kind, label in re.findall(
            r'<span class="line-label (breach|warn)[^"]*"[^>]*>([^<]+)</span>', drawn
        )
    )
    assert labels == {"breach": "threshold p95 < 2.5s", "warn": "warn p95 < 1.8s"}
    # The 2500 ms line lies where the axis says 2.5s.
    breach = re.search(r'<line class="level breach"[^>]*y1="([\d.]+)"', drawn)
    assert breach is not None
    assert float(breach.group(1)) == pytest.approx(ticks["2.5s"] / 100 * PLOT_HEIGHT, abs=0.01)
