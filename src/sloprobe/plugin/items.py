"""slo.yaml as a pytest file, each SLO a test item whose outcome is this run's verdict."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import TerminalRepr
from _pytest._io import TerminalWriter

from sloprobe.config import ConfigError, EnvPolicy, LoadedSloFile, load_slo_file
from sloprobe.errors import SloprobeError
from sloprobe.model.status import Status
from sloprobe.model.verdict import Verdict
from sloprobe.plugin.names import is_slo_file
from sloprobe.plugin.options import chosen_slo_file, option
from sloprobe.redact import Redactor

__all__ = ["SLOWarning", "SloCollector", "SloItem", "adopt_slo_file", "is_slo_file"]


class SLOWarning(UserWarning):
    """An SLO met its breach threshold but not its warn threshold."""


class SloCollector(pytest.File):
    """pytest's collector of one slo.yaml (the file's model is config.model.SloFile): collects
    its SLOs; a broken file is kept for a usage error, not raised."""

    loaded: LoadedSloFile | None = None

    def collect(self) -> Iterator[pytest.Item]:
        from sloprobe.plugin.state import claim_slo_file, register_loaded, register_problem

        shown = _shown(self.path, self.config.invocation_params.dir)
        if not claim_slo_file(self.config, str(shown)):
            return  # a second SLO file: one usage error once collection is over
        try:
            # --base-url gives the target: `base_url: ${PROBE_BASE_URL}` may then be unset.
            supplied = {("target", "base_url")} if option(self.config, "base_url") else set()
            self.loaded = load_slo_file(shown, env=EnvPolicy(supplied=frozenset(supplied)))
        except ConfigError as exc:
            register_problem(self.config, exc)
            return
        if not register_loaded(self.config, self.loaded):
            return
        from sloprobe.plugin.long_lived import freeze_long_lived

        freeze_long_lived("config")  # the config model: built once, kept until exit
        for name, spec in self.loaded.spec.slos.items():
            item = SloItem.from_parent(self, name=name, slo=name, probe=spec.probe)
            item.add_marker(pytest.mark.slo)
            for mark in spec.marks:
                item.add_marker(getattr(pytest.mark, mark))
            yield item


def adopt_slo_file(session: pytest.Session, probes: dict[str, Path]) -> list[SloItem]:
    """The SLO items fed by ``probes`` (name: test file) when no SLO file was collected.

    ``pytest probes/test_x.py`` alone, or ``pytest --lf`` after it failed (which
    skips collecting slo.yaml), still belongs to an SLO file: the one
    ``--slo-file`` names, else the one beside the probe or beside its folder (as
    ``probes/`` sits next to slo.yaml), else in the invocation dir or rootdir.
    """
    config = session.config
    path = chosen_slo_file(config) or _slo_file_near(config, list(probes.values()))
    if path is None:
        return []
    slo_file = SloCollector.from_parent(session, path=path)
    return [i for i in slo_file.collect() if isinstance(i, SloItem) and i.probe in probes]


def _slo_file_near(config: pytest.Config, probe_files: list[Path]) -> Path | None:
    here, root = config.invocation_params.dir, config.rootpath
    folders = [d for f in probe_files for d in (f.parent, f.parent.parent)] + [here, root]
    for folder in dict.fromkeys(folders):
        if not (folder.is_relative_to(root) or folder.is_relative_to(here)):
            continue  # above the project: not this probe's
        try:
            found = sorted(p for p in folder.iterdir() if p.is_file() and is_slo_file(p))
        except OSError:
            continue
        if len(found) > 1:
            names = ", ".join(str(_shown(p, here)) for p in found)
            raise pytest.UsageError(
                f"which SLO file do the probes belong to: {names}? choose one with --slo-file"
            )
        if found:
            return found[0]
    return None


def _shown(path: Path, cwd: Path) -> Path:
    """The path as the user would type it: relative to where pytest was started, if inside."""
    try:
        return path.relative_to(cwd)
    except ValueError:
        return path


class SloFailure(SloprobeError):
    """Raised by an SLO item whose verdict counts as bad."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


