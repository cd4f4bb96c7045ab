"""The `prometheus` kind: scrape a /metrics exposition; gauges, counters, rates, ratios, quantiles."""

from __future__ import annotations

from urllib.parse import urlsplit

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.prometheus.nan import NAN_NOTE
from sloprobe.probes.prometheus.spec import PrometheusProbe, prometheus_series_units


def _relative(spec: PrometheusProbe) -> bool:
    """A path on the target needs its base URL; an absolute `http(s)://` URL does not."""
    return urlsplit(spec.url).scheme.lower() not in ("http", "https")


def _deadline(spec: PrometheusProbe, default: float) -> float:
    return max(default, spec.interval + 2 * spec.timeout) if spec.interval else default


KIND = ProbeKind(
    name="prometheus",
    spec=PrometheusProbe,
    summary="Scrape a Prometheus text exposition (once, or twice `interval` apart for recent values).",
    measures=(
        Measure(
            "<metric>",
            "declared",
            "A metric named under `metrics`: the summed value of the matching series (`gauge`, `counter`), "
            "its increase per second (`rate`), numerator / denominator (`ratio`) or `histogram_quantile` "
            "computed as Prometheus does. A metric the exposition lacks, or a NaN, is no data, with "
            "the reason.",
        ),
    ),
    series_units=prometheus_series_units,
    talks_to_target=True,
    measurer="sloprobe.probes.prometheus.measure:measure",
    deadline=_deadline,
    notes=(
        "`url` is a path on the target (it needs the base URL) or an absolute `http(s)://` URL "
        "(it does not: a run whose probes all name their own server needs no `--base-url`).",
        NAN_NOTE,
    ),
    base_url_needed=_relative,
)
