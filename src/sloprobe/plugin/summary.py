"""The SLO summary table pytest prints at the end of a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloprobe.evaluate import Status
from sloprobe.result import RunResult

_MARKUP: dict[Status, dict[str, bool]] = {
    Status.OK: {"green": True},
    Status.WARNING: {"yellow": True},
    Status.BREACH: {"red": True, "bold": True},
    Status.NO_DATA: {"purple": True},
}
_MAX_CELL = 48


def _cell(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def write_summary(
    tr: pytest.TerminalReporter, result: RunResult, written: list[Path], warnings: list[str]
) -> None:
    run = result.run
    tr.write_sep("=", f"SLO summary: {run.service} ({run.environment})", bold=True)
    header = ("SLO", "observed", "threshold")
    cells = [(v.slo, _cell(v.observed), _cell(v.threshold)) for v in result.verdicts]
    widths = [max(len(header[i]), *(len(row[i]) for row in cells)) for i in range(3)]
    tr.write_line("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  status")
    for row, verdict in zip(cells, result.verdicts, strict=True):
        tr.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + "  ")
        label = verdict.status.value.replace("_", " ")
        allowed = verdict.status is Status.NO_DATA and not verdict.counts_as_bad
        tr.write_line(label + (" (allowed)" if allowed else ""), **_MARKUP[verdict.status])
    for verdict in result.verdicts:
        if verdict.status is not Status.OK:
            tr.write_line(f"{verdict.slo}: {verdict.reason}")
    counts = ", ".join(
        f"{result.count(s)} {s.value.replace('_', ' ')}" for s in Status if result.count(s)
    )
    tr.write_line(f"{len(result.verdicts)} SLOs: {counts}; target {run.base_url or '-'}")
    for warning in [*result.warnings, *warnings]:
        tr.write_line(f"warning: {warning}", yellow=True)
    for path in written:
        tr.write_line(f"report: {path}")
