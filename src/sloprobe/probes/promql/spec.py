"""Config of the PromQL probe: instant queries against an existing Prometheus server."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from sloprobe.fields.base import StrictModel
from sloprobe.fields.target import Auth
from sloprobe.fields.types import Duration, Name
from sloprobe.model.units import Unit

# The error rate as an alert rule means it: 0 when nothing failed. Without `or vector(0)` a
# window with no 5xx has no numerator series, so the ratio is no data on a healthy service.
ERROR_RATE = (
    '(sum(rate(http_requests_total{status=~"5.."}[5m])) or vector(0))'
    " / sum(rate(http_requests_total[5m]))"
)


class PromQLQuery(StrictModel):
    query: str
    unit: Unit = Unit.NONE


class PromQLProbe(StrictModel):
    """Ask an existing Prometheus server (``/api/v1/query``)."""

    model_config = ConfigDict(
        **StrictModel.model_config,
        json_schema_extra={
            "examples": [
                {
                    "server": "http://prometheus.monitoring:9090",
                    "queries": {
                        "error-rate": {"query": ERROR_RATE, "unit": "ratio"},
                        "openai-p95": {
                            "query": "histogram_quantile(0.95, sum by (le) "
                            "(rate(openai_request_duration_seconds_bucket[5m])))",
                            "unit": "s",
                        },
                    },
                }
            ]
        },
    )

    server: str
    timeout: Duration = 10.0
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Sent to the server with every query (e.g. `X-Scope-OrgID` for Mimir); "
        "secret-named ones are redacted everywhere.",
    )
    auth: Auth | None = Field(
        None,
        description="The server's own auth (Grafana Cloud, Thanos or Mimir behind a proxy): "
        "`bearer` or `basic`, as the target's; never the target's.",
    )
    queries: dict[Name, PromQLQuery] = Field(min_length=1)


def promql_series_units(spec: PromQLProbe) -> dict[str, Unit]:
    return {name: q.unit for name, q in spec.queries.items()}
