"""The benches of bench/, each run in its small mode: one round at small sizes, in seconds.

They prove that every bench still runs against the tree as it is and produces its figures;
they assert no speed (a small run judges no goal, and these machines are noisy). The bench
modules import each other by their bare names (``common``, ``suite_runs``), as
``python bench/run.py`` runs them, so bench/ goes on sys.path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

from common import Unavailable  # noqa: E402

T = TypeVar("T")


def unavailable(why: str) -> NoReturn:
    """In CI a bench that cannot run fails (it would rot unseen); elsewhere it is skipped."""
    if os.environ.get("CI"):
        pytest.fail(f"the bench cannot run here: {why}", pytrace=False)
    pytest.skip(why)


def run_small(bench: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a bench, turning its Unavailable (a tool or package missing) into unavailable()."""
    try:
        return bench(*args, **kwargs)
    except Unavailable as exc:
        unavailable(str(exc))
