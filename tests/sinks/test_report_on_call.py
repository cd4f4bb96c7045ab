"""The on-call view: a breach with history, read in headless Chromium at 1280 and 390 px.

The scenario is judged by the real judge and stored in the real history store:
26 hours of five-minute runs of three SLOs, a 45-minute stretch with no run,
an incident in the morning that resolved, and the queue breaching for the
last seven runs (an incident open since the third). Everything checked here
is read from the page as Chromium laid it out, through a tiny DevTools
client over ``--remote-debugging-pipe`` (the report has no script; DevTools
evaluation is not the page's). ``scripts/screenshots.py`` draws the same
scenario into docs/.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import math
import os
import random
import re
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from sloprobe.config import load_slo_text
from sloprobe.history import HistoryStore
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.over_time import judge_run, outcome_function
from sloprobe.judge.schedule import schedule_health
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.units import Unit
from sloprobe.settings import ci_run_url
from sloprobe.sinks import publish
from tests.sinks.test_reports import CHROMIUM

HOSTILE = "<script>alert(1)</script>"
BASE_URL = "https://shop.example"
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)
SLOTS = 26 * 12  # 26 hours of five-minute runs, this one last
GAP = range(200, 209)  # 45 minutes with no run
MORNING_INCIDENT = range(130, 134)  # four bad runs of queue-depth: an incident, resolved
BREACH_RUNS = 7  # the queue breaches in the last seven runs
CI = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/shop-probes",
    "GITHUB_RUN_ID": "4242",
}
SUITE = f"""\
version: 1
service: shop
environment: production
settings:
  incident: {{open_after: 3, resolve_after: 2}}
probes:
  stats-hour:
    http:
      path: /admin/jobs/stats
      query: {{hours: 1}}
      values:
        depth: {{json: queue.depth, unit: count}}
  stats-day:
    http:
      path: /admin/jobs/stats
      query: {{hours: 24}}
      values:
        success: {{json: success_rate, unit: "%"}}
  health:
    http:
      path: /health
      samples: 5
slos:
  queue-depth:
    description: "Jobs are not piling up. {HOSTILE}"
    probe: stats-hour
    measure: depth
    threshold: value < 100
    warn: value < 60
    objective: 95%
    window: 1d
    owner: "queue team {HOSTILE}"
    runbook: https://runbooks.example/queue-depth
  success-rate:
    description: Jobs succeed.
    probe: stats-day
    measure: success
    threshold: value >= 90%
    warn: value >= 95%
    owner: jobs team
    runbook: "javascript:alert(document.domain)"
  health-latency:
    description: The health check is fast.
    probe: health
    measure: latency
    threshold: p95 < 300ms
    warn: p95 < 150ms
    objective: 99.5%
    window: 1d
    owner: platform team
"""


def _measurements(at: datetime, slot: int, noise: random.Random) -> dict[str, Measurement]:
    breaching = slot >= SLOTS - BREACH_RUNS or slot in MORNING_INCIDENT
    depth = noise.uniform(150, 420) if breaching else noise.uniform(8, 45)
    success = 0.93 if slot == SLOTS - 1 else noise.uniform(0.965, 0.995)
    latency = tuple(noise.uniform(0.06, 0.13) for _ in range(5))

    def http(probe: str, path: str, series: Series, excerpt: str | None = None) -> Measurement:
        return Measurement(
            probe,
            "http",
            at,
            0.05,
            {series.name: series},
            details={"request": f"GET {BASE_URL}{path}", "last status": "200"},
            excerpt=excerpt,
        )

    return {
        "stats-hour": http(
            "stats-hour",
            "/admin/jobs/stats?hours=1",
            Series("depth", Unit.COUNT, (round(depth),)),
            excerpt=f'{{"queue": {{"depth": {round(depth)}}}, "note": "{HOSTILE}"}}',
        ),
        "stats-day": http(
            "stats-day", "/admin/jobs/stats?hours=24", Series("success", Unit.PERCENT, (success,))
        ),
        "health": http("health", "/health", Series("latency", Unit.S, latency)),
    }


def judged_history(database: Path) -> list[RunResult]:
    """Every run of the scenario, judged and stored; the last one is this run."""
    loaded = load_slo_text(SUITE, "slo.yaml", {})
    store = HistoryStore.open(f"sqlite:///{database}")
    noise = random.Random(17)
    results = []
    try:
        for slot in range(SLOTS):
            at = NOW - (SLOTS - 1 - slot) * STEP
            measured = _measurements(at, slot, noise)
            if slot in GAP:
                continue
            verdicts = tuple(
                evaluate_slo(
                    name, spec, measured.get(spec.probe), loaded.spec.settings.percentile_method
                )
                for name, spec in loaded.spec.slos.items()
            )
            info = RunInfo(
                f"run{slot:03d}",
                "shop",
                "production",
                at,
                at + timedelta(seconds=3.2),
                "0.1.0",
                "slo.yaml",
                BASE_URL,
                trigger="schedule",
                release="v2.4.1",
            )
            run = RunResult(info, verdicts, measured)
            results.append(
                store.record(
                    run,
                    lambda view, run=run: judge_run(run, loaded.spec, view),
                    outcome_function(run, loaded.spec),
                )
            )
        last = results[-1]
        timeline = store.timeline("shop", "production", last.run.started_at - timedelta(days=1))
    finally:
        store.dispose()
    schedule = schedule_health("*/5 * * * *", [r.run.started_at for r in results], NOW, 300)
    results[-1] = dataclasses.replace(last, timeline=timeline, schedule=schedule)
    return results


def write_scenario(reports: Path, database: Path) -> Path:
    """The scenario's report directory: two earlier runs' pages, then this run's. Returns report.html."""
    results = judged_history(database)
    ci_url = ci_run_url(CI)  # each run made by a GitHub Actions run, as a scheduled one is
    for result in results[-3:]:
        made = dataclasses.replace(result, run=dataclasses.replace(result.run, ci_url=ci_url))
        _, warnings = publish(made, reports)
        assert not warnings, warnings
    return reports / "report.html"


