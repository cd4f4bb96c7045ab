"""Which fields of an answer are worth an SLO: states, flags, workers, queue depth, rates, durations.

A field is judged by its name's words (``estimated_active`` → estimated,
active; ``successRate`` → success, rate), the words of the objects around it,
and its value. A unit is taken only from what the name says (``_seconds``,
``_ms``, ``_percent``) or, for a rate, from a value above 1 (a percent); a
field whose unit cannot be told is not proposed, and the comment says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sloprobe.discover.model import Leaf

HEALTHY = frozenset(
    [
        "healthy",
        "ok",
        "up",
        "pass",
        "passing",
        "green",
        "ready",
        "alive",
        "available",
        "operational",
        "running",
        "live",
        "connected",
        "online",
    ]
)
_FLAGS = frozenset(
    ["healthy", "ok", "up", "ready", "alive", "live", "connected", "available", "online"]
)
_WORKER_KEY = frozenset(
    [
        "worker",
        "workers",
        "active",
        "alive",
        "live",
        "online",
        "count",
        "total",
        "up",
        "running",
        "available",
        "estimated",
        "num",
        "number",
    ]
)
_QUEUE_WORDS = frozenset(["queue", "queues", "queued", "backlog", "waiting", "pending"])
_QUEUE_KEY = frozenset(["queued", "waiting", "pending", "backlog", "depth", "length", "size"])
_NOT_QUEUE = frozenset(
    [
        "total",
        "totals",
        "processed",
        "completed",
        "failed",
        "succeeded",
        "created",
        "by",
        "status",
        "activity",
        "period",
        "hours",
        "24h",
        "avg",
        "rate",
        "time",
        "seconds",
        "ms",
        "age",
        "processing",
        "active",
    ]
)
_RATE = frozenset(["rate", "rates", "ratio", "ratios", "percent", "pct", "percentage"])
_PERCENT = frozenset(["percent", "pct", "percentage"])
_TIME = frozenset(["time", "duration", "latency", "elapsed", "wait"])
# The same words naming the object a field sits in: `rates.success`, `durations.avg_ms`.
_TIME_AROUND = _TIME | {"times", "durations", "latencies", "timings"}
_NOT_TIME = frozenset(["uptime", "timestamp", "timeout", "date", "epoch"])
_RESPONSE = frozenset(["response", "latency", "ping"])
_TIME_UNITS = {
    "seconds": "s",
    "secs": "s",
    "sec": "s",
    "s": "s",
    "ms": "ms",
    "millis": "ms",
    "milliseconds": "ms",
    "msec": "ms",
    "minutes": "m",
    "mins": "m",
}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+[a-z]*")


def words(text: str) -> list[str]:
    """``avgProcessingTimeMs`` → avg, processing, time, ms; ``queue_depth`` → queue, depth."""
    return [w.lower() for w in _WORD.findall(text)]


@dataclass(frozen=True)
class Pick:
    """A field chosen for an SLO: its category, the unit to declare, how good a match it is."""

    category: str  # status, flag, workers, queue, success_rate, failure_rate, duration
    leaf: Leaf
    unit: str = "none"
    score: int = 0
    expected: str | None = None  # status: the healthy state seen (or the schema's enum)
    length: bool = False  # workers: the length of a list of workers
    response_time: bool = False  # duration: a response time (latency rule), not a job's


@dataclass(frozen=True)
class Unclear:
    """A field that looked useful but whose unit (or value) cannot be told: said, not proposed."""

    leaf: Leaf
    why: str


def classify(leaf: Leaf) -> Pick | Unclear | None:
    key = words(leaf.key)
    around = [w for part in leaf.parts[:-1] for w in words(part)]
    every = set(key) | set(around)
    if not key or leaf.key.endswith("_at") or every & _NOT_TIME or "last" in key:
        return None
    if leaf.type == "string":
        return _state(leaf, key)
    if leaf.type == "boolean":
        seen_true = leaf.value is True or not leaf.observed
        return Pick("flag", leaf, "bool") if set(key) <= _FLAGS | {"is"} and seen_true else None
    if leaf.type == "array":
        workers = set(key) <= {"worker", "workers", "active", "alive", "live", "online"}
        if workers and {"worker", "workers"} & set(key) and leaf.observed:
            return Pick("workers", leaf, "count", score=0, length=True)
        return None
    if leaf.type not in ("integer", "number", "null"):
        return None
    if {"worker", "workers"} & every and set(key) <= _WORKER_KEY and leaf.type != "null":
        live = {"active", "alive", "live", "online"} & set(key)
        return Pick("workers", leaf, "count", score=2 if live else 1)
    if every & _QUEUE_WORDS and set(key) & _QUEUE_KEY and not every & _NOT_QUEUE:
        score = 2 * bool(set(around) & _QUEUE_WORDS) + 2 * bool(set(key) - {"length", "size"})
        return Pick("queue", leaf, "count", score=score + ("current" in every))
    if set(key) & _RATE or (set(around[-1:]) & _RATE and _rate_category(key)):
        return _rate(leaf, key)
    if set(key) & _TIME or (set(around[-1:]) & _TIME_AROUND and set(key) & set(_TIME_UNITS)):
        return _duration(leaf, key)
    return None


def _state(leaf: Leaf, key: list[str]) -> Pick | Unclear | None:
    statusy = set(key) & {"status", "state", "health", "overall"}
    if leaf.observed:
        if isinstance(leaf.value, str) and leaf.value.lower() in HEALTHY:
            return Pick("status", leaf, score=2 if statusy else 1, expected=leaf.value)
        if statusy and isinstance(leaf.value, str):
            return Unclear(leaf, "not a healthy state")
        return None
    healthy = [v for v in leaf.enum if v.lower() in HEALTHY]
    return Pick("status", leaf, score=1, expected=healthy[0]) if healthy and statusy else None


def _rate_category(key: list[str]) -> str | None:
    if {"success", "successful", "succeeded"} & set(key):
        return "success_rate"
    if {"fail", "failure", "failed", "error", "errors"} & set(key):
        return "failure_rate"
    return None


def _rate(leaf: Leaf, key: list[str]) -> Pick | Unclear | None:
    category = _rate_category(key)
    if category is None:
        return None
    value = leaf.value if isinstance(leaf.value, int | float) else None
    if set(key) & _PERCENT:
        unit = "%"
    elif "ratio" in key:
        unit = "ratio"
    elif value is not None and value > 1:
        unit = "%"
    else:
        seen = "null" if value is None else f"{value:g}"
        return Unclear(leaf, f"{seen}: a ratio or a percent? its name does not say")
    return Pick(category, leaf, unit, score=1)


def _duration(leaf: Leaf, key: list[str]) -> Pick | Unclear | None:
    units = [_TIME_UNITS[w] for w in key if w in _TIME_UNITS]
    if not units:
        return Unclear(leaf, "a duration in which unit? its name does not say")
    if not isinstance(leaf.value, int | float) or isinstance(leaf.value, bool):
        return Unclear(leaf, "no value to measure a bound from (null)")
    return Pick("duration", leaf, units[-1], response_time=bool(set(key) & _RESPONSE))
