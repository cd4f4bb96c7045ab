"""Every sloprobe option resolved once, in one order, knowing where each value came from.

Order, first set wins: the command line (``--report-dir``), the environment
(``SLOPROBE_…``), the ini file (``[tool.pytest.ini_options]``), slo.yaml's
``settings``, then the default. A bad value names its source, as
pytest-timeout does: ``invalid --exit-on `x` (from the ini file)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sloprobe.plugin.names import BASE_URL_ENV

if TYPE_CHECKING:
    from sloprobe.config import LoadedSloFile

EXIT_ON = ("breach", "warning", "incident")
HISTORY_URL_ENV = "SLOPROBE_HISTORY_URL"


@dataclass(frozen=True)
class Resolved:
    """A value and where it came from, for error messages and the report."""

    value: str | None
    source: (
        str  # "--report-dir", "$SLOPROBE_TRIGGER", "ini sloprobe_exit_on", "slo.yaml", "default"
    )


@dataclass(frozen=True)
class RunOptions:
    """The options of one SLO run, resolved once when its file is collected."""

    base_url: Resolved
    report_dir: Path
    exit_on: str
    trigger: str
    release: str | None
    history: str | None  # --history (a URL, a path or `off`); None: environment, settings, default


def option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(name, default=None)
    return str(value) if value else None


def ini(config: pytest.Config, name: str) -> str | None:
    value = str(config.getini(name) or "").strip()
    return value or None


def first(*candidates: tuple[str | None, str]) -> Resolved:
    """The first candidate (value, source) that is set."""
    for value, source in candidates:
        if value:
            return Resolved(value, source)
    return Resolved(None, "default")


def chosen_slo_file(config: pytest.Config) -> Path | None:
    value = first((option(config, "slo_file"), "--slo-file"), (ini(config, "slo_file"), "ini"))
    return (config.invocation_params.dir / value.value).resolve() if value.value else None


def exit_on(config: pytest.Config) -> str:
    """--exit-on, else $SLOPROBE_EXIT_ON, else the ini key, else breach; a bad value names its source."""
    chosen = first(
        (option(config, "sloprobe_exit_on"), "--exit-on"),
        (os.environ.get("SLOPROBE_EXIT_ON"), "$SLOPROBE_EXIT_ON"),
        (ini(config, "sloprobe_exit_on"), "the ini file"),
    )
    value = (chosen.value or "breach").strip()
    if value not in EXIT_ON:
        where = "in the ini file" if chosen.source == "the ini file" else f"from {chosen.source}"
        raise pytest.UsageError(
            f"invalid sloprobe_exit_on `{value}` {where}; expected one of {', '.join(EXIT_ON)}"
        )
    return value


def resolve(config: pytest.Config, loaded: LoadedSloFile) -> RunOptions:
    """All options of the run collected from ``loaded``."""
    report_dir = first(
        (option(config, "sloprobe_report_dir"), "--report-dir"),
        (os.environ.get("SLOPROBE_REPORT_DIR"), "$SLOPROBE_REPORT_DIR"),
        (ini(config, "sloprobe_report_dir"), "ini sloprobe_report_dir"),
        (loaded.spec.settings.report_dir, "slo.yaml settings.report_dir"),
    )
    return RunOptions(
        base_url=first(
            (option(config, "base_url"), "--base-url"),
            (os.environ.get(BASE_URL_ENV), f"${BASE_URL_ENV}"),
            (loaded.spec.target.base_url, f"target.base_url in {loaded.path.name}"),
        ),
        report_dir=config.invocation_params.dir / (report_dir.value or "reports"),
        exit_on=exit_on(config),
        trigger=first(
            (option(config, "sloprobe_trigger"), "--trigger"),
            (os.environ.get("SLOPROBE_TRIGGER"), "$SLOPROBE_TRIGGER"),
        ).value
        or "local",
        release=first(
            (option(config, "sloprobe_release"), "--release"),
            (os.environ.get("SLOPROBE_RELEASE"), "$SLOPROBE_RELEASE"),
        ).value,
        history=option(config, "sloprobe_history"),
    )
