"""Judge a schedule from the runs history holds: expected runs, held runs, and the gaps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import islice

from cronsim import CronSim, CronSimError

from sloprobe.model.schedule import Gap, ScheduleHealth

DAY_S = 86400.0
_MAX_FIRES = 100_000  # a cron firing every minute for 24 h is 1,440


class BadCron(ValueError):
    """The cron expression cannot be read."""


def _fires(cron: str, after: datetime, until: datetime) -> list[datetime]:
    try:
        sim = CronSim(cron, after)
    except CronSimError as exc:
        raise BadCron(f"cron `{cron}`: {exc}") from None
    found = []
    for fire in islice(sim, _MAX_FIRES):
        if fire > until:
            break
        found.append(fire)
    return found


def _fire_before(cron: str, moment: datetime) -> datetime:
    """The last fire time at or before ``moment`` (the one a run at ``moment`` answered)."""
    try:
        return next(CronSim(cron, moment + timedelta(seconds=1), reverse=True))
    except CronSimError as exc:
        raise BadCron(f"cron `{cron}`: {exc}") from None
    except StopIteration:
        return moment


def schedule_health(
    cron: str,
    runs: Iterable[datetime],
    now: datetime,
    allowance_s: float,
    window_s: float = DAY_S,
) -> ScheduleHealth:
    """Runs the cron asked for since ``now - window_s`` (or the first run held, if later)
    against the runs held; a gap is a stretch over ``allowance_s`` past a fire time with
    no run. Pure: the caller reads the run times from history."""
    start = now - timedelta(seconds=window_s)
    every = sorted(runs)
    held = [t for t in every if start < t <= now]  # (start, now]: a day holds 288 five-minute runs
    # A suite younger than the window is counted from the fire its first run answered.
    since = start if not every or every[0] < start else _fire_before(cron, every[0])
    first = since if since == start else since - timedelta(microseconds=1)  # the first run counts
    expected = len(_fires(cron, first, now))
    allowance = timedelta(seconds=allowance_s)
    gaps = []
    for before, after in zip([since, *held], [*held, now], strict=True):
        fires = _fires(cron, before, after)
        if fires and after - fires[0] > allowance:
            gaps.append(Gap(fires[0], after))
    return ScheduleHealth(
        cron=cron,
        since=since,
        until=now,
        expected=expected,
        held=len(held),
        allowance_s=allowance_s,
        gaps=tuple(gaps),
    )
