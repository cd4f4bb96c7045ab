"""GitHub Actions: a job summary, annotations for breached SLOs, and step outputs.

Workflow commands are escaped as the runner expects (@actions/core's
``escapeData`` and ``escapeProperty``): ``%``, CR and LF in data; also ``:``
and ``,`` in properties. Outputs use the multi-line ``name<<delimiter`` form
with a random delimiter, as @actions/core's file commands do.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from sloprobe.model.describe import budget_text, incident_text
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.verdict import Verdict

SUMMARY_LIMIT = 1024 * 1024 - 4096  # GitHub refuses a step summary over 1 MiB
_EMOJI = {Status.OK: "✅", Status.WARNING: "⚠️", Status.BREACH: "❌", Status.NO_DATA: "❔"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown_cell(text: str) -> str:
    """Table-safe and inert: no HTML, no links, no pipes, one line."""
    text = " ".join(text.split())
    for char in "\\`*_{}[]()<>#+!|~":
        text = text.replace(char, "\\" + char)
    return text.replace("&", "&amp;")


def write_github_outputs(
    result: RunResult,
    report_path: Path | None,
    environ: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> list[str]:
    """Summary, annotations and outputs when running in Actions; returns what was written."""
    environ = os.environ if environ is None else environ
    if (
        environ.get("GITHUB_ACTIONS") != "true"
        and not environ.get("GITHUB_STEP_SUMMARY")
        and not environ.get("GITHUB_OUTPUT")
    ):
        return []
    stream = stream or sys.stdout
    done = []
    for verdict in _ordered(result):
        if verdict.counts_as_bad:
            title = escape_property(f"SLO breach: {verdict.slo}")
            stream.write(f"::error title={title}::{escape_data(_detail(verdict))}\n")
        elif verdict.status is Status.WARNING:
            title = escape_property(f"SLO warning: {verdict.slo}")
            stream.write(f"::warning title={title}::{escape_data(_detail(verdict))}\n")
    stream.flush()
    summary_file = environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as summary:
            summary.write(job_summary(result))
        done.append("job summary")
    output_file = environ.get("GITHUB_OUTPUT")
    if output_file:
        breached = ",".join(v.slo for v in result.verdicts if v.counts_as_bad)
        outputs = {
            "status": result.status.value,
            "breached": breached,
            "report": str(report_path or ""),
        }
        with open(output_file, "a", encoding="utf-8") as out:
            for name, value in outputs.items():
                out.write(_output(name, value))
        done.append("step outputs")
    return done


def _output(name: str, value: str) -> str:
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def _detail(verdict: Verdict) -> str:
    return f"{verdict.observed}, expected {verdict.threshold} — {verdict.reason}"


def _ordered(result: RunResult) -> list[Verdict]:
    return sorted(result.verdicts, key=lambda v: v.rank)


def job_summary(result: RunResult) -> str:
    """A Markdown table of every SLO, breaches first, under GitHub's 1 MiB cap."""
    run = result.run
    head = (
        f"### {_EMOJI[result.status]} sloprobe: {markdown_cell(run.service)} ({markdown_cell(run.environment)}) — "
        f"{result.status.value.replace('_', ' ')}\n\n"
        "| SLO | status | observed | threshold | error budget | incident |\n"
        "|---|---|---|---|---|---|\n"
    )
    rows = []
    size = len(head.encode())
    verdicts = _ordered(result)
    for index, v in enumerate(verdicts):
        row = (
            f"| {markdown_cell(v.slo)} | {_EMOJI[v.status]} {v.status.value.replace('_', ' ')} | "
            f"{markdown_cell(v.observed)} | {markdown_cell(v.threshold)} | {markdown_cell(budget_text(v))} | "
            f"{markdown_cell(incident_text(v))} |\n"
        )
        if size + len(row.encode()) > SUMMARY_LIMIT - 200:
            rows.append(
                f"\n{len(verdicts) - index} more SLOs not shown (the summary is limited to 1 MiB); see the report.\n"
            )
            break
        rows.append(row)
        size += len(row.encode())
    warnings = "".join(f"\n> {markdown_cell(w)}\n" for w in result.warnings)
    facts = [f"partial run: {run.partial}"] if run.partial else []
    if result.schedule is not None:
        facts.append(f"schedule: {result.schedule.text()}")
        facts.extend(
            f"no run from {g.start:%Y-%m-%d %H:%M} to {g.end:%Y-%m-%d %H:%M} UTC"
            for g in result.schedule.gaps
        )
    facts.extend(result.notes)
    tail = "".join(f"\n{markdown_cell(f)}\n" for f in facts)
    return head + "".join(rows) + warnings + tail + "\n"
