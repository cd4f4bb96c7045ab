"""sloprobe's exceptions: one base, :class:`SloprobeError`, and every class in one tree.

``except SloprobeError`` catches every failure sloprobe raises on purpose, each
with a message meant for a person; anything else escaping sloprobe is a bug of
ours (a ``KeyError``, a ``TypeError``) and keeps its traceback. The classes live
next to the code that raises them; this module holds the bases and the map.
A class with a second base keeps it, so ``except ValueError`` and ``except
httpx.HTTPError`` callers go on catching what they caught::

    SloprobeError                                       sloprobe.errors
     +-- InputError                                     sloprobe.errors
     |    +-- ConfigError                               sloprobe.config.errors
     |    +-- ThresholdError   (ValueError)             sloprobe.model.thresholds
     |    +-- BadCron          (ValueError)             sloprobe.judge.schedule
     |    +-- CodecError       (ValueError)             sloprobe.codec
     |    +-- StatusPageError                           sloprobe.status_page.render
     |    +-- UsageError       (ValueError)             sloprobe.discover.command
     +-- HistoryError                                   sloprobe.history.errors
     +-- TargetError                                    sloprobe.errors
     |    +-- BodyError        (ValueError)             sloprobe.probes.network.fetch
     |    +-- LayoutError                               sloprobe.probes.redis.layouts.common
     |    +-- DeadlineExceeded (httpx.TimeoutException) sloprobe.probes.network.errors
     |    +-- BodyTooLarge     (httpx.RequestError)     sloprobe.probes.python.client
     |    +-- JobFailure                                sloprobe.probes.job.measure
     +-- SloFailure                                     sloprobe.plugin.items

The branches say what a caller does about the error:

- **InputError** — what sloprobe was given cannot be used: slo.yaml, a threshold
  or cron expression, a command's arguments, a results dict to read, a directory
  to write. The person who gave it fixes it: neither the target nor sloprobe is at
  fault.
- **HistoryError** — the history store cannot be used (unreachable, locked,
  corrupt, from a newer sloprobe). It is the store's one base already, so it sits
  here directly rather than under a ``StoreError`` that would have no other child.
- **TargetError** — what a target did, or did not do in time: a body that is no
  JSON, a Redis command refused, a job that failed, an answer too late or too
  large. A probe turns it into its measurement's failure reason; it is never a
  bug of ours.
- **SloFailure** — not a fault: the exception a pytest SLO item raises when its
  verdict counts as bad, so that pytest reports the item failed.

``DeadlineExceeded`` and ``BodyTooLarge`` are httpx errors first (their httpx base
comes first, so every attribute and ``__init__`` is httpx's): httpx, the network
layer's :func:`~sloprobe.probes.network.errors.classify`, and Python probes'
``except httpx.HTTPError`` handle them as before. Joining :class:`TargetError` as
the second base is harmless — it adds no attribute, no ``__init__`` and no
``__slots__``, and nothing in httpx looks at bases outside its own.

Warning categories (``plugin.items.SLOWarning``, a ``UserWarning``) are not errors
and not in the tree.

This module imports nothing (an import-linter contract keeps it so): every part
of sloprobe, the model included, may import it.
"""

__all__ = ["InputError", "SloprobeError", "TargetError"]


class SloprobeError(Exception):
    """Every failure sloprobe raises on purpose; its message is meant for a person."""


class InputError(SloprobeError):
    """What sloprobe was given cannot be used (a file, an expression, an argument): fix it."""


class TargetError(SloprobeError):
    """What a target did: the message is a probe's failure reason, never a bug of ours."""
