"""sloprobe: pytest-style synthetic probes and SLO checks for services that run background jobs."""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sloprobe.plugin.recorder import Recorder

try:
    __version__ = version("sloprobe")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"


def __getattr__(name: str) -> object:
    """``from sloprobe import Recorder`` for Python probes, without importing the plugin eagerly."""
    if name == "Recorder":
        from sloprobe.plugin.recorder import Recorder

        return Recorder
    raise AttributeError(name)


__all__ = ["Recorder", "__version__"]
