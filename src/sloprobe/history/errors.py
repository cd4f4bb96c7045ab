"""What the history store says when it cannot be used, and the helpers every part of it shares."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from sloprobe.errors import SloprobeError
from sloprobe.redact import Redactor
from sloprobe.settings import seconds as _seconds

# The bounds of every history wait; each has its row and test in docs/reliability.md.
# SLOPROBE_HISTORY_LOCK_TIMEOUT and SLOPROBE_HISTORY_CONNECT_TIMEOUT (seconds) change them.
SQLITE_BUSY_TIMEOUT_S = _seconds(
    "SLOPROBE_HISTORY_LOCK_TIMEOUT", 30
)  # SQLite: a lock (busy timeout)
PG_CONNECT_TIMEOUT_S = _seconds("SLOPROBE_HISTORY_CONNECT_TIMEOUT", 10)  # per address
PG_LOCK_TIMEOUT_S = _seconds("SLOPROBE_HISTORY_LOCK_TIMEOUT", 30)  # the advisory lock, a table lock
PG_STATEMENT_TIMEOUT_S = 60  # PostgreSQL: any one statement (statement_timeout)

# SQLite result codes (the primary code is the low byte of the extended one).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CORRUPT, SQLITE_NOTADB = 5, 6, 11, 26
# PostgreSQL SQLSTATEs: lock_not_available (lock_timeout), query_canceled (statement_timeout).
PG_LOCK_NOT_AVAILABLE, PG_QUERY_CANCELED = "55P03", "57014"


class HistoryError(SloprobeError):
    """The history store cannot be used (unreachable, locked, corrupt, from a newer sloprobe).

    ``reason`` is the message without its prefix; ``corrupt`` is true when SQLite
    says the file is not a database or is malformed (the file can be moved aside).
    """

    def __init__(self, message: str, *, reason: str | None = None, corrupt: bool = False) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.corrupt = corrupt


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of a history lock: ``service/environment`` for a run."""
    return zlib.crc32(name.encode())


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def short_error(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    # Masked (URL userinfo and credential formats), then cut: never cut inside a secret first.
    return Redactor()(text_[0])[:300] if text_ else type(exc).__name__
