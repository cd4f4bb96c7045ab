"""Run the YAML probes a run needs: once each, concurrently (bounded), each within its deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx

from sloprobe.config.model import ProbeSpec
from sloprobe.measure import Measurement
from sloprobe.probes.context import ProbeContext
from sloprobe.probes.http import run_http_probe
from sloprobe.units import Dimension, format_base


def run_probes(
    probes: Mapping[str, ProbeSpec],
    context: ProbeContext,
    concurrency: int,
    default_deadline: float,
) -> dict[str, Measurement]:
    """Measure every probe in ``probes``; never raises for a target's failure."""
    if not probes:
        return {}
    return asyncio.run(_run_all(probes, context, concurrency, default_deadline))


async def _run_all(
    probes: Mapping[str, ProbeSpec],
    context: ProbeContext,
    concurrency: int,
    default_deadline: float,
) -> dict[str, Measurement]:
    gate = asyncio.Semaphore(concurrency)
    async with context.async_client() as client:

        async def one(name: str, spec: ProbeSpec) -> Measurement:
            async with gate:
                deadline = spec.deadline or default_deadline
                started, clock = datetime.now(UTC), time.perf_counter()
                try:
                    return await asyncio.wait_for(_measure(name, spec, context, client), deadline)
                except TimeoutError:
                    return Measurement(
                        probe=name,
                        kind=spec.kind,
                        started_at=started,
                        duration_s=time.perf_counter() - clock,
                        failure=f"did not finish within its deadline of {format_base(deadline, Dimension.TIME)}",
                    )

        results = await asyncio.gather(*(one(n, s) for n, s in probes.items()))
    return {m.probe: m for m in results}


async def _measure(
    name: str, spec: ProbeSpec, context: ProbeContext, client: httpx.AsyncClient
) -> Measurement:
    if spec.http is not None:
        return await run_http_probe(name, spec.http, context, client)
    if spec.redis is not None:
        from sloprobe.probes.redis_queue import run_redis_queue_probe

        return await run_redis_queue_probe(name, spec.redis, context.redactor)
    raise ValueError(f"probe `{name}` of kind `{spec.kind}` is not run by the YAML runner")
