"""HTML report and JSON results: complete, strict, escaped, and readable in a real browser."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Level, Status
from sloprobe.model.units import Unit
from sloprobe.model.verdict import ThresholdCheck, Verdict
from sloprobe.sinks import default_sinks, publish
from sloprobe.sinks.html_report import write_html_report
from sloprobe.sinks.json_results import write_json_results

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def verdict(slo: str, status: Status, **extra: object) -> Verdict:
    fields: dict[str, object] = {
        "probe": "health",
        "measure": "latency",
        "observed": "p95 = 120ms",
        "threshold": "p95 < 300ms",
        "reason": "all thresholds met",
        "counts_as_bad": status is Status.BREACH,
        "samples": 3,
    }
    fields.update(extra)
    return Verdict(slo=slo, status=status, **fields)  # type: ignore[arg-type]


@pytest.fixture
def result() -> RunResult:
    info = RunInfo(
        run_id="abc123",
        service="shop",
        environment="prod",
        started_at=START,
        finished_at=START + timedelta(seconds=2),
        sloprobe_version="0.1.0",
        slo_file="slo.yaml",
        base_url="https://***@shop.example",
    )
    verdicts = (
        verdict(
            "fast",
            Status.OK,
            checks=(ThresholdCheck("p95 < 300ms", Level.BREACH, 0.12, "p95 = 120ms", True),),
        ),
        verdict(
            "rate",
            Status.WARNING,
            observed="value = 93.33%",
            reason="value = 93.33%, expected value >= 95%",
        ),
        verdict(
            "state",
            Status.BREACH,
            observed=HOSTILE,
            reason=f"probe health failed: {HOSTILE}",
            runbook="javascript:alert(3)",
        ),
        verdict(
            "jobs",
            Status.NO_DATA,
            observed="no data",
            reason="field `x` is null",
            counts_as_bad=False,
            runbook="https://runbooks.example/jobs",
        ),
    )
    measurement = Measurement(
        probe="health",
        kind="http",
        started_at=START,
        duration_s=0.3,
        series={
            "latency": Series("latency", Unit.S, (0.1, 0.12, float("nan"))),
            "state": Series("state", Unit.TEXT, (HOSTILE,)),
        },
        failure=f"GET /health answered 500: {HOSTILE}",
        excerpt=HOSTILE,
        attempts=3,
        retries=2,
    )
    return RunResult(info, verdicts, {"health": measurement}, ("history store unreachable",))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_json_results_are_strict_and_complete(result: RunResult, tmp_path: Path) -> None:
    path = write_json_results(result, tmp_path)
    data = json.loads(
        path.read_text(), parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}")
    )
    assert data["schema"] == "sloprobe.results/1"
    assert data["status"] == "breach"
    assert data["counts"] == {"ok": 1, "warning": 1, "breach": 1, "no_data": 1}
    assert [v["slo"] for v in data["verdicts"]] == ["fast", "rate", "state", "jobs"]
    assert data["verdicts"][0]["checks"][0] == {
        "expression": "p95 < 300ms",
        "level": "breach",
        "observed": 0.12,
        "observed_text": "p95 = 120ms",
        "held": True,
    }
    assert data["measurements"]["health"]["series"]["latency"]["samples"] == [
        0.1,
        0.12,
        {"float": "nan"},
    ]
    assert data["measurements"]["health"]["retries"] == 2
    assert data["warnings"] == ["history store unreachable"]


def test_html_lists_every_slo_and_escapes_target_content(result: RunResult, tmp_path: Path) -> None:
    html = write_html_report(result, tmp_path).read_text()
    page = parse(html)
    rows = {
        attrs["id"]: attrs["data-status"]
        for tag, attrs in page.tags
        if tag == "section" and (attrs.get("id") or "").startswith("slo-")
    }
    assert rows == {
        "slo-fast": "ok",
        "slo-rate": "warning",
        "slo-state": "breach",
        "slo-jobs": "no_data",
    }
    assert not [t for t, _ in page.tags if t in ("script", "img", "iframe", "object")]
    assert HOSTILE in "".join(page.text)  # shown as text
    links = [attrs.get("href") or "" for tag, attrs in page.tags if tag == "a"]
    external = [h for h in links if ":" in h]  # the others are relative: index, runs, anchors
    assert external == ["https://runbooks.example/jobs"]
    assert "javascript:alert(3)" in "".join(page.text)
    assert "<title>sloprobe — shop: breach</title>" in html
    # self-contained: nothing is fetched from anywhere
    assert not [
        a
        for t, a in page.tags
        for k in ("src", "href")
        if t != "a" and (a.get(k) or "").startswith(("http", "//"))
    ]


def test_breaches_come_first(result: RunResult, tmp_path: Path) -> None:
    html = write_html_report(result, tmp_path).read_text()
    order = [
        attrs["id"]
        for tag, attrs in parse(html).tags
        if tag == "section" and (attrs.get("id") or "").startswith("slo-")
    ]
    assert order[0] == "slo-state"
    assert order[-1] == "slo-fast"


def test_a_failing_sink_is_a_warning_not_a_crash(result: RunResult, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    written, warnings = publish(result, blocker / "reports")
    assert written == []
    assert len(warnings) == len(default_sinks()) == 4
    assert all("cannot write to" in w for w in warnings)


def test_report_replaces_the_previous_one_atomically(result: RunResult, tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("old")
    write_html_report(result, tmp_path)
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "runs"]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["20261124T120000Z-abc123.html"]


CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine (scripts/test.sh installs Debian's chromium)",
)
def test_report_in_headless_chromium(result: RunResult, tmp_path: Path) -> None:
    report = write_html_report(result, tmp_path / "reports")
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
    ]
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
    ).stdout
    page = parse(dom)
    rows = {
        attrs["id"]
        for tag, attrs in page.tags
        if tag == "section" and (attrs.get("id") or "").startswith("slo-")
    }
    assert rows == {"slo-fast", "slo-rate", "slo-state", "slo-jobs"}
    assert not [t for t, _ in page.tags if t in ("script", "img")], (
        "target content became live markup"
    )
    assert "<script>alert(1)</script>" in "".join(page.text)
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1280,1600", report.as_uri()],
        capture_output=True,
        timeout=90,
    )
    assert shot.stat().st_size > 20_000


def test_run_index_keeps_each_run_and_prunes(result: RunResult, tmp_path: Path) -> None:
    from sloprobe.sinks import run_index

    for minute in range(run_index.RETENTION + 3):
        run = dataclasses.replace(
            result.run, run_id=f"r{minute:03d}", started_at=START + timedelta(minutes=minute)
        )
        _, warnings = publish(dataclasses.replace(result, run=run), tmp_path)
        assert not warnings
    runs = sorted((tmp_path / "runs").glob("*.json"))
    assert len(runs) == run_index.RETENTION
    assert runs[0].name.endswith("-r003.json")  # the three oldest were pruned
    assert (tmp_path / "runs" / runs[-1].name.replace(".json", ".html")).is_file()
    index = (tmp_path / "index.html").read_text()
    assert index.count('data-status="breach"') == run_index.RETENTION
    assert (
        json.loads((tmp_path / "latest.json").read_text())["run"]["run_id"]
        == f"r{run_index.RETENTION + 2:03d}"
    )
