"""Probes measure; they never judge. One folder per kind, declared in :mod:`.registry`.

Probes must not import config, sinks, the status page, history, notifiers, the plugin or
the CLI: a kind's spec is data from ``fields``, its result a ``model`` Measurement
(import-linter contracts in pyproject.toml).
"""
