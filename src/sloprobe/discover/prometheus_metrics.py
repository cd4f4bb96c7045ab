"""The Prometheus source: a text exposition (``/metrics`` or ``--metrics URL``), one scrape.

Parsed with ``prometheus_client.parser``; values computed with the
``prometheus`` kind's own code, so what discovery saw is what a run reads.
A histogram with a time unit in its name becomes a p95 SLO (its bound a
multiple of the p95 seen since the process started); a queue gauge a depth
SLO; a worker gauge a liveness SLO. A metric with labels is judged per label
set (``each``). Counters and the rest are listed in a comment, not proposed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from sloprobe.discover import thresholds as rules
from sloprobe.discover.classify import words
from sloprobe.discover.model import Probe, Slo, slug, unique
from sloprobe.probes.prometheus.compute import evaluate_each, evaluate_metric, parse_exposition
from sloprobe.probes.prometheus.spec import HISTOGRAM_INTERVAL, MetricSpec

MAX_METRICS = 8
MAX_SKIPPED = 10
_TIME_UNITS = {"seconds": "s", "milliseconds": "ms", "ms": "ms"}
_QUEUE = frozenset(["queue", "queued", "backlog", "waiting", "pending"])
_DEPTH = frozenset(
    [
        "depth",
        "length",
        "size",
        "waiting",
        "pending",
        "backlog",
        "queued",
        "jobs",
        "messages",
        "count",
    ]
)
_NOT_DEPTH = frozenset(["age", "seconds", "time", "latency", "duration", "bytes", "total"])
_WORKER = frozenset(["worker", "workers"])
_LIVE = frozenset(["active", "alive", "up", "live", "online", "count", "running"])


def _observed(spec: MetricSpec, scrape: Any) -> float | None:
    if spec.each is None:
        return evaluate_metric(spec, scrape, None, None)[0]
    named, _ = evaluate_each(spec, scrape, None, None)
    values = [v for _, v in named]
    return max(values) if values else None


def _labels(family: Any) -> list[str]:
    names = {k for s in family.samples for k in s.labels if k not in ("le", "quantile")}
    return sorted(names)


@dataclass(frozen=True)
class _Metric:
    spec: dict[str, Any]
    note: str  # beside the metric: what was seen
    threshold: str
    why: list[str]
    warn: str | None = None
    no_data_pass: bool = False


def metrics_proposal(
    text: str, url: Any, origin: str, taken: set[str], show: Any
) -> tuple[list[Probe], list[Slo], str]:
    """The probe and SLOs an exposition gives, and a line saying what was in it."""
    try:
        families = [
            f for f in text_string_to_metric_families(text) if not f.name.endswith("_created")
        ]
        scrape = parse_exposition(text)
    except (ValueError, TypeError, IndexError) as exc:
        return [], [], f"not a Prometheus text exposition ({show(str(exc))})"
    probe_name = unique("metrics", set(taken))
    metrics: dict[str, Any] = {}
    notes: dict[tuple[str, ...], str] = {}
    slos: list[Slo] = []
    skipped: list[str] = []
    for family in families:
        found = _family(family, scrape)
        if found is None or len(metrics) >= MAX_METRICS:
            skipped.append(family.name)
            continue
        if isinstance(found, str):
            skipped.append(f"{family.name} ({found})")
            continue
        key = unique(slug(family.name), set(metrics))
        metrics[key] = found.spec
        notes[("metrics", key)] = found.note
        description = f"{family.name}, from the exposition."
        slo = Slo(unique(key, taken), probe_name, key, found.threshold, description, found.why)
        slo.warn, slo.no_data_pass = found.warn, found.no_data_pass
        slos.append(slo)
    summary = f"{len(families)} metric families, {len(metrics)} proposed"
    if not metrics:
        return [], [], summary
    taken.add(probe_name)
    lines = [f"From {origin}: {summary}."]
    if skipped:
        more = " …" if len(skipped) > MAX_SKIPPED else ""
        lines.append(f"Seen, not proposed: {', '.join(skipped[:MAX_SKIPPED])}{more}.")
    if any(m["kind"] == "histogram_quantile" for m in metrics.values() if "kind" in m):
        lines.append(
            f"A histogram is judged over two scrapes {HISTOGRAM_INTERVAL:g} s apart "
            "(the kind's default): each run waits that long."
        )
    options: dict[str, Any] = {"url": url, "metrics": metrics}
    probe = Probe(probe_name, "prometheus", options, "The service's Prometheus metrics.", lines)
    probe.notes = notes
    return [probe], slos, summary


def _family(family: Any, scrape: Any) -> _Metric | str | None:
    """What one metric family gives: a metric and its SLO, why not (text), or None (not asked)."""
    said = set(words(family.name))
    labels = _labels(family)
    each: dict[str, Any] = {"each": labels} if labels else {}
    per = f", per {', '.join(labels)}" if labels else ""
    if family.type == "histogram":
        units = [_TIME_UNITS[w] for w in words(family.name) if w in _TIME_UNITS]
        if not units:
            return "a histogram without a time unit in its name"
        spec = {"name": family.name, "kind": "histogram_quantile", "quantile": 0.95}
        spec = {**spec, "unit": units[-1], **each}
        model = MetricSpec.model_validate(spec)
        p95 = _observed(model, scrape)
        if p95 is None:
            return "no observations yet"
        p95_s = model.unit.to_base(p95)
        bound, why = rules.latency_bound(p95_s)
        threshold = f"{'max' if labels else 'value'} < {bound}"
        return _Metric(
            spec,
            f"p95{per}; seen {rules.shown(p95_s)}",
            threshold,
            [
                f"{why}; p95 over every observation since the process started.",
                "A run judges the last window only; a window with no observation "
                "gives no value, and passes.",
            ],
            no_data_pass=True,
        )
    if family.type != "gauge":
        return None
    if said & _QUEUE and said & _DEPTH and not said & _NOT_DEPTH:
        spec = {"name": family.name, "unit": "count", **each}
        value = _observed(MetricSpec.model_validate(spec), scrape)
        threshold, warn, why = rules.queue_rule()
        if labels:
            threshold, warn = threshold.replace("value", "max"), warn.replace("value", "max")
        now = " (it breaches now)" if value is not None and value >= rules.QUEUE_BREACH else ""
        seen = f"seen: max {_seen(value)}{per}" if labels else f"seen: {_seen(value)}"
        return _Metric(spec, f"{seen}{now}", threshold, [f"{why}."], warn)
    if said & _WORKER and said & _LIVE:
        spec = {"name": family.name, "unit": "count"}  # live workers: summed over label sets
        value = _observed(MetricSpec.model_validate(spec), scrape)
        if value is None or value < rules.WORKERS_MIN:
            return f"seen {_seen(value)}: no live worker now"
        threshold, why = rules.workers_rule()
        return _Metric(spec, f"seen: {_seen(value)}", threshold, [f"{why}."])
    return None


def _seen(value: float | None) -> str:
    return "absent" if value is None else f"{value:g}"
