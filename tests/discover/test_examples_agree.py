"""Discovery and the shipped examples agree (issue 27, item 6): against a server that answers only
as a seed shows, `sloprobe discover` proposes the probes, paths and fields of that seed's example.

Where the example leaves a field to a `${VAR}` (the seed names it without showing it), the
seed-shaped server gives it a name of its own; discovery must find exactly that name — the
value a user would fill in. Where the example leaves a unit to a variable because the seed
cannot tell it (a success rate: ratio or percent), discovery must not guess it either: it says
the field was seen and why it is not proposed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from sloprobe.config import EnvPolicy, load_slo_file
from sloprobe.probes.http.spec import HttpProbe
from tests.discover.support import discover, validates
from tests.support.luster_server import ASSET, FIELDS, PASSWORD, luster_service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _http_reads(spec: Any) -> dict[str, dict[str, str]]:
    """{path: {JSON path: unit}} of every GET http probe in a loaded suite."""
    reads: dict[str, dict[str, str]] = {}
    for probe in spec.probes.values():
        http = getattr(probe, "http", None)
        if isinstance(http, HttpProbe) and http.method == "GET":
            values = reads.setdefault(http.path, {})
            for value in http.values.values():
                if value.json_path is not None:
                    values[value.json_path] = value.unit.value
    return reads


def test_luster_discovery_proposes_the_examples_paths_and_fields(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    example = load_slo_file(
        EXAMPLES / "fastapi-db-worker" / "slo.yaml",
        environ={**os.environ, **FIELDS, "ADMIN_PASSWORD": PASSWORD, "PROBE_ASSET_ID": ASSET},
        env=EnvPolicy(lenient=True),
    ).spec
    with luster_service() as luster:
        # A service in use has run jobs: its stats show a rate and a processing time.
        answer = httpx.post(f"{luster.base_url}/jobs", data={"asset_id": ASSET, "tier": "premium"})
        assert answer.status_code == 201
        job = answer.json()["job"]["uuid"]
        for _ in range(100):
            if luster.jobs[job].ended is not None:
                break
            httpx.get(f"{luster.base_url}/health")  # paces the wait on the service itself
        status, out, err = discover(
            luster.base_url,
            "--out",
            str(tmp_path),
            "--basic-user",
            "admin",
            "--basic-password-env",
            "ADMIN_PASSWORD",
        )
    assert status == 0, out + err
    text = (tmp_path / "slo.yaml").read_text()
    proposed = _http_reads(validates(tmp_path / "slo.yaml"))
    expected = _http_reads(example)

    # Every GET the example makes is a probe of the proposal, on the same path.
    assert set(expected) <= set(proposed), (set(expected), set(proposed))
    unclear = {f"{FIELDS['SUCCESS_RATE_FIELD']}"}  # the example's SUCCESS_RATE_UNIT variable
    for path, fields in expected.items():
        for json_path, unit in fields.items():
            if json_path in unclear:
                assert f"Seen, not proposed: {json_path} (1: a ratio or a percent?" in text
                assert json_path not in proposed[path]
                continue
            assert json_path in proposed[path], (path, json_path, proposed[path])
            if unit != "none":
                assert proposed[path][json_path] == unit, (path, json_path)
    # The job probe is a POST: without an OpenAPI document discovery cannot see it, and says
    # where it looked.
    assert "openapi           not found" in out
    assert not any(p.kind == "job" for p in validates(tmp_path / "slo.yaml").probes.values())
    # Auth as the example has it: the password a variable, never the value.
    assert "${ADMIN_PASSWORD}" in text and PASSWORD not in text
