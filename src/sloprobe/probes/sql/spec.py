"""Config of the SQL probe: read-only queries whose values, columns or percentiles become series."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration, Name
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.units import Unit

MAX_ROWS = 100_000


class SqlQuery(StrictModel):
    sql: str = Field(description="One SELECT. For percentile mode it selects one numeric column.")
    unit: Unit = Unit.NONE
    mode: Literal["value", "column", "percentile"] = "value"
    percentiles: list[float] = Field(default_factory=lambda: [50.0, 95.0, 99.0])
    method: PercentileMethod = PercentileMethod.LINEAR
    max_rows: int = Field(MAX_ROWS, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _valid(self) -> SqlQuery:
        if any(not 0 <= q <= 100 for q in self.percentiles):
            raise ValueError("percentiles are between 0 and 100")
        return self


class SqlProbe(StrictModel):
    """Values from a database (any SQLAlchemy URL), e.g. queued jobs or time since the last finished one."""

    url: str = Field(repr=False, description="SQLAlchemy URL; its password is never shown.")
    timeout: Duration = 10.0
    queries: dict[Name, SqlQuery] = Field(min_length=1)


def sql_series_units(spec: SqlProbe) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for name, query in spec.queries.items():
        if query.mode == "percentile":
            units.update({f"{name}.p{q:g}": query.unit for q in query.percentiles})
            units[f"{name}.count"] = Unit.COUNT
        else:
            units[name] = query.unit
    return units
