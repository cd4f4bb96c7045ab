"""The job probe says what it could not find, at the step it happened, on the first poll."""

from __future__ import annotations

import time

from sloprobe.config.model import Login, ProbeSpec, Target
from sloprobe.model.measurement import Measurement
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes
from tests.support.scripted_server import Answer, ScriptedServer

POLL = {"interval": "50ms", "max_interval": "50ms", "timeout": "5s"}


def _job(
    server: ScriptedServer, job: dict[str, object], target: Target | None = None
) -> Measurement:
    spec = ProbeSpec.model_validate({"job": {"poll": POLL, **job}})
    context = make_context(server.base_url, target or Target())
    return run_probes({"job": spec}, context, 1, 30.0)["job"]


def test_a_state_field_absent_from_the_answer_fails_on_the_first_poll(
    scripted: ScriptedServer,
) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(200, '{"state": "SUCCESS"}')
    clock = time.perf_counter()
    m = _job(scripted, {"submit": {"path": "/jobs"}, "status": {"path": "/jobs/{id}"}})
    assert time.perf_counter() - clock < 2  # not the 5 s poll timeout
    assert m.failure is not None
    assert m.failure.startswith(
        f"status: GET {scripted.base_url}/jobs/7: no `status` in the answer"
    )
    assert '{"state": "SUCCESS"}' in m.failure


def test_a_401_while_polling_says_auth_at_once(scripted: ScriptedServer) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(401, '{"detail": "Not authenticated"}')
    clock = time.perf_counter()
    m = _job(scripted, {"submit": {"path": "/jobs"}, "status": {"path": "/jobs/{id}"}})
    assert time.perf_counter() - clock < 2
    assert m.failure == (
        f"status: GET {scripted.base_url}/jobs/7: HTTP 401 (auth refused): "
        '{"detail": "Not authenticated"}'
    )
    assert sum(1 for _, path, _ in scripted.requests if path == "/jobs/7") == 1


def test_a_failed_submit_keeps_the_answer(scripted: ScriptedServer) -> None:
    scripted.routes["/jobs"] = Answer(404, '{"detail":"Asset not found"}')
    m = _job(scripted, {"submit": {"path": "/jobs"}, "status": {"path": "/jobs/{id}"}})
    assert m.failure == (
        f'submit: POST {scripted.base_url}/jobs: HTTP 404: {{"detail":"Asset not found"}}'
    )
    assert m.excerpt == '{"detail":"Asset not found"}'


def test_saved_values_fill_headers_query_and_body_of_every_step(scripted: ScriptedServer) -> None:
    scripted.routes["/login"] = Answer(200, '{"tok": "abc123"}')
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(200, '{"status": "succeeded"}')
    scripted.routes["/jobs/7/done"] = Answer(200, "{}")
    m = _job(
        scripted,
        {
            "setup": [{"path": "/login", "save": {"tok": "tok"}}],
            "submit": {
                "path": "/jobs",
                "headers": {"X-Token": "{tok}"},
                "query": {"owner": "{tok}"},
                "json": {"token": "{tok}"},
            },
            "status": {
                "path": "/jobs/{id}",
                "headers": {"X-Token": "{tok}"},
                "query": {"job": "{id}"},
            },
            "cleanup": [
                {"method": "DELETE", "path": "/jobs/{id}/done", "headers": {"X-Token": "{tok}"}}
            ],
        },
    )
    assert m.failure is None, m.failure
    seen = {(method, path): headers for method, path, headers in scripted.requests}
    assert seen[("POST", "/jobs?owner=abc123")]["X-Token"] == "abc123"
    assert seen[("GET", "/jobs/7?job=7")]["X-Token"] == "abc123"
    assert seen[("DELETE", "/jobs/7/done")]["X-Token"] == "abc123"
    assert b'"token": "abc123"' in b"".join(scripted.bodies) or b'"token":"abc123"' in b"".join(
        scripted.bodies
    )


def test_a_failed_login_fails_only_the_probes_the_target_then_refuses(
    scripted: ScriptedServer,
) -> None:
    scripted.routes["/login"] = Answer(401, '{"detail": "bad credentials"}')
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    scripted.routes["/admin"] = Answer(403, '{"detail": "forbidden"}')
    target = Target(login=Login(path="/login", json={"user": "probe"}))
    probes = {
        "health": ProbeSpec.model_validate({"http": {"path": "/health"}}),
        "admin": ProbeSpec.model_validate({"http": {"path": "/admin"}}),
    }
    measured = run_probes(probes, make_context(scripted.base_url, target), 2, 10.0)
    assert measured["health"].failure is None
    admin = measured["admin"].failure
    assert admin is not None and "HTTP 403 (auth refused)" in admin
    assert admin.endswith("(login: POST /login answered 401)")
    assert any("login: POST /login answered 401" in w for w in measured.warnings)


def test_only_an_answer_of_401_or_403_is_blamed_on_the_failed_login(
    scripted: ScriptedServer,
) -> None:
    """Auth refusal is read from the answers, not the failure's text: a 500 whose body says
    `error 401` is the target's own failure, not the login's."""
    scripted.routes["/login"] = Answer(401, '{"detail": "bad credentials"}')
    scripted.routes["/jobs"] = Answer(500, '{"detail": "upstream said 401 403"}')
    target = Target(login=Login(path="/login", json={"user": "probe"}))
    probes = {"jobs": ProbeSpec.model_validate({"http": {"path": "/jobs"}})}
    measured = run_probes(probes, make_context(scripted.base_url, target), 2, 10.0)
    failure = measured["jobs"].failure
    assert failure is not None and "500" in failure
    assert "login" not in failure
