"""HTTP endpoints that answered (or that a schema describes) → ``http`` probes and their SLOs.

Health endpoints always become a probe (the first one that answered is also
sampled for latency); any other endpoint only when one of its fields is
worth an SLO. Queue depth, live workers and each rate are proposed once, from
the best-matching field of all answers; states of health, from every answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sloprobe.discover import thresholds as rules
from sloprobe.discover.classify import Pick, Unclear, classify
from sloprobe.discover.leaves import answer_leaves
from sloprobe.discover.model import Leaf, Probe, Slo, slug, unique
from sloprobe.model.units import Unit
from sloprobe.probes.http.measure import ABSENT
from sloprobe.probes.http.spec import HTTP_SERIES

MAX_STATES = 6  # healthy states proposed per endpoint (the overall one and each component's)
MAX_DURATIONS = 3
MAX_UNCLEAR = 6  # fields said in a comment, not proposed
MAX_OTHERS = 12  # numbers with no rule, named in a comment
ONCE = {
    "workers": "a live-worker count",
    "queue": "a queue depth",
    "success_rate": "a success rate",
    "failure_rate": "a failure rate",
}


@dataclass
class Endpoint:
    path: str
    origin: str  # `operation x (GET /p)` or `well-known path /p`
    health: bool
    said: str  # the answer in words
    leaves: list[Leaf] = field(default_factory=list)
    answered: bool = False  # a 2xx answer was read
    refused: bool = False  # 401/403: written commented out if its schema shows fields
    latency: list[float] = field(default_factory=list)  # samples sent for the latency SLO


def endpoint_from(path: str, origin: str, health: bool, seen: Any) -> Endpoint:
    """An endpoint from a :class:`~.asker.Seen` answer."""
    document = seen.json() if seen.ok else ABSENT
    leaves = answer_leaves(document) if document is not ABSENT else []
    refused = seen.status in (401, 403)
    said = str(seen.status) if seen.status is not None else seen.problem or "nothing"
    return Endpoint(path, origin, health, said, leaves, seen.ok, refused)


def _shown_value(leaf: Leaf, show: Any) -> str:
    if not leaf.observed:
        enum = f", one of {', '.join(leaf.enum)}" if leaf.enum else ""
        return f"{leaf.type} in the response schema{enum}"
    if isinstance(leaf.value, list):
        return f"a list of {len(leaf.value)}"
    return (
        "null"
        if leaf.value is None
        else show(repr(leaf.value) if isinstance(leaf.value, str) else str(leaf.value))
    )


def _best(picks: list[tuple[Endpoint, Pick]], category: str) -> list[tuple[Endpoint, Pick]]:
    chosen = [(e, p) for e, p in picks if p.category == category]
    chosen.sort(key=lambda ep: (not ep[1].leaf.observed, -ep[1].score))
    return chosen[:1]


def http_proposals(
    endpoints: list[Endpoint], taken: set[str], show: Any
) -> tuple[list[Probe], list[Slo]]:
    picks: list[tuple[Endpoint, Pick]] = []
    unclear: dict[str, list[Unclear]] = {}
    others: dict[str, list[str]] = {}
    for endpoint in endpoints:
        for leaf in endpoint.leaves:
            found = classify(leaf)
            if isinstance(found, Pick):
                picks.append((endpoint, found))
            elif isinstance(found, Unclear):
                unclear.setdefault(endpoint.path, []).append(found)
            elif leaf.observed and leaf.type in ("integer", "number"):
                others.setdefault(endpoint.path, []).append(leaf.path)
    chosen: list[tuple[Endpoint, Pick]] = []
    for endpoint in endpoints:
        states = [p for e, p in picks if e is endpoint and p.category in ("status", "flag")]
        chosen += [(endpoint, p) for p in sorted(states, key=lambda p: -p.score)[:MAX_STATES]]
    for category, what in ONCE.items():
        best = _best(picks, category)
        chosen += best
        for endpoint, pick in picks:  # the runners-up: said, not proposed twice
            if best and pick.category == category and pick is not best[0][1]:
                where = "" if best[0][0] is endpoint else f" ({show(best[0][0].path)})"
                why = f"{what} too; proposed: {best[0][1].leaf.path}{where}"
                unclear.setdefault(endpoint.path, []).append(Unclear(pick.leaf, why))
    durations = [(e, p) for e, p in picks if p.category == "duration"]
    keys: set[str] = set()
    for endpoint, pick in durations:
        if pick.leaf.key not in keys and len(keys) < MAX_DURATIONS:
            keys.add(pick.leaf.key)
            chosen.append((endpoint, pick))
    probes: list[Probe] = []
    slos: list[Slo] = []
    for endpoint in endpoints:
        mine = [p for e, p in chosen if e is endpoint]
        if not (endpoint.health and endpoint.answered) and not mine:
            continue
        probe = _probe(endpoint, mine, taken, show, unclear.get(endpoint.path, []))
        rest = others.get(endpoint.path, [])
        if rest:
            more = f" (and {len(rest) - MAX_OTHERS} more)" if len(rest) > MAX_OTHERS else ""
            probe.origin.append(
                f"Seen, no rule proposes an SLO on: {', '.join(rest[:MAX_OTHERS])}{more}."
            )
        probes.append(probe)
        slos += _slos(endpoint, probe, mine, taken, show)
    return probes, slos


def _probe(
    endpoint: Endpoint, picks: list[Pick], taken: set[str], show: Any, unclear: list[Unclear]
) -> Probe:
    name = unique(slug(endpoint.path, "health"), taken)
    options: dict[str, Any] = {"path": endpoint.path}
    notes: dict[tuple[str, ...], str] = {}
    if endpoint.latency:
        options["samples"] = len(endpoint.latency)
        notes[("samples",)] = "requests per run: the latency SLO is a p95 over them"
    values: dict[str, Any] = {}
    for pick in picks:
        value_name = _value_name(pick, set(values))
        spec: dict[str, Any] = {"json": pick.leaf.path}
        if pick.length:
            spec["length"] = True
        if pick.unit != "none":
            spec["unit"] = pick.unit
        values[value_name] = spec
        notes[("values", value_name)] = f"seen: {_shown_value(pick.leaf, show)}"
    if values:
        options["values"] = values
    origin = [f"From {endpoint.origin}, which answered {endpoint.said}."]
    for item in unclear[:MAX_UNCLEAR]:
        # every reason is sloprobe's words, numbers, and keys SAFE_KEY lets through
        origin.append(f"Seen, not proposed: {item.leaf.path} ({item.why}).")
    disabled: list[str] = []
    if not endpoint.answered:
        disabled = [
            "Its answer was not read during discovery (it was refused): the fields come from",
            "the response schema. Give auth (see target) and enable it, or run discover with auth.",
        ]
    kind = "health endpoint" if endpoint.health else "endpoint"
    return Probe(name, "http", options, f"The {kind} {endpoint.path}.", origin, notes, disabled)


def _value_name(pick: Pick, taken: set[str]) -> str:
    """The value's name in the probe; never one of the series every http request records."""
    base = {
        "workers": "workers",
        "queue": "queued",
        "success_rate": "success-rate",
        "failure_rate": "failure-rate",
    }.get(pick.category) or slug(pick.leaf.path, "value")
    if base in HTTP_SERIES:
        base = "state" if base == "status" else f"{base}-field"
    return unique(base, taken | set(HTTP_SERIES))


