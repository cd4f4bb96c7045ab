"""Judge over time: add the history view (budget, burn rates, incident) to this run's verdicts.

Pure: the caller hands in what history holds (past outcomes, the open
incident) and ``now``; nothing here reads a clock or a database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.incidents import next_incident_state
from sloprobe.judge.objectives import (
    AlertSpec,
    alert_states,
    budget_from_totals,
    burn_rate,
    error_budget,
)
from sloprobe.judge.rules import JudgeSettings, QuorumRule, SloRule, SuiteRules
from sloprobe.judge.thresholds import holds
from sloprobe.model.history import (
    FLAP_LOOKBACK_S,
    AlertState,
    BurnRate,
    OpenIncident,
    RunOutcome,
    SloHistory,
    WindowTotals,
)
from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.model.result import RunResult
from sloprobe.model.status import Status
from sloprobe.model.units import Dimension, format_duration
from sloprobe.model.verdict import Verdict


def outcome_of(
    verdict: Verdict, spec: SloRule, measurement: Measurement | None, at: datetime
) -> RunOutcome:
    """How this run counts: a bad or good slice, and its good and total events (samples)."""
    if verdict.uncounted is not None:  # quorum across locations: neither a good nor a bad slice
        return RunOutcome(at=at, bad=verdict.counts_as_bad, counted=False)
    if verdict.pending is not None:  # the service was bad: a bad slice, though the run passes
        return RunOutcome(at=at, bad=True, counted=True, good_events=0, total_events=1)
    counted = verdict.status is not Status.NO_DATA or verdict.counts_as_bad
    good, total = _events(verdict, spec, measurement)
    return RunOutcome(
        at=at, bad=verdict.counts_as_bad, counted=counted, good_events=good, total_events=total
    )


def _events(verdict: Verdict, spec: SloRule, measurement: Measurement | None) -> tuple[int, int]:
    if verdict.status is Status.NO_DATA:
        return (0, 1) if verdict.counts_as_bad else (0, 0)
    series = measurement.series.get(spec.measure) if measurement is not None else None
    samples = series.samples if series is not None else ()
    if measurement is not None and measurement.failed:
        return 0, max(1, len(samples))
    if series is None or not samples:
        return (0, 1) if verdict.counts_as_bad else (0, 0)
    threshold = spec.thresholds[0]
    if series.dimension is Dimension.BOOLEAN:
        good = sum(1 for s in samples if s is True)
    else:
        dimension = series.dimension if threshold.aggregate.name != "rate" else Dimension.FRACTION
        good = sum(1 for s in samples if holds(threshold, s, dimension))
    return good, len(samples)


def pooled_verdict(
    name: str,
    spec: SloRule,
    measurement: Measurement | None,
    pooled: Sequence[Sample],
    settings: JudgeSettings,
) -> Verdict:
    """Judge ``spec.over`` SLOs over past samples plus this run's (percentiles pool, never average)."""
    if measurement is None or measurement.failed or not pooled:
        return evaluate_slo(name, spec, measurement, settings.percentile_method)
    current = measurement.series.get(spec.measure)
    if current is None:
        return evaluate_slo(name, spec, measurement, settings.percentile_method)
    merged = Series(spec.measure, current.unit, (*pooled, *current.samples))
    widened = dataclasses.replace(measurement, series={**measurement.series, spec.measure: merged})
    return evaluate_slo(name, spec, widened, settings.percentile_method)


def judge_over_time(
    verdict: Verdict,
    spec: SloRule,
    settings: JudgeSettings,
    past: Sequence[RunOutcome],
    open_incident: OpenIncident | None,
    outcome: RunOutcome,
    now: datetime,
    totals: WindowTotals | None = None,
) -> Verdict:
    """``past`` holds this SLO's earlier outcomes, oldest first; ``outcome`` is this run's."""
    outcomes = [*past, outcome]
    policy = spec.incident or settings.incident
    alerts: tuple[AlertState, ...] = ()
    budget = None
    rates: tuple[BurnRate, ...] = ()
    if spec.objective is not None:
        specs = [AlertSpec(a.level, a.long, a.short, a.factor) for a in settings.burn_rate_alerts]
        alerts = alert_states(
            outcomes, now, spec.objective, spec.budgeting, specs, settings.min_runs
        )
        windows = sorted({s.short_s for s in specs} | {s.long_s for s in specs})
        rates = tuple(
            burn_rate(outcomes, now, w, spec.objective, spec.budgeting, settings.min_runs)
            for w in windows
        )
        current = rates[0].rate if rates else None
        hourly = next((r.rate for r in rates if r.window_s == 3600 and r.rate is not None), current)
        if totals is not None:
            budget = budget_from_totals(
                totals.plus(outcome), now, spec.objective, spec.window, spec.budgeting, hourly
            )
        else:
            budget = error_budget(
                outcomes, now, spec.objective, spec.window, spec.budgeting, hourly
            )
    silence = next((s for s in settings.silences if s.covers(verdict.slo, now)), None)
    recent = [(o.at, o.bad) for o in outcomes if o.counted]
    incident = next_incident_state(
        open_incident,
        recent,
        now,
        open_after=policy.open_after,
        resolve_after=policy.resolve_after,
        firing=[
            a.level
            for a in alerts
            if a.firing and _bad_runs(outcomes, now, a.long.window_s) >= policy.burn_min_bad_runs
        ],
        open_on_burn=policy.open_on_burn,
        silenced=(silence.reason or f"silenced until {silence.until.isoformat()}")
        if silence
        else None,
    )
    history = SloHistory(incident, budget, rates, alerts, len(outcomes))
    return dataclasses.replace(verdict, history=history)


