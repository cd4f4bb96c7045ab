"""The spans of a probe run, as plain data: what was timed, under which span id, and how it went.

A probe that talks to the target is one trace (:attr:`Measurement.trace_id`):
its own span is the root, each request it sent is a child under the span id
that request's ``traceparent`` carried (so the service's own spans hang under
it), and a job's phases are children too. The records are kept in memory for
an export (OpenTelemetry, when it is on) and never persisted.

Times are nanoseconds since the Unix epoch, as OpenTelemetry counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# A value OpenTelemetry can carry: a scalar, or a list of texts (the SLOs of a probe).
AttributeValue = str | int | float | bool | tuple[str, ...]


@dataclass(frozen=True)
class SpanRecord:
    """One timed piece of a probe run. ``parent_span_id`` None: the probe's own (root) span."""

    span_id: str  # 16 lowercase hex digits
    parent_span_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    ok: bool = True
    kind: str = "internal"  # or "client": a request sent to another service

    @property
    def duration_s(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e9
