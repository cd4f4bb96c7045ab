"""sloprobe under pytest-xdist: one worker runs the SLO run, the controller speaks for it.

An SLO run measures each probe once and publishes once, so its SLO items and
the Python probe tests they need must run in one process. With ``-n N`` the
SLO items and their probes share one ``xdist_group`` (``--dist load`` and
``worksteal`` become ``loadgroup`` when an SLO file is in the run, which
schedules ungrouped tests one by one as ``load`` does); that worker judges,
records and writes the report, then hands its result to the controller, which
prints the SLO summary and sets the exit status as a run without xdist would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sloprobe.plugin.names import is_slo_file

if TYPE_CHECKING:
    from sloprobe.plugin.state import PluginState

GROUP = "sloprobe"
_KEY = "sloprobe"
_GROUPABLE = ("load", "worksteal", "loadgroup")
_SKIPPED_DIRS = {"node_modules", "venv", "__pycache__", "build", "dist", "site-packages"}


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """This process hands tests to xdist workers (``-n N`` with N > 0)."""
    return not is_worker(config) and config.getoption("dist", default="no") not in ("no", None)


def configure_controller(config: pytest.Config, chosen: Path | None) -> None:
    """Keep an SLO run on one worker: ``--dist load`` becomes ``loadgroup``; others are refused."""
    if not is_controller(config):
        return
    if chosen is None and not any(_holds_slo_file(config, arg) for arg in config.args):
        return  # an unrelated project: its scheduling stays as it chose
    dist = str(config.getoption("dist"))
    if dist not in _GROUPABLE:
        raise pytest.UsageError(
            f"sloprobe runs an SLO file's SLOs and their Python probes on one xdist worker, "
            f"which --dist {dist} cannot do: use --dist load (the default of -n) or loadgroup"
        )
    config.option.dist = "loadgroup"


def _holds_slo_file(config: pytest.Config, arg: str) -> bool:
    """Whether pytest will collect an SLO file from this argument (a file, or a folder it walks)."""
    path = config.invocation_params.dir / arg.split("::", 1)[0]
    if path.is_file():
        return is_slo_file(path)
    if not path.is_dir():
        return False
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_")) and d not in _SKIPPED_DIRS]
        if any(is_slo_file(Path(folder, name)) for name in files):
            return True
    return False


def tell_worker(node: Any) -> None:
    """Workers parse the command line again: tell them the controller schedules by group."""
    if node.config.getoption("dist", default="no") == "loadgroup":
        node.workerinput[_KEY] = "loadgroup"


def group(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the SLO items and their probe tests in sloprobe's group (the suffix xdist schedules by)."""
    if not is_worker(config):
        return
    workerinput: dict[str, Any] = config.workerinput  # type: ignore[attr-defined]
    if workerinput.get(_KEY) != "loadgroup":
        return
    for item in items:
        nodeid = item.nodeid
        if nodeid.rfind("@") > nodeid.rfind("]"):  # the user's own xdist_group: ours wins
            nodeid = nodeid.rsplit("@", 1)[0]
        _rename(item, f"{nodeid}@{GROUP}")


def shown_id(report: pytest.TestReport) -> None:
    """On the controller, reports keep the id the user knows (``slo.yaml::x``, not
    ``…@sloprobe``): for the terminal, JUnit and ``--lf``. Workers must keep the
    grouped id (xdist checks it); the controller schedules by index."""
    suffix = f"@{GROUP}"
    if report.nodeid.endswith(suffix):
        report.nodeid = report.nodeid.removesuffix(suffix)


def _rename(item: pytest.Item, nodeid: str) -> None:
    """Give ``item`` the node id xdist's loadgroup schedules by.

    pytest 9.2 keeps a structured id in ``_id``; xdist 3.8 still sets the old
    ``_nodeid``, which pytest 9.2 no longer reads (its own ``xdist_group``
    then spreads a group over workers), so both forms are handled here.
    """
    if hasattr(item, "_id"):
        from _pytest.nodeid import NodeId  # type: ignore[import-not-found, unused-ignore]

        item._id = NodeId.parse(nodeid)
    else:
        item._nodeid = nodeid  # type: ignore[attr-defined, unused-ignore]


def send(config: pytest.Config, state: PluginState) -> None:
    """On the worker that ran the SLOs: what the controller needs to print and decide."""
    if not is_worker(config) or state.result is None:
        return
    from sloprobe.codec import result_to_dict

    output: dict[str, Any] = config.workeroutput  # type: ignore[attr-defined]
    output[_KEY] = {
        "result": result_to_dict(state.result),
        "written": [str(p) for p in state.written],
        "sink_warnings": list(state.sink_warnings),
        "annotations": list(state.annotations),
        "history_lost": state.history_lost,
        "partial": state.partial,
    }


def receive(state: PluginState, workeroutput: dict[str, Any]) -> None:
    """On the controller: take the SLO run's outcome from the worker that ran it."""
    sent = workeroutput.get(_KEY)
    if not isinstance(sent, dict):
        return
    from sloprobe.codec import result_from_dict

    state.result = result_from_dict(sent["result"])
    state.written = [Path(p) for p in sent["written"]]
    state.sink_warnings = list(sent["sink_warnings"])
    state.annotations = list(sent["annotations"])
    state.history_lost = bool(sent["history_lost"])
    state.partial = sent["partial"]
