"""What the plugin needs before it knows a run is an SLO run: cheap to import, for every pytest run."""

from __future__ import annotations

from pathlib import Path

SLO_FILE_NAMES = ("slo.yaml", "slo.yml")
BASE_URL_ENV = "PROBE_BASE_URL"
NO_TARGET = (
    "no target to probe: set one with --base-url URL, the {env} environment variable, "
    "or `target.base_url` in {file}; to try sloprobe against its bundled reference service, "
    "run `sloprobe demo`"
)


def is_slo_file(path: Path) -> bool:
    name = path.name
    return name in SLO_FILE_NAMES or name.endswith((".slo.yaml", ".slo.yml"))


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
