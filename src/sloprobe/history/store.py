"""The history store: runs, verdicts, measurements and incidents, in any SQLAlchemy database.

History stays small (docs/history.md): after every run, :meth:`HistoryStore.prune`
forgets what is past retention and rolls runs older than a day up into one row per
SLO per day that keeps every run's outcome and samples, so budgets, burn rates and
incidents come out exactly as from full history (:mod:`.compact`, :mod:`.rollup`).

One run is recorded in one transaction that first takes a per-service lock
(SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), so two runs that
overlap are serialised and a crashed run leaves nothing half-written.

Every wait is bounded (docs/reliability.md): a lock held by another run for
longer than ``SQLITE_BUSY_TIMEOUT_S`` / ``PG_LOCK_TIMEOUT_S``, a PostgreSQL
server that does not answer within ``PG_CONNECT_TIMEOUT_S``, or a statement
running longer than ``PG_STATEMENT_TIMEOUT_S`` ends in a :class:`HistoryError`
that says what waited and how long. A SQLite file that is empty or corrupt is
never re-initialised in place: it is moved aside as
``<name>.corrupt-<UTC timestamp>`` (with its ``-wal`` and ``-shm``) and a fresh
history is started, which :attr:`HistoryStore.notes` reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    Connection,
    Engine,
    delete,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from sloprobe.extras import missing_driver
from sloprobe.history import compact, notices, schema
from sloprobe.history.compact import RollupPolicy
from sloprobe.history.engine import (
    bound_transaction,
    check_sqlite_url,
    connect_timeout_of,
    create_history_engine,
    failure_reason,
)
from sloprobe.history.errors import (
    PG_CONNECT_TIMEOUT_S,
    PG_LOCK_TIMEOUT_S,
    PG_STATEMENT_TIMEOUT_S,
    SQLITE_BUSY_TIMEOUT_S,
    SQLITE_CORRUPT,
    SQLITE_NOTADB,
    HistoryError,
    aware,
    lock_key,
    short_error,
)
from sloprobe.history.files import (
    directory_lock,
    has_sqlite_header,
    inode_of,
    is_empty,
    move_aside,
    sqlite_file,
)
from sloprobe.history.migrate import migrate
from sloprobe.history.notices import PendingNotice
from sloprobe.history.timeline import read_timeline
from sloprobe.history.view import HistoryView
from sloprobe.history.write import write_run
from sloprobe.model.history import RunOutcome
from sloprobe.model.notice import Notice
from sloprobe.model.result import RunResult
from sloprobe.model.timeline import Point
from sloprobe.model.verdict import Verdict
from sloprobe.redact import redact_url


class HistoryStore:
    """Open with :meth:`open`; every method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # What opening did that the run must say: a corrupt or empty file moved aside.
        self.notes: list[str] = []
        self._url = engine.url.render_as_string(hide_password=False)
        self._file: Path | None = None  # the SQLite file, when history is one
        self._inode: int | None = None  # ... and the file this store opened
        # How long runs keep full detail and stay run by run before :meth:`prune` rolls them up.
        self.rollup_policy = RollupPolicy()
        # SLOs whose samples this process read back ((service, environment) → SLO → since).
        self._pooled: dict[tuple[str, str], dict[str, datetime]] = {}

    @classmethod
    def open(cls, url: str, *, move_aside_corrupt: bool = False) -> HistoryStore:
        """Open the history at ``url``, creating its tables if need be.

        With ``move_aside_corrupt`` (a run), an empty or corrupt SQLite file is moved
        aside for a fresh history, which :attr:`notes` says; without it (the history
        commands), such a file is an error and stays as it is.
        """
        check_sqlite_url(url)  # before a typo's file or folder is created; the URL is in it
        try:
            file = sqlite_file(url)
            if file is not None and move_aside_corrupt:
                return cls._open_file(url, file)
            return cls._opened(url, file)
        except HistoryError as exc:
            raise HistoryError(
                f"cannot open history at {redact_url(url)}: {exc.reason}",
                reason=exc.reason,
                corrupt=exc.corrupt,
            ) from None
        except ImportError as exc:
            raise HistoryError(
                f"cannot open history at {redact_url(url)}: {missing_driver(exc)}"
            ) from None
        except (SQLAlchemyError, OSError) as exc:
            raise HistoryError(
                f"cannot open history at {redact_url(url)}: {short_error(exc)}"
            ) from None

    @classmethod
    def _opened(cls, url: str, file: Path | None = None) -> HistoryStore:
        """An engine on ``url`` with the schema in place; nothing is left open on failure."""
        store = cls(create_history_engine(url))
        try:
            store._migrate()
        except BaseException:
            store.dispose()
            raise
        store._file, store._inode = file, inode_of(file) if file is not None else None
        return store

    @classmethod
    def _open_file(
        cls, url: str, file: Path, corrupt: tuple[int, str] | None = None
    ) -> HistoryStore:
        """Open a SQLite history; an empty or corrupt file is moved aside for a fresh one.

        ``corrupt`` is (inode, why) of a file a running store found corrupt. Which
        file is at the path, and creating a fresh one, is decided under a lock of its
        directory, so a run never mistakes the file another run is creating for an
        empty one, and two runs never both move the same file aside.
        """
        file.parent.mkdir(parents=True, exist_ok=True)
        notes: list[str] = []
        for _ in range(3):
            with directory_lock(file.parent):
                inode = inode_of(file)
                if inode is not None and corrupt is not None and inode == corrupt[0]:
                    notes.append(move_aside(file, f"is corrupt ({corrupt[1]})"))
                    inode = None
                elif inode is not None and is_empty(file):
                    notes.append(move_aside(file, "is empty (0 bytes)"))
                    inode = None
                elif inode is not None and not has_sqlite_header(file):
                    # Before SQLite opens it: closing would delete its -wal and -shm.
                    notes.append(move_aside(file, "is corrupt (file is not a database)"))
                    inode = None
                if inode is None:  # a new file: created, and its schema committed, under the lock
                    store = cls._opened(url, file)
                    store.notes = notes
                    return store
            try:
                store = cls._opened(url, file)
            except HistoryError as exc:
                if not exc.corrupt:
                    raise
                corrupt = (inode, exc.reason)
                continue
            store.notes = notes
            return store
        raise HistoryError(f"history file {file} keeps turning out corrupt")

    def recover(self, error: HistoryError) -> HistoryStore:
        """After ``error`` said this SQLite file is corrupt: move it aside and open a fresh one.

        Returns the fresh store (its :attr:`notes` say where the old file went);
        raises :class:`HistoryError` if this history is not a SQLite file.
        """
        self.dispose()
        if self._file is None or self._inode is None or not error.corrupt:
            raise error
        return HistoryStore._open_file(self._url, self._file, (self._inode, error.reason))

    def _migrate(self) -> None:
        with self._transaction("sloprobe-schema") as conn:
            migrate(conn)

    @contextmanager
    def _transaction(self, lock_name: str) -> Iterator[Connection]:
        locked = False
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    bound_transaction(conn)
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(lock_name)}
                    )
                locked = True
                yield conn
        except HistoryError:
            raise
        except SQLAlchemyError as exc:
            raise self._error(exc, None if locked else lock_name) from None

    @contextmanager
    def view(self, service: str, environment: str) -> Iterator[HistoryView]:
        """A read-only view outside any run (``over`` SLIs, reports)."""
        with self.snapshot() as conn:
            view = HistoryView(conn, service, environment)
            yield view
        # Whose samples runs read back: the next prune keeps them in roll-ups (compact.py).
        reads = self._pooled.setdefault((service, environment), {})
        for slo, since in view.pooled.items():
            reads[slo] = min(since, reads.get(slo, since))

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read that sees one state of history, whatever a prune commits meanwhile.

        A read of both verdict rows and roll-ups must not see a run in neither or in
        both: on PostgreSQL the read is one REPEATABLE READ transaction; a SQLite
        transaction is one snapshot already.
        """
        try:
            with self.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execution_options(isolation_level="REPEATABLE READ")
                    bound_transaction(conn)
                yield conn
        except SQLAlchemyError as exc:
            raise self._error(exc, None) from None

    def _error(self, exc: SQLAlchemyError, waiting_for: str | None) -> HistoryError:
        """``exc`` as a HistoryError that says what waited, and how long, when a bound was hit.

        ``waiting_for`` names the run lock the transaction was still waiting for.
        """
        reason, corrupt = (
            failure_reason(exc, waiting_for, connect_timeout_of(self.engine.url)),
            False,
        )
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB):
            corrupt = True
        worded = reason.startswith(("history", "a history", "no answer from the history"))
        message = reason if worded else f"history store: {reason}"
        return HistoryError(message, reason=reason, corrupt=corrupt)

    def record_with_notices(
        self,
        result: RunResult,
        judge: Callable[[HistoryView], RunResult],
        outcomes: Callable[[Verdict], RunOutcome],
        owed: Callable[[RunResult, HistoryView], list[Notice]],
    ) -> RunResult:
        """As :meth:`record`, and queue the notices the run owes in the same transaction."""
        run = result.run
        with self._transaction(f"{run.service}/{run.environment}") as conn:
            view = HistoryView(conn, run.service, run.environment)
            judged = write_run(conn, judge(view), outcomes)
            for notice in owed(judged, view):
                notices.queue(conn, run.service, run.environment, notice, run.started_at)
        return judged

    def pending_notices(self, service: str, environment: str) -> list[PendingNotice]:
        with self._transaction("sloprobe-read") as conn:
            return notices.pending(conn, service, environment)

    def claim_notice(self, row_id: int, owner: str, now: datetime, lease_s: float) -> bool:
        """Whether this run may send the notice (:func:`.notices.claim`)."""
        with self._transaction("sloprobe-notices") as conn:
            return notices.claim(conn, row_id, owner, now, lease_s)

    def mark_notice(
        self, row_id: int, delivered_at: datetime | None, detail: str | None = None
    ) -> None:
        """Delivered, or not (then its claim is let go: the next run sends it again)."""
        with self._transaction("sloprobe-notices") as conn:
            notices.mark(conn, row_id, delivered_at, detail)

    def record(
        self,
        result: RunResult,
        judge: Callable[[HistoryView], RunResult],
        outcomes: Callable[[Verdict], RunOutcome],
    ) -> RunResult:
        """Judge ``result`` against history and store it, atomically; returns the judged result."""
        run = result.run
        with self._transaction(f"{run.service}/{run.environment}") as conn:
            judged = write_run(
                conn, judge(HistoryView(conn, run.service, run.environment)), outcomes
            )
        return judged

    def timeline(
        self,
        service: str,
        environment: str,
        since: datetime,
        detail_since: datetime | None = None,
        buckets: int = 288,
    ) -> dict[str, tuple[Point, ...]]:
        """Every SLO's history since ``since``, oldest first, for charts.

        Runs after ``detail_since`` come one by one; older ones are summed by the
        database into ``buckets`` time buckets (worst status, highest value, lowest
        budget), so 30 days of five-minute runs never cross into Python row by row.
        Rolled-up days (older than a day) give a point per hour, summed the same way.
        """
        with self.snapshot() as conn:
            return read_timeline(conn, service, environment, since, detail_since, buckets)

    def prune(
        self, before: datetime, *, service: str | None = None, environment: str | None = None
    ) -> int:
        """Forget what is older than ``before`` and roll up old runs; returns the runs forgotten.

        Called after every run (docs/history.md). Each service is compacted in its own
        transactions under its run lock, so a run recording meanwhile waits for, and
        then sees, a whole step; running it again changes nothing. ``service`` and
        ``environment`` keep it to one service's history (default: every service in it).
        """
        try:
            return self._prune(before, service, environment)
        except (ValueError, KeyError, TypeError) as exc:  # a row no sloprobe wrote
            raise HistoryError(f"history store: cannot compact history ({exc!r})") from None

    def _prune(self, before: datetime, service: str | None, environment: str | None) -> int:
        with self.snapshot() as conn:
            found = compact.services(conn, service, environment)
        removed = 0
        for svc, env in found:
            rolled = compact.BATCH_RUNS
            first = True
            while rolled >= compact.BATCH_RUNS:  # a long backlog (an upgraded file): a day a step
                with self._transaction(f"{svc}/{env}") as conn:
                    if first:
                        compact.mark_pooled(conn, svc, env, self._pooled.get((svc, env), {}))
                        removed += compact.drop_before(conn, svc, env, before)
                    rolled = compact.roll_up(conn, svc, env, self.rollup_policy)
                    if rolled < compact.BATCH_RUNS:
                        compact.lighten(conn, svc, env, self.rollup_policy)
                first = False
        i = schema.incidents
        with self._transaction("sloprobe-prune") as conn:
            old = delete(i).where(i.c.resolved_at < before)
            if service is not None:
                old = old.where(i.c.service == service)
            if environment is not None:
                old = old.where(i.c.environment == environment)
            conn.execute(old)
        return removed

    def dispose(self) -> None:
        self.engine.dispose()


__all__ = [
    "PG_CONNECT_TIMEOUT_S",
    "PG_LOCK_TIMEOUT_S",
    "PG_STATEMENT_TIMEOUT_S",
    "SQLITE_BUSY_TIMEOUT_S",
    "HistoryError",
    "HistoryStore",
    "HistoryView",
    "PendingNotice",
    "aware",
    "lock_key",
]
