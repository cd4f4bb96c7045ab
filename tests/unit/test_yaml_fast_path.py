"""slo.yaml is composed by libyaml when PyYAML has it: the same nodes, tags, values and lines as
the pure-Python parser the error messages are worded on, for every shipped file and the scalars
YAML 1.1 and 1.2 read differently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sloprobe.config.yaml_source import CoreLoader, FastCoreLoader

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([ROOT / "slo.yaml", *(ROOT / "examples").glob("*/slo.yaml")])
TRICKY = """\
plain: [yes, no, on, off, y, n, 017, 0o17, 0x1F, 1:30, 1_000, .inf, -.INF, .nan, ~, null, ""]
quoted: ["017", 'yes', "${VAR:-x}"]
bools: [true, True, TRUE, false]
floats: [1.5, -2e3, .5]
anchor: &a {x: 1}
merged: {<<: *a, y: 2}
block: |
  two
  lines
"""


def _same(careful: yaml.Node, fast: yaml.Node, where: str) -> None:
    assert type(careful) is type(fast), where
    assert careful.tag == fast.tag, where
    assert (careful.start_mark.line, careful.start_mark.column) == (
        fast.start_mark.line,
        fast.start_mark.column,
    ), where
    if isinstance(careful, yaml.ScalarNode):
        assert careful.value == fast.value, where
        assert (careful.style or None) == (fast.style or None), where  # plain: None or ""
        return
    assert len(careful.value) == len(fast.value), where
    for index, (a, b) in enumerate(zip(careful.value, fast.value, strict=True)):
        if isinstance(a, tuple):
            _same(a[0], b[0], f"{where}/{index}:key")
            _same(a[1], b[1], f"{where}/{index}:value")
        else:
            _same(a, b, f"{where}/{index}")


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml: one path only")
@pytest.mark.parametrize(
    "text",
    [TRICKY, *(f.read_text() for f in FILES)],
    ids=["tricky", *(f.parent.name for f in FILES)],
)
def test_libyaml_composes_what_the_python_parser_does(text: str) -> None:
    careful = yaml.compose(text, Loader=CoreLoader)
    fast = yaml.compose(text, Loader=FastCoreLoader)
    assert careful is not None and fast is not None
    _same(careful, fast, "")
