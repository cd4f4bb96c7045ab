"""Step 5 of a run, publish (see suite_run.py): record, write the sinks, set the exit status.

On a pytest-xdist worker only the first half runs (the controller sets the exit
status from what the worker hands over, see xdist.py).
"""

from __future__ import annotations

import dataclasses
import io

import pytest

from sloprobe.plugin.options import exit_on
from sloprobe.plugin.state import PluginState
from sloprobe.plugin.suite_run import SuiteRun


def finish_run(config: pytest.Config, run: SuiteRun, state: PluginState, exitstatus: int) -> None:
    """Record and publish the run; a partial one goes to its own folder and not into history."""
    from sloprobe.plugin.selection import PARTIAL_DIR, partial_end
    from sloprobe.sinks import publish
    from sloprobe.sinks.github_actions import write_github_outputs

    total = len(run.loaded.spec.slos)
    run.partial = run.partial or partial_end(len(run.verdicts), run.selected, total, exitstatus)
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
    state.result = result
    state.history_lost = run.history_lost is not None
    state.partial = run.partial if run.local_only else None
    folder = run.report_dir / PARTIAL_DIR if run.local_only else run.report_dir
    state.written, state.sink_warnings = publish(result, folder)
    report = next((p for p in state.written if p.suffix == ".html"), None)
    annotations = io.StringIO()
    try:
        write_github_outputs(result, report, stream=annotations)
    except OSError as exc:
        state.sink_warnings.append(f"GitHub summary/outputs: {exc.strerror or exc}")
    state.annotations = annotations.getvalue().splitlines()


def set_exit_status(session: pytest.Session, state: PluginState) -> None:
    """--exit-on warning or incident: the exit status follows the SLOs, not the test outcomes."""
    from sloprobe.model.status import Status

    result = state.result
    assert result is not None
    mode = exit_on(session.config)
    before = session.exitstatus
    if mode == "warning" and before == 0 and result.count(Status.WARNING):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        why = f"{_slos(result.count(Status.WARNING))} in the warning range"
    elif mode == "incident" and before in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # A scheduled run turns red only while an incident is open, whatever this run's breaches;
        # without its history it cannot tell, and alerting must not go quiet: it turns red.
        open_incidents = [
            v.slo for v in result.verdicts if v.history is not None and v.history.incident.open
        ]
        everything_down = (
            result.run.partial is None
            and len(result.verdicts) >= 2  # one SLO alone could be a flap
            and all(v.counts_as_bad for v in result.verdicts)
        )
        if open_incidents:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            why = f"incident open for {', '.join(open_incidents)}"
        elif everything_down:  # a total outage or a wrong target: no flap control to wait for
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            why = f"every SLO breached ({len(result.verdicts)} of {len(result.verdicts)})"
        elif state.history_lost:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            why = "history could not be used, so open incidents cannot be ruled out"
        else:
            session.exitstatus = pytest.ExitCode.OK
            why = "no incident is open"
    else:
        return
    if session.exitstatus != before or mode == "incident":
        failed = session.testsfailed
        outcome = f"{failed} failed" if failed else "all tests passed"
        state.exit_note = (
            f"exit status {int(session.exitstatus)} ({outcome}) because of --exit-on {mode}: {why}"
        )


def _slos(count: int) -> str:
    return "1 SLO is" if count == 1 else f"{count} SLOs are"
