"""The plugin as a user sees it: real pytest runs (pytester) against a real local HTTP server."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
probes:
  health:
    http:
      path: /health
      samples: 3
      values:
        state: {json: status}
  stats:
    http:
      path: /stats
      values:
        rate: {json: success_rate, unit: "%"}
slos:
  health-up:
    probe: health
    measure: state
    threshold: value == "ok"
  health-latency:
    probe: health
    measure: latency
    threshold: p95 < 2s
  success-rate:
    probe: stats
    measure: rate
    threshold: value >= 90%
    warn: value >= 95%
"""


@pytest.fixture
def shop(scripted: ScriptedServer) -> ScriptedServer:
    scripted.routes["/health"] = Answer(200, '{"status": "ok"}')
    scripted.routes["/stats"] = Answer(200, '{"success_rate": 99.1}')
    return scripted


def test_inert_without_an_slo_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="def test_one():\n    assert True\n\ndef test_two():\n    assert False\n"
    )
    with_plugin = pytester.runpytest("-q")
    without = pytester.runpytest("-q", "-p", "no:sloprobe")
    assert with_plugin.ret == without.ret == 1
    with_plugin.assert_outcomes(passed=1, failed=1)
    assert "SLO summary" not in with_plugin.stdout.str()
    assert not (pytester.path / "reports").exists()


def test_collect_only_lists_slos_without_a_target(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--collect-only", "-q")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["slo.yaml::health-up", "slo.yaml::health-latency", "slo.yaml::success-rate"]
    )


def test_no_target_is_a_usage_error_saying_how_to_set_one(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROBE_BASE_URL", raising=False)
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str()
    for hint in ("--base-url", "PROBE_BASE_URL", "sloprobe demo"):
        assert hint in text


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "      samples: 3",
            "      sampels: 3",
            "slo.yaml:7: probes.health.http.sampels: unknown key",
            id="misspelled-key",
        ),
        pytest.param(
            "      samples: 3",
            "      samples: many",
            "slo.yaml:7: probes.health.http.samples:",
            id="wrong-type",
        ),
        pytest.param(
            "path: /stats",
            "path: /stats\n      timeout: 300 parsecs",
            "slo.yaml:13: probes.stats.http.timeout: `300 parsecs` is not a duration",
            id="bad-duration",
        ),
        pytest.param(
            "    probe: stats",
            "    probe: statz",
            "slo.yaml:25: slos.success-rate.probe: no probe named `statz`",
            id="missing-probe",
        ),
    ],
)
def test_broken_slo_file_is_a_usage_error_naming_line_and_field(
    pytester: pytest.Pytester, old: str, new: str, expected: str
) -> None:
    pytester.makefile(".yaml", slo=SUITE.replace(old, new, 1))
    result = pytester.runpytest("--base-url", "http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert expected in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_good_run_passes_and_writes_reports(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("-v", "--base-url", shop.base_url)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*slo.yaml::health-up PASSED*", "*SLO summary: shop*", "*success-rate*value = 99.1%*ok*"]
    )
    results = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert {v["slo"]: v["status"] for v in results["verdicts"]} == {
        "health-up": "ok",
        "health-latency": "ok",
        "success-rate": "ok",
    }
    assert (pytester.path / "reports" / "report.html").is_file()
    # Each probe ran once, however many SLOs read it.
    assert sorted(path for _, path, _ in shop.requests) == ["/health"] * 3 + ["/stats"]


def test_breach_fails_with_observed_and_threshold(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    shop.routes["/stats"] = Answer(200, '{"success_rate": 80}')
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--base-url", shop.base_url)
    assert result.ret == 1
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*SLO success-rate breach: value = 80%, expected value >= 90%*"])
    result.stdout.fnmatch_lines(["success-rate*value = 80%*value >= 90%*breach*"])


def test_warning_passes_visibly_and_exit_on_warning_fails(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    shop.routes["/stats"] = Answer(200, '{"success_rate": 93.33}')
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--base-url", shop.base_url)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*SLOWarning: SLO success-rate is in its warning range*"])
    # Said at the SLO's own line of slo.yaml, not at a line of sloprobe's code.
    line = SUITE.splitlines().index("  success-rate:") + 1
    result.stdout.fnmatch_lines([f"*slo.yaml:{line}: SLOWarning: SLO success-rate*"])
    assert "items.py" not in result.stdout.str()
    strict = pytester.runpytest("--base-url", shop.base_url, "--exit-on", "warning")
    assert strict.ret == 1


@pytest.mark.parametrize("answer", ["not-found", "refused"])
def test_a_dead_target_fails_every_slo_as_bad_measurement(
    pytester: pytest.Pytester, scripted: ScriptedServer, closed_port_url: str, answer: str
) -> None:
    base_url = scripted.base_url if answer == "not-found" else closed_port_url
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--base-url", base_url)
    assert result.ret == 1
    result.assert_outcomes(failed=3)
    verdicts = json.loads((pytester.path / "reports" / "results.json").read_text())["verdicts"]
    assert {v["status"] for v in verdicts} == {"breach"}
    assert all("failed" in v["reason"] for v in verdicts)


