"""A corrupt or empty SQLite history is moved aside, never re-initialised or overwritten in place."""

from __future__ import annotations

import multiprocessing
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sloprobe.cli import main
from sloprobe.history import HistoryError, HistoryStore, schema
from tests.history.simulation import STEP, T0, record, suite

MOVED = re.compile(r"^history\.db\.corrupt-\d{8}T\d{6}Z$")


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _runs(store: HistoryStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.runs)).scalar() or 0)


def _moved(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if ".corrupt-" in p.name)


def _a_history_with_two_runs(path: Path) -> None:
    store = HistoryStore.open(_url(path), move_aside_corrupt=True)
    loaded = suite()
    record(store, loaded, T0, 1.0, 1)
    record(store, loaded, T0 + STEP, 1.0, 2)
    store.dispose()


def test_a_file_that_is_not_a_database_is_moved_aside_with_its_wal_and_shm(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database" * 100)
    (tmp_path / "history.db-wal").write_bytes(b"wal pages")
    (tmp_path / "history.db-shm").write_bytes(b"shm index")
    store = HistoryStore.open(_url(path), move_aside_corrupt=True)
    try:
        [note] = store.notes
        moved = _moved(tmp_path)
        [main] = [p for p in moved if MOVED.match(p.name)]
        assert [p.name for p in moved] == [main.name, f"{main.name}-shm", f"{main.name}-wal"]
        # Moved, not rewritten: every byte is where the note says.
        assert main.read_bytes() == b"this is not a database" * 100
        assert Path(f"{main}-wal").read_bytes() == b"wal pages"
        assert Path(f"{main}-shm").read_bytes() == b"shm index"
        assert note == (
            f"the history file {path} is corrupt (file is not a database): it was moved aside as "
            f"{main.name} and a fresh history was started, so incidents and error budgets start over"
        )
        # The fresh history works.
        record(store, suite(), T0, 1.0)
        assert _runs(store) == 1
    finally:
        store.dispose()


def test_a_zero_length_file_is_moved_aside_not_silently_reinitialised(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"")
    store = HistoryStore.open(_url(path), move_aside_corrupt=True)
    [note] = store.notes
    record(store, suite(), T0, 1.0)
    store.dispose()
    [moved] = _moved(tmp_path)
    assert MOVED.match(moved.name) and moved.stat().st_size == 0
    assert "is empty (0 bytes): it was moved aside as" in note
    reopened = HistoryStore.open(_url(path), move_aside_corrupt=True)
    assert reopened.notes == [] and _runs(reopened) == 1
    reopened.dispose()


def test_a_truncated_history_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    _a_history_with_two_runs(path)
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.truncate(size // 2)
    store = HistoryStore.open(_url(path), move_aside_corrupt=True)
    [note] = store.notes
    assert "is corrupt (database disk image is malformed)" in note
    assert _runs(store) == 0
    store.dispose()
    [moved] = _moved(tmp_path)
    assert moved.stat().st_size == size // 2


def test_a_healthy_history_is_never_moved(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    _a_history_with_two_runs(path)
    first = HistoryStore.open(_url(path), move_aside_corrupt=True)
    record(first, suite(), T0 + 2 * STEP, 1.0, 3)  # live: pages in -wal, connection open
    second = HistoryStore.open(_url(path), move_aside_corrupt=True)
    assert first.notes == second.notes == []
    assert _runs(second) == 3
    first.dispose()
    second.dispose()
    assert _moved(tmp_path) == []


def test_recover_moves_only_the_file_found_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    _a_history_with_two_runs(path)
    store = HistoryStore.open(_url(path), move_aside_corrupt=True)
    corrupt = HistoryError("history store: database disk image is malformed", corrupt=True)
    # Another run already put a fresh history in its place: that one is kept.
    store.dispose()
    path.rename(tmp_path / "elsewhere.db")
    HistoryStore.open(_url(path), move_aside_corrupt=True).dispose()
    fresh = store.recover(corrupt)
    assert fresh.notes == [] and _moved(tmp_path) == []
    fresh.dispose()
    # The file this store opened is still there: it is moved aside.
    again = HistoryStore.open(_url(path), move_aside_corrupt=True)
    fresh = again.recover(corrupt)
    assert len(fresh.notes) == 1 and len(_moved(tmp_path)) == 1
    fresh.dispose()


def _open_and_record(url: str, index: int, start: object) -> None:
    assert hasattr(start, "wait")
    start.wait()
    store = HistoryStore.open(url, move_aside_corrupt=True)
    assert store.notes == []
    record(store, suite(), T0 + index * STEP, 1.0, index)
    store.dispose()


def test_runs_creating_a_new_history_at_once_never_move_each_other_aside(tmp_path: Path) -> None:
    url = _url(tmp_path / "history.db")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    runs = [context.Process(target=_open_and_record, args=(url, i, start)) for i in range(4)]
    for process in runs:
        process.start()
    for process in runs:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert _moved(tmp_path) == []
    store = HistoryStore.open(url, move_aside_corrupt=True)
    assert _runs(store) == 4
    store.dispose()


def test_the_history_commands_leave_a_corrupt_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database" * 100)
    assert main(["history", "show", "--history", str(path)]) == 4
    assert "file is not a database" in capsys.readouterr().err
    assert path.read_bytes() == b"this is not a database" * 100
    assert _moved(tmp_path) == []
