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
            "An empty or NaN answer is no data.",
        ),
    ),
    series_units=promql_series_units,
    talks_to_target=False,
    measurer="sloprobe.probes.promql.measure:measure",
)
