"""The Prometheus shape, judged as Prometheus judges it (issue 26).

examples/prometheus/slo.yaml runs unchanged against a Luneo-shaped exporter scraped
by a real Prometheus that evaluates the seed's three alert rules (tests/prometheus/
luneo.py). Each fault must be caught, named, and agree with the rule Prometheus
evaluates; a healthy backend, and one back to health after the rules' window, exit 0.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from sloprobe.config import load_slo_file
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.judge.over_time import judge_over_time, outcome_of
from sloprobe.model.history import RunOutcome
from sloprobe.model.measurement import Measurement
from sloprobe.model.status import Status
from tests.prometheus.luneo import (
    ENV,
    EXAMPLE,
    HEALTHY_WAITS,
    WINDOW_S,
    Luneo,
    State,
    active_alerts,
    breaches,
    run_example,
    settle,
)

# -- the example against the real thing ----------------------------------------------------


def test_a_healthy_backend_exits_0_with_no_5xx_in_the_window(
    luneo: tuple[Luneo, str], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, url = luneo
    backend.state = State(dict(HEALTHY_WAITS))
    settle(url, set())
    code, verdicts, out = run_example(pytester, monkeypatch, backend.url, url)
    assert code == 0, out
    assert {v["status"] for v in verdicts.values()} == {"ok"}
    assert verdicts["error-rate"]["observed"] == "value = 0%"
    # The details say which window each judged.
    results = json.loads((pytester.path / "reports" / "results.json").read_text())
    details = results["measurements"]["prometheus-server"]["details"]
    assert details["openai-p95 window"] == f"{WINDOW_S}s (the query's range)"
    listed = results["measurements"]["metrics"]["details"]["queue-wait-now series"]
    assert listed == '{queue="ai"} = 8s, {queue="render"} = 3s, {queue="video"} = 12s'


def test_one_queue_over_the_bound_is_caught_and_named_two_under_it_are_not(
    luneo: tuple[Luneo, str], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, url = luneo
    backend.state = State({"render": 37.0, "video": 42.0, "ai": 5.0})  # 79 s summed
    settle(url, set())
    code, verdicts, out = run_example(pytester, monkeypatch, backend.url, url)
    assert code == 0, out
    assert verdicts["queue-wait"]["observed"] == 'max = 42s at {queue="video"}'
    backend.state = State({"render": 3.0, "video": 94.0, "ai": 5.0})
    settle(url, {"QueueWaitTimeHigh"})
    [alert] = active_alerts(url)["QueueWaitTimeHigh"]
    code, verdicts, out = run_example(pytester, monkeypatch, backend.url, url)
    assert code == 1 and breaches(verdicts) == {"queue-wait"}, out
    assert verdicts["queue-wait"]["observed"] == f'max = 94s at {{queue="{alert["queue"]}"}}'
    assert 'max = 94s at {queue="video"}, expected max <= 60s' in out


def test_a_cost_spike_is_caught(
    luneo: tuple[Luneo, str], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, url = luneo
    backend.state = State(dict(HEALTHY_WAITS), cost=2500.0)
    settle(url, {"CostSpikeDetected"})
    code, verdicts, out = run_example(pytester, monkeypatch, backend.url, url)
    assert code == 1 and breaches(verdicts) == {"cost-spike"}, out
    assert verdicts["cost-spike"]["observed"] == "max = 2.5"


@pytest.mark.parametrize(
    ("fault", "alerts", "slow", "caught"),
    [
        pytest.param(
            State(dict(HEALTHY_WAITS), openai_s=25.0), set(), True, "openai-latency", id="openai"
        ),
        pytest.param(
            State(dict(HEALTHY_WAITS), error_every=20),
            {"ErrorRateHigh"},
            False,
            "error-rate",
            id="5xx",
        ),
    ],
)
def test_a_recent_fault_is_caught_and_recovery_exits_0_within_the_window(
    luneo: tuple[Luneo, str],
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    fault: State,
    alerts: set[str],
    slow: bool,
    caught: str,
) -> None:
    backend, url = luneo
    backend.state = State(dict(HEALTHY_WAITS))
    settle(url, set())
    backend.state = fault
    settle(url, alerts, openai_slow=slow)
    code, verdicts, out = run_example(pytester, monkeypatch, backend.url, url)
    assert code == 1 and breaches(verdicts) == {caught}, out
    assert verdicts[caught]["observed"].endswith("%" if caught == "error-rate" else "s")
    recovered = time.monotonic()
    backend.state = State(dict(HEALTHY_WAITS))
    settle(url, set())
    code, verdicts, out = run_example(pytester, monkeypatch, backend.url, url)
    assert code == 0, out
    # The window, plus a scrape and an evaluation, plus the run itself: never minutes.
    assert time.monotonic() - recovered < WINDOW_S + 15


def test_an_unreachable_prometheus_fails_the_run_but_is_not_the_services_breach(
    luneo: tuple[Luneo, str],
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    closed_port_url: str,
) -> None:
    backend, _ = luneo
    backend.state = State(dict(HEALTHY_WAITS))
    code, verdicts, out = run_example(pytester, monkeypatch, backend.url, closed_port_url)
    assert code == 1, out
    assert breaches(verdicts) == set()
    for slo in ("error-rate", "openai-latency"):  # `no_data: pass` or not: loud
        verdict = verdicts[slo]
        assert verdict["status"] == "no_data" and verdict["counts_as_bad"], verdict
        assert "connection refused" in verdict["reason"]
        assert "the monitoring stack failed, not the service" in verdict["uncounted"]
    assert verdicts["queue-wait"]["status"] == verdicts["cost-spike"]["status"] == "ok"


def test_a_monitoring_failure_counts_toward_no_budget_or_incident() -> None:
    environ = {**ENV, "PROMETHEUS_URL": "http://prometheus.example:9090"}
    spec = load_slo_file(EXAMPLE, environ=environ).spec
    rule = spec.slos["error-rate"]
    now = datetime.now(UTC)
    failed = "PromQL GET http://prometheus.example:9090/api/v1/query: connection refused"
    measured = Measurement("prometheus-server", "promql", now, 0.1, failure=failed)
    service = evaluate_slo("error-rate", rule, measured)
    assert service.status is Status.BREACH  # the service's own failure: its breach
    monitoring = evaluate_slo(
        "error-rate",
        rule,
        Measurement("prometheus-server", "promql", now, 0.1, failure=failed, monitoring=True),
    )
    assert monitoring.status is Status.NO_DATA and monitoring.counts_as_bad
    outcome = outcome_of(monitoring, rule, measured, now)
    assert not outcome.counted
    # This run neither lengthens the bad streak nor counts in the budget; a breach would.
    past = [RunOutcome(at=now - timedelta(minutes=5), bad=True, counted=True, total_events=1)]
    judged = judge_over_time(monitoring, rule, spec.settings, past, None, outcome, now)
    assert judged.history is not None and judged.history.incident.bad_streak == 1
    bad = outcome_of(service, rule, measured, now)
    assert bad.counted
    judged = judge_over_time(service, rule, spec.settings, past, None, bad, now)
    assert judged.history is not None and judged.history.incident.bad_streak == 2
