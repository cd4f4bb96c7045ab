"""A managed Prometheus behind auth (Grafana Cloud, Mimir, Thanos): the promql probe sends the
server's own auth and headers, never the target's, and masks them everywhere."""

from __future__ import annotations

import base64

from sloprobe.config.model import Auth, ProbeSpec, Target
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes
from tests.support.scripted_server import Answer, ScriptedServer

VECTOR = '{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "3"]}]}}'


def test_the_servers_own_auth_and_headers_are_sent_and_masked(scripted: ScriptedServer) -> None:
    scripted.routes["/api/v1/query"] = Answer(200, VECTOR)
    spec = ProbeSpec.model_validate(
        {
            "promql": {
                "server": scripted.base_url,
                "headers": {"X-Scope-OrgID": "tenant-1"},
                "auth": {"basic": {"username": "12345", "password": "glc-prom-secret-99"}},
                "queries": {"depth": {"query": "queue_depth"}},
            }
        }
    )
    target = Target(auth=Auth.model_validate({"bearer": "target-token-should-stay-home"}))
    measured = run_probes({"p": spec}, make_context("http://127.0.0.1:9", target), 1, 10.0)["p"]
    assert measured.failure is None and measured.series["depth"].samples == (3.0,)
    [(_, _, headers)] = scripted.requests
    pair = base64.b64encode(b"12345:glc-prom-secret-99").decode()
    assert headers["Authorization"] == f"Basic {pair}"
    assert headers["X-Scope-OrgID"] == "tenant-1"
    assert "target-token-should-stay-home" not in str(headers)
