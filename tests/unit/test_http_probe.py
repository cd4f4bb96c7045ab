"""The HTTP probe against a real local server: answers become data, failures are data too."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.support.scripted_server import Answer, ScriptedServer

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.http.spec import HttpProbe
from sloprobe.probes.runner import run_probes


def probe(base_url: str, target: Target | None = None, **http: object) -> Measurement:
    spec = ProbeSpec(http=HttpProbe.model_validate(http))
    context = make_context(base_url, target or Target(timeout=2.0))
    return run_probes({"p": spec}, context, concurrency=4, default_deadline=10.0)["p"]


def test_values_are_read_from_a_503_json_body(scripted: ScriptedServer) -> None:
    body = {
        "status": "unhealthy",
        "checks": {"queue": {"counts": {"waiting": 7}}},
        "rate": 93.33,
        "ms": 25000,
    }
    scripted.routes["/health"] = Answer(503, json.dumps(body))
    m = probe(
        scripted.base_url,
        path="/health",
        expect={"status": ["2xx", 503]},
        values={
            "state": {"json": "status"},
            "waiting": {"json": "checks.queue.counts.waiting", "unit": "count"},
            "rate": {"json": "rate", "unit": "%"},
            "gen": {"json": "ms", "unit": "ms"},
        },
    )
    assert m.failure is None
    assert m.series["state"].samples == ("unhealthy",)
    assert m.series["waiting"].samples == (7.0,)
    assert m.series["rate"].samples == (pytest.approx(0.9333),)
    assert m.series["gen"].samples == (25.0,)
    assert m.series["status"].samples == (503.0,)


def test_unexpected_status_is_a_failure_with_reason(scripted: ScriptedServer) -> None:
    m = probe(scripted.base_url, path="/nowhere")
    assert m.failure == f"GET {scripted.base_url}/nowhere: HTTP 404, expected 2xx"
    assert m.series["ok"].samples == (False,)


def test_samples_and_latency(scripted: ScriptedServer) -> None:
    scripted.routes["/health"] = Answer(200, "{}", delay_s=0.05)
    m = probe(scripted.base_url, path="/health", samples=4)
    assert len(m.series["latency"].samples) == 4
    assert all(isinstance(s, float) and s >= 0.05 for s in m.series["latency"].samples)
    assert len(scripted.requests) == 4


def test_connection_refused_is_retried_visibly_then_fails(closed_port_url: str) -> None:
    m = probe(closed_port_url, path="/health", retries=2)
    assert m.failure is not None and m.failure.endswith(": connection refused")
    assert m.attempts == 3
    assert m.retries == 2


def test_answers_are_not_retried(scripted: ScriptedServer) -> None:
    scripted.routes["/health"] = Answer(500, "{}")
    m = probe(scripted.base_url, path="/health", retries=3)
    assert m.failure is not None and "500" in m.failure
    assert len(scripted.requests) == 1
    assert m.retries == 0


def test_timeout_is_a_failure(scripted: ScriptedServer) -> None:
    scripted.routes["/slow"] = Answer(200, "{}", delay_s=1.0)
    m = probe(scripted.base_url, path="/slow", timeout="200ms")
    assert m.failure is not None and m.failure.endswith(": read timeout")


def test_deadline_bounds_the_whole_probe(scripted: ScriptedServer) -> None:
    scripted.routes["/slow"] = Answer(200, "{}", delay_s=0.4)
    spec = ProbeSpec(deadline=0.5, http=HttpProbe(path="/slow", samples=5))
    m = run_probes({"p": spec}, make_context(scripted.base_url, Target()), 2, 60.0)["p"]
    assert m.failure is not None and "deadline of 500ms" in m.failure


def test_body_is_capped(scripted: ScriptedServer) -> None:
    scripted.routes["/big"] = Answer(200, b"x" * 5_000_000, headers={"Content-Type": "text/plain"})
    m = probe(scripted.base_url, path="/big", max_body_bytes=4096)
    assert m.failure == (
        f"GET {scripted.base_url}/big: body too large (over 4096 bytes, `max_body_bytes`)"
    )
    assert m.series["ok"].samples == (False,)
    assert m.excerpt is not None and len(m.excerpt) <= 500


def test_missing_field_is_no_data_reason_and_default_applies(scripted: ScriptedServer) -> None:
    scripted.routes["/stats"] = Answer(200, '{"success_rate": null}')
    m = probe(
        scripted.base_url,
        path="/stats",
        values={
            "rate": {"json": "success_rate", "unit": "%"},
            "depth": {"json": "depth", "unit": "count", "default": 0},
        },
    )
    assert m.missing["rate"] == "field `success_rate` is null in the answer"
    assert m.series["rate"].samples == ()
    assert m.series["depth"].samples == (0.0,)


def test_secrets_never_reach_the_measurement(scripted: ScriptedServer) -> None:
    secret = "s3cr3t-token-value"
    scripted.routes["/echo"] = Answer(500, json.dumps({"error": f"bad token {secret}"}))
    target = Target.model_validate({"auth": {"bearer": secret}})
    m = probe(scripted.base_url, target, path="/echo")
    assert scripted.requests[0][2]["Authorization"] == f"Bearer {secret}"
    assert scripted.requests[0][2]["X-Synthetic"] == "true"
    text = repr(m)
    assert secret not in text
    assert "***" in (m.excerpt or "")


def test_probes_run_concurrently(scripted: ScriptedServer) -> None:
    scripted.routes["/slow"] = Answer(200, "{}", delay_s=0.3)
    specs = {f"p{i}": ProbeSpec(http=HttpProbe(path="/slow")) for i in range(4)}
    loop = asyncio.new_event_loop()
    start = loop.time()
    results = run_probes(specs, make_context(scripted.base_url, Target()), 4, 10.0)
    elapsed = loop.time() - start
    loop.close()
    assert set(results) == set(specs)
    assert all(m.failure is None for m in results.values())
    assert elapsed < 1.2  # four 0.3 s requests in one go, not 1.2 s one after another


def test_a_quoted_key_keeps_its_dots_and_count_counts_matching_values(
    scripted: ScriptedServer,
) -> None:
    # Flower's /api/workers?status=1: worker hostnames (with dots) → alive or not
    scripted.routes["/api/workers"] = Answer(
        200,
        '{"celery@w1.example.com": true, "celery@w2.example.com": false, '
        '"celery@w3.example.com": true, "stats": {"celery@w1.example.com": {"pool": 4}}}',
    )
    m = probe(
        scripted.base_url,
        path="/api/workers",
        values={
            "alive": {"json": ".", "count": True, "unit": "count"},
            "pool": {"json": 'stats."celery@w1.example.com".pool', "unit": "count"},
        },
    )
    assert m.series["alive"].samples == (2.0,)
    assert m.series["pool"].samples == (4.0,)
