"""The history's database engine, with every wait bounded: connect, lock and statement timeouts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from sloprobe.history import errors as bounds
from sloprobe.history.errors import (
    PG_LOCK_NOT_AVAILABLE,
    PG_QUERY_CANCELED,
    SQLITE_BUSY,
    SQLITE_LOCKED,
    short_error,
)
from sloprobe.history.files import sqlite_file


def create_history_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        file = sqlite_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": bounds.SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={bounds.SQLITE_BUSY_TIMEOUT_S * 1000}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # writers queue up instead of deadlocking

        return engine
    connect_args: dict[str, Any] = {}
    parsed = make_url(url)
    if (
        parsed.get_backend_name() == "postgresql"
        and parsed.get_driver_name().startswith("psycopg")
        and "connect_timeout" not in parsed.query
    ):
        # psycopg's own default is 130 s per address; a URL's connect_timeout wins.
        connect_args["connect_timeout"] = bounds.PG_CONNECT_TIMEOUT_S
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def bound_transaction(conn: Connection) -> None:
    """Bound this PostgreSQL transaction's lock waits and statements (``SET LOCAL``)."""
    conn.execute(
        text(
            "SELECT set_config('lock_timeout', :lock, true),"
            " set_config('statement_timeout', :statement, true)"
        ),
        {"lock": f"{bounds.PG_LOCK_TIMEOUT_S}s", "statement": f"{bounds.PG_STATEMENT_TIMEOUT_S}s"},
    )


def connect_timeout_of(url: Any) -> int:
    """The connect timeout this engine uses: the URL's own, else ours."""
    found = url.query.get("connect_timeout")
    try:
        return int(float(found if isinstance(found, str) else found[0]))
    except (TypeError, ValueError, IndexError):
        return bounds.PG_CONNECT_TIMEOUT_S


def failure_reason(exc: SQLAlchemyError, waiting_for: str | None, connect_timeout: int) -> str:
    """What went wrong, worded by the bound it hit when it hit one."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED):
        return (
            f"history lock held by another run for more than {bounds.SQLITE_BUSY_TIMEOUT_S}s "
            "(SQLite busy timeout)"
        )
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state == PG_LOCK_NOT_AVAILABLE:
        if waiting_for is not None:
            return (
                f"history lock held by another run for more than {bounds.PG_LOCK_TIMEOUT_S}s "
                f"(PostgreSQL advisory lock `{waiting_for}`, lock_timeout)"
            )
        return (
            f"a history table lock held by another session for more than {bounds.PG_LOCK_TIMEOUT_S}s "
            "(PostgreSQL lock_timeout)"
        )
    if state == PG_QUERY_CANCELED and "statement timeout" in str(orig):
        return (
            f"a history statement ran for more than {bounds.PG_STATEMENT_TIMEOUT_S}s "
            "(PostgreSQL statement_timeout)"
        )
    if type(orig).__name__ == "ConnectionTimeout" or "timeout expired" in str(orig):
        return (
            f"no answer from the history database within {connect_timeout}s "
            "(PostgreSQL connect_timeout)"
        )
    return short_error(exc)
