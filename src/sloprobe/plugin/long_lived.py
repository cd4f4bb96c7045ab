"""Tell Python's garbage collector that what a run has built so far lives until the run ends.

An SLO run's first steps build objects that are never freed before exit: pytest and its
plugins, then sloprobe's config model (pydantic validators and schemas). The cyclic
collector still walks them on each full pass: in the default suite one pass, during the
config's build, took 16-19 ms of a 0.42 s run and found nothing to free (timed with
``gc.callbacks``; freezing cut the run's CPU by 20 ms). ``gc.freeze()`` moves every object
tracked so far out of the collector's sight for good; later allocations are collected as
before.

Only a run that collects an SLO file does this: a pytest run that merely has sloprobe
installed is left as it is. Each step freezes once per process, so a process that runs
pytest again and again in-process (pytester's inline runs) does not keep every run's
leftovers for good.
"""

from __future__ import annotations

import gc
from typing import Literal

Step = Literal["pytest", "config"]  # after pytest's start; after the config model is built
_done: set[Step] = set()


def freeze_long_lived(step: Step) -> None:
    """Exclude every object alive now from later garbage-collection passes, once per ``step``.

    Objects that become garbage after this are still freed by reference counting; only
    cycles among objects alive now would stay, and those are pytest's and the config's
    own, kept until exit anyway. A no-op while the collector is disabled (the user's
    choice, or a caller's)."""
    if step in _done or not gc.isenabled():
        return
    _done.add(step)
    gc.freeze()