def test_k_runs_only_the_probes_of_selected_slos(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--base-url", shop.base_url, "-k", "success-rate")
    assert result.ret == 0
    result.assert_outcomes(passed=1)
    assert [path for _, path, _ in shop.requests] == ["/stats"]


def test_no_data_fails_unless_allowed(pytester: pytest.Pytester, shop: ScriptedServer) -> None:
    shop.routes["/stats"] = Answer(200, '{"success_rate": null}')
    pytester.makefile(".yaml", slo=SUITE)
    result = pytester.runpytest("--base-url", shop.base_url, "-k", "success-rate")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*SLO success-rate no data: field `success_rate` is null*"])
    pytester.makefile(
        ".yaml", slo=SUITE.replace("warn: value >= 95%", "warn: value >= 95%\n    no_data: pass")
    )
    allowed = pytester.runpytest("--base-url", shop.base_url, "-k", "success-rate")
    assert allowed.ret == 0
    allowed.assert_outcomes(skipped=1)


def test_marks_from_slo_yaml_select_with_m(pytester: pytest.Pytester, shop: ScriptedServer) -> None:
    suite = SUITE.replace(
        "    threshold: p95 < 2s", "    threshold: p95 < 2s\n    marks: [latency]"
    )
    pytester.makefile(".yaml", slo=suite)
    result = pytester.runpytest("--base-url", shop.base_url, "-m", "latency", "--strict-markers")
    assert result.ret == 0
    result.assert_outcomes(passed=1)


PYTHON_SUITE = SUITE + textwrap.dedent(
    """\
      checkout:
        probe: checkout
        measure: duration
        threshold: max < 5s
    """
).replace("  checkout:", "  checkout:", 1)


def test_python_probe_records_into_slos_and_comes_back_when_deselected(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    suite = SUITE.replace(
        "slos:\n",
        "  checkout:\n    python:\n      values:\n        duration: {unit: ms}\nslos:\n  checkout:\n    probe: checkout\n    measure: duration\n    threshold: max < 5s\n",
    )
    pytester.makefile(".yaml", slo=suite)
    pytester.mkdir("probes")
    (pytester.path / "probes" / "test_checkout.py").write_text(
        textwrap.dedent(
            """\
            import pytest

            @pytest.mark.probe("checkout")
            def test_checkout(target, recorder):
                assert target.get("/health").json()["status"] == "ok"
                recorder.record("duration", 1234)
            """
        )
    )
    result = pytester.runpytest(
        "--base-url", shop.base_url, "-v", "-k", "checkout and not test_", "slo.yaml", "probes"
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*test_checkout PASSED*", "*slo.yaml::checkout PASSED*"])
    # A run narrowed by -k is partial: its results go beside the last full run's.
    results = json.loads((pytester.path / "reports" / "partial" / "results.json").read_text())
    verdict = next(v for v in results["verdicts"] if v["slo"] == "checkout")
    assert verdict["observed"] == "max = 1.23s"
    assert verdict["status"] == "ok"


def test_last_failed_reruns_only_the_breached_slo(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    shop.routes["/stats"] = Answer(200, '{"success_rate": 50}')
    pytester.makefile(".yaml", slo=SUITE)
    first = pytester.runpytest("--base-url", shop.base_url)
    assert first.ret == 1
    shop.requests.clear()
    again = pytester.runpytest("--base-url", shop.base_url, "--lf", "-x")
    assert again.ret == 1
    again.assert_outcomes(failed=1, passed=0)
    assert [path for _, path, _ in shop.requests] == ["/stats"]


def test_history_opens_an_incident_and_exit_on_incident_follows_it(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    shop.routes["/stats"] = Answer(200, '{"success_rate": 50}')
    codes = [
        pytester.runpytest(
            "--base-url",
            shop.base_url,
            "--exit-on",
            "incident",
            "-k",
            "success",
            "--record-partial",
        ).ret
        for _ in range(3)
    ]
    assert codes == [0, 0, 1]  # breaches, but no incident until the third bad run
    results = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert results["verdicts"][0]["history"]["incident"]["transition"] == "opened"
    shop.routes["/stats"] = Answer(200, '{"success_rate": 99}')
    after = [
        pytester.runpytest(
            "--base-url",
            shop.base_url,
            "--exit-on",
            "incident",
            "-k",
            "success",
            "--record-partial",
        )
        for _ in range(2)
    ]
    assert [r.ret for r in after] == [1, 0]  # still open after one good run, resolved after two
    after[1].stdout.fnmatch_lines(["*success-rate*ok*resolved after*"])


def test_broken_history_is_a_warning_and_changes_no_verdict(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    (pytester.path / "blocker").write_text("a file, not a directory")
    result = pytester.runpytest(
        "--base-url", shop.base_url, "--history", str(pytester.path / "blocker" / "h.db")
    )
    assert result.ret == 0
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*warning: history not used: cannot open history*"])
    results = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert any("history not used" in w for w in results["warnings"])


def test_a_bug_in_history_or_notifiers_is_a_warning(
    pytester: pytest.Pytester, shop: ScriptedServer
) -> None:
    pytester.makefile(".yaml", slo=SUITE)
    pytester.makeconftest(
        """
        import sloprobe.plugin.suite_run as suite_run

        def broken(self, result):
            raise RuntimeError("simulated bug")

        suite_run.SuiteRun.record = broken
        """
    )
    result = pytester.runpytest("--base-url", shop.base_url)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*warning: history/notifications failed: RuntimeError: simulated bug*"]
    )
    assert (pytester.path / "reports" / "report.html").is_file()
