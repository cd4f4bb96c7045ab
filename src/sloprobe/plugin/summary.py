"""The SLO summary table pytest prints at the end of a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloprobe.model.describe import budget_text, incident_text
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Status
from sloprobe.model.units import plural
from sloprobe.model.verdict import Verdict

_MARKUP: dict[Status, dict[str, bool]] = {
    Status.OK: {"green": True},
    Status.WARNING: {"yellow": True},
    Status.BREACH: {"red": True, "bold": True},
    Status.NO_DATA: {"purple": True},
}
_MAX_CELL = 48
_BUDGET_WIDTH = 28  # the budget column, with its two leading spaces; wider for longer phrases


def _cell(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def _label(verdict: Verdict) -> str:
    label = verdict.status.value.replace("_", " ")
    return (
        label + " (allowed)"
        if verdict.status is Status.NO_DATA and not verdict.counts_as_bad
        else label
    )


def environment_label(config: pytest.Config, run: RunInfo) -> str:
    """The run's environment, or ``environment unset`` for a suite that set none: its
    default (``production``, which history still files it under) is no claim of the suite's.

    Known where this process loaded the SLO file; an xdist controller, which did not,
    shows the environment the worker recorded."""
    from sloprobe.plugin.state import state_of

    suite = state_of(config).run
    if suite is not None and "environment" not in suite.loaded.spec.model_fields_set:
        return "environment unset"
    return run.environment


def _said_in_failures(config: pytest.Config, verdict: Verdict) -> bool:
    """Whether the SLO's test failed with ``verdict.uncounted`` in its reason already (the
    monitoring stack's failure says so when judged); known where this process judged it."""
    from sloprobe.plugin.state import state_of

    suite = state_of(config).run
    judged = suite.verdicts.get(verdict.slo) if suite is not None else None
    return (
        judged is not None
        and judged.counts_as_bad
        and verdict.uncounted is not None
        and verdict.uncounted in judged.reason
    )


def write_summary(
    tr: pytest.TerminalReporter, result: RunResult, written: list[Path], warnings: list[str]
) -> None:
    run = result.run
    tr.write_sep(
        "=", f"SLO summary: {run.service} ({environment_label(tr.config, run)})", bold=True
    )
    header = ("SLO", "observed", "threshold")
    cells = [(v.slo, _cell(v.observed), _cell(v.threshold)) for v in result.verdicts]
    widths = [max(len(header[i]), *(len(row[i]) for row in cells)) for i in range(3)]
    with_budget = any(
        v.history is not None and v.history.budget is not None for v in result.verdicts
    )
    with_incidents = any(v.history is not None for v in result.verdicts)
    labels = [_label(v) for v in result.verdicts]
    status_width = max(len("status"), *(len(label) for label in labels))
    title = (
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
        + "  "
        + "status".ljust(status_width)
    )
    budgets = [budget_text(v) for v in result.verdicts]
    budget_width = max(_BUDGET_WIDTH, *(len(b) + 2 for b in budgets)) if with_budget else 0
    title += ("  budget".ljust(budget_width)) if with_budget else ""
    tr.write_line((title + ("  incident" if with_incidents else "")).rstrip())
    for row, verdict, label, budget in zip(cells, result.verdicts, labels, budgets, strict=True):
        tr.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + "  ")
        tr.write(label.ljust(status_width), **_MARKUP[verdict.status])
        extra = ("  " + budget).ljust(budget_width) if with_budget else ""
        extra += ("  " + incident_text(verdict)) if with_incidents else ""
        tr.write_line(extra.rstrip())
    for verdict in result.verdicts:
        # A failing SLO's reason is in pytest's FAILURES section already: said once, not twice.
        if verdict.status is not Status.OK and not verdict.counts_as_bad:
            tr.write_line(f"{verdict.slo}: {verdict.reason}")
        elif verdict.uncounted is not None and not _said_in_failures(tr.config, verdict):
            # Quorum across locations (docs/at-scale.md): judged with history, after the
            # SLO's test failed, so the FAILURES section cannot say it. `degraded at
            # ap-south: seen from 1 of the 2 locations needed within 10 m, …`.
            tr.write_line(f"{verdict.slo}: {verdict.uncounted}")
    counts = ", ".join(
        f"{result.count(s)} {s.value.replace('_', ' ')}" for s in Status if result.count(s)
    )
    tr.write_line(f"{plural(len(result.verdicts), 'SLO')}: {counts}; target {run.base_url or '-'}")
    for warning in [*result.warnings, *warnings]:
        tr.write_line(f"warning: {warning}", yellow=True)
    for path in written:
        tr.write_line(f"report: {path}")
