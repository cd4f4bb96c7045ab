"""What every command shares: the exit codes and the type of the subcommand table."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TypeAlias

# Exit codes follow pytest: 0 every selected SLO met its thresholds, 1 a breach.
INTERRUPTED = 2
USAGE_ERROR = 4

# What each command's ``add_parser`` adds its subcommand to.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what the shell reports for `git log | head`


def reader_gone() -> int:
    """The reader closed the pipe (``| head``): stop silently, as git does.

    stdout is pointed at /dev/null so that the interpreter's last flush does not
    fail a second time and print ``Exception ignored … BrokenPipeError``.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (captured output)
        pass
    return SIGPIPE_EXIT
