"""The pytest plugin: sloprobe's orchestrator (DESIGN.md "The run model").

Collect the SLOs of slo.yaml as items, run the probes the selected SLOs
need once before the first of them, judge each SLO as its item runs, then
publish the run's result through the sinks and print the SLO summary.
Nothing here measures or judges by itself. In a pytest run that collects no
SLO file every hook below returns without doing anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sloprobe.plugin.names import NO_TARGET, is_slo_file
from sloprobe.plugin.options import (
    EXIT_ON,
    check_option_values,
    chosen_slo_file,
    exit_on,
    option,
)
from sloprobe.plugin.state import (
    PROBE_DONE,
    RECORDER,
    TRACE,
    probe_name,
    state_of,
    usage_error,
)
from sloprobe.plugin.xdist import (
    GROUP,
    configure_controller,
    group,
    is_controller,
    receive,
    send,
    shown_id,
    tell_worker,
)
from sloprobe.settings import BASE_URL_ENV
from sloprobe.settings import base_url as settings_base_url

if (
    TYPE_CHECKING
):  # imported for real only once an SLO file is collected: pytest stays fast elsewhere
    import httpx

    from sloprobe.plugin.items import SloCollector
    from sloprobe.plugin.recorder import Recorder
    from sloprobe.plugin.suite_run import SuiteRun
    from sloprobe.redact import Redactor


# -- options -----------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sloprobe", "sloprobe: SLO checks from slo.yaml")
    group.addoption(
        "--slo-file",
        dest="slo_file",
        metavar="PATH",
        help="the SLO file to run (default: slo.yaml in the paths given)",
    )
    # pytest-base-url may already offer --base-url with the same dest; then we read it from there.
    with contextlib.suppress(ValueError):
        group.addoption(
            "--base-url",
            dest="base_url",
            metavar="URL",
            help=f"the target's base URL (or ${BASE_URL_ENV})",
        )
    group.addoption(
        "--report-dir",
        dest="sloprobe_report_dir",
        metavar="DIR",
        help="where reports go (default: reports/)",
    )
    group.addoption(
        "--exit-on",
        dest="sloprobe_exit_on",
        choices=EXIT_ON,
        help="breach (default): fail on breaches and bad no_data; warning: also on warnings; "
        "incident: only while an incident is open (scheduled runs)",
    )
    group.addoption(
        "--trigger",
        dest="sloprobe_trigger",
        metavar="NAME",
        help="why this run happened: local, schedule, deploy (or $SLOPROBE_TRIGGER)",
    )
    group.addoption(
        "--release",
        dest="sloprobe_release",
        metavar="NAME",
        help="the release under test (or $SLOPROBE_RELEASE)",
    )
    group.addoption(
        "--history",
        dest="sloprobe_history",
        metavar="URL|PATH|off",
        help="run history: a SQLAlchemy URL or SQLite path (default: <report-dir>/history.db, "
        "or $SLOPROBE_HISTORY_URL); off to keep none",
    )
    group.addoption(
        "--job-now",
        dest="sloprobe_job_now",
        action="store_true",
        help="send every job probe's job now, whatever its `every` says (a deploy run does)",
    )
    group.addoption(
        "--record-partial",
        dest="sloprobe_record_partial",
        action="store_true",
        help="count a run narrowed by -k, -m, --lf or -x as a full one: recorded in history, "
        "notified, its report in place of the last (default: a local experiment)",
    )
    parser.addini("slo_file", "the SLO file to run")
    parser.addini("sloprobe_report_dir", "where sloprobe writes reports")
    parser.addini("sloprobe_exit_on", "breach or warning")


def pytest_configure(config: pytest.Config) -> None:
    exit_on(config)
    check_option_values(config)
    config.addinivalue_line("markers", "slo: an SLO item collected from slo.yaml")
    config.addinivalue_line(
        "markers", "probe(name): this test is the Python probe `name` of slo.yaml"
    )
    chosen = chosen_slo_file(config)
    if chosen is not None:
        if not chosen.is_file():
            raise pytest.UsageError(f"--slo-file: no such file: {chosen}")
        if not any(_covers(config, arg, chosen) for arg in config.args):
            config.args.append(str(chosen))
    configure_controller(config, chosen or _beside_test_files(config))
    if not config.pluginmanager.has_plugin(_PLANNER):
        config.pluginmanager.register(_Planner(), _PLANNER)


_PLANNER = "sloprobe-planner"


def _beside_test_files(config: pytest.Config) -> Path | None:
    """With ``-n``, an SLO file beside a test file given alone (``probes/test_x.py``): its
    SLOs are adopted at collection (``adopt_slo_file``) and must share the probe's worker."""
    if not is_controller(config):
        return None
    for arg in config.args:
        path = config.invocation_params.dir / arg.split("::", 1)[0]
        for folder in (path.parent, path.parent.parent) if path.is_file() else ():
            found = [p for p in folder.iterdir() if p.is_file() and is_slo_file(p)]
            if found:
                return found[0]
    return None


