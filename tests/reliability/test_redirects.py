"""Redirects stay on the origin unless a probe opts in; credentials never follow to another origin.

Two real loopback servers: A is the target, B another origin (another port).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.http.measure import shown_request
from sloprobe.probes.python.client import TargetClient
from sloprobe.probes.runner import run_probes
from tests.support.scripted_server import Answer, ScriptedServer, scripted_server

API_KEY = "k3y-0f-the-api-1234"
TEAM = "team-payments"
BEARER = "b3arer-t0ken-5678"
COOKIE = "session=c00kie-9012"
CONFIGURED = ("x-api-key", "x-team", "authorization", "cookie")


@pytest.fixture
def other() -> Iterator[ScriptedServer]:
    """Server B: another origin (same host, another port)."""
    with scripted_server() as server:
        server.default = Answer(200, '{"where": "B"}')
        yield server


def _target() -> Target:
    return Target.model_validate(
        {
            "timeout": 2.0,
            "headers": {"X-Api-Key": API_KEY, "X-Team": TEAM, "Cookie": COOKIE},
            "auth": {"bearer": BEARER},
        }
    )


def _redirect(location: str, status: int = 302) -> Answer:
    return Answer(status, b"", headers={"Location": location})


def _http(server: ScriptedServer, **http: object) -> Measurement:
    spec = ProbeSpec.model_validate({"http": {"retries": 0, **http}})
    return run_probes({"p": spec}, make_context(server.base_url, _target()), 1, 10.0)["p"]


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_an_offsite_redirect_is_not_followed_by_default(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    scripted.routes["/start"] = _redirect(f"{other.base_url}/landing?token=s3cr3t-in-query&x=1")
    m = _http(scripted, path="/start")
    assert other.requests == []  # B never hears of the probe
    assert m.failure == (
        f"GET {scripted.base_url}/start: HTTP 302, expected 2xx: redirected to "
        f"{other.base_url}/landing?token=***&x=1 (another origin; set redirects: any to follow)"
    )
    assert m.series["ok"].samples == (False,)
    assert m.details["redirects"] == (
        f"GET {scripted.base_url}/start → 302 → {other.base_url}/landing?token=***&x=1"
    )
    assert "s3cr3t-in-query" not in repr(m)


def test_an_offsite_redirect_is_not_followed_with_a_3xx_expected_either(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    scripted.routes["/start"] = _redirect(f"{other.base_url}/landing", status=307)
    m = _http(scripted, path="/start", expect={"status": [307]})
    assert m.failure is None
    assert other.requests == []
    assert m.series["status"].samples == (307.0,)


def test_any_follows_offsite_with_no_configured_header_auth_or_cookie(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    scripted.routes["/start"] = _redirect("/next")  # same origin first: headers go along
    scripted.routes["/next"] = _redirect(f"{other.base_url}/landing")
    m = _http(scripted, path="/start", redirects="any", headers={"X-Probe-Own": "mine"})
    assert m.failure is None, m.failure
    assert m.series["status"].samples == (200.0,)
    assert [path for _, path, _ in scripted.requests] == ["/start", "/next"]
    for _, _, sent in scripted.requests:  # A, both hops: everything configured
        got = _lower(sent)
        assert got["x-api-key"] == API_KEY
        assert got["x-team"] == TEAM
        assert got["authorization"] == f"Bearer {BEARER}"
        assert got["cookie"] == COOKIE
        assert got["x-probe-own"] == "mine"
    assert len(other.requests) == 1
    method, path, sent = other.requests[0]
    got = _lower(sent)
    assert (method, path) == ("GET", "/landing")
    for name in (*CONFIGURED, "x-probe-own"):
        assert name not in got, f"{name} followed the redirect to another origin"
    assert not any(API_KEY in v or BEARER in v or "c00kie" in v for v in got.values())
    assert got["user-agent"].startswith("sloprobe/")
    assert got["x-synthetic"] == "true"
    assert got["traceparent"] == _lower(scripted.requests[0][2])["traceparent"]
    assert m.details["redirects"] == (
        f"GET {scripted.base_url}/start → 302 → GET {scripted.base_url}/next → 302 → "
        f"GET {other.base_url}/landing → 200"
    )


def test_any_resends_a_307_body_offsite_without_the_credentials(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    scripted.routes["/submit"] = _redirect(f"{other.base_url}/elsewhere", status=307)
    m = _http(scripted, path="/submit", method="POST", json={"n": 1}, redirects="any")
    assert m.failure is None, m.failure
    method, path, sent = other.requests[0]
    assert (method, path) == ("POST", "/elsewhere")
    assert other.bodies == [b'{"n":1}']
    assert _lower(sent)["content-type"] == "application/json"
    assert not set(CONFIGURED) & set(_lower(sent))


def test_same_origin_redirects_are_followed_with_the_headers_by_default(
    scripted: ScriptedServer,
) -> None:
    scripted.routes["/old"] = _redirect("/new", status=301)
    scripted.routes["/new"] = Answer(200, '{"depth": 3}')
    m = _http(scripted, path="/old", values={"depth": {"json": "depth"}})
    assert m.failure is None
    assert m.series["depth"].samples == (3.0,)
    got = _lower(scripted.requests[1][2])
    assert scripted.requests[1][1] == "/new"
    assert got["x-api-key"] == API_KEY and got["authorization"] == f"Bearer {BEARER}"
    assert m.details["redirects"] == (
        f"GET {scripted.base_url}/old → 301 → GET {scripted.base_url}/new → 200"
    )


def test_none_follows_nothing(scripted: ScriptedServer) -> None:
    scripted.routes["/old"] = _redirect("/new")
    scripted.routes["/new"] = Answer(200, "{}")
    m = _http(scripted, path="/old", redirects="none")
    assert [path for _, path, _ in scripted.requests] == ["/old"]
    assert m.failure == (
        f"GET {scripted.base_url}/old: HTTP 302, expected 2xx: redirected to "
        f"{scripted.base_url}/new (not followed: redirects: none)"
    )


def test_a_redirect_loop_on_the_origin_stops_after_ten_hops(scripted: ScriptedServer) -> None:
    scripted.routes["/loop"] = _redirect("/loop")
    m = _http(scripted, path="/loop")
    assert m.failure == f"GET {scripted.base_url}/loop: too many redirects"
    assert len(scripted.requests) == 11  # the request and ten redirects followed


def _job(server: ScriptedServer, **job: object) -> Measurement:
    poll = {"interval": "50ms", "max_interval": "50ms", "timeout": "5s"}
    spec = ProbeSpec.model_validate({"job": {"poll": poll, **job}})
    return run_probes({"job": spec}, make_context(server.base_url, _target()), 1, 30.0)["job"]


def test_a_job_status_redirected_offsite_fails_at_once_and_sends_nothing_there(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = _redirect(f"{other.base_url}/status/7")
    clock = time.perf_counter()
    m = _job(scripted, submit={"path": "/jobs"}, status={"path": "/jobs/{id}"})
    assert time.perf_counter() - clock < 2  # not the 5 s poll timeout
    assert other.requests == []
    assert m.failure == (
        f"status: GET {scripted.base_url}/jobs/7: HTTP 302: redirected to "
        f"{other.base_url}/status/7 (another origin; set redirects: any to follow)"
    )


def test_a_job_with_redirects_any_polls_offsite_without_credentials(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = _redirect(f"{other.base_url}/status/7")
    other.routes["/status/7"] = Answer(200, '{"status": "succeeded"}')
    m = _job(scripted, submit={"path": "/jobs"}, status={"path": "/jobs/{id}"}, redirects="any")
    assert m.failure is None, m.failure
    assert m.series["succeeded"].samples == (True,)
    assert other.requests and all(
        not set(CONFIGURED) & set(_lower(sent)) for _, _, sent in other.requests
    )
    assert m.details["redirects (status)"] == (
        f"GET {scripted.base_url}/jobs/7 → 302 → GET {other.base_url}/status/7 → 200"
    )


def test_the_python_probe_client_stays_on_the_origin(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    scripted.routes["/old"] = _redirect("/new")
    scripted.routes["/new"] = Answer(200, '{"ok": true}')
    scripted.routes["/away"] = _redirect(f"{other.base_url}/landing")
    with TargetClient(make_context(scripted.base_url, _target())) as client:
        same = client.get("/old")
        away = client.get("/away")
    assert same.status_code == 200 and [r.status_code for r in same.history] == [302]
    assert _lower(scripted.requests[1][2])["x-api-key"] == API_KEY
    assert away.status_code == 302
    assert other.requests == []
    assert away.next_request is not None  # a probe may follow on purpose: bare, no credentials
    assert str(away.next_request.url) == f"{other.base_url}/landing"
    assert not set(CONFIGURED) & {k.lower() for k in away.next_request.headers}


def test_the_python_probe_client_keeps_the_targets_headers_to_the_target(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    """`target.get("http://flower/...")` in a Python probe: the target's auth stays home."""
    scripted.routes["/health"] = Answer(200, "{}")
    with TargetClient(make_context(scripted.base_url, _target())) as client:
        home = client.get("/health")
        away = client.get(f"{other.base_url}/api/workers", headers={"X-Probe-Own": "mine"})
    assert home.status_code == away.status_code == 200
    assert _lower(scripted.requests[0][2])["authorization"] == f"Bearer {BEARER}"
    [(_, _, sent)] = other.requests
    got = _lower(sent)
    assert got["x-probe-own"] == "mine"
    for name in CONFIGURED:
        assert name not in got, f"the target's {name} went to another origin"
    assert got["user-agent"].startswith("sloprobe/")


