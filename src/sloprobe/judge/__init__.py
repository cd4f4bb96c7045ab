"""The judge: thresholds, evaluation, budgets, burn rates and incidents. Pure functions.

It reads SLO rules through the protocols in ``rules`` and returns model
objects; it imports no I/O library and nothing above it (an import-linter
contract holds it so).
"""
