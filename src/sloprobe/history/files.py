"""A SQLite history file: never re-initialised in place; a corrupt one is moved aside."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    make_url,
)
from sqlalchemy.exc import ArgumentError

from sloprobe.history import errors as bounds
from sloprobe.history.errors import HistoryError


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: not SQLite, or in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def inode_of(file: Path) -> int | None:
    try:
        return file.stat().st_ino
    except FileNotFoundError:
        return None


def is_empty(file: Path) -> bool:
    """A zero-length file with no write-ahead log: no history, but a file that once was one.

    (A live history in WAL mode can have a zero-length main file while its pages
    are still in ``-wal``; that one is not empty.)
    """
    wal = file.with_name(file.name + "-wal")
    return file.stat().st_size == 0 and (not wal.exists() or wal.stat().st_size == 0)


def has_sqlite_header(file: Path) -> bool:
    """Whether a non-empty file starts as every SQLite database does."""
    with file.open("rb") as opened:
        return opened.read(16) == b"SQLite format 3\x00"


def move_aside(file: Path, why: str) -> str:
    """Rename ``file`` (and its -wal and -shm) to ``<name>.corrupt-<UTC timestamp>``; say so."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = file.with_name(f"{file.name}.corrupt-{stamp}")
    count = 0
    while any(Path(f"{target}{s}").exists() for s in ("", "-wal", "-shm")):
        count += 1
        target = file.with_name(f"{file.name}.corrupt-{stamp}-{count}")
    for suffix in ("-wal", "-shm", ""):  # the database itself last
        source = Path(f"{file}{suffix}")
        if source.exists():
            os.replace(source, f"{target}{suffix}")
    return (
        f"the history file {file} {why}: it was moved aside as {target.name} and a fresh "
        "history was started, so incidents and error budgets start over"
    )


@contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock of ``directory`` for at most ``SQLITE_BUSY_TIMEOUT_S`` of waiting.

    Where the platform or file system has no ``flock``, nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + bounds.SQLITE_BUSY_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HistoryError(
                        f"history lock held by another run for more than {bounds.SQLITE_BUSY_TIMEOUT_S}s "
                        f"(the lock of {directory} while a run opens its history)"
                    ) from None
                time.sleep(0.05)
            except OSError:  # no flock on this file system
                break
        yield
    finally:
        os.close(fd)  # closing releases the lock
