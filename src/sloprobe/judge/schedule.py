"""Judge a schedule from the runs history holds: expected runs, held runs, and the gaps.

The cron is read in the monitor's time zone, as Sentry reads it: ``0 9 * * *``
in ``Europe/Berlin`` fires at 08:00 UTC in winter and 07:00 UTC in summer, and
cronsim handles the DST days when given zone-aware datetimes. Every time handed
back is UTC, as history's are.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import islice
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from sloprobe.errors import InputError
from sloprobe.model.schedule import Gap, ScheduleHealth

DAY_S = 86400.0
_MAX_FIRES = 100_000  # a cron firing every minute for 24 h is 1,440


class BadCron(InputError, ValueError):
    """The cron expression cannot be read."""


def _zone(name: str) -> tzinfo:
    """The zone a cron is read in; config validated the name, so only UTC needs no tz database."""
    return UTC if name == "UTC" else ZoneInfo(name)


def _fires(cron: str, after: datetime, until: datetime, tz: tzinfo) -> list[datetime]:
    try:
        sim = CronSim(cron, after.astimezone(tz))
    except CronSimError as exc:
        raise BadCron(f"cron `{cron}`: {exc}") from None
    found = []
    for fire in islice(sim, _MAX_FIRES):
        if fire > until:
            break
        found.append(fire.astimezone(UTC))
    return found


def _fire_before(cron: str, moment: datetime, tz: tzinfo) -> datetime:
    """The last fire time at or before ``moment`` (the one a run at ``moment`` answered)."""
    try:
        sim = CronSim(cron, (moment + timedelta(seconds=1)).astimezone(tz), reverse=True)
        return next(sim).astimezone(UTC)
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
    timezone: str = "UTC",
) -> ScheduleHealth:
    """Runs the cron asked for since ``now - window_s`` (or the first run held, if later)
    against the runs held; a gap is a stretch over ``allowance_s`` past a fire time with
    no run. ``timezone`` is the zone the cron is read in (the one Sentry is told).
    Pure: the caller reads the run times from history."""
    tz = _zone(timezone)
    start = now - timedelta(seconds=window_s)
    every = sorted(runs)
    held = [t for t in every if start < t <= now]  # (start, now]: a day holds 288 five-minute runs
    # A suite younger than the window is counted from the fire its first run answered.
    since = start if not every or every[0] < start else _fire_before(cron, every[0], tz)
    first = since if since == start else since - timedelta(microseconds=1)  # the first run counts
    expected = len(_fires(cron, first, now, tz))
    allowance = timedelta(seconds=allowance_s)
    gaps = []
    for before, after in zip([since, *held], [*held, now], strict=True):
        fires = _fires(cron, before, after, tz)
        if fires and after - fires[0] > allowance:
            gaps.append(Gap(fires[0], after))
    return ScheduleHealth(
        cron=cron,
        timezone=timezone,
        since=since,
        until=now,
        expected=expected,
        held=len(held),
        allowance_s=allowance_s,
        gaps=tuple(gaps),
    )
