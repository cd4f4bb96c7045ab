"""Thresholds of slo.yaml for the tavern suite, which compares response values only for equality.

Tavern calls each function with the ``requests`` response and the stage's ``extra_kwargs``; an
``AssertionError`` fails the stage.
"""

from __future__ import annotations

import operator
from typing import Any

OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def threshold(response: Any, field: str, op: str, limit: float) -> None:
    """``field`` is a dotted path into the JSON body, as slo.yaml's ``json:`` reads it."""
    value = response.json()
    for key in field.split("."):
        assert isinstance(value, dict) and key in value, f"{field}: no {key!r} in {value!r}"
        value = value[key]
    assert isinstance(value, int | float) and OPERATORS[op](value, limit), (
        f"{field} = {value!r}, wanted {op} {limit}"
    )


def latency_below(response: Any, seconds: float) -> None:
    took = response.elapsed.total_seconds()
    assert took < seconds, f"took {took * 1000:.0f} ms, wanted < {seconds * 1000:.0f} ms"
