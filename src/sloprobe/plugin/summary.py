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
    rows = [
        (
            v.slo,
            _cell(v.observed),
            _cell(v.threshold),
            v.status.value.replace("_", " "),
            v.status,
            v.counts_as_bad,
        )
        for v in result.verdicts
    ]
    header = ("SLO", "observed", "threshold", "status")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(3)]
    tr.write_line("  ".join(h.ljust(w) for h, w in zip(header, [*widths, 0], strict=True)).rstrip())
    for slo, observed, threshold, label, status, bad in rows:
        cells = "  ".join(
            c.ljust(w) for c, w in zip((slo, observed, threshold), widths, strict=True)
        )
        tr.write(cells + "  ")
        allowed = status is Status.NO_DATA and not bad
        tr.write_line(label + (" (allowed)" if allowed else ""), **_MARKUP[status])
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
