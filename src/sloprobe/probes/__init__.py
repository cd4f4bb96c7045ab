"""Probes measure the target and return Measurements; they never decide pass or fail."""
