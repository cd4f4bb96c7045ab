"""A run's result: the one object every sink consumes, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sloprobe.model.measurement import Measurement
from sloprobe.model.schedule import ScheduleHealth
from sloprobe.model.status import Status
from sloprobe.model.timeline import Point
from sloprobe.model.verdict import Verdict


@dataclass(frozen=True)
class RunInfo:
    """Who ran what, where and when. ``base_url`` is already stripped of credentials."""

    run_id: str
    service: str
    environment: str
    started_at: datetime
    finished_at: datetime
    sloprobe_version: str
    slo_file: str
    base_url: str | None
    trigger: str = "local"
    release: str | None = None
    # Why the run judged only some of the file's SLOs (a local experiment, not in history).
    partial: str | None = None
    location: str | None = None  # where the run ran ($SLOPROBE_LOCATION, the CI runner)
    ci_url: str | None = None  # the CI run that made it (its GitHub Actions page), if any

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class ExitInfo:
    """The exit status the run ends with, under which ``--exit-on``, and why."""

    code: int
    exit_on: str
    reason: str


@dataclass(frozen=True)
class RunResult:
    """The run's metadata, its verdicts, the measurements behind them and set-up warnings."""

    run: RunInfo
    verdicts: tuple[Verdict, ...]
    measurements: Mapping[str, Measurement] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    timeline: Mapping[str, tuple[Point, ...]] = field(default_factory=dict)  # history, oldest first
    # One-line facts about the run's set-up that are not problems (integrations: Sentry off …).
    notes: tuple[str, ...] = ()
    schedule: ScheduleHealth | None = None  # runs held vs the cron, when the run is scheduled
    exit: ExitInfo | None = None  # set when the run is published (None: read back from history)

    @property
    def status(self) -> Status:
        """The worst status of the run: breach (or bad no_data) > warning > no_data > ok."""
        if any(v.counts_as_bad for v in self.verdicts):
            return Status.BREACH
        if any(v.status is Status.WARNING for v in self.verdicts):
            return Status.WARNING
        if any(v.status is Status.NO_DATA for v in self.verdicts):
            return Status.NO_DATA
        return Status.OK

    def count(self, status: Status) -> int:
        return sum(1 for v in self.verdicts if v.status is status)