class HistoryReader(Protocol):
    """What judging over time reads of history (the store's view implements it)."""

    def outcomes(self, slo: str, since: datetime) -> list[RunOutcome]: ...

    def open_incident(self, slo: str) -> OpenIncident | None: ...

    def window_totals(self, slo: str, since: datetime, before: datetime) -> WindowTotals: ...


@runtime_checkable
class LocationReader(Protocol):
    """History that knows where runs ran (the store's view): for quorum across locations."""

    def bad_locations(self, slo: str, since: datetime, before: datetime) -> set[str]: ...


def quorum_short(
    verdict: Verdict, rule: QuorumRule | None, location: str | None, reader: object, now: datetime
) -> Verdict:
    """Rounds across locations: a run counts only as its round does (docs/at-scale.md).

    A breach seen from fewer locations than ``rule`` asks within its time stays this
    run's breach (here) but counts toward no budget, burn rate or incident; a good run
    while enough other locations see a breach does not count as good either, so a
    healthy location cannot break the streak of a real outage.
    """
    if rule is None or rule.locations < 2 or not isinstance(reader, LocationReader):
        return verdict
    here = location or "this location"
    since = now - timedelta(seconds=rule.within)
    seen = reader.bad_locations(verdict.slo, since, now) - {here}
    within = format_duration(rule.within)
    if verdict.counts_as_bad and len(seen) + 1 < rule.locations:
        note = (
            f"degraded at {here}: seen from {len(seen) + 1} of the {rule.locations} locations "
            f"needed within {within}, so not counted toward budgets or incidents"
        )
        return dataclasses.replace(verdict, uncounted=note, reason=f"{verdict.reason} ({note})")
    if not verdict.counts_as_bad and len(seen) >= rule.locations:
        note = (
            f"not counted: {len(seen)} other locations saw a breach within {within} "
            f"({', '.join(sorted(seen))})"
        )
        return dataclasses.replace(verdict, uncounted=note)
    return verdict


def lookback_s(spec: SloRule, settings: JudgeSettings) -> float:
    """How far back this SLO's run-by-run judgement looks: its burn-rate windows and flap control.

    The objective's whole window (30 days: 8,640 runs) is only summed, by the store.
    """
    if spec.objective is None:
        return FLAP_LOOKBACK_S
    longest = max((a.long for a in settings.burn_rate_alerts), default=0.0)
    return max(longest, FLAP_LOOKBACK_S)


def judge_run(result: RunResult, slo_file: SuiteRules, reader: HistoryReader) -> RunResult:
    """Every verdict of ``result`` judged over time, as of the run's start."""
    now = result.run.started_at
    judged = []
    for verdict in result.verdicts:
        spec = slo_file.slos.get(verdict.slo)
        if spec is None:
            judged.append(verdict)
            continue
        past = reader.outcomes(
            verdict.slo, now - timedelta(seconds=lookback_s(spec, slo_file.settings))
        )
        past = [o for o in past if o.at < now]
        rule = spec.quorum or slo_file.settings.quorum
        verdict = quorum_short(verdict, rule, result.run.location, reader, now)
        verdict = held_for(verdict, spec, reader, now)
        outcome = outcome_of(verdict, spec, result.measurements.get(verdict.probe), now)
        totals = None
        if spec.objective is not None:
            totals = reader.window_totals(verdict.slo, now - timedelta(seconds=spec.window), now)
        judged.append(
            judge_over_time(
                verdict,
                spec,
                slo_file.settings,
                past,
                reader.open_incident(verdict.slo),
                outcome,
                now,
                totals,
            )
        )
    return dataclasses.replace(result, verdicts=tuple(judged))


def held_for(verdict: Verdict, spec: SloRule, reader: HistoryReader, now: datetime) -> Verdict:
    """A breach of an SLO with ``for:`` stands only once its failing runs span that long.

    As Prometheus holds an alert pending until its expression has been true for ``for``:
    the streak starts at the earliest of the bad runs that come one after another up to now
    (counted runs only); shorter than ``for``, this run passes as a warning, ``pending``.
    """
    if spec.for_ is None or verdict.status is not Status.BREACH:
        return verdict
    since = now - timedelta(seconds=spec.for_ * 2 + 3600)
    past = sorted(
        (o for o in reader.outcomes(verdict.slo, since) if o.at < now and o.counted),
        key=lambda o: o.at,
    )
    start = now
    for outcome in reversed(past):
        if not outcome.bad:
            break
        start = outcome.at
    held = (now - start).total_seconds()
    if held >= spec.for_:
        return verdict
    note = f"pending: failing for {format_duration(held)} of {format_duration(spec.for_)} (for:)"
    return dataclasses.replace(
        verdict,
        status=Status.WARNING,
        counts_as_bad=False,
        pending=note,
        reason=f"{verdict.reason} — {note}",
    )


def outcome_function(result: RunResult, slo_file: SuiteRules) -> Callable[[Verdict], RunOutcome]:
    """The outcome of each verdict of ``result``, for the store to record."""

    def outcome(verdict: Verdict) -> RunOutcome:
        spec = slo_file.slos.get(verdict.slo)
        if spec is None:
            return RunOutcome(result.run.started_at, verdict.counts_as_bad)
        return outcome_of(
            verdict, spec, result.measurements.get(verdict.probe), result.run.started_at
        )

    return outcome


def _bad_runs(outcomes: Sequence[RunOutcome], now: datetime, window_s: float) -> int:
    """Bad runs in a window: one flaky run must not page, however high its burn rate."""
    start = now - timedelta(seconds=window_s)
    return sum(1 for o in outcomes if start < o.at <= now and o.counted and o.bad)
