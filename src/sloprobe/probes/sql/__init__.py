"""The `sql` kind: read-only queries; values, columns and percentiles computed in the database."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.sql.spec import SqlProbe, sql_series_units

KIND = ProbeKind(
    name="sql",
    spec=SqlProbe,
    summary="Run read-only SELECTs (any SQLAlchemy URL) with a statement timeout.",
    measures=(
        Measure(
            "<query>",
            "declared",
            "`mode: value`: the first column of the first row; `mode: column`: every row's first column.",
        ),
        Measure(
            "<query>.p<q>",
            "declared",
            "`mode: percentile`: the q-th percentile of the column, computed by the database.",
        ),
        Measure(
            "<query>.count",
            "count",
            "`mode: percentile`: how many values the percentile was taken over.",
        ),
    ),
    series_units=sql_series_units,
    talks_to_target=False,
    measurer="sloprobe.probes.sql.measure:measure",
    extra="postgres",
)
