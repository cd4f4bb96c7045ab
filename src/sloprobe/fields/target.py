"""The service under test, as slo.yaml's `target:` describes it: below config and probes.

Config reads it into the file's model; probes read it to reach the target (its base
URL, timeout, headers, auth and login). It lives here, with the other spec types, so
that probes never import config and config may read the probe registry.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration, HttpMethod


class BasicAuth(StrictModel):
    username: str
    password: SecretStr


class Auth(StrictModel):
    """Bearer or HTTP Basic. An empty secret counts as not given, so a suite can offer both
    as a pair of variables (``bearer: ${ADMIN_JWT:-}``, ``password: ${ADMIN_PASSWORD:-}``)
    and the one set is used; neither set sends no auth (an IP allowlist, an open API)."""

    bearer: SecretStr | None = Field(None, description="Sent as `Authorization: Bearer …`.")
    basic: BasicAuth | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Auth:
        if self.bearer is not None and not self.bearer.get_secret_value():
            object.__setattr__(self, "bearer", None)
        if self.basic is not None and not self.basic.password.get_secret_value():
            object.__setattr__(self, "basic", None)
        if self.bearer is not None and self.basic is not None:
            raise ValueError("set `bearer` or `basic`, not both (leave the other one empty)")
        return self


class Login(StrictModel):
    """A request whose answer yields a token used by every probe for the run (and redacted everywhere)."""

    method: HttpMethod = "POST"
    path: str
    json_body: Any = Field(None, alias="json")
    form: dict[str, str] | None = None
    token: str = Field("access_token", description="JSON path of the token in the answer.")
    header: str = "Authorization"
    scheme: str | None = Field(
        "Bearer", description="Prefix of the header value; null for the bare token."
    )


class Target(StrictModel):
    """The service under test. ``base_url`` may come from --base-url or PROBE_BASE_URL instead."""

    base_url: str | None = None
    timeout: Duration = 10.0
    headers: dict[str, str] = Field(default_factory=dict)
    auth: Auth | None = None
    verify_tls: bool = True
    login: Login | None = Field(
        None, description="A request whose answer yields a token for the run."
    )
    synthetic_header: str | None = Field(
        "X-Synthetic",
        description="Header `<name>: true` sent with every probe request; null to omit.",
    )
