"""Values from a scraped exposition, computed as PromQL would: sums, rates, ratios, quantiles.

By default the matching series are summed (``sum(x)``). With ``each`` there is one
value per series, or per group of labels (``x``, ``sum by (queue) (x)``), each named,
because an alert rule such as ``x > 60`` judges every series on its own: two queues
at 37 s and 42 s are not one queue at 79 s. Between two scrapes counters and
histograms are differenced (resets per series); gauges are read as they are now.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from prometheus_client.parser import text_string_to_metric_families

from sloprobe.probes.prometheus.histogram import histogram_quantile, series_delta
from sloprobe.probes.prometheus.nan import nan_reason, prom_float, series_text
from sloprobe.probes.prometheus.spec import MetricSpec, Selector

Key = tuple[str, ...]
SHOWN = 3  # reasons named in a note; the rest are counted


class Scrape(dict[str, dict[Key, float]]):
    """Sample name → label set → value; ``types`` holds each sample name's family ``TYPE``."""

    def __init__(self) -> None:
        super().__init__()
        self.types: dict[str, str] = {}


def parse_exposition(text: str) -> Scrape:
    found = Scrape()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = tuple(sorted(f"{k}={v}" for k, v in sample.labels.items()))
            found.setdefault(sample.name, {})[key] = float(sample.value)
            found.types[sample.name] = family.type
    return found


def _names(selector: Selector, suffix: str) -> list[str]:
    names = [selector.name + suffix]
    if not suffix and not selector.name.endswith("_total"):
        names.append(selector.name + "_total")
    return names


def _matching(scrape: Scrape, selector: Selector, suffix: str = "") -> dict[Key, float]:
    wanted = {f"{k}={v}" for k, v in selector.labels.items()}
    out: dict[Key, float] = {}
    for name in _names(selector, suffix):
        for key, value in scrape.get(name, {}).items():
            if wanted <= set(key):
                out[key] = value
    return out


def _parts(
    spec: MetricSpec, after: Scrape, before: Scrape | None
) -> tuple[list[dict[Key, float]], bool]:
    """The series each part of ``spec`` reads, and whether they were differenced (counters)."""

    def read(selector: Selector, suffix: str = "") -> tuple[dict[Key, float], bool]:
        now = _matching(after, selector, suffix)
        gauge = any(after.types.get(n) == "gauge" for n in _names(selector, suffix))
        if before is None or spec.kind == "gauge" or (spec.kind == "ratio" and gauge):
            return now, False  # a ratio of gauges (cost / baseline) is read as it is now
        return series_delta(_matching(before, selector, suffix), now), True

    if spec.kind == "histogram_quantile":
        found, differenced = read(spec.selector, "_bucket")
        return [found], differenced
    if spec.kind == "ratio":
        assert spec.numerator is not None and spec.denominator is not None
        top, _ = read(spec.numerator)
        total, differenced = read(spec.denominator)
        return [top, total], differenced
    found, differenced = read(spec.selector)
    return [found], differenced


def _value(
    spec: MetricSpec, parts: Sequence[dict[Key, float]], seconds: float | None, differenced: bool
) -> tuple[float | None, str | None]:
    if spec.kind == "histogram_quantile":
        value, why = _quantile(spec, parts[0])
    elif spec.kind == "ratio":
        value, why = _ratio(spec, parts[0], parts[1], differenced)
    else:
        value, why = _summed(spec, parts[0], seconds)
    if value is not None and math.isnan(value):  # whatever computed it: NaN is no data
        return None, nan_reason([spec.name or "ratio"])
    return value, why


def evaluate_metric(
    spec: MetricSpec, after: Scrape, before: Scrape | None, seconds: float | None
) -> tuple[float | None, str | None]:
    """(value in the declared unit, None) or (None, why there is no data: absent, or NaN)."""
    parts, differenced = _parts(spec, after, before)
    return _value(spec, parts, seconds, differenced)


def evaluate_each(
    spec: MetricSpec, after: Scrape, before: Scrape | None, seconds: float | None
) -> tuple[list[tuple[str, float]], str | None]:
    """One named value per series or group (``each``), and why some (or all) have none.

    A ratio matches its numerator and denominator on the group's labels, as PromQL's
    ``/`` does; a group on one side only is left out.
    """
    parts, differenced = _parts(spec, after, before)
    if not all(parts):
        return [], _value(spec, parts, seconds, differenced)[1]  # not exposed, said as such
    grouped = [_group(part, spec.each) for part in parts]
    keys = sorted(set(grouped[0]).intersection(*grouped[1:]))
    if not keys:
        assert spec.numerator is not None and spec.denominator is not None
        return [], (
            f"no series of `{spec.numerator.name}` has the labels {_by(spec.each)} of a series "
            f"of `{spec.denominator.name}`"
        )
    values: list[tuple[str, float]] = []
    left_out: list[str] = []
    for key in keys:
        value, why = _value(spec, [group[key] for group in grouped], seconds, differenced)
        if value is None:
            left_out.append(f"{_shown(key)}: {why}" if key and _shown(key) else why or "no data")
        else:
            values.append((_shown(key), value))
    if not left_out:
        return values, None
    said = "; ".join(left_out[:SHOWN]) + (
        f"; and {len(left_out) - SHOWN} more" if len(left_out) > SHOWN else ""
    )
    if not values:
        return [], said
    return values, f"{len(left_out)} of {len(keys)} series left out: {said}"


