"""The ``recorder`` fixture's object: how a Python probe feeds named values into SLOs."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.model.units import Dimension, Unit
from sloprobe.probes.python.spec import RecordedValue
from sloprobe.probes.sanitize import safe_measurement
from sloprobe.redact import Redactor


class Recorder:
    """Collects samples for one Python probe; values are given in their declared unit."""

    def __init__(
        self, probe: str, declared: Mapping[str, RecordedValue] | None, redactor: Redactor
    ) -> None:
        self.probe = probe
        self._declared = declared
        self._redactor = redactor
        self._samples: dict[str, list[Sample]] = {}
        self._failure: str | None = None
        self._details: dict[str, str] = {}
        self._started = datetime.now(UTC)
        self._clock = time.perf_counter()

    def unit_of(self, name: str) -> Unit:
        if self._declared is None:
            return Unit.NONE
        if name not in self._declared:
            known = ", ".join(f"`{n}`" for n in self._declared) or "none"
            # The probe's test fails with this line, not a traceback through sloprobe's code.
            pytest.fail(
                f"probe `{self.probe}` declares no value `{name}` in slo.yaml (declared: {known})",
                pytrace=False,
            )
        return self._declared[name].unit

    def record(self, name: str, value: float | str | bool) -> None:
        """Add one sample of ``name``, in the unit slo.yaml declares for it."""
        unit = self.unit_of(name)
        sample: Sample = value if isinstance(value, bool | str) else unit.to_base(float(value))
        self._samples.setdefault(name, []).append(sample)

    @contextmanager
    def timer(self, name: str) -> Iterator[None]:
        """Record how long the block took as a sample of ``name`` (declared with a time unit)."""
        unit = self.unit_of(name)
        if unit.dimension is not Dimension.TIME:
            raise ValueError(
                f"`{name}` is declared in `{unit}`; a timer needs a time unit such as ms or s"
            )
        clock = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - clock
            self._samples.setdefault(name, []).append(elapsed)

    def fail(self, reason: str) -> None:
        """Mark the measurement bad (the target failed) without failing the test twice."""
        self._failure = self._redactor(reason)

    def detail(self, key: str, value: str) -> None:
        self._details[key] = self._redactor(value)[:500]

    def finish(self, failure: str | None = None, skipped: str | None = None) -> Measurement:
        units = {n: self.unit_of(n) for n in self._samples}
        measured = Measurement(
            probe=self.probe,
            kind="python",
            started_at=self._started,
            duration_s=time.perf_counter() - self._clock,
            series={n: Series(n, units[n], tuple(s)) for n, s in self._samples.items()},
            failure=self._failure or (self._redactor(failure) if failure else None),
            details=dict(self._details),
            skipped=skipped,
        )
        return safe_measurement(measured, self._redactor)
