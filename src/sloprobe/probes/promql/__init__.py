"""The `promql` kind: instant queries against an existing Prometheus server."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.promql.spec import PromQLProbe, promql_series_units

KIND = ProbeKind(
    name="promql",
    monitoring_stack=True,
    spec=PromQLProbe,
    summary="Ask a Prometheus server (`/api/v1/query`); each query's vector becomes samples.",
    measures=(
        Measure(
            "<query>",
            "declared",
            "A query named under `queries`: one sample per series of the answer (or the scalar), "
            "each named, so a breach says which series. An empty or NaN answer is no data; so is "
            "a query Prometheus rejects, with its error.",
        ),
    ),
    series_units=promql_series_units,
    talks_to_target=False,
    measurer="sloprobe.probes.promql.measure:measure",
    notes=(
        "Each query stands alone: one that Prometheus rejects (`bad_data`, an execution error, "
        "its own timeout) is `no_data` for its measure, with Prometheus's error, and the other "
        "queries are judged as usual. A server that cannot be asked at all (refused, a transport "
        "timeout, an answer that is not the Prometheus API) fails every SLO of the probe: the "
        "monitoring stack failed, not the service, so the run fails but no budget, burn rate or "
        "incident counts it as the service's breach.",
        "An empty answer is no data saying whether the metrics the query names exist: sloprobe "
        "asks `count(<metric>)` and says `… has no series on this Prometheus` (misspelt, not "
        "scraped) or that it has series the query selected none of. A ratio whose numerator can "
        'have no series (no 5xx yet) must say 0 then: `(sum(rate(x{status=~"5.."}[5m])) or '
        "vector(0)) / sum(rate(x[5m]))`. The details name each query's window (its range).",
        "A NaN element is left out of its query's vector, and a query whose answer is only NaN "
        "is `no_data` naming the series: the NaN rule of [prometheus](#prometheus), one for "
        "every kind.",
    ),
)
