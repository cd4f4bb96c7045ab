"""Config of the end-to-end job probe and of a target's login request."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration, HttpMethod, Name
from sloprobe.model.units import Unit
from sloprobe.probes.http.spec import REDIRECTS_RULE, RedirectPolicy

Method = HttpMethod


class RequestSpec(StrictModel):
    """One request; ``{name}`` in its path, headers, query and body is filled from earlier answers (`{id}`, saved values)."""

    method: Method = "POST"
    path: str
    json_body: Any = Field(None, alias="json")
    form: dict[str, str | int | float | bool] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str | int | float | bool] = Field(default_factory=dict)
    save: dict[Name, str] = Field(
        default_factory=dict, description="Values to keep from the answer: name → JSON path."
    )

    @model_validator(mode="after")
    def _one_body(self) -> RequestSpec:
        if self.json_body is not None and self.form is not None:
            raise ValueError("set `json` or `form`, not both")
        return self


class SubmitSpec(RequestSpec):
    id: str = Field("id", description="JSON path of the job id in the answer.")
    synthetic_field: str | None = Field(
        None, description="Also mark the job synthetic in the body: this field is set to true."
    )


class StatusSpec(StrictModel):
    method: Literal["GET", "POST"] = "GET"
    path: str = Field(description="Status URL of the job, e.g. /jobs/{id}.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Sent with every poll; `{name}` filled from saved values."
    )
    query: dict[str, str | int | float | bool] = Field(default_factory=dict)
    json_body: Any = Field(None, alias="json", description="Body of a POST status request.")
    field: str = Field("status", description="JSON path of the job's state.")
    success: list[str] = Field(
        default_factory=lambda: ["succeeded", "success", "completed", "done"]
    )
    failure: list[str] = Field(default_factory=lambda: ["failed", "failure", "error", "cancelled"])
    running: list[str] = Field(
        default_factory=lambda: ["processing", "running", "active", "started"],
        description="States that mean a worker has taken the job (for queue wait).",
    )
    created_at: str | None = Field(
        "created_at", description="JSON path of the job's creation time, if it has one."
    )
    started_at: str | None = Field(
        "started_at", description="JSON path of its start time, if it has one."
    )
    finished_at: str | None = Field(
        "finished_at", description="JSON path of its end time, if it has one."
    )
    error: str | None = Field("error", description="JSON path of the error text of a failed job.")


class PollSpec(StrictModel):
    interval: Duration = 0.25
    max_interval: Duration = 2.0
    backoff: float = Field(1.5, ge=1.0, le=10.0)
    timeout: Duration = Field(
        60.0, description="A job not finished by then is a failed measurement (timeout)."
    )


class JobProbe(StrictModel):
    """Submit a real test job, follow it to its end, and time every phase."""

    setup: list[RequestSpec] = Field(
        default_factory=list, description="Requests before the job, e.g. upload its asset."
    )
    submit: SubmitSpec
    status: StatusSpec
    poll: PollSpec = Field(default_factory=PollSpec)
    cleanup: list[RequestSpec] = Field(
        default_factory=list, description="Requests after the job, e.g. delete it."
    )
    every: Duration | None = Field(
        None, description="Run at most this often (history remembers); e.g. 1h."
    )
    max_per_day: int | None = Field(None, ge=1, description="Cap on jobs submitted per 24 h.")
    redirects: RedirectPolicy = Field(
        "same_origin",
        description=REDIRECTS_RULE + " Applies to every step; a redirect not followed fails "
        "the step, its reason saying where it pointed.",
    )


JOB_SERIES: dict[str, Unit] = {
    "submit": Unit.S,
    "queue_wait": Unit.S,
    "processing": Unit.S,
    "total": Unit.S,
    "state": Unit.TEXT,
    "succeeded": Unit.BOOLEAN,
}
