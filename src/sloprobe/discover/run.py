"""``sloprobe discover``: ask the service what it is, propose the ``slo.yaml`` that fits it.

The order: the OpenAPI document (else the well-known paths), latency samples
of the first health endpoint that answered, the Prometheus exposition, then
Redis and Flower when named. Every HTTP request goes through :class:`.Asker`
(GET only, bounded); the proposal is rendered and checked by the same loader
that ``sloprobe validate`` uses before anyone sees it.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from sloprobe.discover import thresholds as rules
from sloprobe.discover.asker import DEADLINE_S, MAX_REQUESTS, Asker
from sloprobe.discover.endpoints import Endpoint, http_proposals
from sloprobe.discover.jobs import job_proposal
from sloprobe.discover.model import (
    FOUND,
    NOT_ASKED,
    NOT_FOUND,
    REFUSED,
    Probe,
    Proposal,
    Slo,
    SourceReport,
    slug,
)
from sloprobe.discover.openapi import find_document, read_operations
from sloprobe.discover.prometheus_metrics import metrics_proposal
from sloprobe.discover.queues import queue_sources
from sloprobe.discover.render import render
from sloprobe.discover.submit import SOURCE as JOB_SOURCE
from sloprobe.discover.submit import submit_job
from sloprobe.discover.wellknown import read_well_known
from sloprobe.probes.context import make_context
from sloprobe.probes.http.measure import ABSENT
from sloprobe.redact import redact_url

if TYPE_CHECKING:
    from sloprobe.config.model import Target


@dataclass(frozen=True)
class DiscoverOptions:
    base_url: str
    target: Target
    auth: dict[str, Any] | None = None  # as written in the file: ${VAR}s, never the secrets
    variables: dict[str, str] = field(default_factory=dict)  # the auth's ${VAR}s, explained
    openapi: str | None = None
    metrics: str | None = None
    redis: str | None = None
    flower: str | None = None
    max_requests: int = MAX_REQUESTS
    deadline_s: float = DEADLINE_S
    submit_job: bool = False  # send one job (the only POST) to read its answers


@dataclass
class Discovery:
    proposal: Proposal
    text: str | None  # None: nothing to propose (``problem`` says why)
    requests: int
    seconds: float
    problem: str | None = None
    posts: int = 0  # the job of --submit-job, if it was sent


def discover(options: DiscoverOptions) -> Discovery:
    clock = time.monotonic()
    proposal, requests, posts = asyncio.run(_discover(options))
    text, problem = None, None
    if not proposal.live_slos():
        problem = "nothing to propose: no source gave a probe that can run as it is"
    else:
        text = render(proposal, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
        problem = check(text)
    return Discovery(proposal, text, requests, time.monotonic() - clock, problem, posts)


def check(text: str) -> str | None:
    """None if ``sloprobe validate`` accepts the text (without the variables), else why not."""
    from sloprobe.config import ConfigError, EnvPolicy, load_slo_file

    with tempfile.TemporaryDirectory(prefix="sloprobe-discover-") as folder:
        path = Path(folder) / "slo.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_slo_file(path, environ={}, env=EnvPolicy(lenient=True))
        except ConfigError as exc:
            return "the proposal does not validate (a bug of sloprobe discover):\n" + exc.render()
    return None


async def _discover(options: DiscoverOptions) -> tuple[Proposal, int, int]:
    context = make_context(options.base_url, options.target)
    proposal = Proposal(slug(httpx.URL(options.base_url).host, "service"), context.shown_base_url)
    proposal.auth = options.auth
    proposal.variables.update(options.variables)
    taken: set[str] = set()
    async with context.async_client() as client:
        asker = Asker(
            context, client, max_requests=options.max_requests, deadline_s=options.deadline_s
        )
        endpoints = await _http_sources(asker, options, proposal, taken)
        await _latency(asker, endpoints, proposal)
        probes, slos = http_proposals(endpoints, taken, asker.show)
        proposal.probes[:0], proposal.slos[:0] = probes, slos
        await _prometheus(asker, options, proposal, taken)
        await queue_sources(asker, options.redis, options.flower, proposal, taken)
        return proposal, asker.total, asker.posts


async def _http_sources(
    asker: Asker, options: DiscoverOptions, proposal: Proposal, taken: set[str]
) -> list[Endpoint]:
    report = SourceReport("openapi")
    proposal.reports.append(report)
    document = await find_document(asker, options.openapi, report)
    if document is not None:
        endpoints = await read_operations(asker, document, report)
        title = (document.get("info") or {}).get("title")
        if isinstance(title, str) and slug(title, ""):
            proposal.service = slug(title)
        probes, slos = job_proposal(document, taken, proposal.variables)
        proposal.probes += probes
        proposal.slos += slos
        report.requests = asker.sent("openapi")
        if options.submit_job:
            await _submit(asker, probes, slos, proposal)
        skipped = SourceReport("well-known paths", NOT_ASKED, "the OpenAPI document was found")
        proposal.reports.append(skipped)
        return endpoints
    report.requests = asker.sent("openapi")
    known = SourceReport("well-known paths")
    proposal.reports.append(known)
    if not asker.answered:  # refused, unresolvable or silent: asking 17 more paths tells nothing
        known.state, known.detail = NOT_ASKED, "the service answered no request"
        return []
    endpoints = await read_well_known(asker, known)
    known.requests = asker.sent("well-known paths")
    return endpoints


async def _submit(asker: Asker, probes: list[Probe], slos: list[Slo], proposal: Proposal) -> None:
    report = SourceReport(JOB_SOURCE)
    proposal.reports.append(report)
    if not probes:
        report.detail = "no submit and status operations in the OpenAPI document: nothing sent"
        return
    report.state, report.detail = await submit_job(asker, probes[0], slos, proposal, asker.show)
    report.requests = asker.sent(JOB_SOURCE)


async def _latency(asker: Asker, endpoints: list[Endpoint], proposal: Proposal) -> None:
    report = SourceReport("latency")
    proposal.reports.append(report)
    health = next((e for e in endpoints if e.health and e.answered), None)
    if health is None:
        report.detail = "no health endpoint answered"
        return
    for _ in range(rules.LATENCY_SAMPLES):
        seen = await asker.get("latency", health.path, fresh=True)
        if not seen.ok or seen.answer is None:
            report.state, report.detail = REFUSED, seen.said()
            health.latency = []
            return
        health.latency.append(seen.answer.latency_s)
    worst = max(health.latency)
    report.state, report.requests = FOUND, asker.sent("latency")
    report.detail = f"{len(health.latency)} GETs of {health.path}, slowest {rules.shown(worst)}"


async def _prometheus(
    asker: Asker, options: DiscoverOptions, proposal: Proposal, taken: set[str]
) -> None:
    report = SourceReport("prometheus")
    proposal.reports.append(report)
    path = options.metrics or "/metrics"
    seen = await asker.get("prometheus", path)
    report.requests = asker.sent("prometheus")
    report.saw(seen.said(), seen.state)
    if not seen.ok:
        report.state = NOT_FOUND if seen.state == NOT_FOUND else REFUSED
        report.detail = seen.said()
        return
    if seen.json() is not ABSENT:  # a JSON answer is read as an endpoint, not an exposition
        report.state = NOT_FOUND
        shown = f"GET {asker.show(redact_url(path))}"
        report.detail = f"{shown} answered JSON, not a Prometheus text exposition"
        return
    url: Any = path
    if "://" in path and redact_url(path) != path:
        from sloprobe.discover.model import Var

        url = Var("${METRICS_URL}")
        proposal.variables["METRICS_URL"] = "the --metrics URL, with its credentials"
    origin = f"GET {asker.show(redact_url(path))}"
    probes, slos, summary = metrics_proposal(seen.text(), url, origin, taken, asker.show)
    report.state = FOUND if probes else NOT_FOUND
    report.detail = f"{origin}: {summary}"
    proposal.probes += probes
    proposal.slos += slos
