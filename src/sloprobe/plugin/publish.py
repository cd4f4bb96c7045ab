"""Step 5 of a run, publish (see suite_run.py): record, write the sinks, set the exit status.

On a pytest-xdist worker only the first half runs (the controller sets the exit
status from what the worker hands over, see xdist.py).
"""

from __future__ import annotations

import dataclasses
import io

import pytest

from sloprobe.model.result import ExitInfo
from sloprobe.plugin.options import exit_on
from sloprobe.plugin.state import PluginState
from sloprobe.plugin.suite_run import SuiteRun
from sloprobe.settings import environ


def finish_run(session: pytest.Session, run: SuiteRun, state: PluginState, exitstatus: int) -> None:
    """Record and publish the run; a partial one goes to its own folder and not into history."""
    from sloprobe.plugin.selection import PARTIAL_DIR, cut_short
    from sloprobe.sinks import publish
    from sloprobe.sinks.github_actions import write_github_outputs

    config = session.config
    how = cut_short(session, exitstatus)
    if how is None and not run.verdicts:
        return  # nothing ran (--setup-plan, every SLO skipped): nothing to publish
    if len(run.verdicts) < len(state.selected):
        cut, late = _cut(session, run, state, how)
        run.partial = f"{run.partial}; {cut}" if run.partial else cut
        if late and not run.measured:  # as measuring would have: secrets learnt, Sentry closed
            run.start_notifiers()
        for slo in late:  # judged from the measurements taken: -x sends nothing more
            run.judge(slo)
        if not run.verdicts:
            state.partial = run.partial
            return
    result = run.result()
    try:
        result = run.record(result)
    except Exception as exc:  # history and notifiers must never take the verdicts and report down
        note = f"history/notifications failed: {type(exc).__name__}: {run.context.redactor(str(exc))[:200]}"
        result = dataclasses.replace(result, warnings=(*result.warnings, note))
        if run.history_url:  # whether this run was judged against history is unknown
            run.history_lost = run.history_lost or note
    consequence = run.history_consequence(exit_on(config))
    if consequence is not None:  # before publishing: the reports say it too
        result = dataclasses.replace(result, warnings=(*result.warnings, consequence))
    from sloprobe.plugin.exit_status import decide_exit

    # The exit code this run will end with, and why: the results say it, as the terminal does.
    decision = decide_exit(exit_on(config), int(exitstatus), result, run.history_lost is not None)
    result = dataclasses.replace(
        result, exit=ExitInfo(decision.code, exit_on(config), decision.reason)
    )
    from sloprobe.sinks.otel_export import export_spans, otel_settings

    otel = otel_settings(environ())  # the run's spans, within the export's bound; off by default
    if otel is not None:
        run.context.redactor.add(*otel.secrets())  # OTEL_EXPORTER_OTLP_HEADERS: shown nowhere
        failed = export_spans(result, otel, run.context.redactor)
        if failed is not None:  # a warning, like a failing sink: never a verdict or the exit code
            result = dataclasses.replace(result, warnings=(*result.warnings, failed))
    state.result = result
    state.history_lost = run.history_lost is not None
    state.partial = run.partial if run.local_only else None
    folder = run.report_dir / PARTIAL_DIR if run.local_only else run.report_dir
    from sloprobe.probes.tracing import TraceLinks

    # Each failed check links to its trace (settings.traces.url), masked by the run's redactor.
    traces = TraceLinks(run.loaded.spec.settings.traces.url, run.context.redactor)
    state.written, state.sink_warnings = publish(result, folder, traces=traces)
    report = next((p for p in state.written if p.suffix == ".html"), None)
    annotations = io.StringIO()
    try:
        write_github_outputs(result, report, environ(), stream=annotations, traces=traces)
    except OSError as exc:
        state.sink_warnings.append(f"GitHub summary/outputs: {exc.strerror or exc}")
    state.annotations = annotations.getvalue().splitlines()


def _cut(
    session: pytest.Session, run: SuiteRun, state: PluginState, how: str | None
) -> tuple[str, list[str]]:
    """Why a run that did not reach every selected SLO is partial, and the SLOs it can still
    judge: those whose probe was measured before the cut (-x stops at the first failure,
    often a Python probe's, and its SLOs are then what the run has to say)."""
    from sloprobe.plugin.selection import partial_end

    late: list[str] = []
    unmeasured: list[str] = []
    for slo in state.selected if how is not None else ():  # not cut: a skipped SLO stays so
        if slo not in run.verdicts:
            measured = run.loaded.spec.slos[slo].probe in run.measurements
            (late if measured else unmeasured).append(slo)
    first, failed = state.first_failure, session.testsfailed
    cause = None if first is None or how is None else f"{first} failed"
    if cause is not None and failed > 1:
        cause = f"{failed} tests failed, the first {first}"
    total = len(run.loaded.spec.slos)
    return partial_end(how or "ended", len(run.verdicts), total, cause, late, unmeasured), late


def set_exit_status(session: pytest.Session, state: PluginState) -> None:
    """--exit-on warning or incident: the exit status follows the SLOs, not the test outcomes."""
    from sloprobe.plugin.exit_status import decide_exit

    result = state.result
    assert result is not None
    mode = exit_on(session.config)
    before = int(session.exitstatus)
    decision = decide_exit(mode, before, result, state.history_lost)
    session.exitstatus = decision.code
    if decision.changed or mode == "incident":
        failed = session.testsfailed
        outcome = f"{failed} failed" if failed else "all tests passed"
        state.exit_note = (
            f"exit status {decision.code} ({outcome}) because of --exit-on {mode}: "
            f"{decision.reason}"
        )


def report_cannot_run() -> None:
    """sloprobe itself cannot run (a broken slo.yaml): an `error` check-in, when Sentry is set up by the environment."""
    from sloprobe.settings import variable

    dsn = variable("SENTRY_DSN")
    if not dsn:
        return
    try:
        from sloprobe.notify.sentry import SentryNotifier
        from sloprobe.redact import Redactor

        notifier = SentryNotifier(
            dsn, variable("SLOPROBE_ENVIRONMENT") or "production", None, Redactor([dsn]), 3.0
        )
        notifier.checkin(variable("SLOPROBE_MONITOR_SLUG") or "sloprobe", "error", None, None, {})
        notifier.close()
    except Exception:  # reporting the failure must not add another
        return
