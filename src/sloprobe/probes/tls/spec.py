"""Config of the TLS probe: one server's certificate (expiry, chain, name) and its handshake."""

from __future__ import annotations

from pydantic import Field, field_validator

from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration
from sloprobe.model.units import Unit


class TlsProbe(StrictModel):
    """Connect to ``host:port``, complete a TLS handshake and read the server's certificate."""

    host: str = Field(min_length=1, description="Host name or IP address to connect to.")
    port: int = Field(443, ge=1, le=65535)
    server_name: str | None = Field(
        None,
        description="Name sent as SNI and checked against the certificate; default `host`.",
    )
    timeout: Duration = Field(
        10.0, description="Upper bound on connecting and the TLS handshake(s)."
    )
    verify: bool = Field(
        True,
        description="An untrusted chain or a name mismatch fails the probe; false: only reported "
        "(`chain_valid`, `hostname_valid`).",
    )
    ca_file: str | None = Field(
        None,
        description="PEM file of extra trust anchors (e.g. a private CA), besides the system's; "
        "a relative path is relative to the working directory.",
    )

    @field_validator("host")
    @classmethod
    def _not_a_url(cls, value: str) -> str:
        if "://" in value or "/" in value:
            raise ValueError(
                f"`{value}` is a URL; `host` is a host name or address (and `port` the port)"
            )
        return value

    @property
    def name_to_check(self) -> str:
        return self.server_name or self.host


TLS_SERIES: dict[str, Unit] = {
    "expires_in": Unit.S,
    "chain_valid": Unit.BOOLEAN,
    "hostname_valid": Unit.BOOLEAN,
    "handshake": Unit.S,
    "tls_version": Unit.TEXT,
}


def tls_series_units(spec: TlsProbe) -> dict[str, Unit]:
    return dict(TLS_SERIES)
