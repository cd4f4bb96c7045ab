"""The run's exit status and why, decided once: results.json says what the exit code says.

``--exit-on breach`` (the default) follows this run's verdicts, as pytest's own
outcome does; ``warning`` also fails on a warning; ``incident`` turns a scheduled
run red only while an incident is open (or every SLO is down, or history could not
tell). The same decision sets the session's status and is written into the results.
"""

from __future__ import annotations

from dataclasses import dataclass

from sloprobe.model.result import RunResult
from sloprobe.model.status import Status

OK, FAILED = 0, 1


@dataclass(frozen=True)
class ExitDecision:
    code: int
    reason: str
    changed: bool  # --exit-on made it differ from pytest's own outcome


def decide_exit(mode: str, before: int, result: RunResult, history_lost: bool) -> ExitDecision:
    """The exit status of a run whose tests ended with ``before`` (pytest's status)."""
    if mode == "warning" and before == OK and result.count(Status.WARNING):
        return ExitDecision(
            FAILED, f"{_slos(result.count(Status.WARNING))} in the warning range", True
        )
    if mode == "incident" and before in (OK, FAILED):
        code, why = _incident(result, history_lost)
        return ExitDecision(code, why, code != before)
    return ExitDecision(before, _plain(before, result), False)


def _incident(result: RunResult, history_lost: bool) -> tuple[int, str]:
    # Alerting must not go quiet: without history, or with everything down, it turns red.
    open_incidents = [
        v.slo for v in result.verdicts if v.history is not None and v.history.incident.open
    ]
    everything_down = (
        result.run.partial is None
        and len(result.verdicts) >= 2  # one SLO alone could be a flap
        and all(v.counts_as_bad for v in result.verdicts)
    )
    if open_incidents:
        return FAILED, f"incident open for {', '.join(open_incidents)}"
    if everything_down:  # a total outage or a wrong target: no flap control to wait for
        return FAILED, f"every SLO breached ({len(result.verdicts)} of {len(result.verdicts)})"
    if history_lost:
        return FAILED, "history could not be used, so open incidents cannot be ruled out"
    return OK, "no incident is open"


def _plain(code: int, result: RunResult) -> str:
    bad = [v.slo for v in result.verdicts if v.counts_as_bad]
    if code == OK:
        return "every selected SLO met its thresholds"
    if bad:
        return f"{_slos(len(bad), 'breached')}: {', '.join(bad)}"
    if code == FAILED:
        return "a Python probe's test failed"
    return f"pytest ended with status {code}"


def _slos(count: int, verb: str = "") -> str:
    if verb:
        return f"1 SLO {verb}" if count == 1 else f"{count} SLOs {verb}"
    return "1 SLO is" if count == 1 else f"{count} SLOs are"
