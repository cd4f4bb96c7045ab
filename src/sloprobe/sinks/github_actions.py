"""GitHub Actions: a job summary, annotations for breached SLOs, and step outputs.

Workflow commands are escaped as the runner expects (@actions/core's
``escapeData`` and ``escapeProperty``): ``%``, CR and LF in data; also ``:``
and ``,`` in properties. Outputs use the multi-line ``name<<delimiter`` form
with a random delimiter, as @actions/core's file commands do.

Links come from the runner's environment (``GITHUB_SERVER_URL``,
``GITHUB_REPOSITORY``, ``GITHUB_RUN_ID``, ``GITHUB_RUN_ATTEMPT``): the run,
the report artifact on the run page (named when ``SLOPROBE_ARTIFACT_NAME``
says what the workflow uploads it as) and each SLO's runbook; from the run's
``settings.traces.url`` (:class:`~sloprobe.probes.tracing.TraceLinks`), the
trace of each SLO that failed, beside its job's id. Only http(s)
URLs become links, percent-encoded so no character of theirs can end the
link; every other text in the summary is Markdown-escaped and stays inert.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, urlsplit

from sloprobe.model.describe import budget_text, incident_text
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.verdict import Verdict
from sloprobe.probes.tracing import TRACE_ID, TraceLinks, TraceRef
from sloprobe.redact import redact_url

SUMMARY_LIMIT = 1024 * 1024 - 4096  # GitHub refuses a step summary over 1 MiB
_EMOJI = {Status.OK: "✅", Status.WARNING: "⚠️", Status.BREACH: "❌", Status.NO_DATA: "❔"}
_BARE_LINK = re.compile(r"(?i)\bwww\.")  # GitHub links ``www.example.com`` without a scheme


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown_cell(text: str) -> str:
    """Table-safe and inert: no HTML, no links, no pipes, one line.

    Besides Markdown's own syntax, GitHub turns bare ``https://…`` and ``www.…``
    into links: an escaped ``:`` or ``.`` there keeps a URL in target text a text.
    """
    text = " ".join(text.split())
    for char in "\\`*_{}[]()<>#+!|~":
        text = text.replace(char, "\\" + char)
    text = _BARE_LINK.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], text.replace("://", "\\://"))
    return text.replace("&", "&amp;")


ARTIFACT_NAME_ENV = "SLOPROBE_ARTIFACT_NAME"
_REPOSITORY = re.compile(r"[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+")
# Characters a link destination keeps as they are; every other one is percent-encoded,
# so no parenthesis, bracket, angle bracket, pipe, quote or space can end the link.
_URL_SAFE = "/:?#@!$&*+,;=%-._~"


def link_url(url: str | None) -> str | None:
    """``url`` fit to be a link: http or https with a host, credentials masked, and every
    character that could end a Markdown link percent-encoded; None for anything else."""
    if not url:
        return None
    url = url.strip()
    if any(c.isspace() or not c.isprintable() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url.lower().startswith(f"{scheme}://"):
        return None
    if not parts.hostname:
        return None
    return quote(redact_url(url), safe=_URL_SAFE)


@dataclass(frozen=True)
class Links:
    """Where a reader of the summary goes next: the run, its report artifact, the report file."""

    run: str | None = None  # the run's page: also the ``report-url`` output
    attempt: str | None = None  # this attempt's page, when the run was re-run
    artifact: str | None = None  # the name the workflow uploads the report under, if known
    report_file: str | None = None  # ``report.html``: what to open inside the artifact

    @property
    def artifacts(self) -> str | None:
        """The artifacts section of this attempt's page (the run's, on a first attempt)."""
        page = self.attempt or self.run
        return f"{page}#artifacts" if page else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], report_path: Path | None = None) -> Links:
        """The links the runner's variables make; none when one of them is missing or odd."""
        server = link_url(environ.get("GITHUB_SERVER_URL", ""))
        repository = environ.get("GITHUB_REPOSITORY", "")
        run_id = environ.get("GITHUB_RUN_ID", "")
        attempt = environ.get("GITHUB_RUN_ATTEMPT", "")
        artifact = " ".join(environ.get(ARTIFACT_NAME_ENV, "").split()) or None
        report_file = report_path.name if report_path is not None else None
        if server is None or not _REPOSITORY.fullmatch(repository) or not run_id.isdigit():
            return cls(artifact=artifact, report_file=report_file)
        run = f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}"
        again = attempt.isdigit() and int(attempt) > 1
        return cls(run, f"{run}/attempts/{attempt}" if again else None, artifact, report_file)


