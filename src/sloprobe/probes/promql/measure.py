"""The PromQL probe: each query's instant vector (or scalar) as samples; NaN and empty answers are no data.

Each query stands alone: one Prometheus rejects (``bad_data``, an execution
error, its own timeout) is no data for its measure, with Prometheus's error,
and the other queries are measured and judged as usual. Only a server that
cannot be asked at all (refused, a transport timeout, not a Prometheus API)
fails the whole probe, and that failure is the monitoring stack's, never the
service's breach (``Measurement.monitoring``). An empty answer says whether its
metric exists (:mod:`.explain`); a vector's elements are named, so a verdict can
say which series breached. NaN elements follow :mod:`sloprobe.probes.prometheus.nan`.

Answers are read through the network layer: capped (decompressed) at
:data:`~sloprobe.probes.network.MAX_JSON_BYTES`, JSON depth bounded, and
redirects followed on the server's origin only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

from sloprobe.model.measurement import Reading, Sample, Series
from sloprobe.probes.base import ProbeCall
from sloprobe.probes.context import ProbeContext, authorization, learn_auth
from sloprobe.probes.network import (
    ACCEPT_ENCODING,
    MAX_JSON_BYTES,
    BodyError,
    Redirects,
    describe_error,
    fetch,
    parse_json,
    status_problem,
)
from sloprobe.probes.prometheus.nan import finite_elements, series_text
from sloprobe.probes.promql.explain import metric_names, no_samples_reason, windows
from sloprobe.probes.promql.spec import PromQLProbe, promql_series_units
from sloprobe.redact import redact_url

REASON_CHARS = 300  # a measure's reason stays one readable line
ERROR_CHARS = 200  # of Prometheus's own error text (a parse error can quote a whole query)


async def measure(call: ProbeCall[PromQLProbe]) -> Reading:
    return await read_promql(call.spec, call.context)


async def read_promql(spec: PromQLProbe, context: ProbeContext) -> Reading:
    samples: dict[str, list[Sample]] = {n: [] for n in spec.queries}
    labels: dict[str, tuple[str, ...]] = {}
    missing: dict[str, str] = {}
    details = {
        f"{n} window": ", ".join(found) + " (the query's range)"
        for n, q in spec.queries.items()
        if (found := windows(q.query))
    }
    failure = None
    learn_auth(spec.auth, context.redactor)  # the server's own secrets, masked everywhere
    redirects = context.redirects()
    headers = {
        "Accept-Encoding": ACCEPT_ENCODING,
        **redirects.offsite_headers,
        **spec.headers,
        **authorization(spec.auth),
    }
    step = f"PromQL GET {redact_url(spec.server)}/api/v1/query"
    try:
        async with httpx.AsyncClient(
            base_url=spec.server, timeout=spec.timeout, headers=headers
        ) as client:
            for query_name, query in spec.queries.items():
                document = await _ask(client, query.query, redirects)
                rejected = _rejection(document)
                if rejected is not None:
                    missing[query_name] = context.redactor(rejected)[:REASON_CHARS]
                    continue
                elements = _vector(document.get("data", {}), query.query)
                values, why = finite_elements(elements)
                if why is not None:
                    missing[query_name] = context.redactor(why)[:REASON_CHARS]
                elif not values:
                    reason = await _no_samples(client, query_name, query.query, redirects)
                    missing[query_name] = context.redactor(reason)[:REASON_CHARS]
                samples[query_name] = [query.unit.to_base(v) for v in values]
                named = [n for n, v in elements if not math.isnan(v)]
                if any(n != query.query for n in named):
                    labels[query_name] = tuple(named)
    except httpx.HTTPError as exc:
        failure = describe_error(exc, context.redactor, step)
    except (ValueError, RecursionError) as exc:
        failure = context.redactor(f"{step}: {exc}")[:300]
    units = promql_series_units(spec)
    return Reading(
        series={n: Series(n, units[n], tuple(s), labels.get(n, ())) for n, s in samples.items()},
        failure=failure,
        missing=missing,
        details=details,
        monitoring=True,  # the server asked is the monitoring stack, not the service
    )


async def _no_samples(
    client: httpx.AsyncClient, name: str, query: str, redirects: Redirects
) -> str:
    """Why ``query`` answered nothing: ``count()`` of each metric it names (not there at all,
    or there while the query selects none of it)."""
    counts: dict[str, int | None] = {}
    for metric in metric_names(query):
        if metric == query.strip():
            counts[metric] = 0  # the query is the metric: its empty answer says it all
            continue
        document = await _ask(client, f"count({metric})", redirects)
        if _rejection(document) is not None:
            counts[metric] = None
            continue
        found = _vector(document.get("data", {}), "")
        counts[metric] = int(found[0][1]) if found and not math.isnan(found[0][1]) else 0
    return no_samples_reason(name, counts)


async def _ask(client: httpx.AsyncClient, query: str, redirects: Redirects) -> dict[str, Any]:
    """Prometheus's JSON answer to one instant query; ValueError if the server gave none."""
    request = client.build_request("GET", "/api/v1/query", params={"query": query})
    answer = await fetch(client, request, max_bytes=MAX_JSON_BYTES, retries=0, redirects=redirects)
    if answer.not_followed is not None:
        raise ValueError(f"{status_problem(answer.status)}: {answer.not_followed}")
    return _document(answer.status, answer.body, answer.truncated)


def _rejection(document: Mapping[str, Any]) -> str | None:
    """Why Prometheus refused this query (its ``errorType`` and ``error``), or None if it answered.

    An answer that is neither a success nor a Prometheus error is not the API: ValueError.
    """
    if document.get("status") == "success":
        return None
    kind, error = document.get("errorType"), document.get("error")
    if document.get("status") != "error" or not isinstance(error, str):
        raise ValueError("the answer is not a Prometheus API answer (no `status: success`)")
    error = " ".join(error.split())
    if len(error) > ERROR_CHARS:
        error = error[: ERROR_CHARS - 1] + "…"
    return f"Prometheus rejected the query: {kind or 'error'}: {error}"


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


def _vector(data: Mapping[str, object], query: str) -> list[tuple[str, float]]:
    """Each element of the answer as (its series, as PromQL writes it; its value)."""
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list):
        return [(query, float(result[1]))]
    if not isinstance(result, list):
        return []
    elements = []
    for item in result:
        if isinstance(item, dict) and "value" in item:
            metric = item.get("metric")
            labels = {str(k): str(v) for k, v in metric.items()} if isinstance(metric, dict) else {}
            shown = series_text(labels.get("__name__", ""), labels) if labels else query
            elements.append((shown, float(item["value"][1])))
    return elements
