"""The OpenAPI source: the service's own description of its health, admin and job operations.

The document is looked for at ``--openapi URL`` (when given) and then at
:data:`DOCUMENT_PATHS`, stopping at the first one found. Operations that need
no parameter are read (one GET each, at most :data:`MAX_OPERATIONS`) when they
look like health or readiness checks, or like admin, metrics or statistics
views; their answers' fields become values and SLOs (:mod:`.endpoints`).
Job submission and status operations are read from the document alone
(:mod:`.jobs`): discovery never sends the POST.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sloprobe.discover.asker import Asker
from sloprobe.discover.classify import words
from sloprobe.discover.endpoints import Endpoint, endpoint_from
from sloprobe.discover.leaves import resolver, schema_leaves
from sloprobe.discover.model import FOUND, NOT_FOUND, REFUSED, SourceReport

SOURCE = "openapi"
DOCUMENT_PATHS = ("/openapi.json", "/docs/openapi.json", "/swagger.json")
MAX_OPERATIONS = 12
HEALTH_WORDS = frozenset(
    [
        "health",
        "healthz",
        "healthcheck",
        "ready",
        "readyz",
        "readiness",
        "live",
        "livez",
        "liveness",
        "ping",
        "heartbeat",
        "alive",
        "status",
    ]
)
ADMIN_WORDS = frozenset(
    [
        "metrics",
        "stats",
        "statistics",
        "worker",
        "workers",
        "queue",
        "queues",
        "monitor",
        "monitoring",
        "summary",
        "overview",
        "dashboard",
    ]
)
METHODS = ("get", "post", "put", "patch", "delete")
SAFE_PATH = re.compile(r"^/[A-Za-z0-9_\-./{}~]{0,200}$")  # a path written into the file as is


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        op_id = self.spec.get("operationId")
        return str(op_id) if isinstance(op_id, str) and op_id else f"{self.method} {self.path}"

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def path_words(self) -> set[str]:
        return {w for s in self.segments if not s.startswith("{") for w in words(s)}


async def find_document(
    asker: Asker, explicit: str | None, report: SourceReport
) -> dict[str, Any] | None:
    """The first OpenAPI (or Swagger 2) document found; the report says where each was asked."""
    for path in ([explicit] if explicit else []) + list(DOCUMENT_PATHS):
        seen = await asker.get(SOURCE, path)
        document = seen.json()
        found = (
            seen.ok
            and isinstance(document, dict)
            and ("openapi" in document or "swagger" in document)
            and isinstance(document.get("paths"), dict)
        )
        report.saw(
            seen.said() + ("" if found or not seen.ok else " (not an OpenAPI document)"),
            seen.state,
        )
        if found:
            report.state, report.detail = FOUND, seen.shown.removeprefix("GET ")
            return dict(document)
        if seen.state == "refused":
            report.state = REFUSED
        if not seen.sent or (seen.answer is None and not asker.answered):
            break  # the service does not answer at all: the next location would not either
    report.detail = report.detail or (
        "no document could be read"
        if report.state == REFUSED
        else f"none at {', '.join(DOCUMENT_PATHS)}"
    )
    if report.state != REFUSED:
        report.state = NOT_FOUND
    return None


def base_path(document: dict[str, Any]) -> str:
    """The path every operation's path is under: ``servers[0].url`` (a path) or ``basePath``."""
    servers = document.get("servers")
    first = servers[0] if isinstance(servers, list) and servers else {}
    url = first.get("url") if isinstance(first, dict) else None
    base = url if isinstance(url, str) and url.startswith("/") else document.get("basePath")
    return base.rstrip("/") if isinstance(base, str) and SAFE_PATH.match(base) else ""


def operations(document: dict[str, Any]) -> list[Operation]:
    found: list[Operation] = []
    base = base_path(document)
    for path, item in document.get("paths", {}).items():
        if not isinstance(path, str) or not isinstance(item, dict) or not SAFE_PATH.match(path):
            continue
        path = base + path
        listed = item.get("parameters")
        shared: list[Any] = listed if isinstance(listed, list) else []
        for method in METHODS:
            spec = item.get(method)
            if isinstance(spec, dict):
                params = [*shared, *(spec.get("parameters") or [])]
                found.append(Operation(method.upper(), path, {**spec, "parameters": params}))
    return found


def _needs_input(operation: Operation, document: dict[str, Any]) -> bool:
    """Whether a GET needs a parameter discovery cannot know (a path id, a required query)."""
    resolve = resolver(document)
    for param in operation.spec.get("parameters", []):
        param = resolve(param)
        required = param.get("required") or param.get("in") == "path"
        has_default = "default" in (param.get("schema") or {}) or "default" in param
        if required and not has_default and param.get("in") in ("path", "query"):
            return True
    return "{" in operation.path


def kind_of(operation: Operation) -> str | None:
    """``health``, ``admin`` or None: what a parameterless GET is, from its path and name."""
    said = operation.path_words()
    named = set(words(operation.name)) | set(words(str(operation.spec.get("summary", ""))))
    if said & HEALTH_WORDS or (named & HEALTH_WORDS and not said & ADMIN_WORDS):
        return "health"
    return "admin" if said & ADMIN_WORDS else None


def response_schema(operation: Operation) -> Any:
    """The schema of the first 2xx JSON answer (OpenAPI 3 ``content`` or Swagger 2 ``schema``)."""
    responses = operation.spec.get("responses")
    if not isinstance(responses, dict):
        return None
    for code in sorted(str(c) for c in responses):
        answer = responses.get(code) if code in responses else responses.get(int(code))
        if not code.startswith("2") or not isinstance(answer, dict):
            continue
        if "schema" in answer:
            return answer["schema"]
        content = answer.get("content")
        if isinstance(content, dict):
            for media, body in content.items():
                if "json" in str(media) and isinstance(body, dict):
                    return body.get("schema")
    return None


async def read_operations(
    asker: Asker, document: dict[str, Any], report: SourceReport
) -> list[Endpoint]:
    """GET the health and admin operations that need no input; an endpoint per operation."""
    resolve = resolver(document)
    chosen = [
        (op, kind)
        for op in operations(document)
        if op.method == "GET" and not _needs_input(op, document)
        for kind in [kind_of(op)]
        if kind is not None
    ]
    chosen.sort(key=lambda ok: (ok[1] != "health", len(ok[0].segments), ok[0].path))
    endpoints: list[Endpoint] = []
    for op, kind in chosen[:MAX_OPERATIONS]:
        seen = await asker.get(SOURCE, op.path)
        report.saw(seen.said(), seen.state)
        origin = f"operation {asker.show(op.name)} (GET {asker.show(op.path)})"
        endpoint = endpoint_from(op.path, origin, kind == "health", seen)
        if endpoint.refused:
            endpoint.leaves = schema_leaves(response_schema(op), resolve)
        endpoints.append(endpoint)
    skipped = len(chosen) - MAX_OPERATIONS
    if skipped > 0:
        report.lines.append(
            f"{skipped} more health/admin operations not read (at most {MAX_OPERATIONS})"
        )
    read = sum(1 for e in endpoints if e.answered)
    refused = f", {len(report.refused)} refused" if report.refused else ""
    report.detail += (
        f"; {len(operations(document))} operations, {read} of {len(chosen)} read{refused}"
    )
    return endpoints
