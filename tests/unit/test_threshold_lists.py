"""`value in [...]` lists honour quotes, and a threshold formats back to what parses the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sloprobe.model.thresholds import (
    Aggregate,
    Threshold,
    ThresholdError,
    format_threshold,
    parse_threshold,
)
from sloprobe.model.units import Dimension


@pytest.mark.parametrize(
    ("expression", "targets"),
    [
        pytest.param('value in ["a, b", c]', ("a, b", "c"), id="double-quoted-comma"),
        pytest.param("value in ['a, b', c]", ("a, b", "c"), id="single-quoted-comma"),
        pytest.param("value in [healthy, ok]", ("healthy", "ok"), id="unquoted"),
        pytest.param("value not in [ down , 'x,y' ,]", ("down", "x,y"), id="spaces-trailing-comma"),
        pytest.param("""value in ["it's", 'say "hi"']""", ("it's", 'say "hi"'), id="other-quote"),
        pytest.param("value in ['it''s', \"a\"\"b\"]", ("it's", 'a"b'), id="doubled-quote"),
        pytest.param('value in ["a]", "[b"]', ("a]", "[b"), id="brackets-in-quotes"),
        pytest.param('value in ["", ok]', ("", "ok"), id="empty-text"),
        pytest.param("value in [200, 204]", (200.0, 204.0), id="numbers"),
    ],
)
def test_list_items_honour_quotes(expression: str, targets: tuple[object, ...]) -> None:
    assert parse_threshold(expression).targets == targets


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param('value in ["a, b, c]', 'unclosed "', id="unclosed"),
        pytest.param("value in ['a' b, c]", "unexpected `b` after the quoted value", id="trailing"),
        pytest.param('value in ["a", 1]', "mix kinds", id="mixed"),
    ],
)
def test_unreadable_lists_are_refused(expression: str, message: str) -> None:
    with pytest.raises(ThresholdError, match=message):
        parse_threshold(expression)


@pytest.mark.parametrize(
    ("expression", "formatted"),
    [
        ('value in ["a, b", c]', 'value in ["a, b", c]'),
        ("value in [healthy, ok]", "value in [healthy, ok]"),
        ("value in ['1', \"true\", 'x y']", 'value in ["1", "true", "x y"]'),
        ("p(95)<300ms", "p95 < 300ms"),
        ("p99.9 <= 2.5s", "p99.9 <= 2.5s"),
        ("rate >= 99.5%", "rate >= 99.5%"),
        ("value = true", "value == true"),
        ('value == "a, b"', 'value == "a, b"'),
        ("count < 1e20", "count < 1e+20"),
    ],
)
def test_format(expression: str, formatted: str) -> None:
    assert format_threshold(parse_threshold(expression)) == formatted


def same(a: Threshold, b: Threshold) -> bool:
    return (a.aggregate, a.op, a.targets, a.target_dimension) == (
        b.aggregate,
        b.op,
        b.targets,
        b.target_dimension,
    )


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
_NUMBER = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def thresholds(draw: st.DrawFn) -> Threshold:
    """Thresholds as parsing makes them (text of any characters, numbers of any size)."""
    dim = draw(st.sampled_from([Dimension.TEXT, None, Dimension.TIME, Dimension.FRACTION]))
    if dim is Dimension.TEXT:
        values: list[float | str] = draw(st.lists(_TEXT, min_size=1, max_size=4))
    else:
        written = draw(st.lists(_NUMBER, min_size=1, max_size=4))
        suffix = {
            None: "",
            Dimension.TIME: draw(st.sampled_from(["ms", "s", "m"])),
            Dimension.FRACTION: "%",
        }[dim]
        # Numbers as the grammar makes them: from what a person wrote, in that unit.
        values = [parse_threshold(f"value == {n!r}{suffix}").targets[0] for n in written]
    in_list = draw(st.booleans()) or len(values) > 1
    op = draw(st.sampled_from(["in", "not in"])) if in_list else "=="
    q = draw(st.floats(min_value=0, max_value=100, exclude_min=True))
    agg = draw(
        st.sampled_from([Aggregate("value"), Aggregate("count"), Aggregate("percentile", q)])
    )
    targets = tuple(values) if in_list else (values[0],)
    return Threshold("", agg, op, targets, dim)


@given(thresholds())
def test_parse_of_format_round_trips(threshold: Threshold) -> None:
    assert same(parse_threshold(format_threshold(threshold)), threshold)


@given(st.lists(st.tuples(_TEXT, _TEXT).map(",".join), min_size=1, max_size=3))
def test_items_with_commas_stay_whole(items: list[str]) -> None:
    threshold = Threshold("", Aggregate("value"), "in", tuple(items), Dimension.TEXT)
    assert parse_threshold(format_threshold(threshold)).targets == tuple(items)
