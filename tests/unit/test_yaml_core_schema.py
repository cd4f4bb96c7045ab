"""slo.yaml is read by YAML 1.2 core rules: `NO`, `on` and `1:30` are the text written."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from tests.support.scripted_server import Answer, ScriptedServer

from sloprobe.config import ConfigError, load_slo_text
from sloprobe.config.yaml_source import parse_yaml
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes

SUITE = """\
version: 1
service: shop
target:
  base_url: ${SHOP_URL:-http://localhost:8000}
probes:
  search:
    http:
      path: /search
      query: {country: NO, t: 1:30, v: on, n: 017, real: true}
slos:
  fast:
    probe: search
    measure: latency
    threshold: p95 < 300ms
"""


def scalar(text: str) -> Any:
    return parse_yaml(f"v: {text}\n", "slo.yaml", {}).data["v"]


def test_query_values_are_sent_as_written(scripted: ScriptedServer) -> None:
    loaded = load_slo_text(SUITE, "slo.yaml", {})
    query = loaded.spec.probes["search"].body.query
    assert query == {"country": "NO", "t": "1:30", "v": "on", "n": 17, "real": True}
    scripted.routes["/search"] = Answer(200, "{}")
    context = make_context(scripted.base_url, loaded.spec.target)
    run_probes(loaded.spec.probes, context, concurrency=1, default_deadline=10.0)
    (_, path, _), *_ = scripted.requests
    assert path == "/search?country=NO&t=1%3A30&v=on&n=17&real=true"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *(
            pytest.param(word, word, id=f"text-{word}")
            for word in ("yes", "no", "on", "off", "y", "n", "NO", "Off", "YES", "tRuE")
        ),
        *(pytest.param(word, True, id=f"bool-{word}") for word in ("true", "True", "TRUE")),
        *(pytest.param(word, False, id=f"bool-{word}") for word in ("false", "False", "FALSE")),
        pytest.param("1:30", "1:30", id="no-sexagesimal-int"),
        pytest.param("190:20:30.15", "190:20:30.15", id="no-sexagesimal-float"),
        pytest.param("017", 17, id="leading-zero-is-decimal"),
        pytest.param("0o17", 15, id="octal"),
        pytest.param("0x1F", 31, id="hex"),
        pytest.param("0b101", "0b101", id="no-binary"),
        pytest.param("1_000", "1_000", id="no-underscores"),
        pytest.param("-3", -3, id="negative"),
        pytest.param("1e3", 1000.0, id="exponent"),
        pytest.param(".5", 0.5, id="leading-dot"),
        pytest.param("2024-05-01", "2024-05-01", id="no-timestamps"),
        pytest.param("~", None, id="null-tilde"),
        pytest.param("null", None, id="null"),
        pytest.param("=", "=", id="no-value-tag"),
        pytest.param('"on"', "on", id="quoted"),
    ],
)
def test_plain_scalars_follow_yaml_1_2_core(text: str, expected: Any) -> None:
    value = scalar(text)
    assert value == expected and type(value) is type(expected)


def test_special_floats() -> None:
    assert scalar(".inf") == float("inf") and scalar("-.Inf") == float("-inf")
    assert scalar(".NaN") != scalar(".NaN")


def test_keys_are_the_text_written() -> None:
    data = parse_yaml("on: 1\nno: 2\n017: 3\nnull: 4\n", "slo.yaml", {}).data
    assert data == {"on": 1, "no": 2, "017": 3, "null": 4}


def test_a_leading_zero_lost_is_a_note_not_silent() -> None:
    source = parse_yaml("a:\n  b: 017\n  c: '017'\n  d: 08\n", "slo.yaml", {})
    notes = [str(n) for n in source.notes]
    assert notes[0].startswith(
        'slo.yaml:2: a.b: `017` is read as the number 17; write `"017"` to keep the leading zero, '
        "or `0o17` for octal"
    )
    assert notes[1].startswith('slo.yaml:4: a.d: `08` is read as the number 8; write `"08"`')
    assert len(notes) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "version: 1\nservice: !!bool yes\n",
            "slo.yaml:2: service: YAML: `yes` is not a boolean (true or false) in YAML 1.2",
            id="explicit-1.1-bool",
        ),
        pytest.param(
            "version: !!int abc\n",
            "slo.yaml:1: version: YAML: `abc` is not an integer in YAML 1.2",
            id="explicit-int-not-a-number",
        ),
        pytest.param(
            "version: 1\n!!int abc: 2\n",
            "slo.yaml:2: YAML: `abc` is not an integer",
            id="explicit-int-key",
        ),
    ],
)
def test_explicit_tags_that_do_not_fit_are_located_errors(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, "slo.yaml", {})
    assert str(caught.value.problems[0]).startswith(expected)


def test_variables_are_still_interpolated() -> None:
    text = "a: ${A}\nb: ${B:-no}\nc: $${A}\nd: x-${A}-${C:-1:30}\n"
    data = parse_yaml(text, "slo.yaml", {"A": "on"}).data
    assert data == {"a": "on", "b": "no", "c": "${A}", "d": "x-on-1:30"}
    loaded = load_slo_text(SUITE, "slo.yaml", {"SHOP_URL": "https://shop.example"})
    assert loaded.spec.target.base_url == "https://shop.example"


def test_unset_variable_still_names_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: 1\nb:\n  c: ${NOPE}\n", "slo.yaml", {})
    assert str(caught.value.problems[0]).startswith(
        "slo.yaml:3: b.c: environment variable `NOPE` is not set"
    )


def test_line_numbers_are_unchanged() -> None:
    broken = SUITE.replace("path: /search", "paht: /search").replace("p95 < 300ms", "p95 < 3 x")
    with pytest.raises(ConfigError) as caught:
        load_slo_text(broken, "slo.yaml", {})
    found = [str(p).split("\n")[0] for p in caught.value.problems]
    assert "slo.yaml:8: probes.search.http.paht: unknown key `paht`; did you mean `path`?" in found
    assert any(p.startswith("slo.yaml:14: slos.fast.threshold: unknown unit `x`") for p in found)
    loaded = load_slo_text(SUITE, "slo.yaml", {})
    assert loaded.slo_lines == {"fast": 11}
    source = parse_yaml(textwrap.dedent(SUITE), "slo.yaml", {})
    assert source.line_of(("probes", "search", "http", "query", "t")) == 9