def _covers(config: pytest.Config, arg: str, file: Path) -> bool:
    path = (config.invocation_params.dir / arg.split("::", 1)[0]).resolve()
    return path == file or path in file.parents


# -- collection ----------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> SloCollector | None:
    chosen = chosen_slo_file(parent.config)
    wanted = file_path.resolve() == chosen if chosen is not None else is_slo_file(file_path)
    if not wanted:
        return None
    from sloprobe.plugin.long_lived import freeze_long_lived

    freeze_long_lived("pytest")  # pytest and its plugins: built once, kept until exit
    from sloprobe.plugin.items import SloCollector

    return SloCollector.from_parent(parent, path=file_path)


class _Planner:
    """Plans the SLO run from the final selection: registered by ``pytest_configure``, after
    pytest's own ``--lf``/``--nf`` plugins, its wrapper is the outermost, so that the probe
    tests and SLOs it adds are not dropped again by ``--lf``."""

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> Generator[None, None, None]:
        collected = list(items)
        yield  # -k, -m, --lf and friends select first
        _plan(session, config, items, collected)


def _plan(
    session: pytest.Session,
    config: pytest.Config,
    items: list[pytest.Item],
    collected: list[pytest.Item],
) -> None:
    state = state_of(config)
    lone = {n: i.path for i in items if (n := probe_name(i))} if not state.slo_files else {}
    if lone:  # Python probes without their SLO file (run alone, or --lf after they failed)
        from sloprobe.plugin.items import adopt_slo_file

        items.extend(adopt_slo_file(session, lone))
    usage = usage_error(state)
    if usage is not None:
        raise pytest.UsageError(usage)
    if state.problems:
        from sloprobe.plugin.publish import report_cannot_run

        report_cannot_run()
        raise pytest.UsageError("\n".join(p.render() for p in state.problems))
    run = state.run
    if run is None:
        return
    from sloprobe.plugin.items import SloItem
    from sloprobe.plugin.selection import partial_selection, probe_tests

    slo_items = [i for i in items if isinstance(i, SloItem)]
    state.selected = [i.slo for i in slo_items]
    if not slo_items:
        return
    spec = run.loaded.spec
    needed = {i.probe for i in slo_items}
    run.needed_yaml_probes = {p for p in needed if spec.probes[p].kind != "python"}
    probe_items = probe_tests(run, collected, needed - run.needed_yaml_probes)
    # Python probes measure before any SLO is judged; deselected ones the selected SLOs need come back.
    first = [i for i in items if i in probe_items] + [i for i in probe_items if i not in items]
    items[:] = first + [i for i in items if i not in first]
    group(config, [*first, *slo_items])
    run.selected = len(slo_items)
    run.partial = partial_selection(config, len(slo_items), len(spec.slos))
    if config.option.collectonly:
        return
    base_url = run.base_url
    if base_url is None:
        if not run.needs_target(needed):
            return  # e.g. only Redis or PromQL probes: no HTTP target to name
        raise pytest.UsageError(run.no_target_message())
    if not base_url.startswith(("http://", "https://")):
        raise pytest.UsageError(f"the base URL `{base_url}` must start with http:// or https://")


# -- Python probe fixtures ------------------------------------------------------------------


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """An httpx client bound to the target's base URL, with its headers, auth and login token;
    each request through the probes' network layer (same-origin redirects, a body cap, one
    total deadline of ``target.timeout``)."""
    config = request.config
    run = state_of(config).run
    if run is not None:
        if run.base_url is None:
            pytest.fail(run.no_target_message(), pytrace=False)
        context = run.context
    else:
        from sloprobe.config.model import Target
        from sloprobe.probes.context import make_context

        base_url = settings_base_url(option(config, "base_url"), None)
        if not base_url:
            pytest.fail(NO_TARGET.format(env=BASE_URL_ENV, file="slo.yaml"), pytrace=False)
        context = make_context(base_url, Target())
    from sloprobe.probes.python.client import TargetClient

    with TargetClient(context) as client:
        request.node.stash[TRACE] = client.trace
        yield client


