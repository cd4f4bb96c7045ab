"""Job polling: ids are quoted into paths, and a job that disappears fails at once."""

from __future__ import annotations

import json
import time

import pytest

from sloprobe.config.model import ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes
from tests.support.scripted_server import Answer, ScriptedServer

POLL = {"interval": "50ms", "max_interval": "50ms", "timeout": "5s"}


def _job(server: ScriptedServer, **job: object) -> Measurement:
    spec = ProbeSpec.model_validate({"job": {"poll": POLL, **job}})
    return run_probes({"job": spec}, make_context(server.base_url, Target()), 1, 30.0)["job"]


def test_the_job_id_is_quoted_in_the_path_and_sent_as_is_elsewhere(
    scripted: ScriptedServer,
) -> None:
    scripted.routes["/jobs"] = Answer(202, json.dumps({"id": "a/b c"}))
    scripted.routes["/jobs/a%2Fb%20c"] = Answer(200, '{"status": "succeeded"}')
    scripted.routes["/jobs/a%2Fb%20c/done"] = Answer(200, "{}")
    m = _job(
        scripted,
        submit={"path": "/jobs"},
        status={"path": "/jobs/{id}", "headers": {"X-Job": "{id}"}, "query": {"job": "{id}"}},
        cleanup=[{"method": "POST", "path": "/jobs/{id}/done", "json": {"id": "{id}"}}],
    )
    assert m.failure is None, m.failure
    assert m.details["job"] == "a/b c"
    polls = [(path, sent) for method, path, sent in scripted.requests if method == "GET"]
    assert polls and all(path == "/jobs/a%2Fb%20c?job=a%2Fb+c" for path, _ in polls)
    assert polls[0][1]["X-Job"] == "a/b c"  # headers carry the value itself
    assert scripted.requests[-1][1] == "/jobs/a%2Fb%20c/done"
    assert json.loads(scripted.bodies[-1]) == {"id": "a/b c"}  # so do bodies


def test_saved_values_are_quoted_in_paths_too(scripted: ScriptedServer) -> None:
    scripted.routes["/setup"] = Answer(200, '{"queue": "eu/west"}')
    scripted.routes["/queues/eu%2Fwest/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(200, '{"status": "succeeded"}')
    m = _job(
        scripted,
        setup=[{"method": "GET", "path": "/setup", "save": {"queue": "queue"}}],
        submit={"path": "/queues/{queue}/jobs", "json": {"queue": "{queue}"}},
        status={"path": "/jobs/{id}"},
    )
    assert m.failure is None, m.failure
    assert ("POST", "/queues/eu%2Fwest/jobs") in [(m_, p) for m_, p, _ in scripted.requests]
    assert json.loads(scripted.bodies[1]) == {"queue": "eu/west"}


@pytest.mark.parametrize("status", [404, 410])
def test_a_job_that_disappears_while_polling_fails_at_once(
    scripted: ScriptedServer, status: int
) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(status, '{"detail": "Not Found"}')
    clock = time.perf_counter()
    m = _job(scripted, submit={"path": "/jobs"}, status={"path": "/jobs/{id}"})
    assert time.perf_counter() - clock < 2  # not the 5 s poll timeout
    assert m.failure == (
        f"job 7 disappeared: status: GET {scripted.base_url}/jobs/7 answered {status}"
    )
    assert sum(1 for _, path, _ in scripted.requests if path == "/jobs/7") == 1
    assert m.series["succeeded"].samples == ()


def test_a_quoted_id_that_disappears_names_the_url_polled(scripted: ScriptedServer) -> None:
    scripted.routes["/jobs"] = Answer(202, json.dumps({"id": "a/b c"}))
    m = _job(scripted, submit={"path": "/jobs"}, status={"path": "/jobs/{id}"})
    assert m.failure == (
        f"job a/b c disappeared: status: GET {scripted.base_url}/jobs/a%2Fb%20c answered 404"
    )


def test_a_5xx_while_polling_is_still_retried_until_the_timeout(
    scripted: ScriptedServer,
) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(503, '{"detail": "busy"}')
    spec = ProbeSpec.model_validate(
        {
            "job": {
                "poll": {**POLL, "timeout": "500ms"},
                "submit": {"path": "/jobs"},
                "status": {"path": "/jobs/{id}"},
            }
        }
    )
    m = run_probes({"job": spec}, make_context(scripted.base_url, Target()), 1, 30.0)["job"]
    assert m.failure is not None
    assert m.failure.startswith("job 7 no usable status answer in 500ms (timeout); last: ")
    assert "HTTP 503" in m.failure
    assert sum(1 for _, path, _ in scripted.requests if path == "/jobs/7") > 1
