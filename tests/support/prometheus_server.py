"""A real Prometheus for a test, on a port it chose itself.

A port picked free by the test and handed to Prometheus can be taken by another server
first (another pytest-xdist worker's Prometheus, starting at the same moment): then this
one fails to bind, and the test talks to the other one, which scrapes another target.
Listening on port 0 and reading the address from Prometheus's own log leaves no such gap.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

LISTENING = re.compile(rb'msg="Listening on" address=(127\.0\.0\.1:\d+)')


def start_prometheus(
    binary: str, config: Path, data: Path, *flags: str, within: float = 30
) -> tuple[subprocess.Popen[bytes], str]:
    """The started process and its URL; the test fails if it does not listen ``within`` s."""
    log_path = data.parent / f"{data.name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                "--web.listen-address=127.0.0.1:0",
                *flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = LISTENING.search(log_path.read_bytes())
        if found:
            return process, f"http://{found[1].decode()}"
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=15)
    tail = log_path.read_bytes()[-2000:].decode(errors="replace")
    pytest.fail(f"Prometheus did not start listening within {within} s:\n{tail}")
