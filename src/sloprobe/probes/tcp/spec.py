"""Config of the TCP probe: connect to a host and port N times, optionally send text and match the answer."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration
from sloprobe.model.units import Unit

BANNER_CHARS = 200


class TcpProbe(StrictModel):
    """A TCP endpoint (blackbox_exporter's tcp prober, Gatus's `tcp://`): connect, send, expect."""

    host: str = Field(min_length=1, description="Host name or IP address, without scheme or port.")
    port: int = Field(ge=1, le=65535)
    timeout: Duration = Field(
        10.0,
        description="Bound on the DNS lookup, and on each sample: connect, send and read together.",
    )
    samples: int = Field(
        1, ge=1, le=1000, description="Connections opened one after another, each timed."
    )
    send: str | None = Field(
        None,
        description='Text sent once connected (UTF-8). Write escapes in a double-quoted YAML string: "PING\\r\\n".',
    )
    expect: str | None = Field(
        None,
        description="A regular expression the server's answer must match (`re.search`). The probe "
        "reads until it matches, the server closes, `max_bytes` or `timeout`. Without it the probe "
        "only connects (and sends), and reads nothing.",
    )
    max_bytes: int = Field(
        4096, ge=1, le=1_048_576, description="Most bytes of the answer read for `expect`."
    )

    @field_validator("host")
    @classmethod
    def _bare_host(cls, value: str) -> str:
        host = value.strip()
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]  # [::1] → ::1
        if not host or "://" in host or "/" in host or any(c.isspace() for c in host):
            raise ValueError("expected a bare host name or IP address, e.g. `smtp.example.com`")
        return host

    @field_validator("expect")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"`expect` is not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _max_bytes_needs_expect(self) -> TcpProbe:
        if "max_bytes" in self.model_fields_set and self.expect is None:
            raise ValueError("`max_bytes` bounds the answer read for `expect`; set `expect`")
        return self

    @property
    def endpoint(self) -> str:
        """``host:port``, an IPv6 address in brackets."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


TCP_SERIES: dict[str, Unit] = {"connect": Unit.S, "ok": Unit.BOOLEAN}


def tcp_series_units(spec: TcpProbe) -> dict[str, Unit]:
    """``banner`` only with ``expect``: without it the probe reads nothing."""
    if spec.expect is None:
        return dict(TCP_SERIES)
    return {**TCP_SERIES, "banner": Unit.TEXT}
