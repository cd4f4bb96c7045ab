"""Alerting never stops silently: a run that cannot use its history says so, and fails when it must.

Real pytest runs (pytester, in a subprocess) against a real scripted HTTP server.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  stats:
    http:
      path: /stats
      values:
        rate: {json: success_rate, unit: "%"}
slos:
  success-rate:
    probe: stats
    measure: rate
    threshold: value >= 90%
"""
CANNOT_JUDGE = (
    "*warning: history could not be used, so incidents cannot be judged: "
    "this run fails (--exit-on incident)*"
)
MOVED = re.compile(r"^history\.db\.corrupt-\d{8}T\d{6}Z$")


@pytest.fixture
def stats(scripted: ScriptedServer) -> ScriptedServer:
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99}')
    return scripted


def _breach(server: ScriptedServer) -> None:
    server.routes["/stats"] = Answer(200, '{"success_rate": 50}')


def _results(pytester: pytest.Pytester) -> dict[str, object]:
    data: dict[str, object] = json.loads((pytester.path / "reports" / "results.json").read_text())
    return data


def _warnings(pytester: pytest.Pytester) -> list[str]:
    found = _results(pytester)["warnings"]
    assert isinstance(found, list)
    return [str(w) for w in found]


def _moved(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if MOVED.match(p.name))


