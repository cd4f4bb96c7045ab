"""How an SLO stands in one run, with its severity and its label: defined once, read by every output."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The status of one verdict (or of a whole run: its worst verdict)."""

    OK = "ok"
    WARNING = "warning"
    BREACH = "breach"
    NO_DATA = "no_data"

    @property
    def severity(self) -> int:
        """Higher is worse: ok < no_data < warning < breach (how charts and summaries pick the worst)."""
        return _SEVERITY[self]

    @property
    def label(self) -> str:
        """How people read it: ``no data`` rather than ``no_data``."""
        return self.value.replace("_", " ")


_SEVERITY = {Status.OK: 0, Status.NO_DATA: 1, Status.WARNING: 2, Status.BREACH: 3}


class Level(StrEnum):
    """Which line a threshold draws: the breach (critical) one or the warning one."""

    BREACH = "breach"
    WARN = "warn"
