"""The PromQL probe: each query's instant vector (or scalar) as samples; NaN and empty answers are no data.

Answers are read through the network layer: capped (decompressed) at
:data:`~sloprobe.probes.network.MAX_JSON_BYTES`, JSON depth bounded, and
redirects followed on the server's origin only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from sloprobe.model.measurement import Measurement, Sample, Series
from sloprobe.probes.base import ProbeCall
from sloprobe.probes.context import ProbeContext
from sloprobe.probes.network import (
    ACCEPT_ENCODING,
    MAX_JSON_BYTES,
    BodyError,
    describe_error,
    fetch,
    parse_json,
    status_problem,
)
from sloprobe.probes.promql.spec import PromQLProbe, promql_series_units
from sloprobe.redact import redact_url


async def measure(call: ProbeCall[PromQLProbe]) -> Measurement:
    return await run_promql_probe(call.name, call.spec, call.context)


async def run_promql_probe(name: str, spec: PromQLProbe, context: ProbeContext) -> Measurement:
    started, clock = datetime.now(UTC), time.perf_counter()
    samples: dict[str, list[Sample]] = {n: [] for n in spec.queries}
    missing: dict[str, str] = {}
    failure = None
    redirects = context.redirects()
    headers = {"Accept-Encoding": ACCEPT_ENCODING, **redirects.offsite_headers}
    try:
        async with httpx.AsyncClient(
            base_url=spec.server, timeout=spec.timeout, headers=headers
        ) as client:
            for query_name, query in spec.queries.items():
                request = client.build_request(
                    "GET", "/api/v1/query", params={"query": query.query}
                )
                answer = await fetch(
                    client, request, max_bytes=MAX_JSON_BYTES, retries=0, redirects=redirects
                )
                if answer.not_followed is not None:
                    raise ValueError(f"{status_problem(answer.status)}: {answer.not_followed}")
                document = _document(answer.status, answer.body, answer.truncated)
                if document.get("status") != "success":
                    raise ValueError(
                        f"{query_name}: {document.get('errorType', '')} {document.get('error', answer.status)}"
                    )
                values = _vector_values(document.get("data", {}))
                finite = [v for v in values if not math.isnan(v)]
                if not finite:
                    missing[query_name] = (
                        "the query returned no samples" if not values else "the query returned NaN"
                    )
                samples[query_name] = [query.unit.to_base(v) for v in finite]
    except httpx.HTTPError as exc:
        step = f"PromQL GET {redact_url(spec.server)}/api/v1/query"
        failure = describe_error(exc, context.redactor, step)
    except (ValueError, RecursionError) as exc:
        step = f"PromQL GET {redact_url(spec.server)}/api/v1/query"
        failure = context.redactor(f"{step}: {exc}")[:300]
    units = promql_series_units(spec)
    return Measurement(
        probe=name,
        kind="promql",
        started_at=started,
        duration_s=time.perf_counter() - clock,
        series={n: Series(n, units[n], tuple(s)) for n, s in samples.items()},
        failure=failure,
        missing=missing,
    )


def _document(status: int, body: bytes, truncated: bool) -> dict[str, Any]:
    """The answer as a JSON object; ValueError saying why it is not one."""
    if truncated:
        raise ValueError(f"body too large (over {MAX_JSON_BYTES} bytes)")
    try:
        document = parse_json(body)
    except BodyError:
        if status >= 400:  # an error page from a proxy: the status says more than the body
            raise ValueError(status_problem(status)) from None
        raise
    if not isinstance(document, dict):
        raise ValueError("the answer is not a JSON object")
    return document


def _vector_values(data: Mapping[str, object]) -> list[float]:
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list):
        return [float(result[1])]
    if isinstance(result, list):
        return [
            float(item["value"][1]) for item in result if isinstance(item, dict) and "value" in item
        ]
    return []
