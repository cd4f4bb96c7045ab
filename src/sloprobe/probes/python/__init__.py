"""The `python` kind: a test in probes/ marked ``@pytest.mark.probe(name)`` records values through `recorder`."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.python.spec import PythonProbe, python_series_units

KIND = ProbeKind(
    name="python",
    spec=PythonProbe,
    summary="A pytest test in probes/ measures and records named values; pytest runs it, not the YAML runner.",
    measures=(
        Measure(
            "<value>",
            "declared",
            "A value named under `values`, recorded with `recorder.record(name, value)`.",
        ),
    ),
    series_units=python_series_units,
    talks_to_target=True,
    measurer="",
)
