"""Shapes discover had not met: a `true` flag, durations in milliseconds, a variable inside a path,
the health check format's pass and warn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.discover.support import discover, run_suite, validates
from tests.support.scripted_server import Answer, ScriptedServer


@pytest.mark.parametrize("flag", ["ready", "ok"])
def test_a_true_flag_is_proposed_as_a_boolean_and_runs_green(
    flag: str, scripted: ScriptedServer, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    scripted.routes["/health"] = Answer(200, json.dumps({flag: True, "checks": {"db": "up"}}))
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    spec = validates(tmp_path / "slo.yaml")
    values = spec.probes["health"].http.values  # type: ignore[union-attr]
    flags = [v for v in values.values() if v.json_path == flag]
    assert [v.unit.value for v in flags] == ["bool"]
    ret, verdicts = run_suite(pytester, tmp_path / "slo.yaml", scripted.base_url)
    assert ret == 0 and {v["status"] for v in verdicts.values()} == {"ok"}, verdicts


def test_a_duration_in_milliseconds_gets_a_bound_in_its_own_scale(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    """`response_time_ms: 12` is 12 ms (a 200 ms bound, the latency rule's floor), and
    `avg_processing_time_ms: 1500` is 1.5 s (a 30 s bound, the duration rule's floor), not
    12 s and 25 minutes."""
    answer = {"status": "ok", "response_time_ms": 12, "avg_processing_time_ms": 1500}
    scripted.routes["/health"] = Answer(200, json.dumps(answer))
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    data = yaml.safe_load((tmp_path / "slo.yaml").read_text())
    thresholds = {slo["measure"]: slo["threshold"] for slo in data["slos"].values()}
    assert thresholds["response-time-ms"] == "value < 200ms"
    assert thresholds["avg-processing-time-ms"] == "value < 30s"
    validates(tmp_path / "slo.yaml")


def test_a_variable_inside_a_longer_value_is_named_whole() -> None:
    """`${FLOWER_URL}/api/tasks` needs FLOWER_URL, not `FLOWER_URL}/api/task`."""
    from sloprobe.discover.model import Probe, Var

    options = {"url": Var("${FLOWER_URL}/api/tasks"), "query": {"limit": Var("${LIMIT}")}}
    probe = Probe("flower-failed", "http", options, "Failed tasks.", [], {}, [])
    assert probe.variables() == ["FLOWER_URL", "LIMIT"]


def test_the_health_check_formats_warn_is_up(
    scripted: ScriptedServer, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """`application/health+json` says pass, warn or fail: a proposal that held `pass` alone
    would breach on a service that warns and works."""
    health = {"Content-Type": "application/health+json"}
    scripted.routes["/health"] = Answer(200, '{"status": "pass"}', headers=health)
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    data = yaml.safe_load((tmp_path / "slo.yaml").read_text())
    assert data["slos"]["health-up"]["threshold"] == "value in [pass, warn]"
    scripted.routes["/health"] = Answer(200, '{"status": "warn"}', headers=health)
    ret, verdicts = run_suite(pytester, tmp_path / "slo.yaml", scripted.base_url)
    assert ret == 0 and verdicts["health-up"]["status"] == "ok", verdicts
