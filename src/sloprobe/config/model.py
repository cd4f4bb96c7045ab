"""The typed, immutable model of slo.yaml (format version 1).

Maps onto OpenSLO's concepts where they exist: an SLO's ``probe``/``measure``
is its indicator, ``threshold`` its objective for a single run. The JSON
Schema printed by ``sloprobe schema`` is generated from these classes.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from sloprobe.config.types import Duration, Expressions, Name
from sloprobe.percentiles import PercentileMethod
from sloprobe.thresholds import Threshold, parse_threshold
from sloprobe.units import Unit


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BasicAuth(StrictModel):
    username: str
    password: SecretStr


class Auth(StrictModel):
    bearer: SecretStr | None = Field(None, description="Sent as `Authorization: Bearer …`.")
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Auth:
        if (self.bearer is None) == (self.basic is None):
            raise ValueError("set exactly one of `bearer` or `basic`")
        return self


class Target(StrictModel):
    """The service under test. ``base_url`` may come from --base-url or PROBE_BASE_URL instead."""

    base_url: str | None = None
    timeout: Duration = 10.0
    headers: dict[str, str] = Field(default_factory=dict)
    auth: Auth | None = None
    verify_tls: bool = True
    synthetic_header: str | None = Field(
        "X-Synthetic",
        description="Header `<name>: true` sent with every probe request; null to omit.",
    )


class ValueSpec(StrictModel):
    """A named value read from a response: a JSON field by dotted path, or a header."""

    json_path: str | None = Field(
        None, alias="json", description="Dotted path, e.g. `checks.queue.depth` or `jobs.0.id`."
    )
    header: str | None = None
    length: bool = Field(
        False, description="Take the length of the list or object found instead of the value."
    )
    unit: Unit = Unit.NONE
    default: float | str | bool | None = Field(
        None, description="Value to use when the field is absent."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ValueSpec:
        if (self.json_path is None) == (self.header is None):
            raise ValueError("set exactly one of `json` or `header`")
        return self


class Expect(StrictModel):
    """What a good response looks like; anything else is a failed (bad) measurement."""

    status: list[int | str] = Field(
        default_factory=lambda: list[int | str](["2xx"]), description="Codes or classes like `2xx`."
    )
    body_contains: str | None = None


class HttpProbe(StrictModel):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    path: str
    query: dict[str, str | int | float | bool] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(None, alias="json")
    form: dict[str, str | int | float | bool] | None = None
    samples: int = Field(1, ge=1, le=1000)
    timeout: Duration | None = None
    retries: int = Field(
        2, ge=0, le=10, description="Retries of connection errors only, never of answers."
    )
    expect: Expect = Field(default_factory=Expect)
    values: dict[Name, ValueSpec] = Field(default_factory=dict)
    max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)

    @model_validator(mode="after")
    def _one_body(self) -> HttpProbe:
        if self.json_body is not None and self.form is not None:
            raise ValueError("set `json` or `form`, not both")
        return self


class RecordedValue(StrictModel):
    unit: Unit = Unit.NONE


class PythonProbe(StrictModel):
    """Measured by a test in probes/ marked ``@pytest.mark.probe("<name>")`` through ``recorder``."""

    values: dict[Name, RecordedValue] = Field(default_factory=dict)


HTTP_SERIES: dict[str, Unit] = {"latency": Unit.S, "status": Unit.NONE, "ok": Unit.BOOLEAN}


class ProbeSpec(StrictModel):
    description: str | None = None
    deadline: Duration | None = Field(
        None, description="Upper bound on the whole probe, retries included."
    )
    http: HttpProbe | None = None
    python: PythonProbe | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ProbeSpec:
        kinds = [name for name in ("http", "python") if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError("a probe needs exactly one kind: `http` or `python`")
        return self

    @property
    def kind(self) -> str:
        return "http" if self.http is not None else "python"

    def series_units(self) -> dict[str, Unit]:
        """The series this probe produces and their units (for config-time checks)."""
        if self.http is not None:
            return {**HTTP_SERIES, **{name: v.unit for name, v in self.http.values.items()}}
        assert self.python is not None
        return {name: v.unit for name, v in self.python.values.items()}


class SloSpec(StrictModel):
    description: str | None = None
    probe: Name
    measure: Name = Field(
        description="A series of the probe: `latency`, `status`, `ok` or a named value."
    )
    threshold: Expressions
    warn: Expressions = ()
    no_data: Literal["fail", "pass"] = Field("fail", description="Whether no data fails the run.")
    percentile_method: PercentileMethod | None = None
    marks: list[Name] = Field(default_factory=list, description="pytest marks, for `-m`.")
    owner: str | None = None
    runbook: str | None = None

    @cached_property
    def thresholds(self) -> tuple[Threshold, ...]:
        return tuple(parse_threshold(t) for t in self.threshold)

    @cached_property
    def warn_thresholds(self) -> tuple[Threshold, ...]:
        return tuple(parse_threshold(t) for t in self.warn)


class Settings(StrictModel):
    concurrency: int = Field(8, ge=1, le=256, description="YAML probes run at once.")
    probe_deadline: Duration = Field(60.0, description="Default deadline of each probe.")
    percentile_method: PercentileMethod = PercentileMethod.LINEAR
    report_dir: str = "reports"


class SloFile(StrictModel):
    """The whole slo.yaml."""

    version: Literal[1] = Field(description="Format version; 1 is the only one so far.")
    service: Name
    environment: str = "production"
    target: Target = Field(default_factory=Target)
    settings: Settings = Field(default_factory=Settings)
    probes: dict[Name, ProbeSpec]
    slos: dict[Name, SloSpec] = Field(min_length=1)
