"""The HTML report drawn from a stored history with a known incident, checked in headless Chromium."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from sloprobe.history import HistoryStore
from sloprobe.sinks.charts import STATUS_COLOURS
from sloprobe.sinks.html_report import write_html_report
from tests.history.simulation import play, suite

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def report(tmp_path: Path) -> Path:
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'h.db'}")
    results = play(store, suite(), "g" * 100 + "b" * 6 + "g" * 50)  # an incident of six bad runs
    last = results[-1]
    timeline = store.timeline("shop", "production", last.run.started_at - timedelta(days=30))
    store.dispose()
    measurement = dataclasses.replace(
        last.measurements["queue"], excerpt=HOSTILE, failure=f"answered 500: {HOSTILE}"
    )
    shown = dataclasses.replace(last, timeline=timeline, measurements={"queue": measurement})
    return write_html_report(shown, tmp_path / "reports")


def test_chart_points_match_the_history(report: Path) -> None:
    html = report.read_text()
    strip = re.search(
        r'<svg class="chart strip"[^>]*data-points="(\d+)"[^>]*>(.*?)</svg>', html, re.S
    )
    assert strip is not None
    assert int(strip.group(1)) == 156  # every run of the day, no downsampling needed
    bars = re.findall(r'fill="(#[0-9a-f]{6})" data-runs="(\d+)"', strip.group(2))
    runs_by_colour: dict[str, int] = {}
    for colour, runs in bars:
        runs_by_colour[colour] = runs_by_colour.get(colour, 0) + int(runs)
    assert runs_by_colour == {STATUS_COLOURS["breach"]: 6, STATUS_COLOURS["ok"]: 150}
    assert len(bars) == 3  # good, the six-run incident, good again
    values = re.search(r'<svg class="chart line"[^>]*data-points="(\d+)"', html)
    assert values is not None and int(values.group(1)) == 156
    assert 'aria-label="depth: error budget left"' in html


@pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium (scripts/test.sh installs Debian's chromium)"
)
def test_report_renders_in_chromium_without_errors_or_requests(
    report: Path, tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "<script" not in dom.stdout.replace("&lt;script", "")
    assert (
        "onerror=alert" not in re.sub(r"&lt;img[^<]*", "", dom.stdout).replace("&quot;", '"')
        or "<img" not in dom.stdout
    )
    assert not re.search(r"CONSOLE\(\d+\).*(Uncaught|Error)", dom.stderr)
    artifacts = ROOT / "reports" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    for name, size in (("desktop", "1280,1600"), ("phone", "390,1800")):
        shot = artifacts / f"report-{name}.png"
        subprocess.run(
            [CHROMIUM, *flags, f"--screenshot={shot}", f"--window-size={size}", report.as_uri()],
            capture_output=True,
            timeout=90,
        )
        assert shot.stat().st_size > 10_000


def test_old_history_is_bucketed_by_the_database_keeping_the_worst(history_url: str) -> None:
    store = HistoryStore.open(history_url)
    pattern = "g" * 200 + "b" + "g" * 375  # two days; one bad run on the first day
    results = play(store, suite(), pattern)
    now = results[-1].run.started_at
    timeline = store.timeline(
        "shop", "production", now - timedelta(days=30), now - timedelta(days=1), buckets=50
    )
    store.dispose()
    points = timeline["depth"]
    older = [p for p in points if p.at <= now - timedelta(days=1)]
    recent = [p for p in points if p.at > now - timedelta(days=1)]
    assert len(recent) == 288  # the last day, run by run
    assert len(older) <= 51  # the first day, in buckets
    assert [p.status for p in older].count("breach") == 1  # the bad run survives bucketing
    assert max(p.value for p in older if p.value is not None) == 500.0
