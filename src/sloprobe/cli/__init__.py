"""The ``sloprobe`` command line: parse the arguments, dispatch to a command, exit with its code.

It orchestrates and measures or judges nothing itself: every command is a thin
wrapper over the pytest plugin, the config, the history store, discover or the
scaffold. Nothing inside sloprobe imports sloprobe.cli (the import-linter
contracts in pyproject.toml).

One module per command holds its options (``add_parser``) and its handler
(``handle``); :mod:`.history` holds ``history`` and ``report``. :mod:`.parser`
lists them all, in the order ``sloprobe --help`` shows them.

Exit codes follow pytest: 0 every selected SLO met its thresholds, 1 a
breach, 2 interrupted, 4 usage or config error.
"""

from __future__ import annotations

from collections.abc import Sequence

from sloprobe.cli.common import INTERRUPTED, USAGE_ERROR, reader_gone
from sloprobe.cli.parser import COMMANDS
from sloprobe.cli.parser import build_parser as _parser
from sloprobe.cli.run import QUIET_REWRITE

__all__ = ["INTERRUPTED", "QUIET_REWRITE", "USAGE_ERROR", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    rest = [r for r in rest if r != "--"]  # `sloprobe demo -- -k health`: the rest goes to pytest
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    if rest and args.command not in ("run", "demo"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return int(COMMANDS[args.command].handle(args, rest))
    except BrokenPipeError:  # `sloprobe validate | head`: the reader has all it wanted
        return reader_gone()
