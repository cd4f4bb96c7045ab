"""Sinks publish a RunResult; each consumes the result and nothing else, and none changes it.

A failing sink is reported as a warning and never hides the verdicts.

Beside notifiers and history in one layer: sinks must not import them, the judge, the
plugin or the CLI, and read no environment (values come in with the RunResult).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sloprobe.model.result import RunResult

if TYPE_CHECKING:
    from sloprobe.probes.tracing import TraceLinks

Sink = Callable[[RunResult, Path], Path]


def default_sinks(traces: TraceLinks | None = None) -> tuple[tuple[str, Sink], ...]:
    """Every output of a run; ``traces``: the run's trace links, for the report's checks."""
    from functools import partial

    from sloprobe.sinks.html_report import write_html_report
    from sloprobe.sinks.json_results import write_json_results

    sinks: list[tuple[str, Sink]] = [
        ("JSON results", write_json_results),
        ("HTML report", partial(write_html_report, traces=traces)),
    ]
    try:
        import prometheus_client  # noqa: F401

        from sloprobe.sinks.metrics_textfile import write_metrics_prom

        sinks.append(("metrics.prom", write_metrics_prom))
    except ImportError:
        pass  # prometheus_client is optional; without it there is no metrics.prom
    from sloprobe.sinks.run_index import write_run_index

    sinks.append(("run index", write_run_index))  # last: it links the report the sinks above wrote
    return tuple(sinks)


def publish(
    result: RunResult,
    directory: Path,
    sinks: Sequence[tuple[str, Sink]] | None = None,
    traces: TraceLinks | None = None,
) -> tuple[list[Path], list[str]]:
    """Run every sink; returns the files written and a warning for each sink that failed.

    A run older than the one the directory's live outputs show (``sloprobe report
    --run OLD``) is written under ``runs/`` only, and the warning says so.
    """
    if sinks is None:
        from sloprobe.sinks.run_index import live_run_after

        newer = live_run_after(result, directory)
        if newer is not None:
            return _archive(result, directory, newer)
    written: list[Path] = []
    warnings: list[str] = []
    for name, sink in sinks if sinks is not None else default_sinks(traces):
        try:
            written.append(sink(result, directory))
        except Exception as exc:  # a sink must never take the verdicts down with it
            reason = (
                exc.strerror
                if isinstance(exc, OSError) and exc.strerror
                else str(exc) or type(exc).__name__
            )
            warnings.append(f"{name}: cannot write to {directory}: {reason}")
    return written, warnings


def _archive(result: RunResult, directory: Path, newer: str) -> tuple[list[Path], list[str]]:
    from sloprobe.sinks.report_links import RUNS
    from sloprobe.sinks.run_index import write_archived

    runs = directory / RUNS
    try:
        written = write_archived(result, directory)
    except OSError as exc:
        return [], [f"run {result.run.run_id}: cannot write to {runs}: {exc.strerror or exc}"]
    return written, [
        f"run {result.run.run_id} is older than run {newer} in {directory / 'results.json'}: "
        f"written under {runs}/ only; results.json, metrics.prom and report.html "
        "keep showing the latest run"
    ]
