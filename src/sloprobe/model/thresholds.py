"""k6-style threshold expressions: ``p95 < 300ms``, ``rate >= 99.5%``, ``value in [ok, healthy]``.

A threshold is data with a grammar: parsed once when slo.yaml is loaded (a bad
one is a config error with a line number), checked against the unit of the
series it judges, and written back for people. Config, the judge and the sinks
all read it here; evaluating one over a series is the judge's
(:mod:`sloprobe.judge.thresholds`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from sloprobe.errors import InputError
from sloprobe.model.measurement import Sample
from sloprobe.model.units import TIME_SUFFIXES, Dimension, Unit, format_base


class ThresholdError(InputError, ValueError):
    """A threshold expression that cannot be parsed or does not fit its series."""


_NUMERIC_AGGREGATES = ("avg", "min", "max", "med", "sum")
_AGGREGATES = (*_NUMERIC_AGGREGATES, "value", "count", "rate")

_EXPRESSION = re.compile(
    r"""^\s*(?P<agg>p\(\s*[0-9.]+\s*\)|p[0-9]+(?:\.[0-9]+)?|[a-z]+)\s*
        (?P<op>not\s+in|in|<=|>=|==|!=|<|>|=)\s*(?P<target>.+?)\s*$""",
    re.VERBOSE,
)
_NUMBER = re.compile(
    r"^(?P<num>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*(?P<unit>[a-zA-Z%]*)$"
)

Target = float | str | bool


@dataclass(frozen=True)
class Aggregate:
    """What to compute over a series: ``p95``, ``avg``, ``value``, ``rate``, …"""

    name: str
    q: float | None = None

    def __str__(self) -> str:
        return f"p{self.q:g}" if self.q is not None else self.name


@dataclass(frozen=True)
class Threshold:
    """A parsed expression; ``targets`` are in the base unit of ``target_dimension``."""

    text: str
    aggregate: Aggregate
    op: str
    targets: tuple[Target, ...]
    target_dimension: Dimension | None

    def result_dimension(self, series_unit: Unit) -> Dimension:
        """The dimension of the aggregate computed over a series of ``series_unit``."""
        name, dim = self.aggregate.name, series_unit.dimension
        if name == "count":
            return Dimension.NUMBER
        if name == "rate":
            if dim in (Dimension.BOOLEAN, Dimension.FRACTION):
                return Dimension.FRACTION
            raise ThresholdError(
                f"`rate` needs a percent/ratio or a yes/no series, and this one is in `{series_unit}`"
            )
        if dim is Dimension.TEXT and name != "value":
            raise ThresholdError(f"`{self.aggregate}` needs numbers; this series holds text")
        if dim is Dimension.BOOLEAN and name not in ("value", "count", "rate"):
            raise ThresholdError(
                f"`{self.aggregate}` needs numbers; this series holds yes/no values"
            )
        return dim

    def check_unit(self, series_unit: Unit) -> None:
        """Raise ThresholdError if this threshold cannot judge a series in ``series_unit``."""
        dim = self.result_dimension(series_unit)
        target = self.target_dimension
        if dim is Dimension.TEXT:
            if target not in (Dimension.TEXT, Dimension.NUMBER):
                raise ThresholdError('a text value compares only with text: `value == "healthy"`')
            if self.op not in ("==", "!=", "in", "not in"):
                raise ThresholdError(f"text values compare with ==, != or in, not `{self.op}`")
            return
        if dim is Dimension.BOOLEAN:
            if target is not Dimension.BOOLEAN or self.op not in ("==", "!="):
                raise ThresholdError(
                    "a yes/no value compares as `value == true` or `value == false`"
                )
            return
        if series_unit is Unit.NONE and self.aggregate.name == "value" and target is Dimension.TEXT:
            # A field declared without a unit may hold text: `value == "healthy"`.
            if self.op not in ("==", "!=", "in", "not in"):
                raise ThresholdError(f"text values compare with ==, != or in, not `{self.op}`")
            return
        if target is None or target in (Dimension.TEXT, Dimension.BOOLEAN):
            # k6 reads a bare number against a duration as milliseconds: `p(95)<300`.
            if target is None and dim is Dimension.FRACTION:
                raise ThresholdError(
                    f"`{self.text}` compares a percentage with a bare number; write e.g. 95%"
                )
            if target in (Dimension.TEXT, Dimension.BOOLEAN):
                raise ThresholdError(f"`{self.aggregate}` gives a number; compare it with a number")
            return
        if target is not dim:
            raise ThresholdError(
                f"`{self.text}` compares a {_describe(dim, series_unit)} with a {target.value} "
                f"threshold; declare the value's unit (e.g. `unit: ms` or `unit: %`) or fix the threshold"
            )


def _describe(dim: Dimension, unit: Unit) -> str:
    if dim is Dimension.NUMBER and unit is Unit.NONE:
        return "value with no unit"
    return f"{dim.value} value"


def parse_threshold(text: str) -> Threshold:
    """Parse ``p95 < 300ms``; raises ThresholdError that says what was expected."""
    if not isinstance(text, str) or not text.strip():
        raise ThresholdError("expected an expression such as `p95 < 300ms` or `rate >= 99.5%`")
    match = _EXPRESSION.match(text)
    if not match:
        raise ThresholdError(
            f"cannot read `{text}`: expected `<aggregate> <operator> <value>`, "
            'e.g. `p95 < 300ms`, `rate >= 99.5%`, `value == "healthy"`'
        )
    aggregate = _parse_aggregate(match["agg"])
    op = re.sub(r"\s+", " ", match["op"])
    op = "==" if op == "=" else op
    raw = match["target"]
    if op in ("in", "not in"):
        if not (raw.startswith("[") and raw.endswith("]")):
            raise ThresholdError(f"`{op}` needs a list such as [healthy, ok], got `{raw}`")
        parsed = _parse_list(raw[1:-1])
        if not parsed:
            raise ThresholdError(f"`{op}` needs at least one value in the list")
        dims = {d for _, d in parsed}
        if len(dims) > 1:
            raise ThresholdError(f"the values in `{raw}` mix kinds; use one kind")
        return Threshold(text.strip(), aggregate, op, tuple(v for v, _ in parsed), dims.pop())
    value, dim = _parse_target(raw)
    return Threshold(text.strip(), aggregate, op, (value,), dim)


def _parse_list(inner: str) -> list[tuple[Target, Dimension | None]]:
    """The items of ``[a, "b, c", 'it''s']``: a comma inside quotes is text, not a separator.

    A quoted item is text; a quote doubled inside it stands for one quote.
    Empty items (``[a, , b]``, a trailing comma) are skipped, as before.
    """
    items: list[tuple[Target, Dimension | None]] = []
    index, end = 0, len(inner)
    while index <= end:
        while index < end and inner[index].isspace():
            index += 1
        if index < end and inner[index] in "\"'":
            text, index = _quoted(inner, index)
            while index < end and inner[index].isspace():
                index += 1
            if index < end and inner[index] != ",":
                raise ThresholdError(
                    f"unexpected `{inner[index:].split(',')[0].strip()}` after the quoted "
                    f"value {_quote(text)} in the list"
                )
            items.append((text, Dimension.TEXT))
        else:
            comma = inner.find(",", index)
            stop = end if comma < 0 else comma
            item = inner[index:stop].strip()
            if item:
                items.append(_parse_target(item))
            index = stop
        index += 1  # past the comma (or the end)
    return items


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The text of the quoted item at ``start`` and the index just past its closing quote."""
    quote, index = text[start], start + 1
    out: list[str] = []
    while index < len(text):
        if text[index] == quote:
            if text[index + 1 : index + 2] != quote:
                return "".join(out), index + 1
            index += 1  # a doubled quote is one quote
        out.append(text[index])
        index += 1
    raise ThresholdError(f"unclosed {quote} in the list: `{text[start:].strip()}`")


