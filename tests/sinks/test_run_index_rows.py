"""index.html's rows come from index.json, one small file, not from every kept run's results.

A run adds its own row from its result; a kept run that index.json lacks, or holds in a
shape it never writes, is read from its results file as before.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

from sloprobe.model.result import RunInfo, RunResult
from sloprobe.model.status import Status
from sloprobe.sinks import publish
from sloprobe.sinks.report_links import run_stem
from sloprobe.sinks.run_index import ROWS
from tests.sinks.test_reports import START, verdict


@pytest.fixture
def result() -> RunResult:
    info = RunInfo(
        run_id="r000",
        service="shop",
        environment="prod",
        started_at=START,
        finished_at=START + timedelta(seconds=2),
        sloprobe_version="0.1.0",
        slo_file="slo.yaml",
        base_url="https://shop.example",
    )
    verdicts = (verdict("fast", Status.OK), verdict("state", Status.BREACH))
    return RunResult(run=info, verdicts=verdicts, measurements={})


def _publish(result: RunResult, folder: Path, minute: int) -> str:
    run = dataclasses.replace(
        result.run, run_id=f"r{minute:03d}", started_at=START + timedelta(minutes=minute)
    )
    _, warnings = publish(dataclasses.replace(result, run=run), folder)
    assert not warnings
    return run_stem(run)


def _listed(folder: Path) -> int:
    return (folder / "index.html").read_text().count('data-status="breach"')


def test_each_run_adds_its_row_with_what_its_results_say(result: RunResult, tmp_path: Path) -> None:
    stems = [_publish(result, tmp_path, minute) for minute in range(3)]
    rows = json.loads((tmp_path / ROWS).read_text())
    assert sorted(rows) == stems
    for stem in stems:
        results = json.loads((tmp_path / "runs" / f"{stem}.json").read_text())
        assert rows[stem] == {
            "started_at": results["run"]["started_at"],
            "service": results["run"]["service"],
            "environment": results["run"]["environment"],
            "status": results["status"],
            "breached": [v["slo"] for v in results["verdicts"] if v["counts_as_bad"]],
        }
    assert _listed(tmp_path) == 3


def test_kept_results_are_not_parsed_again(result: RunResult, tmp_path: Path) -> None:
    first = _publish(result, tmp_path, 0)
    (tmp_path / "runs" / f"{first}.json").write_text("not json")  # unreadable, but known
    _publish(result, tmp_path, 1)
    assert first in json.loads((tmp_path / ROWS).read_text())
    assert _listed(tmp_path) == 2


def test_a_lost_or_damaged_index_json_is_rebuilt_from_the_results(
    result: RunResult, tmp_path: Path
) -> None:
    stems = [_publish(result, tmp_path, minute) for minute in range(3)]
    (tmp_path / ROWS).write_text('{"' + stems[0] + '": {"status": 1}, "x": []')
    _publish(result, tmp_path, 3)
    assert _listed(tmp_path) == 4
    (tmp_path / ROWS).write_text(json.dumps({stems[1]: {"status": ["breach"]}}))
    _publish(result, tmp_path, 4)
    rows = json.loads((tmp_path / ROWS).read_text())
    assert rows[stems[1]]["status"] == "breach" and len(rows) == 5
    (tmp_path / ROWS).unlink()
    _publish(result, tmp_path, 5)
    assert len(json.loads((tmp_path / ROWS).read_text())) == 6
    assert _listed(tmp_path) == 6


def test_rows_of_pruned_runs_leave_with_them(result: RunResult, tmp_path: Path) -> None:
    from sloprobe.sinks import run_index

    for minute in range(run_index.RETENTION + 2):
        _publish(result, tmp_path, minute)
    rows = json.loads((tmp_path / ROWS).read_text())
    assert len(rows) == run_index.RETENTION
    assert min(rows).endswith("-r002")
