"""The plugin's per-session state in ``config.stash``: what hooks and items share.

It holds a run only when an SLO file was collected, which is what keeps the
plugin inert in every other pytest run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sloprobe.config import ConfigError, LoadedSloFile
    from sloprobe.model.result import RunResult
    from sloprobe.plugin.recorder import Recorder
    from sloprobe.plugin.suite_run import SuiteRun
    from sloprobe.probes.tracing import Trace


@dataclass
class PluginState:
    run: SuiteRun | None = None
    problems: list[ConfigError] = field(default_factory=list)
    result: RunResult | None = None
    written: list[Path] = field(default_factory=list)
    sink_warnings: list[str] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    history_lost: bool = False  # the run could not be judged against its past
    partial: str | None = None  # why the run judged only some SLOs (selection.py)
    exit_note: str | None = None  # why --exit-on made the exit status differ from the tests
    slo_files: list[str] = field(
        default_factory=list
    )  # SLO files collected, as the user types them
    selected: list[str] = field(default_factory=list)  # SLOs selected to run, in file order
    first_failure: str | None = None  # the first test that failed: what cut a run stopped by -x
    usage: str | None = None  # a usage error found while collecting (see usage_error)


STATE = pytest.StashKey[PluginState]()
PROBE_DONE = pytest.StashKey[bool]()
RECORDER: pytest.StashKey[Recorder] = pytest.StashKey()
# The trace of a Python probe's `target` requests, for its measurement (the report's link, and
# the spans of an OpenTelemetry export).
TRACE: pytest.StashKey[Trace] = pytest.StashKey()


def state_of(config: pytest.Config) -> PluginState:
    if STATE not in config.stash:
        config.stash[STATE] = PluginState()
    return config.stash[STATE]


def probe_name(item: pytest.Item) -> str | None:
    """The probe a test is marked as (``@pytest.mark.probe("name")``), if any."""
    marker = item.get_closest_marker("probe")
    if marker is None:
        return None
    name = marker.args[0] if marker.args else marker.kwargs.get("name")
    return str(name) if name else None


def suite_run(config: pytest.Config) -> SuiteRun:
    run = state_of(config).run
    if run is None:
        raise RuntimeError("no slo.yaml was collected in this session")
    return run


def register_problem(config: pytest.Config, problem: ConfigError) -> None:
    state_of(config).problems.append(problem)


def claim_slo_file(config: pytest.Config, shown: str) -> bool:
    """Whether this SLO file is the session's one; a second is only noted, for one usage error.

    Raising while collecting would make pytest print a collection error with the
    plugin's frames (exit 2): the error is raised once collection is over instead.
    """
    files = state_of(config).slo_files
    files.append(shown)
    return len(files) == 1


def usage_error(state: PluginState) -> str | None:
    """The usage error found while collecting (more than one SLO file, an option the file
    refuses), raised once collection is over: raised in a collector, pytest would print a
    collection error with the plugin's frames and exit 2."""
    files = state.slo_files
    if len(files) > 1:
        named = ", ".join(files[:-1]) + f" and {files[-1]}"
        return (
            f"more than one SLO file collected: {named}; "
            "run one at a time, or choose one with --slo-file"
        )
    return state.usage


def register_loaded(config: pytest.Config, loaded: LoadedSloFile) -> bool:
    """Start the session's SLO run for ``loaded``, its options resolved once; False when
    they cannot be (the usage error is kept for the end of collection, see usage_error)."""
    state = state_of(config)
    from sloprobe.plugin.options import resolve
    from sloprobe.plugin.suite_run import SuiteRun

    for mark in {m for slo in loaded.spec.slos.values() for m in slo.marks}:
        config.addinivalue_line("markers", f"{mark}: an SLO mark from {loaded.path.name}")
    try:
        options = resolve(config, loaded)
    except pytest.UsageError as exc:
        state.usage = str(exc)
        return False
    state.run = SuiteRun(
        loaded,
        base_url_option=options.base_url.value
        if options.base_url.source.startswith("--")
        else None,
        report_dir=options.report_dir,
        trigger=options.trigger,
        release=options.release,
        history_option=options.history,
        record_partial=bool(config.getoption("sloprobe_record_partial", default=False)),
        job_now=bool(config.getoption("sloprobe_job_now", default=False)),
    )
    return True
