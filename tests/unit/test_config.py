"""slo.yaml loading: a good file becomes typed objects; a bad one names file, line and field."""

from __future__ import annotations

import textwrap

import pytest

from sloprobe.config import ConfigError, load_slo_file, load_slo_text
from sloprobe.model.units import Unit

GOOD = """\
version: 1
service: shop
target:
  base_url: ${SHOP_URL:-http://localhost:8000}
  timeout: 2s
  auth:
    bearer: ${SHOP_TOKEN}
probes:
  health:
    http:
      path: /health
      samples: 3
      values:
        rate: {json: stats.successRate, unit: "%"}
        state: {json: status}
slos:
  fast:
    probe: health
    measure: latency
    threshold: [p95 < 300ms, max < 1s]
    warn: p95 < 100ms
  succeeding:
    probe: health
    measure: rate
    threshold: value >= 90%
"""


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_slo_text(
            textwrap.dedent(text),
            "slo.yaml",
            {"SHOP_TOKEN": "t0ken-value"} if environ is None else environ,
        )
    return [str(p) for p in caught.value.problems]


def test_good_file_loads_into_typed_objects() -> None:
    loaded = load_slo_text(GOOD, "slo.yaml", {"SHOP_TOKEN": "t0ken-value"})
    spec = loaded.spec
    assert spec.target.base_url == "http://localhost:8000"
    assert spec.target.timeout == 2.0
    assert spec.target.auth is not None and spec.target.auth.bearer is not None
    assert spec.target.auth.bearer.get_secret_value() == "t0ken-value"
    assert "t0ken-value" not in repr(spec)
    assert spec.slos["fast"].threshold == ("p95 < 300ms", "max < 1s")
    assert spec.probes["health"].series_units()["rate"] is Unit.PERCENT
    assert loaded.slo_lines == {"fast": 17, "succeeding": 22}


def test_environment_overrides_default() -> None:
    loaded = load_slo_text(
        GOOD, "slo.yaml", {"SHOP_TOKEN": "x" * 8, "SHOP_URL": "https://shop.example"}
    )
    assert loaded.spec.target.base_url == "https://shop.example"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            ("      samples: 3", "      sampels: 3"),
            "slo.yaml:12: probes.health.http.sampels: unknown key `sampels`; did you mean `samples`?",
            id="misspelled-key",
        ),
        pytest.param(
            ("      samples: 3", "      samples: lots"),
            "slo.yaml:12: probes.health.http.samples: expected a whole number, got `lots`",
            id="wrong-type",
        ),
        pytest.param(
            ("  timeout: 2s", "  timeout: 300 parsecs"),
            "slo.yaml:5: target.timeout: `300 parsecs` is not a duration",
            id="bad-duration",
        ),
        pytest.param(
            ("    probe: health\n    measure: rate", "    probe: helth\n    measure: rate"),
            "slo.yaml:23: slos.succeeding.probe: no probe named `helth`; did you mean `health`?",
            id="missing-probe",
        ),
        pytest.param(
            ("    measure: rate", "    measure: rates"),
            "slo.yaml:24: slos.succeeding.measure: probe `health` does not measure `rates`",
            id="unknown-measure",
        ),
        pytest.param(
            ("value >= 90%", "value >= 90"),
            "slo.yaml:25: slos.succeeding.threshold: `value >= 90` compares a percentage with a bare number",
            id="percent-vs-bare-number",
        ),
        pytest.param(
            ('unit: "%"', "unit: parsecs"),
            "slo.yaml:14: probes.health.http.values.rate.unit: Input should be",
            id="bad-unit",
        ),
        pytest.param(
            ("version: 1", "version: 2"),
            "slo.yaml:1: version: unsupported format version 2",
            id="future-version",
        ),
        pytest.param(
            ("warn: p95 < 100ms", "warn: p95 < 100 parsecs"),
            "slo.yaml:21: slos.fast.warn: unknown unit `parsecs`",
            id="bad-threshold-unit",
        ),
    ],
)
def test_problems_name_file_line_and_field(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    found = problems(GOOD.replace(old, new, 1))
    assert any(p.startswith(expected) for p in found), found


def test_missing_variable_names_the_variable_and_line() -> None:
    found = problems(GOOD, environ={})
    assert found[0].startswith(
        "slo.yaml:7: target.auth.bearer: environment variable `SHOP_TOKEN` is not set"
    )


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("samples: 3", "sampels: 3").replace("timeout: 2s", "timeout: soon")
    assert len(problems(text)) == 2


def test_source_line_is_shown() -> None:
    found = problems(GOOD.replace("samples: 3", "sampels: 3"))
    assert "12 |       sampels: 3" in found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "the file is empty", id="empty"),
        pytest.param("version: 1\nservice: [unclosed\n", "YAML syntax", id="syntax"),
        pytest.param("- a\n- b\n", "expected a mapping", id="list-at-top"),
        pytest.param("version: 1\nversion: 1\n", "duplicate key", id="duplicate-key"),
        pytest.param("version: 1\nservice: x\nprobes: {}\nslos: {}\n", "slos", id="no-slos"),
    ],
)
def test_broken_files_are_explained(text: str, expected: str) -> None:
    assert any(expected in p for p in problems(text))


def test_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    assert problems(bomb)


def test_unreadable_file(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_slo_file(f"{tmp_path}/nope.yaml")
