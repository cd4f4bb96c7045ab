"""`sloprobe history show` has column headers and says where each run ran (issue 24, item 5.1).

Runs are recorded in a real SQLite file and a real PostgreSQL database, each with
the location a run stores since schema v3, then shown through the command.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sloprobe.cli import main
from sloprobe.history import HistoryStore
from sloprobe.judge.over_time import judge_run, outcome_function
from tests.history.simulation import run_result, suite


def _record(url: str, at: datetime, location: str | None, index: int, depth: float) -> str:
    loaded = suite()
    result = run_result(loaded, at, depth, index)
    result = dataclasses.replace(result, run=dataclasses.replace(result.run, location=location))
    store = HistoryStore.open(url)
    try:
        store.record(
            result,
            lambda view: judge_run(result, loaded.spec, view),
            outcome_function(result, loaded.spec),
        )
    finally:
        store.dispose()
    return result.run.run_id


@pytest.fixture
def three_runs(history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)  # no slo.yaml here: every service in the store is shown
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        _record(history_url, now - timedelta(hours=3), "eu-west", 1, 1.0),
        _record(history_url, now - timedelta(hours=2), "us-east", 2, 500.0),
        _record(history_url, now - timedelta(hours=1), None, 3, 1.0),  # before v3, or unknown
    ]


def test_show_has_headers_and_a_location_column(
    history_url: str, three_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "show", "--history", history_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[:4] == ["started", "(UTC)", "service/environment", "location"]
    assert "run" in header and "status" in header and "trigger" in header
    by_run = {run_id: next(line for line in lines if run_id in line) for run_id in three_runs}
    assert by_run[three_runs[0]].split()[3] == "eu-west"
    assert by_run[three_runs[1]].split()[3] == "us-east"
    assert by_run[three_runs[1]].rstrip().endswith("depth")  # its breached SLO, last column
    assert by_run[three_runs[2]].split()[3] == "-"
    # The columns line up under their headers.
    column = lines[0].index("location")
    assert all(line[column:].startswith(("eu-west", "us-east", "-")) for line in by_run.values())
    assert "3 runs since" in lines[4]


def test_show_filters_by_location(
    history_url: str, three_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "show", "--history", history_url, "--location", "us-east"]) == 0
    out = capsys.readouterr().out
    assert three_runs[1] in out
    assert three_runs[0] not in out and three_runs[2] not in out
    assert "1 run from us-east since" in out


def test_show_with_no_run_from_a_location_prints_no_header(
    history_url: str, three_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "show", "--history", history_url, "--location", "nowhere"]) == 0
    assert capsys.readouterr().out.startswith("0 runs from nowhere since")
