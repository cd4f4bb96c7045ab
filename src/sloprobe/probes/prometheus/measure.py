"""Prometheus probes: scrape a text exposition and read its metrics (:mod:`.compute`).

A histogram or counter since process start says little about now: with
``interval`` the probe scrapes twice and uses the difference (resets handled
per series), for recent quantiles, rates and ratios; a histogram is always
judged so (``scrape_interval``), and the measurement's details say which window.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from sloprobe.model.measurement import Reading, Sample, Series
from sloprobe.model.units import format_base
from sloprobe.probes.base import ProbeCall
from sloprobe.probes.network import Redirects, describe_error, fetch, status_problem
from sloprobe.probes.prometheus.compute import (
    Scrape,
    evaluate_each,
    evaluate_metric,
    parse_exposition,
)
from sloprobe.probes.prometheus.spec import MetricSpec, PrometheusProbe, prometheus_series_units
from sloprobe.redact import redact_url

if TYPE_CHECKING:
    from sloprobe.probes.context import ProbeContext

__all__ = ["evaluate_each", "evaluate_metric", "measure", "parse_exposition"]

MAX_BYTES = 16 * 1024 * 1024
LISTED_CHARS = 2000  # of a measure's series listing in the details


async def measure(call: ProbeCall[PrometheusProbe]) -> Reading:
    return await read_prometheus(call.spec, call.context, call.client)


async def read_prometheus(
    spec: PrometheusProbe, context: ProbeContext, client: httpx.AsyncClient
) -> Reading:
    failure = None
    samples: dict[str, list[Sample]] = {n: [] for n in spec.metrics}
    labels: dict[str, tuple[str, ...]] = {}
    missing: dict[str, str] = {}
    details = {
        "source": redact_url(spec.url if "://" in spec.url else context.shown_base_url + spec.url)
    }
    redirects = context.redirects()
    try:
        first = await _scrape(client, spec, redirects)
        before, after, seconds = None, first, None
        interval = spec.scrape_interval
        if interval is not None:
            mark = time.monotonic()
            await asyncio.sleep(interval)
            after = await _scrape(client, spec, redirects)
            before, seconds = first, time.monotonic() - mark
        details.update(_window(spec, seconds))
        for metric_name, metric in spec.metrics.items():
            # Without `interval` only histograms are differenced; counters stay since start.
            differenced = spec.interval is not None or metric.kind == "histogram_quantile"
            previous = before if differenced else None
            if metric.each is not None:
                named, why = evaluate_each(metric, after, previous, seconds)
                samples[metric_name] = [metric.unit.to_base(v) for _, v in named]
                if any(n for n, _ in named):  # one series without labels: nothing to name
                    labels[metric_name] = tuple(n for n, _ in named)
                if named:
                    details[f"{metric_name} series"] = _listing(metric, named)
                if why is not None:
                    missing[metric_name] = why
                continue
            value, why = evaluate_metric(metric, after, previous, seconds)
            if value is None:
                missing[metric_name] = why or "no data"
            else:
                samples[metric_name].append(metric.unit.to_base(value))
    except httpx.HTTPError as exc:
        failure = describe_error(exc, context.redactor, f"scrape GET {details['source']}")
    except ValueError as exc:
        failure = context.redactor(f"scrape GET {details['source']}: {exc}")[:300]
    units = prometheus_series_units(spec)
    return Reading(
        series={n: Series(n, units[n], tuple(s), labels.get(n, ())) for n, s in samples.items()},
        failure=failure,
        missing=missing,
        details=details,
        monitoring=_is_monitoring(spec, context.base_url),
    )


def _window(spec: PrometheusProbe, seconds: float | None) -> dict[str, str]:
    """What the values cover, for the report: since the process started, or two scrapes."""
    if seconds is None:
        return {"counters": "since process start (set `interval` for recent values)"}
    between = f"the {seconds:.3g} s between two scrapes"
    if spec.interval is not None:
        return {"window": f"{between} (counters and histograms differenced)"}
    return {"window": f"{between}, for histograms (counters since process start: set `interval`)"}


def _listing(metric: MetricSpec, named: list[tuple[str, float]]) -> str:
    """Every series and its value, for results.json and the report (capped)."""
    unit = metric.unit
    text = ", ".join(
        f"{n or 'value'} = {format_base(unit.to_base(v), unit.dimension)}" for n, v in named
    )
    return text if len(text) <= LISTED_CHARS else text[: LISTED_CHARS - 1] + "…"


def _is_monitoring(spec: PrometheusProbe, base_url: str) -> bool:
    """Whether the scraped URL is the monitoring stack's: ``monitoring``, else an absolute URL
    on another origin than the target's (the service's own /metrics failing is its failure)."""
    if spec.monitoring is not None:
        return spec.monitoring
    url = urlsplit(spec.url)
    if url.scheme.lower() not in ("http", "https") or not base_url:
        return False
    base = urlsplit(base_url)
    return (url.scheme.lower(), url.hostname, url.port) != (
        base.scheme.lower(),
        base.hostname,
        base.port,
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