def _quote(text: str) -> str:
    """``text`` as a quoted list item: the quote it does not contain, else doubled ``"``."""
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', '""') + '"'


_WORD = re.compile(r"[A-Za-z_][\w.\-]*")


def format_threshold(threshold: Threshold) -> str:
    """The expression back as text, such that ``parse_threshold`` reads the same threshold.

    A list item with a comma, a quote or anything else that would not read
    back as the same text is quoted; numbers keep every digit they need.
    """
    dim = threshold.target_dimension
    if threshold.op in ("in", "not in"):
        items = ", ".join(_format_target(t, dim, in_list=True) for t in threshold.targets)
        target = f"[{items}]"
    else:
        target = _format_target(threshold.targets[0], dim, in_list=False)
    aggregate = threshold.aggregate
    name = aggregate.name
    if aggregate.q is not None:  # the grammar reads p95 and p99.9, never an exponent
        q = aggregate.q
        name = f"p{int(q)}" if q.is_integer() else f"p{Decimal(repr(q)):f}"
    return f"{name} {threshold.op} {target}"


def _format_target(value: Target, dim: Dimension | None, *, in_list: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise ThresholdError("a threshold's text cannot hold a line break")
        bare = _WORD.fullmatch(value) and value.lower() not in ("true", "false")
        if bare:
            return value
        # A lone value is read up to its last quote, so it needs no doubling.
        return _quote(value) if in_list else f'"{value}"'
    if dim is Dimension.TIME:
        return _exact(value, Unit.MS) if abs(value) < 1 else _exact(value, Unit.S)
    if dim is Dimension.FRACTION:
        return _exact(value, Unit.PERCENT)
    return _plain(value)


def _exact(base: float, unit: Unit) -> str:
    """``base`` written in ``unit`` with a number that converts back to exactly ``base``."""
    suffix = "%" if unit is Unit.PERCENT else str(unit)
    up = down = base * 100 if unit is Unit.PERCENT else base / unit.factor
    candidates = [up]
    for _ in range(4):  # the number that was parsed is within an ulp or two of the quotient
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        candidates += [up, down]
    for candidate in candidates:
        if _parse_target(_plain(candidate) + suffix)[0] == base:
            return _plain(candidate) + suffix
    if unit.dimension is Dimension.TIME:
        return _plain(base) + "s"  # seconds are the base unit: always exact
    raise ThresholdError(f"cannot write {base!r} exactly as a percentage")


def _plain(number: float) -> str:
    """A number as the grammar reads it: ``300``, ``0.25``, ``1e-07`` (``1e999`` for infinity)."""
    if math.isinf(number):
        return "-1e999" if number < 0 else "1e999"
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)