@pytest.fixture
def recorder(request: pytest.FixtureRequest) -> Recorder:
    """Feeds named values of a Python probe (``@pytest.mark.probe("name")``) into its SLOs."""
    from sloprobe.plugin.recorder import Recorder

    item = request.node
    name = probe_name(item)
    if name is None:
        pytest.fail(
            'the `recorder` fixture needs the test marked @pytest.mark.probe("<probe name>")',
            pytrace=False,
        )
    run = state_of(request.config).run
    declared = None
    if run is not None:
        probe = run.loaded.spec.probes.get(name)
        if probe is None or probe.kind != "python":
            what = (
                "is not defined"
                if probe is None
                else f"is an `{probe.kind}` probe, not a `python` one"
            )
            pytest.fail(f"probe `{name}` {what} in {run.loaded.path.name}", pytrace=False)
        declared = probe.body.values
    rec = Recorder(name, declared, _redactor(run))
    item.stash[RECORDER] = rec
    return rec


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = state_of(item.config)
    run = state.run
    if run is not None and report.failed and state.first_failure is None:
        state.first_failure = item.nodeid.removesuffix(f"@{GROUP}")  # what a -x run was cut by
    if run is not None and report.when == "setup":
        from sloprobe.plugin.items import SloItem

        if isinstance(item, SloItem):
            report.duration = item.setup_duration(report.duration)
    name = probe_name(item)
    if run is None or name is None:
        return report
    from sloprobe.plugin.items import first_line, redact_report, target_error_line

    redact_report(report, _redactor(run))
    said = (
        target_error_line(call.excinfo.value, _redactor(run))
        if report.failed and call.excinfo is not None
        else None
    )
    if said is not None:  # the target failed, not the probe: one line, as a YAML probe says it
        report.longrepr = said
    if item.stash.get(PROBE_DONE, False):
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        item.stash[PROBE_DONE] = True
        failure = skipped = None
        if report.failed and call.excinfo is not None:
            failure = f"{item.name}: {said or first_line(call.excinfo)}"
        elif report.skipped:
            skipped = f"probe test {item.name} was skipped"
        from sloprobe.plugin.recorder import Recorder

        rec = item.stash.get(RECORDER, None) or Recorder(name, None, _redactor(run))
        measured = rec.finish(failure=failure, skipped=skipped)
        if TRACE in item.stash:  # the probe's own requests to the target, one trace
            import dataclasses

            trace = item.stash[TRACE]
            spans = trace.spans_of(measured)
            measured = dataclasses.replace(measured, trace_id=trace.trace_id, spans=spans)
        run.measurements[name] = measured
    return report


def _redactor(run: SuiteRun | None) -> Redactor:
    from sloprobe.redact import Redactor

    return run.context.redactor if run is not None and run.base_url else Redactor()


# -- publishing ------------------------------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = state_of(config)
    run = state.run
    if run is not None and state.selected and exitstatus != pytest.ExitCode.USAGE_ERROR:
        from sloprobe.plugin.publish import finish_run

        finish_run(session, run, state, exitstatus)
        send(config, state)
    if state.result is not None and not hasattr(config, "workerinput"):
        from sloprobe.plugin.publish import set_exit_status

        set_exit_status(session, state)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if hasattr(report, "node"):  # xdist's controller sets it; a worker keeps the grouped id
        shown_id(report)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """pytest-xdist: a worker learns that the SLOs are scheduled as one group."""
    tell_worker(node)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """pytest-xdist: the worker that ran the SLOs hands over its result (see plugin/xdist.py)."""
    config = getattr(node, "config", None)
    output = getattr(node, "workeroutput", None)
    if isinstance(config, pytest.Config) and isinstance(output, dict):
        receive(state_of(config), output)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    state = state_of(terminalreporter.config)
    if state.result is None:
        if state.partial is not None:  # cut before anything was measured: say so all the same
            terminalreporter.write_line(f"partial run: {state.partial}", yellow=True)
        return
    from sloprobe.plugin.summary import write_summary

    write_summary(terminalreporter, state.result, state.written, state.sink_warnings)
    for note in state.result.notes:
        terminalreporter.write_line(note)
    if state.result.schedule is not None:
        terminalreporter.write_line(f"schedule: {state.result.schedule.text()}")
    if state.partial is not None:
        terminalreporter.write_line(
            f"partial run: {state.partial}; a local experiment, not recorded in history "
            "(--record-partial counts it)",
            yellow=True,
        )
    if state.exit_note is not None:
        terminalreporter.write_line(state.exit_note, bold=True)
    for line in state.annotations:  # GitHub workflow commands must start their own line
        terminalreporter.write_line(line)
