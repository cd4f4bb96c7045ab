"""Shared fixtures of sloprobe's own tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import anyio._backends._asyncio  # noqa: F401
import httpcore._backends.anyio
import httpcore._backends.sync  # noqa: F401
import pytest
import sqlalchemy.dialects.postgresql  # noqa: F401

from tests.support.postgres_server import find_bindir, postgres_server, scratch_database
from tests.support.scripted_server import ScriptedServer, scripted_server

pytest_plugins = ["pytester"]


# The modules above are imported lazily on first use; importing them here puts them in
# every pytester sys.modules snapshot, so a pytester test never drops and re-imports them
# (which would split httpcore's exception classes in two, and register SQLAlchemy's
# PostgreSQL functions twice, with a warning each).


def pytest_configure(config: pytest.Config) -> None:
    # pytester runs pytest in a child process, as users do: an in-process run drops and
    # re-imports httpx/httpcore between runs, which breaks their exception mapping.
    config.option.runpytest = "subprocess"
    config.addinivalue_line(
        "markers", "slow: starts a server, a process or a whole pytest run (-m 'not slow': quick)"
    )


# What makes a test slow, by what it starts rather than by a list of names that would rot:
# a whole pytest run in a child process, a real server process (PostgreSQL, Redis,
# Prometheus, a Celery or BullMQ stack, the reference service), a workflow run, a bench,
# or a wait for a deadline on purpose (reliability).
SLOW_FOLDERS = (
    "integration",
    "scale",
    "workflows",
    "bench",
    "prometheus",
    "discover",
    "traces",
    "reliability",
)
SLOW_FIXTURES = frozenset(
    {
        "pytester",
        "postgres_url",
        "postgres_history_url",
        "redis_server",
        "redis_url",
        "frozen_redis",
        "site",
        "history_url",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` what starts processes or servers: `pytest -m "not slow"` is the quick check."""
    for item in items:
        folder = item.path.parent.name
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and "postgresql" in callspec.id
        if folder in SLOW_FOLDERS or fixtures & SLOW_FIXTURES or on_postgres:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        yield server


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole session (installed by scripts/test.sh)."""
    if find_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; scripts/test.sh installs it")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_history_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty history database on the session's real PostgreSQL."""
    with scratch_database(postgres_url) as url:
        yield url
