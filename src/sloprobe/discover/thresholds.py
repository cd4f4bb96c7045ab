"""Where every threshold of a proposal comes from: a multiple of what was measured, or a default.

Latency (samples sent during discovery, or a histogram's observations):
``max(LATENCY_MULTIPLE × observed p95, LATENCY_FLOOR)``, rounded up. A single
duration read from an answer (an average processing time): ``max(DURATION_MULTIPLE
× observed, DURATION_FLOOR)``, or the latency rule when the field names a
response time. Counts and rates have documented defaults, the ones the seed
stacks use (DESIGN.md): queue depth < 100 (warn at 50), at least one live
worker, success rate ≥ 90 % (warn under 95 %), failure rate ≤ 10 % (warn over 5 %).
Each proposed SLO carries the rule and the observed value in a comment.
"""

from __future__ import annotations

import math

from sloprobe.model.units import Dimension, format_base

LATENCY_MULTIPLE = 4
LATENCY_FLOOR_S = 0.2
DURATION_MULTIPLE = 4
DURATION_FLOOR_S = 30.0
QUEUE_BREACH = 100
QUEUE_WARN = 50
WORKERS_MIN = 1
SUCCESS_BREACH = 90
SUCCESS_WARN = 95
FAILURE_BREACH = 10
FAILURE_WARN = 5
JOB_TOTAL_S = 60.0  # the job kind's default poll timeout
LATENCY_SAMPLES = 5


def seconds_text(seconds: float) -> str:
    """A duration for a threshold, rounded up: ``200ms``, ``1.3s``, ``45s``, ``2m``."""
    if seconds < 1:
        return f"{max(1, math.ceil(seconds * 100 - 1e-9)) * 10}ms"
    if seconds < 120:
        return f"{math.ceil(seconds * 10 - 1e-9) / 10:g}s"
    return f"{math.ceil(seconds / 60 - 1e-9)}m"


def shown(seconds: float) -> str:
    return format_base(seconds, Dimension.TIME)


def latency_bound(p95_s: float) -> tuple[str, str]:
    """(the bound, the comment) for a latency whose observed p95 is ``p95_s``."""
    bound = max(LATENCY_MULTIPLE * p95_s, LATENCY_FLOOR_S)
    rule = f"max({LATENCY_MULTIPLE} × p95, {shown(LATENCY_FLOOR_S)})"
    return seconds_text(bound), f"observed p95 {shown(p95_s)}; the bound is {rule}"


def duration_bound(observed_s: float, response_time: bool) -> tuple[str, str]:
    """(the bound, the comment) for one duration value read from an answer: a response time
    by the latency rule, a job's duration by the duration rule."""
    multiple, floor = (
        (LATENCY_MULTIPLE, LATENCY_FLOOR_S)
        if response_time
        else (DURATION_MULTIPLE, DURATION_FLOOR_S)
    )
    bound = max(multiple * observed_s, floor)
    rule = f"max({multiple} × observed, {shown(floor)})"
    return seconds_text(bound), f"observed {shown(observed_s)}; the bound is {rule}"


def queue_rule() -> tuple[str, str, str]:
    return (
        f"value < {QUEUE_BREACH}",
        f"value < {QUEUE_WARN}",
        f"default: breach at {QUEUE_BREACH} waiting, warn at {QUEUE_WARN} (sloprobe discover's defaults)",
    )


def workers_rule() -> tuple[str, str]:
    return f"value >= {WORKERS_MIN}", f"default: at least {WORKERS_MIN} live worker"


def success_rule() -> tuple[str, str, str]:
    return (
        f"value >= {SUCCESS_BREACH}%",
        f"value >= {SUCCESS_WARN}%",
        f"default: breach under {SUCCESS_BREACH} %, warn under {SUCCESS_WARN} %",
    )


def failure_rule() -> tuple[str, str, str]:
    return (
        f"value <= {FAILURE_BREACH}%",
        f"value <= {FAILURE_WARN}%",
        f"default: breach over {FAILURE_BREACH} %, warn over {FAILURE_WARN} %",
    )
