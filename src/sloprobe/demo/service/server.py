"""Start the reference service in this process: uvicorn in a thread, workers in threads."""

from __future__ import annotations

import os
import random
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from sloprobe.demo.service.app import LoggedRequest, RequestLog, apply_faults, create_app
from sloprobe.demo.service.faults import Faults, FaultSwitch
from sloprobe.demo.service.metrics import ServiceMetrics
from sloprobe.demo.service.store import JobStore
from sloprobe.demo.service.worker import Worker

STARTUP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ServiceConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    workers: int = 2
    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URL"))
    faults: Faults = field(default_factory=Faults)
    seed: int | None = None
    # With a token, every /admin route asks for `Authorization: Bearer <token>` (as Luster's
    # admin API must in production); without one they are open, as Luster's are by default.
    admin_token: str | None = field(default=None, repr=False)


class RunningService:
    """A started service: its URL, its knobs and its request log."""

    def __init__(self, config: ServiceConfig) -> None:
        self._tempdir: Path | None = None
        url = config.database_url
        if url is None:
            self._tempdir = Path(tempfile.mkdtemp(prefix="sloprobe-demo-"))
            url = f"sqlite:///{self._tempdir / 'jobs.db'}"
        self.store = JobStore(url)
        self._faults = FaultSwitch(config.faults)
        self.log = RequestLog()
        rng = random.Random(config.seed)
        self.workers: list[Worker] = []
        self.metrics = ServiceMetrics(
            queue_depth=lambda: self.store.counts()["queued"],
            workers_active=lambda: sum(1 for w in self.workers if w.active),
        )
        self.workers.extend(
            Worker(
                f"worker-{i + 1}",
                self.store,
                self._faults,
                self.metrics,
                random.Random(rng.random()),
            )
            for i in range(config.workers)
        )
        self.store.add_backlog(config.faults.backlog)
        app = create_app(
            self.store, self._faults, self.workers, self.metrics, self.log, config.admin_token
        )
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this; without it uvicorn's separate header and body
        # writes meet delayed ACKs and every keep-alive request takes ~40 ms.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((config.host, config.port))
        host, port = self._socket.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._stopped = False

    def start(self) -> RunningService:
        for worker in self.workers:
            worker.start()
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    self.log.clear()  # the log shows the requests of others, not our readiness check
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"the reference service did not answer at {self.base_url} within {STARTUP_TIMEOUT_S:g}s"
        )

    @property
    def faults(self) -> Faults:
        return self._faults.current

    def set_faults(self, **changes: Any) -> Faults:
        apply_faults(self.store, self._faults, **changes)
        return self._faults.current

    @property
    def request_log(self) -> list[LoggedRequest]:
        return self.log.entries()

    def clear_request_log(self) -> None:
        self.log.clear()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        for worker in self.workers:
            worker.stop()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for worker in self.workers:
            if worker.is_alive():
                worker.join(timeout=5)
        self._socket.close()
        self.store.dispose()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)


@contextmanager
def start_service(config: ServiceConfig | None = None) -> Iterator[RunningService]:
    """Run the reference service for the duration of the ``with`` block."""
    service = RunningService(config or ServiceConfig()).start()
    try:
        yield service
    finally:
        service.stop()
