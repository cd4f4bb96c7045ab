"""The status page and badges show the fleet's verdict, quorum applied, and keep location names private.

Runs are the plugin's own (SuiteRun: judged, stored, pruned) with an injected clock,
from three locations ($SLOPROBE_LOCATION, or a GitHub runner's name), into one real
SQLite history; the page is written by the real writer and read back as files.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sloprobe.cli import main
from sloprobe.config import load_slo_text
from sloprobe.history import HistoryStore
from sloprobe.status_page import write_status_page
from tests.history.simulation import T0, plugin_run

SUITE = """\
version: 1
service: shop
settings:
  quorum: {locations: 2, within: 10m}
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
    objective: 99%
    window: 1d
"""
LOCATIONS = ("eu-west", "us-east", "ap-south")  # sorted: ap-south 1, eu-west 2, us-east 3
YELLOW, RED = "#dfb317", "#e05d44"


@pytest.fixture(autouse=True)
def _no_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "SLOPROBE_PUBLIC_LOCATIONS", "SLOPROBE_LOCATION"):
        monkeypatch.delenv(name, raising=False)


def _rounds(
    history: str,
    rounds: int,
    bad: set[str],
    mp: pytest.MonkeyPatch,
    start: datetime = T0,
    locations: tuple[str, ...] = LOCATIONS,
) -> datetime:
    """Each location runs once a round, ten seconds apart, a round every five minutes.

    Returns when the last run started."""
    loaded = load_slo_text(SUITE, "slo.yaml", {})
    at = start
    for index in range(rounds):
        for offset, location in enumerate(locations):
            mp.setenv("SLOPROBE_LOCATION", location)
            at = start + timedelta(minutes=5 * index, seconds=10 * offset)
            depth = 500.0 if location in bad else 1.0
            plugin_run(loaded, history, at, depth, f"{start:%H%M}-{index}-{location}")
    return at


def _one_run(
    history: str, at: datetime, location: str, depth: float, mp: pytest.MonkeyPatch
) -> None:
    mp.setenv("SLOPROBE_LOCATION", location)
    plugin_run(load_slo_text(SUITE, "slo.yaml", {}), history, at, depth, f"extra-{location}")


def _write(history: str, out: Path, now: datetime, **options: object) -> dict[str, str]:
    store = HistoryStore.open(history)
    try:
        write_status_page(store, out, now=now, **options)  # type: ignore[arg-type]
    finally:
        store.dispose()
    return {
        str(p.relative_to(out)): p.read_text(encoding="utf-8")
        for p in out.rglob("*")
        if p.is_file()
    }


def _badge(files: dict[str, str], path: str) -> tuple[str, str, str]:
    """(message, colour name, the SVG's fill of the message) of a badge."""
    endpoint = json.loads(files[f"{path}.json"])
    fills = re.findall(
        r'<rect x="\d+" width="\d+" height="20" fill="(#[0-9a-f]+)"/>', files[f"{path}.svg"]
    )
    return endpoint["message"], endpoint["color"], fills[0]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_one_degraded_location_of_three_is_degraded_whichever_location_ran_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quorum 2, ap-south breaching alone for 12 rounds: no incident, the budget untouched."""
    history = f"sqlite:///{tmp_path / 'h.db'}"
    last = _rounds(history, 12, {"ap-south"}, monkeypatch)  # ap-south ran last
    after_degraded = _write(history, tmp_path / "a", last + timedelta(seconds=30))
    _one_run(history, last + timedelta(minutes=5), "eu-west", 1.0, monkeypatch)  # healthy next
    after_healthy = _write(history, tmp_path / "b", last + timedelta(minutes=5, seconds=30))

    for files in (after_degraded, after_healthy):
        assert _badge(files, "badges/shop/production") == (
            "degraded at location 1 of 3",
            "yellow",
            YELLOW,
        )
        svg = files["badges/shop/production.svg"]
        assert "down" not in svg and "degraded at location 1 of 3" in svg
        # The SLO: its 30-day uptime untouched, yellow, not red.
        assert _badge(files, "badges/shop/production/depth") == ("100%", "yellow", YELLOW)
        index = _text(files["index.html"])
        assert "degraded at location 1 of 3" in index
        assert "1 degraded at one location" in index
        assert "Open incidents" not in index
        shop = _text(files["services/shop.html"])
        assert "degraded at location 1 of 3" in shop
        assert "seen here only: not counted" in shop  # the per-location table's row of it


def test_a_breach_quorum_counts_is_down_even_when_a_healthy_location_ran_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = f"sqlite:///{tmp_path / 'h.db'}"
    _rounds(history, 3, set(), monkeypatch)
    last = _rounds(
        history, 4, {"us-east", "ap-south"}, monkeypatch, start=T0 + timedelta(minutes=15)
    )
    # eu-west opens the next round: healthy, but not counted (two others saw the breach)
    _one_run(history, last + timedelta(minutes=5), "eu-west", 1.0, monkeypatch)
    files = _write(history, tmp_path / "site", last + timedelta(minutes=5, seconds=30))
    assert _badge(files, "badges/shop/production") == ("down", "red", RED)
    assert _badge(files, "badges/shop/production/depth")[1:] == ("red", RED)
    assert "degraded at" not in files["index.html"]
    assert "Open incidents" in files["index.html"]


def test_public_page_names_only_the_locations_declared_public(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = f"sqlite:///{tmp_path / 'h.db'}"
    last = _rounds(history, 3, {"ap-south"}, monkeypatch)
    now = last + timedelta(seconds=30)
    hidden = _write(history, tmp_path / "private", now)
    for name, text in hidden.items():
        for location in LOCATIONS:
            assert location not in text, (name, location)
    shop = _text(hidden["services/shop.html"])
    assert all(f"location {n} of 3" in shop for n in (1, 2, 3))  # the per-location table

    named = _write(history, tmp_path / "named", now, public_locations={"ap-south"})
    assert _badge(named, "badges/shop/production")[0] == "degraded at ap-south"
    shop = _text(named["services/shop.html"])
    assert "degraded at ap-south" in shop
    assert "location 2 of 3" in shop and "location 3 of 3" in shop  # still numbered
    assert all("eu-west" not in t and "us-east" not in t for t in named.values())

    internal = _write(history, tmp_path / "internal", now, internal=True)
    shop = _text(internal["services/shop.html"])
    assert all(location in shop for location in LOCATIONS)  # never published: every name


def test_github_runner_names_stay_off_the_command_s_public_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sloprobe status-page` as the workflow runs it: runners named by GitHub, real clock."""
    history = tmp_path / "h.db"
    loaded = load_slo_text(SUITE, "slo.yaml", {})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("RUNNER_ENVIRONMENT", "self-hosted")
    runners = ("fra-prod-runner-07", "iad-build-box-3")
    start = datetime.now(UTC) - timedelta(minutes=30)
    for index in range(4):
        for offset, runner in enumerate(runners):
            monkeypatch.setenv("RUNNER_NAME", runner)
            at = start + timedelta(minutes=5 * index, seconds=10 * offset)
            depth = 500.0 if runner == runners[1] else 1.0
            plugin_run(loaded, f"sqlite:///{history}", at, depth, f"gh-{index}-{runner}")

    out = tmp_path / "site"
    assert main(["status-page", "--history", str(history), "--out", str(out)]) == 0
    files = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}
    for name, text in files.items():
        assert "self-hosted" not in text, name
        assert not any(runner in text for runner in runners), name
    assert json.loads(files["badges/shop/production.json"])["message"] == (
        "degraded at location 2 of 2"
    )

    monkeypatch.setenv("SLOPROBE_PUBLIC_LOCATIONS", "self-hosted/iad-build-box-3, elsewhere")
    assert main(["status-page", "--history", str(history), "--out", str(out)]) == 0
    badge = json.loads((out / "badges/shop/production.json").read_text())
    assert badge["message"] == "degraded at self-hosted/iad-build-box-3"
    assert "fra-prod-runner-07" not in (out / "services/shop.html").read_text()

    monkeypatch.delenv("SLOPROBE_PUBLIC_LOCATIONS")
    argv = ["status-page", "--history", str(history), "--out", str(out)]
    assert main([*argv, "--public-locations", "self-hosted/iad-build-box-3"]) == 0
    badge = json.loads((out / "badges/shop/production.json").read_text())
    assert badge["message"] == "degraded at self-hosted/iad-build-box-3"


def test_both_docs_say_the_per_location_table_is_shown_and_names_are_private() -> None:
    root = Path(__file__).resolve().parents[2]
    status_page = (root / "docs/status-page.md").read_text(encoding="utf-8")
    at_scale = (root / "docs/at-scale.md").read_text(encoding="utf-8")
    assert "nothing is shown for it" not in status_page
    for doc in (status_page, at_scale):
        flat = " ".join(doc.split())
        assert "table of each location's latest state" in flat
        assert "SLOPROBE_PUBLIC_LOCATIONS" in flat and "location 1 of 3" in flat
        assert "degraded at" in flat
