"""A Node-style BullMQ service that answers only as pose-generator-monitoring.md shows it (shape 3).

- ``GET /api/apps/pose-generator/health``, no auth: the document's body (``checks.database``,
  ``checks.redis`` ``"connected"``, ``checks.queue`` ``"operational"`` with BullMQ's own
  job counts), 200, or 503 with ``"unhealthy"`` and the failing check's status when one fails.
- ``GET /api/apps/pose-generator/metrics?period=…``, ``Authorization: Bearer`` of an admin:
  the document's fields, computed as its sample is (``successRate`` = completed / total
  × 100, 93.33 for 140 of 150; ``avgGenerationTime`` in ms; ``queueDepth`` = waiting +
  active; 30 credits a generation, refunded when it fails); 0 for an empty period, as
  services do.
- A real BullMQ queue on a real redis-server, jobs added by BullMQ's client and taken by a
  real BullMQ ``Worker`` (the Python port: its connections are named in CLIENT LIST, as
  ``getWorkers()`` reads them). Its queue is ``generations``: the document names none.

Faults are real where they can be (a stopped worker, failing jobs, Redis down) and flagged
where the document only shows an answer (the database check). A slow FLUX call is charged
to the generation's time on the service's clock, not waited for, so a test of the 60 s
bound takes no minute.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import redis
from bullmq import Queue, Worker

from tests.support.redis_process import RedisProcess

QUEUE = "generations"
ADMIN_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiQURNSU4ifQ.pose-admin-signature"
CREDITS = 30  # per generation: 15750 spent for 525 poses in the document's sample
PERIODS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
WAIT_S = 15.0
T = TypeVar("T")


@dataclass
class Faults:
    jobs_fail: bool = False
    flux_s: float = 0.0  # what each FLUX call costs, charged to the generation's time
    database_down: bool = False


@dataclass
class Generation:
    id: str
    created: float = field(default_factory=time.time)
    status: str = "pending"
    duration_ms: float | None = None


@dataclass
class PoseService:
    redis: RedisProcess
    faults: Faults = field(default_factory=Faults)
    base_url: str = ""
    generations: dict[str, Generation] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop, repr=False)
    queue: Queue | None = field(default=None, repr=False)
    worker: Worker | None = field(default=None, repr=False)
    _worker_loop: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = field(
        default=None, repr=False
    )

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 5.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # ---------------------------------------------------------------- jobs and the worker

    def submit(self, count: int) -> None:
        """Generations as the app creates them: a row, then a BullMQ job for the worker."""
        ids = []
        for _ in range(count):
            generation = Generation(f"gen_{uuid.uuid4().hex[:8]}")
            self.generations[generation.id] = generation
            ids.append(generation.id)

        async def add() -> None:
            assert self.queue is not None
            for generation_id in ids:
                await self.queue.add("generate", {"generationId": generation_id, "poses": 4})

        self.run(add())

    async def _process(self, job: Any, token: str) -> dict[str, Any]:
        generation = self.generations[job.data["generationId"]]
        generation.status = "processing"
        started = time.monotonic()
        await asyncio.sleep(0.01)  # the FLUX call
        generation.duration_ms = (time.monotonic() - started + self.faults.flux_s) * 1000
        if self.faults.jobs_fail:
            generation.status = "failed"
            raise RuntimeError("FLUX_API_ERROR: the FLUX API answered 502")
        generation.status = "completed"
        return {"poses": job.data["poses"]}

    def start_worker(self) -> None:
        """A worker process of its own: its own event loop, its own connections."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        async def start() -> Worker:
            return Worker(QUEUE, self._process, {"connection": self.redis.url})

        self.worker = asyncio.run_coroutine_threadsafe(start(), loop).result(5)
        self._worker_loop = (loop, thread)
        self.wait_for(lambda: self.run(self._queue().get_workers_count()) > 0, "the worker")

    def stop_worker(self) -> None:
        """The worker process stops: it closes, and nothing of it runs after (no reconnect)."""
        if self.worker is None or self._worker_loop is None:
            return
        worker, self.worker = self.worker, None
        (loop, thread), self._worker_loop = self._worker_loop, None
        asyncio.run_coroutine_threadsafe(_exit(worker), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()

    def settled(self) -> bool:
        return all(g.status in ("completed", "failed") for g in self.generations.values())

    def wait_for(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {WAIT_S:g} s for {what}")
            time.sleep(0.02)

    def _queue(self) -> Queue:
        assert self.queue is not None
        return self.queue

    # ---------------------------------------------------------------- the endpoints

    def _counts(self) -> dict[str, int]:
        counts = self.run(
            asyncio.wait_for(
                self._queue().getJobCounts("waiting", "active", "completed", "failed", "delayed"),
                timeout=1.0,
            ),
            timeout=2.0,
        )
        return {k: int(v) for k, v in counts.items()}

    def health(self) -> tuple[int, dict[str, Any]]:
        checks: dict[str, Any] = {}
        healthy = True
        if self.faults.database_down:
            checks["database"] = {"status": "disconnected", "error": "Can't reach database server"}
            healthy = False
        else:
            checks["database"] = {"status": "connected"}
        try:
            with redis.Redis.from_url(
                self.redis.url, socket_connect_timeout=0.5, socket_timeout=0.5
            ) as client:
                client.ping()
            checks["redis"] = {"status": "connected"}
        except redis.RedisError as exc:
            checks["redis"] = {"status": "disconnected", "error": str(exc)}
            healthy = False
        try:
            checks["queue"] = {"status": "operational", "counts": self._counts()}
        except Exception as exc:
            checks["queue"] = {"status": "error", "error": str(exc) or "Redis did not answer"}
            healthy = False
        body = {
            "status": "healthy" if healthy else "unhealthy",
            "timestamp": _now(),
            "app": "pose-generator",
            "version": "1.0.0",
            "checks": checks,
            "phase": "Production Ready",
        }
        return (200 if healthy else 503), body

    def metrics(self, period: str) -> tuple[int, dict[str, Any]]:
        if period not in PERIODS:
            return 400, {"error": f"Invalid period: {period}"}
        if self.faults.database_down:
            return 500, {"error": "Failed to fetch metrics"}
        try:
            counts = self._counts()
        except Exception:
            return 500, {"error": "Failed to fetch metrics"}
        since = time.time() - PERIODS[period]
        rows = [g for g in self.generations.values() if g.created >= since]
        completed = [g for g in rows if g.status == "completed"]
        failed = [g for g in rows if g.status == "failed"]
        times = [g.duration_ms for g in completed if g.duration_ms is not None]
        body = {
            "totalGenerations": len(rows),
            "activeGenerations": len(rows) - len(completed) - len(failed),
            "completedGenerations": len(completed),
            "failedGenerations": len(failed),
            "avgGenerationTime": round(sum(times) / len(times)) if times else 0,
            "avgPosesPerGeneration": 4 if rows else 0,
            "successRate": round(len(completed) / len(rows) * 100, 2) if rows else 0,
            "queueDepth": counts["waiting"] + counts["active"],
            "queueWaiting": counts["waiting"],
            "queueActive": counts["active"],
            "queueFailed": counts["failed"],
            "totalPosesGenerated": 4 * len(completed),
            "totalCreditsSpent": CREDITS * len(rows),
            "totalCreditsRefunded": CREDITS * len(failed),
            "startTime": _now(since),
            "endTime": _now(),
        }
        return 200, body


async def _exit(worker: Worker) -> None:
    """Close the worker, then end whatever of it still runs, as its process exiting would."""
    await worker.close(force=True)
    current = asyncio.current_task()
    left = [task for task in asyncio.all_tasks() if task is not current]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)


def _now(at: float | None = None) -> str:
    moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def pose_service(redis_server: RedisProcess) -> Iterator[PoseService]:
    """The service, its queue and (started) a worker on ``redis_server``; stopped at the end."""
    service = PoseService(redis_server)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            service.requests.append((self.path, dict(self.headers.items())))
            if parts.path == "/api/apps/pose-generator/health":
                self._json(*service.health())
            elif parts.path == "/api/apps/pose-generator/metrics":
                if self.headers.get("Authorization") != f"Bearer {ADMIN_JWT}":
                    self._json(401, {"error": "Unauthorized"})
                    return
                period = parse_qs(parts.query).get("period", ["24h"])[-1]
                self._json(*service.metrics(period))
            else:
                self._json(404, {"error": "Not Found"})

        def _json(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    loop_thread = threading.Thread(target=service.loop.run_forever, daemon=True)
    loop_thread.start()

    async def open_queue() -> Queue:
        return Queue(QUEUE, {"connection": redis_server.url})

    service.queue = service.run(open_queue())
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    service.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        service.start_worker()
        yield service
    finally:
        server.shutdown()
        server.server_close()
        if not redis_server.running:
            redis_server.start()  # let the worker and queue close their connections
        service.stop_worker()
        service.run(service._queue().close(), timeout=30)
        service.loop.call_soon_threadsafe(service.loop.stop)
        loop_thread.join(5)
        service.loop.close()
