"""Per-location state on the status page, from runs that recorded where they probed from."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sloprobe.config import load_slo_text
from sloprobe.history import HistoryStore
from sloprobe.model.status import Status
from sloprobe.status_page.build import build_status_page
from tests.history.simulation import T0, plugin_run

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
"""


def _run(history: str, minutes: int, location: str, depth: float, mp: pytest.MonkeyPatch) -> None:
    mp.setenv("SLOPROBE_LOCATION", location)
    plugin_run(
        load_slo_text(SUITE, "slo.yaml", {}), history, T0 + timedelta(minutes=minutes), depth
    )


def test_each_location_shows_what_it_saw_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    for minutes in range(0, 30, 5):
        _run(history, minutes, "eu-west", 10, monkeypatch)
        _run(history, minutes + 1, "us-east", 500 if minutes >= 20 else 10, monkeypatch)
    store = HistoryStore.open(history)
    try:
        page = build_status_page(
            store, now=T0 + timedelta(minutes=40), public_locations={"eu-west", "us-east"}
        )
    finally:
        store.dispose()
    [environment] = [e for s in page.services for e in s.environments]
    [slo] = environment.slos
    assert [(loc.location, loc.status) for loc in slo.locations] == [
        ("eu-west", Status.OK),
        ("us-east", Status.BREACH),
    ]


def test_one_location_shows_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    for minutes in range(0, 15, 5):
        _run(history, minutes, "eu-west", 10, monkeypatch)
    store = HistoryStore.open(history)
    try:
        page = build_status_page(store, now=T0 + timedelta(minutes=20))
    finally:
        store.dispose()
    [environment] = [e for s in page.services for e in s.environments]
    assert environment.slos[0].locations == ()
