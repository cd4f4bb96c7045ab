"""Partial runs: a run that judged only some of the file's SLOs is a local experiment.

A run narrowed by ``-k``, ``-m``, ``--lf``, ``--deselect``, node ids, or cut
short by ``-x``/``--maxfail`` or Ctrl-C, judges a subset chosen by whoever
ran it. Counting it toward error budgets, burn rates and incidents would let
local experiments move them, and its report would replace the last full one.
So such a run is said to be partial: it is not recorded in history, sends no
notifications, and writes its report under ``<report-dir>/partial/``, unless
``--record-partial`` asks for it to count as a full run.
"""

from __future__ import annotations

import pytest

from sloprobe.model.units import plural

PARTIAL_DIR = "partial"


def narrowed_by(config: pytest.Config) -> str:
    """The options that narrowed this run, as typed (``-k health``), or how else it was."""
    parts: list[str] = []
    keyword = config.getoption("keyword", default="")
    if keyword:
        parts.append(f"-k {keyword!r}" if " " in keyword else f"-k {keyword}")
    markexpr = config.getoption("markexpr", default="")
    if markexpr:
        parts.append(f"-m {markexpr!r}" if " " in markexpr else f"-m {markexpr}")
    if config.getoption("lf", default=False):
        parts.append("--lf")
    if config.getoption("deselect", default=None):
        parts.append("--deselect")
    return ", ".join(parts) or "test ids or paths"


def partial_selection(config: pytest.Config, selected: int, total: int) -> str | None:
    """Why the run is partial when fewer SLOs than the file holds were selected; None if all were."""
    if selected >= total:
        return None
    return f"{selected} of {plural(total, 'SLO')} selected ({narrowed_by(config)})"


def partial_end(judged: int, selected: int, total: int, exitstatus: int) -> str | None:
    """Why the run is partial when it stopped before judging every selected SLO."""
    if judged >= selected:
        return None
    how = (
        "interrupted"
        if exitstatus == pytest.ExitCode.INTERRUPTED
        else "stopped early (-x / --maxfail)"
    )
    return f"{how} after {judged} of {plural(total, 'SLO')}"
