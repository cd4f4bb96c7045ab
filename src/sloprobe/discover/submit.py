"""``--submit-job``: the one job discovery may send, and what its real answers tell.

Only on request, and only when every submit field has a known value (an
allowed value, example or default: a ``${VAR}`` is never guessed). One
``POST``, never retried, marked synthetic like the probes' own jobs; then
``GET``s of its status, backing off, within the job source's request budget
and :data:`~sloprobe.discover.thresholds.JOB_TOTAL_S`. From the answers:
the id's and the state's JSON paths when the schema did not say them, and the
round trip, which sets the ``total`` bound as any observed duration does
(:func:`~sloprobe.discover.thresholds.duration_bound`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from sloprobe.discover import thresholds as rules
from sloprobe.discover.asker import Asker, Seen
from sloprobe.discover.jobs import FAILURE, SAFE_VALUE, SUCCESS, WAITING, id_names, pick
from sloprobe.discover.leaves import answer_leaves
from sloprobe.discover.model import FOUND, NOT_ASKED, REFUSED, Leaf, Probe, Proposal, Slo, Var
from sloprobe.probes.http.measure import ABSENT, dig
from sloprobe.probes.job.measure import fill_path

SOURCE = "job"
POLL_WAITS_S = (0.25, 0.5, 1.0, 2.0)  # then every 2 s
STATE_NAMES = ("status", "state")
STATE_WORDS = SUCCESS | FAILURE | WAITING | {"running", "processing", "active", "started"}
SEEN = "seen in the answer to the job discovery submitted (--submit-job)"


@dataclass
class _Followed:
    """What following the submitted job saw."""

    id_value: str
    state: str | None = None
    ended: str | None = None  # "success" or "failure" once it ended
    took_s: float | None = None
    polls: int = 0
    problem: str | None = None
    states: list[str] = field(default_factory=list)  # each state seen, in order, once


async def submit_job(
    asker: Asker, probe: Probe, slos: list[Slo], proposal: Proposal, show: Any
) -> tuple[str, str]:
    """Send the job, fill in what its answers show; (state, detail) for the source report."""
    submit: dict[str, Any] = probe.options["submit"]
    status: dict[str, Any] = probe.options["status"]
    style = "json" if "json" in submit else "form"
    body = dict(submit.get(style) or {})
    unknown = [v[2:-1] for v in body.values() if isinstance(v, Var)]
    if unknown:
        return NOT_ASKED, f"not sent: no known value for {', '.join(unknown)} (fill it in first)"
    if submit.get("synthetic_field"):
        body[submit["synthetic_field"]] = True
    clock = time.monotonic()
    if style == "json":
        seen = await asker.submit(SOURCE, submit["path"], json_body=body or None)
    else:
        form = {k: _text(v) for k, v in body.items()}
        seen = await asker.submit(SOURCE, submit["path"], form=form or None)
    if not seen.ok:
        return REFUSED, f"the proposed submit was refused: {seen.said()}"
    answer = seen.json()
    names = probe.hints.get("id_names") or id_names("id")
    id_path = _learn(probe, ("submit", "id"), submit, "id", answer, names, proposal)
    id_value = dig(answer, id_path) if id_path is not None else ABSENT
    if id_value is ABSENT or not isinstance(id_value, str | int) or isinstance(id_value, bool):
        return FOUND, f"{seen.said()}, but its answer holds no job id the probe can follow"
    followed = await _follow(asker, probe, status, str(id_value), proposal, clock)
    _resolve_fill(probe)
    _set_total(probe, slos, followed)
    return FOUND, _said(seen, followed, show)


def _learn(
    probe: Probe,
    where: tuple[str, ...],
    options: dict[str, Any],
    key: str,
    answer: Any,
    names: tuple[str, ...],
    proposal: Proposal,
) -> str | None:
    """The JSON path at ``options[key]``, read from ``answer`` when the schema left it a Var."""
    current = options.get(key)
    if not isinstance(current, Var):
        return str(current) if current is not None else None
    scalars = [leaf for leaf in answer_leaves(answer) if leaf.type in ("string", "integer")]
    leaf: Leaf | None = pick(scalars, *names)
    if leaf is None and names == STATE_NAMES:  # else the field whose value is a job's state
        leaf = next((f for f in scalars if str(f.value).lower() in STATE_WORDS), None)
    if leaf is None:
        return None
    options[key] = leaf.path
    probe.notes[where] = f"`{leaf.path}`: {SEEN}"
    proposal.variables.pop(current[2:-1], None)
    return leaf.path


def _writable(state: str, asker: Asker) -> bool:
    """A state read from an answer may go into the file: plain text, nothing the redactor masks."""
    return bool(SAFE_VALUE.match(state)) and asker.context.redactor(state) == state


async def _follow(
    asker: Asker,
    probe: Probe,
    status: dict[str, Any],
    id_value: str,
    proposal: Proposal,
    clock: float,
) -> _Followed:
    followed = _Followed(id_value)
    path = fill_path(status["path"], {"id": id_value})
    success = {str(v).lower() for v in status.get("success") or SUCCESS}
    failure = {str(v).lower() for v in status.get("failure") or FAILURE}
    waits = iter(POLL_WAITS_S)
    while time.monotonic() - clock < rules.JOB_TOTAL_S:
        seen: Seen = await asker.get(SOURCE, path, fresh=True)
        if seen.answer is None:
            followed.problem = seen.said()
            return followed
        followed.polls += 1
        answer = seen.json()
        field = _learn(probe, ("status", "field"), status, "field", answer, STATE_NAMES, proposal)
        state = dig(answer, field) if seen.ok and field is not None else ABSENT
        if isinstance(state, str | int) and not isinstance(state, bool):
            followed.state = str(state)
            if followed.state not in followed.states and _writable(followed.state, asker):
                followed.states.append(followed.state)
            if followed.state.lower() in success | failure:
                followed.ended = "success" if followed.state.lower() in success else "failure"
                followed.took_s = time.monotonic() - clock
                _name_states(probe, status, followed)
                return followed
        elif not seen.ok:
            followed.problem = seen.said()
            return followed
        elif field is None:
            followed.problem = f"{seen.said()}: no field of its answer holds a job's state"
            return followed
        await asyncio.sleep(next(waits, POLL_WAITS_S[-1]))
    followed.problem = f"still {followed.state or 'unknown'} after {rules.shown(rules.JOB_TOTAL_S)}"
    return followed


def _name_states(probe: Probe, status: dict[str, Any], followed: _Followed) -> None:
    """Without an enum the kind's default states apply: say the ones seen, in case they are not
    among them (the end state; a worker's states, those neither waiting nor ended)."""
    ended = followed.ended or ""
    if ended not in status and followed.state in followed.states:  # seen, and writable
        status[ended] = [followed.state]
        probe.notes[("status", ended)] = f"the end state {SEEN}"
    ends = {state.lower() for state in status.get(ended, [])}
    working = [s for s in followed.states if s.lower() not in WAITING | SUCCESS | FAILURE | ends]
    if working and "running" not in status and ended == "success":
        status["running"] = working
        probe.notes[("status", "running")] = f"a worker's state {SEEN}"


def _resolve_fill(probe: Probe) -> None:
    """Drop the fill-in lines of variables the answers resolved; none left: the probe is live."""
    left = set(probe.variables())
    kept = [line for line in probe.disabled[1:] if line.split(":", 1)[0] in left]
    probe.disabled = [probe.disabled[0], *kept] if kept else []


def _set_total(probe: Probe, slos: list[Slo], followed: _Followed) -> None:
    probe.origin = [
        line.replace("Discovery sent none.", "Discovery sent one (--submit-job).")
        for line in probe.origin
    ]
    if followed.ended != "success" or followed.took_s is None:
        return
    for slo in slos:
        if slo.probe == probe.name and slo.measure == "total":
            bound, why = rules.duration_bound(followed.took_s, response_time=False)
            slo.threshold = f"value < {bound}"
            slo.why = [f"The job discovery submitted took {why.removeprefix('observed ')}."]


def _said(seen: Seen, followed: _Followed, show: Any) -> str:
    job = f"job {show(followed.id_value)}"
    if followed.ended is not None and followed.took_s is not None:
        state = show(followed.state or "")
        return (
            f"{seen.said()}: {job} ended {state} ({followed.ended}) in "
            f"{rules.shown(followed.took_s)}, {followed.polls} polls"
        )
    return f"{seen.said()}: {job} {show(followed.problem or 'did not end')}"


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
