"""What the plugin needs before it knows a run is an SLO run: cheap to import, for every pytest run."""

from __future__ import annotations

import re
from pathlib import Path

SLO_FILE_NAMES = ("slo.yaml", "slo.yml")
NO_TARGET = (
    "no target to probe: set one with --base-url URL, the {env} environment variable, "
    "or `target.base_url` in {file}; to try sloprobe against its bundled reference service, "
    "run `sloprobe demo`"
)


def is_slo_file(path: Path) -> bool:
    """A file named like sloprobe's (`slo.yaml`, `*.slo.yaml`) whose top level is sloprobe's too.

    Other tools name their files `slo.yaml` as well (Sloth: `version: "prometheus/v1"`;
    OpenSLO: `apiVersion:`): those are not collected, so installing sloprobe never breaks
    an unrelated project's pytest run. ``--slo-file`` takes any file, whatever its name.
    """
    name = path.name
    if not (name in SLO_FILE_NAMES or name.endswith((".slo.yaml", ".slo.yml"))):
        return False
    return declares_sloprobe_format(path)


# Top-level keys, read from the text so that a file too broken to parse is still recognised
# (and then reported with its line), never ignored: `version: <a number>` or `probes:`.
_OURS = re.compile(r"^(?:version:[ \t]*['\"]?\d+['\"]?[ \t]*(?:#.*)?$|probes:)", re.MULTILINE)
_HEAD_BYTES = 256 * 1024


def declares_sloprobe_format(path: Path) -> bool:
    """Whether the file's top level says it is sloprobe's: an integer ``version`` or ``probes``."""
    try:
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return True  # unreadable: let the loader say why, with the path
    return bool(_OURS.search(head))


# The plugin's options that take a value. `sloprobe run` passes them as `--opt=value`, one argv
# item, because pytest takes a separate value that names an existing path for a test path.
VALUE_OPTIONS = (
    "--slo-file",
    "--base-url",
    "--report-dir",
    "--exit-on",
    "--trigger",
    "--release",
    "--history",
)