def _group(found: Mapping[Key, float], each: str | list[str] | None) -> dict[Key, dict[Key, float]]:
    groups: dict[Key, dict[Key, float]] = {}
    for key, value in found.items():
        pairs = dict(part.split("=", 1) for part in key)
        pairs.pop("le", None)  # a histogram's buckets stay together
        if each == "series":
            group = tuple(sorted(f"{k}={v}" for k, v in pairs.items()))
        else:
            group = tuple(f"{name}={pairs.get(name, '')}" for name in each or ())
        groups.setdefault(group, {})[key] = value
    return groups


def _shown(key: Key) -> str:
    """A group as PromQL writes its labels, ``{queue="video"}`` (an empty label is absent);
    "" for a series without labels: there is nothing to name."""
    labels = {k: v for k, v in (part.split("=", 1) for part in key) if v}
    return series_text("", labels) if labels else ""


def _by(each: str | list[str] | None) -> str:
    return "of each series" if each == "series" else f"({', '.join(each or ())})"


def _series(name: str, key: Key) -> str:
    return series_text(name, dict(part.split("=", 1) for part in key))


def _nan_series(selector: Selector, found: Mapping[Key, float]) -> str | None:
    """Why a sum over ``found`` is no data: the series in it that are NaN (as PromQL's sum)."""
    nan = [_series(selector.name, key) for key, value in found.items() if math.isnan(value)]
    if not nan:
        return None
    whole = f", so the sum of its {len(found)} series is too" if len(found) > 1 else ""
    return nan_reason(nan) + whole


def _summed(
    spec: MetricSpec, found: dict[Key, float], seconds: float | None
) -> tuple[float | None, str | None]:
    """A gauge, a counter or a rate: the sum over the matching series."""
    if not found:
        labels = f" with labels {spec.labels}" if spec.labels else ""
        return None, f"metric `{spec.name}`{labels} is not exposed"
    nan = _nan_series(spec.selector, found)
    if nan is not None:
        return None, nan
    total = sum(found.values())
    if spec.kind == "rate":
        assert seconds
        return total / seconds, None
    return total, None


def _ratio(
    spec: MetricSpec, numerator: dict[Key, float], denominator: dict[Key, float], differenced: bool
) -> tuple[float | None, str | None]:
    assert spec.numerator is not None and spec.denominator is not None
    for part, found in ((spec.numerator, numerator), (spec.denominator, denominator)):
        if not found:  # as PromQL: a series that does not exist is no data, not 0
            shown = f" with labels {part.labels}" if part.labels else ""
            return None, f"metric `{part.name}`{shown} is not exposed"
        nan = _nan_series(part, found)
        if nan is not None:
            return None, nan
    top, total = sum(numerator.values()), sum(denominator.values())
    if not total:
        if differenced:  # a counter: nothing happened between the two scrapes
            return None, f"the denominator `{spec.denominator.name}` did not grow"
        return None, f"the denominator `{spec.denominator.name}` is 0"
    if math.isinf(top) and math.isinf(total):  # +Inf / +Inf: NaN, said with its parts
        shown = f"{spec.numerator.name} / {spec.denominator.name}"
        return None, nan_reason([shown], f"{prom_float(top)} / {prom_float(total)}")
    return top / total, None


def _quantile(spec: MetricSpec, found: dict[Key, float]) -> tuple[float | None, str | None]:
    """``histogram_quantile`` over the summed ``_bucket`` series, as Prometheus computes it."""
    buckets: dict[float, float] = {}
    for key, count in found.items():
        le = next((part[3:] for part in key if part.startswith("le=")), None)
        if le is not None:
            bound = math.inf if le in ("+Inf", "Inf") else float(le)
            buckets[bound] = buckets.get(bound, 0.0) + count
    if not buckets:
        labels = f" with labels {spec.labels}" if spec.labels else ""
        return (
            None,
            f"histogram `{spec.name}`{labels} is not exposed (no `{spec.name}_bucket` series)",
        )
    nan = _nan_series(Selector(name=f"{spec.name}_bucket"), found)
    if nan is not None:
        return None, nan
    assert spec.quantile is not None
    result = histogram_quantile(spec.quantile, list(buckets.items()))
    if result is not None:
        return result, None
    if not max(buckets.values(), default=0.0):
        return None, "no observations in the interval"
    return None, f"histogram_quantile({spec.quantile:g}) is NaN here, as Prometheus answers"
