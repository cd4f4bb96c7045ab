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


STATE = pytest.StashKey[PluginState]()
PROBE_DONE = pytest.StashKey[bool]()
RECORDER: pytest.StashKey[Recorder] = pytest.StashKey()


def state_of(config: pytest.Config) -> PluginState:
    if STATE not in config.stash:
        config.stash[STATE] = PluginState()
    return config.stash[STATE]


def suite_run(config: pytest.Config) -> SuiteRun:
    run = state_of(config).run
    if run is None:
        raise RuntimeError("no slo.yaml was collected in this session")
    return run


def register_problem(config: pytest.Config, problem: ConfigError) -> None:
    state_of(config).problems.append(problem)


def register_loaded(config: pytest.Config, loaded: LoadedSloFile) -> None:
    """Start the session's SLO run for ``loaded``, its options resolved once."""
    state = state_of(config)
    if state.run is not None:
        raise pytest.UsageError(
            f"more than one SLO file collected ({state.run.loaded.path} and {loaded.path}); "
            "run one at a time, or choose one with --slo-file"
        )
    from sloprobe.plugin.options import resolve
    from sloprobe.plugin.suite_run import SuiteRun

    for mark in {m for slo in loaded.spec.slos.values() for m in slo.marks}:
        config.addinivalue_line("markers", f"{mark}: an SLO mark from {loaded.path.name}")
    options = resolve(config, loaded)
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
    )