def test_a_probe_naming_another_origin_sends_it_only_its_own_headers(
    scripted: ScriptedServer, other: ScriptedServer
) -> None:
    """Flower beside the API: `path: http://flower/...` gets the probe's headers, not the target's."""
    m = _http(
        scripted, path=f"{other.base_url}/api/workers", headers={"Authorization": "Basic Zmw6b3c="}
    )
    assert m.failure is None, m.failure
    assert scripted.requests == []
    [(method, path, sent)] = other.requests
    got = _lower(sent)
    assert (method, path) == ("GET", "/api/workers")
    assert got["authorization"] == "Basic Zmw6b3c="  # the probe's own
    for name in ("x-api-key", "x-team", "cookie"):
        assert name not in got, f"the target's {name} went to another origin"
    assert not any(API_KEY in v or BEARER in v or "c00kie" in v for v in got.values())
    assert got["user-agent"].startswith("sloprobe/")
    shown = shown_request(
        ProbeSpec.model_validate({"http": {"path": f"{other.base_url}/api/workers"}}).body,
        make_context(scripted.base_url, _target()),
    )
    assert shown == f"GET {other.base_url}/api/workers"  # not glued to the target's base URL


@pytest.mark.parametrize("kind", ["prometheus", "promql"])
def test_a_prometheus_server_elsewhere_never_gets_the_targets_token(
    scripted: ScriptedServer, other: ScriptedServer, kind: str
) -> None:
    other.default = Answer(
        200,
        '{"status": "success", "data": {"resultType": "vector", "result": []}}'
        if kind == "promql"
        else "# TYPE up gauge\nup 1\n",
        headers={"Content-Type": "application/json" if kind == "promql" else "text/plain"},
    )
    body: dict[str, object] = (
        {"server": other.base_url, "queries": {"up": {"query": "up"}}}
        if kind == "promql"
        else {"url": f"{other.base_url}/metrics", "metrics": {"up": {"name": "up"}}}
    )
    spec = ProbeSpec.model_validate({kind: body})
    run_probes({"p": spec}, make_context(scripted.base_url, _target()), 1, 10.0)
    assert other.requests, "the probe never reached the Prometheus server"
    for _, _, sent in other.requests:
        got = _lower(sent)
        assert not any(API_KEY in v or BEARER in v or "c00kie" in v for v in got.values())
