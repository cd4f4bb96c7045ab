from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sloprobe.history import HistoryStore
from sloprobe.status_page import StatusPage, build_status_page, write_status_page
from tests.status_page.scenario import NOW, Scenario, build_history


@dataclass(frozen=True)
class Site:
    """The scenario's history, and the status page written from it, public and internal."""

    scenario: Scenario
    history: Path
    public: Path
    internal: Path
    page: StatusPage  # the public page's model
    internal_page: StatusPage


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("status-page")
    history = root / "history.db"
    scenario = build_history(f"sqlite:///{history}")
    store = HistoryStore.open(scenario.url)
    try:
        public = write_status_page(store, root / "public", now=NOW, title="Acme status")
        internal = write_status_page(store, root / "internal", now=NOW, internal=True)
        # What a second read gives is what the files were written from.
        assert build_status_page(store, now=NOW, title="Acme status") == public.page
    finally:
        store.dispose()
    yield Site(scenario, history, root / "public", root / "internal", public.page, internal.page)
