"""The HTTP API of the reference job service (DESIGN.md shape 1).

Annotations are evaluated at import (no ``from __future__ import annotations``)
because FastAPI reads them at run time to build the routes.
"""

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import FastAPI, Form, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from sloprobe.demo.service.faults import FaultSwitch
from sloprobe.demo.service.metrics import ServiceMetrics
from sloprobe.demo.service.store import STATUSES, JobStore
from sloprobe.demo.service.worker import Worker

MAX_RECENT = 100
UNLOGGED = ("/admin/faults", "/admin/requests")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int
    synthetic: bool
    handled_s: float = 0.0  # the service's own time for the request: middleware in → response out


class RequestLog:
    """A bounded, thread-safe log of the requests the service answered."""

    def __init__(self, size: int = 10_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def create_app(
    store: JobStore,
    faults: FaultSwitch,
    workers: list[Worker],
    metrics: ServiceMetrics,
    log: RequestLog,
) -> FastAPI:
    app = FastAPI(title="sloprobe reference job service", docs_url=None, redoc_url=None)

    def active_workers() -> int:
        return sum(1 for w in workers if w.active)

    @app.middleware("http")
    async def latency_and_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path in UNLOGGED:
            return await call_next(request)
        began = time.perf_counter()
        delay = faults.current.api_latency_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        response = await call_next(request)
        handled = time.perf_counter() - began
        response.headers["Server-Timing"] = f"app;dur={handled * 1000:.3f}"
        synthetic = request.headers.get("x-synthetic", "").lower() == "true"
        log.add(
            LoggedRequest(
                request.method, path, request.url.query, response.status_code, synthetic, handled
            )
        )
        return response

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/admin/health")
    def admin_health() -> JSONResponse:
        database = store.ping()
        active = active_workers()
        depth = store.counts()["queued"] if database else None
        healthy = database and active > 0
        body = {
            "status": "healthy" if healthy else "unhealthy",
            "database": {"status": "ok" if database else "unreachable"},
            "workers": {"active": active},
            "queue": {"depth": depth},
        }
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get("/admin/workers")
    def admin_workers() -> dict[str, Any]:
        shown = [
            {
                "name": w.state.name,
                "state": "busy" if w.state.busy else "idle",
                "last_seen": w.state.last_seen.isoformat(),
            }
            for w in workers
            if w.active
        ]
        return {"active_count": len(shown), "workers": shown}

    @app.get("/admin/jobs/stats")
    def job_stats(hours: Annotated[int, Query(ge=1, le=720)] = 24) -> dict[str, Any]:
        return store.stats(hours)

    @app.get("/admin/jobs/recent")
    def recent_jobs(
        limit: Annotated[int, Query(ge=1)] = 20, status: str | None = None
    ) -> dict[str, Any]:
        if status is not None and status not in STATUSES:
            raise HTTPException(422, f"status must be one of {', '.join(STATUSES)}")
        return {"jobs": [job.as_json() for job in store.recent(min(limit, MAX_RECENT), status)]}

    @app.get("/admin/metrics")
    def admin_metrics() -> dict[str, Any]:
        counts = store.counts()
        return {
            "jobs_total": sum(counts.values()),
            "jobs_succeeded": counts["succeeded"],
            "jobs_failed": counts["failed"],
            "queue_depth": counts["queued"],
            "processing": counts["processing"],
            "workers_active": active_workers(),
        }

    @app.post("/jobs", status_code=202)
    def submit_job(
        asset_id: Annotated[str, Form(min_length=1, max_length=200)],
        prompt: Annotated[str, Form(min_length=1, max_length=10_000)],
        tier: Annotated[str, Form(max_length=50)] = "standard",
        x_synthetic: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        job = store.submit(asset_id, prompt, tier, synthetic=(x_synthetic or "").lower() == "true")
        metrics.submitted.inc()
        return {"id": job.id, "status": job.status}

    @app.get("/jobs/{job_id}")
    def get_job(job_id: int) -> dict[str, Any]:
        job = store.get(job_id)
        if job is None:
            raise HTTPException(404, "job not found")
        return job.as_json()

    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/admin/faults")
    def get_faults() -> dict[str, Any]:
        return faults.current.as_dict()

    @app.put("/admin/faults")
    def put_faults(changes: dict[str, Any]) -> dict[str, Any]:
        try:
            apply_faults(store, faults, **changes)
        except (TypeError, ValueError) as exc:
            raise HTTPException(422, str(exc)) from None
        return faults.current.as_dict()

    @app.get("/admin/requests")
    def requests() -> dict[str, Any]:
        return {
            "requests": [
                {"method": e.method, "path": e.path, "query": e.query, "status": e.status}
                for e in log.entries()
            ]
        }

    return app


def apply_faults(store: JobStore, faults: FaultSwitch, **changes: Any) -> None:
    """Change faults at run time; a new backlog size replaces the queued backlog."""
    _, after = faults.update(**changes)
    if "backlog" in changes:
        store.clear_backlog()
        store.add_backlog(after.backlog)
