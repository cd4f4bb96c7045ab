"""Run the YAML probes a run needs: once each, concurrently (bounded), each within its deadline.

Every measuring module is imported, and every kind set up, before the event
loop starts, so no probe's latency sample carries another probe's imports.
Whatever happens inside a probe — the target failing, or a bug of ours —
ends as that probe's Measurement; the runner never raises.

A target with a ``login`` is logged into first; its token goes into every
request to the target and into the redactor. If the login fails, the probes
still run: only those the target then refuses (401/403) fail, and their
reason says the login failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import time
import traceback
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sloprobe.model.measurement import Measurement, Reading
from sloprobe.model.units import Dimension, format_base
from sloprobe.probes.base import Measurer, ProbeCall
from sloprobe.probes.context import ProbeContext
from sloprobe.probes.login import log_in
from sloprobe.probes.registry import KINDS
from sloprobe.probes.sanitize import register_spec_secrets, safe_measurement
from sloprobe.probes.tracing import Trace, sentry_org_id

if TYPE_CHECKING:  # the runner reads the specs' shape; it imports no config at run time
    from sloprobe.config.model import ProbeSpec

INTERNAL_ERROR = "internal error in probe"
TRACEBACK_DETAIL = "traceback"


class ProbeRun(dict[str, Measurement]):
    """The runner's output: a measurement per probe (it is that mapping), and what to warn about."""

    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []

    @property
    def measurements(self) -> dict[str, Measurement]:
        return self


def run_probes(
    probes: Mapping[str, ProbeSpec],
    context: ProbeContext,
    concurrency: int,
    default_deadline: float,
    deferred: Mapping[str, str] | None = None,
    sentry_dsn: str | None = None,
) -> ProbeRun:
    """Measure every probe in ``probes`` (``deferred`` ones are not due: name → why); never raises.

    ``sentry_dsn``: the run reports to Sentry, so its requests also carry Sentry's trace
    headers (a backend with sentry-sdk joins them to its own trace)."""
    outcome = ProbeRun()
    if not probes:
        return outcome
    deferred = deferred or {}
    for spec in probes.values():  # secrets a spec holds, even if its kind cannot load
        register_spec_secrets(spec.body, context.redactor)
    measurers: dict[str, Measurer] = {}
    unloadable: dict[str, str] = {}
    for name, spec in probes.items():
        if name in deferred or spec.kind in measurers or spec.kind in unloadable:
            continue
        try:
            measurers[spec.kind] = KINDS[spec.kind].load()
        except ImportError as exc:
            unloadable[spec.kind] = _missing_extra(spec.kind, exc)
    asyncio.run(
        _run_all(
            probes,
            context,
            concurrency,
            default_deadline,
            deferred,
            measurers,
            unloadable,
            outcome,
            Trace(sentry=bool(sentry_dsn), sentry_org=sentry_org_id(sentry_dsn)),
        )
    )
    for name, measurement in outcome.measurements.items():
        if TRACEBACK_DETAIL in measurement.details:
            outcome.warnings.append(
                f"{INTERNAL_ERROR} `{name}`: this is a bug in sloprobe; please report it with "
                "the traceback in the report's details"
            )
    return outcome


def _as_sent(spec: ProbeSpec) -> frozenset[str]:
    """Values whose spec opted out of credential patterns (``redact: false``)."""
    values = getattr(spec.body, "values", None)
    if not isinstance(values, Mapping):
        return frozenset()
    return frozenset(name for name, v in values.items() if getattr(v, "redact", True) is False)


def _missing_extra(kind: str, exc: ImportError) -> str:
    extra = KINDS[kind].extra
    hint = f"install the {extra} extra: pip install 'sloprobe[{extra}]'" if extra else str(exc)
    return f"`{kind}` probes cannot run: {hint}"


