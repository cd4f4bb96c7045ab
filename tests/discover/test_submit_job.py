"""`sloprobe discover --submit-job` against a real FastAPI app whose schemas name neither the new
job's id nor its state: one POST, the fields read from its real answers, the round trip bounding
`total`, and the proposal runs green; without a known value for every submit field, nothing."""

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pytest
import yaml

from tests.discover.support import discover, run_suite, validates

fastapi = pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")


class Preset(StrEnum):
    thumbnail = "thumbnail"
    poster = "poster"


@dataclass
class RenderService:
    url: str
    methods: list[str] = field(default_factory=list)
    synthetic: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def render_service() -> Iterator[RenderService]:
    """Jobs answered as plain dicts (FastAPI shows no response schema): `ticket.ref` is the id,
    `progress.phase` the state, `waiting` → `rendering` → `complete` over about 0.4 s."""
    from fastapi import FastAPI, Form, Request

    app = FastAPI(title="Render Farm")
    jobs: dict[str, float] = {}
    counter = itertools.count(7001)
    service = RenderService("")

    @app.middleware("http")
    async def log(request: Request, call_next: Any) -> Any:
        service.methods.append(request.method)
        return await call_next(request)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/renders")
    def submit(
        preset: Annotated[Preset, Form()], is_synthetic: Annotated[bool, Form()]
    ) -> dict[str, Any]:
        service.synthetic.append(str(is_synthetic))
        ref = f"r-{next(counter)}"
        jobs[ref] = time.monotonic()
        return {"ticket": {"ref": ref, "preset": preset.value}}

    @app.get("/renders/{ref}")
    def status(ref: str) -> dict[str, Any]:
        age = time.monotonic() - jobs[ref]
        phase = "waiting" if age < 0.1 else "rendering" if age < 0.4 else "complete"
        return {"ticket": {"ref": ref}, "progress": {"phase": phase}}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    service.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield service
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


def test_without_the_flag_nothing_is_posted_and_the_unknown_fields_are_variables(
    render_service: RenderService, tmp_path: Path
) -> None:
    render_service.methods.clear()
    status, out, err = discover(render_service.url, "--out", str(tmp_path))
    assert status == 0, out + err
    assert set(render_service.methods) == {"GET"}
    assert "commented out: job (fill in JOB_ID_FIELD, JOB_STATUS_FIELD" in out
    assert "job" not in validates(tmp_path / "slo.yaml").probes


def test_one_job_submitted_fills_in_what_its_answers_show_and_the_suite_runs_green(
    render_service: RenderService, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    render_service.methods.clear()
    render_service.synthetic.clear()
    status, out, err = discover(render_service.url, "--out", str(tmp_path), "--submit-job")
    assert status == 0, out + err
    # One POST, marked synthetic; every other request a GET.
    assert render_service.methods.count("POST") == 1
    assert set(render_service.methods) == {"GET", "POST"}
    assert render_service.synthetic == ["True"]
    assert "ended complete (success)" in out, out
    assert "GETs and the one POST of --submit-job" in out

    spec = validates(tmp_path / "slo.yaml")
    text = (tmp_path / "slo.yaml").read_text()
    job = yaml.safe_load(text)["probes"]["job"]["job"]
    assert job["submit"] == {
        "path": "/renders",
        "form": {"preset": "thumbnail"},
        "id": "ticket.ref",
        "synthetic_field": "is_synthetic",
    }
    assert job["status"]["path"] == "/renders/{id}"
    assert job["status"]["field"] == "progress.phase"
    assert job["status"]["success"] == ["complete"]  # not among the job kind's default states
    assert job["status"]["running"] == ["rendering"]
    assert "JOB_ID_FIELD" not in text and "JOB_STATUS_FIELD" not in text
    assert "seen in the answer to the job discovery submitted (--submit-job)" in text
    # The round trip (about 0.4 s) sets the bound by the duration rule: its floor, 30 s.
    assert spec.slos["job-e2e"].threshold == ("value < 30s",)
    assert "The job discovery submitted took" in text

    render_service.methods.clear()
    ret, verdicts = run_suite(pytester, tmp_path / "slo.yaml", render_service.url)
    assert ret == 0, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}
    assert verdicts["job-succeeds"]["status"] == "ok"
    assert render_service.methods.count("POST") == 1


def test_a_submit_field_without_a_known_value_sends_nothing(tmp_path: Path) -> None:
    """The reference service's submit form has `asset_id` with no enum or example: no POST."""
    from sloprobe.demo.service import start_service

    with start_service() as service:
        service.clear_request_log()
        status, out, err = discover(service.base_url, "--out", str(tmp_path), "--submit-job")
        methods = {r.method for r in service.request_log}
    assert status == 0, out + err
    assert methods == {"GET"}
    assert "not sent: no known value for JOB_ASSET_ID" in out
    assert "(GET only)" in out


def test_only_plain_secret_free_states_are_written() -> None:
    """A state read from an answer goes into slo.yaml only as plain text nothing masks."""
    from types import SimpleNamespace

    from sloprobe.discover.submit import _writable
    from sloprobe.redact import Redactor

    asker: Any = SimpleNamespace(context=SimpleNamespace(redactor=Redactor(["s3cr3t-token"])))
    assert _writable("rendering", asker)
    assert not _writable("rendering s3cr3t-token", asker)
    assert not _writable('done"\n  evil: yes', asker)
    assert not _writable("x" * 101, asker)
