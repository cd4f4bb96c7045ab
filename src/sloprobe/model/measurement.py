"""What a probe hands to the evaluator: measurements, never verdicts.

A probe measures; it never decides pass or fail. A failed call is recorded
as data (``failure``), not raised, so the evaluator can judge it as a bad
measurement and the report can still show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

from sloprobe.model.spans import SpanRecord
from sloprobe.model.units import Dimension, Unit

Sample = float | str | bool


@dataclass(frozen=True)
class Series:
    """Named samples of one quantity, numbers held in the base unit.

    ``unit`` is the unit the values were declared in (for display and for
    the unit check); ``samples`` are converted to the base unit already.
    """

    name: str
    unit: Unit
    samples: tuple[Sample, ...]
    # When each sample is one series (a gauge per queue), the series it came from, e.g.
    # `{queue="video"}`, so a verdict can name the one that breached; empty otherwise.
    labels: tuple[str, ...] = ()

    @property
    def dimension(self) -> Dimension:
        return self.unit.dimension

    def numbers(self) -> tuple[float, ...]:
        """Numeric samples (booleans count as 1 and 0)."""
        return tuple(float(s) for s in self.samples if not isinstance(s, str))


@dataclass(frozen=True)
class Measurement:
    """Everything one probe observed in one run.

    ``failure`` is set when the target failed (refused, timed out, 5xx, an
    expectation not met): a *bad* measurement that counts against every SLO
    on this probe. ``missing`` names series that had nothing to measure
    (``no_data``) with the reason why.
    """

    probe: str
    kind: str
    started_at: datetime
    duration_s: float
    series: Mapping[str, Series] = field(default_factory=dict)
    failure: str | None = None
    missing: Mapping[str, str] = field(default_factory=dict)
    attempts: int = 1
    retries: int = 0
    excerpt: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    skipped: str | None = None
    deferred: bool = False  # skipped because it is not due (``every``, ``max_per_day``): not bad
    trace_id: str | None = None  # W3C trace id sent with every request of this probe
    # What it reads is the monitoring stack (a Prometheus server, a separate exporter): its
    # ``failure`` is the monitoring's, never the service's breach (DESIGN.md, failure classes).
    monitoring: bool = False
    # The probe's span and those of its requests (and a job's phases) under ``trace_id``, for
    # an OpenTelemetry export; in memory only: never compared, shown or persisted.
    spans: tuple[SpanRecord, ...] = field(default=(), compare=False, repr=False)

    @property
    def failed(self) -> bool:
        return self.failure is not None


@dataclass(frozen=True)
class Reading:
    """What a probe's measuring code observed, as :class:`Measurement` holds it.

    Who measured, when and for how long are the runner's to say: it times the
    call and makes the Measurement with :meth:`measured`.
    """

    series: Mapping[str, Series] = field(default_factory=dict)
    failure: str | None = None
    missing: Mapping[str, str] = field(default_factory=dict)
    attempts: int = 1
    retries: int = 0
    excerpt: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    monitoring: bool = False

    def measured(
        self, probe: str, kind: str, started_at: datetime, duration_s: float
    ) -> Measurement:
        """The Measurement: every field of this reading, and the runner's four."""
        observed = {f.name: getattr(self, f.name) for f in fields(self)}
        return Measurement(probe, kind, started_at, duration_s, **observed)