def _parse_aggregate(raw: str) -> Aggregate:
    if raw.startswith("p") and raw not in _AGGREGATES:
        digits = raw[1:].strip("()").strip()
        try:
            q = float(digits)
        except ValueError:
            raise ThresholdError(f"unknown aggregate `{raw}`") from None
        if not 0 < q <= 100:
            raise ThresholdError(f"percentile `{raw}` must be between p0 and p100")
        return Aggregate("percentile", q)
    if raw not in _AGGREGATES:
        raise ThresholdError(
            f"unknown aggregate `{raw}`; expected one of {', '.join(_AGGREGATES)} or pNN (e.g. p95)"
        )
    return Aggregate(raw)


def _parse_target(raw: str) -> tuple[Target, Dimension | None]:
    """A threshold's right-hand side in its base unit, with its dimension (None: bare number)."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1], Dimension.TEXT
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true", Dimension.BOOLEAN
    number = _NUMBER.match(raw)
    if number is None:
        if re.fullmatch(r"[A-Za-z_][\w.\-]*", raw):
            return raw, Dimension.TEXT
        raise ThresholdError(
            f'cannot read the value `{raw}`; expected e.g. 300ms, 2s, 99.5%, 100 or "ok"'
        )
    amount, suffix = float(number["num"]), number["unit"]
    if not suffix:
        return amount, None
    if suffix == "%":
        return amount / 100, Dimension.FRACTION
    if suffix in TIME_SUFFIXES:
        return TIME_SUFFIXES[suffix].to_base(amount), Dimension.TIME
    raise ThresholdError(f"unknown unit `{suffix}` in `{raw}`; expected ms, s, m, h, d or %")


def format_observed(value: Sample | None, dimension: Dimension) -> str:
    """An observed aggregate for people, in a unit that reads well."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        # Quoted, not repr(): target text is already inert (``\u202e`` shown as such), and
        # repr would double its backslash to ``\\u202e``.
        shown = value if len(value) < 60 else value[:57] + "..."
        return f"'{shown}'"
    return format_base(value, dimension)
