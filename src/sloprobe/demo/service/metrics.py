"""Prometheus metrics of one service instance, in its own registry (several may share a process)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ServiceMetrics:
    def __init__(
        self, queue_depth: Callable[[], float], workers_active: Callable[[], float]
    ) -> None:
        self.registry = CollectorRegistry()
        self.submitted = Counter(
            "jobs_submitted", "Jobs accepted by POST /jobs.", registry=self.registry
        )
        self.finished = Counter(
            "jobs_finished",
            "Jobs that finished, by final status.",
            ["status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "job_duration_seconds",
            "Processing time of finished jobs.",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        depth = Gauge("job_queue_depth", "Jobs waiting in the queue.", registry=self.registry)
        depth.set_function(queue_depth)
        workers = Gauge("workers_active", "Workers taking jobs.", registry=self.registry)
        workers.set_function(workers_active)
        for status in ("succeeded", "failed"):
            self.finished.labels(status=status)

    def job_finished(self, status: str, seconds: float) -> None:
        self.finished.labels(status=status).inc()
        self.duration.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
