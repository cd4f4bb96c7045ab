"""`sloprobe validate` reports every problem in one pass, and says which variables a run needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloprobe.cli import main
from sloprobe.config import ConfigError, EnvPolicy, load_slo_file

BROKEN = """\
version: 1
service: shop
probes:
  health:
    http:
      path: /health
      samples: 3
      retires: 2
      values:
        state: {json: status}
  stats:
    http:
      path: /stats
      values:
        rate: {json: success_rate, unit: "%"}
slos:
  up:
    probe: health
    measure: state
    threshold: value === "ok"
  fast:
    probe: health
    measure: latency
    threshold: p95 << 2s
  rate:
    probe: stat
    measure: rate
    threshold: value >= 90%
  depth:
    probe: stats
    measure: depth
    threshold: value < 100
  rate-in-seconds:
    probe: stats
    measure: rate
    threshold: value >= 2s
"""


def test_every_problem_in_one_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(BROKEN)
    assert main(["validate", str(path)]) == 4
    err = capsys.readouterr().err
    assert "invalid slo file (6 problems)" in err, err
    for field in (
        "probes.health.http.retires: unknown key",
        "slos.up.threshold:",
        "slos.fast.threshold:",
        "slos.rate.probe: no probe named `stat`",
        "slos.depth.measure: probe `stats` does not measure `depth`",
        "slos.rate-in-seconds.threshold:",
    ):
        assert field in err, field
    lines = [int(line.split(":")[1]) for line in err.splitlines() if line.startswith(f"  {path}:")]
    assert lines == sorted(lines)


def test_a_broken_slo_still_has_its_probe_and_measure_checked(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(
        BROKEN.replace(
            "    probe: health\n    measure: state", "    probe: nope\n    measure: state"
        )
    )
    with pytest.raises(ConfigError) as caught:
        load_slo_file(path, environ={})
    fields = [p.field for p in caught.value.problems]
    assert "slos.up.threshold" in fields and "slos.up.probe" in fields


def test_an_slo_of_a_broken_probe_is_not_blamed_for_it(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(BROKEN)
    with pytest.raises(ConfigError) as caught:
        load_slo_file(path, environ={})
    fields = [p.field for p in caught.value.problems]
    # `health` is broken (an unknown key): `up` and `fast` use it, and are not told it is missing.
    assert not any(f in ("slos.up.probe", "slos.fast.probe", "slos.fast.measure") for f in fields)


def test_a_valid_file_is_still_valid(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(
        BROKEN.split("slos:")[0].replace("      retires: 2\n", "")
        + "slos:\n  fast:\n    probe: health\n    measure: latency\n    threshold: p95 < 2s\n"
    )
    assert load_slo_file(path, environ={}, env=EnvPolicy()).spec.slos["fast"].probe == "health"


VARIABLES = """\
version: 1
service: shop
environment: ${DEPLOY_ENV:-production}
target:
  base_url: ${PROBE_BASE_URL}
  auth: {bearer: "${API_TOKEN}"}
  headers: {X-Price: "$${NOT_A_VARIABLE}"}
# auth: {bearer: "${COMMENTED_OUT}"}
probes:
  health:
    http: {path: /health}
slos:
  fast: {probe: health, measure: latency, threshold: p95 < 2s}
"""


def test_ok_lists_the_variables_a_run_needs_and_which_are_unset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(VARIABLES)
    monkeypatch.setenv("PROBE_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("API_TOKEN", "")
    monkeypatch.delenv("DEPLOY_ENV", raising=False)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    ok, *rest = out.splitlines()
    assert ok.startswith(f"{path}: ok (service shop")
    text = "\n".join(rest)
    assert (
        "a run needs ${PROBE_BASE_URL} (target.base_url; or --base-url), "
        "${API_TOKEN} (target.auth.bearer)"
    ) in text
    assert "unset now: ${API_TOKEN} (empty, which a run treats as unset)" in text
    assert "PROBE_BASE_URL" not in text.split("unset now:")[1]
    assert "COMMENTED_OUT" not in out and "NOT_A_VARIABLE" not in out
    assert "DEPLOY_ENV" in text  # optional: it has a default
    assert "${DEPLOY_ENV}" not in text.split("optional")[0]


def test_ok_says_when_every_needed_variable_is_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(VARIABLES)
    monkeypatch.setenv("PROBE_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("API_TOKEN", "t0k3n")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "unset now: none" in out