async def _run_all(
    probes: Mapping[str, ProbeSpec],
    context: ProbeContext,
    concurrency: int,
    default_deadline: float,
    deferred: Mapping[str, str],
    measurers: Mapping[str, Measurer],
    unloadable: Mapping[str, str],
    outcome: ProbeRun,
    tracing: Trace,
) -> None:
    gate = asyncio.Semaphore(concurrency)
    running = [n for n in probes if n not in deferred]
    timed = [n for n in running if KINDS[probes[n].kind].times_requests]
    untimed = [n for n in running if n not in timed]
    schedule = {
        **{n: _schedule("first", len(timed), len(untimed), concurrency) for n in timed},
        **{n: _schedule("then", len(untimed), len(timed), concurrency) for n in untimed},
    }
    async with context.async_client() as client:
        login_failure = None
        login = context.target.login
        if login is not None and any(KINDS[probes[n].kind].talks_to_target for n in running):
            login_failure = await log_in(client, login, context)
            if login_failure is not None:
                outcome.warnings.append(login_failure)

        finished = {n: asyncio.Event() for n in probes}

        async def one(name: str, spec: ProbeSpec) -> Measurement:
            try:
                for other in spec.after:  # `after: job`: this probe reads what that one did
                    if other in finished:
                        await finished[other].wait()
                return await measure(name, spec)
            finally:
                finished[name].set()

        async def measure(name: str, spec: ProbeSpec) -> Measurement:
            started = datetime.now(UTC)
            if name in deferred:
                return Measurement(
                    name, spec.kind, started, 0.0, skipped=deferred[name], deferred=True
                )
            measurer = measurers.get(spec.kind)
            if measurer is None:
                return Measurement(name, spec.kind, started, 0.0, failure=unloadable[spec.kind])
            kind = KINDS[spec.kind]
            deadline = spec.deadline or kind.default_deadline(spec.body, default_deadline)
            trace = Trace(sentry=tracing.sentry, sentry_org=tracing.sentry_org)
            call = ProbeCall(name, spec.body, context, client, trace)
            async with gate:
                # The probe's time starts with its slot: the wait for one is the runner's.
                started, clock = datetime.now(UTC), time.perf_counter()
                try:
                    reading = await asyncio.wait_for(measurer(call), deadline)
                except TimeoutError:
                    reading = Reading(
                        failure=f"did not finish within its deadline of {format_base(deadline, Dimension.TIME)}",
                        monitoring=kind.monitoring_stack,
                    )
                except Exception as exc:  # a bug of ours, or an input nobody foresaw
                    reading = internal_error(name, exc, context)
                measured = reading.measured(name, spec.kind, started, time.perf_counter() - clock)
            details = {**measured.details, "scheduled": schedule.get(name, "not run")}
            measured = dataclasses.replace(measured, details=details)
            if login_failure is not None and measured.failure and trace.auth_refused():
                measured = dataclasses.replace(
                    measured, failure=f"{measured.failure} ({login_failure})"
                )
            if kind.talks_to_target:
                spans = trace.spans_of(measured)  # the probe's span, its requests', a job's phases
                measured = dataclasses.replace(measured, trace_id=trace.trace_id, spans=spans)
            return measured

        # Probes that time requests run first, so no other probe's CPU work (parsing a scrape,
        # setting up a Redis or SQL client, polling a job) lands in their latency samples; one
        # that waits for another (`after`) runs with the rest.
        first = [n for n in probes if (n in timed and not _waits(probes, n)) or n in deferred]
        then = [n for n in probes if n not in first]
        with _no_gc_pauses():  # as timeit does: a collection is not the target's latency
            results = await asyncio.gather(*(one(n, probes[n]) for n in first))
        results += await asyncio.gather(*(one(n, probes[n]) for n in then))
    outcome.update(
        {m.probe: safe_measurement(m, context.redactor, _as_sent(probes[m.probe])) for m in results}
    )


@contextlib.contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Keep the collector out of the timed probes' samples (their garbage waits until after)."""
    enabled = gc.isenabled()
    gc.freeze()  # what exists now (modules, config) is never scanned again: no full collection
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _schedule(phase: str, here: int, other: int, concurrency: int) -> str:
    """How a probe was scheduled, for the report: timed probes first, then the others."""
    one = here == 2  # `other` is said once, and the group agrees with the count
    if phase == "first":
        group = "probe that times requests" if one else "probes that time requests"
    else:
        group = "probe" if one else "probes"
    text = f"{phase}, with {here - 1} other {group}" if here > 1 else f"{phase}, alone"
    if here > 1:
        text += f", at most {concurrency} at once"
    if phase == "first" and other:
        text += f"; {other} other probe(s) ran after, so their work never lands in these samples"
    if phase == "then" and other:
        text += f"; after {other} probe(s) that time requests"
    return text


def internal_error(name: str, exc: BaseException, context: Any) -> Reading:
    """A probe that raised: a failed reading saying so, with the (redacted) traceback."""
    redactor = context.redactor
    text = "".join(traceback.format_exception(exc))
    return Reading(
        failure=redactor(f"{INTERNAL_ERROR} {name}: {type(exc).__name__}: {exc}")[:500],
        details={TRACEBACK_DETAIL: redactor(text)[-8000:]},
    )


def _waits(probes: Mapping[str, ProbeSpec], name: str) -> bool:
    """Whether ``name`` waits for another probe of this run (`after:`)."""
    return any(other in probes and other != name for other in probes[name].after)
