"""Field types shared by the config model: durations, names, thresholds."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from sloprobe.model.thresholds import ThresholdError, parse_threshold
from sloprobe.model.units import TIME_SUFFIXES

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*$")


HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


def parse_duration(value: Any) -> Any:
    """``300ms``, ``5s``, ``2m``, ``1h``, ``30d`` or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 300ms, 5s, 2m or 1h")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return TIME_SUFFIXES[match.group(2)].to_base(float(match.group(1)))
        raise ValueError(f"`{value}` is not a duration; expected e.g. 300ms, 5s, 2m, 1h or 30d")
    raise ValueError("expected a duration such as 300ms, 5s, 2m or 1h")


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    AfterValidator(_positive),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _DURATION.pattern},
                {"type": "number", "exclusiveMinimum": 0},
            ],
            "description": "A duration: 300ms, 5s, 2m, 1h, 30d, or a number of seconds.",
        }
    ),
]

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=100)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _check_expressions(values: tuple[str, ...]) -> tuple[str, ...]:
    for text in values:
        try:
            parse_threshold(text)
        except ThresholdError as exc:
            raise ValueError(str(exc)) from None
    return values


Expressions = Annotated[
    tuple[str, ...],
    BeforeValidator(_as_list),
    AfterValidator(_check_expressions),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "One expression or a list that must all hold, e.g. `p95 < 300ms`.",
        }
    ),
]


def parse_objective(value: Any) -> Any:
    """``99.5%`` or ``0.995`` → 0.995; strictly between 0 and 100 %."""
    if isinstance(value, bool):
        raise ValueError("expected an objective such as 99.5%")
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("%"):
            raise ValueError(f"`{value}` is not an objective; write a percentage such as 99.5%")
        try:
            ratio = float(text[:-1]) / 100
        except ValueError:
            raise ValueError(
                f"`{value}` is not an objective; write a percentage such as 99.5%"
            ) from None
    elif isinstance(value, int | float):
        ratio = float(value)
        if ratio >= 1:
            raise ValueError(
                f"`{value}` is ambiguous; write the objective as a percentage such as 99.5%"
            )
    else:
        raise ValueError("expected an objective such as 99.5%")
    if not 0 < ratio < 1:
        raise ValueError(
            f"objective {value} must be above 0% and below 100% (100% leaves no error budget)"
        )
    return ratio


Objective = Annotated[
    float,
    BeforeValidator(parse_objective),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*[0-9.]+\s*%\s*$"},
                {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            ],
            "description": "The share of good runs or events to keep, e.g. 99.5%.",
        }
    ),
]
