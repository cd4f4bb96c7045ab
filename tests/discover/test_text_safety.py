"""What a service says is data: secret-named fields are never read into the file, a key with a
dot is quoted in its path, and `${…}` from the service is never a variable of the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sloprobe.discover.model import Var
from sloprobe.discover.yaml_text import block, scalar
from tests.discover.support import discover, run_suite, validates
from tests.support.scripted_server import Answer, ScriptedServer

HEALTH = {
    "status": "ok",
    "api_key": "sk-live-4f9a8b7c6d5e4f3a",
    "components": {"db.primary": {"status": "healthy"}, "cache": {"status": "${HOME}"}},
}


def test_secret_fields_dotted_keys_and_service_text(
    scripted: ScriptedServer, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    scripted.routes["/health"] = Answer(200, json.dumps(HEALTH))
    status, out, err = discover(scripted.base_url, "--out", str(tmp_path))
    assert status == 0, out + err
    text = (tmp_path / "slo.yaml").read_text()
    assert "sk-live" not in text + out + err and "api_key" not in text
    assert "${HOME}" not in text.replace("$${HOME}", "")
    spec = validates(tmp_path / "slo.yaml")
    values = spec.probes["health"].http.values
    assert values["components-db-primary-status"].json_path == 'components."db.primary".status'
    ret, verdicts = run_suite(pytester, tmp_path / "slo.yaml", scripted.base_url)
    assert ret == 0, {s: (v["status"], v["reason"]) for s, v in verdicts.items()}
    assert verdicts["health-components-db-primary-status"]["status"] == "ok"


def test_the_writer_escapes_service_text_and_keeps_its_own_variables() -> None:
    assert scalar("${HOME}") == '"$${HOME}"'
    assert scalar(Var("${API_TOKEN}")) == '"${API_TOKEN}"'
    assert scalar("yes") == '"yes"' and scalar("12") == '"12"' and scalar("a: b") == '"a: b"'
    lines = block({"x": {"path": "/a #b", "list": ["k: v", "ok"]}}, {("x", "path"): "c\nd"}, 0)
    assert yaml.safe_load("\n".join(lines)) == {"x": {"path": "/a #b", "list": ["k: v", "ok"]}}
    assert lines[1].endswith("# c d")
