"""Every history wait is bounded: a held lock, a silent server, a slow statement end in a warning.

The run-level tests use the real bounds (docs/reliability.md) against a real
PostgreSQL, a real SQLite file and a real TCP port that accepts and never
answers; the store-level ones lower a bound to check its wording quickly.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sloprobe.history import HistoryError, HistoryStore
from sloprobe.history import errors as history_bounds
from sloprobe.history.store import (
    PG_LOCK_TIMEOUT_S,
    lock_key,
)
from tests.support.scripted_server import Answer, ScriptedServer

# pytest's start, the probe and the reports, on top of a bound.
SLACK_S = 15.0

SUITE = """\
version: 1
service: shop
probes:
  health:
    http:
      path: /health
      values:
        state: {json: status}
slos:
  health-up:
    probe: health
    measure: state
    threshold: value == "ok"
"""


@pytest.fixture
def healthy(scripted: ScriptedServer) -> ScriptedServer:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    return scripted


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A loopback port that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, float]:
    started = time.monotonic()
    result = pytester.runpytest(*args)
    return result, time.monotonic() - started


def _warnings(pytester: pytest.Pytester) -> list[str]:
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    return list(data["warnings"])


def test_a_run_lock_held_by_another_session_ends_the_run_within_the_bound(
    pytester: pytest.Pytester,
    healthy: ScriptedServer,
    postgres_history_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The documented bound is bound (its default); a shorter one, set as users can, keeps the
    # suite fast while the whole run is still held to it end to end.
    monkeypatch.setenv("SLOPROBE_HISTORY_LOCK_TIMEOUT", "2")
    bound = 2
    pytester.makefile(".yaml", slo=SUITE)
    HistoryStore.open(postgres_history_url).dispose()  # the schema, as an earlier run left it
    holder_engine = create_engine(postgres_history_url)
    holder = holder_engine.connect()
    holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("shop/production")})
    try:
        result, took = _run(
            pytester,
            f"--base-url={healthy.base_url}",
            f"--history={postgres_history_url}",
            "--exit-on=incident",
        )
    finally:
        holder.rollback()
        holder.close()
        holder_engine.dispose()
    print(f"run with the history lock held: {took:.1f}s")
    assert bound - 1 <= took < bound + SLACK_S
    # Every SLO is met, but incidents could not be judged: a scheduled run must not pass quietly.
    assert result.ret == 1
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"*warning: history not written: history lock held by another run for more than "
            f"{bound}s (PostgreSQL advisory lock `shop/production`, lock_timeout)*",
            "*warning: history could not be used, so incidents cannot be judged: "
            "this run fails (--exit-on incident)*",
        ]
    )
    assert any("history lock held by another run" in w for w in _warnings(pytester))
    # Once the lock is free the same history works again, and the run passes.
    again, took = _run(
        pytester,
        f"--base-url={healthy.base_url}",
        f"--history={postgres_history_url}",
        "--exit-on=incident",
    )
    assert again.ret == 0
    assert took < SLACK_S
    assert not any("history" in w for w in _warnings(pytester))


def test_a_locked_sqlite_history_ends_the_run_within_the_busy_timeout(
    pytester: pytest.Pytester, healthy: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The documented bound is bound (its default); a shorter one, set as users can, keeps the
    # suite fast while the whole run is still held to it end to end.
    monkeypatch.setenv("SLOPROBE_HISTORY_LOCK_TIMEOUT", "2")
    bound = 2
    pytester.makefile(".yaml", slo=SUITE)
    history = pytester.path / "reports" / "history.db"
    HistoryStore.open(f"sqlite:///{history}").dispose()
    holder = sqlite3.connect(history, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another run, stuck in its write
    try:
        result, took = _run(pytester, f"--base-url={healthy.base_url}", "--exit-on=incident")
    finally:
        holder.rollback()
        holder.close()
    print(f"run with the SQLite history locked: {took:.1f}s")
    assert bound - 1 <= took < bound + SLACK_S
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            f"*warning: history not used: cannot open history at *: history lock held by another "
            f"run for more than {bound}s (SQLite busy timeout)*",
            "*history could not be used, so incidents cannot be judged*",
        ]
    )
    assert not list(history.parent.glob("history.db.corrupt-*"))  # locked is not corrupt


def test_a_history_server_that_never_answers_ends_the_run_within_the_connect_timeout(
    pytester: pytest.Pytester,
    healthy: ScriptedServer,
    black_hole: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The documented bound is bound (its default); a shorter one, set as users can, keeps the
    # suite fast while the whole run is still held to it end to end.
    monkeypatch.setenv("SLOPROBE_HISTORY_CONNECT_TIMEOUT", "2")
    bound = 2
    pytester.makefile(".yaml", slo=SUITE)
    url = f"postgresql+psycopg://probe:s3cret-pw@127.0.0.1:{black_hole}/history"
    result, took = _run(
        pytester, f"--base-url={healthy.base_url}", f"--history={url}", "--exit-on=incident"
    )
    print(f"run with a silent history server: {took:.1f}s")
    assert bound - 1 <= took < bound + SLACK_S
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            f"*warning: history not used: cannot open history at postgresql+psycopg://***@127.0.0.1:"
            f"{black_hole}/history: no answer from the history database within "
            f"{bound}s (PostgreSQL connect_timeout)*",
            "*history could not be used, so incidents cannot be judged*",
        ]
    )
    assert (
        "s3cret-pw"
        not in result.stdout.str()
        + (pytester.path / "reports").joinpath("results.json").read_text()
    )


def test_a_connect_timeout_in_the_url_wins(black_hole: int) -> None:
    started = time.monotonic()
    with pytest.raises(HistoryError, match="within 2s"):
        HistoryStore.open(f"postgresql+psycopg://probe@127.0.0.1:{black_hole}/h?connect_timeout=2")
    assert time.monotonic() - started < 5


def test_the_schema_lock_held_bounds_opening(
    postgres_history_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_bounds, "PG_LOCK_TIMEOUT_S", 2)
    holder_engine = create_engine(postgres_history_url)
    with holder_engine.connect() as holder:
        holder.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("sloprobe-schema")}
        )
        started = time.monotonic()
        with pytest.raises(HistoryError) as caught:
            HistoryStore.open(postgres_history_url)
        took = time.monotonic() - started
        holder.rollback()
    holder_engine.dispose()
    assert 1.5 <= took < 5
    assert str(caught.value).endswith(
        "history lock held by another run for more than 2s "
        "(PostgreSQL advisory lock `sloprobe-schema`, lock_timeout)"
    )


def test_a_table_lock_held_by_another_session_is_bounded(
    postgres_history_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.history.simulation import T0, record, suite

    monkeypatch.setattr(history_bounds, "PG_LOCK_TIMEOUT_S", 2)
    store = HistoryStore.open(postgres_history_url)
    holder_engine = create_engine(postgres_history_url)
    with holder_engine.connect() as holder:
        holder.execute(text("LOCK TABLE sloprobe_runs IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        with pytest.raises(HistoryError) as caught:
            record(store, suite(), T0, 1.0)
        took = time.monotonic() - started
        holder.rollback()
    holder_engine.dispose()
    store.dispose()
    assert 1.5 <= took < 5
    assert "a history table lock held by another session for more than 2s" in str(caught.value)


def test_a_statement_over_its_bound_is_cancelled(
    postgres_history_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_bounds, "PG_STATEMENT_TIMEOUT_S", 1)
    store = HistoryStore.open(postgres_history_url)
    started = time.monotonic()
    with pytest.raises(HistoryError) as caught, store._transaction("sloprobe-read") as conn:
        conn.execute(text("SELECT pg_sleep(10)"))
    took = time.monotonic() - started
    store.dispose()
    assert took < 4
    assert str(caught.value) == (
        "a history statement ran for more than 1s (PostgreSQL statement_timeout)"
    )


def test_the_bounds_are_set_on_every_postgres_transaction(postgres_history_url: str) -> None:
    settings = text(
        "SELECT name, setting FROM pg_settings WHERE name IN ('lock_timeout', 'statement_timeout')"
    )
    store = HistoryStore.open(postgres_history_url)
    with store._transaction("sloprobe-read") as conn:
        in_transaction = {str(n): str(v) for n, v in conn.execute(settings)}
    with store.view("shop", "production") as view:
        in_view = {str(n): str(v) for n, v in view._conn.execute(settings)}
    store.dispose()
    expected = {
        "lock_timeout": str(PG_LOCK_TIMEOUT_S * 1000),
        "statement_timeout": str(history_bounds.PG_STATEMENT_TIMEOUT_S * 1000),
    }
    assert in_transaction == in_view == expected


def test_sqlite_busy_timeout_is_the_bound_of_a_locked_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.db"
    HistoryStore.open(f"sqlite:///{path}").dispose()
    monkeypatch.setattr(history_bounds, "SQLITE_BUSY_TIMEOUT_S", 1)
    store = HistoryStore.open(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    try:
        with pytest.raises(HistoryError) as caught, store._transaction("shop/production"):
            pass
    finally:
        holder.rollback()
        holder.close()
        store.dispose()
    assert 0.9 <= time.monotonic() - started < 4
    assert str(caught.value) == (
        "history lock held by another run for more than 1s (SQLite busy timeout)"
    )


def test_the_documented_bounds_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    seconds = history_bounds._seconds
    monkeypatch.delenv("SLOPROBE_HISTORY_LOCK_TIMEOUT", raising=False)
    assert seconds("SLOPROBE_HISTORY_LOCK_TIMEOUT", 30) == 30
    monkeypatch.setenv("SLOPROBE_HISTORY_LOCK_TIMEOUT", "7")
    assert seconds("SLOPROBE_HISTORY_LOCK_TIMEOUT", 30) == 7
    for bad in ("0", "-3", "soon", ""):
        monkeypatch.setenv("SLOPROBE_HISTORY_LOCK_TIMEOUT", bad)
        assert seconds("SLOPROBE_HISTORY_LOCK_TIMEOUT", 30) == 30
    assert history_bounds.PG_STATEMENT_TIMEOUT_S == 60
