"""docs/probes.md is generated from the registry and stays in step with it; its examples are valid probes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import ConfigDict, Field

from sloprobe.config.model import ProbeSpec
from sloprobe.fields.base import StrictModel
from sloprobe.fields.types import Duration, Name
from sloprobe.model.units import Unit
from sloprobe.probe_docs import COMMAND, probe_example, render_probe_docs
from sloprobe.probes.base import Measure, ProbeKind
from sloprobe.probes.registry import KINDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "probes.md"


def _section(text: str, kind: str) -> str:
    start = text.index(f"\n## {kind}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_docs_file_is_up_to_date() -> None:
    expected = render_probe_docs()
    actual = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else ""
    assert actual == expected, (
        f"docs/probes.md is out of date with the registry; regenerate it: {COMMAND}"
    )


def test_command_prints_the_docs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "docs", "probes"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert done.stdout.decode("utf-8").replace("\r\n", "\n") == render_probe_docs()


def test_header_says_generated() -> None:
    head = render_probe_docs().splitlines()[0]
    assert COMMAND in head
    assert "Do not edit by hand" in head


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_has_its_section(name: str) -> None:
    kind = KINDS[name]
    section = _section(render_probe_docs(), name)
    assert kind.summary in section
    assert "**Options**" in section and "**Example**" in section and "**Measures**" in section
    for measure in kind.measures:
        assert f"| `{measure.name}` |" in section, measure.name
    for field_name, field in kind.spec.model_fields.items():
        assert f"| `{field.alias or field_name}` |" in section, field_name
    if kind.extra:
        assert f"pip install 'sloprobe[{kind.extra}]'" in section


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_has_a_valid_example(name: str) -> None:
    example = probe_example(KINDS[name])
    probes = yaml.safe_load(example)["probes"]
    assert probes
    for probe in probes.values():
        spec = ProbeSpec.model_validate(probe)
        assert spec.kind == name
    assert example.rstrip("\n") in _section(render_probe_docs(), name)


def test_readable_types_and_defaults() -> None:
    text = render_probe_docs()
    http, job, prometheus = (_section(text, k) for k in ("http", "job", "prometheus"))
    assert "| `json` | any |" in http  # the alias, not json_body
    assert "json_body" not in text
    assert "| `method` | `GET` \\| `POST` \\| `PUT`" in http
    assert "| `timeout` | duration | not set |" in http
    assert "| `expect.status` | list of integer or string | `[2xx]` |" in http
    assert "| `values.<name>.unit` | unit | `none` |" in http
    assert "| `samples` | integer (1–1000) | `1` |" in http
    assert "| `poll.timeout` | duration | `60s` |" in job
    assert "| `poll.interval` | duration | `250ms` |" in job
    assert "| `submit.path` | string | required |" in job
    assert "| `status.created_at` | string or `null` | `created_at` |" in job
    assert "Takes the options of `setup[]`." in job
    assert "| `metrics` | non-empty map of name → object | required |" in prometheus
    assert "| `metrics.<name>.kind` | `gauge` \\| `counter`" in prometheus
    assert "the `unit:` you declare" in prometheus


def test_angle_brackets_in_prose_are_not_html() -> None:
    redis = _section(render_probe_docs(), "redis")
    assert "RQ_KEY_PREFIX=\\<ns>" in redis


# --- a kind the docs have no example for --------------------------------------


class _Target(StrictModel):
    port: int = Field(ge=1, le=65535)
    tls: bool = False


class _Poll(StrictModel):
    timeout: Duration = 30.0


class _FakeProbe(StrictModel):
    host: str = Field(description="A | pipe in a description.")
    mode: Literal["fast", "slow"]
    every: Duration
    unit: Unit
    queues: list[str] = Field(min_length=1)
    targets: dict[Name, _Target] = Field(min_length=1)
    poll: _Poll = Field(default_factory=_Poll)
    retries: int = Field(0, ge=0)


class _ExampleProbe(StrictModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"path": "/ready"}]})

    path: str


def _kind(name: str, spec: Any) -> ProbeKind[Any]:
    return ProbeKind(
        name=name,
        spec=spec,
        summary=f"The {name} kind.",
        measures=(Measure("latency", "s", "Time it took."),),
        series_units=lambda spec: {},
        talks_to_target=False,
        measurer="",
    )


def test_kind_without_example_gets_one_from_its_required_options() -> None:
    kind = _kind("fake", _FakeProbe)
    example = probe_example(kind)
    body = yaml.safe_load(example)["probes"]["fake"]["fake"]
    spec = _FakeProbe.model_validate(body)
    assert set(body) == {"host", "mode", "every", "unit", "queues", "targets"}
    assert spec.targets["example"].port == 1
    text = render_probe_docs({"fake": kind})
    section = _section(text, "fake")
    assert example.rstrip("\n") in section
    assert "| `host` | string | required | A \\| pipe in a description. |" in section
    assert "| `targets.<name>.port` | integer (1–65535) | required |" in section
    assert "| `poll` | object | defaults below |" in section
    assert "| `poll.timeout` | duration | `30s` |" in section
    assert "| `retries` | integer (≥ 0) | `0` |" in section
    assert "| `latency` | `s` | Time it took. |" in section


def test_spec_examples_come_first() -> None:
    example = probe_example(_kind("ready", _ExampleProbe))
    assert yaml.safe_load(example) == {"probes": {"ready": {"ready": {"path": "/ready"}}}}
