"""`for:` as an alert rule's: a breach stands only once the threshold has failed that long."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sloprobe.model.status import Status
from tests.history.simulation import T0, plugin_run, suite

SUITE = """\
version: 1
service: shop
probes:
  queue:
    http:
      path: /metrics
      values:
        depth: {json: depth, unit: count}
slos:
  depth:
    probe: queue
    measure: depth
    threshold: value < 100
    for: 2m
"""


def test_a_breach_is_pending_until_it_has_held_for_its_duration(tmp_path: Path) -> None:
    loaded = suite(SUITE)
    history = f"sqlite:///{tmp_path / 'h.db'}"
    minute = timedelta(minutes=1)
    seen = []
    for index, depth in enumerate([10, 500, 500, 500, 10, 500]):
        result = plugin_run(loaded, history, T0 + index * minute, depth)
        [verdict] = result.verdicts
        seen.append((verdict.status, verdict.pending is not None))
    assert seen == [
        (Status.OK, False),
        (Status.WARNING, True),  # failing for 0s of 2m
        (Status.WARNING, True),  # 1m of 2m
        (Status.BREACH, False),  # 2m: the rule fires
        (Status.OK, False),
        (Status.WARNING, True),  # a new streak starts over
    ]


def test_without_history_a_breach_is_a_breach(tmp_path: Path) -> None:
    from sloprobe.judge.evaluate import evaluate_slo
    from sloprobe.model.measurement import Measurement, Series
    from sloprobe.model.units import Unit

    loaded = suite(SUITE)
    measurement = Measurement(
        "queue", "http", T0, 0.01, {"depth": Series("depth", Unit.COUNT, (500.0,))}
    )
    verdict = evaluate_slo("depth", loaded.spec.slos["depth"], measurement)
    assert verdict.status is Status.BREACH and loaded.spec.slos["depth"].for_ == 120.0
