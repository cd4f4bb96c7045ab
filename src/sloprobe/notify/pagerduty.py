"""PagerDuty Events API v2: ``trigger`` when an incident opens, ``resolve`` when it resolves.

The event's shape is PagerDuty's (``routing_key``, ``event_action``,
``dedup_key``, ``payload`` with ``summary``, ``source``, ``severity``,
``timestamp``, ``component``, ``group``, ``class`` and ``custom_details``;
``client``, ``client_url`` and ``links`` beside it). PagerDuty answers 202
when it took the event; 429 and 5xx are to be retried, which the notice
being left pending does on the next run.

``dedup_key`` names the incident — service, environment, SLO and the
incident's id in history — so a trigger sent twice (a retry, a crash between
sending and recording) is one alert, and the resolve closes the alert its
trigger opened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sloprobe.notify import http
from sloprobe.notify.outgoing import Outgoing, Scrub, clean

SUMMARY_MAX = 1024  # PagerDuty's limit on payload.summary
DEDUP_KEY_MAX = 255  # ... and on dedup_key


def dedup_key(service: str, environment: str, slo: str, incident_id: int) -> str:
    """``sloprobe/shop/production/depth/incident-7``: one incident, whatever the run sending it."""
    key = f"sloprobe/{service}/{environment}/{slo}/incident-{incident_id}"
    if len(key) <= DEDUP_KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{key[: DEDUP_KEY_MAX - 17]}-{digest}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event(outgoing: Outgoing, routing_key: str, severity: str, scrub: Scrub) -> dict[str, Any]:
    """The Events API v2 body of one notice (a reminder is a trigger: PagerDuty dedupes it)."""
    run, notice = outgoing.run, outgoing.notice
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if notice.kind == "resolved" else "trigger",
        "dedup_key": dedup_key(run.service, run.environment, notice.slo, notice.incident_id),
    }
    if notice.kind == "resolved":
        return body
    context = outgoing.context(scrub)
    details = {
        key: context[key]
        for key in (
            "service",
            "environment",
            "slo",
            "status",
            "observed",
            "threshold",
            "reason",
            "owner",
            "runbook",
            "budget",
            "burn_rates",
            "incident",
            "locations",
            "seen",
            "quorum",
            "release",
            "run_id",
            "report_url",
        )
        if context[key] not in (None, {}, "", [])
    }
    host = urlsplit(run.base_url).hostname if run.base_url else None
    body["payload"] = clean(
        {
            "summary": _cut(outgoing.text, SUMMARY_MAX),
            "source": host or run.service,
            "severity": severity,
            "timestamp": run.started_at.isoformat(),
            "component": notice.slo,
            "group": f"{run.service}/{run.environment}",
            "class": "slo breach",
            "custom_details": details,
        },
        scrub,
    )
    body["client"] = "sloprobe"
    if context["report_url"]:
        body["client_url"] = context["report_url"]
    body["links"] = [{"href": link["url"], "text": link["title"]} for link in context["links"]]
    return body


@dataclass
class PagerDutyChannel:
    url: str
    routing_key: str
    severity: str
    timeout: float
    scrub: Scrub

    def send(self, outgoing: Outgoing) -> str | None:
        content = json.dumps(event(outgoing, self.routing_key, self.severity, self.scrub))
        return http.send(
            "POST",
            self.url,
            content=content.encode(),
            headers={"Content-Type": "application/json", "User-Agent": "sloprobe"},
            timeout=self.timeout,
            what="PagerDuty",
            scrub=self.scrub,
        )

    def settle(self) -> set[str]:
        return set()  # each answer was known when it was sent
