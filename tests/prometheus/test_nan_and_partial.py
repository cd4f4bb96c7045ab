"""NaN is no data in every kind, ±Inf is a value, and one rejected PromQL query fails only itself.

Real servers only: a scripted /metrics exposition for the scrape kind, and a
real Prometheus (the fixture of test_real_prometheus.py) for the PromQL kind.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from sloprobe.config.model import Auth, ProbeSpec, SloSpec, Target
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.status import Status
from sloprobe.model.units import Unit
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes
from tests.prometheus.test_real_prometheus import A, Exposition, query
from tests.prometheus.test_real_prometheus import prometheus as real_prometheus  # noqa: F401
from tests.support.scripted_server import Answer, ScriptedServer

NAN_WHY = "is NaN (0/0 or no observations)"

EXTRA = """\
# TYPE backlog_ratio gauge
backlog_ratio{queue="a"} NaN
backlog_ratio{queue="b"} 0.25
# TYPE oldest_seconds gauge
oldest_seconds +Inf
# TYPE bytes_in counter
bytes_in_total +Inf
# TYPE bytes_all counter
bytes_all_total +Inf
"""


def judge(measurement: Measurement, measure: str, threshold: str) -> tuple[Status, str, str]:
    spec = SloSpec(probe=measurement.probe, measure=measure, threshold=(threshold,))
    verdict = evaluate_slo(measure, spec, measurement)
    return verdict.status, verdict.observed, verdict.reason


# -- the scrape kind (`prometheus`) ------------------------------------------------------------


def scrape(server: ScriptedServer) -> Measurement:
    server.routes["/metrics"] = Answer(200, A + EXTRA, {"Content-Type": "text/plain"})
    metrics = {
        "backlog-a": {"name": "backlog_ratio", "labels": {"queue": "a"}},
        "backlog-b": {"name": "backlog_ratio", "labels": {"queue": "b"}},
        "backlog": {"name": "backlog_ratio"},
        "oldest": {"name": "oldest_seconds", "unit": "s"},
        "share": {
            "kind": "ratio",
            "numerator": {"name": "bytes_in_total"},
            "denominator": {"name": "bytes_all_total"},
            "unit": "ratio",
        },
    }
    specs = {"scrape": ProbeSpec.model_validate({"prometheus": {"metrics": metrics}})}
    return run_probes(specs, make_context(server.base_url, Target()), 1, 30.0)["scrape"]


def test_a_nan_gauge_is_no_data_naming_its_series_not_a_breach(scripted: ScriptedServer) -> None:
    measured = scrape(scripted)
    assert measured.failure is None
    status, observed, reason = judge(measured, "backlog-a", "value < 0.5")
    assert (status, observed) == (Status.NO_DATA, "no data")
    assert reason == f'`backlog_ratio{{queue="a"}}` {NAN_WHY}'
    assert judge(measured, "backlog-b", "value < 0.5")[0] is Status.OK


def test_a_sum_over_a_nan_series_is_no_data_as_promql_sum_is_nan(scripted: ScriptedServer) -> None:
    status, _, reason = judge(scrape(scripted), "backlog", "value < 0.5")
    assert status is Status.NO_DATA
    assert f'`backlog_ratio{{queue="a"}}` {NAN_WHY}' in reason


def test_inf_over_inf_ratio_is_no_data_not_value_nan(scripted: ScriptedServer) -> None:
    status, observed, reason = judge(scrape(scripted), "share", "value < 1%")
    assert (status, observed) == (Status.NO_DATA, "no data")
    assert "is NaN (+Inf / +Inf)" in reason and "bytes_in_total" in reason


def test_inf_is_a_real_value_and_breaches(scripted: ScriptedServer) -> None:
    measured = scrape(scripted)
    assert measured.series["oldest"].samples == (math.inf,)
    status, _, reason = judge(measured, "oldest", "value < 30s")
    assert status is Status.BREACH and "expected value < 30s" in reason


# -- the judge: the same rule for every kind --------------------------------------------------


def http_measurement(*samples: float) -> Measurement:
    series = {"rate": Series("rate", Unit.NONE, samples)}
    return Measurement("p", "http", datetime.now(UTC), 0.1, series=series)


def test_the_judge_takes_nan_for_no_data_in_any_kind() -> None:
    status, _, reason = judge(http_measurement(math.nan), "rate", "value < 1")
    assert status is Status.NO_DATA
    assert reason == f"`rate` {NAN_WHY}"


def test_the_judge_leaves_nan_samples_out_and_judges_the_others() -> None:
    spec = SloSpec(probe="p", measure="rate", threshold=("max < 1",))
    verdict = evaluate_slo("r", spec, http_measurement(0.5, math.nan, 0.7))
    assert verdict.status is Status.OK and verdict.samples == 2
    assert "1 NaN sample left out" in verdict.reason


# -- the PromQL kind against a real Prometheus --------------------------------------------------


@pytest.fixture(scope="module")
def nan_prometheus(real_prometheus: tuple[str, Exposition]) -> str:  # noqa: F811
    """The real Prometheus, once it has scraped the NaN and Inf series too."""
    url, target = real_prometheus
    target.text = A + EXTRA
    deadline = time.monotonic() + 20
    while len(query(url, "backlog_ratio")) < 2 or not query(url, "bytes_in_total"):
        if time.monotonic() > deadline:
            pytest.fail("Prometheus did not scrape the NaN series within 20 s")
        time.sleep(0.3)
    time.sleep(1.5)  # two scrapes of the histogram that no longer grows: its rate is 0
    return url


def promql(server: str, queries: dict[str, str], target: Target | None = None) -> Measurement:
    body = {"server": server, "queries": {n: {"query": q} for n, q in queries.items()}}
    specs = {"server": ProbeSpec.model_validate({"promql": body})}
    context = make_context("", target or Target())
    return run_probes(specs, context, 1, 30.0)["server"]


def test_a_promql_vector_keeps_its_finite_elements_and_notes_the_nan_ones(
    nan_prometheus: str,
) -> None:
    measured = promql(nan_prometheus, {"backlog": "backlog_ratio"})
    assert measured.failure is None
    assert measured.series["backlog"].samples == (0.25,)
    note = measured.missing["backlog"]
    assert "1 of 2 series" in note and 'queue="a"' in note and 'queue="b"' not in note
    status, _, reason = judge(measured, "backlog", "value < 0.5")
    assert status is Status.OK and reason == "all thresholds met"


@pytest.mark.parametrize(
    ("promql_text", "named"),
    [
        pytest.param('backlog_ratio{queue="a"}', 'queue="a"}` ' + NAN_WHY, id="nan-series"),
        pytest.param("0/0", f"`0/0` {NAN_WHY}", id="nan-scalar"),
        pytest.param(
            "histogram_quantile(0.95, sum by (le) (rate(job_seconds_bucket[5s])))",
            f"`histogram_quantile(0.95, sum by (le) (rate(job_seconds_bucket[5s])))` {NAN_WHY}",
            id="quantile-without-observations",
        ),
    ],
)
def test_a_nan_promql_answer_is_no_data_saying_which_series(
    nan_prometheus: str, promql_text: str, named: str
) -> None:
    measured = promql(nan_prometheus, {"q": promql_text})
    assert measured.failure is None and measured.series["q"].samples == ()
    status, _, reason = judge(measured, "q", "value < 1")
    assert status is Status.NO_DATA
    assert named in reason


def test_promql_inf_is_a_real_value(nan_prometheus: str) -> None:
    measured = promql(nan_prometheus, {"oldest": "oldest_seconds"})
    assert measured.series["oldest"].samples == (math.inf,)
    assert judge(measured, "oldest", "value < 30")[0] is Status.BREACH


EIGHT = {
    "depth": "queue_depth",
    "p95": "histogram_quantile(0.95, sum by (le) (job_seconds_bucket))",
    "failed": 'sum(jobs_finished_total{status="failed"})',
    "total": "sum(jobs_finished_total)",
    "broken": "sum(rate(jobs_finished_total[5m])",  # a parenthesis short: HTTP 400 bad_data
    "up": "up",
    "series": "count(jobs_finished_total)",
    "backlog-b": 'backlog_ratio{queue="b"}',
}


def test_one_rejected_query_fails_only_its_own_measure(nan_prometheus: str) -> None:
    rejected = httpx.get(
        f"{nan_prometheus}/api/v1/query", params={"query": EIGHT["broken"]}, timeout=5
    )
    assert rejected.status_code == 400 and rejected.json()["errorType"] == "bad_data"
    measured = promql(nan_prometheus, EIGHT)
    assert measured.failure is None
    status, _, reason = judge(measured, "broken", "value < 1")
    assert status is Status.NO_DATA
    assert reason.startswith("Prometheus rejected the query: bad_data: ")
    assert "parse error" in reason and len(reason) <= 300
    for name in set(EIGHT) - {"broken"}:
        assert measured.series[name].samples, name
        assert judge(measured, name, "value >= 0")[0] is Status.OK, name
    assert measured.series["depth"].samples == (7.0,)
    assert measured.series["series"].samples == (2.0,)


def test_every_rejection_is_its_own_redacted_short_reason(scripted: ScriptedServer) -> None:
    """A server that rejects everything: each query says why, none fails the probe."""
    secret = "s3cr3t-bearer-token-value"
    error = f"parse error: unexpected {secret} " + "x" * 5000
    scripted.routes["/api/v1/query"] = Answer(
        400, f'{{"status": "error", "errorType": "bad_data", "error": "{error}"}}'
    )
    target = Target(auth=Auth(bearer=SecretStr(secret)))
    measured = promql(scripted.base_url, {"one": "a(", "two": "b("}, target)
    assert measured.failure is None
    for name in ("one", "two"):
        why = measured.missing[name]
        assert why.startswith("Prometheus rejected the query: bad_data: parse error")
        assert secret not in why and len(why) <= 300


def test_a_server_that_is_down_still_fails_the_whole_probe(closed_port_url: str) -> None:
    measured = promql(closed_port_url, {"one": "up", "two": "up"})
    assert measured.failure is not None and "connection refused" in measured.failure
