"""No error of sloprobe's own loses a run: a probe or a judgement that raises breaches alone."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin.test_plugin import SUITE
from tests.support.scripted_server import Answer, ScriptedServer

BROKEN_SUITE = (
    SUITE
    + """\
  broken-latency:
    probe: broken
    measure: latency
    threshold: p95 < 2s
"""
).replace(
    "slos:\n",
    """\
  broken:
    http:
      path: /broken
slos:
""",
    1,
)

# A probe with a bug of ours: the http kind's measuring code raises for this one probe.
RAISING_PROBE = """
import sloprobe.probes.http.measure as http_measure

_real = http_measure.measure


async def measure(call):
    if call.name == "broken":
        {}
    return await _real(call)


http_measure.measure = measure
"""


@pytest.fixture
def shop(scripted: ScriptedServer) -> ScriptedServer:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99.1}')
    scripted.routes["/broken"] = Answer(200, "{}")
    return scripted


def _results(root: Path) -> dict[str, dict[str, object]]:
    data = json.loads((root / "reports" / "results.json").read_text())
    return {v["slo"]: v for v in data["verdicts"]} | {"_run": data}


def test_a_probe_that_raises_breaches_alone_and_the_run_is_complete(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=BROKEN_SUITE)
    pytester.makeconftest(RAISING_PROBE.format('raise ZeroDivisionError("float division by zero")'))
    result = pytester.runpytest("--base-url", shop.base_url)
    assert result.ret == 1
    result.assert_outcomes(passed=3, failed=1)
    verdicts = _results(pytester.path)
    broken = verdicts["broken-latency"]
    assert broken["status"] == "breach"
    assert str(broken["reason"]).startswith(
        "probe broken failed: internal error in probe broken: ZeroDivisionError: float division by zero"
    )
    assert {k: v["status"] for k, v in verdicts.items() if k not in ("_run", "broken-latency")} == {
        "health-up": "ok",
        "health-latency": "ok",
        "success-rate": "ok",
    }
    run = verdicts["_run"]
    assert any("internal error in probe `broken`" in w for w in run["warnings"])  # type: ignore[attr-defined]
    traceback = run["measurements"]["broken"]["details"]["traceback"]  # type: ignore[index]
    assert "Traceback" in traceback and "ZeroDivisionError" in traceback
    html = (pytester.path / "reports" / "report.html").read_text()
    assert "internal error in probe broken" in html and "ZeroDivisionError" in html
    with sqlite3.connect(pytester.path / "reports" / "history.db") as db:
        stored = dict(db.execute("SELECT slo, status FROM sloprobe_verdicts").fetchall())
    assert stored == {
        "health-up": "ok",
        "health-latency": "ok",
        "success-rate": "ok",
        "broken-latency": "breach",
    }


def test_a_secret_in_the_traceback_is_redacted(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    pytester.makefile(
        ".yaml",
        slo=BROKEN_SUITE.replace(
            "service: shop\n", "service: shop\ntarget:\n  auth:\n    bearer: s3cret-canary-token\n"
        ),
    )
    pytester.makeconftest(
        RAISING_PROBE.format(
            'raise RuntimeError("leaked " + call.context.request_headers()["Authorization"])'
        )
    )
    result = pytester.runpytest("--base-url", shop.base_url)
    assert result.ret == 1
    for path in (pytester.path / "reports").rglob("*"):
        if path.is_file():
            assert b"s3cret-canary-token" not in path.read_bytes(), path
    assert "s3cret-canary-token" not in result.stdout.str()


def test_judging_that_raises_breaches_that_slo_alone(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    pytester.makeconftest(
        """
import sloprobe.plugin.suite_run as suite_run

_real = suite_run.evaluate_slo


def evaluate_slo(name, *args, **kwargs):
    if name == "success-rate":
        raise KeyError("a judge bug")
    return _real(name, *args, **kwargs)


suite_run.evaluate_slo = evaluate_slo
"""
    )
    result = pytester.runpytest("--base-url", shop.base_url)
    assert result.ret == 1
    verdicts = _results(pytester.path)
    assert verdicts["success-rate"]["status"] == "breach"
    assert "internal error while judging success-rate: KeyError" in str(
        verdicts["success-rate"]["reason"]
    )
    assert verdicts["health-up"]["status"] == "ok"
    assert (pytester.path / "reports" / "report.html").is_file()


def test_yaml_nested_thousands_deep_is_a_config_error_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(
        "version: 1\nservice: x\nprobes: {}\nslos: {}\nextra: " + "[" * 5000 + "]" * 5000 + "\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "sloprobe.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    assert "slo.yaml:5: nested more than 64 levels deep" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
