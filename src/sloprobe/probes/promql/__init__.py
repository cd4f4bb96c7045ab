"""The `promql` kind: instant queries against an existing Prometheus server."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.promql.spec import PromQLProbe, promql_series_units

KIND = ProbeKind(
    name="promql",
    spec=PromQLProbe,
    summary="Ask a Prometheus server (`/api/v1/query`); each query's vector becomes samples.",
    measures=(
        Measure(
            "<query>",
            "declared",
            "A query named under `queries`: one sample per series of the answer (or the scalar). "
            "An empty or NaN answer is no data; so is a query Prometheus rejects, with its error.",
        ),
    ),
    series_units=promql_series_units,
    talks_to_target=False,
    measurer="sloprobe.probes.promql.measure:measure",
    notes=(
        "Each query stands alone: one that Prometheus rejects (`bad_data`, an execution error, "
        "its own timeout) is `no_data` for its measure, with Prometheus's error, and the other "
        "queries are judged as usual. A server that cannot be asked at all (refused, a transport "
        "timeout, an answer that is not the Prometheus API) fails every SLO of the probe.",
        "A NaN element is left out of its query's vector, and a query whose answer is only NaN "
        "is `no_data` naming the series: the NaN rule of [prometheus](#prometheus), one for "
        "every kind.",
    ),
)
