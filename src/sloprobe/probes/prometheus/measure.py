"""Prometheus probes: scrape a text exposition, or ask a Prometheus server (PromQL).

A histogram or counter since process start says little about now: with
``interval`` the probe scrapes twice and uses the difference (resets
handled per series), for recent quantiles, rates and ratios.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.probes.base import ProbeCall
from sloprobe.probes.network import Redirects, describe_error, fetch, status_problem
from sloprobe.probes.prometheus.histogram import histogram_quantile, series_delta
from sloprobe.probes.prometheus.nan import nan_reason, prom_float, series_text
from sloprobe.probes.prometheus.spec import (
    MetricSpec,
    PrometheusProbe,
    Selector,
    prometheus_series_units,
)
from sloprobe.redact import redact_url


async def measure(call: ProbeCall[PrometheusProbe]) -> Measurement:
    return await run_prometheus_probe(call.name, call.spec, call.context, call.client)


if TYPE_CHECKING:
    from sloprobe.probes.context import ProbeContext

MAX_BYTES = 16 * 1024 * 1024
Key = tuple[str, ...]


Scrape = dict[str, dict[Key, float]]  # sample name → label set → value


def parse_exposition(text: str) -> Scrape:
    found: Scrape = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = tuple(sorted(f"{k}={v}" for k, v in sample.labels.items()))
            found.setdefault(sample.name, {})[key] = float(sample.value)
    return found


def _matching(scrape: Scrape, selector: Selector, suffix: str = "") -> dict[Key, float]:
    names = [selector.name + suffix]
    if not suffix and not selector.name.endswith("_total"):
        names.append(selector.name + "_total")
    wanted = {f"{k}={v}" for k, v in selector.labels.items()}
    out: dict[Key, float] = {}
    for name in names:
        for key, value in scrape.get(name, {}).items():
            if wanted <= set(key):
                out[key] = value
    return out


def evaluate_metric(
    spec: MetricSpec, after: Scrape, before: Scrape | None, seconds: float | None
) -> tuple[float | None, str | None]:
    """(value in the declared unit, None) or (None, why there is no data: absent, or NaN)."""

    def values(selector: Selector, suffix: str = "") -> dict[Key, float]:
        now = _matching(after, selector, suffix)
        if before is None or spec.kind == "gauge":
            return now
        return series_delta(_matching(before, selector, suffix), now)

    if spec.kind == "histogram_quantile":
        value, why = _quantile(spec, values(spec.selector, "_bucket"))
    elif spec.kind == "ratio":
        assert spec.numerator is not None and spec.denominator is not None
        value, why = _ratio(spec, values(spec.numerator), values(spec.denominator))
    else:
        value, why = _summed(spec, values(spec.selector), seconds)
    if value is not None and math.isnan(value):  # whatever computed it: NaN is no data
        return None, nan_reason([spec.name or "ratio"])
    return value, why


def _nan_series(selector: Selector, found: Mapping[Key, float]) -> str | None:
    """Why a sum over ``found`` is no data: the series in it that are NaN (as PromQL's sum)."""
    nan = [_series(selector.name, key) for key, value in found.items() if math.isnan(value)]
    if not nan:
        return None
    whole = f", so the sum of its {len(found)} series is too" if len(found) > 1 else ""
    return nan_reason(nan) + whole


def _series(name: str, key: Key) -> str:
    return series_text(name, dict(part.split("=", 1) for part in key))


def _summed(
    spec: MetricSpec, found: dict[Key, float], seconds: float | None
) -> tuple[float | None, str | None]:
    """A gauge, a counter or a rate: the sum over the matching series."""
    if not found:
        labels = f" with labels {spec.labels}" if spec.labels else ""
        return None, f"metric `{spec.name}`{labels} is not exposed"
    nan = _nan_series(spec.selector, found)
    if nan is not None:
        return None, nan
    total = sum(found.values())
    if spec.kind == "rate":
        assert seconds
        return total / seconds, None
    return total, None


def _ratio(
    spec: MetricSpec, numerator: dict[Key, float], denominator: dict[Key, float]
) -> tuple[float | None, str | None]:
    assert spec.numerator is not None and spec.denominator is not None
    for part, found in ((spec.numerator, numerator), (spec.denominator, denominator)):
        if not found:  # as PromQL: a series that does not exist is no data, not 0
            shown = f" with labels {part.labels}" if part.labels else ""
            return None, f"metric `{part.name}`{shown} is not exposed"
        nan = _nan_series(part, found)
        if nan is not None:
            return None, nan
    top, total = sum(numerator.values()), sum(denominator.values())
    if not total:
        return None, "the denominator did not grow"
    if math.isinf(top) and math.isinf(total):  # +Inf / +Inf: NaN, said with its parts
        shown = f"{spec.numerator.name} / {spec.denominator.name}"
        return None, nan_reason([shown], f"{prom_float(top)} / {prom_float(total)}")
    return top / total, None


def _quantile(spec: MetricSpec, found: dict[Key, float]) -> tuple[float | None, str | None]:
    """``histogram_quantile`` over the summed ``_bucket`` series, as Prometheus computes it."""
    buckets: dict[float, float] = {}
    for key, count in found.items():
        le = next((part[3:] for part in key if part.startswith("le=")), None)
        if le is not None:
            bound = math.inf if le in ("+Inf", "Inf") else float(le)
            buckets[bound] = buckets.get(bound, 0.0) + count
    if not buckets:
        labels = f" with labels {spec.labels}" if spec.labels else ""
        return (
            None,
            f"histogram `{spec.name}`{labels} is not exposed (no `{spec.name}_bucket` series)",
        )
    nan = _nan_series(Selector(name=f"{spec.name}_bucket"), found)
    if nan is not None:
        return None, nan
    assert spec.quantile is not None
    result = histogram_quantile(spec.quantile, list(buckets.items()))
    if result is not None:
        return result, None
    if not max(buckets.values(), default=0.0):
        return None, "no observations in the interval"
    return None, f"histogram_quantile({spec.quantile:g}) is NaN here, as Prometheus answers"


async def run_prometheus_probe(
    name: str, spec: PrometheusProbe, context: ProbeContext, client: httpx.AsyncClient
) -> Measurement:
    started, clock = datetime.now(UTC), time.perf_counter()
    failure = None
    samples: dict[str, list[Sample]] = {n: [] for n in spec.metrics}
    missing: dict[str, str] = {}
    details = {
        "source": redact_url(spec.url if "://" in spec.url else context.shown_base_url + spec.url)
    }
    redirects = context.redirects()
    try:
        first = await _scrape(client, spec, redirects)
        before, after, seconds = None, first, None
        if spec.interval is not None:
            mark = time.monotonic()
            await asyncio.sleep(spec.interval)
            after = await _scrape(client, spec, redirects)
            before, seconds = first, time.monotonic() - mark
        else:
            details["counters"] = "since process start (set `interval` for recent values)"
        for metric_name, metric in spec.metrics.items():
            value, why = evaluate_metric(metric, after, before, seconds)
            if value is None:
                missing[metric_name] = why or "no data"
            else:
                samples[metric_name].append(metric.unit.to_base(value))
    except httpx.HTTPError as exc:
        failure = describe_error(exc, context.redactor, f"scrape GET {details['source']}")
    except ValueError as exc:
        failure = context.redactor(f"scrape GET {details['source']}: {exc}")[:300]
    units = prometheus_series_units(spec)
    return Measurement(
        probe=name,
        kind="prometheus",
        started_at=started,
        duration_s=time.perf_counter() - clock,
        series={n: Series(n, units[n], tuple(s)) for n, s in samples.items()},
        failure=failure,
        missing=missing,
        details=details,
    )


async def _scrape(client: httpx.AsyncClient, spec: PrometheusProbe, redirects: Redirects) -> Scrape:
    request = client.build_request("GET", spec.url, timeout=spec.timeout)
    answer = await fetch(client, request, max_bytes=MAX_BYTES, retries=0, redirects=redirects)
    if answer.truncated:
        raise ValueError(f"body too large (over {MAX_BYTES} bytes)")
    if answer.not_followed is not None:
        raise ValueError(f"{status_problem(answer.status)}: {answer.not_followed}")
    if answer.status >= 400:
        raise ValueError(status_problem(answer.status))
    return parse_exposition(answer.text())
