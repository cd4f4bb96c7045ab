"""A FastAPI-like OpenAPI with a job submit form: allowed values are used, unknown ones become
`${VAR}`s in a commented-out probe, and discovery itself never sends the POST."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.discover.support import discover, run_suite, validates
from tests.support.scripted_server import Answer, ScriptedServer


def _openapi(form: dict[str, Any], required: list[str]) -> dict[str, Any]:
    def ok(schema: dict[str, Any]) -> dict[str, Any]:
        return {"200": {"content": {"application/json": {"schema": schema}}}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "Render Jobs", "version": "1"},
        "paths": {
            "/healthz": {
                "get": {
                    "operationId": "healthz_healthz_get",
                    "responses": ok(
                        {"properties": {"status": {"type": "string", "enum": ["ok", "down"]}}}
                    ),
                }
            },
            "/jobs": {
                "post": {
                    "operationId": "submit_job_jobs_post",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {"$ref": "#/components/schemas/Body_submit"}
                            }
                        }
                    },
                    "responses": ok({"$ref": "#/components/schemas/Submitted"}),
                }
            },
            "/jobs/{job_id}": {
                "get": {
                    "operationId": "get_job_jobs__job_id__get",
                    "parameters": [{"name": "job_id", "in": "path", "required": True}],
                    "responses": ok({"$ref": "#/components/schemas/Job"}),
                }
            },
        },
        "components": {
            "schemas": {
                "Body_submit": {"type": "object", "properties": form, "required": required},
                "Submitted": {"properties": {"job_id": {"type": "integer"}}},
                "Job": {
                    "properties": {
                        "job_id": {"type": "integer"},
                        "status": {
                            "type": "string",
                            "enum": ["queued", "rendering", "done", "failed"],
                        },
                        "completed_at": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    }
                },
            }
        },
    }


FORM = {
    "preset": {"type": "string", "enum": ["thumbnail", "poster"]},
    "width": {"type": "integer", "example": 320},
    "note": {"type": "string"},
}


def _serve(scripted: ScriptedServer, openapi: dict[str, Any]) -> None:
    scripted.routes["/openapi.json"] = Answer(200, json.dumps(openapi))
    scripted.routes["/healthz"] = Answer(200, '{"status": "ok"}')
    scripted.routes["/jobs"] = Answer(202, '{"job_id": 41, "status": "queued"}')
    scripted.routes["/jobs/41"] = Answer(200, '{"job_id": 41, "status": "done"}')


def test_the_submit_form_uses_an_allowed_value_and_the_job_probe_runs(
    scripted: ScriptedServer, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    _serve(scripted, _openapi(FORM, ["preset", "width"]))
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    assert {method for method, _, _ in scripted.requests} == {"GET"}  # no job was sent
    spec = validates(tmp_path / "slo.yaml")
    job = yaml.safe_load((tmp_path / "slo.yaml").read_text())["probes"]["job"]["job"]
    assert job["submit"] == {
        "path": "/jobs",
        "form": {"preset": "thumbnail", "width": 320},
        "id": "job_id",
    }
    assert job["status"] == {
        "path": "/jobs/{id}",
        "field": "status",
        "success": ["done"],
        "failure": ["failed"],
        "running": ["rendering"],
        "finished_at": "completed_at",
    }
    assert spec.service == "render-jobs"
    assert spec.slos["healthz-up"].threshold == ('value == "ok"',)
    assert {"job-succeeds", "job-e2e"} <= set(spec.slos)

    scripted.requests.clear()
    scripted.bodies.clear()
    ret, verdicts = run_suite(pytester, tmp_path / "slo.yaml", scripted.base_url)
    assert ret == 0, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}
    posts = [i for i, (method, _, _) in enumerate(scripted.requests) if method == "POST"]
    assert len(posts) == 1 and scripted.bodies[posts[0]] == b"preset=thumbnail&width=320"


def test_a_field_without_enum_or_example_comments_the_job_probe_out(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    _serve(scripted, _openapi(FORM, ["preset", "note"]))
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    assert "commented out: job (fill in JOB_NOTE" in out
    spec = validates(tmp_path / "slo.yaml")
    assert "job" not in spec.probes and "job-e2e" not in spec.slos
    text = (tmp_path / "slo.yaml").read_text()
    assert "  # JOB_NOTE: a value of the submit field `note` (string) your service accepts" in text
    assert '  #         note: "${JOB_NOTE}"' in text
    assert (
        "  #         preset: thumbnail  # the first of its allowed values (thumbnail, poster)"
        in text
    )


def _jobs_api(states: list[str], body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI whose job states and submit body the tests below choose."""

    def ok(schema: dict[str, Any]) -> dict[str, Any]:
        return {"200": {"content": {"application/json": {"schema": schema}}}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "Assets", "version": "1"},
        "paths": {
            "/healthz": {"get": {"operationId": "healthz", "responses": ok({"type": "object"})}},
            "/assets": {
                "post": {
                    "operationId": "create_asset",
                    "requestBody": body,
                    "responses": ok({"properties": {"id": {"type": "string"}}}),
                }
            },
            "/assets/{id}": {
                "get": {
                    "operationId": "get_asset",
                    "parameters": [{"name": "id", "in": "path", "required": True}],
                    "responses": ok({"properties": {"status": {"type": "string", "enum": states}}}),
                }
            },
        },
    }


OPTIONAL_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"input_url": {"type": "string"}}}
        }
    },
}


def test_states_the_job_kind_does_not_know_are_asked_for_not_assumed(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    """`preparing | ready | errored`: which one is success is the service's to say; the job
    kind's default states (succeeded, done…) would poll `ready` until the timeout."""
    scripted.routes["/openapi.json"] = Answer(
        200, json.dumps(_jobs_api(["preparing", "ready", "errored"], OPTIONAL_BODY))
    )
    scripted.routes["/healthz"] = Answer(200, '{"status": "ok"}')
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    assert "commented out: job (fill in JOB_SUCCESS_STATE" in out
    text = (tmp_path / "slo.yaml").read_text()
    assert "which of preparing, ready, errored means a job succeeded" in text
    assert "job" not in validates(tmp_path / "slo.yaml").probes


def test_a_required_body_whose_fields_are_all_optional_is_sent_empty(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    """FastAPI's `create(body: In)` with defaults for every field: no body at all is a 422."""
    scripted.routes["/openapi.json"] = Answer(
        200, json.dumps(_jobs_api(["queued", "running", "succeeded", "failed"], OPTIONAL_BODY))
    )
    scripted.routes["/healthz"] = Answer(200, '{"status": "ok"}')
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    job = validates(tmp_path / "slo.yaml").probes["job"].job
    assert job is not None and job.submit.json_body == {}
