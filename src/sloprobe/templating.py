"""Jinja2 templates compiled once per machine, not once per run.

Compiling the report's template took about 90 ms of every run's ~0.7 s of CPU.
Jinja2's own :class:`~jinja2.FileSystemBytecodeCache` keeps the compiled code in a
directory of the user's own under the temp dir, which it creates with mode 0700
and refuses when another user owns it (so no one else can plant code there), and
recompiles when a template's source changes. Where no such directory can be had,
templates are compiled on each run as before.
"""

from __future__ import annotations

from jinja2 import BytecodeCache, FileSystemBytecodeCache


def bytecode_cache() -> BytecodeCache | None:
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no private cache directory: compile every run
        return None
