"""The evaluator: SLO specs + Measurements → Verdicts. Pure functions, no I/O.

A verdict is this run's judgement of one SLO. Four failure classes are kept
apart (DESIGN.md): a target that failed is a *bad* measurement and breaches;
nothing to measure is ``no_data`` with its reason; a monitoring stack that
failed (``Measurement.monitoring``) fails the run but is no breach of the
service and counts toward no budget or incident; sloprobe's own set-up
problems never reach here (they are usage errors).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sloprobe.judge.rules import SloRule
from sloprobe.judge.thresholds import compute, holds
from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.status import Level, Status
from sloprobe.model.thresholds import Threshold, format_observed
from sloprobe.model.units import Dimension
from sloprobe.model.verdict import ThresholdCheck, Verdict


def evaluate_slo(
    name: str,
    spec: SloRule,
    measurement: Measurement | None,
    default_method: PercentileMethod = PercentileMethod.LINEAR,
) -> Verdict:
    """Judge one SLO against the measurement of its probe (None: the probe never ran)."""
    method = spec.percentile_method or default_method
    base = {
        "slo": name,
        "probe": spec.probe,
        "measure": spec.measure,
        "threshold": " and ".join(spec.threshold),
        "warn": " and ".join(spec.warn) or None,
        "percentile_method": method,
        "description": spec.description,
        "owner": spec.owner,
        "runbook": spec.runbook,
    }

    def no_data(reason: str, samples: int = 0) -> Verdict:
        return Verdict(
            status=Status.NO_DATA,
            observed="no data",
            reason=reason,
            counts_as_bad=spec.no_data == "fail",
            samples=samples,
            **base,  # type: ignore[arg-type]
        )

    if measurement is None:
        return no_data(f"probe `{spec.probe}` did not run")
    if measurement.skipped and measurement.deferred:
        return dataclasses.replace(
            no_data(f"probe `{spec.probe}` not due: {measurement.skipped}"), counts_as_bad=False
        )
    if measurement.skipped:
        return no_data(f"probe `{spec.probe}` was skipped: {measurement.skipped}")
    series = measurement.series.get(spec.measure)
    if measurement.failure is not None and measurement.monitoring:
        return _monitoring_failed(spec, measurement.failure, base)
    if measurement.failure is not None:
        return _failed(spec, measurement.failure, series, method, base)
    nothing = _nothing_to_count(spec, measurement, method)
    if nothing is not None:
        return dataclasses.replace(no_data(nothing), counts_as_bad=False)
    series, left_out = _without_nan(series)
    if series is None or not series.samples:
        default = f"probe `{spec.probe}` recorded no `{spec.measure}`"
        if left_out:
            default = f"`{spec.measure}` is NaN (0/0 or no observations)"
        return no_data(measurement.missing.get(spec.measure, default))

    checks = tuple(_check(t, Level.BREACH, series, method) for t in spec.thresholds)
    warn_checks = tuple(_check(t, Level.WARN, series, method) for t in spec.warn_thresholds)
    samples = len(series.samples)
    uncomputable = next((c for c in checks if c.held is None), None)
    if uncomputable is not None:
        return no_data(f"`{uncomputable.expression}` has nothing to compute over", samples)

    failed = [c for c in checks if not c.held]
    warned = [c for c in warn_checks if c.held is False]
    shown = failed[0] if failed else (warned[0] if warned else checks[0])
    if failed:
        status, reason = Status.BREACH, _explain(failed)
    elif warned:
        status, reason = Status.WARNING, _explain(warned)
    else:
        status, reason = Status.OK, "all thresholds met"
    if left_out:
        reason += f" ({left_out} NaN sample{'s' if left_out > 1 else ''} left out)"
    return Verdict(
        status=status,
        observed=shown.observed_text,
        reason=reason,
        counts_as_bad=status is Status.BREACH,
        checks=checks + warn_checks,
        samples=samples,
        **base,  # type: ignore[arg-type]
    )


def _failed(
    spec: SloRule,
    failure: str,
    series: Series | None,
    method: PercentileMethod,
    base: dict[str, Any],
) -> Verdict:
    """The target failed: a breach, whatever the thresholds say.

    A text measure the probe still read (the final state of a job that ended
    ``FAILURE``, the ``status`` field of a 503) is what was observed, and its
    checks say how it compares; a number measured on the way to a failure
    (the latency of a 503) stays out, so charts and budgets never take it for
    a good run's value.
    """
    reason = f"probe {spec.probe} failed: {failure}"
    if series is None or not series.samples or series.dimension is not Dimension.TEXT:
        return Verdict(
            status=Status.BREACH, observed="failed", reason=reason, counts_as_bad=True, **base
        )
    checks = tuple(_check(t, Level.BREACH, series, method) for t in spec.thresholds)
    warn_checks = tuple(_check(t, Level.WARN, series, method) for t in spec.warn_thresholds)
    shown = next((c for c in checks if c.observed is not None), None)
    return Verdict(
        status=Status.BREACH,
        observed=shown.observed_text if shown is not None else "failed",
        reason=reason,
        counts_as_bad=True,
        checks=checks + warn_checks,
        samples=len(series.samples),
        **base,
    )


def _monitoring_failed(spec: SloRule, failure: str, base: dict[str, Any]) -> Verdict:
    """The monitoring stack failed (the Prometheus server asked, a separate exporter).

    The service was not measured, so this is no breach of it: loud (it fails the run,
    whatever ``no_data:`` says) but ``uncounted``, so no budget, burn rate or incident
    (and no page) takes it for the service's.
    """
    note = "the monitoring stack failed, not the service: counted toward no budget or incident"
    return Verdict(
        status=Status.NO_DATA,
        observed="no data",
        reason=f"probe {spec.probe} could not measure: {failure} ({note})",
        counts_as_bad=True,
        uncounted=note,
        **base,
    )


def _nothing_to_count(
    spec: SloRule, measurement: Measurement, method: PercentileMethod
) -> str | None:
    """Why there is nothing to judge, when the SLO's ``nothing_to_count`` measure says so."""
    rule = spec.nothing_to_count
    if rule is None:
        return None
    other = measurement.series.get(rule.measure)
    if other is None or not other.samples:
        return None
    check = _check(rule.parsed, Level.BREACH, other, method)
    if not check.held:
        return None
    return f"nothing to count: `{rule.measure}` {rule.parsed.text} ({check.observed_text})"