def test_a_corrupt_history_fails_exit_on_incident_then_a_fresh_one_judges_again(
    pytester: pytest.Pytester, stats: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    reports = pytester.path / "reports"
    reports.mkdir()
    (reports / "history.db").write_bytes(b"this is not a database" * 100)
    _breach(stats)
    first = pytester.runpytest(f"--base-url={stats.base_url}", "--exit-on=incident")
    # Before: a warning and exit 0, run after run. Now: the run fails and says why.
    assert first.ret == 1
    [moved] = _moved(reports)
    assert moved.read_bytes() == b"this is not a database" * 100
    first.stdout.fnmatch_lines(
        [
            f"*warning: history not used: the history file {reports / 'history.db'} is corrupt "
            f"(file is not a database): it was moved aside as {moved.name} and a fresh history "
            "was started*",
            CANNOT_JUDGE,
        ]
    )
    assert "Traceback" not in first.stdout.str()
    warnings = _warnings(pytester)
    assert any(f"it was moved aside as {moved.name}" in w for w in warnings)
    assert any("incidents cannot be judged" in w for w in warnings)
    # The fresh history counts this breach: the incident opens on the third bad run in a row.
    later = [
        pytester.runpytest(f"--base-url={stats.base_url}", "--exit-on=incident").ret
        for _ in range(2)
    ]
    assert later == [0, 1]
    assert not any("history" in w for w in _warnings(pytester))
    assert _moved(reports) == [moved]


def test_a_zero_length_history_is_moved_aside_and_the_report_says_so(
    pytester: pytest.Pytester, stats: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    reports = pytester.path / "reports"
    reports.mkdir()
    (reports / "history.db").write_bytes(b"")
    result = pytester.runpytest(f"--base-url={stats.base_url}")
    assert result.ret == 0  # exit on breach: this run's verdicts, unchanged
    [moved] = _moved(reports)
    assert moved.stat().st_size == 0
    assert any(
        "is empty (0 bytes): it was moved aside as " + moved.name in w for w in _warnings(pytester)
    )
    assert (reports / "history.db").stat().st_size > 0  # the fresh history holds this run


@pytest.mark.parametrize("target", ["breaching", "healthy"])
def test_an_unusable_history_fails_exit_on_incident(
    pytester: pytest.Pytester, stats: ScriptedServer, target: str
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    (pytester.path / "blocker").write_text("a file, not a directory")
    if target == "breaching":
        _breach(stats)
    result = pytester.runpytest(
        f"--base-url={stats.base_url}",
        f"--history={pytester.path / 'blocker' / 'h.db'}",
        "--exit-on=incident",
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*warning: history not used: cannot open history*", CANNOT_JUDGE])
    assert any("incidents cannot be judged" in w for w in _warnings(pytester))


def test_slos_with_an_objective_keep_their_exit_status_with_a_loud_warning(
    pytester: pytest.Pytester, stats: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE + "    objective: 99%\n    window: 7d\n")
    (pytester.path / "blocker").write_text("a file, not a directory")
    history = f"--history={pytester.path / 'blocker' / 'h.db'}"
    budgets = (
        "*warning: history could not be used, so the error budgets of success-rate cannot be "
        "judged; only this run's own verdicts set the exit status*"
    )
    healthy = pytester.runpytest(f"--base-url={stats.base_url}", history)
    assert healthy.ret == 0
    healthy.stdout.fnmatch_lines([budgets])
    assert any("error budgets of success-rate" in w for w in _warnings(pytester))
    _breach(stats)
    breaching = pytester.runpytest(f"--base-url={stats.base_url}", history)
    assert breaching.ret == 1
    breaching.stdout.fnmatch_lines([budgets])


def test_a_history_found_corrupt_while_recording_is_moved_aside_and_the_run_recorded(
    pytester: pytest.Pytester, stats: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    assert pytester.runpytest(f"--base-url={stats.base_url}").ret == 0
    # Next run: the file is damaged after the run opened it, before it records.
    pytester.makeconftest(
        """
        from sloprobe.history.store import HistoryStore

        original = HistoryStore.record_with_notices
        damaged = []

        def record_with_notices(self, *args, **kwargs):
            if not damaged:
                damaged.append(True)
                self.engine.dispose()  # checkpointed: every page is in the file
                path = self.engine.url.database
                with open(path, "r+b") as file:
                    file.truncate(len(open(path, "rb").read()) // 2)
            return original(self, *args, **kwargs)

        HistoryStore.record_with_notices = record_with_notices
        """
    )
    _breach(stats)
    result = pytester.runpytest(f"--base-url={stats.base_url}", "--exit-on=incident")
    assert result.ret == 1
    reports = pytester.path / "reports"
    [moved] = _moved(reports)
    result.stdout.fnmatch_lines(
        [
            "*warning: history not used: the history file * is corrupt (database disk image is "
            f"malformed): it was moved aside as {moved.name} and a fresh history was started*",
            CANNOT_JUDGE,
        ]
    )
    # The run is the first of the fresh history, its warnings with it.
    with sqlite3.connect(reports / "history.db") as db:
        [(warnings,)] = db.execute("SELECT warnings FROM sloprobe_runs").fetchall()
    assert f"moved aside as {moved.name}" in warnings


TWO_SLOS = """\
version: 1
service: shop
probes:
  stats:
    http:
      path: /stats
      values:
        rate: {json: success_rate, unit: "%"}
  health:
    http: {path: /health}
slos:
  success-rate:
    probe: stats
    measure: rate
    threshold: value >= 90%
  health-up:
    probe: health
    measure: ok
    threshold: value == true
"""


def test_exit_on_incident_fails_at_once_when_every_slo_breaches(
    pytester: pytest.Pytester, closed_port_url: str, scripted: ScriptedServer
) -> None:
    """A fresh suite whose target is down is red on its first run, without flap control."""
    pytester.makefile(".yaml", slo=TWO_SLOS)
    down = pytester.runpytest(f"--base-url={closed_port_url}", "--exit-on=incident")
    assert down.ret == 1
    down.stdout.fnmatch_lines(
        ["*exit status 1 (2 failed) because of --exit-on incident: every SLO breached (2 of 2)*"]
    )
    # One SLO of two breaching is flap-controlled as before: green until the incident opens.
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 50}')
    one = pytester.runpytest(f"--base-url={scripted.base_url}", "--exit-on=incident")
    assert one.ret == 0
    one.stdout.fnmatch_lines(["*because of --exit-on incident: no incident is open*"])
