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

from typing import TYPE_CHECKING

import pytest

from sloprobe.model.units import plural
from sloprobe.plugin.state import probe_name

if TYPE_CHECKING:
    from sloprobe.plugin.suite_run import SuiteRun

PARTIAL_DIR = "partial"


def probe_tests(run: SuiteRun, collected: list[pytest.Item], names: set[str]) -> list[pytest.Item]:
    """The collected tests of the Python probes ``names``, which the selected SLOs need even
    when ``-k`` left them out; a probe with no test is measured as skipped, saying why."""
    from sloprobe.model.measurement import Measurement

    by_probe: dict[str, list[pytest.Item]] = {}
    for item in collected:
        name = probe_name(item)
        if name is not None:
            by_probe.setdefault(name, []).append(item)
    found: list[pytest.Item] = []
    for name in sorted(names):
        if name not in by_probe:
            run.measurements[name] = Measurement(
                probe=name,
                kind="python",
                started_at=run.started_at,
                duration_s=0.0,
                skipped=f'no collected test is marked @pytest.mark.probe("{name}"); '
                "include probes/ in the paths",
            )
        found.extend(by_probe.get(name, ()))
    return found


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


def cut_short(session: pytest.Session, exitstatus: int) -> str | None:
    """How the run was cut before every selected SLO ran (Ctrl-C, -x, --maxfail); None if it was not."""
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "interrupted"
    if session.shouldfail:
        return "stopped early (-x / --maxfail)"
    if session.shouldstop:
        return "stopped early"
    return None


def partial_end(
    how: str,
    judged: int,
    total: int,
    cause: str | None,
    late: list[str],
    unmeasured: list[str],
) -> str:
    """Why a run cut short is partial, what cut it, and what of the rest could still be judged.

    ``cause`` says which test failed; ``judged`` SLOs ran before the cut; ``late`` were judged afterwards from the
    measurements already taken; ``unmeasured`` had nothing to judge: no probe is
    run after the cut, as -x asks.
    """
    parts = [cause] if cause else []
    if not judged and not late:
        parts.append("nothing was measured; no report written")
    elif late or unmeasured:
        said = [f"{len(late)} judged from what was measured"] if late else []
        if unmeasured:
            shown = ", ".join(unmeasured[:5]) + (", …" if len(unmeasured) > 5 else "")
            said.append(f"{len(unmeasured)} not measured ({shown})")
        parts.append(", ".join(said))
    text = f"{how} after {judged} of {plural(total, 'SLO')}"
    return f"{text}: {'; '.join(parts)}" if parts else text
