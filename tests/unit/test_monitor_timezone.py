"""The monitor's `timezone` is checked at load and read by the schedule health as Sentry reads it.

`0 9 * * *` in Europe/Berlin fires at 08:00 UTC in winter and 07:00 UTC in summer;
counted in UTC, every run of it would look two hours late or missing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sloprobe.config import ConfigError, load_slo_text
from sloprobe.judge.schedule import schedule_health
from sloprobe.plugin.schedule import run_schedule

DAY = 86400.0
BERLIN_NINE = "0 9 * * *"

SUITE = """\
version: 1
service: shop
target:
  base_url: http://127.0.0.1:9
settings:
  sentry:
    monitor:
      schedule: "0 9 * * *"
      timezone: {zone}
probes:
  health:
    http: {{path: /health}}
slos:
  up:
    probe: health
    measure: ok
    threshold: value == true
"""


def _days(first: datetime, count: int, hour_utc: int) -> list[datetime]:
    return [(first + timedelta(days=i)).replace(hour=hour_utc) for i in range(count)]


def test_an_unknown_zone_is_a_located_config_error_naming_field_and_value() -> None:
    with pytest.raises(ConfigError) as caught:
        load_slo_text(SUITE.format(zone="Europe/Berln"), "slo.yaml", {})
    [problem] = caught.value.problems
    assert problem.field == "settings.sentry.monitor.timezone"
    assert "Europe/Berln" in problem.message
    assert problem.line == 9  # the `timezone:` line


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_a_known_zone_loads(zone: str) -> None:
    spec = load_slo_text(SUITE.format(zone=zone), "slo.yaml", {}).spec
    assert spec.settings.sentry.monitor.timezone == zone


def test_a_berlin_cron_counted_in_berlin_holds_every_winter_run() -> None:
    now = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
    runs = _days(datetime(2026, 1, 14, tzinfo=UTC), 7, hour_utc=8)  # 09:00 CET
    health = schedule_health(
        BERLIN_NINE, runs, now, 300, window_s=7 * DAY, timezone="Europe/Berlin"
    )
    assert (health.expected, health.held, health.gaps) == (7, 7, ())
    assert "(cron 0 9 * * * Europe/Berlin)" in health.text()
    # the same runs read in UTC: one an hour "late" each day, all gaps
    in_utc = schedule_health(BERLIN_NINE, runs, now, 300, window_s=7 * DAY)
    assert len(in_utc.gaps) > 0


def test_the_spring_dst_change_moves_the_fire_an_hour_earlier_in_utc() -> None:
    """Europe/Berlin goes to summer time on 29 March 2026: 09:00 is 08:00 UTC, then 07:00 UTC."""
    now = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    winter = _days(datetime(2026, 3, 25, tzinfo=UTC), 4, hour_utc=8)  # 25–28 March
    summer = _days(datetime(2026, 3, 29, tzinfo=UTC), 4, hour_utc=7)  # 29 March – 1 April
    health = schedule_health(
        BERLIN_NINE, winter + summer, now, 300, window_s=8 * DAY, timezone="Europe/Berlin"
    )
    assert (health.expected, health.held, health.gaps) == (8, 8, ())


def test_a_dropped_run_is_a_gap_from_its_berlin_fire_time() -> None:
    now = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
    runs = _days(datetime(2026, 1, 14, tzinfo=UTC), 7, hour_utc=8)
    del runs[3]  # 17 January
    health = schedule_health(
        BERLIN_NINE, runs, now, 300, window_s=7 * DAY, timezone="Europe/Berlin"
    )
    [gap] = health.gaps
    assert gap.start == datetime(2026, 1, 17, 8, 0, tzinfo=UTC)
    assert gap.start.tzinfo is UTC and health.since.tzinfo is UTC  # as history's times are
    assert (health.expected, health.held) == (7, 6)


def test_the_run_schedule_carries_the_monitor_zone_but_github_crons_are_utc(
    tmp_path: Path,
) -> None:
    spec = load_slo_text(SUITE.format(zone="Europe/Berlin"), "slo.yaml", {}).spec
    from_yaml = run_schedule(spec, {})
    assert from_yaml is not None and from_yaml.timezone == "Europe/Berlin"
    explicit = run_schedule(spec, {"SLOPROBE_SCHEDULE": "0 10 * * *"})
    assert explicit is not None and explicit.timezone == "Europe/Berlin"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"schedule": "2-59/5 * * * *"}), encoding="utf-8")
    github = run_schedule(spec, {"GITHUB_EVENT_NAME": "schedule", "GITHUB_EVENT_PATH": str(event)})
    assert github is not None and github.timezone == "UTC"  # GitHub reads its crons in UTC
