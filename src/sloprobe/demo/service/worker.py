"""Worker threads: poll the jobs table, run each job, record how it ended.

Each job is logged (logger ``sloprobe.demo.service``) with the trace id of the
request that submitted it, as a traced worker's log line carries it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sloprobe.demo.service.faults import FaultSwitch
from sloprobe.demo.service.metrics import ServiceMetrics
from sloprobe.demo.service.store import JobStore

POLL_INTERVAL_S = 0.05
log = logging.getLogger("sloprobe.demo.service")


@dataclass
class WorkerState:
    name: str
    busy: bool = False
    last_seen: datetime = field(default_factory=lambda: datetime.now(UTC))


class Worker(threading.Thread):
    """One worker; it stops claiming jobs while the ``workers_stopped`` fault is on."""

    def __init__(
        self,
        name: str,
        store: JobStore,
        faults: FaultSwitch,
        metrics: ServiceMetrics,
        rng: random.Random,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.state = WorkerState(name)
        self._store = store
        self._faults = faults
        self._metrics = metrics
        self._rng = rng
        self._stop_event = threading.Event()

    @property
    def active(self) -> bool:
        return self.is_alive() and not self._faults.current.workers_stopped

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            faults = self._faults.current
            if faults.workers_stopped:
                self._stop_event.wait(POLL_INTERVAL_S)
                continue
            self.state.last_seen = datetime.now(UTC)
            try:
                job = self._store.claim_next(skip_backlog=faults.backlog_hold)
            except Exception:
                job = None  # the database is unavailable; keep polling
            if job is None:
                self._stop_event.wait(POLL_INTERVAL_S)
                continue
            self.state.busy = True
            clock = time.perf_counter()
            time.sleep(faults.processing_ms / 1000)
            error = None
            if self._rng.random() < faults.failure_rate:
                error = f"job {job.id} failed: simulated processing error (tier {job.tier})"
            try:
                finished = self._store.finish(job.id, error)
                self._metrics.job_finished(finished.status, time.perf_counter() - clock)
                log.info(
                    "%s: job %s %s in %.3fs (trace_id=%s)",
                    self.name,
                    job.id,
                    finished.status,
                    time.perf_counter() - clock,
                    job.trace_id or "-",
                    extra={"job_id": job.id, "trace_id": job.trace_id},
                )
            finally:
                self.state.busy = False
