from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sloprobe.history import HistoryStore


@pytest.fixture(params=["sqlite", "postgres"])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty history database on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
        return
    yield request.getfixturevalue("postgres_history_url")


@pytest.fixture
def store(history_url: str) -> Iterator[HistoryStore]:
    opened = HistoryStore.open(history_url)
    yield opened
    opened.dispose()
