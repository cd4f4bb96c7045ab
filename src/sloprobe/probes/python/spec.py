"""Config of a Python probe: a test in probes/ that records named values through `recorder`."""

from __future__ import annotations

from pydantic import Field

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Name
from sloprobe.model.units import Unit


class RecordedValue(StrictModel):
    unit: Unit = Unit.NONE


class PythonProbe(StrictModel):
    """Measured by a test in probes/ marked ``@pytest.mark.probe("<name>")`` through ``recorder``."""

    values: dict[Name, RecordedValue] = Field(default_factory=dict)


def python_series_units(spec: PythonProbe) -> dict[str, Unit]:
    return {name: v.unit for name, v in spec.values.items()}
