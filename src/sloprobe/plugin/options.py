"""Every sloprobe option resolved once, in one order, knowing where each value came from.

Order, first set wins: the command line (``--report-dir``), the environment
(``SLOPROBE_…``), the ini file (``[tool.pytest.ini_options]``), slo.yaml's
``settings``, then the default. A bad value names its source, as
pytest-timeout does: ``invalid --exit-on `x` (from the ini file)``.
"""

from __future__ import annotations

import inspect
import shlex
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sloprobe.plugin.names import VALUE_OPTIONS
from sloprobe.settings import BASE_URL_ENV, variable

if TYPE_CHECKING:
    from sloprobe.config import LoadedSloFile

EXIT_ON = ("breach", "warning", "incident")


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
        (variable("SLOPROBE_EXIT_ON"), "$SLOPROBE_EXIT_ON"),
        (ini(config, "sloprobe_exit_on"), "the ini file"),
    )
    value = (chosen.value or "breach").strip()
    if value not in EXIT_ON:
        where = "in the ini file" if chosen.source == "the ini file" else f"from {chosen.source}"
        raise pytest.UsageError(
            f"invalid sloprobe_exit_on `{value}` {where}; expected one of {', '.join(EXIT_ON)}"
        )
    if value == "incident" and option(config, "sloprobe_history") == "off":
        raise pytest.UsageError(NO_HISTORY_FOR_INCIDENTS.format(why="--history off"))
    return value


def base_url_refusal(url: str) -> str | None:
    """Why a base URL cannot be the target's, or None.

    Every probe's path (and its own query) replaces a base URL's query: a token
    there would silently be dropped from every request, so it is refused instead.
    """
    from sloprobe.redact import redact_url

    parts = url.split("#", 1)[0]
    if "?" in parts:
        return (
            f"the base URL {redact_url(url)} has a query string, which every probe's path would "
            "drop: put a token in target.auth or target.headers, a parameter in each probe's query"
        )
    return None


NO_HISTORY_FOR_INCIDENTS = (
    "--exit-on incident needs history to know whether an incident is open, but {why}: "
    "keep history (the default), or use --exit-on breach"
)


def resolve(config: pytest.Config, loaded: LoadedSloFile) -> RunOptions:
    """All options of the run collected from ``loaded``."""
    report_dir = first(
        (option(config, "sloprobe_report_dir"), "--report-dir"),
        (variable("SLOPROBE_REPORT_DIR"), "$SLOPROBE_REPORT_DIR"),
        (ini(config, "sloprobe_report_dir"), "ini sloprobe_report_dir"),
        (loaded.spec.settings.report_dir, "slo.yaml settings.report_dir"),
    )
    base_url = first(
        (option(config, "base_url"), "--base-url"),
        (variable(BASE_URL_ENV), f"${BASE_URL_ENV}"),
        (loaded.spec.target.base_url, f"target.base_url in {loaded.path.name}"),
    )
    if base_url.value:
        refusal = base_url_refusal(base_url.value)
        if refusal is not None:
            raise pytest.UsageError(f"{refusal} (from {base_url.source})")
    if exit_on(config) == "incident" and not loaded.spec.settings.history.enabled:
        why = f"history is off in {loaded.path.name} (settings.history.enabled: false)"
        raise pytest.UsageError(NO_HISTORY_FOR_INCIDENTS.format(why=why))
    return RunOptions(
        base_url=base_url,
        report_dir=config.invocation_params.dir / (report_dir.value or "reports"),
        exit_on=exit_on(config),
        trigger=first(
            (option(config, "sloprobe_trigger"), "--trigger"),
            (variable("SLOPROBE_TRIGGER"), "$SLOPROBE_TRIGGER"),
        ).value
        or "local",
        release=first(
            (option(config, "sloprobe_release"), "--release"),
            (variable("SLOPROBE_RELEASE"), "$SLOPROBE_RELEASE"),
        ).value,
        history=option(config, "sloprobe_history"),
    )


def check_option_values(config: pytest.Config) -> None:
    """Refuse ``--history /elsewhere/h.db`` when pytest took the path for a test path.

    pytest reads the command line once before plugins are loaded, to find its
    rootdir and ini file; then ``--history`` is an unknown flag and a value that
    names an existing path counts as a test path. When that moved the rootdir,
    the run would quietly differ from the one asked for (no ini file, so none of
    its options; the cache elsewhere): a usage error says to write
    ``--history=PATH``. When ``--rootdir`` pinned the rootdir and only the ini
    file was lost, a warning says the same.
    """
    args = [
        *shlex.split(variable("PYTEST_ADDOPTS") or ""),
        *map(str, config.invocation_params.args),
    ]
    here = config.invocation_params.dir
    separate = [
        (name, value)
        for name, value in pairwise(args)
        if name in VALUE_OPTIONS
        and not value.startswith("-")
        and (here / value.split("::", 1)[0]).exists()
    ]
    if not separate:
        return
    paths = [str(a) for a in (config.getoption("file_or_dir", default=None) or [])]
    actual = (config.rootpath, config.inipath)
    meant = _setup(config, paths)
    if meant is None or meant == actual:
        return
    if _setup(config, [*paths, *(value for _, value in separate)]) != actual:
        return  # something else moved them
    name, value = separate[0]
    read = f"`{name} {value}`: pytest read {value} as a test path before sloprobe was loaded, so it"
    lost = f"lost its config file {meant[1]}"
    fix = f"write it as one argument: {name}={value}"
    if meant[0] != actual[0]:
        also = f" and {lost}" if meant[1] != actual[1] else ""
        raise pytest.UsageError(
            f"{read} chose the rootdir {actual[0]} instead of {meant[0]}{also}; {fix}"
        )
    config.issue_config_time_warning(pytest.PytestConfigWarning(f"{read} {lost}; {fix}"), 2)


def _setup(config: pytest.Config, args: list[str]) -> tuple[Any, Any] | None:
    """(rootdir, ini file) pytest finds for these test paths; None if this pytest cannot say."""
    try:
        from _pytest.config.findpaths import determine_setup

        offered: dict[str, Any] = {
            "inifile": config.getoption("inifilename", default=None),
            "override_ini": config.getoption("override_ini", default=None),
            "args": args,
            "rootdir_cmd_arg": config.getoption("rootdir", default=None) or None,
            "invocation_dir": config.invocation_params.dir,
        }
        accepted = inspect.signature(determine_setup).parameters
        found = determine_setup(**{k: v for k, v in offered.items() if k in accepted})
        return found[0], found[1]
    except Exception:  # a private pytest function: when it changes, skip the check
        return None
