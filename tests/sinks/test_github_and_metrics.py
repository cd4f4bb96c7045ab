"""GitHub summary, annotations and outputs as the runner reads them; metrics.prom as Prometheus reads it."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
) -> Verdict:
    return Verdict(
        slo=slo,
        probe="p",
        measure="m",
        status=status,
        observed=observed,
        threshold="value < 10",
        reason="because",
        counts_as_bad=status is Status.BREACH,
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
        f"{NASTY}, expected value < 10 — because"
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
        == f"status=breach\nbreached=bad-one\nreport={tmp_path / 'report.html'}\n"
    )


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
