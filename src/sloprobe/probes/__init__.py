"""Probes measure; they never judge. One folder per kind, declared in :mod:`.registry`."""
