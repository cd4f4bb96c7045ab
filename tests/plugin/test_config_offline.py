"""Config that works offline and DRY: options beat unset variables, validate runs without secrets, x- anchors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sloprobe.config import ConfigError, EnvPolicy, load_slo_file, load_slo_text
from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
x-common:
  health: &health
    path: /health
    values:
      state: {json: status}
target:
  base_url: ${PROBE_BASE_URL}  # or --base-url
  auth: {bearer: "${API_TOKEN}"}
probes:
  health:
    http: *health
  health-again:
    http:
      <<: *health
      samples: 2
slos:
  up: {probe: health, measure: state, threshold: value == "ok"}
  up-again: {probe: health-again, measure: state, threshold: value == "ok"}
"""


def test_top_level_x_keys_hold_anchors_and_are_not_config() -> None:
    loaded = load_slo_text(SUITE, environ={"PROBE_BASE_URL": "http://x", "API_TOKEN": "t0k3n-123"})
    assert loaded.spec.probes["health-again"].body.samples == 2
    assert loaded.spec.probes["health"].body.path == "/health"


def test_base_url_option_wins_over_an_unset_variable(
    pytester: pytest.Pytester, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    monkeypatch.delenv("PROBE_BASE_URL", raising=False)
    monkeypatch.setenv("API_TOKEN", "t0k3n-123")
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest(f"--base-url={scripted.base_url}")
    assert result.ret == 0
    result.assert_outcomes(passed=2)


def test_an_unset_variable_without_the_option_is_still_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROBE_BASE_URL", raising=False)
    monkeypatch.setenv("API_TOKEN", "t0k3n-123")
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*environment variable `PROBE_BASE_URL` is not set*"])


@pytest.mark.parametrize(("strict", "status"), [(False, 0), (True, 4)])
def test_validate_checks_the_file_without_its_secrets(
    tmp_path: Path, strict: bool, status: int
) -> None:
    (tmp_path / "slo.yaml").write_text(SUITE)
    environ = {k: v for k, v in os.environ.items() if k not in ("PROBE_BASE_URL", "API_TOKEN")}
    done = subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "validate", "slo.yaml"]
        + (["--strict-env"] if strict else []),
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == status, done.stdout + done.stderr
    assert "`API_TOKEN` is not set" in done.stderr
    if not strict:
        assert "note: slo.yaml:10: target.auth.bearer" in done.stderr
        assert "slo.yaml: ok" in done.stdout


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/slo.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_validates_without_its_variables(example: Path) -> None:
    """A typed field (a redis:// URL) read from an unset variable is a note, not a type error."""
    loaded = load_slo_file(example, environ={}, env=EnvPolicy(lenient=True))
    assert loaded.notes  # each example reads at least one variable
    assert all("is not set" in note.message for note in loaded.notes)


def test_an_unset_variable_does_not_hide_a_wrong_value_elsewhere(tmp_path: Path) -> None:
    text = """\
version: 1
service: shop
probes:
  queue:
    redis: {url: "${REDIS_URL}", queues: [default], layout: rq}
  health:
    http: {path: /health, samples: many}
slos:
  depth:
    probe: queue
    measure: depth
    threshold: value < 100
"""
    (tmp_path / "slo.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_slo_file(tmp_path / "slo.yaml", environ={}, env=EnvPolicy(lenient=True))
    [problem] = caught.value.problems
    assert problem.field == "probes.health.http.samples"
