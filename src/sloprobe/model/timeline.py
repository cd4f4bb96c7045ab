"""A read-only view of history for sinks: past runs of each SLO, as points in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Point:
    """One past run of one SLO."""

    at: datetime
    status: str
    value: float | None = None  # the observed aggregate, base units
    budget_remaining: float | None = None  # error budget left, 1.0 = all
