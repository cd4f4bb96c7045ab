"""The `job` kind: submit a real test job, follow it to its end, and time every phase."""

from __future__ import annotations

from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.job.spec import JOB_SERIES, JobProbe

JOB_DEADLINE_MARGIN_S = 30.0


def _deadline(spec: JobProbe, default: float) -> float:
    # let the job's own poll timeout speak first, with its clearer reason
    return max(default, spec.poll.timeout + JOB_DEADLINE_MARGIN_S)


KIND = ProbeKind(
    name="job",
    spec=JobProbe,
    summary="Submit a real test job (after optional set-up requests), poll its status to the end, clean up.",
    measures=(
        Measure("submit", "s", "Time the submit request took."),
        Measure(
            "queue_wait",
            "s",
            "From submission until a worker took the job (the job's own timestamps when it has them).",
        ),
        Measure("processing", "s", "From start to end of the job's processing."),
        Measure("total", "s", "From sending the submit request until a poll saw the job end."),
        Measure(
            "state", "text", "The last state the status answer gave, e.g. `succeeded` or `FAILURE`."
        ),
        Measure("succeeded", "bool", "Whether the job ended in one of the `success` states."),
    ),
    series_units=lambda spec: dict(JOB_SERIES),
    talks_to_target=True,
    measurer="sloprobe.probes.job.measure:measure",
    deadline=_deadline,
)
