"""A real OTLP/HTTP receiver for tests: POST /v1/traces, the protobuf body decoded.

It answers as a collector does (200 with an empty ``ExportTraceServiceResponse``),
or as a broken one: ``fail_status`` (a 5xx or 4xx answer), ``stall_s`` (it reads
the batch, then answers only after that long — or when the test ends).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


@dataclass
class Span:
    """One received span, ids in lowercase hex as W3C writes them."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    attributes: dict[str, Any]
    links: list[tuple[str, str, dict[str, Any]]]
    events: list[tuple[str, dict[str, Any]]]
    status_code: int
    status_message: str
    start_ns: int
    end_ns: int
    resource: dict[str, Any]


@dataclass
class Receiver:
    url: str  # the base URL: OTEL_EXPORTER_OTLP_ENDPOINT
    fail_status: int | None = None
    stall_s: float = 0.0
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def spans(self) -> list[Span]:
        found: list[Span] = []
        for path, _, body in self.posts:
            assert path == "/v1/traces", path
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource_spans in request.resource_spans:
                resource = _attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    found += [_span(s, resource) for s in scope_spans.spans]
        return found


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    return getattr(value, which) if which else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in pairs if isinstance(kv, KeyValue)}


def _span(span: Any, resource: dict[str, Any]) -> Span:
    return Span(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        name=span.name,
        kind=span.kind,
        attributes=_attributes(span.attributes),
        links=[
            (ln.trace_id.hex(), ln.span_id.hex(), _attributes(ln.attributes)) for ln in span.links
        ],
        events=[(e.name, _attributes(e.attributes)) for e in span.events],
        status_code=span.status.code,
        status_message=span.status.message,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        resource=resource,
    )


@contextmanager
def otlp_receiver(fail_status: int | None = None, stall_s: float = 0.0) -> Iterator[Receiver]:
    receiver = Receiver("", fail_status, stall_s)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            receiver.posts.append((self.path, dict(self.headers.items()), body))
            if receiver.stall_s:
                receiver.release.wait(receiver.stall_s)
            if receiver.fail_status is not None:
                answer, status, kind = b'{"error": "no"}', receiver.fail_status, "application/json"
            else:
                answer = ExportTraceServiceResponse().SerializeToString()
                status, kind = 200, "application/x-protobuf"
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the exporter gave up waiting and closed the connection
                return

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
