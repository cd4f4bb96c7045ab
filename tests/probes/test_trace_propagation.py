"""One probe run is one trace, in the headers a backend reads: W3C always, Sentry's when it is on.

Read back from real servers: a scripted one that records each request's
headers, the reference job service (which reads ``traceparent`` as a traced
service does), and a FastAPI backend instrumented with the real sentry-sdk
whose transaction, decoded by the fake Sentry, must carry the probe's trace id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.demo.service import Faults, ServiceConfig, start_service
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.http.measure import run_http_probe
from sloprobe.probes.job.measure import run_job_probe
from sloprobe.probes.runner import run_probes
from sloprobe.probes.tracing import Trace, sentry_org_id
from tests.support.fake_sentry import FakeSentry, fake_sentry, parse_envelope
from tests.support.scripted_server import Answer, ScriptedServer, scripted_server

JOB: dict[str, Any] = {
    "setup": [{"path": "/assets", "json": {"name": "probe"}, "save": {"asset": "id"}}],
    "submit": {"path": "/jobs", "json": {"asset": "{asset}"}, "id": "job_id"},
    "status": {"path": "/jobs/{id}", "field": "state"},
    "poll": {"interval": "50ms", "max_interval": "50ms", "timeout": "5s"},
    "cleanup": [{"method": "DELETE", "path": "/jobs/{id}"}],
}


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _parent(headers: dict[str, str]) -> tuple[str, str, str, str]:
    version, trace_id, span_id, flags = _lower(headers)["traceparent"].split("-")
    return version, trace_id, span_id, flags


class _Polled(dict[str, Answer]):
    """Routes where the job answers `processing` to its first two polls, then `done`."""

    polls = 0

    def get(self, path: str, default: Any = None) -> Any:  # type: ignore[override]
        if path != "/jobs/7":
            return super().get(path, default)
        self.polls += 1
        return Answer(200, json.dumps({"state": "processing" if self.polls <= 2 else "done"}))


def _job_server(server: ScriptedServer) -> None:
    """/assets, /jobs, and a job that is processing for two polls, then done."""
    server.routes = _Polled(server.routes)
    server.routes["/assets"] = Answer(201, json.dumps({"id": "a-1"}))
    server.routes["/jobs"] = Answer(202, json.dumps({"job_id": 7}))


def _job(base_url: str, trace: Trace, job: dict[str, Any] = JOB, **target: Any) -> Measurement:
    spec = ProbeSpec.model_validate({"job": job}).body
    context = make_context(base_url, Target.model_validate(target))

    async def run() -> Measurement:
        async with context.async_client() as client:
            return await run_job_probe("job", spec, context, client, trace)  # type: ignore[arg-type]

    return asyncio.run(run())


def _http(base_url: str, trace: Trace, target: dict[str, Any] | None = None, **http: Any) -> None:
    spec = ProbeSpec.model_validate({"http": {"retries": 0, **http}}).body
    context = make_context(base_url, Target.model_validate(target or {}))

    async def run() -> None:
        async with context.async_client() as client:
            await run_http_probe("p", spec, context, client, trace)  # type: ignore[arg-type]

    asyncio.run(run())


def test_a_jobs_set_up_submit_polls_and_clean_up_are_one_trace(scripted: ScriptedServer) -> None:
    _job_server(scripted)
    spec = ProbeSpec.model_validate({"job": JOB})
    m = run_probes({"job": spec}, make_context(scripted.base_url, Target()), 1, 30.0)["job"]
    assert m.failure is None, m.failure
    paths = [path for _, path, _ in scripted.requests]
    assert paths[:2] == ["/assets", "/jobs"] and paths[-1] == "/jobs/7"
    assert paths.count("/jobs/7") == 4, paths  # three polls, and the clean-up
    sent = [_lower(headers) for _, _, headers in scripted.requests]
    parents = [_parent(h) for h in sent]
    assert {trace_id for _, trace_id, _, _ in parents} == {m.trace_id}
    assert all(version == "00" and flags == "01" for version, _, _, flags in parents)
    spans = [span for _, _, span, _ in parents]
    assert len(set(spans)) == len(spans)  # each request a span of its own
    assert all(h["x-synthetic"] == "true" for h in sent)  # the synthetic marker stays
    # The runner's Trace knows nothing of Sentry: W3C only.
    assert not any("sentry-trace" in h or "baggage" in h for h in sent)


@pytest.mark.parametrize("sentry", [False, True], ids=["sentry-off", "sentry-on"])
def test_sentry_headers_go_only_with_sentry_on(scripted: ScriptedServer, sentry: bool) -> None:
    _job_server(scripted)
    trace = Trace(sentry=sentry)
    m = _job(scripted.base_url, trace)
    assert m.failure is None, m.failure
    assert len(scripted.requests) == 6
    for _, _, headers in scripted.requests:
        got = _lower(headers)
        _, trace_id, span_id, _ = _parent(got)
        assert trace_id == trace.trace_id
        if not sentry:
            assert "sentry-trace" not in got and "baggage" not in got
            continue
        assert got["sentry-trace"] == f"{trace.trace_id}-{span_id}-1"  # the same span, sampled
        members = got["baggage"].split(",")
        assert f"sentry-trace_id={trace.trace_id}" in members
        assert "sentry-sampled=true" in members
        assert not any("public_key" in member for member in members)  # no DSN part leaves


def test_each_http_sample_is_a_span_of_one_trace(scripted: ScriptedServer) -> None:
    scripted.routes["/health"] = Answer(200, "{}")
    trace = Trace(sentry=True, sentry_org="4507")
    _http(scripted.base_url, trace, path="/health", samples=3, headers={"X-Own": "mine"})
    sent = [_lower(h) for _, _, h in scripted.requests]
    assert len(sent) == 3
    assert {_parent(h)[1] for h in sent} == {trace.trace_id}
    assert len({_parent(h)[2] for h in sent}) == 3
    assert all(h["x-own"] == "mine" and h["x-synthetic"] == "true" for h in sent)
    assert all("sentry-org_id=4507" in h["baggage"].split(",") for h in sent)


def test_configured_tracestate_passes_through_and_baggage_keeps_its_members(
    scripted: ScriptedServer,
) -> None:
    _job_server(scripted)
    fixed = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    trace = Trace(sentry=True)
    target = {
        "headers": {
            "tracestate": "acme=t61rcWkgMzE",
            "baggage": "tenant=blue, sentry-trace_id=" + "ee" * 16,
            "Traceparent": fixed,  # a fixed one would put every run into one trace
        }
    }
    job = {**JOB, "status": {**JOB["status"], "headers": {"traceparent": fixed}}}
    m = _job(scripted.base_url, trace, job, **target)
    assert m.failure is None, m.failure
    for _, _, headers in scripted.requests:
        got = _lower(headers)
        assert got["tracestate"] == "acme=t61rcWkgMzE"
        assert _parent(got)[1] == trace.trace_id
        members = got["baggage"].split(",")
        assert members[0] == "tenant=blue"
        assert f"sentry-trace_id={trace.trace_id}" in members
        assert "ee" * 16 not in got["baggage"]
    assert [k.lower() for k in scripted.requests[-2][2]].count("traceparent") == 1


def test_an_offsite_redirect_carries_traceparent_only_and_none_under_redirects_none(
    scripted: ScriptedServer,
) -> None:
    with scripted_server() as other:
        other.default = Answer(200, "{}")
        scripted.routes["/start"] = Answer(302, b"", headers={"Location": f"{other.base_url}/x"})
        trace = Trace(sentry=True)
        _http(scripted.base_url, trace, path="/start", redirects="any")
        [(_, _, offsite)] = other.requests
        got = _lower(offsite)
        assert _parent(got)[1] == trace.trace_id
        assert "sentry-trace" not in got and "baggage" not in got
        assert "sentry-trace" in _lower(scripted.requests[0][2])  # the target's origin had it
        _http(scripted.base_url, Trace(sentry=True), path="/start", redirects="none")
        assert len(other.requests) == 1  # nothing at all went there


def test_the_organisation_comes_from_the_dsn_host_only() -> None:
    assert sentry_org_id("https://k3y@o4507.ingest.us.sentry.io/12") == "4507"
    assert sentry_org_id("http://publickey@127.0.0.1:9000/42") is None
    assert sentry_org_id("not a dsn") is None


# -- the reference service reads the trace ---------------------------------------------------

DEMO_JOB = {
    "submit": {
        "path": "/jobs",
        "form": {"asset_id": "synthetic", "prompt": "probe"},
        "id": "job_id",
    },
    "status": {"path": "/jobs/{id}", "finished_at": "completed_at", "error": "error_message"},
    "poll": {"interval": "50ms", "max_interval": "100ms", "timeout": "5s"},
}


def test_the_reference_service_keeps_logs_and_returns_the_jobs_trace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sloprobe.demo.service")
    with start_service(ServiceConfig(faults=Faults(failure_rate=1.0))) as service:
        spec = ProbeSpec.model_validate({"job": DEMO_JOB})
        m = run_probes({"job": spec}, make_context(service.base_url, Target()), 1, 30.0)["job"]
        job_id = m.details["job"]
        logged = service.request_log
        answer = httpx.get(f"{service.base_url}/jobs/{job_id}").json()
        seen = httpx.get(f"{service.base_url}/traces/{m.trace_id}").json()
        unknown = httpx.get(f"{service.base_url}/traces/{'a' * 32}")
    assert m.failure is not None and f"job {job_id} ended failed" in m.failure
    assert answer["trace_id"] == m.trace_id  # the job's status answer returns it
    assert m.excerpt is not None and m.trace_id in m.excerpt  # as the probe's last poll read it
    assert {e.trace_id for e in logged if e.path.startswith("/jobs")} == {m.trace_id}
    # The service's own view of the trace (the demo's settings.traces.url): every request of
    # the probe under the span id its traceparent carried, and the job it submitted.
    assert len(seen["requests"]) >= 2 and seen["requests"][0]["method"] == "POST"
    sent = {span.span_id for span in m.spans if span.parent_span_id is not None}
    assert {r["parent_span_id"] for r in seen["requests"]} <= sent
    assert [j["job_id"] for j in seen["jobs"]] == [int(job_id)]
    assert unknown.status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "sloprobe.demo.service"]
    assert any(
        f"job {job_id} failed" in line and f"trace_id={m.trace_id}" in line for line in lines
    )


def test_the_reference_service_ignores_a_malformed_traceparent() -> None:
    with start_service(ServiceConfig()) as service:
        for bad in ("00-" + "0" * 32 + "-" + "1" * 16 + "-01", "garbage", "00-abc-def-01"):
            job = httpx.post(
                f"{service.base_url}/jobs",
                data={"asset_id": "a", "prompt": "p"},
                headers={"traceparent": bad},
            ).json()
            assert job["trace_id"] is None


# -- a backend instrumented with the real sentry-sdk -----------------------------------------


@pytest.fixture
def sentry_backend() -> Iterator[tuple[str, FakeSentry, list[dict[str, str]]]]:
    """A FastAPI app with sentry-sdk (FastAPI integration, every transaction sampled), served
    by uvicorn in a thread: (its URL, the fake Sentry it reports to, the headers it got)."""
    sentry_sdk = pytest.importorskip("sentry_sdk")
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    seen: list[dict[str, str]] = []
    with fake_sentry() as sentry:
        sentry_sdk.init(
            dsn=sentry.dsn,
            traces_sample_rate=1.0,
            # The backend's own SDK only: nothing that would instrument the probe's httpx client,
            # which runs in this process too (a real backend is another process).
            default_integrations=False,
            auto_enabling_integrations=False,
            integrations=[StarletteIntegration(), FastApiIntegration()],
        )
        app = FastAPI()

        @app.get("/work")
        def work(request: Request) -> dict[str, str]:
            seen.append(dict(request.headers))
            return {"ok": "yes"}

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            yield url, sentry, seen
        finally:
            server.should_exit = True
            thread.join(5)
            sock.close()
            sentry_sdk.get_client().close()  # flushes; then no client is left in this process
            sentry_sdk.get_global_scope().set_client(None)


def _transactions_sent(sentry: FakeSentry) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The backend's transactions, once it has sent one: its server span ends (and is captured)
    a moment after the answer reaches the probe, later still on a loaded machine."""
    import sentry_sdk

    deadline = time.monotonic() + 15
    while True:
        sentry_sdk.flush(2)
        found = _transactions(sentry)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _transactions(sentry: FakeSentry) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(envelope header, transaction) of every transaction the fake Sentry received."""
    found = []
    for raw in sentry.raw:
        header = json.loads(raw.partition(b"\n")[0])
        for item, payload in parse_envelope(raw):
            if item.get("type") == "transaction":
                found.append((header, json.loads(payload)))
    return found


def test_a_backend_with_sentry_sdk_joins_the_probes_trace(
    sentry_backend: tuple[str, FakeSentry, list[dict[str, str]]],
) -> None:

    url, sentry, seen = sentry_backend
    trace = Trace(sentry=True)
    _http(url, trace, path="/work")
    [(envelope, transaction)] = _transactions_sent(sentry)
    [headers] = seen
    _, _, span_id, _ = _parent(headers)
    assert headers["sentry-trace"] == f"{trace.trace_id}-{span_id}-1"  # ours, untouched
    context = transaction["contexts"]["trace"]
    assert context["trace_id"] == trace.trace_id
    assert context["parent_span_id"] == span_id  # the probe's request is its parent
    assert envelope["trace"]["trace_id"] == trace.trace_id
    assert str(envelope["trace"]["sampled"]).lower() == "true"


def test_without_sentry_headers_the_sentry_backend_starts_its_own_trace(
    sentry_backend: tuple[str, FakeSentry, list[dict[str, str]]],
) -> None:
    """Why Sentry's headers are sent when Sentry is on: sentry-sdk does not read traceparent."""

    url, sentry, _ = sentry_backend
    trace = Trace(sentry=False)
    _http(url, trace, path="/work")
    [(_, transaction)] = _transactions_sent(sentry)
    assert transaction["contexts"]["trace"]["trace_id"] != trace.trace_id


