"""The same page from PostgreSQL: days bucketed by the database's own clock arithmetic, roll-ups,
window sums and incidents read there give what SQLite gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sloprobe.history import HistoryStore
from sloprobe.status_page import build_status_page
from tests.status_page.conftest import Site
from tests.status_page.scenario import NOW, build_history

SHOP = (("shop", "production"),)


@pytest.fixture
def postgres_history(postgres_history_url: str) -> Iterator[str]:
    build_history(postgres_history_url, SHOP)
    yield postgres_history_url


def test_postgres_gives_the_page_sqlite_gives(site: Site, postgres_history: str) -> None:
    store = HistoryStore.open(postgres_history)
    try:
        page = build_status_page(store, now=NOW, title="Acme status")
    finally:
        store.dispose()
    [from_postgres] = page.environments
    from_sqlite = next(e for e in site.page.environments if (e.service, e.environment) == SHOP[0])
    assert from_postgres == from_sqlite
