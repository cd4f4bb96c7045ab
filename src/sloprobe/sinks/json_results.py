"""results.json: the run's result for machines (CI steps, dashboards, later runs)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from sloprobe.evaluate import Status, Verdict
from sloprobe.measure import Measurement, Sample
from sloprobe.over_time import SloHistory
from sloprobe.result import RunResult
from sloprobe.sinks.files import write_atomically

SCHEMA = "sloprobe.results/1"
FILE_NAME = "results.json"


def write_json_results(result: RunResult, directory: Path) -> Path:
    text = json.dumps(result_to_dict(result), indent=2, sort_keys=True, allow_nan=False)
    return write_atomically(directory / FILE_NAME, text + "\n")


def result_to_dict(result: RunResult) -> dict[str, Any]:
    run = result.run
    return {
        "schema": SCHEMA,
        "run": {
            "run_id": run.run_id,
            "service": run.service,
            "environment": run.environment,
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "duration_s": round(run.duration_s, 3),
            "sloprobe_version": run.sloprobe_version,
            "slo_file": run.slo_file,
            "base_url": run.base_url,
            "trigger": run.trigger,
            "release": run.release,
        },
        "status": result.status.value,
        "counts": {status.value: result.count(status) for status in Status},
        "verdicts": [verdict_to_dict(v) for v in result.verdicts],
        "measurements": {name: measurement_to_dict(m) for name, m in result.measurements.items()},
        "warnings": list(result.warnings),
    }


def verdict_to_dict(v: Verdict) -> dict[str, Any]:
    return {
        "slo": v.slo,
        "probe": v.probe,
        "measure": v.measure,
        "status": v.status.value,
        "observed": v.observed,
        "threshold": v.threshold,
        "warn": v.warn,
        "reason": v.reason,
        "counts_as_bad": v.counts_as_bad,
        "samples": v.samples,
        "percentile_method": v.percentile_method.value,
        "description": v.description,
        "owner": v.owner,
        "runbook": v.runbook,
        "history": history_to_dict(v.history) if v.history else None,
        "checks": [
            {
                "expression": c.expression,
                "level": c.level.value,
                "observed": _sample(c.observed),
                "observed_text": c.observed_text,
                "held": c.held,
            }
            for c in v.checks
        ],
    }


def history_to_dict(h: SloHistory) -> dict[str, Any]:
    """Budget, burn rates and incident state of one SLO after this run."""
    budget = h.budget
    incident = h.incident
    return {
        "runs_seen": h.runs_seen,
        "budget": None
        if budget is None
        else {
            "objective": budget.objective,
            "window_s": budget.window_s,
            "budgeting": budget.budgeting,
            "runs": budget.runs,
            "good": budget.good,
            "total": budget.total,
            "compliance": budget.compliance,
            "total_s": budget.total_s,
            "remaining_fraction": budget.remaining_fraction,
            "remaining_s": budget.remaining_s,
            "exhausted_in_s": budget.exhausted_in_s,
            "history_s": budget.history_s,
        },
        "burn_rates": [
            {"window_s": b.window_s, "rate": b.rate, "runs": b.runs} for b in h.burn_rates
        ],
        "alerts": [
            {
                "level": a.level,
                "factor": a.factor,
                "long_s": a.long.window_s,
                "short_s": a.short.window_s,
                "firing": a.firing,
            }
            for a in h.alerts
        ],
        "incident": {
            "open": incident.open,
            "transition": incident.transition.value if incident.transition else None,
            "opened_at": _iso(incident.opened_at) if incident.opened_at else None,
            "since": _iso(incident.since) if incident.since else None,
            "duration_s": incident.duration_s,
            "bad_streak": incident.bad_streak,
            "good_streak": incident.good_streak,
            "cause": incident.cause,
            "silenced": incident.silenced,
            "id": incident.incident_id,
        },
    }


def measurement_to_dict(m: Measurement) -> dict[str, Any]:
    return {
        "kind": m.kind,
        "started_at": _iso(m.started_at),
        "duration_s": round(m.duration_s, 6),
        "failure": m.failure,
        "missing": dict(m.missing),
        "attempts": m.attempts,
        "retries": m.retries,
        "skipped": m.skipped,
        "deferred": m.deferred,
        "trace_id": m.trace_id,
        "details": dict(m.details),
        "excerpt": m.excerpt,
        "series": {
            name: {"unit": s.unit.value, "samples": [_sample(x) for x in s.samples]}
            for name, s in m.series.items()
        },
    }


def _sample(value: Sample | None) -> Sample | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _iso(value: datetime) -> str:
    return value.isoformat()
