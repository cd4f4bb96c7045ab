"""Build hook: record the commit a wheel is built from, so `sloprobe init` pins its action by it.

`pip install "sloprobe @ git+https://github.com/owner/repo@v0.1.0"` builds from a checkout
of the tag: its HEAD is the release's commit. A build without git records nothing.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ReleaseCommitHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return  # an editable install reads git at run time
        try:
            done = subprocess.run(
                ["git", "-C", self.root, "rev-parse", "--verify", "-q", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return
        commit = done.stdout.strip()
        if done.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40}", commit):
            return
        recorded = Path(tempfile.mkdtemp()) / "_release_commit"
        recorded.write_text(commit + "\n", encoding="ascii")
        build_data["force_include"][str(recorded)] = "sloprobe/_release_commit"
