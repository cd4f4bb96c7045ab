"""sloprobe: pytest-style synthetic probes and SLO checks for services that run background jobs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sloprobe")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
