"""Labels that say what happened (issue 17, item 5): a check's level apart from its outcome,
an http probe named with its query string (secrets masked), a failed job's final state shown."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.scripted_server import Answer, ScriptedServer

from sloprobe.config.model import ProbeSpec, SloSpec, Target
from sloprobe.judge.evaluate import evaluate_slo
from sloprobe.model.measurement import Measurement, Series
from sloprobe.model.status import Level, Status
from sloprobe.model.units import Unit
from sloprobe.model.verdict import ThresholdCheck
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes

NOW = datetime(2026, 11, 24, tzinfo=UTC)
POLL = {"interval": "50ms", "max_interval": "50ms", "timeout": "5s"}
TOKEN = "bearer-c4n4ry-0017"


def _series(name: str, unit: Unit, *samples: float | str) -> Measurement:
    return Measurement("p", "http", NOW, 0.1, series={name: Series(name, unit, samples)})


# --- a check's level and its outcome ---------------------------------------------------------


def test_a_held_breach_threshold_reads_as_held_not_as_a_breach() -> None:
    spec = SloSpec(probe="p", measure="live", threshold=("value >= 1",))
    verdict = evaluate_slo("workers-up", spec, _series("live", Unit.COUNT, 1.0))
    assert verdict.status is Status.OK
    assert [c.label for c in verdict.checks] == ["breach threshold value >= 1: held (value = 1)"]


def test_each_level_and_outcome_has_its_own_words() -> None:
    spec = SloSpec(probe="p", measure="latency", threshold=("p95 < 300ms",), warn=("p95 < 100ms",))
    verdict = evaluate_slo("fast", spec, _series("latency", Unit.S, 0.05, 0.2))
    assert verdict.status is Status.WARNING
    assert [c.label for c in verdict.checks] == [
        "breach threshold p95 < 300ms: held (p95 = 192.5ms)",
        "warn threshold p95 < 100ms: failed (p95 = 192.5ms)",
    ]
    assert [c.outcome for c in verdict.checks] == ["held", "failed"]


def test_a_check_that_could_not_be_computed_says_so_without_a_value() -> None:
    check = ThresholdCheck("p95 < 300ms", Level.BREACH, None, "—", None)
    assert check.outcome == "not computed"
    assert check.label == "breach threshold p95 < 300ms: not computed"


# --- an http probe is named with its query string --------------------------------------------


def _http(server: ScriptedServer, probes: dict[str, dict[str, object]]) -> dict[str, Measurement]:
    specs = {name: ProbeSpec.model_validate({"http": http}) for name, http in probes.items()}
    context = make_context(server.base_url, Target(timeout=2.0, auth={"bearer": TOKEN}))
    return dict(run_probes(specs, context, concurrency=2, default_deadline=10.0))


def test_two_probes_of_one_path_differ_by_their_query(scripted: ScriptedServer) -> None:
    scripted.routes["/api/workers"] = Answer(200, "{}")
    found = _http(
        scripted,
        {
            "live": {"path": "/api/workers", "query": {"status": 1}},
            "all": {"path": "/api/workers", "query": {"status": 0, "refresh": True}},
        },
    )
    assert found["live"].details["request"] == f"GET {scripted.base_url}/api/workers?status=1"
    assert (
        found["all"].details["request"]
        == f"GET {scripted.base_url}/api/workers?status=0&refresh=true"
    )


def test_a_failure_names_the_query_it_sent(scripted: ScriptedServer) -> None:
    m = _http(scripted, {"p": {"path": "/nowhere", "query": {"page": 2}}})["p"]
    assert m.failure == f"GET {scripted.base_url}/nowhere?page=2: HTTP 404, expected 2xx"


def test_secrets_in_the_query_stay_masked_in_the_probe_name(scripted: ScriptedServer) -> None:
    scripted.routes["/api/workers"] = Answer(503, "{}")
    m = _http(
        scripted,
        {
            "p": {
                "path": "/api/workers",
                # a secret-looking name, and a configured secret under an innocent name
                "query": {"status": 1, "api_key": "qkey-c4n4ry-0018", "q": f"{TOKEN} x"},
            }
        },
    )["p"]
    request = m.details["request"]
    assert request == f"GET {scripted.base_url}/api/workers?status=1&api_key=***&q=***"
    assert m.failure is not None and m.failure.startswith(request + ": HTTP 503")
    for text in (request, m.failure):
        assert "c4n4ry" not in text  # in no encoding: raw, %-encoded or +-encoded
    sent = next(path for _, path, _ in scripted.requests if path.startswith("/api/workers"))
    assert "qkey-c4n4ry-0018" in sent  # masked where shown, sent as configured


# --- a failed job shows the state it ended in -------------------------------------------------


def _job(server: ScriptedServer) -> Measurement:
    spec = ProbeSpec.model_validate(
        {
            "job": {
                "poll": POLL,
                "submit": {"path": "/jobs"},
                "status": {
                    "path": "/jobs/{id}",
                    "success": ["SUCCESS"],
                    "failure": ["FAILURE"],
                    "error": "error",
                },
            }
        }
    )
    context = make_context(server.base_url, Target())
    return run_probes({"job": spec}, context, 1, 30.0)["job"]


def test_a_text_slo_on_a_failed_job_shows_the_state_it_saw(scripted: ScriptedServer) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(200, '{"status": "FAILURE", "error": "worker crashed"}')
    measured = _job(scripted)
    assert measured.failure == "job 7 ended FAILURE: worker crashed"
    spec = SloSpec(probe="job", measure="state", threshold=('value == "SUCCESS"',))
    verdict = evaluate_slo("job-state", spec, measured)
    assert verdict.status is Status.BREACH and verdict.counts_as_bad
    assert verdict.observed == "value = 'FAILURE'"
    assert verdict.samples == 1
    assert verdict.reason == "probe job failed: job 7 ended FAILURE: worker crashed"
    assert [c.label for c in verdict.checks] == [
        "breach threshold value == \"SUCCESS\": failed (value = 'FAILURE')"
    ]
    # A number measured on the way to the failure is no good run's value: it stays `failed`.
    total = SloSpec(probe="job", measure="total", threshold=("value < 30s",))
    timed = evaluate_slo("job-total", total, measured)
    assert measured.series["total"].samples  # it was measured...
    assert (timed.status, timed.observed, timed.checks) == (Status.BREACH, "failed", ())


def test_a_failed_probe_still_breaches_a_text_slo_whose_value_held() -> None:
    """A 503 whose body still says `healthy`: the value is shown, the failure decides."""
    measured = Measurement(
        "p",
        "http",
        NOW,
        0.1,
        series={"state": Series("state", Unit.TEXT, ("healthy",))},
        failure="GET /health: HTTP 503, expected 2xx",
    )
    spec = SloSpec(probe="p", measure="state", threshold=('value == "healthy"',))
    verdict = evaluate_slo("health", spec, measured)
    assert verdict.status is Status.BREACH and verdict.counts_as_bad
    assert verdict.observed == "value = 'healthy'"
    assert verdict.reason == "probe p failed: GET /health: HTTP 503, expected 2xx"
