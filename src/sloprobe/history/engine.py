"""The history's database engine, with every wait bounded: connect, lock and statement timeouts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from sloprobe.history import errors as bounds
from sloprobe.history.errors import (
    PG_LOCK_NOT_AVAILABLE,
    PG_QUERY_CANCELED,
    SQLITE_BUSY,
    SQLITE_LOCKED,
    HistoryError,
    short_error,
)
from sloprobe.history.files import sqlite_file


def check_sqlite_url(url: str) -> None:
    """Refuse a SQLite URL mistyped, which would otherwise be taken without a word.

    ``sqlite:/tmp/h.db`` (too few slashes) has no ``://``, so it was taken for a file
    path: a history at ``./sqlite:/tmp/h.db``. ``sqlite://tmp/h.db`` names a host, which
    SQLite URLs never do. Either way the error says the two URLs that were likely meant.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return
    if parsed.get_backend_name() != "sqlite":
        return
    if parsed.host or parsed.port:
        scheme, rest = url.split("://", 1)
        rest = rest.rsplit("@", 1)[-1]  # never echo a user or password
        raise HistoryError(
            f"`{scheme}://{rest}` is no SQLite URL: `{parsed.host or ''}` would be a host, which "
            f"SQLite URLs never have (`{scheme}:///` before a relative path, `{scheme}:////` "
            "before an absolute one): " + _meant(scheme, rest)
        )
    parts = Path(parsed.database or "").parts
    typed = next((i for i, part in enumerate(parts) if _SQLITE_SCHEME.match(part)), None)
    if typed is not None:
        text = "/".join(parts[typed:])
        scheme, rest = text.split(":", 1)
        raise HistoryError(
            f"`{text}` is no SQLite URL (too few slashes), so it would be taken for a file path "
            "under the working directory: " + _meant(scheme, rest)
        )


# A path component that is a SQLite URL's scheme: a URL typed where a path was taken.
_SQLITE_SCHEME = re.compile(r"^sqlite(\+\w+)?:")


def _meant(scheme: str, rest: str) -> str:
    path = rest.split("?", 1)[0].strip("/")
    return (
        f"write `{scheme}:////{path}` for the absolute path /{path}, or "
        f"`{scheme}:///{path}` for {path} relative to the working directory"
    )


def create_history_engine(url: str) -> Engine:
    check_sqlite_url(url)
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
    if is_pg8000(parsed) and "timeout" not in parsed.query:
        # pg8000 has no timeout of its own: a silent server held a run for ever.
        connect_args["timeout"] = bounds.PG_CONNECT_TIMEOUT_S
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        _bound_pg8000_connect(engine, bounds.PG_CONNECT_TIMEOUT_S)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def is_pg8000(url: URL) -> bool:
    return url.get_backend_name() == "postgresql" and url.get_driver_name() == "pg8000"


def _bound_pg8000_connect(engine: Engine, timeout: int) -> None:
    """pg8000's ``timeout`` is its socket's: it bounds connecting, as psycopg's
    ``connect_timeout`` does, and then every read. Once connected, reads get a bound above
    the lock and statement timeouts, so the server's own (worded) timeouts end a wait first;
    a timeout while connecting is a DBAPI error that says so, not a bare ``timed out``."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            connection = dialect.connect(*cargs, **cparams)
        except TimeoutError as exc:
            raise dialect.loaded_dbapi.InterfaceError(
                f"connection timeout expired ({timeout}s)"
            ) from exc
        sock = getattr(connection, "_usock", None)  # pg8000's socket (private, so guarded)
        if sock is not None and hasattr(sock, "settimeout"):
            reads = max(bounds.PG_LOCK_TIMEOUT_S, bounds.PG_STATEMENT_TIMEOUT_S) + timeout
            sock.settimeout(reads)
        return connection


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
    found = url.query.get("timeout" if is_pg8000(url) else "connect_timeout")
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
