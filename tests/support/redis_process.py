"""A redis-server of a test's own, which the test may stop and start again on the same port.

The shape tests take Redis down as a real fault (connections refused) and bring it back
before the workers are stopped, so nothing waits on a dead connection at teardown.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis

START_TIMEOUT_S = 10.0


class PortTaken(RuntimeError):
    def __init__(self, port: int) -> None:
        super().__init__(f"redis-server could not serve port {port} (taken, or it did not start)")


@dataclass
class RedisProcess:
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start redis-server on ``port`` and wait until it answers; the one answering must be
        ours (another test run may have taken a free port in between: then it says so)."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        with redis.Redis(port=self.port, socket_connect_timeout=0.2) as client:
            while True:
                try:
                    pid = int(client.info("server")["process_id"])
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise PortTaken(self.port) from None
                    time.sleep(0.01)
        if pid != self.process.pid:
            self.stop()
            raise PortTaken(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def have_redis_server() -> bool:
    return shutil.which("redis-server") is not None


@contextmanager
def redis_process() -> Iterator[RedisProcess]:
    for attempt in range(5):
        server = RedisProcess(free_port())
        try:
            server.start()
            break
        except PortTaken:
            if attempt == 4:
                raise
    try:
        yield server
    finally:
        server.stop()