class Chromium:
    """Headless Chromium over ``--remote-debugging-pipe``: DevTools commands as NUL-ended JSON
    on file descriptors 3 (in) and 4 (out). Enough to open a page, read it and photograph it."""

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--remote-debugging-pipe",
    )

    def __init__(self, executable: str, profile: Path) -> None:
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def wire() -> None:  # in the child: the pipes become fds 3 and 4, inheritable
            low_read, low_write = os.dup(commands_read), os.dup(answers_write)
            os.dup2(low_read, 3)
            os.dup2(low_write, 4)

        self.process = subprocess.Popen(
            [executable, *self.FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=wire,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(answers_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next(t["targetId"] for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page, "flatten": True})[
            "sessionId"
        ]
        self.send("Page.enable", session=self.session)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(message))

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            if "method" in answer:
                self._events.append(answer)

    def _wait_for(self, event: str) -> None:
        while not any(e["method"] == event for e in self._events):
            answer = self._read()
            if "method" in answer:
                self._events.append(answer)
        self._events.clear()

    def open(self, url: str, width: int, height: int = 900) -> None:
        """Load ``url`` in a window ``width`` CSS pixels wide (a desktop window, not a phone's
        980-pixel default viewport: the page says ``width=device-width``)."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            self.session,
        )
        self._events.clear()
        self.send("Page.navigate", {"url": url}, self.session)
        self._wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        answer = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            self.session,
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(answer["exceptionDetails"])
        return answer["result"].get("value")

    def screenshot(self, path: Path, width: int, height: int | None = None) -> None:
        """The page at ``width``, down to ``height`` (None: all of it), as PNG."""
        full = math.ceil(
            self.send("Page.getLayoutMetrics", session=self.session)["cssContentSize"]["height"]
        )
        clip = {"x": 0, "y": 0, "width": width, "height": min(full, height or full), "scale": 1}
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            self.session,
        )
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._answers)


# What the page looks like to a reader, measured in the page after layout (DevTools evaluation).
LAYOUT = r"""(() => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });  // as a reader opens them
  const shown = (e) => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const text = (e) => e.textContent.trim();
  const figures = [...document.querySelectorAll('figure.timechart')].map((f) => ({
    kind: f.dataset.kind,
    width: f.querySelector('.rows').getBoundingClientRect().width,
    x: [...f.querySelectorAll('.x-axis .tick > span')].filter(shown).map((t) => ({label: text(t), box: box(t)})),
    xTitle: text(f.querySelector('.x-title')),
    plots: [...f.querySelectorAll('.plot')].map((p) => ({
      y: [...p.previousElementSibling.querySelectorAll('.tick')].filter(shown).map((t) => ({label: text(t), box: box(t)})),
      yTitle: text(p.previousElementSibling.querySelector('.axis-title')),
      svgWidth: p.querySelector('svg').getBoundingClientRect().width,
      lines: [...p.querySelectorAll('svg line.level')].map((l) => l.getAttribute('class')),
      labels: [...p.querySelectorAll('.line-label')].filter(shown).map((l) => ({cls: l.className, label: text(l), box: box(l)})),
      bands: [...p.querySelectorAll('svg rect.band')].map((r) => r.getAttribute('class')),
      shaded: p.querySelectorAll('svg rect.breach-period').length,
    })),
    strips: f.querySelectorAll('svg.strip rect').length,
  }));
  const unlabelled = [];
  for (const dd of document.querySelectorAll('dd')) {
    if (!shown(dd)) continue;
    const dt = dd.previousElementSibling;
    if (!dt || dt.tagName !== 'DT' || !shown(dt) || !text(dt)) unlabelled.push(text(dd).slice(0, 60));
  }
  for (const td of document.querySelectorAll('td')) {
    if (!shown(td) || !text(td)) continue;
    const table = td.closest('table');
    const head = table.querySelector('thead th');
    const before = getComputedStyle(td, '::before').content;
    const labelled = (head && shown(head)) || (before && before !== 'none' && before !== 'normal' && before.length > 2);
    if (!labelled) unlabelled.push(text(td).slice(0, 60));
  }
  const outside = [...document.querySelectorAll('main *')].filter(shown)
    .filter((e) => !e.closest('svg') && !e.closest('pre') && e.getBoundingClientRect().right > innerWidth + 1)
    .map((e) => e.tagName + '.' + e.className);
  return {
    width: innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    figures, unlabelled, outside: outside.slice(0, 10),
    cardsMode: [...document.querySelectorAll('table.cards thead')].every((t) => !shown(t)),
    scripts: document.scripts.length,
    handlers: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
    links: [...document.querySelectorAll('a[href]')].map((a) => ({href: a.getAttribute('href'), text: text(a), cls: a.className})),
    text: document.body.innerText,
    title: document.title,
  };
})()"""


def _overlaps(boxes: list[list[float]]) -> list[tuple[list[float], list[float]]]:
    return [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5
    ]


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "a" and found.get("href"):
            self.hrefs.append(found["href"] or "")


def _parsed(path: Path) -> _Ids:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(page: Path) -> list[str]:
    """Relative links of ``page`` that name no file, or no element in the file they name."""
    broken = []
    for href in _parsed(page).hrefs:
        parts = urlsplit(href)
        if parts.scheme:
            if parts.scheme not in ("http", "https"):
                broken.append(href)
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        missing = parts.fragment and unquote(parts.fragment) not in _parsed(target).ids
        if not target.is_file() or missing:
            broken.append(href)
    return broken


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("on-call")
    return write_scenario(folder / "reports", folder / "history.db")


def test_every_link_resolves_and_only_http_runbooks_are_links(scenario: Path) -> None:
    reports = scenario.parent
    pages = [scenario, reports / "index.html", *sorted((reports / "runs").glob("*.html"))]
    assert len(pages) == 5  # report.html, the index, three runs' own pages
    for page in pages:
        assert broken_links(page) == [], page.name
    hrefs = _parsed(scenario).hrefs
    assert "https://runbooks.example/queue-depth" in hrefs
    assert "https://github.com/acme/shop-probes/actions/runs/4242" in hrefs
    assert not [h for h in hrefs if "javascript" in h.lower()]
    earlier, previous, this = sorted((reports / "runs").glob("*.html"))
    assert f'href="{previous.name}"' in earlier.read_text()  # filled in when the next run came
    assert f'rel="prev" href="runs/{previous.name}"' in scenario.read_text()
    assert f'href="runs/{this.name}"' in scenario.read_text()
    index = reports / "index.html"
    assert f'id="run-{this.stem}"' in index.read_text()


def test_the_top_says_what_is_wrong_and_what_changed(scenario: Path) -> None:
    html = scenario.read_text()
    order = re.findall(r'<section class="slo card" id="(slo-[^"]+)"', html)
    assert order == ["slo-queue-depth", "slo-success-rate", "slo-health-latency"]
    assert "1 breached (queue-depth); 1 warning (success-rate); 1 of 3 SLOs met" in html
    assert (
        'success-rate</a>: <span class="badge">ok</span> → <span class="badge warning">warning</span>'
        in html
    )
    # The probe titles keep their query: two probes of one path read apart.
    assert "stats-hour · GET /admin/jobs/stats?hours=1" in html
    assert "stats-day · GET /admin/jobs/stats?hours=24" in html
    # A check's level and its outcome are two labelled things; a held check never says breach.
    assert re.search(
        r'data-label="level">warn threshold</td><td data-label="observed">value = 93%</td>'
        r'<td data-label="outcome"><span class="outcome failed">failed</span>',
        html,
    )
    assert re.search(
        r'data-label="level">breach threshold</td><td data-label="observed">value = 93%</td>'
        r'<td data-label="outcome"><span class="outcome held">held</span>',
        html,
    )
    assert "(breach)" not in html


@pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium (scripts/test.sh installs Debian's chromium)"
)
def test_in_chromium_at_1280_and_390_px(scenario: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    browser = Chromium(CHROMIUM, tmp_path / "profile")
    try:
        pages = {}
        for width in (1280, 390):
            browser.open(scenario.as_uri(), width)
            pages[width] = browser.evaluate(LAYOUT)
            browser.screenshot(tmp_path / f"report-{width}.png", width)
    finally:
        browser.close()
    for width, page in pages.items():
        assert page["width"] == width
        assert page["scrollWidth"] <= width, f"{width} px: the page scrolls sideways"
        assert page["outside"] == [], f"{width} px: cut off at the right"
        assert page["scripts"] == 0 and page["handlers"] == []
        assert HOSTILE in page["text"]  # shown as text, never run
        assert "javascript:alert(document.domain)" in page["text"]
        figures = page["figures"]
        # queue-depth and health-latency: the last 24 h and the budget; success-rate: 24 h only.
        assert [f["kind"] for f in figures] == ["recent", "window", "recent", "recent", "window"]
        for figure in figures:
            assert len(figure["x"]) >= 3 and all(t["label"] for t in figure["x"]), figure["x"]
            assert _overlaps([t["box"] for t in figure["x"]]) == []
            assert figure["xTitle"].startswith("UTC")
            assert figure["strips"] >= 1
            for plot in figure["plots"]:
                assert len(plot["y"]) >= 3 and plot["yTitle"]
                assert _overlaps([t["box"] for t in plot["y"]]) == []
                assert plot["svgWidth"] >= 0.8 * figure["width"]  # full width, not a column
                assert len(plot["labels"]) == len(plot["lines"]) > 0
                assert all(label["label"] for label in plot["labels"])
        recent = {f["plots"][0]["yTitle"]: f for f in figures if f["kind"] == "recent"}
        depth = recent["value (count)"]["plots"][0]
        assert sorted(label["label"] for label in depth["labels"]) == [
            "threshold value < 100",
            "warn value < 60",
        ]
        assert depth["shaded"] >= 2  # this morning's incident and now
        assert "band incident" in depth["bands"]
        assert "band gap" in depth["bands"]  # the 45 minutes with no run
        assert {t["label"] for t in depth["y"]} >= {"0", "100"}
        latency = recent["p95"]["plots"][0]
        assert any(t["label"].endswith("ms") for t in latency["y"])
        rate = recent["value"]["plots"][0]
        assert all(t["label"].endswith("%") for t in rate["y"])
        budget = next(f for f in figures if f["kind"] == "window")["plots"][0]
        assert [t["label"] for t in budget["y"]] == ["0%", "25%", "50%", "75%", "100%"]
        assert page["unlabelled"] == [], f"{width} px: values without a visible label"
    assert pages[390]["cardsMode"] and not pages[1280]["cardsMode"]
    for width in (1280, 390):
        assert (tmp_path / f"report-{width}.png").stat().st_size > 50_000


def _every(minutes: float, count: int, start: datetime = NOW) -> list[datetime]:
    return [start + timedelta(minutes=minutes * i) for i in range(count)]


@pytest.mark.parametrize(
    ("times", "gaps"),
    [
        pytest.param(_every(5, 30), [], id="a steady five-minute schedule"),
        pytest.param(
            _every(5, 20) + _every(5, 20, NOW + timedelta(minutes=140)),
            [(NOW + timedelta(minutes=100), NOW + timedelta(minutes=140))],
            id="forty minutes missing, from when the next run was due",
        ),
        pytest.param(
            [t for i, t in enumerate(_every(5, 40)) if i not in (10, 20)],
            [],
            id="one late run is late, not a gap",
        ),
        pytest.param(
            _every(60, 20) + _every(5, 30, NOW + timedelta(hours=20)),
            [],
            id="hourly roll-ups meeting five-minute runs",
        ),
        pytest.param(
            [NOW, NOW + timedelta(seconds=4), NOW + timedelta(seconds=40)],
            [],
            id="three runs say nothing of what is usual",
        ),
    ],
)
def test_gaps_are_runs_that_did_not_happen(
    times: list[datetime], gaps: list[tuple[datetime, datetime]]
) -> None:
    from sloprobe.sinks.chart_scales import read_runs

    runs = read_runs(times)
    assert list(runs.gaps) == gaps
    assert len(runs.spans) == len(times)
    assert all(start < end for start, end in runs.spans)


def test_axes_label_round_values_in_the_measures_unit() -> None:
    from sloprobe.model.units import Dimension
    from sloprobe.sinks.chart_scales import TimeFrame, time_ticks, value_scale

    day = time_ticks(TimeFrame(NOW - timedelta(days=1), NOW))
    labels = ["15:00", "18:00", "21:00", "Nov 24", "03:00", "06:00", "09:00", "12:00"]
    assert [t.label for t in day] == labels
    assert [t.minor for t in day] == [False, True] * 4  # every other one goes on a phone
    assert value_scale(0, 0.42, Dimension.TIME)[2] == [0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert value_scale(0.9, 1.0, Dimension.FRACTION)[2] == [0.9, 0.92, 0.94, 0.96, 0.98, 1.0]
