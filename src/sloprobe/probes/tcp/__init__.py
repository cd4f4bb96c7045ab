"""The `tcp` kind: open a TCP connection N times; time it, optionally send text and match the answer."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.tcp.spec import TcpProbe, tcp_series_units

DEADLINE_MARGIN_S = 5.0


def _deadline(spec: TcpProbe, default: float) -> float:
    # the DNS lookup and one sample may each take `timeout`: let the probe's own reason speak first
    return max(default, 2 * spec.timeout + DEADLINE_MARGIN_S)


KIND = ProbeKind(
    name="tcp",
    spec=TcpProbe,
    summary="Connect to a TCP port N times; time the connect, optionally send text and match the answer.",
    measures=(
        Measure(
            "connect",
            "s",
            "Time to open the TCP connection (after the DNS lookup), per sample.",
        ),
        Measure(
            "ok",
            "bool",
            "Whether each sample connected and, with `expect`, the answer matched it.",
        ),
        Measure(
            "banner",
            "text",
            "With `expect` only: the first line the server sent (at most 200 characters, secrets "
            "masked), per sample.",
        ),
    ),
    series_units=tcp_series_units,
    talks_to_target=False,
    times_requests=True,
    measurer="sloprobe.probes.tcp.measure:measure",
    deadline=_deadline,
    notes=(
        "Without `expect` the probe reads nothing, so a server that never speaks first "
        "(HTTP, PostgreSQL) is not waited for.",
        "A sample that cannot connect or times out ends the run of samples: more would only wait longer.",
    ),
)
