"""The Luneo-shaped exporter and its real Prometheus, started once per test session (each
start waits for the first scrapes and rule evaluations): every test sets the state it needs."""

from __future__ import annotations

from tests.prometheus.luneo import luneo

__all__ = ["luneo"]
