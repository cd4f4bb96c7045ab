"""Shared fixtures of sloprobe's own tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.scripted_server import ScriptedServer, scripted_server

pytest_plugins = ["pytester"]


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
