"""Which cron this run belongs to, and how late a run of it may be before it counts as missing.

The cron comes from ``$SLOPROBE_SCHEDULE``, else from GitHub's scheduled event
(its payload names the cron that fired), else from ``settings.sentry.monitor.schedule``
when slo.yaml sets it. GitHub starts scheduled runs late — often by 10 to 60
minutes — so on GitHub a run may be an hour late before the Crons monitor or
the schedule health calls it missing; a dropped hour still is.

The cron is read in ``settings.sentry.monitor.timezone`` (what Sentry is told),
except GitHub's: GitHub reads its schedule crons in UTC whatever slo.yaml says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sloprobe.config.model import SloFile

GITHUB_LATENESS_S = 3600.0
PUNCTUAL_LATENESS_S = 300.0  # cron, Kubernetes CronJobs: minutes, not an hour


@dataclass(frozen=True)
class Schedule:
    cron: str
    allowance_s: float
    source: str  # "$SLOPROBE_SCHEDULE", "GitHub schedule event", "slo.yaml"
    timezone: str = "UTC"  # the zone the cron is read in, for Sentry and the schedule health


def _github_cron(environ: Mapping[str, str]) -> str | None:
    if environ.get("GITHUB_EVENT_NAME") != "schedule" or not environ.get("GITHUB_EVENT_PATH"):
        return None
    try:
        event = json.loads(Path(environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cron = event.get("schedule") if isinstance(event, dict) else None
    return cron if isinstance(cron, str) and cron.strip() else None


def run_schedule(spec: SloFile, environ: Mapping[str, str]) -> Schedule | None:
    """The schedule this run belongs to; None for a run nobody scheduled (a laptop, a deploy)."""
    monitor = spec.settings.sentry.monitor
    margin = monitor.checkin_margin * 60.0 if "checkin_margin" in monitor.model_fields_set else None
    on_github = environ.get("GITHUB_ACTIONS") == "true"
    default_allowance = GITHUB_LATENESS_S if on_github else PUNCTUAL_LATENESS_S
    explicit = (environ.get("SLOPROBE_SCHEDULE") or "").strip()
    if explicit:
        allowance = margin or default_allowance
        return Schedule(explicit, allowance, "$SLOPROBE_SCHEDULE", monitor.timezone)
    github = _github_cron(environ)
    if github:
        return Schedule(github, margin or GITHUB_LATENESS_S, "GitHub schedule event", "UTC")
    if "schedule" in monitor.model_fields_set:
        allowance = margin or default_allowance
        return Schedule(monitor.schedule, allowance, "slo.yaml", monitor.timezone)
    return None
