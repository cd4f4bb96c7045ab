"""Config of the Prometheus probe: scrape a /metrics exposition and read gauges, counters, rates, ratios and quantiles."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration, Name
from sloprobe.model.units import Unit

HISTOGRAM_INTERVAL = 15.0  # seconds between the scrapes of a histogram when `interval` is unset


class Selector(StrictModel):
    name: str = Field(description="Metric (family or sample) name, e.g. jobs_finished_total.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Exact label matches; matching series are summed."
    )


class MetricSpec(StrictModel):
    name: str | None = Field(
        None,
        description="Metric (family or sample) name, e.g. jobs_finished_total; a `ratio` needs "
        "none: it reads its `numerator` and `denominator`.",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="Exact label matches; matching series are summed (unless `each`).",
    )
    kind: Literal["gauge", "counter", "rate", "histogram_quantile", "ratio"] = "gauge"
    quantile: float | None = Field(None, ge=0, le=1)
    numerator: Selector | None = None
    denominator: Selector | None = None
    unit: Unit = Unit.NONE
    each: Literal["series"] | list[str] | None = Field(
        None,
        description="Judge each series instead of their sum: `series` (every label set on its "
        "own, as an alert rule `x > 60` judges each) or labels to group by (`[queue]`: one value "
        "per queue, the other labels summed, as `sum by (queue)`; a `ratio` matches numerator and "
        "denominator on them). Each is one sample, and the verdict names the one it shows: hold "
        "them with `value` (every one, the worst shown), `max` or `min`.",
    )

    @model_validator(mode="after")
    def _complete(self) -> MetricSpec:
        if self.kind == "histogram_quantile" and self.quantile is None:
            raise ValueError("histogram_quantile needs `quantile`, e.g. 0.95")
        if self.kind == "ratio":
            if self.numerator is None or self.denominator is None:
                raise ValueError("ratio needs `numerator` and `denominator` selectors")
        elif self.name is None:
            raise ValueError(f"`{self.kind}` needs `name`: the metric to read")
        return self

    @property
    def selector(self) -> Selector:
        """The metric read by a kind other than `ratio`."""
        return Selector(name=self.name or "", labels=self.labels)


class PrometheusProbe(StrictModel):
    """Scrape a /metrics exposition; read gauges, counters, rates, ratios and histogram quantiles."""

    url: str = Field("/metrics", description="Absolute, or a path on the target.")
    interval: Duration | None = Field(
        None,
        description="Scrape twice this far apart and use the difference (counters, rates, "
        "ratios of counters, histograms). Without it a probe with a `histogram_quantile` still "
        f"scrapes twice, {HISTOGRAM_INTERVAL:g} s apart, for that quantile: a histogram is "
        "judged over a recent window, never since the process started.",
    )
    timeout: Duration = 10.0
    monitoring: bool | None = Field(
        None,
        description="Whether `url` is the monitoring stack's (an exporter, a Pushgateway) rather "
        "than the service's own: then a failed scrape fails the run but is no breach of the "
        "service and counts toward no budget or incident. Default: true for an absolute URL on "
        "another origin than the target's base URL.",
    )
    metrics: dict[Name, MetricSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _rates_need_two_scrapes(self) -> PrometheusProbe:
        if self.interval is None and any(m.kind == "rate" for m in self.metrics.values()):
            raise ValueError("`rate` needs `interval` (two scrapes)")
        return self

    @property
    def scrape_interval(self) -> float | None:
        """Seconds between the two scrapes: ``interval``, or the histograms' default."""
        if self.interval is not None:
            return self.interval
        if any(m.kind == "histogram_quantile" for m in self.metrics.values()):
            return HISTOGRAM_INTERVAL
        return None


def prometheus_series_units(spec: PrometheusProbe) -> dict[str, Unit]:
    return {name: m.unit for name, m in spec.metrics.items()}
