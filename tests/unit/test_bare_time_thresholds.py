"""A bare number held against a time is a config error naming the unit to write, never 30 ms."""

from __future__ import annotations

import pytest

from sloprobe.config import ConfigError, load_slo_text

SUITE = """\
version: 1
service: shop
target:
  base_url: http://localhost:8000
probes:
  health:
    http:
      path: /health
      samples: 3
      values:
        gen: {json: generation_ms, unit: ms}
        age: {json: age_minutes, unit: m}
        depth: {json: queue.depth, unit: count}
        plain: {json: plain}
slos:
  judged:
    probe: health
    measure: {measure}
    threshold: {threshold}
"""


def load(measure: str, threshold: str) -> list[str]:
    text = SUITE.replace("{measure}", measure).replace("{threshold}", threshold)
    try:
        load_slo_text(text, "slo.yaml", {})
    except ConfigError as exc:
        return [str(p).split("\n")[0] for p in exc.problems]
    return []


@pytest.mark.parametrize(
    ("measure", "threshold", "expected"),
    [
        pytest.param(
            "latency",
            "value < 30",
            "slo.yaml:19: slos.judged.threshold: `value < 30` compares a time in seconds with "
            "a bare number: write `value < 30s` (or `30ms`)",
            id="seconds",
        ),
        pytest.param(
            "latency",
            "p95 < 300",
            "slo.yaml:19: slos.judged.threshold: `p95 < 300` compares a time in seconds with "
            "a bare number: write `p95 < 300s` (or `300ms`)",
            id="percentile",
        ),
        pytest.param(
            "gen",
            "[p95 < 2s, max < 2500]",
            "slo.yaml:19: slos.judged.threshold[1]: `max < 2500` compares a time in milliseconds "
            "with a bare number: write `max < 2500ms` (or `2500s`)",
            id="milliseconds-in-a-list",
        ),
        pytest.param(
            "age",
            "value in [1, 2.5]",
            "slo.yaml:19: slos.judged.threshold: `value in [1, 2.5]` compares a time in minutes "
            "with a bare number: write `value in [1m, 2.5m]` (or `1s`)",
            id="minutes-list",
        ),
    ],
)
def test_bare_number_against_a_time_is_refused(measure: str, threshold: str, expected: str) -> None:
    assert expected in load(measure, threshold)


def test_warn_is_checked_too() -> None:
    found = load("latency", "p95 < 300ms\n    warn: p95 < 150")
    assert found == [
        "slo.yaml:20: slos.judged.warn: `p95 < 150` compares a time in seconds with a bare "
        "number: write `p95 < 150s` (or `150ms`)"
    ]


@pytest.mark.parametrize(
    ("measure", "threshold"),
    [
        pytest.param("latency", "p95 < 300ms", id="time-with-unit"),
        pytest.param("gen", "avg < 30s", id="ms-field-seconds-threshold"),
        pytest.param("latency", "count >= 3", id="count-of-a-time-series"),
        pytest.param("depth", "value < 100", id="count-measure"),
        pytest.param("plain", "value < 100", id="unitless-measure"),
        pytest.param("status", "value in [200, 204]", id="status"),
    ],
)
def test_bare_numbers_still_fit_counts_and_unitless_values(measure: str, threshold: str) -> None:
    assert load(measure, threshold) == []


def test_k6s_own_form_keeps_k6s_meaning_of_a_bare_number() -> None:
    """`p(95)<300` is k6's syntax, where a bare number is milliseconds: it loads as k6 reads it."""
    assert load("latency", "p(95)<300") == []
