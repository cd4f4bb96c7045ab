"""One run's rows: the run, its measurements, its verdicts and the incidents they open or close.

Called inside the store's per-service transaction (:mod:`.store`), so a run is
written whole or not at all. Values JSON cannot hold (NaN, ±inf) are stored as
null.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, update

from sloprobe.codec import measurement_to_dict, verdict_to_dict
from sloprobe.history import schema
from sloprobe.model.history import RunOutcome, Transition
from sloprobe.model.measurement import Sample
from sloprobe.model.result import RunResult
from sloprobe.model.verdict import Verdict


def write_run(
    conn: Connection, result: RunResult, outcome_of: Callable[[Verdict], RunOutcome]
) -> RunResult:
    run = result.run
    run_pk = _inserted(
        conn.execute(
            insert(schema.runs).values(
                run_id=run.run_id,
                service=run.service,
                environment=run.environment,
                started_at=run.started_at,
                finished_at=run.finished_at,
                trigger=run.trigger,
                release=run.release,
                location=run.location,
                sloprobe_version=run.sloprobe_version,
                status=result.status.value,
                base_url=run.base_url,
                slo_file=run.slo_file,
                warnings=json.dumps(list(result.warnings)),
            )
        )
    )
    for name, m in result.measurements.items():
        conn.execute(
            insert(schema.measurements).values(
                run_pk=run_pk,
                probe=name,
                kind=m.kind,
                failure=m.failure,
                data=json.dumps(measurement_to_dict(m), allow_nan=False),
            )
        )
    stored = []
    for verdict in result.verdicts:
        incident_id = _incident(conn, run.service, run.environment, verdict, run.started_at)
        if verdict.history is not None and incident_id is not None:
            incident = dataclasses.replace(verdict.history.incident, incident_id=incident_id)
            verdict = dataclasses.replace(
                verdict, history=dataclasses.replace(verdict.history, incident=incident)
            )
        stored.append(verdict)
        outcome = outcome_of(verdict)
        measurement = result.measurements.get(verdict.probe)
        series = measurement.series.get(verdict.measure) if measurement else None
        conn.execute(
            insert(schema.verdicts).values(
                run_pk=run_pk,
                service=run.service,
                environment=run.environment,
                slo=verdict.slo,
                at=run.started_at,
                status=verdict.status.value,
                # As history judges it: a `for:` breach still pending passed this run, but the
                # service was bad (RunOutcome.bad), so the streak goes on next run.
                counts_as_bad=outcome.bad,
                counted=outcome.counted,
                good_events=outcome.good_events,
                total_events=outcome.total_events,
                observed=verdict.observed,
                observed_value=_number(verdict),
                budget_remaining=_finite(verdict.history.budget.remaining_fraction)
                if verdict.history
                and verdict.history.budget
                and verdict.history.budget.remaining_fraction is not None
                else None,
                threshold=verdict.threshold,
                reason=verdict.reason,
                transition=verdict.history.incident.transition.value
                if verdict.history and verdict.history.incident.transition
                else None,
                incident_id=incident_id,
                samples=json.dumps([_finite(s) for s in series.samples] if series else []),
                summary=json.dumps(verdict_to_dict(verdict), allow_nan=False),
            )
        )
    return dataclasses.replace(result, verdicts=tuple(stored))


def _incident(
    conn: Connection, service: str, environment: str, verdict: Verdict, at: datetime
) -> int | None:
    if verdict.history is None:
        return None
    state = verdict.history.incident
    i = schema.incidents
    if state.transition is Transition.OPENED:
        values = {
            "service": service,
            "environment": environment,
            "slo": verdict.slo,
            "opened_at": at,
        }
        return _inserted(
            conn.execute(insert(i).values(**values, since=state.since, cause=state.cause or ""))
        )
    if state.transition is Transition.RESOLVED and state.incident_id is not None:
        conn.execute(update(i).where(i.c.id == state.incident_id).values(resolved_at=at))
    return state.incident_id


def _inserted(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _number(verdict: Verdict) -> float | None:
    for check in verdict.checks:
        if isinstance(check.observed, int | float) and not isinstance(check.observed, bool):
            return _finite(float(check.observed))  # type: ignore[return-value]
    return None


def _finite(value: Sample) -> Sample | None:
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        return None
    return value
