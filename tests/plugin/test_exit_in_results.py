"""results.json says what the exit code says, and why, under every --exit-on."""

from __future__ import annotations

import json

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  health: {http: {path: /health}}
  queue: {http: {path: /queue, values: {depth: {json: depth, unit: count}}}}
slos:
  up: {probe: health, measure: status, threshold: value == 200}
  depth: {probe: queue, measure: depth, threshold: value < 10}
"""


def _exit(pytester: pytest.Pytester) -> dict[str, object]:
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    exit_block: dict[str, object] = data["exit"]
    return exit_block


@pytest.mark.parametrize(
    ("mode", "code", "reason"),
    [
        ("breach", 1, "1 SLO breached: depth"),
        ("incident", 0, "no incident is open"),
    ],
)
def test_the_results_carry_the_exit_code_and_its_reason(
    pytester: pytest.Pytester, scripted: ScriptedServer, mode: str, code: int, reason: str
) -> None:
    scripted.routes["/health"] = Answer(200, "{}")
    scripted.routes["/queue"] = Answer(200, '{"depth": 50}')
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--base-url", scripted.base_url, "--exit-on", mode)
    assert result.ret == code
    assert _exit(pytester) == {"code": code, "exit_on": mode, "reason": reason}
    data = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert data["status"] == "breach"  # this run's verdicts, beside the exit code and its why


def test_an_outage_fails_an_incident_run_and_says_why(
    pytester: pytest.Pytester, closed_port_url: str
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--base-url", closed_port_url, "--exit-on", "incident")
    assert result.ret == 1
    assert _exit(pytester) == {
        "code": 1,
        "exit_on": "incident",
        "reason": "every SLO breached (2 of 2)",
    }
