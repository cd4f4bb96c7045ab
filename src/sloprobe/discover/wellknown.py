"""Without an OpenAPI document: a fixed list of well-known paths, each asked once with GET.

A path that answers 2xx with JSON (or short plain text, for a health check)
becomes an endpoint; an HTML answer is not taken for one (a single-page app
answers every path with its index page).
"""

from __future__ import annotations

from sloprobe.discover.asker import Asker
from sloprobe.discover.classify import words
from sloprobe.discover.endpoints import Endpoint, endpoint_from
from sloprobe.discover.model import FOUND, NOT_FOUND, REFUSED, SourceReport
from sloprobe.discover.openapi import HEALTH_WORDS
from sloprobe.probes.http.measure import ABSENT

SOURCE = "well-known paths"
PATHS = (
    "/health",
    "/healthz",
    "/health/live",
    "/health/ready",
    "/ready",
    "/readyz",
    "/livez",
    "/ping",
    "/status",
    "/api/health",
    "/api/v1/health",
    "/api/v1/health/detailed",
    "/admin/health",
    "/admin/metrics",
    "/admin/workers",
    "/admin/jobs/stats",
    "/metrics",
)
MAX_TEXT = 200  # a plain-text health answer longer than this is not one


def _is_health(path: str) -> bool:
    return bool(set(words(path)) & HEALTH_WORDS)


async def read_well_known(asker: Asker, report: SourceReport) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    refused = 0
    for path in PATHS:
        seen = await asker.get(SOURCE, path)
        report.saw(seen.said(), seen.state)
        refused += seen.state == "refused"
        if not seen.ok:
            if seen.status in (401, 403):
                endpoints.append(
                    endpoint_from(path, f"well-known path {path}", _is_health(path), seen)
                )
            continue
        is_json = seen.json() is not ABSENT
        plain = seen.content_type().startswith("text/plain") and len(seen.text()) <= MAX_TEXT
        if not (is_json or (plain and _is_health(path) and path != "/metrics")):
            continue  # (a JSON /metrics is an answer to read; a text one is Prometheus's)
        endpoints.append(endpoint_from(path, f"well-known path {path}", _is_health(path), seen))
    found = [e for e in endpoints if e.answered]
    report.state = FOUND if found else REFUSED if refused else NOT_FOUND
    report.detail = (
        f"{len(found)} of {len(PATHS)} paths answered: {', '.join(e.path for e in found)}"
        if found
        else f"none of {len(PATHS)} paths answered 2xx"
        + (
            f" ({refused} refused)"
            if refused
            else "; a service mounted under a path is asked there: give that path in URL"
        )
    )
    return endpoints