def _slos(
    endpoint: Endpoint, probe: Probe, picks: list[Pick], taken: set[str], show: Any
) -> list[Slo]:
    slos: list[Slo] = []
    if endpoint.latency:
        p95 = _p95(endpoint.latency)
        bound, why = rules.latency_bound(p95)
        slos.append(
            Slo(
                unique(f"{probe.name}-latency", taken),
                probe.name,
                "latency",
                f"p95 < {bound}",
                f"{endpoint.path} answers fast.",
                [f"{why} ({len(endpoint.latency)} requests during discovery)."],
            )
        )
    if endpoint.health and endpoint.answered and not any(p.category == "status" for p in picks):
        slos.append(
            Slo(
                unique(f"{probe.name}-up", taken),
                probe.name,
                "ok",
                "rate == 100%",
                f"{endpoint.path} answers 2xx.",
                ["Every request answered 2xx (the http kind's default expect)."],
            )
        )
    values = list(probe.options.get("values", {}))
    for value_name, pick in zip(values, picks, strict=True):
        slos.append(_value_slo(probe, value_name, pick, taken))
    return slos


def _value_slo(probe: Probe, value_name: str, pick: Pick, taken: set[str]) -> Slo:
    seen = pick.leaf.path
    name = f"{probe.name}-{value_name}"
    if pick.category == "status":
        what = "up" if pick.leaf.parts == ("status",) else value_name
        why = "the state seen" if pick.leaf.observed else "the healthy state of the schema's enum"
        threshold, says, comment = (
            f'value == "{pick.expected}"',
            f"{seen} says {pick.expected}.",
            f"{why.capitalize()} during discovery.",
        )
        if pick.expected == "pass":  # the health check format: `warn` is up too, `fail` down
            threshold, says = "value in [pass, warn]", f"{seen} says pass or warn."
            comment = (
                f"{why.capitalize()} during discovery: pass, warn and fail are the health check "
                "format's states (draft-inadarei-api-health-check), warn is up."
            )
        return Slo(
            unique(f"{probe.name}-{what}", taken),
            probe.name,
            value_name,
            threshold,
            says,
            [comment],
        )
    if pick.category == "flag":
        return Slo(
            unique(name, taken),
            probe.name,
            value_name,
            "value == true",
            f"{seen} is true.",
            ["Seen true during discovery."],
        )
    if pick.category == "workers":
        threshold, why = rules.workers_rule()
        return Slo(
            unique("workers-live", taken),
            probe.name,
            value_name,
            threshold,
            "At least one worker is taking jobs.",
            [f"{why}."],
        )
    if pick.category == "queue":
        threshold, warn, why = rules.queue_rule()
        return Slo(
            unique("queue-depth", taken),
            probe.name,
            value_name,
            threshold,
            "Jobs are not piling up.",
            [f"{why}."],
            warn,
        )
    if pick.category in ("success_rate", "failure_rate"):
        success = pick.category == "success_rate"
        threshold, warn, why = rules.success_rule() if success else rules.failure_rule()
        word = "succeed" if success else "rarely fail"
        return Slo(
            unique(f"job-{value_name}", taken),
            probe.name,
            value_name,
            threshold,
            f"Jobs {word}.",
            [f"{why}; a window with no finished job gives no value, and passes."],
            warn,
            no_data_pass=True,
        )
    observed_s = Unit(pick.unit).to_base(float(pick.leaf.value))  # `latency_ms: 12` is 0.012 s
    bound, why = rules.duration_bound(observed_s, pick.response_time)
    return Slo(
        unique(value_name, taken),
        probe.name,
        value_name,
        f"value < {bound}",
        f"{seen} stays low.",
        [f"{why}; no value (null) passes."],
        no_data_pass=True,
    )


def _p95(samples: list[float]) -> float:
    from sloprobe.model.percentiles import percentile

    return percentile(samples, 95)