def _without_nan(series: Series | None) -> tuple[Series | None, int]:
    """The series without its NaN samples, and how many there were.

    NaN is no data in every kind (0/0, a quantile without observations, a NaN a
    target reported): never a value held to a threshold, where ``nan < x`` is
    false and would read as a breach. ±Inf stays: it is a value (docs/probes.md).
    """
    if series is None:
        return None, 0
    nan = [isinstance(s, float) and math.isnan(s) for s in series.samples]
    left_out = sum(nan)
    if not left_out:
        return series, 0
    kept = tuple(s for s, n in zip(series.samples, nan, strict=True) if not n)
    labels = tuple(x for x, n in zip(series.labels, nan, strict=False) if not n)
    return dataclasses.replace(series, samples=kept, labels=labels), left_out


def _check(
    threshold: Threshold, level: Level, series: Series, method: PercentileMethod
) -> ThresholdCheck:
    dimension = threshold.result_dimension(series.unit)
    value = compute(threshold, series, method)
    where = ""
    named = _named_sample(threshold, series, dimension, value)
    if named is not None:
        value, where = series.samples[named], f" at {series.labels[named]}"
    text = format_observed(value, dimension)
    if value is None:
        return ThresholdCheck(threshold.text, level, None, text, None)
    held = holds(threshold, value, dimension)
    observed = f"{threshold.aggregate} = {text}{where}"
    return ThresholdCheck(threshold.text, level, value, observed, held)


def _named_sample(
    threshold: Threshold, series: Series, dimension: Dimension, value: Sample | None
) -> int | None:
    """Which series to name, when each sample is one (``Series.labels``): the max's or min's,
    and for ``value`` the worst one (every series is held to the threshold, as an alert rule
    ``x > 60`` judges each), never merely the last."""
    name = threshold.aggregate.name
    if len(series.labels) != len(series.samples) or not series.samples:
        return None
    if name in ("max", "min"):
        return next((i for i, s in enumerate(series.samples) if s == value), None)
    if name != "value":
        return None
    indices = range(len(series.samples))
    failing = [i for i in indices if not holds(threshold, series.samples[i], dimension)]
    candidates = failing or list(indices)

    def number(i: int) -> float:
        sample = series.samples[i]
        return float(sample) if not isinstance(sample, str) else 0.0

    if threshold.op in ("<", "<="):
        return max(candidates, key=number)
    if threshold.op in (">", ">="):
        return min(candidates, key=number)
    return candidates[0]


def _explain(checks: list[ThresholdCheck]) -> str:
    return "; ".join(f"{c.observed_text}, expected {c.expression}" for c in checks)
