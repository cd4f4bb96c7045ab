"""Two writers at once lose nothing; history moves between stores; reports re-render from it."""

from __future__ import annotations

import json
import multiprocessing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sloprobe.cli import main
from sloprobe.history import HistoryStore, schema
from tests.history.simulation import STEP, T0, play, record, suite


def _writer(url: str, offset: int, count: int) -> None:
    store = HistoryStore.open(url)
    loaded = suite()
    for index in range(count):
        record(
            store,
            loaded,
            T0 + (offset + 2 * index) * STEP,
            1.0 if index % 7 else 500.0,
            offset * 1000 + index,
        )
    store.dispose()


def test_two_processes_writing_at_once_lose_nothing(history_url: str) -> None:
    HistoryStore.open(history_url).dispose()  # schema first, as the first run would
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(history_url, offset, 40)) for offset in (0, 1)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    store = HistoryStore.open(history_url)
    with store.engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(schema.runs)).scalar()
        verdicts = conn.execute(select(func.count()).select_from(schema.verdicts)).scalar()
    store.dispose()
    assert (runs, verdicts) == (80, 80)


def test_export_import_round_trip_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no slo.yaml here: the commands take every service in the store
    source = HistoryStore.open(f"sqlite:///{tmp_path / 'a.db'}")
    loaded = suite(_no_objective())
    play(source, loaded, "ggbbbg")
    source.dispose()
    export = tmp_path / "h.jsonl"
    assert main(["history", "export", "--history", str(tmp_path / "a.db"), str(export)]) == 0
    lines = export.read_text().splitlines()
    assert json.loads(lines[0]) == {"format": "sloprobe.history/1"}
    assert sum(1 for line in lines if '"run"' in line) == 6
    assert main(["history", "import", "--history", str(tmp_path / "b.db"), str(export)]) == 0
    assert main(["history", "import", "--history", str(tmp_path / "b.db"), str(export)]) == 0
    assert "imported 0 runs (6 already present)" in capsys.readouterr().out
    # The imported store judges the next run exactly as the original would: the incident is still open.
    target = HistoryStore.open(f"sqlite:///{tmp_path / 'b.db'}")
    nxt = record(target, loaded, T0 + 6 * STEP, 500.0, 99)
    target.dispose()
    assert nxt.verdicts[0].history is not None
    assert nxt.verdicts[0].history.incident.transition is not None
    assert nxt.verdicts[0].history.incident.transition.value == "ongoing"
    assert (
        main(["report", "--history", str(tmp_path / "b.db"), "--report-dir", str(tmp_path / "out")])
        == 0
    )
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["run"]["run_id"] == nxt.run.run_id
    assert results["verdicts"][0]["history"]["incident"]["transition"] == "ongoing"
    assert 'data-transition="ongoing"' in (tmp_path / "out" / "report.html").read_text()


def test_prune_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'h.db'}")
    play(store, suite(), "gg", start=T0 - timedelta(days=400))
    store.dispose()
    assert (
        main(["history", "prune", "--history", str(tmp_path / "h.db"), "--older-than", "30d"]) == 0
    )
    assert "pruned 2 runs" in capsys.readouterr().out
    assert main(["history", "show", "--history", str(tmp_path / "nope.db")]) == 4


def _no_objective() -> str:
    from tests.history.simulation import SUITE

    return SUITE.replace("    objective: 99%\n", "")


def test_a_missing_driver_is_a_clear_error_without_the_password() -> None:
    from sloprobe.history import HistoryError

    with pytest.raises(HistoryError) as caught:
        HistoryStore.open("mysql+pymysql://probe:s3cret-pw@127.0.0.1/history")
    assert "a database driver is missing (pymysql)" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
