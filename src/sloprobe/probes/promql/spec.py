"""Config of the PromQL probe: instant queries against an existing Prometheus server."""

from __future__ import annotations

from pydantic import Field

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration, Name
from sloprobe.model.units import Unit


class PromQLQuery(StrictModel):
    query: str
    unit: Unit = Unit.NONE


class PromQLProbe(StrictModel):
    """Ask an existing Prometheus server (``/api/v1/query``)."""

    server: str
    timeout: Duration = 10.0
    queries: dict[Name, PromQLQuery] = Field(min_length=1)


def promql_series_units(spec: PromQLProbe) -> dict[str, Unit]:
    return {name: q.unit for name, q in spec.queries.items()}
