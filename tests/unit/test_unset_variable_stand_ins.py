"""`sloprobe validate` without the secrets: a field whose `${VAR}` is unset is a note, whatever
its type (a duration, an objective, a window…), and never an error about a stand-in value."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloprobe.config import ConfigError, load_slo_file
from sloprobe.config.yaml_source import EnvPolicy

SUITE = """\
version: 1
service: shop
target:
  base_url: http://127.0.0.1:8000
  timeout: ${TIMEOUT}
settings:
  probe_deadline: ${DEADLINE}
probes:
  health:
    http:
      path: /health
      samples: ${SAMPLES}
  job:
    job:
      submit:
        path: /jobs
        id: id
      status:
        path: "/jobs/{id}"
        field: state
      poll:
        timeout: ${JOB_TIMEOUT}
slos:
  up:
    probe: health
    measure: ok
    threshold: value == true
    objective: ${OBJECTIVE}
    window: ${WINDOW}
"""
VARIABLES = ("TIMEOUT", "DEADLINE", "SAMPLES", "JOB_TIMEOUT", "OBJECTIVE", "WINDOW")


def test_every_unset_field_is_a_note_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "slo.yaml").write_text(SUITE)
    loaded = load_slo_file(tmp_path / "slo.yaml", environ={}, env=EnvPolicy(lenient=True))
    noted = " ".join(n.message for n in loaded.notes)
    for name in VARIABLES:
        assert f"environment variable `{name}` is not set" in noted


def test_a_run_still_refuses_them(tmp_path: Path) -> None:
    (tmp_path / "slo.yaml").write_text(SUITE)
    with pytest.raises(ConfigError) as refused:
        load_slo_file(tmp_path / "slo.yaml", environ={})
    said = " ".join(p.message for p in refused.value.problems)
    assert all(f"`{name}` is not set" in said for name in VARIABLES)
    assert "value == 0" not in said and "stand-in" not in said


def test_a_misspelled_key_is_said_as_such_whatever_its_variable(tmp_path: Path) -> None:
    text = SUITE.replace("      samples: ${SAMPLES}", "      sampels: ${SAMPLES}")
    (tmp_path / "slo.yaml").write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_slo_file(tmp_path / "slo.yaml", environ={}, env=EnvPolicy(lenient=True))
    said = [p.message for p in refused.value.problems]
    assert said == ["unknown key `sampels`; did you mean `samples`?"]


@pytest.mark.parametrize(
    "line", ["      samples: ${TOKEN}", "  timeout: ${TOKEN}"], ids=["count", "duration"]
)
def test_a_wrong_value_from_a_variable_is_never_quoted(
    line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A secret put in the wrong field (`samples: ${API_TOKEN}`) is refused without being shown:
    the error says the field and its line, not what the variable holds."""
    token = "sk-live-quoted-nowhere-42"
    text = SUITE.replace("      samples: ${SAMPLES}", "      samples: 3")
    text = text.replace("  timeout: ${TIMEOUT}", "  timeout: 5s")
    key = line.split(":")[0]
    text = "\n".join(line if ln.startswith(key + ":") else ln for ln in text.splitlines())
    (tmp_path / "slo.yaml").write_text(text)
    environ = {name: "1" for name in VARIABLES} | {"TOKEN": token, "OBJECTIVE": "99%"}
    environ |= {"TIMEOUT": "5s", "DEADLINE": "60s", "JOB_TIMEOUT": "30s", "WINDOW": "30d"}
    with pytest.raises(ConfigError) as refused:
        load_slo_file(tmp_path / "slo.yaml", environ=environ)
    said = str(refused.value)
    assert token not in said and "sk-live" not in said
    assert key.strip() in said
