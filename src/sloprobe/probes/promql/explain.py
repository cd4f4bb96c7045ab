"""Why a PromQL query returned no samples, and which window it judges.

"The query returned no samples" hides two different things: a metric that does
not exist on this Prometheus (misspelt, never scraped: fix the config) and a
metric that exists while the query's matchers or arithmetic select nothing
(a ratio whose numerator has no 5xx series yet: the query needs ``or vector(0)``).
So the probe asks ``count(<metric>)`` of each metric the query names, and says which.
"""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.I)
_BRACES = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[([^\]]*)\]")
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = frozenset(
    [
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "inf",
        "nan",
    ]
)
NAMED = 3  # metrics of one query asked about


def metric_names(query: str) -> list[str]:
    """The metric names a query selects (``rate(x_total{a="b"}[5m])`` → ``x_total``), in order."""
    text = _STRING.sub('""', query)
    text = _GROUPING.sub(" ", text)
    text = _BRACES.sub("{}", text)
    text = _RANGE.sub("[]", text)
    found: list[str] = []
    for name in _IDENTIFIER.findall(text):
        if name.lower() not in _KEYWORDS and name not in found:
            found.append(name)
    return found[:NAMED]


def windows(query: str) -> list[str]:
    """The range selectors' windows (``[5m]``, ``[1h:1m]`` → ``5m``, ``1h``), for the report."""
    found: list[str] = []
    for inside in _RANGE.findall(_STRING.sub('""', query)):
        window = inside.split(":", 1)[0].strip()
        if window and window not in found:
            found.append(window)
    return found


def no_samples_reason(name: str, counts: dict[str, int | None]) -> str:
    """The reason for an empty answer, from how many series each named metric has (None: unknown)."""
    said = f"query `{name}` returned no samples"
    absent = [m for m, n in counts.items() if n == 0]
    if absent:
        shown = ", ".join(f"`{m}`" for m in absent)
        verb = "has" if len(absent) == 1 else "have"
        return (
            f"{said}: {shown} {verb} no series on this Prometheus (not scraped, or named otherwise)"
        )
    present = [(m, n) for m, n in counts.items() if n]
    if not present:
        return said
    shown = ", ".join(f"`{m}` has {n} series" for m, n in present)
    return (
        f"{said}, though {shown}: its matchers, window or arithmetic selected none "
        "(a ratio whose numerator has no series, e.g. no errors yet, needs `(… or vector(0))`)"
    )
