"""Fault-injection knobs, so tests and demos can make any SLO breach on purpose."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Faults:
    """What is wrong with the service right now.

    ``backlog`` queued jobs are inserted at once; while ``backlog_hold`` is on
    the workers leave them alone, so the backlog lasts for the whole run.
    """

    api_latency_ms: float = 0.0
    processing_ms: float = 20.0
    failure_rate: float = 0.0
    workers_stopped: bool = False
    backlog: int = 0
    backlog_hold: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        if self.api_latency_ms < 0 or self.processing_ms < 0 or self.backlog < 0:
            raise ValueError("latency, processing time and backlog cannot be negative")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FAULT_NAMES = frozenset(f.name for f in fields(Faults))


class FaultSwitch:
    """The current Faults, swapped atomically when changed at run time."""

    def __init__(self, faults: Faults) -> None:
        self._lock = threading.Lock()
        self._faults = faults

    @property
    def current(self) -> Faults:
        with self._lock:
            return self._faults

    def update(self, **changes: Any) -> tuple[Faults, Faults]:
        """Apply ``changes``; returns (before, after). Unknown names are a ValueError."""
        unknown = set(changes) - FAULT_NAMES
        if unknown:
            raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
        with self._lock:
            before = self._faults
            self._faults = replace(before, **changes)
            return before, self._faults
