"""The probe contract: what a kind declares once, and how the runner calls it.

A kind is one folder under ``sloprobe/probes``: ``spec.py`` (its slo.yaml
options, no I/O), ``measure.py`` (the code that talks to the world) and an
``__init__.py`` that declares a :class:`ProbeKind`. Config validation, the JSON
Schema, the runner and docs/probes.md all read that declaration from
:mod:`sloprobe.probes.registry`; the measuring module is imported only by the
runner, before the first timed request.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sloprobe.fields.base import StrictModel
from sloprobe.model.units import Unit

if TYPE_CHECKING:
    import httpx

    from sloprobe.model.measurement import Measurement, Reading
    from sloprobe.probes.context import ProbeContext
    from sloprobe.probes.tracing import Trace

SpecT = TypeVar("SpecT", bound=StrictModel)


@dataclass(frozen=True)
class Measure:
    """A series a kind produces. ``name`` may hold a placeholder: ``depth.<queue>``."""

    name: str
    unit: str  # a unit of sloprobe.model.units, or "declared" (the option `unit:` chooses)
    meaning: str


@dataclass(frozen=True)
class ProbeCall(Generic[SpecT]):
    """One probe's inputs for one run."""

    name: str
    spec: SpecT
    context: ProbeContext
    client: httpx.AsyncClient  # the run's client for the target: base URL, headers, auth
    trace: Trace


# What a kind's ``measure(call)`` is: the runner times it and names the Measurement.
Measurer = Callable[[ProbeCall[Any]], Awaitable["Reading"]]


async def timed(probe: str, kind: str, reading: Awaitable[Reading]) -> Measurement:
    """``reading`` awaited and timed as the runner times a probe, outside a run (tests, discovery)."""
    started, clock = datetime.now(UTC), time.perf_counter()
    return (await reading).measured(probe, kind, started, time.perf_counter() - clock)


@dataclass(frozen=True)
class ProbeKind(Generic[SpecT]):
    """Everything sloprobe knows about a kind without importing its I/O code."""

    name: str
    spec: type[SpecT]
    summary: str
    measures: tuple[Measure, ...]
    series_units: Callable[[SpecT], dict[str, Unit]]
    talks_to_target: bool  # uses the target's base URL (and its login token)
    measurer: str  # "module:function" of the measuring coroutine
    deadline: Callable[[SpecT, float], float] | None = None  # default deadline from the spec
    extra: str | None = None  # the pip extra its measuring code needs
    times_requests: bool = False  # its samples time requests: it runs before the other kinds
    notes: tuple[str, ...] = field(default=())
    # It asks the monitoring stack (a Prometheus server), not the service: its own failure is
    # the stack's, loud but counted toward no budget or incident (DESIGN: failure classes).
    monitoring_stack: bool = False
    # For a kind that talks to the target: whether this probe, as configured, needs the base URL
    # (a scrape of an absolute `http://…/metrics` does not). None: every probe of the kind does.
    base_url_needed: Callable[[SpecT], bool] | None = None

    def load(self) -> Measurer:
        """Import the measuring code (before any timed request: imports are not the target's time)."""
        module_name, _, function = self.measurer.partition(":")
        module = importlib.import_module(module_name)
        measurer: Measurer = getattr(module, function)
        return measurer

    def needs_base_url(self, spec: StrictModel) -> bool:
        """Whether this probe needs the target's base URL (without one the run is a usage error)."""
        if not self.talks_to_target:
            return False
        return self.base_url_needed is None or self.base_url_needed(spec)  # type: ignore[arg-type]

    def default_deadline(self, spec: StrictModel, default: float) -> float:
        if self.deadline is None:
            return default
        return self.deadline(spec, default)  # type: ignore[arg-type]
