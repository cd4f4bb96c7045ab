"""From a failed check to the backend's own trace: the report, the step summary, annotations.

Each failed or breached check shows its probe's trace id, linked through
``settings.traces.url``; a job's id goes beside it; without a template the id
is text. The template is config: a secret in it (a canary here) appears in no
output, and nothing in a link can end it. The last test runs a suite of our own
through the plugin against the reference service with a failing job.
"""

from __future__ import annotations

import html
import io
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sloprobe.codec import result_from_dict
from sloprobe.config import load_slo_text
from sloprobe.config.errors import ConfigError
from sloprobe.demo.service import Faults, ServiceConfig, start_service
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Level, Status
from sloprobe.model.units import Unit
from sloprobe.model.verdict import ThresholdCheck, Verdict
from sloprobe.probes.tracing import (
    PLACEHOLDERS,
    TraceLinks,
    link_template_problem,
    template_secrets,
    trace_link,
)
from sloprobe.redact import Redactor
from sloprobe.sinks.github_actions import (
    annotation,
    job_summary,
    markdown_cell,
    write_github_outputs,
)
from sloprobe.sinks.html_report import render_html_report, write_html_report
from tests.sinks.test_reports import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
JOB_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
HTTP_TRACE = "0af7651916cd43dd8448eb211c80319c"
OK_TRACE = "11111111111111111111111111111111"
CANARY = "c4nary-s3cret-7731"
PATH_CANARY = "p4th-c4nary-0042"  # a secret the run's redactor knows (the target's token, say)
TEMPLATE = (
    f"https://tracer:{CANARY}@traces.example/{PATH_CANARY}/trace/{{trace_id}}"
    f"?api_key={CANARY}&from={{start_ms}}&to={{end_ms}}"
)
HOSTILE = '"><script>alert(1)</script>'


def _check(expression: str, held: bool | None, observed: float | None = None) -> ThresholdCheck:
    text = "failed" if observed is None else f"value = {observed}"
    return ThresholdCheck(expression, Level.BREACH, observed, text, held)


def _verdict(
    slo: str, probe: str, status: Status, *checks: ThresholdCheck, **kw: object
) -> Verdict:
    fields: dict[str, object] = {
        "measure": "total",
        "observed": "failed",
        "threshold": checks[0].expression,
        "reason": f"probe {probe} failed",
        "counts_as_bad": status is Status.BREACH,
        "checks": checks,
    }
    fields.update(kw)
    return Verdict(slo=slo, probe=probe, status=status, **fields)  # type: ignore[arg-type]


@pytest.fixture
def run() -> RunResult:
    info = RunInfo(
        "r1", "shop", "prod", START, START + timedelta(seconds=4), "0.1.0", "slo.yaml", None
    )
    job = Measurement(
        "job",
        "job",
        START,
        2.5,
        {"total": Series("total", Unit.S, ())},
        failure=f"job 42{HOSTILE} ended failed: boom",
        details={"job": f"42{HOSTILE}", "polls": "3"},
        trace_id=JOB_TRACE,
    )
    queue = Measurement(
        "queue",
        "http",
        START,
        0.1,
        {"depth": Series("depth", Unit.COUNT, (150.0,))},
        details={"request": "GET https://shop.example/admin/metrics"},
        trace_id=HTTP_TRACE,
    )
    health = Measurement(
        "health",
        "http",
        START,
        0.1,
        {"latency": Series("latency", Unit.S, (0.1,))},
        trace_id=OK_TRACE,
    )
    verdicts = (
        _verdict("job-total", "job", Status.BREACH, _check("max < 10s", None)),
        _verdict(
            "queue-depth",
            "queue",
            Status.BREACH,
            _check("value < 100", False, 150.0),
            _check("value >= 0", True, 150.0),
            measure="depth",
            observed="value = 150",
            reason="value = 150, expected value < 100",
        ),
        _verdict(
            "health",
            "health",
            Status.OK,
            _check("p95 < 1s", True, 0.1),
            observed="p95 = 100ms",
            reason="all thresholds met",
        ),
    )
    return RunResult(info, verdicts, {"job": job, "queue": queue, "health": health})


def _links() -> TraceLinks:
    return TraceLinks(TEMPLATE, Redactor([PATH_CANARY]))


def _expected(trace_id: str) -> str:
    start = int((START - timedelta(minutes=10)).timestamp() * 1000)
    took = 2.5 if trace_id == JOB_TRACE else 0.1
    end = int((START + timedelta(seconds=took, hours=1)).timestamp() * 1000)
    return f"https://***@traces.example/***/trace/{trace_id}?api_key=***&from={start}&to={end}"


