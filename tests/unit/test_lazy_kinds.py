"""A run pays only for the probe kinds its slo.yaml uses, and reads every kind as before.

Each kind's spec models are imported and built the first time a probe of that kind is
read (probes/registry.py, config/model.py's ``_KindSpec``); the JSON Schema and key
suggestions still see every kind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from sloprobe.config import ConfigError, load_slo_text
from sloprobe.config.model import ProbeSpec, described_slo_file
from sloprobe.probes.registry import KIND_NAMES, KINDS

HTTP_ONLY = """\
version: 1
service: shop
probes:
  health:
    http: {path: /health}
slos:
  up:
    probe: health
    measure: status
    threshold: value == 200
"""


def test_a_file_of_http_probes_imports_no_other_kind() -> None:
    code = textwrap.dedent(
        f"""
        import json, sys
        from sloprobe.config import load_slo_text
        loaded = load_slo_text({HTTP_ONLY!r}, "slo.yaml", {{}})
        assert loaded.spec.probes["health"].kind == "http"
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("sloprobe.probes."))))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = set(json.loads(done.stdout))
    assert "sloprobe.probes.http.spec" in imported
    others = {
        module
        for module in imported
        for kind in KIND_NAMES
        if kind != "http" and module.startswith(f"sloprobe.probes.{kind}")
    }
    assert others == set()


def test_the_registry_names_every_kind_and_loads_each_on_demand() -> None:
    assert list(KINDS) == list(KIND_NAMES) and len(KINDS) == len(KIND_NAMES)
    assert "job" in KINDS and "nope" not in KINDS
    for name in KIND_NAMES:
        assert KINDS[name].name == name
    with pytest.raises(KeyError):
        KINDS["nope"]


def test_a_kind_read_lazily_is_validated_by_its_own_model() -> None:
    spec = ProbeSpec.model_validate({"tcp": {"host": "127.0.0.1", "port": 6379}})
    assert spec.kind == "tcp"
    assert type(spec.body) is KINDS["tcp"].spec


def test_an_error_inside_a_lazy_kind_names_its_line_and_field() -> None:
    text = HTTP_ONLY.replace("    http: {path: /health}", "    tcp: {host: db, prot: 5432}")
    with pytest.raises(ConfigError) as caught:
        load_slo_text(text, "slo.yaml", {})
    said = str(caught.value)
    assert "slo.yaml:5: probes.health.tcp.prot: unknown key `prot`; did you mean `port`?" in said


def test_a_mistyped_kind_is_suggested_even_when_no_probe_uses_it() -> None:
    text = HTTP_ONLY.replace("    http: {path: /health}", "    htp: {path: /health}")
    with pytest.raises(ConfigError) as caught:
        load_slo_text(text, "slo.yaml", {})
    assert "unknown key `htp`; did you mean `http`?" in str(caught.value)


def test_a_kind_set_to_null_is_no_kind() -> None:
    text = HTTP_ONLY.replace("    http: {path: /health}", "    http: null")
    with pytest.raises(ConfigError) as caught:
        load_slo_text(text, "slo.yaml", {})
    assert "a probe needs exactly one kind" in str(caught.value)


def test_the_schema_describes_every_kind() -> None:
    schema = described_slo_file().model_json_schema(by_alias=True)
    probe = schema["$defs"]["ProbeSpec"]["properties"]
    for name in KIND_NAMES:
        assert name in probe, name
        assert probe[name]["description"] == KINDS[name].summary
