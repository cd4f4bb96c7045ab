"""A Celery stack that answers only as marb-monitoring-dashboards.md shows it (shape 2).

- The API: ``GET /api/v1/health`` and ``GET /api/v1/health/detailed``, the latter built as
  the document's handler builds it: ``SELECT 1`` on the database, a Redis ping timed in
  ms, and Celery's ``inspect().active()``; ``"degraded"`` with the failing component's
  ``"unhealthy"`` and its error (``"No active workers"``), answered with 200.
- A real Celery worker (``celery.contrib.testing.worker``, heartbeats and task events on,
  as ``celery worker -E``) consuming a real Redis broker; tasks are published by the real
  Celery client. Its queue is ``claims``, not Celery's default: the document names none.
- Flower's HTTP API as Flower 2 answers it, fed the way Flower feeds itself: a
  ``celery.events`` receiver into ``celery.events.state.State``. ``/api/workers?status=1``
  is ``{hostname: alive}`` and ``/api/tasks`` lists the remembered tasks (``state``,
  ``limit``), newest first; with ``--basic_auth`` it checks ``Authorization: Basic`` as
  Flower does and answers 401 ``Access denied``; without it, it ignores the header.

Faults are real where they can be (a stopped worker, failing and slow tasks, Redis down)
and flagged where the document only shows the answer (the database check's error).
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.events.state import State

from tests.support.redis_process import RedisProcess

QUEUE = "claims"
TASK = "app.services.queue.tasks.process_claim"
WORKER = "celery@marb-worker-1"
FLOWER_USER = "admin:secure_password_here"  # the document's --basic_auth example
WAIT_S = 15.0


@dataclass
class Faults:
    tasks_fail: bool = False
    task_s: float = 0.0  # how long each task takes
    database_down: bool = False


@dataclass
class MarbStack:
    redis: RedisProcess
    flower_auth: str | None  # Flower's --basic_auth, or None: Flower without auth
    faults: Faults = field(default_factory=Faults)
    api_url: str = ""
    flower_url: str = ""
    app: Celery = field(init=False, repr=False)
    state: State = field(default_factory=State, repr=False)
    flower_requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _worker: ExitStack | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.app = _celery_app(self.redis.url, self.faults)

    @property
    def broker(self) -> str:
        return self.redis.url

    # ---------------------------------------------------------------- the worker

    def start_worker(self) -> None:
        stack = ExitStack()
        stack.enter_context(
            start_worker(
                self.app,
                pool="threads",
                concurrency=1,
                perform_ping_check=False,
                loglevel="CRITICAL",
                shutdown_timeout=30,
                hostname=WORKER,
                without_heartbeat=False,  # Flower tells a live worker by its heartbeats
                queues=[QUEUE],
            )
        )
        self._worker = stack
        self.wait_for(lambda: self.alive() == {WORKER: True}, "Flower to see the worker alive")

    def stop_worker(self, wait: bool = True) -> None:
        """A warm shutdown, as `systemctl stop`: the worker says goodbye (worker-offline)."""
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.close()
            if wait:
                self.wait_for(lambda: self.alive() == {WORKER: False}, "Flower to see it offline")

    def alive(self) -> dict[str, bool]:
        return {name: worker.alive for name, worker in list(self.state.workers.items())}

    # ---------------------------------------------------------------- tasks

    def publish(self, count: int) -> None:
        """Tasks sent as the API sends them: the real Celery client, onto the broker."""
        client = Celery("marb-api", broker=self.broker, set_as_current=False)
        try:
            for claim in range(count):
                client.send_task(TASK, args=(claim,), queue=QUEUE)
        finally:
            client.close()

    def tasks_in(self, state: str) -> int:
        return sum(1 for task in list(self.state.tasks.values()) if task.state == state)

    def backlog(self) -> int:
        with redis.Redis.from_url(self.broker) as client:
            return int(client.llen(QUEUE))

    def wait_for(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {WAIT_S:g} s for {what}")
            time.sleep(0.02)

    # ---------------------------------------------------------------- the API's health

    def health_detailed(self) -> dict[str, Any]:
        """The document's handler, line by line."""
        health: dict[str, Any] = {
            "status": "healthy",
            "version": "2.0.0",
            "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat(),
            "components": {},
        }
        components = health["components"]
        try:
            if self.faults.database_down:
                raise ConnectionError(
                    'connection to server at "localhost" (127.0.0.1), port 5432 failed: '
                    "Connection refused"
                )
            components["database"] = {"status": "healthy", "response_time_ms": 0}
        except Exception as exc:
            health["status"] = "degraded"
            components["database"] = {"status": "unhealthy", "error": str(exc)}
        try:
            with redis.Redis.from_url(
                self.broker, socket_connect_timeout=0.5, socket_timeout=0.5
            ) as client:
                start = time.time()
                client.ping()
                took = (time.time() - start) * 1000
            components["redis"] = {"status": "healthy", "response_time_ms": round(took, 2)}
        except Exception as exc:
            health["status"] = "degraded"
            components["redis"] = {"status": "unhealthy", "error": str(exc)}
        try:
            active = self.app.control.inspect(timeout=1.0).active()
            if active:
                components["celery"] = {"status": "healthy", "active_workers": len(active)}
            else:
                health["status"] = "degraded"
                components["celery"] = {"status": "unhealthy", "error": "No active workers"}
        except Exception as exc:
            health["status"] = "degraded"
            components["celery"] = {"status": "unhealthy", "error": str(exc)}
        return health

    # ---------------------------------------------------------------- Flower

    def flower_tasks(self, state: str | None, limit: int | None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for uuid, task in self.state.tasks_by_time():
            if state and task.state != state:
                continue
            if limit is not None and len(found) >= limit:
                break
            shown = {
                k: getattr(task, k)
                for k in ("uuid", "name", "state", "received", "started", "failed", "succeeded")
            }
            shown |= {"exception": task.exception, "runtime": task.runtime}
            shown["worker"] = task.worker.hostname if task.worker is not None else None
            found[uuid] = shown
        return found

    def flower_allows(self, header: str) -> bool:
        """Flower 2's get_current_user: Basic credentials, compared in constant time."""
        if self.flower_auth is None:
            return True
        try:
            scheme, credentials = header.split()
            decoded = base64.b64decode(credentials.encode()).decode()
        except ValueError:
            return False
        return scheme == "Basic" and hmac.compare_digest(self.flower_auth, decoded)


def _celery_app(broker: str, faults: Faults) -> Celery:
    app = Celery("app.services.queue.tasks", broker=broker, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE,
        worker_send_task_events=True,  # `celery worker -E`: what Flower shows
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_timeout=0.5,
        broker_connection_max_retries=1,
    )

    @app.task(name=TASK, shared=False)  # this app only: each test has its faults
    def process_claim(claim: int) -> int:
        if faults.task_s:
            time.sleep(faults.task_s)
        if faults.tasks_fail:
            raise RuntimeError(f"claim {claim} could not be processed")
        return claim

    return app


def _receive_events(stack: MarbStack, stop: threading.Event) -> None:
    """Flower's event capture: every event of the broker into one State; reconnects."""
    while not stop.is_set():
        try:
            with stack.app.connection() as conn:
                receiver = stack.app.events.Receiver(conn, handlers={"*": stack.state.event})
                while not stop.is_set():
                    try:
                        receiver.capture(limit=None, timeout=0.1, wakeup=False)
                    except TimeoutError:
                        continue
        except Exception:
            stop.wait(0.1)


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class _Json(BaseHTTPRequestHandler):
    def answer(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def marb_stack(redis_server: RedisProcess, flower_auth: str | None = None) -> Iterator[MarbStack]:
    """The API, Flower and (started) a worker, on ``redis_server``; all stopped at the end."""
    stack = MarbStack(redis_server, flower_auth)

    class Api(_Json):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/api/v1/health":
                self.answer(200, {"status": "healthy", "version": "2.0.0"})
            elif path == "/api/v1/health/detailed":
                self.answer(200, stack.health_detailed())
            else:
                self.answer(404, {"detail": "Not Found"})

    class Flower(_Json):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            stack.flower_requests.append((self.path, dict(self.headers.items())))
            if not stack.flower_allows(self.headers.get("Authorization", "")):
                self.answer(
                    401,
                    b"Access denied",
                    {"Content-Type": "text/html", "WWW-Authenticate": 'Basic realm="flower"'},
                )
            elif parts.path == "/api/workers" and query.get("status") in ("1", "true"):
                self.answer(200, stack.alive())
            elif parts.path == "/api/tasks":
                limit = int(query["limit"]) if query.get("limit") else None
                self.answer(200, stack.flower_tasks(query.get("state"), limit))
            else:
                self.answer(404, b"", {"Content-Type": "text/html"})

    stop = threading.Event()
    receiver = threading.Thread(target=_receive_events, args=(stack, stop), daemon=True)
    receiver.start()
    api, stack.api_url = _serve(Api)
    flower, stack.flower_url = _serve(Flower)
    try:
        stack.start_worker()
        yield stack
    finally:
        if not redis_server.running:
            redis_server.start()  # the worker says goodbye through it
        stack.stop_worker(wait=False)
        stop.set()
        receiver.join(5)
        for server in (api, flower):
            server.shutdown()
            server.server_close()
