"""One codec: a RunResult to a JSON-ready dict and back, losslessly.

results.json, the history store (a run's measurements and verdicts) and
``sloprobe history export`` all speak this format, so what a sink wrote and
what history replays are the same object. Non-finite numbers, which JSON
cannot hold, travel as ``{"float": "nan" | "inf" | "-inf"}``. The timeline
(a read-only view of history for the charts) is not part of a run and is not
encoded.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sloprobe.errors import InputError
from sloprobe.model.history import (
    AlertState,
    Budget,
    BurnRate,
    IncidentState,
    SloHistory,
    Transition,
)
from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.schedule import Gap, ScheduleHealth
from sloprobe.model.status import Level, Status
from sloprobe.model.units import Unit
from sloprobe.model.verdict import ThresholdCheck, Verdict

SCHEMA = "sloprobe.results/1"


class CodecError(InputError, ValueError):
    """A dict that is not a run of this format (a corrupt row, a foreign file)."""


# -- encode ------------------------------------------------------------------------------


def result_to_dict(result: RunResult) -> dict[str, Any]:
    run = result.run
    return {
        "schema": SCHEMA,
        "run": {
            "run_id": run.run_id,
            "service": run.service,
            "environment": run.environment,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat(),
            "duration_s": run.duration_s,
            "sloprobe_version": run.sloprobe_version,
            "slo_file": run.slo_file,
            "base_url": run.base_url,
            "trigger": run.trigger,
            "release": run.release,
            "partial": run.partial,
            "location": run.location,
            "ci_url": run.ci_url,
        },
        "status": result.status.value,
        "counts": {status.value: result.count(status) for status in Status},
        "verdicts": [verdict_to_dict(v) for v in result.verdicts],
        "measurements": {name: measurement_to_dict(m) for name, m in result.measurements.items()},
        "warnings": list(result.warnings),
        "notes": list(result.notes),
        "schedule": schedule_to_dict(result.schedule) if result.schedule else None,
        "exit": (
            {"code": result.exit.code, "exit_on": result.exit.exit_on, "reason": result.exit.reason}
            if result.exit is not None
            else None
        ),
    }


def schedule_to_dict(h: ScheduleHealth) -> dict[str, Any]:
    return {
        "cron": h.cron,
        "since": h.since.isoformat(),
        "until": h.until.isoformat(),
        "expected": h.expected,
        "held": h.held,
        "allowance_s": h.allowance_s,
        "gaps": [{"start": g.start.isoformat(), "end": g.end.isoformat()} for g in h.gaps],
        "text": h.text(),
    }


def schedule_from_dict(data: Mapping[str, Any]) -> ScheduleHealth:
    return ScheduleHealth(
        cron=data["cron"],
        since=datetime.fromisoformat(data["since"]),
        until=datetime.fromisoformat(data["until"]),
        expected=int(data["expected"]),
        held=int(data["held"]),
        allowance_s=float(data["allowance_s"]),
        gaps=tuple(
            Gap(datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"]))
            for g in data["gaps"]
        ),
    )


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
        "uncounted": v.uncounted,
        "pending": v.pending,
        "checks": [
            {
                "expression": c.expression,
                "level": c.level.value,
                "observed": _sample_out(c.observed),
                "observed_text": c.observed_text,
                "held": c.held,
            }
            for c in v.checks
        ],
    }


def history_to_dict(h: SloHistory) -> dict[str, Any]:
    """Budget, burn rates and incident state of one SLO after this run."""
    incident = h.incident
    return {
        "runs_seen": h.runs_seen,
        "budget": None if h.budget is None else _floats_out(dataclasses.asdict(h.budget)),
        "burn_rates": [_rate_out(b) for b in h.burn_rates],
        "alerts": [
            {
                "level": a.level,
                "factor": a.factor,
                "long_s": a.long.window_s,
                "short_s": a.short.window_s,
                "long": _rate_out(a.long),
                "short": _rate_out(a.short),
                "firing": a.firing,
            }
            for a in h.alerts
        ],
        "incident": {
            "open": incident.open,
            "transition": incident.transition.value if incident.transition else None,
            "opened_at": _iso(incident.opened_at),
            "since": _iso(incident.since),
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
        "probe": m.probe,
        "kind": m.kind,
        "started_at": m.started_at.isoformat(),
        "duration_s": m.duration_s,
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
            name: {"unit": s.unit.value, "samples": [_sample_out(x) for x in s.samples]}
            for name, s in m.series.items()
        },
    }


# -- decode ------------------------------------------------------------------------------


def result_from_dict(data: Mapping[str, Any]) -> RunResult:
    try:
        run = data["run"]
        info = RunInfo(
            run_id=run["run_id"],
            service=run["service"],
            environment=run["environment"],
            started_at=datetime.fromisoformat(run["started_at"]),
            finished_at=datetime.fromisoformat(run["finished_at"]),
            sloprobe_version=run["sloprobe_version"],
            slo_file=run["slo_file"],
            base_url=run["base_url"],
            trigger=run["trigger"],
            release=run["release"],
            partial=run.get("partial"),
            location=run.get("location"),
            ci_url=run.get("ci_url"),
        )
        measurements = {
            name: measurement_from_dict(m, name) for name, m in data["measurements"].items()
        }
        verdicts = tuple(verdict_from_dict(v) for v in data["verdicts"])
        notes = tuple(str(n) for n in data.get("notes", ()))
        schedule = schedule_from_dict(data["schedule"]) if data.get("schedule") else None
        return RunResult(
            info, verdicts, measurements, tuple(data["warnings"]), notes=notes, schedule=schedule
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"not a sloprobe run ({type(exc).__name__}: {exc})") from None


def verdict_from_dict(data: Mapping[str, Any]) -> Verdict:
    return Verdict(
        slo=data["slo"],
        probe=data["probe"],
        measure=data["measure"],
        status=Status(data["status"]),
        observed=data["observed"],
        threshold=data["threshold"],
        reason=data["reason"],
        counts_as_bad=data["counts_as_bad"],
        checks=tuple(
            ThresholdCheck(
                c["expression"],
                Level(c["level"]),
                _sample_in(c["observed"]),
                c["observed_text"],
                c["held"],
            )
            for c in data["checks"]
        ),
        warn=data["warn"],
        samples=data["samples"],
        percentile_method=PercentileMethod(data["percentile_method"]),
        description=data["description"],
        owner=data["owner"],
        runbook=data["runbook"],
        history=history_from_dict(data["history"]) if data["history"] else None,
        uncounted=data.get("uncounted"),
        pending=data.get("pending"),
    )


def history_from_dict(data: Mapping[str, Any]) -> SloHistory:
    incident = data["incident"]
    state = IncidentState(
        open=incident["open"],
        transition=Transition(incident["transition"]) if incident["transition"] else None,
        opened_at=_time_in(incident["opened_at"]),
        duration_s=incident["duration_s"],
        bad_streak=incident["bad_streak"],
        good_streak=incident["good_streak"],
        cause=incident["cause"],
        silenced=incident["silenced"],
        incident_id=incident["id"],
        since=_time_in(incident["since"]),
    )
    budget = Budget(**_floats_in(data["budget"])) if data["budget"] else None
    rates = tuple(_rate_in(b) for b in data["burn_rates"])
    by_window = {b.window_s: b for b in rates}

    def rate(alert: Mapping[str, Any], which: str) -> BurnRate:
        if which in alert:  # written since the codec: the alert's own windows
            return _rate_in(alert[which])
        window = alert[f"{which}_s"]  # older rows: look the window up among the rates
        return by_window.get(window, BurnRate(window, None, 0))

    alerts = tuple(
        AlertState(a["level"], a["factor"], rate(a, "long"), rate(a, "short"))
        for a in data["alerts"]
    )
    return SloHistory(state, budget, rates, alerts, data["runs_seen"])


def measurement_from_dict(data: Mapping[str, Any], probe: str | None = None) -> Measurement:
    return Measurement(
        probe=data.get("probe", probe or ""),
        kind=data["kind"],
        started_at=datetime.fromisoformat(data["started_at"]),
        duration_s=data["duration_s"],
        series={
            name: Series(name, Unit(s["unit"]), tuple(_samples_in(s["samples"])))
            for name, s in data["series"].items()
        },
        failure=data["failure"],
        missing=dict(data["missing"]),
        attempts=data["attempts"],
        retries=data["retries"],
        excerpt=data["excerpt"],
        details=dict(data["details"]),
        skipped=data["skipped"],
        deferred=data.get("deferred", False),
        trace_id=data.get("trace_id"),
    )


# -- numbers JSON cannot hold ------------------------------------------------------------

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _float_out(value: float) -> float | dict[str, str]:
    if math.isfinite(value):
        return value
    return {"float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


def _sample_out(value: Sample | None) -> Any:
    return _float_out(value) if isinstance(value, float) else value


def _sample_in(value: Any) -> Sample | None:
    if isinstance(value, dict):
        return _NON_FINITE[value["float"]]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value  # type: ignore[no-any-return]


def _samples_in(values: list[Any]) -> list[Sample]:
    # Rows written before the codec held a non-finite sample as null: it stays out.
    return [s for s in (_sample_in(v) for v in values) if s is not None]


def _floats_out(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _float_out(v) if isinstance(v, float) else v for k, v in values.items()}


def _floats_in(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _NON_FINITE[v["float"]] if isinstance(v, dict) else v for k, v in values.items()}


def _rate_out(b: BurnRate) -> dict[str, Any]:
    return {
        "window_s": b.window_s,
        "rate": None if b.rate is None else _float_out(b.rate),
        "runs": b.runs,
    }


def _rate_in(data: Mapping[str, Any]) -> BurnRate:
    rate = data["rate"]
    return BurnRate(
        data["window_s"],
        _NON_FINITE[rate["float"]] if isinstance(rate, dict) else rate,
        data["runs"],
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time_in(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
