"""The `prometheus` kind: scrape a /metrics exposition; gauges, counters, rates, ratios, quantiles."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.prometheus.spec import PrometheusProbe, prometheus_series_units


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
            "computed as Prometheus does. A metric the exposition lacks is no data, with the reason.",
        ),
    ),
    series_units=prometheus_series_units,
    talks_to_target=True,
    measurer="sloprobe.probes.prometheus.measure:measure",
    deadline=_deadline,
)