PY_SUITE = """\
version: 1
service: shop
probes:
  mine:
    python:
      values:
        ok: {unit: bool}
slos:
  mine-ok: {probe: mine, measure: ok, threshold: value == true}
"""

PY_PROBE = """
import pytest


@pytest.mark.probe("mine")
def test_mine(recorder, target):
    target.post("/jobs")
    target.get("/jobs/7")
    recorder.record("ok", False)
"""


def test_a_python_probes_requests_are_one_trace_kept_in_its_measurement(
    pytester: pytest.Pytester, scripted: ScriptedServer
) -> None:
    import json as _json

    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(200, '{"status": "failed"}')
    pytester.makefile(".yaml", slo=PY_SUITE)
    pytester.mkdir("probes")
    (pytester.path / "probes" / "test_mine.py").write_text(PY_PROBE)
    assert pytester.runpytest("--base-url", scripted.base_url, "slo.yaml", "probes").ret == 1
    parents = [h["traceparent"].split("-") for _, _, h in scripted.requests]
    assert len({p[1] for p in parents}) == 1 and len({p[2] for p in parents}) == 2
    data = _json.loads((pytester.path / "reports" / "results.json").read_text())
    assert data["measurements"]["mine"]["trace_id"] == parents[0][1]
    assert parents[0][1] in (pytester.path / "reports" / "report.html").read_text()