def write_github_outputs(
    result: RunResult,
    report_path: Path | None,
    environ: Mapping[str, str],
    stream: TextIO | None = None,
    traces: TraceLinks | None = None,
) -> list[str]:
    """Summary, annotations and outputs when running in Actions; returns what was written.

    ``traces``: the run's ``settings.traces.url`` and redactor, so the trace of each SLO
    that is not ok is linked (without it, its id is said as text).

    Outputs:

    - ``status``: the run's status (``ok``, ``warning``, ``breach``, ``no_data``);
    - ``breached``: the names of the SLOs that count as bad, comma-separated;
    - ``report``: the path of the HTML report on the runner, for later steps of the
      same job (it is gone once the job ends);
    - ``report-url``: the run's page (``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/
      $GITHUB_RUN_ID``), where the report artifact is downloaded; empty outside a run.
    """
    if (
        environ.get("GITHUB_ACTIONS") != "true"
        and not environ.get("GITHUB_STEP_SUMMARY")
        and not environ.get("GITHUB_OUTPUT")
    ):
        return []
    links = Links.from_env(environ, report_path)
    stream = stream or sys.stdout
    done = []
    for verdict in _ordered(result):
        trace = verdict_trace(result, verdict, traces)
        if verdict.counts_as_bad:
            title = escape_property(f"SLO breach: {verdict.slo}")
            said = annotation(verdict, links, trace)
            stream.write(f"::error title={title}::{escape_data(said)}\n")
        elif verdict.status is Status.WARNING:
            title = escape_property(f"SLO warning: {verdict.slo}")
            said = annotation(verdict, links, trace)
            stream.write(f"::warning title={title}::{escape_data(said)}\n")
    stream.flush()
    summary_file = environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as summary:
            summary.write(job_summary(result, links, traces))
        done.append("job summary")
    output_file = environ.get("GITHUB_OUTPUT")
    if output_file:
        breached = ",".join(v.slo for v in result.verdicts if v.counts_as_bad)
        outputs = {
            "status": result.status.value,
            "breached": breached,
            "report": str(report_path or ""),
            "report-url": links.run or "",
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


def verdict_trace(
    result: RunResult, verdict: Verdict, traces: TraceLinks | None = None
) -> TraceRef | None:
    """The trace of an SLO that is not ok (its probe's), linked when ``traces`` has a template."""
    if verdict.status is Status.OK:
        return None
    return (traces or TraceLinks()).ref(result.measurements.get(verdict.probe))


def trace_words(trace: TraceRef) -> str:
    """``job 42, trace 4bf9…4736: https://…`` (the link when there is one)."""
    job = f"job {' '.join(trace.job.split())[:100]}, " if trace.job else ""
    url = link_url(trace.url)
    return f"{job}trace {trace.trace_id}" + (f": {url}" if url else "")


def annotation(verdict: Verdict, links: Links | None = None, trace: TraceRef | None = None) -> str:
    """One line that says each thing once: ``SLO queue-depth breach: value = 150, expected
    value < 100 (runbook: https://…; job 42, trace 4bf9…: https://…; report: https://…#artifacts)``.

    The reason is said once; the observed value and the threshold go before it
    only when the reason does not already state them (a failed job's final
    state, before the failure). A failed probe or a verdict without data has no
    value to show: its reason is all there is to say.
    """
    said = verdict.reason
    observed = verdict.observed
    if observed not in ("failed", "no data") and observed not in said:
        expected = f", expected {verdict.threshold}" if verdict.threshold not in said else ""
        said = f"{observed}{expected}; {said}"
    refs = []
    runbook = link_url(verdict.runbook)
    if runbook:
        refs.append(f"runbook: {runbook}")
    if trace is not None:
        refs.append(trace_words(trace))
    if links is not None and links.artifacts:
        refs.append(f"report: {links.artifacts}")
    tail = f" ({'; '.join(refs)})" if refs else ""
    return f"SLO {verdict.slo} {verdict.status.label}: {said}{tail}"


def _ordered(result: RunResult) -> list[Verdict]:
    return sorted(result.verdicts, key=lambda v: v.rank)


def _link(text: str, url: str) -> str:
    """A Markdown link: escaped text, a destination :func:`link_url` made safe."""
    return f"[{markdown_cell(text)}]({url.replace('&', '&amp;')})"


def links_line(links: Links) -> str:
    """``Run: [123](…) · Report: [report.html in artifact sloprobe-report-123](…#artifacts)``,
    the attempt named after the run when it was re-run; empty outside a run."""
    if not links.run or not links.artifacts:
        return ""
    run = f"Run: {_link(links.run.rsplit('/', 1)[-1], links.run)}"
    if links.attempt:
        run += f" ({_link('attempt ' + links.attempt.rsplit('/', 1)[-1], links.attempt)})"
    what = links.report_file or "the report"
    where = f"artifact {links.artifact}" if links.artifact else "the run's artifacts"
    return f"{run} · Report: {_link(f'{what} in {where}', links.artifacts)}\n\n"


def _slo_cell(verdict: Verdict) -> str:
    name = markdown_cell(verdict.slo)
    runbook = link_url(verdict.runbook) if verdict.status is not Status.OK else None
    return f"{name} ({_link('runbook', runbook)})" if runbook else name


def job_summary(
    result: RunResult, links: Links | None = None, traces: TraceLinks | None = None
) -> str:
    """A Markdown table of every SLO, breaches first, under GitHub's 1 MiB cap.

    With ``links`` (from the runner's environment) it links the run and the
    report artifact under the heading, and the runbook of each SLO that is not ok.
    Under it, the trace of each SLO that is not ok, with its job's id: linked through
    ``traces`` (``settings.traces.url``), else said as text.
    """
    run = result.run
    head = (
        f"### {_EMOJI[result.status]} sloprobe: {markdown_cell(run.service)} ({markdown_cell(run.environment)}) — "
        f"{result.status.value.replace('_', ' ')}\n\n"
        + (links_line(links) if links is not None else "")
        + "| SLO | status | observed | threshold | error budget | incident |\n"
        "|---|---|---|---|---|---|\n"
    )
    rows = []
    size = len(head.encode())
    verdicts = _ordered(result)
    for index, v in enumerate(verdicts):
        row = (
            f"| {_slo_cell(v)} | {_EMOJI[v.status]} {v.status.value.replace('_', ' ')} | "
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
    rows.append(_traces_table(result, verdicts, traces, size))
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


def _trace_cell(trace: TraceRef) -> str:
    """The trace id (ours: 32 hex), as a link when the template makes one."""
    assert TRACE_ID.fullmatch(trace.trace_id)
    url = link_url(trace.url)
    return f"[`{trace.trace_id}`]({url.replace('&', '&amp;')})" if url else f"`{trace.trace_id}`"


def _traces_table(
    result: RunResult, verdicts: list[Verdict], traces: TraceLinks | None, size: int
) -> str:
    """The trace of each SLO that is not ok, its job's id beside it; empty when none has one."""
    found = [(v, t) for v in verdicts if (t := verdict_trace(result, v, traces)) is not None]
    if not found:
        return ""
    linked = any(t.url for _, t in found)
    text = (
        "\n**Traces** of what failed, as the service's tracing saw them"
        + ("" if linked else " (set `settings.traces.url` in slo.yaml to link them)")
        + "\n\n| SLO | job | trace |\n|---|---|---|\n"
    )
    size += len(text.encode())
    for index, (verdict, trace) in enumerate(found):
        job = markdown_cell(trace.job) if trace.job else "—"
        row = f"| {markdown_cell(verdict.slo)} | {job} | {_trace_cell(trace)} |\n"
        if size + len(row.encode()) > SUMMARY_LIMIT - 400:
            text += f"\n{len(found) - index} more traces not shown; see the report.\n"
            break
        text += row
        size += len(row.encode())
    return text
