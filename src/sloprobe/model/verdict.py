"""A verdict: the judgement of one SLO in one run, with everything an output needs to explain it."""

from __future__ import annotations

from dataclasses import dataclass

from sloprobe.model.history import SloHistory
from sloprobe.model.measurement import Sample
from sloprobe.model.percentiles import PercentileMethod
from sloprobe.model.status import Level, Status


@dataclass(frozen=True)
class ThresholdCheck:
    """One expression held against this run's data; ``held`` is None when it could not be computed."""

    expression: str
    level: Level
    observed: Sample | None
    observed_text: str
    held: bool | None

    @property
    def outcome(self) -> str:
        """``held``, ``failed`` or ``not computed``: what became of the expression in this run."""
        if self.held is None:
            return "not computed"
        return "held" if self.held else "failed"

    @property
    def label(self) -> str:
        """The check as people read it, level and outcome apart from each other.

        ``breach threshold value >= 1: held (value = 1)``,
        ``warn threshold p95 < 100ms: failed (p95 = 192.5ms)``: the level names
        which line the expression draws, never how the run went; the outcome
        comes after the colon, and the value it was judged on last.
        """
        text = f"{self.level.value} threshold {self.expression}: {self.outcome}"
        return f"{text} ({self.observed_text})" if self.observed is not None else text


@dataclass(frozen=True)
class Verdict:
    """The judgement of one SLO in one run, with everything a sink needs to explain it."""

    slo: str
    probe: str
    measure: str
    status: Status
    observed: str
    threshold: str
    reason: str
    counts_as_bad: bool
    checks: tuple[ThresholdCheck, ...] = ()
    warn: str | None = None
    samples: int = 0
    percentile_method: PercentileMethod = PercentileMethod.LINEAR
    description: str | None = None
    owner: str | None = None
    runbook: str | None = None
    history: SloHistory | None = None  # added at session end from stored runs
    # Why this run counts toward no budget, burn rate or incident (quorum across locations):
    # a breach seen from fewer locations than the quorum (it stays this run's breach, here),
    # or a good run while enough other locations see a breach (the round is bad, not good).
    uncounted: str | None = None
    # A breach not held long enough yet (`for:` of the SLO, as an alert rule's): this run
    # passes with a warning, and history records it as bad so the streak goes on.
    pending: str | None = None

    @property
    def passed(self) -> bool:
        return not self.counts_as_bad

    @property
    def rank(self) -> int:
        """Place in a list for people, most urgent first: breach, bad no data, warning, ok."""
        if self.status is Status.BREACH:
            return 0
        if self.counts_as_bad:
            return 1
        return 3 if self.status is Status.OK else 2
