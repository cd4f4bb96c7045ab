"""Every output says the same readable thing of a run with 20 minutes of history in a 30-day window.

Five runs five minutes apart, the last two bad, against `objective: 99%` over 30 days:
the judge's numbers are exact (budget left -39, i.e. -3900 %; burn 40× over 1 h, as
39.99999999999999), and no person can use them. Each output says "not enough history
yet (20 m of 30 d)" and shows burn rates to three figures, never a raw float.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sloprobe.config import load_slo_text
from sloprobe.history import HistoryStore
from sloprobe.model.result import RunResult
from sloprobe.sinks.github_actions import job_summary
from sloprobe.sinks.html_report import render_html_report
from sloprobe.sinks.json_results import write_json_results
from sloprobe.sinks.run_index import write_run_index
from tests.history.simulation import STEP, T0, record
from tests.support.fake_sentry import fake_sentry
from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
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
    window: 30d
"""
SHORT = "not enough history yet (20 m of 30 d)"
RAW_FLOAT = re.compile(r"\d\.\d{5,}")  # 39.99999999999999; three figures never need five decimals
NEGATIVE_PERCENT = re.compile(r"-\s*\d[\d.]*\s*%")
PATTERN = (1.0, 1.0, 1.0, 500.0, 500.0)  # good, good, good, bad, bad: 20 minutes of history


def readable(text: str) -> None:
    assert not RAW_FLOAT.search(text), RAW_FLOAT.search(text)
    assert not NEGATIVE_PERCENT.search(text), NEGATIVE_PERCENT.search(text)
    assert "exhausted (" not in text


@pytest.fixture
def judged(tmp_path: Path) -> Iterator[RunResult]:
    """The last of five runs judged by the real store and judge, as a scheduled run would be."""
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'h.db'}")
    loaded = load_slo_text(SUITE, "slo.yaml", {})
    results = [record(store, loaded, T0 + i * STEP, v, i) for i, v in enumerate(PATTERN)]
    store.dispose()
    last = results[-1]
    history = last.verdicts[0].history
    assert history is not None and history.budget is not None
    assert history.budget.remaining_fraction == pytest.approx(-39.0)  # what it used to print
    assert history.budget.history_s == 20 * 60
    yield last


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def test_terminal_summary(pytester: pytest.Pytester, scripted: ScriptedServer) -> None:
    """A real pytest run after four stored runs of the last 20 minutes."""
    pytester.makefile(".yaml", slo=SUITE)
    reports = pytester.path / "reports"
    reports.mkdir()
    store = HistoryStore.open(f"sqlite:///{reports / 'history.db'}")
    loaded = load_slo_text(SUITE, "slo.yaml", {})
    start = datetime.now(UTC) - timedelta(minutes=20)
    for i, value in enumerate(PATTERN[:-1]):
        record(store, loaded, start + i * STEP, value, i)
    store.dispose()
    scripted.routes["/metrics"] = Answer(200, '{"depth": 500}')
    result = pytester.runpytest(f"--base-url={scripted.base_url}")
    assert result.ret == 1
    output = result.stdout.str()
    summary = output[output.index("SLO summary") :]
    assert SHORT in summary
    readable(summary)


def test_html_report(judged: RunResult) -> None:
    parser = _Text()
    parser.feed(render_html_report(judged))
    text = " ".join(" ".join(parser.parts).split())
    assert SHORT in text
    assert "objective 99% over 30 d" in text
    assert "shown once history covers 25% of the window (7 d 12 h)" in text
    assert " 40× " in text  # the 1 h burn rate, 39.99999999999999 to the judge
    readable(text)


def test_github_step_summary(judged: RunResult) -> None:
    table = job_summary(judged)
    row = next(line for line in table.splitlines() if line.startswith("| depth "))
    assert r"not enough history yet \(20 m of 30 d\)" in row  # Markdown-escaped
    readable(table)


def test_results_json_human_fields(judged: RunResult, tmp_path: Path) -> None:
    data = json.loads(write_json_results(judged, tmp_path).read_text())
    history = data["verdicts"][0]["history"]
    assert history["text"]["budget"] == SHORT
    assert history["text"]["objective"] == "99% over 30 d"
    assert history["text"]["burn_rates"]["1 h"] == "40×"
    assert history["text"]["burn_rates"]["5 m"] == "100×"
    readable(json.dumps(history["text"], ensure_ascii=False))
    # The machine numbers stay the judge's exact floats.
    budget = judged.verdicts[0].history.budget  # type: ignore[union-attr]
    assert history["budget"]["remaining_fraction"] == budget.remaining_fraction
    rates = judged.verdicts[0].history.burn_rates  # type: ignore[union-attr]
    assert [r["rate"] for r in history["burn_rates"]] == [r.rate for r in rates]
    # runs/ and latest.json are the same document.
    write_run_index(judged, tmp_path)
    assert json.loads((tmp_path / "latest.json").read_text()) == data


def test_sentry_event(tmp_path: Path) -> None:
    from tests.notify.test_sentry import one_run, suite

    history = str(tmp_path / "h.db")
    with fake_sentry() as sentry:
        loaded = suite(sentry.dsn)
        for index, value in enumerate(PATTERN):  # the page burn-rate alert opens on the last
            one_run(loaded, history, index, value)
        time.sleep(0.2)
    (opening,) = [e for e in sentry.unique_events().values() if e["tags"]["transition"] == "opened"]
    slo = opening["contexts"]["slo"]
    assert slo["budget"] == SHORT
    assert slo["objective"] == "99%" and slo["window"] == "30 d"
    assert slo["burn_rates"]["5 m"] == "100×" and slo["burn_rates"]["1 h"] == "40×"
    readable(opening["message"] + json.dumps(slo, ensure_ascii=False))
