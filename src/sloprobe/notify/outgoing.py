"""One notice on its way out: what it says, for channels that build their own message.

The data is the queuing run's (a notice redelivered later speaks of its own
run), every string passed through the run's redactor and made inert
(:func:`sloprobe.redact.neutralise`) before any channel sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sloprobe.model.describe import budget_text, burn_rates_text
from sloprobe.model.notice import Notice
from sloprobe.model.result import RunInfo
from sloprobe.model.units import format_duration
from sloprobe.model.verdict import Verdict
from sloprobe.notify.where import Seen
from sloprobe.probes.tracing import TraceRef

Scrub = Callable[[str], str]


def http_link(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (``javascript:``, a path) is no link."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


@dataclass(frozen=True)
class Handed:
    """A notice handed to a channel under ``key``; whether its receiver took it is known later
    (:meth:`~sloprobe.notify.deliver.Sender.settle`)."""

    key: str


@dataclass(frozen=True)
class Outgoing:
    """A notice with the run that queued it, its verdict and its headline."""

    notice: Notice
    run: RunInfo
    verdict: Verdict | None
    headline: str
    report_url: str | None
    seen: Seen | None = None  # where the breach was seen, and the quorum (notify/where.py)
    trace: TraceRef | None = None  # the failing probe's trace (settings.traces.url)
    probe_kind: str | None = None  # the kind of the verdict's probe (http, job, redis…)

    @property
    def event_id(self) -> str:
        """The notice's identity, the same on every retry (an idempotency key for receivers)."""
        return self.notice.event_id(self.run.service, self.run.environment)

    @property
    def text(self) -> str:
        """``shop (production): SLO depth breached: …``."""
        return f"{self.run.service} ({self.run.environment}): {self.headline}"

    def links(self) -> list[dict[str, str]]:
        """The runbook and the run, each only when it is an http(s) URL."""
        runbook = http_link(self.verdict.runbook if self.verdict else None)
        trace = http_link(self.trace.url if self.trace else None)
        found = [("Runbook", runbook), ("Run", http_link(self.report_url)), ("Trace", trace)]
        return [{"title": title, "url": url} for title, url in found if url]

    def context(self, scrub: Scrub) -> dict[str, Any]:
        """What a template sees (docs/slo-semantics.md, "Webhooks and PagerDuty")."""
        run, verdict, notice = self.run, self.verdict, self.notice
        history = verdict.history if verdict else None
        incident = history.incident if history else None
        duration = incident.duration_s if incident else None
        observed = verdict.observed if verdict else None
        if verdict is not None and notice.kind != "resolved" and self.seen is not None:
            observed = self.seen.observed() or observed  # the bad runs', not a healthy run's
        data: dict[str, Any] = {
            "notice": {
                "kind": notice.kind,
                "id": self.event_id,
                "channel": notice.channel,
                "slo": notice.slo,
                "incident_id": notice.incident_id,
            },
            "text": self.text,
            "headline": self.headline,
            "service": run.service,
            "environment": run.environment,
            "release": run.release,
            "trigger": run.trigger,
            "run_id": run.run_id,
            "target": run.base_url,
            "slo": notice.slo,
            "status": verdict.status.value if verdict else "unknown",
            "observed": observed,
            "threshold": verdict.threshold if verdict else None,
            "reason": verdict.reason if verdict else None,
            "description": verdict.description if verdict else None,
            "owner": verdict.owner if verdict else None,
            "runbook": verdict.runbook if verdict else None,
            "runbook_url": http_link(verdict.runbook if verdict else None),
            "budget": budget_text(verdict) if verdict and history else None,
            "burn_rates": burn_rates_text(history) if history else {},
            "incident": {
                "id": notice.incident_id,
                "opened_at": _iso(incident.opened_at if incident else None),
                "since": _iso(incident.since if incident else None),
                "duration": format_duration(duration) if duration else None,
                "duration_s": duration,
                "cause": incident.cause if incident else None,
                "bad_runs": incident.bad_streak if incident else 0,
            },
            "report_url": http_link(self.report_url),
            "links": self.links(),
            "trace": (
                {"id": self.trace.trace_id, "url": self.trace.url, "job": self.trace.job}
                if self.trace is not None
                else None
            ),
            # Where the breach was seen: location names, each one's latest bad run, the quorum.
            **(self.seen or Seen(())).context(),
        }
        cleaned: dict[str, Any] = clean(data, scrub)
        return cleaned


def clean(value: Any, scrub: Scrub) -> Any:
    """Every string (keys too) through ``scrub``: secrets masked, target text inert."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {clean(k, scrub): clean(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v, scrub) for v in value]
    return value


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
