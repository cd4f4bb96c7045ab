"""The HTTP API of the reference job service (DESIGN.md shape 1), in the shape of Luster's.

Paths and field names are those of Luster's deployment guide and admin API
(``/admin/health`` with ``services.database`` and ``workers.estimated_active``,
jobs with ``job_id``, ``status``, ``error_message``), so ``sloprobe demo``
teaches the shape a real service of this kind answers in.

Like a service instrumented for tracing, it reads the W3C ``traceparent`` of
each request: the request log keeps its trace id, a job keeps the trace id of
the request that submitted it (its worker logs it), and the job's status
answer returns it as ``trace_id``, so a probe's job can be found by its trace.

Annotations are evaluated at import (no ``from __future__ import annotations``)
because FastAPI reads them at run time to build the routes.
"""

import asyncio
import hmac
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI, Form, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from sloprobe.demo.service.faults import FaultSwitch
from sloprobe.demo.service.metrics import ServiceMetrics
from sloprobe.demo.service.store import STATUSES, JobStore
from sloprobe.demo.service.worker import Worker

MAX_RECENT = 100
UNLOGGED = ("/admin/faults", "/admin/requests")
# W3C trace context: version-trace_id-parent_id-flags; an all-zero id is invalid.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


_TRACE_ID = re.compile(r"[0-9a-f]{32}")


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` header, or None when there is none valid."""
    found = _TRACEPARENT.fullmatch((traceparent or "").strip().lower())
    if found is None or found[1] == "ff" or not found[2].strip("0") or not found[3].strip("0"):
        return None
    return found[2]


def parent_id_of(traceparent: str | None) -> str | None:
    """The caller's span id (``parent-id``) of a valid W3C ``traceparent``, or None."""
    if trace_id_of(traceparent) is None:
        return None
    return (traceparent or "").strip().lower().split("-")[2]


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int
    synthetic: bool
    handled_s: float = 0.0  # the service's own time for the request: middleware in → response out
    trace_id: str | None = None  # from the request's traceparent
    parent_id: str | None = None  # the caller's span id in it: a server span's parent


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
    admin_token: str | None = None,
) -> FastAPI:
    """The service's routes; with ``admin_token`` every ``/admin`` route asks for it as a bearer."""
    app = FastAPI(title="sloprobe reference job service", docs_url=None, redoc_url=None)
    expected = f"Bearer {admin_token}".encode() if admin_token else None

    def worker_activity() -> dict[str, Any]:
        """Luster's ``workers`` block; here every worker thread is seen, not inferred from jobs."""
        since = datetime.now(UTC) - timedelta(minutes=5)
        ended = store.completed(since)
        return {
            "estimated_active": sum(1 for w in workers if w.active),
            "jobs_processing": store.counts()["processing"],
            "recent_completions_5min": ended["succeeded"] + ended["failed"],
            "note": "Each worker thread reports itself: a stopped worker is not counted.",
        }

    def refused(request: Request) -> bool:
        if expected is None or not request.url.path.startswith("/admin"):
            return False
        sent = request.headers.get("authorization", "").encode()
        return not hmac.compare_digest(sent, expected)

    @app.middleware("http")
    async def latency_auth_and_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path in UNLOGGED:
            return _not_authenticated() if refused(request) else await call_next(request)
        began = time.perf_counter()
        delay = faults.current.api_latency_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        response = _not_authenticated() if refused(request) else await call_next(request)
        handled = time.perf_counter() - began
        response.headers["Server-Timing"] = f"app;dur={handled * 1000:.3f}"
        synthetic = request.headers.get("x-synthetic", "").lower() == "true"
        log.add(
            LoggedRequest(
                request.method,
                path,
                request.url.query,
                response.status_code,
                synthetic,
                handled,
                trace_id_of(request.headers.get("traceparent")),
                parent_id_of(request.headers.get("traceparent")),
            )
        )
        return response

    @app.get("/health")
    def health() -> JSONResponse:
        database = store.ping()
        body = {
            "status": "healthy" if database else "degraded",
            "services": {"database": "healthy" if database else "unhealthy"},
        }
        return JSONResponse(body, status_code=200 if database else 503)

    @app.get("/admin/health")
    def admin_health() -> JSONResponse:
        """The deployment guide's answer: status, services by name, workers.estimated_active.

        As in Luster, ``status`` follows the services; dead workers show in
        ``workers.estimated_active``, not here.
        """
        database = store.ping()
        counts = store.counts() if database else None
        body = {
            "status": "healthy" if database else "degraded",
            "timestamp": datetime.now(UTC).isoformat(),
            "services": {
                "database": "healthy" if database else "unhealthy",
                "redis": "not_configured",  # no RQ here: the jobs table is the queue
            },
            "workers": worker_activity() if database else {"estimated_active": None},
            "queues": (
                {"queued": counts["queued"], "processing": counts["processing"]} if counts else {}
            ),
        }
        return JSONResponse(body, status_code=200 if database else 503)

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
        return {**worker_activity(), "workers": shown}

    @app.get("/admin/jobs/stats")
    def job_stats(hours: Annotated[int, Query(ge=1, le=720)] = 24) -> dict[str, Any]:
        return store.stats(hours)

    @app.get("/admin/jobs/recent")
    def recent_jobs(
        limit: Annotated[int, Query(ge=1)] = 20, status: str | None = None
    ) -> dict[str, Any]:
        if status is not None and status not in STATUSES:
            raise HTTPException(400, f"Invalid status. Must be one of: {list(STATUSES)}")
        limit = min(limit, MAX_RECENT)
        found = [job.as_json() for job in store.recent(limit, status)]
        return {"jobs": found, "total": len(found), "limit": limit}

    @app.get("/admin/metrics")
    def admin_metrics() -> dict[str, Any]:
        counts = store.counts()
        day = store.counts(datetime.now(UTC) - timedelta(days=1))
        return {
            "totals": {"jobs": sum(counts.values())},
            "activity_24h": {"jobs_created": sum(day.values())},
            "current_queue": {"queued": counts["queued"], "processing": counts["processing"]},
            "timestamp": datetime.now(UTC).isoformat(),
        }

    @app.post("/jobs", status_code=202)
    def submit_job(
        asset_id: Annotated[str, Form(min_length=1, max_length=200)],
        prompt: Annotated[str, Form(min_length=1, max_length=10_000)],
        tier: Annotated[str, Form(max_length=50)] = "standard",
        x_synthetic: Annotated[str | None, Header()] = None,
        traceparent: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        job = store.submit(
            asset_id,
            prompt,
            tier,
            synthetic=(x_synthetic or "").lower() == "true",
            trace_id=trace_id_of(traceparent),
        )
        metrics.submitted.inc()
        return {
            "job_id": job.id,
            "status": job.status,
            "asset_id": job.asset_id,
            "prompt": job.prompt,
            "tier": job.tier,
            "trace_id": job.trace_id,
        }

    @app.get("/jobs/{job_id}")
    def get_job(job_id: int) -> dict[str, Any]:
        job = store.get(job_id)
        if job is None:
            raise HTTPException(404, "Job not found")
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

    @app.get("/traces/{trace_id}")
    def trace(trace_id: str) -> dict[str, Any]:
        """What this service saw of one trace, as a tracing backend would show it: the
        requests that carried it (each under the caller's span id) and the jobs it submitted.
        The demo's report links a failing probe's trace id here (settings.traces.url)."""
        wanted = trace_id.strip().lower()
        if not _TRACE_ID.fullmatch(wanted):
            raise HTTPException(404, "Trace not found")
        seen = [e for e in log.entries() if e.trace_id == wanted]
        found = store.traced(wanted)
        if not seen and not found:
            raise HTTPException(404, "Trace not found")
        return {
            "trace_id": wanted,
            "requests": [
                {
                    "method": e.method,
                    "path": e.path,
                    "status": e.status,
                    "parent_span_id": e.parent_id,
                    "handled_ms": round(e.handled_s * 1000, 3),
                }
                for e in seen
            ],
            "jobs": [job.as_json() for job in found],
        }

    @app.get("/admin/requests")
    def requests() -> dict[str, Any]:
        return {
            "requests": [
                {
                    "method": e.method,
                    "path": e.path,
                    "query": e.query,
                    "status": e.status,
                    "trace_id": e.trace_id,
                }
                for e in log.entries()
            ]
        }

    return app


def _not_authenticated() -> JSONResponse:
    """FastAPI's own answer to a missing or wrong bearer token."""
    return JSONResponse(
        {"detail": "Not authenticated"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


def apply_faults(store: JobStore, faults: FaultSwitch, **changes: Any) -> None:
    """Change faults at run time; a new backlog size replaces the queued backlog."""
    _, after = faults.update(**changes)
    if "backlog" in changes:
        store.clear_backlog()
        store.add_backlog(after.backlog)
