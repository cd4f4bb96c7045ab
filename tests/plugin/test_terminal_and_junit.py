"""Terminal and JUnit read like pytest's own: own probe time per SLO case, one breach line, plurals."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  slow:
    http: {path: /slow}
  fast:
    http: {path: /fast}
slos:
  fast-up:
    probe: fast
    measure: status
    threshold: value == 200
  slow-up:
    probe: slow
    measure: status
    threshold: value == 200
"""


def test_each_slo_case_carries_its_own_probes_time(
    pytester: pytest.Pytester, scripted: ScriptedServer
) -> None:
    scripted.routes["/slow"] = Answer(200, "{}", delay_s=0.6)
    scripted.routes["/fast"] = Answer(200, "{}")
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest(f"--base-url={scripted.base_url}", "--junitxml=junit.xml")
    assert result.ret == 0
    cases = {
        case.get("name"): float(case.get("time", "0"))
        for case in ET.parse(pytester.path / "junit.xml").iter("testcase")
    }
    # fast-up runs first and so waits for every probe (the slow one too); it is charged only
    # its own, and slow-up its own, though it measured nothing itself.
    assert cases["slow-up"] >= 0.6
    assert cases["fast-up"] < 0.4


def test_a_breach_is_printed_once_with_its_reason_and_once_in_the_table(
    pytester: pytest.Pytester, scripted: ScriptedServer
) -> None:
    scripted.routes["/slow"] = Answer(503, "{}")
    scripted.routes["/fast"] = Answer(200, "{}")
    pytester.makefile(
        ".yaml",
        slo=SUITE.replace(
            "  fast-up:",
            "  zz:\n    probe: fast\n    measure: status\n    threshold: value == 200\n  fast-up:",
        ),
    )
    result = pytester.runpytest(f"--base-url={scripted.base_url}")
    assert result.ret == 1
    out = result.stdout.str()
    assert out.count("HTTP 503, expected 2xx") == 1  # the reason, in the FAILURES section
    result.stdout.fnmatch_lines(["slow-up *failed*value == 200*breach*"])  # the table
    result.stdout.fnmatch_lines(["3 SLOs: 2 ok, 1 breach; target *"])


def test_one_slo_reads_as_one(pytester: pytest.Pytester, scripted: ScriptedServer) -> None:
    scripted.routes["/fast"] = Answer(200, "{}")
    pytester.makefile(".yaml", slo=SUITE.split("  slow-up:")[0])
    result = pytester.runpytest(f"--base-url={scripted.base_url}")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["1 SLO: 1 ok; target *"])
    assert "1 SLOs" not in result.stdout.str()
