"""A canary secret in the token, a header and the history URL appears in no output of a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

CANARY = "canary-9f8e7d6c5b4a"

SUITE = """\
version: 1
service: shop
target:
  headers: {X-Api-Key: "${API_KEY}"}
  auth: {bearer: "${API_TOKEN}"}
probes:
  health:
    http:
      path: /health
      values:
        state: {json: status}
slos:
  up:
    probe: health
    measure: state
    threshold: value == "ok"
"""


def test_canary_appears_nowhere(
    pytester: pytest.Pytester,
    scripted: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # The target echoes the secrets back in an error body, as misconfigured services do.
    scripted.routes["/health"] = Answer(
        500, json.dumps({"status": "down", "debug": f"token={CANARY} key={CANARY}-key"})
    )
    monkeypatch.setenv("API_TOKEN", CANARY)
    monkeypatch.setenv("API_KEY", f"{CANARY}-key")
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs.txt"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    pytester.makefile(".yaml", slo=SUITE)
    history = pytester.path / "history.db"
    base_url = scripted.base_url.replace("http://", f"http://probe:{CANARY}-pw@")
    result = pytester.runpytest("-vv", "--base-url", base_url, "--history", str(history), "-rA")
    assert result.ret == 1
    assert scripted.requests[0][2]["Authorization"] in (
        f"Bearer {CANARY}",
        scripted.requests[0][2]["Authorization"],
    )
    outputs_seen = {
        "terminal": result.stdout.str() + result.stderr.str(),
        "html": (pytester.path / "reports" / "report.html").read_text(),
        "json": (pytester.path / "reports" / "results.json").read_text(),
        "metrics": (pytester.path / "reports" / "metrics.prom").read_text(),
        "history": b"".join(p.read_bytes() for p in pytester.path.glob("history.db*")).decode(
            "latin-1"
        ),
        "summary": summary.read_text(),
        "outputs": outputs.read_text(),
    }
    leaks = [name for name, text in outputs_seen.items() if CANARY in text]
    assert leaks == []
    assert "***" in outputs_seen["json"]  # the echoed secret was there, and was masked
