"""NaN from Prometheus is no data, named by the series that gave it; ±Inf is a value.

Prometheus answers NaN for 0/0: a ratio or rate over an interval without
events, a ``histogram_quantile`` without observations, a gauge the exporter
set so. That is nothing to measure, never a number to hold to a threshold
(``nan < 30`` is false: it would read as a breach). The judge applies the same
rule to every kind (:mod:`sloprobe.judge.evaluate`); the two Prometheus kinds
share these helpers so their reasons say *which* series or query was NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

NAN_MEANS = "0/0 or no observations"
SHOWN = 3  # series named in a reason; the rest are counted

NAN_NOTE = (
    "**NaN is no data, ±Inf is a value.** A NaN (Prometheus's 0/0: a ratio or rate without "
    "events, a quantile without observations, an exporter's NaN gauge) is never judged against "
    "a threshold: the measure is `no_data`, and its reason names the series or query that gave "
    'NaN (`x{queue="a"} is NaN (0/0 or no observations)`). A sum over series (a '
    "`gauge` or `counter` of several label sets, a `ratio`'s numerator) is NaN if one of them "
    "is, as in PromQL; in a `promql` vector each NaN element is left out, the others are "
    "judged, and the measure's note in the report names the ones left out. ±Inf is a real "
    "value: `+Inf` breaches `value < 30s`. The judge applies the same rule to every kind."
)


def series_text(name: str, labels: Mapping[str, str]) -> str:
    """A series as PromQL writes it, ``x{queue="a"}``, so a reason can be pasted into a query."""
    pairs = ", ".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{pairs}}}" if pairs else name or "{}"


def nan_reason(names: Sequence[str], why: str = NAN_MEANS) -> str:
    """The no-data reason naming NaN series (the first few of them), one or several."""
    shown = ", ".join(f"`{n}`" for n in names[:SHOWN])
    if len(names) > SHOWN:
        shown += f" and {len(names) - SHOWN} more"
    return f"{shown} {'is' if len(names) == 1 else 'are'} NaN ({why})"


def finite_elements(elements: Sequence[tuple[str, float]]) -> tuple[list[float], str | None]:
    """A vector's values without its NaN elements, and the note (or no-data reason) naming those."""
    kept = [value for _, value in elements if not math.isnan(value)]
    nan = [name for name, value in elements if math.isnan(value)]
    if not nan:
        return kept, None
    if not kept:
        return [], nan_reason(nan)
    return kept, f"{len(nan)} of {len(elements)} series left out: {nan_reason(nan)}"


def prom_float(value: float) -> str:
    """A float as Prometheus writes it: ``+Inf``, ``-Inf``, ``NaN``, else ``%g``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:g}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
