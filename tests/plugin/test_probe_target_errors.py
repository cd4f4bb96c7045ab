"""A Python probe whose target does not answer fails in one line, as a YAML probe does."""

from __future__ import annotations

import pytest

SUITE = """\
version: 1
service: shop
probes:
  example:
    python:
      values:
        seconds: {unit: s}
slos:
  example-fast: {probe: example, measure: seconds, threshold: max < 2s}
"""

PROBE = """
import pytest


@pytest.mark.probe("example")
def test_example(target, recorder):
    with recorder.timer("seconds"):
        target.get("/health")
"""


def test_a_refused_connection_is_one_line_not_a_traceback(
    pytester: pytest.Pytester, closed_port_url: str
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    pytester.mkdir("probes")
    (pytester.path / "probes" / "test_example.py").write_text(PROBE)
    result = pytester.runpytest("--base-url", closed_port_url, "slo.yaml", "probes")
    assert result.ret == 1
    out = result.stdout.str()
    assert f"GET {closed_port_url}/health: connection refused" in out
    assert "Traceback" not in out and "httpcore" not in out
    assert len(out.splitlines()) < 60, out
