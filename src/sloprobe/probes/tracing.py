"""W3C trace context for probe requests, so one synthetic job can be followed through the service."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Trace:
    """One trace per probe; every request gets a new span id under it (sampled)."""

    trace_id: str = field(default_factory=lambda: secrets.token_hex(16))

    def headers(self) -> dict[str, str]:
        span_id = secrets.token_hex(8)
        return {"traceparent": f"00-{self.trace_id}-{span_id}-01"}
