"""Config of the HTTP probe: one request, sent N times, and named values read from its answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration, Name
from sloprobe.model.units import Unit
from sloprobe.redact import SECRET_HEADERS, looks_secret

RedirectPolicy = Literal["same_origin", "any", "none"]
REDIRECTS_RULE = (
    "Which redirects to follow (at most 10 hops): `same_origin` follows them on the same "
    "scheme, host and port only; `any` follows them anywhere, but the request to another "
    "origin carries no configured header, no auth and no cookie; `none` follows none."
)


def _not_recorded(name: str) -> str:
    """A value named like a series every request records would be mixed into that series."""
    if name in HTTP_SERIES:
        hint = " (a JSON `status` field is often read as `state`)" if name == "status" else ""
        raise ValueError(
            f"every http probe measures {', '.join(HTTP_SERIES)} itself; give this value another "
            f"name{hint}"
        )
    return name


ValueName = Annotated[Name, AfterValidator(_not_recorded)]


class ValueSpec(StrictModel):
    """A named value read from a response: a JSON field by dotted path, or a header."""

    json_path: str | None = Field(
        None, alias="json", description="Dotted path, e.g. `checks.queue.depth` or `jobs.0.id`."
    )
    header: str | None = None
    length: bool = Field(
        False, description="Take the length of the list or object found instead of the value."
    )
    count: float | str | bool | None = Field(
        None,
        description="Count the items of the list, or the values of the object, equal to this: "
        "`count: true` on Flower's `/api/workers?status=1` counts live workers.",
    )
    unit: Unit = Unit.NONE
    default: float | str | bool | None = Field(
        None, description="Value to use when the field is absent."
    )
    redact: bool = Field(
        True,
        description="Mask credential-looking text in this value (bearer tokens, keys, JWTs…); "
        "false keeps the target's text as sent. Configured secrets are masked either way.",
    )

    secret: bool | None = Field(
        None,
        description="Mask this value everywhere (terminal, reports, history, notices). Default: "
        "when its field or header name looks secret (password, token, secret, key, "
        "authorization, cookie…); `false` shows a value such a name holds, `true` masks any.",
    )

    @property
    def masked(self) -> bool:
        """Whether the value read is a secret: said so, or read from a secret-named field."""
        if self.secret is not None:
            return self.secret
        if self.length or self.count is not None:
            return False  # how many, not what
        name = self.header or (self.json_path or "").rsplit(".", 1)[-1]
        return looks_secret(name) or name.lower() in SECRET_HEADERS

    @model_validator(mode="after")
    def _one_source(self) -> ValueSpec:
        if (self.json_path is None) == (self.header is None):
            raise ValueError("set exactly one of `json` or `header`")
        if self.length and self.count is not None:
            raise ValueError("set `length` or `count`, not both")
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
    values: dict[ValueName, ValueSpec] = Field(default_factory=dict)
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        le=64 * 1_048_576,
        description="Cap on the decompressed body; a larger answer is a bad measurement.",
    )
    redirects: RedirectPolicy = Field(
        "same_origin",
        description=REDIRECTS_RULE + " A redirect not followed is the answer (a 3xx: a bad "
        "measurement unless `expect` allows it), its reason saying where it pointed.",
    )

    @model_validator(mode="after")
    def _one_body(self) -> HttpProbe:
        if self.json_body is not None and self.form is not None:
            raise ValueError("set `json` or `form`, not both")
        return self


# What every request records; a value of the probe's own cannot take one of these names.
HTTP_SERIES: dict[str, Unit] = {"latency": Unit.S, "status": Unit.NONE, "ok": Unit.BOOLEAN}


def http_series_units(spec: HttpProbe) -> dict[str, Unit]:
    return {**HTTP_SERIES, **{name: v.unit for name, v in spec.values.items()}}
