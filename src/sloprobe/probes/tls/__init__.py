"""The `tls` kind: a server's certificate (days to expiry, trusted chain, matching name) and handshake."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.tls.spec import TlsProbe, tls_series_units

# `timeout` bounds connecting and the handshake(s); closing each connection may take up to 1 s more.
DEADLINE_MARGIN_S = 3.0


def _deadline(spec: TlsProbe, default: float) -> float:
    # let the probe's own timeout speak first, with its clearer reason
    return max(default, spec.timeout + DEADLINE_MARGIN_S)


KIND = ProbeKind(
    name="tls",
    spec=TlsProbe,
    summary="Connect to `host:port` over TLS; read the server certificate's expiry, chain and name.",
    measures=(
        Measure(
            "expires_in",
            "s",
            "Time until the leaf certificate's notAfter (negative once expired), e.g. "
            "`value > 14d`. Read even when the chain or the name does not verify.",
        ),
        Measure(
            "chain_valid",
            "bool",
            "Whether the chain verifies (trust, dates, signatures) against the system's trust "
            "store plus `ca_file`.",
        ),
        Measure(
            "hostname_valid",
            "bool",
            "Whether the certificate's subjectAltName covers `server_name` (default `host`).",
        ),
        Measure(
            "handshake",
            "s",
            "Name lookup, TCP connect and TLS handshake of the connection that read the certificate.",
        ),
        Measure("tls_version", "text", "The negotiated protocol version, e.g. `TLSv1.3`."),
    ),
    series_units=tls_series_units,
    talks_to_target=False,
    times_requests=True,
    measurer="sloprobe.probes.tls.measure:measure",
    deadline=_deadline,
    notes=(
        "With `verify: true` (the default) an untrusted or expired chain, or a name mismatch, "
        "fails the probe (`TLS error (certificate has expired)`); every series is still filled, "
        "so an SLO on `expires_in` still judges.",
    ),
)
