"""The ``sloprobe`` parser and the table of its commands.

Each command's module adds its own options (``add_parser``) and runs it
(``handle``); :data:`COMMANDS` is the one list of them, in the order
``sloprobe --help`` shows them.
"""

from __future__ import annotations

import argparse
from typing import Protocol

from sloprobe.cli import (
    action_facts,
    demo,
    discover,
    docs,
    history,
    init,
    run,
    schema,
    status_page,
    validate,
    wait,
)
from sloprobe.cli.common import Subparsers


class Command(Protocol):
    """A command's module."""

    def add_parser(self, commands: Subparsers) -> None: ...

    def handle(self, args: argparse.Namespace, rest: list[str]) -> int: ...


COMMANDS: dict[str, Command] = {
    "run": run,
    "demo": demo,
    "validate": validate,
    "schema": schema,
    "docs": docs,
    "init": init,
    "action-facts": action_facts,
    "wait": wait,
    "status-page": status_page,
    "discover": discover,
    "history": history,
    "report": history,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sloprobe", description="Synthetic probes and SLO checks for job systems."
    )
    parser.add_argument("--version", action="version", version=f"sloprobe {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in dict.fromkeys(COMMANDS.values()):  # history adds `history` and `report`
        command.add_parser(commands)
    return parser


def _version() -> str:
    from sloprobe import __version__

    return __version__