class _VerdictRepr(TerminalRepr):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def toterminal(self, tw: TerminalWriter) -> None:
        for line in self.lines:
            tw.line(line, red=True)


class SloItem(pytest.Item):
    """One SLO; ``runtest`` judges it against this run's measurement of its probe."""

    def __init__(self, *, slo: str, probe: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.slo = slo
        self.probe = probe
        self._shared_s = 0.0  # time spent measuring every probe, if this item's setup did it

    def setup(self) -> None:
        from sloprobe.plugin.state import suite_run

        started = time.perf_counter()
        suite_run(self.config).measure_once()
        self._shared_s = time.perf_counter() - started

    def setup_duration(self, measured: float) -> float:
        """Setup time as JUnit should show it: this SLO's own probe, not the whole measuring.

        The first SLO item measures every probe at once; charging that to it alone
        would make one test case look slow and the others free.
        """
        from sloprobe.plugin.state import suite_run

        run = suite_run(self.config)
        measurement = run.measurements.get(self.probe)
        own = (
            measurement.duration_s
            if measurement is not None and self.probe in run.needed_yaml_probes
            else 0.0
        )
        return max(0.0, measured - self._shared_s) + own

    def runtest(self) -> None:
        from sloprobe.plugin.state import suite_run

        verdict = suite_run(self.config).judge(self.slo)
        if verdict.counts_as_bad:
            raise SloFailure(verdict)
        if verdict.status is Status.NO_DATA:
            pytest.skip(verdict.reason)
        if verdict.status is Status.WARNING:
            path, line, _ = self.reportinfo()  # said at the SLO's line in slo.yaml, not ours
            warnings.warn_explicit(
                SLOWarning(f"SLO {self.slo} is in its warning range: {verdict.reason}"),
                SLOWarning,
                str(path),
                (line or 0) + 1,
            )

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, SloFailure):
            v = excinfo.value.verdict
            label = "no data" if v.status is Status.NO_DATA else v.status.value
            lines = [
                f"SLO {v.slo} {label}: {v.reason}",
                f"  observed: {v.observed}",
                f"  threshold: {v.threshold}",
            ]
            if v.runbook:
                lines.append(f"  runbook: {v.runbook}")
            return _VerdictRepr(lines)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        parent = self.parent
        line = None
        if isinstance(parent, SloCollector) and parent.loaded is not None:
            line = parent.loaded.slo_lines.get(self.slo, 1) - 1
        return self.path, line, f"SLO {self.slo}"


def redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """A Python probe's failure as pytest prints it, and its captured output, without secrets."""
    from sloprobe.redact import neutralise

    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        safe = neutralise(redactor(text))
        if safe != text:
            report.longrepr = safe
    report.sections = [(title, neutralise(redactor(body))) for title, body in report.sections]


def target_error_line(exc: BaseException, redactor: Redactor) -> str | None:
    """One line for a request to the target that failed in a Python probe (refused, timed out,
    too large), as a YAML probe says it; None for any other error (a probe's own assertion)."""
    import httpx

    if not isinstance(exc, httpx.HTTPError):
        return None
    from sloprobe.probes.network import describe_error
    from sloprobe.redact import neutralise

    try:
        request = exc.request
        step = f"{request.method} {request.url}"
    except RuntimeError:  # an error raised without its request
        step = "request to the target"
    from sloprobe.probes.python.client import BodyTooLarge

    if isinstance(exc, BodyTooLarge):  # its message names the request already
        return neutralise(redactor(str(exc)))[:300]
    return neutralise(describe_error(exc, redactor, step=step))


def first_line(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """``job 21 did not finish`` rather than ``Failed: job 21 …``; other errors keep their type."""
    if isinstance(excinfo.value, pytest.fail.Exception):
        text = str(excinfo.value.msg or "failed")
    else:
        text = excinfo.exconly()
    lines = text.strip().splitlines()
    return (lines[0] if lines else type(excinfo.value).__name__)[:300]