class _Page(HTMLParser):
    """Links (href, class, text) and the text of each check row, by SLO card."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.rows: list[tuple[str, str]] = []  # (card id, row text)
        self.card = ""
        self._href: tuple[str, str] | None = None
        self._text: list[str] = []
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "section" and found.get("id", "").startswith(("slo-", "probe-")):
            self.card = found["id"]
        if tag == "a":
            self._href, self._text = (found.get("href", ""), found.get("class", "")), []
        if tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((*self._href, "".join(self._text)))
            self._href = None
        if tag == "tr" and self._row is not None:
            self.rows.append((self.card, " ".join(" ".join(self._row).split())))
            self._row = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._row is not None:
            self._row.append(data)


def _page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


# -- the link ------------------------------------------------------------------------------


def test_a_link_masks_the_templates_secrets_and_escapes_what_could_end_it() -> None:
    assert _links().url(JOB_TRACE, START, 2.5) == _expected(JOB_TRACE)
    odd = "https://t.example/trace/{trace_id}?q=\"<b>|(x)[y]'`"
    link = trace_link(odd, JOB_TRACE)
    assert link == f"https://t.example/trace/{JOB_TRACE}?q=%22%3Cb%3E%7C%28x%29%5By%5D%27%60"
    assert sorted(template_secrets(TEMPLATE)) == sorted([CANARY, CANARY, CANARY])


@pytest.mark.parametrize(
    "trace_id", [None, "", "4BF92F3577B34DA6A3CE929D0E0E4736", "0" * 32, "abc", JOB_TRACE + '"']
)
def test_only_a_well_formed_trace_id_makes_a_link(trace_id: str | None) -> None:
    assert trace_link("https://t.example/{trace_id}", trace_id) is None


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("javascript:alert(1)//{trace_id}", "expected an http:// or https:// URL"),
        ("https://t.example/trace/", "needs {trace_id}"),
        ("https://t.example/{trace_id}/{span_id}", "unknown placeholder {span_id}"),
        ("https://t.example/{trace_id}?a={0.__class__}", "unknown placeholder {0.__class__}"),
        ("https://t.example/{trace_id} x", "no space"),
        ("https://t.example/{trace_id}}", "unmatched"),
    ],
)
def test_a_bad_template_is_a_config_error_that_never_quotes_it(template: str, problem: str) -> None:
    assert problem in (link_template_problem(template) or "")
    yaml = """\
version: 1
service: s
settings:
  traces:
    url: ${TRACES_URL:-}
probes:
  h: {http: {path: /health}}
slos:
  up: {probe: h, measure: latency, threshold: max < 1s}
