"""A run that collects an SLO file hides what it built from the garbage collector; others don't.

``plugin/long_lived.py``: pytest's objects and the config model live until exit, so full
collection passes need not walk them. A pytest run that only has sloprobe installed keeps
Python's collector as it was.
"""

from __future__ import annotations

import gc

import pytest

from sloprobe.plugin.long_lived import freeze_long_lived

# Prints how many objects were frozen when the run ends (0: none).
COUNT = """\
import gc

def pytest_sessionfinish(session):
    print(f"\\nfrozen={gc.get_freeze_count()}")
"""
SUITE = """\
version: 1
service: shop
probes:
  checkout:
    python: {values: {items: {unit: count}}}
slos:
  items:
    probe: checkout
    measure: items
    threshold: value >= 1
"""
PROBE = """\
import pytest

@pytest.mark.probe("checkout")
def test_checkout(recorder):
    recorder.record("items", 2)
"""


def _frozen(result: pytest.RunResult) -> int:
    [line] = [line for line in result.outlines if line.startswith("frozen=")]
    return int(line.removeprefix("frozen="))


def test_a_run_of_an_slo_file_freezes_what_it_built(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COUNT)
    pytester.makefile(".yaml", slo=SUITE)
    pytester.mkdir("probes")
    (pytester.path / "probes" / "test_checkout.py").write_text(PROBE)
    # the probe asks nothing of the target; the run still wants one named
    result = pytester.runpytest(
        "slo.yaml", "probes", "--history=off", "--base-url=http://127.0.0.1:9", "-s"
    )
    result.assert_outcomes(passed=2)
    assert _frozen(result) > 10_000  # pytest, pydantic, the config model: many objects


def test_a_run_without_an_slo_file_leaves_the_collector_alone(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COUNT)
    pytester.makepyfile(test_plain="def test_plain():\n    assert [1] * 2 == [1, 1]\n")
    result = pytester.runpytest("test_plain.py", "-s")
    result.assert_outcomes(passed=1)
    assert _frozen(result) == 0


def test_each_step_freezes_once_and_never_while_the_collector_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sloprobe.plugin import long_lived

    monkeypatch.setattr(long_lived, "_done", set())
    before = gc.get_freeze_count()
    gc.disable()
    try:
        freeze_long_lived("pytest")
        assert gc.get_freeze_count() == before
    finally:
        gc.enable()
    try:
        freeze_long_lived("pytest")
        frozen = gc.get_freeze_count()
        assert frozen > before
        garbage = [[] for _ in range(1000)]  # tracked objects made after the first freeze
        freeze_long_lived("pytest")  # a second run in the same process: nothing more
        assert gc.get_freeze_count() == frozen
        freeze_long_lived("config")
        assert gc.get_freeze_count() >= frozen + len(garbage)
    finally:
        gc.unfreeze()
