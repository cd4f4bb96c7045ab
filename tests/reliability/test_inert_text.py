"""Target text is inert in every output: NUL bytes and bidirectional overrides are shown, never raw."""

from __future__ import annotations

import json

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  health:
    http:
      path: /health
      values:
        state: {json: status}
slos:
  up: {probe: health, measure: state, threshold: value == "ok"}
"""
HOSTILE = "ok\x00\u202egnp.exe\u2066x\x1b[31m"


def test_controls_and_bidi_overrides_never_reach_an_output(
    pytester: pytest.Pytester, scripted: ScriptedServer
) -> None:
    scripted.routes["/health"] = Answer(200, json.dumps({"status": HOSTILE}))
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("-vv", "--base-url", scripted.base_url)
    assert result.ret == 1
    reports = pytester.path / "reports"
    outputs = {
        "terminal": result.stdout.str(),
        **{
            str(p.relative_to(reports)): p.read_text(errors="replace")
            for p in reports.rglob("*")
            if p.suffix in (".html", ".json", ".prom")
        },
    }
    for name, text in outputs.items():
        for raw in ("\x00", "\u202e", "\u2066", "\x1b"):
            assert raw not in text, (name, repr(raw))
    data = json.loads((reports / "results.json").read_text())
    state = data["measurements"]["health"]["series"]["state"]["samples"][0]
    assert state == "ok\\u0000\\u202egnp.exe\\u2066x\\u001b[31m"  # visible, not raw
    assert "\\u202e" in (reports / "report.html").read_text()


def test_a_value_may_keep_credential_looking_text_but_never_a_configured_secret(
    scripted: ScriptedServer,
) -> None:
    from sloprobe.config.model import ProbeSpec, Target
    from sloprobe.probes.context import make_context
    from sloprobe.probes.runner import run_probes

    text = "Bearer abcdefghijklmnop and configured-secret-42"
    scripted.routes["/note"] = Answer(200, json.dumps({"note": text}))
    spec = {
        "http": {
            "path": "/note",
            "values": {
                "kept": {"json": "note", "redact": False},
                "masked": {"json": "note"},
            },
        }
    }
    target = Target(headers={"X-Api-Key": "configured-secret-42"})
    measured = run_probes(
        {"p": ProbeSpec.model_validate(spec)}, make_context(scripted.base_url, target), 1, 10.0
    )["p"]
    assert measured.series["kept"].samples == ("Bearer abcdefghijklmnop and ***",)
    assert measured.series["masked"].samples == ("Bearer *** and ***",)
