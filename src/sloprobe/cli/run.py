"""``sloprobe run``: the probe suite next to an SLO file, run by pytest with the plugin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sloprobe.cli.common import USAGE_ERROR, Subparsers
from sloprobe.plugin.names import VALUE_OPTIONS

RUN_OPTIONS = VALUE_OPTIONS
# pytest's own options whose value may come as the next item; that item is not a test path.
PYTEST_VALUE_OPTIONS = frozenset(
    {
        "-k",
        "-m",
        "-p",
        "-c",
        "-o",
        "-n",
        "-r",
        "-W",
        "--basetemp",
        "--capture",
        "--color",
        "--confcutdir",
        "--config-file",
        "--cov",
        "--cov-config",
        "--cov-report",
        "--html",
        "--json-report-file",
        "--report-log",
        "--reruns",
        "--alluredir",
        "--deselect",
        "--dist",
        "--durations",
        "--ignore",
        "--ignore-glob",
        "--import-mode",
        "--junit-prefix",
        "--junit-xml",
        "--junitxml",
        "--log-cli-level",
        "--log-file",
        "--log-file-level",
        "--log-level",
        "--maxfail",
        "--override-ini",
        "--pythonwarnings",
        "--rootdir",
        "--tb",
        "--timeout",
    }
)


def add_parser(commands: Subparsers) -> None:
    run = commands.add_parser(
        "run",
        help="run a probe suite against --base-url or $PROBE_BASE_URL",
        description="Run slo.yaml (and probes/ next to it) with pytest; other options go to pytest.",
    )
    run.add_argument("--slo-file", default="slo.yaml", help="the SLO file (default: ./slo.yaml)")
    run.add_argument(
        "--base-url", help="the target's base URL (default: $PROBE_BASE_URL or target.base_url)"
    )
    run.add_argument("--report-dir", help="where reports go (default: reports/)")
    run.add_argument(
        "--history",
        metavar="URL|PATH|off",
        help="run history: a SQLAlchemy URL or SQLite path (default: <report-dir>/history.db)",
    )
    run.add_argument("--exit-on", help="breach (default), warning, or incident (scheduled runs)")
    run.add_argument("--trigger", help="why this run happened: local, schedule, deploy")
    run.add_argument("--release", help="the release under test")


def handle(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest

    slo_file = Path(args.slo_file)
    if not slo_file.is_file():
        print(
            f"sloprobe: no SLO file at {slo_file}; pass --slo-file PATH or run `sloprobe demo`",
            file=sys.stderr,
        )
        return USAGE_ERROR
    rest = _joined(rest)
    paths = [str(slo_file)]
    probes = slo_file.parent / "probes"
    if probes.is_dir() and not _names_test_paths(rest):
        paths.append(str(probes))
    options = [f"--slo-file={slo_file}"]
    for name in RUN_OPTIONS[1:]:
        value = getattr(args, name[2:].replace("-", "_"))
        if value is not None:
            options.append(f"{name}={value}")
    return int(pytest.main([*QUIET_REWRITE, *paths, *options, *rest]))


# `sloprobe run` has imported sloprobe before pytest loads its plugin entry point, which it
# would rewrite for assertions: a warning in every run's log that no user can act on.
QUIET_REWRITE = ("-W", "ignore::pytest.PytestAssertRewriteWarning")


def _joined(args: list[str]) -> list[str]:
    """``--history PATH`` that reached pytest's arguments (after ``--``) as one ``--history=PATH``."""
    joined: list[str] = []
    pending: str | None = None
    for arg in args:
        if pending is not None:
            joined.append(f"{pending}={arg}")
            pending = None
        elif arg in RUN_OPTIONS:
            pending = arg
        else:
            joined.append(arg)
    return [*joined, pending] if pending is not None else joined


def _names_test_paths(args: list[str]) -> bool:
    """Whether pytest's arguments name test paths of their own (then probes/ is not added).

    Option values are not test paths: ``--junitxml out.xml``, ``--ignore probes``.
    """
    value_next = False
    for arg in args:
        if value_next:
            value_next = False
        elif arg.startswith("-"):
            value_next = arg in PYTEST_VALUE_OPTIONS
        elif Path(arg.split("::", 1)[0]).exists():
            return True
    return False
