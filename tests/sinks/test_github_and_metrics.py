"""GitHub summary, annotations and outputs as the runner reads them; metrics.prom as Prometheus reads it."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sloprobe.codec import result_to_dict
from sloprobe.model.history import Budget, BurnRate, IncidentState, SloHistory, Transition
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Level, Status
from sloprobe.model.verdict import ThresholdCheck, Verdict
from sloprobe.sinks.github_actions import (
    escape_data,
    escape_property,
    job_summary,
    write_github_outputs,
)
from sloprobe.sinks.metrics_textfile import render_metrics

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NASTY = "50%, bad:\r\nline <script>x</script> | [x](javascript:alert(1))"


def verdict(
    slo: str,
    status: Status,
    observed: str = "value = 3",
    value: float = 3.0,
    history: SloHistory | None = None,
    reason: str = "because",
    runbook: str | None = None,
    threshold: str = "value < 10",
) -> Verdict:
    return Verdict(
        slo=slo,
        probe="p",
        measure="m",
        status=status,
        observed=observed,
        threshold=threshold,
        reason=reason,
        counts_as_bad=status is Status.BREACH,
        runbook=runbook,
        checks=(
            ThresholdCheck(
                "value < 10", Level.BREACH, value, observed, status is not Status.BREACH
            ),
        ),
        history=history,
    )


def result(*verdicts: Verdict, service: str = "shop") -> RunResult:
    info = RunInfo(
        "r1",
        service,
        'prod "eu"\\1',
        START,
        START + timedelta(seconds=3),
        "0.1.0",
        "slo.yaml",
        None,
    )
    return RunResult(info, verdicts)


HISTORY = SloHistory(
    IncidentState(
        True, Transition.OPENED, START, 0.0, 3, 0, "3 consecutive bad runs", None, 7, START
    ),
    Budget(0.99, 86400, "timeslices", 10, 9, 10, 0.9, 864, 0.25, 216, 100.0, 3000),
    (BurnRate(300, 100.0, 1), BurnRate(3600, None, 0)),
)


def test_escaping_rules_of_workflow_commands() -> None:
    assert escape_data("50%\r\n") == "50%25%0D%0A"
    assert escape_property("a: b, c%") == "a%3A b%2C c%25"


def test_annotations_summary_and_outputs(tmp_path: Path) -> None:
    run = result(
        verdict("ok-one", Status.OK),
        verdict("bad-one", Status.BREACH, observed=NASTY),
        verdict("meh", Status.WARNING),
    )
    summary, outputs = tmp_path / "summary.md", tmp_path / "out.txt"
    stream = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    done = write_github_outputs(run, tmp_path / "report.html", env, stream)
    assert done == ["job summary", "step outputs"]
    lines = stream.getvalue().splitlines()
    assert lines[0] == "::error title=SLO breach%3A bad-one::" + escape_data(
        f"SLO bad-one breach: {NASTY}, expected value < 10; because"
    )
    assert "\r" not in lines[0] and lines[0].count("::") == 2
    assert lines[1].startswith("::warning title=SLO warning%3A meh::")
    table = summary.read_text()
    rows = [r for r in table.splitlines() if r.startswith("| ") and "---" not in r][1:]
    assert [r.split(" | ")[0].strip("| \\") for r in rows] == ["bad-one", "meh", "ok-one"]
    assert "<script>" not in table and "](javascript" not in table
    assert all(r.count(" | ") == 5 for r in rows)  # no stray pipes from the target
    assert (
        outputs.read_text()
        == f"status=breach\nbreached=bad-one\nreport={tmp_path / 'report.html'}\nreport-url=\n"
    )


RUN = "https://github.com/acme/shop/actions/runs/42"
RUNNER = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_RUN_ID": "42",
    "GITHUB_RUN_ATTEMPT": "1",
}
QUEUE_DEPTH = verdict(
    "queue-depth",
    Status.BREACH,
    observed="value = 150",
    value=150.0,
    reason="value = 150, expected value < 100",
    runbook="https://runbooks.example.com/queue-depth",
    threshold="value < 100",
)


def _in_actions(
    tmp_path: Path, run: RunResult, **env: str
) -> tuple[list[str], str, dict[str, str]]:
    """(annotation lines, summary, outputs) of a run in Actions with ``env`` on top of RUNNER."""
    summary, outputs, stream = tmp_path / "summary.md", tmp_path / "out.txt", io.StringIO()
    environ = {
        **RUNNER,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        **env,
    }
    write_github_outputs(run, tmp_path / "reports" / "report.html", environ, stream)
    written = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return stream.getvalue().splitlines(), summary.read_text(), written


def _hrefs(markdown: str) -> list[str]:
    """The links a CommonMark renderer makes of the summary (GitHub's is CommonMark too)."""
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<script" not in rendered
    return [html.unescape(h) for h in re.findall(r'<a href="([^"]*)"', rendered)]


def test_each_annotation_says_its_thing_once(tmp_path: Path) -> None:
    failed = verdict(
        "health",
        Status.BREACH,
        observed="failed",
        reason="probe p failed: GET https://shop.example/health: HTTP 503, expected 2xx",
    )
    lines, _, _ = _in_actions(tmp_path, result(QUEUE_DEPTH, failed))
    assert lines == [
        "::error title=SLO breach%3A queue-depth::SLO queue-depth breach: value = 150, "
        "expected value < 100 (runbook: https://runbooks.example.com/queue-depth; "
        f"report: {RUN}#artifacts)",
        "::error title=SLO breach%3A health::SLO health breach: probe p failed: "
        f"GET https://shop.example/health: HTTP 503, expected 2xx (report: {RUN}#artifacts)",
    ]


def test_a_failed_job_annotation_states_its_state_and_the_failure_once(tmp_path: Path) -> None:
    job = verdict(
        "job-state",
        Status.BREACH,
        observed="value = 'FAILURE'",
        reason="probe job failed: job 7 ended FAILURE: boom",
        threshold='value == "SUCCESS"',
    )
    lines, _, _ = _in_actions(tmp_path, result(job), GITHUB_RUN_ID="")
    assert lines == [
        "::error title=SLO breach%3A job-state::SLO job-state breach: value = 'FAILURE', "
        'expected value == "SUCCESS"; probe job failed: job 7 ended FAILURE: boom'
    ]


def test_summary_and_outputs_link_the_run_the_report_artifact_and_runbooks(
    tmp_path: Path,
) -> None:
    ok = verdict("fine", Status.OK, runbook="https://runbooks.example.com/fine")
    _, summary, outputs = _in_actions(
        tmp_path,
        result(QUEUE_DEPTH, ok),
        GITHUB_RUN_ATTEMPT="2",
        SLOPROBE_ARTIFACT_NAME="sloprobe-report-42",
    )
    attempt = f"{RUN}/attempts/2"
    assert (
        f"Run: [42]({RUN}) ([attempt 2]({attempt})) · "
        f"Report: [report.html in artifact sloprobe-report-42]({attempt}#artifacts)\n"
    ) in summary
    assert "| queue-depth ([runbook](https://runbooks.example.com/queue-depth)) |" in summary
    assert "| fine |" in summary
    assert _hrefs(summary) == [
        RUN,
        attempt,
        f"{attempt}#artifacts",
        "https://runbooks.example.com/queue-depth",  # an ok SLO's runbook is not news
    ]
    assert outputs["report"] == str(tmp_path / "reports" / "report.html")  # for later steps
    assert outputs["report-url"] == RUN


@pytest.mark.parametrize(
    "runbook",
    [
        "javascript:alert(1)",
        "JavaScript://example.com/%0Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/rb",
        "https://evil.example/a b",
        "https:///no-host",
    ],
)
def test_only_http_runbooks_become_links(tmp_path: Path, runbook: str) -> None:
    bad = verdict("bad-one", Status.BREACH, runbook=runbook)
    lines, summary, _ = _in_actions(tmp_path, result(QUEUE_DEPTH, bad))
    assert _hrefs(summary) == [RUN, f"{RUN}#artifacts", "https://runbooks.example.com/queue-depth"]
    assert "runbook" not in lines[1]
    assert "](javascript" not in summary.lower() and "<script>" not in summary


def test_a_runbook_cannot_break_out_of_its_link_or_leak_credentials(tmp_path: Path) -> None:
    runbook = "https://user:hunter2@wiki.example.com/rb?x=(1)|[y]<z>)](javascript:alert(1))"
    lines, summary, _ = _in_actions(
        tmp_path, result(verdict("bad-one", Status.BREACH, runbook=runbook))
    )
    (link,) = [h for h in _hrefs(summary) if "wiki" in h]
    assert link.startswith("https://***@wiki.example.com/rb?x=")
    assert summary.count("](") == 3  # the run, the artifacts, the runbook: nothing else
    assert all(r.count(" | ") == 5 for r in summary.splitlines() if r.startswith("| bad"))
    assert "hunter2" not in summary and "hunter2" not in "".join(lines)


def test_odd_runner_variables_make_no_links(tmp_path: Path) -> None:
    lines, summary, outputs = _in_actions(
        tmp_path,
        result(QUEUE_DEPTH),
        GITHUB_REPOSITORY="acme/shop)](javascript:alert(1))",
    )
    assert _hrefs(summary) == ["https://runbooks.example.com/queue-depth"]
    assert "report:" not in lines[0]
    assert outputs["report-url"] == ""


def test_urls_in_target_text_stay_text(tmp_path: Path) -> None:
    said = "see https://phish.example/login or www.phish.example"
    _, summary, _ = _in_actions(tmp_path, result(verdict("x", Status.BREACH, observed=said)))
    assert "https\\://phish.example/login" in summary and "www\\.phish.example" in summary
    assert not [h for h in _hrefs(summary) if "phish" in h]


def test_no_github_no_output(tmp_path: Path) -> None:
    stream = io.StringIO()
    assert write_github_outputs(result(verdict("a", Status.BREACH)), None, {}, stream) == []
    assert stream.getvalue() == ""


def test_summary_stays_under_one_mebibyte() -> None:
    many = result(*(verdict(f"slo-{i:05d}", Status.OK, observed="x" * 200) for i in range(10_000)))
    text = job_summary(many)
    assert len(text.encode()) < 1024 * 1024
    assert re.search(r"\d+ more SLOs not shown", text)


def test_metrics_prom_equals_the_json_results() -> None:
    run = result(
        verdict("fast", Status.OK, value=0.12),
        verdict("depth", Status.BREACH, value=500.0, history=HISTORY),
    )
    families = {f.name: f for f in text_string_to_metric_families(render_metrics(run))}
    data = result_to_dict(run)

    def sample(family: str, **labels: str) -> float:
        found = [
            s.value
            for s in families[family].samples
            if all(s.labels.get(k) == v for k, v in labels.items())
        ]
        assert len(found) == 1, (family, labels)
        return found[0]

    for v in data["verdicts"]:
        assert sample("sloprobe_slo_observed", slo=v["slo"]) == v["checks"][0]["observed"]
        assert sample("sloprobe_slo_ok", slo=v["slo"]) == (0.0 if v["counts_as_bad"] else 1.0)
        assert sample("sloprobe_slo_status", slo=v["slo"], status=v["status"]) == 1.0
        assert sample("sloprobe_slo_threshold", slo=v["slo"], expression="value < 10") == 10.0
    depth = data["verdicts"][1]["history"]
    assert (
        sample("sloprobe_slo_error_budget_remaining_ratio", slo="depth")
        == depth["budget"]["remaining_fraction"]
    )
    assert (
        sample("sloprobe_slo_burn_rate", slo="depth", window="5m") == depth["burn_rates"][0]["rate"]
    )
    assert not [
        s for s in families["sloprobe_slo_burn_rate"].samples if s.labels["window"] == "1h"
    ]  # no data
    assert sample("sloprobe_slo_incident_open", slo="depth") == 1.0
    assert sample("sloprobe_run_duration_seconds") == data["run"]["duration_s"]
    labels = next(iter(families["sloprobe_run_status"].samples)).labels
    assert labels["environment"] == 'prod "eu"\\1'  # quotes and backslashes round-trip