"""
    with pytest.raises(ConfigError) as raised:
        load_slo_text(yaml, environ={"TRACES_URL": template + CANARY})
    assert problem in str(raised.value) and CANARY not in str(raised.value)
    empty = load_slo_text(yaml, environ={})
    assert empty.spec.settings.traces.url is None


def _doc_templates() -> list[str]:
    text = (ROOT / "docs" / "traces.md").read_text(encoding="utf-8")
    return re.findall(r"^\s*url: (\S+)\s*(?:#.*)?$", text, re.M)


def test_every_preset_of_the_docs_makes_a_link() -> None:
    templates = _doc_templates()
    assert len(templates) >= 6  # Sentry (two), Tempo, Jaeger, Honeycomb, Datadog
    for template in templates:
        assert link_template_problem(template) is None, template
        link = trace_link(template, JOB_TRACE, started=START)
        assert link is not None and link.startswith("https://"), template
        assert JOB_TRACE in link or str(int(JOB_TRACE[16:], 16)) in link
        assert "{" not in link
    grafana = next(t for t in templates if "grafana" in t)
    panes = parse_qs(urlsplit(trace_link(grafana, JOB_TRACE, started=START) or "").query)["panes"]
    assert JOB_TRACE in json.loads(panes[0])["t"]["queries"][0]["query"]
    assert set(PLACEHOLDERS) >= {"trace_id", "start", "end"}


# -- the report ----------------------------------------------------------------------------


def test_the_report_links_each_failed_checks_trace_and_a_job_id_beside_it(run: RunResult) -> None:
    text = render_html_report(run, traces=_links())
    page = _page(text)
    traced = {(href, label) for href, cls, label in page.links if cls == "trace"}
    assert traced == {(_expected(JOB_TRACE), JOB_TRACE), (_expected(HTTP_TRACE), HTTP_TRACE)}
    rows = {card: [r for c, r in page.rows if c == card] for card, _ in page.rows}
    # Every check of the failed job, the failed check of the queue; none of what held.
    assert rows["slo-job-total"][1:] == [
        f"max < 10s breach threshold failed not computed {JOB_TRACE}"
    ]
    assert rows["slo-queue-depth"][1:] == [
        f"value < 100 breach threshold value = 150.0 failed {HTTP_TRACE}",
        "value >= 0 breach threshold value = 150.0 held —",
    ]
    assert all(OK_TRACE not in r for r in rows["slo-health"])
    # The job's own id and its trace, together: on its SLO's card and on the probe's.
    together = f"job 42{HOSTILE} · trace {JOB_TRACE}"
    flat = " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())
    assert flat.count(together) == 2, "job and trace together on the SLO card and the probe card"
    assert "<script>alert(1)" not in text
    assert CANARY not in text and PATH_CANARY not in text


def test_without_a_template_the_trace_id_is_text(run: RunResult) -> None:
    text = render_html_report(run)
    page = _page(text)
    assert not [link for link in page.links if link[1] == "trace"]
    assert f'<code class="trace">{JOB_TRACE}</code>' in text
    assert "set settings.traces.url" in text
    rows = [r for c, r in page.rows if c == "slo-queue-depth"]
    assert rows[1].endswith(HTTP_TRACE)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (scripts/test.sh installs it)")
def test_chromium_reads_the_trace_links_as_written(run: RunResult, tmp_path: Path) -> None:
    report = write_html_report(run, tmp_path / "reports", traces=_links())
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    flags += ["--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}"]
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
    ).stdout
    page = _page(dom)
    hrefs = {href for href, cls, _ in page.links if cls == "trace"}
    assert hrefs == {_expected(JOB_TRACE), _expected(HTTP_TRACE)}
    assert CANARY not in dom and PATH_CANARY not in dom
    assert "<script>alert(1)" not in dom


# -- GitHub --------------------------------------------------------------------------------


def test_the_step_summary_and_annotations_hold_each_failed_checks_trace(
    run: RunResult, tmp_path: Path
) -> None:
    summary, stream = tmp_path / "summary.md", io.StringIO()
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    write_github_outputs(run, None, environ, stream, traces=_links())
    table = summary.read_text()
    rows = [r for r in table.splitlines() if r.startswith("| ") and "`" in r]
    assert rows == [
        f"| job-total | {markdown_cell('42' + HOSTILE)} | "
        f"[`{JOB_TRACE}`]({_expected(JOB_TRACE).replace('&', '&amp;')}) |",
        f"| queue-depth | — | [`{HTTP_TRACE}`]({_expected(HTTP_TRACE).replace('&', '&amp;')}) |",
    ]
    lines = stream.getvalue().splitlines()
    assert f"job 42{HOSTILE}, trace {JOB_TRACE}: {_expected(JOB_TRACE)}" in lines[0]
    assert f"(trace {HTTP_TRACE}: {_expected(HTTP_TRACE)})" in lines[1]
    assert OK_TRACE not in table + stream.getvalue()
    for text in (table, stream.getvalue()):
        assert CANARY not in text and PATH_CANARY not in text
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(table)
    hrefs = [html.unescape(h) for h in re.findall(r'<a href="([^"]*)"', rendered)]
    assert hrefs == [_expected(JOB_TRACE), _expected(HTTP_TRACE)]
    assert "<script" not in rendered


def test_without_a_template_the_summary_and_annotation_say_the_id(run: RunResult) -> None:
    table = job_summary(run)
    assert f"| queue-depth | — | `{HTTP_TRACE}` |" in table
    assert "set `settings.traces.url` in slo.yaml" in table
    assert annotation(run.verdicts[1]).endswith("expected value < 100")  # no trace: as before


# -- end to end: the plugin against the reference service ----------------------------------

SUITE = """\
version: 1
service: traced-demo
settings:
  traces:
    url: ${TRACES_URL}
probes:
  job:
    job:
      submit: {path: /jobs, form: {asset_id: synthetic, prompt: probe}, id: job_id}
      status: {path: "/jobs/{id}", finished_at: completed_at, error: error_message}
      poll: {interval: 50ms, max_interval: 100ms, timeout: 5s}
slos:
  job-succeeds:
    probe: job
    measure: succeeded
    threshold: value == true
"""


def test_the_demo_links_a_failing_job_to_its_trace(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    template = f"https://jaeger.example/trace/{{trace_id}}?token={CANARY}"
    monkeypatch.setenv("TRACES_URL", template)
    monkeypatch.delenv("PROBE_BASE_URL", raising=False)
    with start_service(ServiceConfig(faults=Faults(failure_rate=1.0))) as service:
        outcome = pytester.runpytest("--base-url", service.base_url, "-p", "no:cacheprovider")
        entries = service.request_log
    assert outcome.ret == 1, outcome.stdout.str()
    reports = pytester.path / "reports"
    data = json.loads((reports / "results.json").read_text())
    trace_id = data["measurements"]["job"]["trace_id"]
    job_id = data["measurements"]["job"]["details"]["job"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    # The service read it: every request of the job carried it, and its answer returned it.
    assert {e.trace_id for e in entries if e.path.startswith("/jobs")} == {trace_id}
    assert f'"trace_id":"{trace_id}"' in data["measurements"]["job"]["excerpt"]
    written = (reports / "report.html").read_text()
    assert trace_id in written and CANARY not in written
    # The run's own report links it, through settings.traces.url, its secret masked.
    assert f"https://jaeger.example/trace/{trace_id}?token=***" in html.unescape(written)
    result = result_from_dict(data)
    linked = render_html_report(result, traces=TraceLinks(template, Redactor()))
    href = f"https://jaeger.example/trace/{trace_id}?token=***"
    assert ("trace", href, trace_id) in {(c, h, t) for h, c, t in _page(linked).links}
    flat = " ".join(html.unescape(re.sub(r"<[^>]+>", "", linked)).split())
    assert f"job {job_id} · trace {trace_id}" in flat
    assert CANARY not in linked
