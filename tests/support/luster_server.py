"""A service that answers only as the Luster seeds show (luster-deployment.md, -monitoring.md).

Where the seeds show a body (`/admin/health`), it answers exactly that; where they only name
what an answer holds (queue depth, success rate, average processing time, the job's id and
state), it uses names and units of its own, on purpose unlike the reference service's, so an
example that guessed a name fails here. Its admin routes ask for HTTP Basic (user `admin`, the
deployment guide's option 1); a worker thread polls the job table; faults as the seeds' own
troubleshooting sections list them.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ASSET = "asset-1"
PASSWORD = "adm1n-pw-luster"
# The names this service gives what the seeds leave unnamed (the example's variables).
FIELDS = {
    "JOB_ID_FIELD": "job.uuid",
    "JOB_STATUS_FIELD": "job.state",
    "QUEUE_DEPTH_FIELD": "queue.depth",
    "SUCCESS_RATE_FIELD": "rates.success",
    "SUCCESS_RATE_UNIT": "ratio",
    "PROCESSING_TIME_FIELD": "durations.avg_ms",
    "PROCESSING_TIME_UNIT": "ms",
}


@dataclass
class Job:
    id: str
    state: str = "queued"
    created: float = field(default_factory=time.monotonic)
    started: float | None = None
    ended: float | None = None


@dataclass
class Faults:
    worker_stopped: bool = False
    jobs_fail: bool = False
    slow_s: float = 0.0
    database_down: bool = False


@dataclass
class LusterService:
    base_url: str = ""
    jobs: dict[str, Job] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def work(self, stop: threading.Event) -> None:
        """The DB-polling worker: takes the oldest queued job, processes it, records the end."""
        while not stop.wait(0.05):
            if self.faults.worker_stopped:
                continue
            with self.lock:
                job = next((j for j in self.jobs.values() if j.state == "queued"), None)
                if job is None:
                    continue
                job.state, job.started = "processing", time.monotonic()
            time.sleep(0.1)
            with self.lock:
                job.state = "failed" if self.faults.jobs_fail else "succeeded"
                job.ended = time.monotonic()

    def admin_health(self) -> dict[str, object]:
        recent = [
            j
            for j in self.jobs.values()
            if j.ended is not None and time.monotonic() - j.ended < 300
        ]
        database = "unhealthy" if self.faults.database_down else "healthy"
        return {
            "status": "degraded" if self.faults.database_down else "healthy",
            "services": {"database": database, "redis": "healthy"},
            "workers": {"estimated_active": 1 if recent and not self.faults.worker_stopped else 0},
        }

    def stats(self) -> dict[str, object]:
        ended = [j for j in self.jobs.values() if j.ended is not None]
        good = [j for j in ended if j.state == "succeeded"]
        times = [(j.ended - j.started) * 1000 for j in ended if j.started and j.ended]
        counts = {s: sum(1 for j in self.jobs.values() if j.state == s) for s in _STATES}
        return {
            "counts": counts,
            "rates": {"success": len(good) / len(ended) if ended else None},
            "durations": {"avg_ms": sum(times) / len(times) if times else None},
        }


_STATES = ("queued", "processing", "succeeded", "failed")


@contextmanager
def luster_service() -> Iterator[LusterService]:
    service = LusterService()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if self._refused(parts.path):
                return
            if parts.path == "/health":
                time.sleep(service.faults.slow_s)
                self._json(200, {"status": "ok"})
            elif parts.path == "/admin/health":
                self._json(200, service.admin_health())
            elif parts.path == "/admin/metrics":
                queued = sum(1 for j in service.jobs.values() if j.state == "queued")
                self._json(200, {"totals": {"jobs": len(service.jobs)}, "queue": {"depth": queued}})
            elif parts.path == "/admin/jobs/stats":
                self._json(200, service.stats())
            elif parts.path.startswith("/jobs/"):
                job = service.jobs.get(parts.path.rsplit("/", 1)[1])
                if job is None:
                    self._json(404, {"detail": "Job not found"})
                else:
                    self._json(200, {"job": {"uuid": job.id, "state": job.state}})
            else:
                self._json(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            if urlsplit(self.path).path != "/jobs":
                self._json(404, {"detail": "Not Found"})
                return
            if service.faults.database_down:
                self._json(503, {"detail": "Database unavailable"})
                return
            if form.get("asset_id") != [ASSET]:
                self._json(404, {"detail": "Asset not found"})
                return
            if form.get("tier") != ["premium"]:  # the only tier the seeds show
                self._json(400, {"detail": "Invalid tier"})
                return
            job = Job(uuid.uuid4().hex[:8])
            with service.lock:
                service.jobs[job.id] = job
            self._json(201, {"job": {"uuid": job.id, "state": job.state}})

        def _refused(self, path: str) -> bool:
            if not path.startswith("/admin/"):
                return False
            expected = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") == f"Basic {expected}":
                return False
            self._json(401, {"detail": "Not authenticated"})
            return True

        def _json(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    threading.Thread(target=service.work, args=(stop,), daemon=True).start()
    service.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield service
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
