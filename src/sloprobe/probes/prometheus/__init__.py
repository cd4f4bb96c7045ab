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
    interval = spec.scrape_interval
    return max(default, interval + 2 * spec.timeout) if interval else default


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
            "computed as Prometheus does; with `each`, one sample per series (or group), named. A "
            "metric the exposition lacks, or a NaN, is no data, with the reason.",
        ),
    ),
    series_units=prometheus_series_units,
    talks_to_target=True,
    measurer="sloprobe.probes.prometheus.measure:measure",
    deadline=_deadline,
    notes=(
        "`url` is a path on the target (it needs the base URL) or an absolute `http(s)://` URL "
        "(it does not: a run whose probes all name their own server needs no `--base-url`).",
        "**Judged as the alert rule judges.** A gauge with one series per queue (or model) is "
        "judged per series with `each: series` (as `x > 60` judges each) or `each: [queue]` (as "
        "`sum by (queue)`): each series is one sample, and a breach names it "
        '(`max = 94s at {queue="video"}`); the details list every series. A histogram is judged '
        "over the two scrapes `interval` apart (15 s when unset), never since the process started; "
        "a ratio of gauges (cost / baseline) is read as it is now.",
        "A scrape of the monitoring stack (`monitoring: true`, the default for an absolute URL on "
        "another origin than the target) that fails is not the service's breach: the run fails, "
        "but no budget, burn rate or incident counts it.",
        NAN_NOTE,
    ),
    base_url_needed=_relative,
)
