"""Where a run ran: ``$SLOPROBE_LOCATION``, else the CI runner, else nowhere in particular.

Many runners may probe one service and write one history (docs/at-scale.md);
the location tells their runs apart. On GitHub Actions a self-hosted runner is
named by its runner name (``self-hosted/eu-west-1``), a GitHub-hosted one by its
kind (``github-hosted/Linux-X64``: GitHub does not say the region). A laptop
records none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_LENGTH = 100  # the history's column


def run_location(environ: Mapping[str, str]) -> str | None:
    explicit = (environ.get("SLOPROBE_LOCATION") or "").strip()
    if explicit:
        return _clean(explicit)
    if environ.get("GITHUB_ACTIONS") != "true":
        return None
    kind = environ.get("RUNNER_ENVIRONMENT") or "github-hosted"
    if kind == "self-hosted":
        return _clean(f"self-hosted/{environ.get('RUNNER_NAME') or 'runner'}")
    return _clean(
        f"{kind}/{environ.get('RUNNER_OS', '')}-{environ.get('RUNNER_ARCH', '')}".strip("-")
    )


def _clean(text: str) -> str:
    return re.sub(r"[^\w./:@+-]+", "-", text)[:MAX_LENGTH]
