"""What every command shares: the exit codes and the type of the subcommand table."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# Exit codes follow pytest: 0 every selected SLO met its thresholds, 1 a breach.
INTERRUPTED = 2
USAGE_ERROR = 4

# What each command's ``add_parser`` adds its subcommand to.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
