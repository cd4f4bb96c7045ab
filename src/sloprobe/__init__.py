"""sloprobe: pytest-style synthetic probes and SLO checks for services that run background jobs."""

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sloprobe.plugin.recorder import Recorder

    __version__: str


@cache
def _version() -> str:
    # importlib.metadata costs ~50 ms to import and scan: only pay it when the version is asked for
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sloprobe")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> object:
    """``sloprobe.__version__``, and ``from sloprobe import Recorder`` for Python probes, both lazily."""
    if name == "__version__":
        return _version()
    if name == "Recorder":
        from sloprobe.plugin.recorder import Recorder

        return Recorder
    raise AttributeError(name)


__all__ = ["Recorder", "__version__"]
