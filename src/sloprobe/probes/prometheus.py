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
from typing import TYPE_CHECKING, Literal

import httpx
from pydantic import Field, model_validator

from sloprobe.config.base import StrictModel
from sloprobe.config.types import Duration, Name
from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.model.units import Unit
from sloprobe.probes.histogram import histogram_quantile, series_delta
from sloprobe.redact import redact_url

if TYPE_CHECKING:
    from sloprobe.probes.context import ProbeContext

MAX_BYTES = 16 * 1024 * 1024
Key = tuple[str, ...]


class Selector(StrictModel):
    name: str = Field(description="Metric (family or sample) name, e.g. jobs_finished_total.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Exact label matches; matching series are summed."
    )


class MetricSpec(Selector):
    kind: Literal["gauge", "counter", "rate", "histogram_quantile", "ratio"] = "gauge"
    quantile: float | None = Field(None, ge=0, le=1)
    numerator: Selector | None = None
    denominator: Selector | None = None
    unit: Unit = Unit.NONE

    @model_validator(mode="after")
    def _complete(self) -> MetricSpec:
        if self.kind == "histogram_quantile" and self.quantile is None:
            raise ValueError("histogram_quantile needs `quantile`, e.g. 0.95")
        if self.kind == "ratio" and (self.numerator is None or self.denominator is None):
            raise ValueError("ratio needs `numerator` and `denominator` selectors")
        return self


class PrometheusProbe(StrictModel):
    """Scrape a /metrics exposition; read gauges, counters, rates, ratios and histogram quantiles."""

    url: str = Field("/metrics", description="Absolute, or a path on the target.")
    interval: Duration | None = Field(
        None, description="Scrape twice this far apart and use the difference."
    )
    timeout: Duration = 10.0
    metrics: dict[Name, MetricSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _rates_need_two_scrapes(self) -> PrometheusProbe:
        if self.interval is None and any(m.kind == "rate" for m in self.metrics.values()):
            raise ValueError("`rate` needs `interval` (two scrapes)")
        return self


class PromQLQuery(StrictModel):
    query: str
    unit: Unit = Unit.NONE


class PromQLProbe(StrictModel):
    """Ask an existing Prometheus server (``/api/v1/query``)."""

    server: str
    timeout: Duration = 10.0
    queries: dict[Name, PromQLQuery] = Field(min_length=1)


def prometheus_series_units(spec: PrometheusProbe | PromQLProbe) -> dict[str, Unit]:
    if isinstance(spec, PromQLProbe):
        return {name: q.unit for name, q in spec.queries.items()}
    return {name: m.unit for name, m in spec.metrics.items()}


Scrape = dict[str, dict[Key, float]]  # sample name → label set → value


def parse_exposition(text: str) -> Scrape:
    from prometheus_client.parser import text_string_to_metric_families

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
    """(value in the declared unit, None) or (None, why there is no data)."""

    def values(selector: Selector, suffix: str = "") -> dict[Key, float]:
        now = _matching(after, selector, suffix)
        if before is None or spec.kind == "gauge":
            return now
        return series_delta(_matching(before, selector, suffix), now)

    labels = f" with labels {spec.labels}" if spec.labels else ""
    if spec.kind == "histogram_quantile":
        buckets: dict[float, float] = {}
        for key, count in values(spec, "_bucket").items():
            le = next((part[3:] for part in key if part.startswith("le=")), None)
            if le is not None:
                bound = math.inf if le in ("+Inf", "Inf") else float(le)
                buckets[bound] = buckets.get(bound, 0.0) + count
        if not buckets:
            return None, f"no histogram named {spec.name}{labels}"
        assert spec.quantile is not None
        result = histogram_quantile(spec.quantile, list(buckets.items()))
        return (result, None) if result is not None else (None, "no observations in the interval")
    if spec.kind == "ratio":
        assert spec.numerator is not None and spec.denominator is not None
        numerator, denominator = values(spec.numerator), values(spec.denominator)
        if not denominator:
            return None, f"no sample named {spec.denominator.name}"
        total = sum(denominator.values())
        return (
            (sum(numerator.values()) / total, None)
            if total
            else (None, "the denominator did not grow")
        )
    found = values(spec)
    if not found:
        return None, f"no sample named {spec.name}{labels}"
    total = sum(found.values())
    if spec.kind == "rate":
        assert seconds
        return total / seconds, None
    return total, None


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
    try:
        first = await _scrape(client, spec)
        before, after, seconds = None, first, None
        if spec.interval is not None:
            mark = time.monotonic()
            await asyncio.sleep(spec.interval)
            after = await _scrape(client, spec)
            before, seconds = first, time.monotonic() - mark
        else:
            details["counters"] = "since process start (set `interval` for recent values)"
        for metric_name, metric in spec.metrics.items():
            value, why = evaluate_metric(metric, after, before, seconds)
            if value is None:
                missing[metric_name] = why or "no data"
            else:
                samples[metric_name].append(metric.unit.to_base(value))
    except (httpx.HTTPError, ValueError) as exc:
        failure = context.redactor(f"{type(exc).__name__}: {exc}")[:300]
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


async def _scrape(client: httpx.AsyncClient, spec: PrometheusProbe) -> Scrape:
    async with client.stream("GET", spec.url, timeout=spec.timeout) as response:
        if response.status_code >= 400:
            raise ValueError(f"{redact_url(str(response.url))} answered {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > MAX_BYTES:
                raise ValueError(f"the exposition is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return parse_exposition(body.decode("utf-8", errors="replace"))


async def run_promql_probe(name: str, spec: PromQLProbe, context: ProbeContext) -> Measurement:
    started, clock = datetime.now(UTC), time.perf_counter()
    samples: dict[str, list[Sample]] = {n: [] for n in spec.queries}
    missing: dict[str, str] = {}
    failure = None
    try:
        async with httpx.AsyncClient(base_url=spec.server, timeout=spec.timeout) as client:
            for query_name, query in spec.queries.items():
                answer = await client.get("/api/v1/query", params={"query": query.query})
                document = answer.json()
                if document.get("status") != "success":
                    raise ValueError(
                        f"{query_name}: {document.get('errorType', '')} {document.get('error', answer.status_code)}"
                    )
                values = _vector_values(document.get("data", {}))
                finite = [v for v in values if not math.isnan(v)]
                if not finite:
                    missing[query_name] = (
                        "the query returned no samples" if not values else "the query returned NaN"
                    )
                samples[query_name] = [query.unit.to_base(v) for v in finite]
    except (httpx.HTTPError, ValueError) as exc:
        failure = context.redactor(f"PromQL at {redact_url(spec.server)}: {exc}")[:300]
    units = prometheus_series_units(spec)
    return Measurement(
        probe=name,
        kind="promql",
        started_at=started,
        duration_s=time.perf_counter() - clock,
        series={n: Series(n, units[n], tuple(s)) for n, s in samples.items()},
        failure=failure,
        missing=missing,
    )


def _vector_values(data: Mapping[str, object]) -> list[float]:
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list):
        return [float(result[1])]
    if isinstance(result, list):
        return [
            float(item["value"][1]) for item in result if isinstance(item, dict) and "value" in item
        ]
    return []
