"""Order and triggers: `after:` waits for the run's own job, a job waits no longer than its SLO
judges, a deploy run sends its job whatever `every` says, `--exit-on incident` needs history."""

from __future__ import annotations

import time

import pytest
import yaml

from sloprobe.config import ConfigError, load_slo_text
from sloprobe.config.model import SloFile
from sloprobe.probes.context import make_context
from sloprobe.probes.runner import run_probes
from tests.support.scripted_server import Answer, ScriptedServer

SUITE = """\
version: 1
service: shop
target: {{base_url: "{base_url}"}}
probes:
  job:
    job:
      submit: {{path: /jobs}}
      status: {{path: "/jobs/{{id}}"}}
      poll: {{interval: 50ms, max_interval: 100ms{timeout}}}
{every}
  stats:
    http: {{path: /stats}}
{after}
slos:
  e2e: {{probe: job, measure: total, threshold: value < 2s}}
  stats-up: {{probe: stats, measure: status, threshold: value == 200}}
"""


def _suite(base_url: str, *, after: bool = True, timeout: str = "", every: str = "") -> str:
    return SUITE.format(
        base_url=base_url,
        after="    after: job" if after else "",
        timeout=f", timeout: {timeout}" if timeout else "",
        every=f"      every: {every}" if every else "",
    )


def _data(text: str) -> object:
    return yaml.safe_load(text)


def _job_routes(scripted: ScriptedServer, state: str) -> None:
    scripted.routes["/jobs"] = Answer(202, '{"id": "7"}')
    scripted.routes["/jobs/7"] = Answer(200, f'{{"status": "{state}"}}', delay_s=0.05)
    scripted.routes["/stats"] = Answer(200, '{"succeeded": 1}')


def test_a_probe_after_the_job_reads_once_the_job_has_ended(scripted: ScriptedServer) -> None:
    _job_routes(scripted, "succeeded")
    spec = load_slo_text(_suite(scripted.base_url)).spec
    context = make_context(scripted.base_url, spec.target)
    measured = run_probes(spec.probes, context, 4, 20.0)
    assert measured["job"].failure is None and measured["stats"].failure is None
    paths = [path for _, path, _ in scripted.requests]
    assert paths.index("/stats") > max(i for i, p in enumerate(paths) if p == "/jobs/7")


def test_without_after_the_probes_run_at_once(scripted: ScriptedServer) -> None:
    """The control: without `after`, the stats are read while the job is still polled."""
    _job_routes(scripted, "succeeded")
    spec = load_slo_text(_suite(scripted.base_url, after=False)).spec
    run_probes(spec.probes, make_context(scripted.base_url, spec.target), 4, 20.0)
    paths = [path for _, path, _ in scripted.requests]
    assert paths.index("/stats") < max(i for i, p in enumerate(paths) if p == "/jobs/7")


def test_an_after_that_names_no_probe_or_goes_round_is_refused() -> None:
    from sloprobe.config.model import after_problems

    ghost = _suite("http://127.0.0.1:9").replace("    after: job", "    after: ghost")
    with pytest.raises(ConfigError, match=r"slo.yaml:\d+: probes.stats.after: no probe named"):
        load_slo_text(ghost)
    [(path, message)] = after_problems(SloFile.model_validate(_data(ghost)))
    assert path == ("probes", "stats", "after") and "no probe named `ghost`" in message
    circle = _suite("http://127.0.0.1:9").replace(
        "  job:\n    job:", "  job:\n    after: stats\n    job:"
    )
    messages = [m for _, m in after_problems(SloFile.model_validate(_data(circle)))]
    assert "`after` goes round: job → stats → job" in messages


def test_a_job_waits_no_longer_than_the_slo_that_judges_it(scripted: ScriptedServer) -> None:
    _job_routes(scripted, "queued")  # a stopped worker: the job never leaves the queue
    spec = load_slo_text(_suite(scripted.base_url)).spec
    assert spec.probes["job"].job.poll.timeout == pytest.approx(2.1)
    clock = time.monotonic()
    measured = run_probes(
        {"job": spec.probes["job"]}, make_context(scripted.base_url, spec.target), 1, 300.0
    )
    took = time.monotonic() - clock
    assert measured["job"].failure is not None
    assert took < 10, f"the job was followed for {took:.0f} s under a 2 s SLO"
    asked = load_slo_text(_suite(scripted.base_url, timeout="5m")).spec
    assert asked.probes["job"].job.poll.timeout == 300.0  # unless asked: the user's timeout wins


def test_a_deploy_run_sends_its_job_whatever_every_says(
    pytester: pytest.Pytester, scripted: ScriptedServer
) -> None:
    _job_routes(scripted, "succeeded")
    pytester.makefile(".yaml", slo=_suite(scripted.base_url, every="1h"))

    def jobs_sent() -> int:
        return sum(
            1 for method, path, _ in scripted.requests if (method, path) == ("POST", "/jobs")
        )

    assert pytester.runpytest("-q").ret == 0
    assert jobs_sent() == 1
    assert pytester.runpytest("-q").ret == 0  # a scheduled re-run within the hour: not due
    assert jobs_sent() == 1
    assert pytester.runpytest("-q", "--trigger", "deploy").ret == 0
    assert jobs_sent() == 2
    assert pytester.runpytest("-q", "--job-now").ret == 0  # by hand, on any trigger
    assert jobs_sent() == 3


def test_exit_on_incident_without_history_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", slo=_suite("http://127.0.0.1:9"))
    result = pytester.runpytest("--exit-on", "incident", "--history", "off")
    assert result.ret == 4
    assert "--exit-on incident needs history" in result.stderr.str()
