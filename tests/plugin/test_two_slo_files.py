"""Two SLO files in one pytest run: a usage error naming both, not a collection traceback."""

from __future__ import annotations

import pytest

SUITE = """\
version: 1
service: {name}
probes:
  health:
    http: {{path: /health}}
slos:
  health-fast:
    probe: health
    measure: latency
    threshold: p95 < 2s
"""


@pytest.fixture
def two_files(pytester: pytest.Pytester) -> None:
    for name in ("a", "b"):
        pytester.mkdir(name)
        (pytester.path / name / "slo.yaml").write_text(SUITE.format(name=name))


@pytest.mark.parametrize("args", [["a/slo.yaml", "b/slo.yaml"], []], ids=["named", "walked"])
def test_two_slo_files_are_a_usage_error_naming_both(
    pytester: pytest.Pytester, two_files: None, args: list[str]
) -> None:
    result = pytester.runpytest("--base-url=http://127.0.0.1:9", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    [line] = [line for line in output.splitlines() if "more than one SLO file" in line]
    assert "a/slo.yaml" in line and "b/slo.yaml" in line
    assert "--slo-file" in line
    assert "Traceback" not in output
    assert "sloprobe/plugin" not in output
    assert "errors during collection" not in output


def test_slo_file_option_chooses_one_of_them(pytester: pytest.Pytester, two_files: None) -> None:
    result = pytester.runpytest("--collect-only", "-q", "--slo-file=b/slo.yaml")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["b/slo.yaml::health-fast"])
