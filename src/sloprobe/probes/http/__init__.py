"""The `http` kind: one request sent N times; latency, status, `ok` and values read from the answers."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.http.spec import HttpProbe, http_series_units

KIND = ProbeKind(
    name="http",
    spec=HttpProbe,
    summary="Send one request to the target N times; time it, check it, read values from its answers.",
    measures=(
        Measure(
            "latency",
            "s",
            "Time from sending the request to the last byte of its answer, per sample.",
        ),
        Measure("status", "none", "The HTTP status code of each answer."),
        Measure("ok", "bool", "Whether each answer met `expect` (status and body)."),
        Measure(
            "<value>",
            "declared",
            "A value named under `values`: a JSON field or a header, in its declared `unit`.",
        ),
    ),
    series_units=http_series_units,
    talks_to_target=True,
    times_requests=True,
    measurer="sloprobe.probes.http.measure:measure",
)
